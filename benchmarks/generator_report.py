"""The generator benchmark's results and their Markdown tables."""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class Row:
    size: str
    batch: int
    label: str
    ms_per_image: float
    min_ms_per_image: float
    peak_mb: float
    psnr_db: float
    naive_ms: float | None = None
    floor_ms: float = math.nan

    @property
    def images_per_s(self) -> float:
        return 1000.0 / self.ms_per_image


@dataclass
class SizeInfo:
    gflop: float
    matmul_gflops: float

    @property
    def floor_ms(self) -> float:
        return self.gflop / self.matmul_gflops * 1000.0


@dataclass
class Report:
    title: str
    rows: list[Row] = field(default_factory=list)
    sizes: dict[str, SizeInfo] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def render(report: Report) -> str:
    lines = [f"## {report.title}", ""]
    lines += [
        "| size | GFLOP/image (convs) | fp32 matmul GFLOP/s | floor ms/image | best path |"
        " best ms/image | best / floor |",
        "| --- | ---: | ---: | ---: | --- | ---: | ---: |",
    ]
    for size, info in report.sizes.items():
        rows = [r for r in report.rows if r.size == size and r.psnr_db >= 40.0]
        best = min(rows, key=lambda r: r.ms_per_image)
        lines.append(
            f"| {size} | {info.gflop:.1f} | {info.matmul_gflops:.0f} | {info.floor_ms:.0f} | "
            f"{best.label} (batch {best.batch}) | {best.ms_per_image:.0f} | "
            f"{best.ms_per_image / info.floor_ms:.2f}× |"
        )
    lines += [
        "",
        "| size | batch | path | ms/image (median) | min | images/s | peak MB | vs naive | "
        "/ floor | PSNR vs fp32 dB |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in report.rows:
        speedup = f"{r.naive_ms / r.ms_per_image:.2f}×" if r.naive_ms else ""
        db = "exact" if math.isinf(r.psnr_db) else f"{r.psnr_db:.1f}"
        lines.append(
            f"| {r.size} | {r.batch} | {r.label} | {r.ms_per_image:.1f} | "
            f"{r.min_ms_per_image:.1f} | {r.images_per_s:.2f} | "
            f"{r.peak_mb:.0f} | {speedup} | {r.ms_per_image / r.floor_ms:.2f}× | {db} |"
        )
    if report.notes:
        lines += ["", *(f"- {note}" for note in report.notes)]
    return "\n".join(lines)
