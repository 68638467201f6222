"""Style packs: one folder per style, found on disk, checked before anything trusts them.

A pack is ``weights.safetensors`` (fp16), ``style.toml``, ``style.jpg`` (the painting, small)
and ``preview.jpg``. Weights are safetensors only, never pickle, so a pack dropped into the
extra styles folder cannot run code; and every tensor name and shape is checked against the
generator that ``[net]`` describes, so a pack from another architecture fails with a message
naming the file and the tensor instead of a shape error deep inside PyTorch.
"""

from __future__ import annotations

import logging
import math
import re
import shutil
import tempfile
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import tomli_w
import torch
from PIL import Image, UnidentifiedImageError
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from artisto.errors import StylePackError, UnknownStyle
from inference.nets.transformer import TransformerNet

log = logging.getLogger(__name__)

SHIPPED_STYLES_DIR = Path(__file__).resolve().parent / "styles"

WEIGHTS_FILE = "weights.safetensors"
META_FILE = "style.toml"
STYLE_IMAGE_FILE = "style.jpg"
PREVIEW_FILE = "preview.jpg"
PACK_FILES = (WEIGHTS_FILE, META_FILE, STYLE_IMAGE_FILE, PREVIEW_FILE)

STYLE_IMAGE_MAX_SIDE = 512
PREVIEW_MAX_SIDE = 768
NAME_PATTERN = re.compile(r"[a-z0-9_]{1,32}")
"""Short enough to sit in a 64-byte Telegram callback beside a job id."""

_TOP_LEVEL_KEYS = frozenset(
    {"name", "title", "artist", "year", "emoji", "work_side", "net", "recipe", "metrics"}
)
_NET_KEYS = frozenset({"width", "residual_blocks", "skip", "skip_blur"})
_FLOAT_DTYPES = frozenset({torch.float16, torch.bfloat16, torch.float32})


@dataclass(frozen=True)
class NetSpec:
    """The generator's architecture, enough to rebuild it before loading weights."""

    width: int = 16
    residual_blocks: int = 5
    skip: bool = True
    skip_blur: float = 0.0

    def build(self) -> TransformerNet:
        return TransformerNet(
            self.width, self.residual_blocks, skip=self.skip, skip_blur=self.skip_blur
        )

    @classmethod
    def of(cls, net: TransformerNet) -> NetSpec:
        return cls(
            width=net.width,
            residual_blocks=len(net.residuals),
            skip=net.skip,
            skip_blur=net.skip_blur,
        )


@dataclass(frozen=True)
class StyleMeta:
    """What ``style.toml`` says about a style."""

    name: str
    title: str
    artist: str
    year: str = ""
    emoji: str = "🎨"
    net: NetSpec = NetSpec()
    work_side: int | None = None
    """Longest side the generator works at, so brush strokes keep their scale on big photos;
    the result is upscaled (Lanczos) to the output size. None: work at the output size."""
    recipe: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)

    def to_toml(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "name": self.name,
            "title": self.title,
            "artist": self.artist,
            "year": self.year,
            "emoji": self.emoji,
        }
        if self.work_side is not None:
            doc["work_side"] = self.work_side
        doc["net"] = {
            "width": self.net.width,
            "residual_blocks": self.net.residual_blocks,
            "skip": self.net.skip,
        }
        if self.net.skip_blur:
            doc["net"]["skip_blur"] = self.net.skip_blur
        if self.recipe:
            doc["recipe"] = dict(self.recipe)
        if self.metrics:
            doc["metrics"] = dict(self.metrics)
        return doc


@dataclass(frozen=True)
class StylePack:
    """A validated pack folder."""

    path: Path
    meta: StyleMeta
    size_bytes: int

    @property
    def name(self) -> str:
        return self.meta.name

    @property
    def weights_path(self) -> Path:
        return self.path / WEIGHTS_FILE

    @property
    def meta_path(self) -> Path:
        return self.path / META_FILE

    @property
    def style_image_path(self) -> Path:
        return self.path / STYLE_IMAGE_FILE

    @property
    def preview_path(self) -> Path:
        return self.path / PREVIEW_FILE

    def load_state_dict(self) -> dict[str, torch.Tensor]:
        """The weights as stored (fp16), after checking names, shapes and values."""
        return _read_weights(self.weights_path, self.meta.net)

    def build_generator(self) -> TransformerNet:
        """A fresh fp32 generator in eval mode with this pack's weights."""
        net = self.meta.net.build()
        state = {k: v.float() for k, v in self.load_state_dict().items()}
        net.load_state_dict(state, strict=True)
        net.eval().requires_grad_(False)
        return net


# --- loading -----------------------------------------------------------------------------


def load_pack(path: Path) -> StylePack:
    """Read and check a pack folder; a malformed one raises StylePackError naming the file."""
    if not path.is_dir():
        raise StylePackError(f"{path}: not a style pack folder")
    for name in PACK_FILES:
        file = path / name
        if not file.is_file():
            raise StylePackError(f"{file}: missing")
        if file.stat().st_size == 0:
            raise StylePackError(f"{file}: empty file")
    meta = _read_meta(path / META_FILE)
    _read_weights(path / WEIGHTS_FILE, meta.net)
    _check_jpeg(path / STYLE_IMAGE_FILE, max_side=STYLE_IMAGE_MAX_SIDE)
    _check_jpeg(path / PREVIEW_FILE, max_side=None)
    size = sum(f.stat().st_size for f in path.iterdir() if f.is_file())
    return StylePack(path=path, meta=meta, size_bytes=size)


def _read_meta(file: Path) -> StyleMeta:
    try:
        doc = tomllib.loads(file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise StylePackError(f"{file}: bad TOML: {exc}") from None
    unknown = sorted(set(doc) - _TOP_LEVEL_KEYS)
    if unknown:
        raise StylePackError(f"{file}: unknown key {unknown[0]!r}")
    name = _require(doc, "name", str, file)
    if not NAME_PATTERN.fullmatch(name):
        raise StylePackError(
            f"{file}: name {name!r} must be 1-32 lowercase letters, digits or underscores"
        )
    work_side = _optional(doc, "work_side", int, file)
    if work_side is not None and work_side < 64:
        raise StylePackError(f"{file}: work_side must be at least 64, not {work_side}")
    year = doc.get("year", "")
    if not isinstance(year, str | int) or isinstance(year, bool):
        raise StylePackError(f"{file}: 'year' must be text or a whole number")
    return StyleMeta(
        name=name,
        title=_require(doc, "title", str, file),
        artist=_require(doc, "artist", str, file),
        year=str(year),
        emoji=_optional(doc, "emoji", str, file) or "🎨",
        net=_read_net(doc, file),
        work_side=work_side,
        recipe=_optional(doc, "recipe", dict, file) or {},
        metrics=_read_metrics(doc, file),
    )


def _read_net(doc: Mapping[str, Any], file: Path) -> NetSpec:
    table = _require(doc, "net", dict, file)
    unknown = sorted(set(table) - _NET_KEYS)
    if unknown:
        raise StylePackError(f"{file}: unknown key {unknown[0]!r} in [net]")
    width = _require(table, "width", int, file, "[net] ")
    blocks = _optional(table, "residual_blocks", int, file, "[net] ")
    skip = _optional(table, "skip", bool, file, "[net] ")
    skip_blur = _optional(table, "skip_blur", float, file, "[net] ")
    spec = NetSpec(
        width=width,
        residual_blocks=NetSpec.residual_blocks if blocks is None else blocks,
        skip=NetSpec.skip if skip is None else skip,
        skip_blur=NetSpec.skip_blur if skip_blur is None else skip_blur,
    )
    if spec.width < 1 or spec.residual_blocks < 0:
        raise StylePackError(f"{file}: [net] width and residual_blocks must be positive")
    if spec.skip_blur < 0 or (spec.skip_blur and not spec.skip):
        raise StylePackError(f"{file}: [net] skip_blur must be 0, or positive with skip = true")
    return spec


def _read_metrics(doc: Mapping[str, Any], file: Path) -> dict[str, float]:
    table = _optional(doc, "metrics", dict, file) or {}
    metrics: dict[str, float] = {}
    for key, value in table.items():
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise StylePackError(f"{file}: [metrics] {key} must be a number")
        metrics[key] = float(value)
    return metrics


def _require(doc: Mapping[str, Any], key: str, kind: type, file: Path, where: str = "") -> Any:
    if key not in doc:
        raise StylePackError(f"{file}: missing key {where}{key!r}")
    return _optional(doc, key, kind, file, where)


def _optional(doc: Mapping[str, Any], key: str, kind: type, file: Path, where: str = "") -> Any:
    value = doc.get(key)
    # bool is an int in Python, but `width = true` is a mistake, not a width of 1.
    if value is not None and (
        not isinstance(value, kind) or (kind is int and isinstance(value, bool))
    ):
        raise StylePackError(f"{file}: {where}{key!r} must be {_KIND_NAMES[kind]}")
    return value


_KIND_NAMES: dict[type, str] = {
    str: "text",
    int: "a whole number",
    bool: "true or false",
    float: "a number with a decimal point",
    dict: "a table",
}


def _read_weights(file: Path, spec: NetSpec) -> dict[str, torch.Tensor]:
    try:
        state = load_file(file, device="cpu")
    except (SafetensorError, OSError, ValueError) as exc:
        raise StylePackError(f"{file}: not a readable safetensors file ({exc})") from None
    expected = {k: tuple(v.shape) for k, v in spec.build().state_dict().items()}
    described = f"the generator of [net] width={spec.width}, residual_blocks={spec.residual_blocks}"
    unknown = sorted(set(state) - set(expected))
    if unknown:
        raise StylePackError(f"{file}: unknown tensor {unknown[0]!r} for {described}")
    missing = sorted(set(expected) - set(state))
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise StylePackError(f"{file}: missing tensor {missing[0]!r}{more} for {described}")
    for key, shape in expected.items():  # in the net's order: the first layer is reported first
        tensor = state[key]
        if tuple(tensor.shape) != shape:
            raise StylePackError(
                f"{file}: tensor {key!r} has shape {list(tensor.shape)}, "
                f"expected {list(shape)} for {described}"
            )
        if tensor.dtype not in _FLOAT_DTYPES:
            raise StylePackError(f"{file}: tensor {key!r} has dtype {tensor.dtype}, not float")
        if not bool(torch.isfinite(tensor).all()):
            raise StylePackError(f"{file}: tensor {key!r} holds NaN or infinite values")
    return state


def _check_jpeg(file: Path, *, max_side: int | None) -> None:
    """Reads the header only: cheap enough to run for every pack at start-up."""
    try:
        with Image.open(file, formats=["JPEG"]) as img:
            size = img.size
    except (UnidentifiedImageError, OSError) as exc:
        raise StylePackError(f"{file}: not a JPEG image ({exc})") from None
    if max_side is not None and max(size) > max_side:
        raise StylePackError(
            f"{file}: {size[0]}x{size[1]} is larger than {max_side} px on its longest side"
        )


# --- writing -----------------------------------------------------------------------------


def write_pack(
    dest: Path,
    net: TransformerNet,
    meta: StyleMeta,
    style_image: Image.Image,
    preview: Image.Image | None = None,
) -> StylePack:
    """Write a pack folder atomically (built beside ``dest``, then renamed into place).

    The weights are stored in fp16. Without a preview, the painting itself stands in.
    An existing pack at ``dest`` is replaced.
    """
    if NetSpec.of(net) != meta.net:
        raise ValueError(f"meta.net {meta.net} does not describe the given net {NetSpec.of(net)}")
    if not NAME_PATTERN.fullmatch(meta.name):
        raise ValueError(f"style name {meta.name!r}: use 1-32 of a-z, 0-9 and _")
    state = {
        k: v.detach().to("cpu", torch.float16).contiguous() for k, v in net.state_dict().items()
    }
    for key, tensor in state.items():
        if not bool(torch.isfinite(tensor).all()):
            raise StylePackError(f"refusing to write {dest}: tensor {key!r} is not finite in fp16")

    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        save_file(state, tmp / WEIGHTS_FILE, metadata={"format": "pt"})
        (tmp / META_FILE).write_text(tomli_w.dumps(meta.to_toml()), encoding="utf-8")
        _save_jpeg(style_image, tmp / STYLE_IMAGE_FILE, STYLE_IMAGE_MAX_SIDE)
        _save_jpeg(
            preview if preview is not None else style_image, tmp / PREVIEW_FILE, PREVIEW_MAX_SIDE
        )
        # mkdtemp and safetensors create owner-only files; a pack is read by the service user.
        tmp.chmod(0o755)
        for file in tmp.iterdir():
            file.chmod(0o644)
        if dest.exists():
            shutil.rmtree(dest)
        tmp.rename(dest)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    pack = load_pack(dest)
    log.info("style.pack_written", extra={"style": meta.name, "path": str(dest)})
    return pack


def _save_jpeg(img: Image.Image, file: Path, max_side: int) -> None:
    img = img.convert("RGB")
    img.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    img.save(file, "JPEG", quality=90)


def update_metrics(pack_path: Path, metrics: Mapping[str, float]) -> StylePack:
    """Merge stability figures into ``[metrics]`` of style.toml (atomic rewrite)."""
    pack = load_pack(pack_path)
    merged = {**pack.meta.metrics, **{k: float(v) for k, v in metrics.items()}}
    bad = [k for k, v in merged.items() if not math.isfinite(v)]
    if bad:
        raise ValueError(f"metric {bad[0]!r} is not a finite number")
    meta = replace(pack.meta, metrics=merged)
    tmp = pack.meta_path.with_name(f".{META_FILE}.tmp")
    tmp.write_text(tomli_w.dumps(meta.to_toml()), encoding="utf-8")
    tmp.replace(pack.meta_path)
    return load_pack(pack_path)


# --- discovery ---------------------------------------------------------------------------


class StyleRegistry:
    """The installed styles by name. Immutable once built, so worker threads may share it."""

    def __init__(self, packs: Iterable[StylePack], searched: Iterable[Path] = ()) -> None:
        self._packs = {p.name: p for p in sorted(packs, key=lambda p: p.name)}
        self.searched: tuple[Path, ...] = tuple(searched)
        """The folders discovery looked in, for messages such as "no styles in ..."."""

    @classmethod
    def discover(
        cls, extra_dir: Path | None = None, *, shipped_dir: Path | None = None
    ) -> StyleRegistry:
        """Packs shipped in the package, then those of ``extra_dir``, which win on a name clash
        so that a deployment can replace a shipped style with a retrained one."""
        shipped_dir = SHIPPED_STYLES_DIR if shipped_dir is None else shipped_dir
        if extra_dir is not None and not extra_dir.is_dir():
            raise StylePackError(f"{extra_dir}: styles folder does not exist")
        packs: dict[str, StylePack] = {}
        searched = [shipped_dir] + ([extra_dir] if extra_dir is not None else [])
        for folder in searched:
            found: dict[str, StylePack] = {}
            for pack in _packs_in(folder):
                if pack.name in found:
                    raise StylePackError(
                        f"{pack.meta_path}: style name {pack.name!r} is also used by "
                        f"{found[pack.name].path}"
                    )
                if pack.name in packs:
                    log.info(
                        "style.overridden",
                        extra={"style": pack.name, "path": str(pack.path)},
                    )
                found[pack.name] = pack
            packs.update(found)
        log.debug("style.discovered", extra={"count": len(packs), "names": ",".join(sorted(packs))})
        return cls(packs.values(), searched)

    def names(self) -> list[str]:
        return list(self._packs)

    def get(self, name: str) -> StylePack:
        try:
            return self._packs[name]
        except KeyError:
            installed = ", ".join(self._packs) or "none"
            raise UnknownStyle(f"unknown style {name!r} (installed: {installed})") from None

    def __iter__(self) -> Iterator[StylePack]:
        return iter(self._packs.values())

    def __len__(self) -> int:
        return len(self._packs)

    def __contains__(self, name: object) -> bool:
        return name in self._packs


def _packs_in(folder: Path) -> Iterator[StylePack]:
    """Subfolders holding any pack file; hidden ones (packs being written) are skipped."""
    if not folder.is_dir():
        return
    for sub in sorted(folder.iterdir()):
        hidden = sub.name.startswith((".", "_"))
        if sub.is_dir() and not hidden and any((sub / n).exists() for n in PACK_FILES):
            yield load_pack(sub)
