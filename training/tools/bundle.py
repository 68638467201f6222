"""A compact copy of what a training run reads, to carry to a GPU machine.

The device tool carries 64 MiB with the repository. The shared data (photos, all the
paintings) and the full VGG16 file (59 MB) do not fit; what the runs read does::

    python -m training.tools.bundle .bundle    # about 22 MiB
    bash training/tools/gpu_retrain.sh .bundle 8    # there: minutes of training

Training photos are stored at the side the trainer holds them at anyway, validation photos at
the shipped work side, the catalog's paintings only, and VGG16 up to relu4_3 in fp16. The
``tomli_w`` wheel travels too, the one package the GPU machine's image lacks.
"""

from __future__ import annotations

import argparse
import csv
import logging
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

from artisto.errors import ArtistoError
from training.catalog import CatalogEntry, read_catalog
from training.data import SHARED_DATA, TRAIN_PHOTO_SIDE, image_files, load_photo
from training.vgg_weights import write_compact_copy

log = logging.getLogger(__name__)

CARRY_BUDGET = 56 * 2**20
"""What the bundle may take of the tool's 64 MiB: the repository and margin take the rest."""
VALIDATION_SIDE = 512
PAINTING_SIDE = 1024
"""Enough for a 256 px run's painting at scale 2, cropped to half."""
WHEEL_PACKAGES = ("tomli_w", "pydantic", "pydantic_core", "annotated_types", "typing_inspection")
"""What the recipe and the catalog need beyond the GPU machine's image (torch, Pillow, ...)."""
GPU_PYTHON = ("--python-version", "3.12", "--implementation", "cp")
GPU_PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64")
"""The lent GPU machine's Python and platform tags, for the compiled pydantic_core wheel."""


def write_bundle(
    dest: Path, *, data: Path, cache: Path, entries: list[CatalogEntry], wheels: bool = True
) -> int:
    """Write the bundle under ``dest`` (``data/``, ``cache/``, ``wheels/``); its size in bytes."""
    if dest.exists():
        shutil.rmtree(dest)
    out = dest / "data"
    _copy_photos(data / "photos" / "train", out / "photos" / "train", TRAIN_PHOTO_SIDE)
    _copy_photos(data / "photos" / "val", out / "photos" / "val", VALIDATION_SIDE)
    paintings = {entry.painting for entry in entries}
    for name in sorted(paintings):
        _save_jpeg(data / "styles" / name, out / "styles" / name, PAINTING_SIDE)
    _copy_rows(data / "styles.csv", out / "styles.csv", paintings)
    write_compact_copy(cache, dest / "cache")
    if wheels:
        _download_wheels(dest / "wheels")
    size = sum(p.stat().st_size for p in dest.rglob("*") if p.is_file())
    if size > CARRY_BUDGET:
        raise ArtistoError(f"the bundle is {size / 2**20:.1f} MiB, over {CARRY_BUDGET >> 20} MiB")
    return size


def _copy_photos(source: Path, target: Path, side: int) -> None:
    for path in image_files(source):
        _save_jpeg(path, target / f"{path.stem}.jpg", side)


def _save_jpeg(source: Path, target: Path, side: int) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    load_photo(source, side).save(target, quality=92)


def _copy_rows(source: Path, target: Path, files: set[str]) -> None:
    with source.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        rows = [row for row in reader if row["file"] in files]
        fieldnames = reader.fieldnames or []
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames)
        writer.writeheader()
        writer.writerows(rows)


def _download_wheels(target: Path) -> None:
    pins = [f"{name}=={version(name)}" for name in WHEEL_PACKAGES]
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps"]
    command += ["--only-binary=:all:", *GPU_PYTHON, "-d", str(target), *pins]
    for platform in GPU_PLATFORMS:
        command += ["--platform", platform]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise ArtistoError(f"could not download {', '.join(pins)}: {result.stderr.strip()}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.tools.bundle", description=__doc__)
    parser.add_argument("dest", type=Path, help="bundle folder (replaced)")
    parser.add_argument("--data", type=Path, default=SHARED_DATA, help="shared data folder")
    parser.add_argument("--cache", type=Path, default=Path("data/cache"), help="VGG16 cache")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    size = write_bundle(args.dest, data=args.data, cache=args.cache, entries=read_catalog())
    log.info("bundle.written dest=%s mib=%.1f", args.dest, size / 2**20)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
