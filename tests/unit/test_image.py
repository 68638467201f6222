from __future__ import annotations

import io
import struct
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import ExifTags, Image

from artisto.errors import MediaDecodeError, MediaTooLarge
from inference.media.image import (
    ImageFormat,
    decode_image,
    decode_photo,
    encode_image,
    finish_photo,
    fit_size,
    fit_within,
    prepare_photo,
)

Colour = tuple[int, int, int]
RED, BLUE, WHITE = (255, 0, 0), (0, 0, 255), (255, 255, 255)


def _save(img: Image.Image, fmt: str, **params: object) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **params)
    return buf.getvalue()


def _photo(width: int = 64, height: int = 48, seed: int = 0) -> Image.Image:
    """Smooth gradients plus noise: like a photo, JPEG-compressible but not trivially."""
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    rgb = np.stack([xs / width * 255, ys / height * 255, np.full_like(xs, 128)], axis=-1)
    rgb += rng.normal(0, 8, rgb.shape)
    return Image.fromarray(np.clip(rgb, 0, 255).astype(np.uint8))


def _halves(
    width: int, height: int, left: tuple[int, int, int], right: tuple[int, int, int]
) -> Image.Image:
    img = Image.new("RGB", (width, height), right)
    img.paste(left, (0, 0, width // 2, height))
    return img


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png(width: int, height: int, rows: bytes = b"", *, depth: int = 8, colour: int = 2) -> bytes:
    """A PNG written by hand, so the header may say anything the test needs."""
    header = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(rows))
        + _png_chunk(b"IEND", b"")
    )


def _pixel(img: Image.Image, xy: tuple[int, int]) -> tuple[int, ...]:
    value = img.getpixel(xy)
    assert isinstance(value, tuple)
    return value


def _close(a: tuple[int, ...], b: tuple[int, ...], tol: int = 12) -> bool:
    return all(abs(x - y) <= tol for x, y in zip(a, b, strict=True))


# --- formats -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "params"),
    [
        ("JPEG", {"quality": 95}),
        ("PNG", {}),
        ("WEBP", {"lossless": True}),
        ("BMP", {}),
        ("TIFF", {"compression": "tiff_deflate"}),
    ],
)
def test_each_input_format_decodes_to_rgb(fmt: str, params: dict[str, object]) -> None:
    source = _halves(40, 30, RED, BLUE)
    img = decode_image(_save(source, fmt, **params))

    assert img.mode == "RGB" and img.size == (40, 30)
    assert _close(_pixel(img, (5, 15)), RED) and _close(_pixel(img, (35, 15)), BLUE)


def test_animated_gif_gives_its_first_frame() -> None:
    frames = [Image.new("RGB", (20, 10), c) for c in (RED, BLUE, BLUE)]
    data = _save(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=50)

    img = decode_image(data)

    assert img.mode == "RGB" and img.size == (20, 10)
    assert _close(_pixel(img, (10, 5)), RED, tol=0)


def test_path_input_is_read(tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    _halves(8, 8, RED, BLUE).save(path)
    assert decode_image(path).size == (8, 8)


# --- orientation -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("orientation", "size", "red_at", "blue_at"),
    [
        (1, (40, 20), (5, 10), (35, 10)),
        (3, (40, 20), (35, 10), (5, 10)),  # upside down: red comes back on the right
        (6, (20, 40), (10, 5), (10, 35)),  # phone held upright: left edge becomes the top
        (8, (20, 40), (10, 35), (10, 5)),
    ],
)
def test_exif_orientation_is_applied(
    orientation: int,
    size: tuple[int, int],
    red_at: tuple[int, int],
    blue_at: tuple[int, int],
) -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    data = _save(_halves(40, 20, RED, BLUE), "JPEG", quality=95, exif=exif)

    img = decode_image(data)

    assert img.size == size
    assert _close(_pixel(img, red_at), RED) and _close(_pixel(img, blue_at), BLUE)


def test_exif_rotation_and_cap_together() -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    data = _save(_halves(400, 200, RED, BLUE), "JPEG", quality=95, exif=exif)

    img = decode_image(data, max_side=100)

    assert img.size == (50, 100)
    assert _close(_pixel(img, (25, 10)), RED) and _close(_pixel(img, (25, 90)), BLUE)


# --- colour modes ------------------------------------------------------------------------


def test_alpha_is_composited_on_white() -> None:
    rgba = np.zeros((10, 30, 4), np.uint8)
    rgba[:, :10] = (255, 0, 0, 255)  # opaque red
    rgba[:, 10:20] = (255, 0, 0, 128)  # half-transparent red
    rgba[:, 20:] = (0, 0, 0, 0)  # fully transparent black
    img = decode_image(_save(Image.fromarray(rgba), "PNG"))

    assert img.mode == "RGB"
    assert _pixel(img, (5, 5)) == RED
    assert _close(_pixel(img, (15, 5)), (255, 127, 127), tol=2)
    assert _pixel(img, (25, 5)) == WHITE


def test_transparent_gif_and_gray_alpha_go_on_white() -> None:
    gif = Image.new("P", (10, 10), 1)
    gif.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    gif.paste(0, (0, 0, 5, 10))
    data = _save(gif, "GIF", transparency=0)
    img = decode_image(data)
    assert _pixel(img, (2, 5)) == WHITE and _pixel(img, (7, 5)) == RED

    la = Image.fromarray(np.dstack([np.zeros((4, 4), np.uint8), np.zeros((4, 4), np.uint8)]), "LA")
    assert _pixel(decode_image(_save(la, "PNG")), (1, 1)) == WHITE


@pytest.mark.parametrize("fmt", ["JPEG", "TIFF"])
def test_cmyk_is_converted(fmt: str) -> None:
    cmyk = Image.new("CMYK", (16, 16), (0, 255, 255, 0))  # no cyan, full magenta and yellow
    img = decode_image(_save(cmyk, fmt))
    assert img.mode == "RGB" and _close(_pixel(img, (8, 8)), RED, tol=20)


def test_sixteen_bit_gray_is_scaled_not_clipped() -> None:
    gray = np.array([[0, 32896, 65535]], dtype=np.uint16)
    source = Image.fromarray(gray)
    assert source.mode == "I;16"

    for data in (_save(source, "PNG"), _save(source, "TIFF")):
        img = decode_image(data)
        assert img.mode == "RGB"
        assert [_pixel(img, (x, 0)) for x in range(3)] == [(0, 0, 0), (128, 128, 128), WHITE]


def test_sixteen_bit_rgb_png_keeps_its_colours() -> None:
    pixels = [(65535, 0, 0), (0, 32896, 65535)]
    row = b"\x00" + b"".join(struct.pack(">HHH", *p) for p in pixels)
    img = decode_image(_png(2, 1, row, depth=16, colour=2))
    assert [_pixel(img, (x, 0)) for x in range(2)] == [RED, (0, 128, 255)]


def test_float_tiff_is_read_as_zero_to_one() -> None:
    values = np.array([[0.0, 0.5, 1.0]], dtype=np.float32)
    img = decode_image(_save(Image.fromarray(values), "TIFF"))
    assert [_pixel(img, (x, 0))[0] for x in range(3)] == [0, 128, 255]


@pytest.mark.parametrize("mode", ["P", "L", "1"])
def test_palette_and_gray_become_rgb(mode: str) -> None:
    source = _halves(20, 10, WHITE, (0, 0, 0)).convert(mode)
    img = decode_image(_save(source, "PNG"))
    assert img.mode == "RGB"
    assert _pixel(img, (2, 5)) == WHITE and _pixel(img, (17, 5)) == (0, 0, 0)


def test_palette_colours_survive() -> None:
    source = _halves(20, 10, RED, BLUE).convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
    img = decode_image(_save(source, "PNG"))
    assert _pixel(img, (2, 5)) == RED and _pixel(img, (17, 5)) == BLUE


# --- refusals ----------------------------------------------------------------------------


def test_empty_file_is_refused() -> None:
    with pytest.raises(MediaDecodeError, match="empty"):
        decode_image(b"")


@pytest.mark.parametrize(
    "data",
    [
        b"hello, this is a text file and not a picture at all",
        b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n",  # EPS would run Ghostscript
        b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 64,  # a video
    ],
)
def test_not_an_image_is_refused(data: bytes) -> None:
    with pytest.raises(MediaDecodeError, match="not a JPEG, PNG, WebP, BMP, TIFF or GIF image"):
        decode_image(data)


@pytest.mark.parametrize("size", [(0, 10), (10, 0)])
def test_zero_sized_image_is_refused(size: tuple[int, int]) -> None:
    with pytest.raises(MediaDecodeError):
        decode_image(_png(*size))


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_truncated_image_is_refused(fmt: str) -> None:
    data = _save(_photo(128, 96), fmt)
    with pytest.raises(MediaDecodeError, match="truncated or damaged"):
        decode_image(data[: len(data) // 2])


def test_over_the_megapixel_limit_is_refused_from_the_header() -> None:
    # 8000x7500 = 60 MP, but the pixel data is a few bytes: decoding it would fail differently.
    with pytest.raises(MediaTooLarge, match=r"8000x7500 \(60 megapixels\); the limit is 50"):
        decode_image(_png(8000, 7500))


def test_limit_is_configurable() -> None:
    data = _save(_photo(200, 100), "PNG")
    with pytest.raises(MediaTooLarge, match=r"the limit is 0\.01 megapixels"):
        decode_image(data, max_megapixels=0.01)
    assert decode_image(data, max_megapixels=0.02).size == (200, 100)


@pytest.mark.parametrize("side", [10_000, 20_000])  # Pillow's warning zone, then its error zone
def test_decompression_bomb_raises_media_too_large_without_a_warning(side: int) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(MediaTooLarge, match="too many pixels"):
            decode_image(_png(side, side), max_megapixels=1000)


# --- sizes -------------------------------------------------------------------------------


def test_fit_size_caps_the_longest_side_and_never_upscales() -> None:
    assert fit_size((4000, 3000), 1024) == (1024, 768)
    assert fit_size((3000, 4000), 1024) == (768, 1024)
    assert fit_size((5000, 1), 100) == (100, 1)
    assert fit_size((640, 480), 1280) == (640, 480)


def test_fit_within_downscales_only() -> None:
    small = _photo(40, 30)
    assert fit_within(small, 100) is small
    assert fit_within(_photo(400, 300), 100).size == (100, 75)


def test_capped_jpeg_decode_matches_a_full_decode_and_resize() -> None:
    """The draft-mode shortcut must not cost visible quality."""
    source = _photo(1600, 1200, seed=4)
    data = _save(source, "JPEG", quality=95)
    reference = np.asarray(
        Image.open(io.BytesIO(data)).convert("RGB").resize((200, 150), Image.Resampling.LANCZOS),
        dtype=np.float64,
    )

    img = decode_image(data, max_side=200)

    assert img.size == (200, 150)
    mse = float(np.mean((np.asarray(img, dtype=np.float64) - reference) ** 2))
    assert 10 * np.log10(255**2 / mse) > 35


def test_capped_size_is_computed_from_the_full_size_not_the_draft() -> None:
    # Draft sizes round up (ceil(w / scale)); the result must still be fit_size of the original.
    for width, height in [(609, 457), (611, 459), (1001, 751), (803, 97)]:
        data = _save(_photo(width, height), "JPEG")
        for side in (60, 128, 150, 200):
            assert decode_image(data, max_side=side).size == fit_size((width, height), side)


def test_photo_is_decoded_at_the_work_size_with_the_output_size_beside_it() -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    data = _save(_halves(1600, 800, RED, BLUE), "JPEG", quality=95, exif=exif)

    photo, size = decode_photo(data, max_side=400, work_side=100)

    assert size == (200, 400)  # upright, capped to max_side
    assert photo.size == (50, 100)  # upright, at the work size
    assert _close(_pixel(photo, (25, 10)), RED) and _close(_pixel(photo, (25, 90)), BLUE)


def test_photo_at_the_work_size_matches_the_output_size_shrunk_again() -> None:
    """Decoding straight to the work size gives the pixels the two-step path gave."""
    data = _save(_photo(1600, 1200, seed=5), "JPEG", quality=95)

    photo, size = decode_photo(data, max_side=800, work_side=200)
    two_steps = fit_within(decode_image(data, max_side=800), 200)

    assert size == (800, 600) and photo.size == two_steps.size == (200, 150)
    mse = np.mean((np.asarray(photo, np.float64) - np.asarray(two_steps, np.float64)) ** 2)
    assert 10 * np.log10(255**2 / mse) > 35


def test_photo_smaller_than_the_work_size_is_not_upscaled() -> None:
    photo, size = decode_photo(_save(_photo(64, 48), "PNG"), max_side=1280, work_side=512)

    assert photo.size == size == (64, 48)


def test_max_side_applies_to_non_jpeg_too() -> None:
    assert decode_image(_save(_photo(300, 200), "PNG"), max_side=150).size == (150, 100)


# --- encode and the work size ------------------------------------------------------------


def test_encode_jpeg_and_png_round_trip_without_metadata() -> None:
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "SecretPhone"
    img = decode_image(_save(_photo(64, 48), "JPEG", exif=exif))

    formats: list[tuple[ImageFormat, str]] = [("jpeg", "JPEG"), ("png", "PNG")]
    for fmt, name in formats:
        data = encode_image(img, fmt)
        with Image.open(io.BytesIO(data)) as back:
            assert back.format == name and back.size == img.size
            assert not back.getexif()
    assert len(encode_image(img, "jpeg", quality=30)) < len(encode_image(img, "jpeg", quality=95))


def test_prepare_shrinks_to_work_side_and_finish_restores_the_size() -> None:
    img = _photo(400, 300)

    frame = prepare_photo(img, work_side=200)
    assert frame.shape == (150, 200, 3) and frame.dtype == np.uint8 and frame.flags.writeable
    assert prepare_photo(img, work_side=None).shape == (300, 400, 3)
    assert prepare_photo(img, work_side=1000).shape == (300, 400, 3)  # never upscaled

    out = finish_photo(frame, (400, 300))
    assert out.size == (400, 300) and out.mode == "RGB"


def test_finish_refuses_a_frame_of_the_wrong_kind() -> None:
    with pytest.raises(ValueError, match=r"\(H, W, 3\) uint8"):
        finish_photo(np.zeros((4, 4, 3), np.float32), (4, 4))
