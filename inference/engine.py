"""The inference engine: runs a style's generator on a batch of frames, fast, on one device.

Synchronous by design: the pool gives each device one worker thread that owns one engine, and
the CLI uses an engine directly. Models load lazily from their style packs and stay in an LRU
bounded both by count and by (estimated) memory.

How a model runs was chosen from measurements (``benchmarks/README.md``):

- CUDA: bf16 (fp16 where the GPU lacks bf16) weights and activations, channels_last,
  ``cudnn.benchmark``; a big batch is split only to bound memory.
- CPU: bf16 where the CPU has it natively (AVX-512 BF16 / AMX), for each style whose bf16 output
  stays within ``BF16_MIN_PSNR_DB`` of its fp32 output on a probe image; fp32 otherwise. Frames
  run one at a time. A process that warms up (a server) runs ``torch.compile``d
  graphs; one that does not (a one-shot command) runs eager bf16, or ONNX Runtime for fp32,
  and never waits for a compiler.
"""

from __future__ import annotations

import logging
import math
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, TypeAlias

import numpy as np
import torch
from torch.nn import functional as F

from artisto.errors import ArtistoError
from inference.backends import Backend, BackendName, OrtBackend, TorchBackend
from inference.frames import check_frames, padded_side, run_padded
from inference.registry import StylePack, StyleRegistry

log = logging.getLogger(__name__)

DevicePreference: TypeAlias = Literal["auto", "cpu", "cuda"]
Precision: TypeAlias = Literal["auto", "fp32", "fp16", "bf16"]
BackendChoice: TypeAlias = Literal["auto", "eager", "compile", "onnxruntime"]

BF16_MIN_PSNR_DB = 40.0
"""Half precision is used on the CPU only for styles whose output it changes less than this."""

_CUDA_CHUNK_PIXELS = 32_000_000
"""Most padded pixels in one forward pass on CUDA (about 5 GB of bf16 activations). On the CPU
frames run one by one: a batch of 8 measured slower per frame than single frames (caches), and
a compiled graph then needs no second, batched variant."""

FP32_CPU_BACKEND: BackendName = "onnxruntime"
"""Uncompiled fp32 on the CPU (no native bf16, or a style bf16 would change too much)."""

_DTYPES: dict[str, torch.dtype] = {
    "fp32": torch.float32,
    "fp16": torch.float16,
    "bf16": torch.bfloat16,
}


def choose_device(preference: DevicePreference) -> torch.device:
    """CUDA when asked for or, with ``auto``, when present; else the CPU."""
    if preference == "cuda":
        if not torch.cuda.is_available():
            raise ArtistoError("device 'cuda' was asked for, but no CUDA device is available")
        return torch.device("cuda")
    if preference == "auto" and torch.cuda.is_available():
        return torch.device("cuda")
    if preference not in ("auto", "cpu"):
        raise ArtistoError(f"unknown device {preference!r}: use auto, cpu or cuda")
    return torch.device("cpu")


def resolve_precision(precision: Precision, device: torch.device) -> torch.dtype:
    """The compute dtype for ``precision`` on ``device``; ``auto`` is the fastest one that the
    hardware runs natively (the CPU's bf16 is then still checked per style)."""
    if precision == "auto":
        if device.type == "cuda":
            return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
        return torch.bfloat16 if _cpu_has_bf16() else torch.float32
    if precision not in _DTYPES:
        raise ArtistoError(f"unknown precision {precision!r}: use auto, fp32, fp16 or bf16")
    dtype = _DTYPES[precision]
    if device.type == "cpu" and dtype != torch.float32 and not _cpu_has_half(dtype):
        raise ArtistoError(f"this CPU has no native {precision}; use fp32")
    return dtype


def _cpu_has_bf16() -> bool:
    return bool(torch._C._has_mkldnn and torch.ops.mkldnn._is_mkldnn_bf16_supported())


def _cpu_has_half(dtype: torch.dtype) -> bool:
    if dtype == torch.bfloat16:
        return _cpu_has_bf16()
    return bool(torch.ops.mkldnn._is_mkldnn_fp16_supported())


@dataclass
class _Loaded:
    backend: Backend
    nbytes: int
    psnr_db: float | None


class Engine:
    """Stylizes uint8 RGB frames with a style's generator; see the module docstring."""

    def __init__(
        self,
        registry: StyleRegistry,
        *,
        device: DevicePreference = "auto",
        precision: Precision = "auto",
        cpu_threads: int = 0,
        cache_size: int = 8,
        cache_mb: float = 1024,
        backend: BackendChoice = "auto",
        cache_dir: Path | None = None,
    ) -> None:
        """``cpu_threads`` 0 keeps torch's default (all cores); set, it is process-wide.
        ``backend`` forces one way of running ("eager", "compile", "onnxruntime"); "auto" is
        the measured choice of the module docstring. ``cache_dir`` keeps built ONNX models
        (under ``onnx/``) between runs; None builds them in memory.
        """
        if cache_size < 1 or cache_mb <= 0:
            raise ValueError("cache_size must be at least 1 and cache_mb positive")
        if cpu_threads < 0:
            raise ValueError("cpu_threads must be 0 (all cores) or positive")
        self.registry = registry
        self.device: torch.device = choose_device(device)
        self.dtype: torch.dtype = resolve_precision(precision, self.device)
        self._check_precision_auto = precision == "auto" and self.device.type == "cpu"
        self._choice = _check_backend(backend, self.device, self.dtype)
        self._compile_warmed = False
        """Auto on the CPU: begin_warmup() ran, so this is a server; later loads compile too."""
        self.cache_size = cache_size
        self.cache_bytes_limit = int(cache_mb * 2**20)
        self.cache_dir = cache_dir
        self._models: OrderedDict[str, _Loaded] = OrderedDict()
        if self.device.type == "cpu" and cpu_threads > 0:
            torch.set_num_threads(cpu_threads)  # process-wide: one CPU engine per process
        if self.device.type == "cuda":
            torch.backends.cudnn.benchmark = True
        self.cpu_threads = torch.get_num_threads()

    # --- public API ---------------------------------------------------------------------

    def stylize_batch(self, style: str, frames: np.ndarray) -> np.ndarray:
        """(N, H, W, 3) uint8 RGB, any H, W >= 1 -> stylized frames of the same shape.

        Frames are reflection-padded to a size the generator accepts and cropped back; never
        resized. Raises ``UnknownStyle`` for a style the registry lacks.
        """
        check_frames(frames)
        backend = self._get(style).backend
        n, h, w, _ = frames.shape
        pixels = padded_side(h) * padded_side(w)
        chunk = max(1, _CUDA_CHUNK_PIXELS // pixels) if self.device.type == "cuda" else 1
        out = np.empty_like(frames)
        for start in range(0, n, chunk):
            out[start : start + chunk] = run_padded(
                lambda part: backend.run(torch.from_numpy(part)).numpy(),
                frames[start : start + chunk],
            )
        return out

    @property
    def backend(self) -> BackendName:
        """How the next model in the engine's precision will run."""
        return self._backend_for(self.dtype)

    def warmup(self, styles: Iterable[str] | None = None) -> None:
        """``begin_warmup``, then ``warm`` each style, in one call (a benchmark); the pool
        takes the steps one by one, to report its progress and to stop between two."""
        for name in self.begin_warmup(styles):
            self.warm(name)

    def begin_warmup(self, styles: Iterable[str] | None = None) -> list[str]:
        """The styles to ``warm``, in order (default: as many installed ones as the cache
        holds); from this call on the engine is a server's.

        With ``backend="auto"`` on the CPU, warming up is what turns ``torch.compile`` on: a
        process that warms up is a server, where a compile of tens of seconds buys every later
        frame a 1.5-2x speed-up, while a one-shot command (no warm-up) would lose more to
        compiling than it gains. A style loaded later (past the cache's size) is compiled
        when first asked for.
        """
        names = list(styles) if styles is not None else self.registry.names()[: self.cache_size]
        if names and self._choice == "auto" and self.device.type == "cpu":
            self._compile_warmed = True
            for name in names:
                self._models.pop(name, None)  # loaded eager before: reload compiled
        return names

    def warm(self, name: str) -> None:
        """Load ``name`` and run it once, so that its first user does not pay for loading,
        kernel selection or compiling. Should compiling fail (no C++ toolchain), the engine
        logs it and stays eager from then on."""
        start = time.perf_counter()
        try:
            self._warm(name)
        except ArtistoError:
            raise
        except Exception as exc:
            if not self._compile_warmed:
                raise
            log.warning("engine.compile_failed", extra={"error": repr(exc)[:500]})
            self._compile_warmed = False
            self._models.clear()
            self._warm(name)
        log.info(
            "engine.warm",
            extra={
                "style": name,
                "backend": self._models[name].backend.describe(),
                "ms": round((time.perf_counter() - start) * 1000),
            },
        )

    def _warm(self, name: str) -> None:
        frame = np.zeros((1, 72, 96, 3), np.uint8)  # H != W: a compiled graph stays general
        frame[:, ::2] = 255
        self.stylize_batch(name, frame)
        if self.device.type == "cuda":
            self.stylize_batch(name, np.repeat(frame, 2, axis=0))  # the batched variant

    def loaded(self) -> dict[str, str]:
        """Cached styles, least recently used first, with how each one runs."""
        return {name: m.backend.describe() for name, m in self._models.items()}

    @property
    def cache_bytes(self) -> int:
        return sum(m.nbytes for m in self._models.values())

    # --- model cache --------------------------------------------------------------------

    def _get(self, style: str) -> _Loaded:
        model = self._models.get(style)
        if model is not None:
            self._models.move_to_end(style)
            return model
        pack = self.registry.get(style)  # UnknownStyle before any work
        start = time.perf_counter()
        model = self._load(pack)
        self._models[style] = model
        log.info(
            "engine.model_loaded",
            extra={
                "style": style,
                "backend": model.backend.describe(),
                "mb": round(model.nbytes / 2**20, 2),
                "psnr_db": None if model.psnr_db is None else round(model.psnr_db, 1),
                "ms": round((time.perf_counter() - start) * 1000),
            },
        )
        self._evict()
        return model

    def _load(self, pack: StylePack) -> _Loaded:
        backend = self._build(pack, self.dtype)
        psnr_db = None
        if self._check_precision_auto and self.dtype != torch.float32:
            net = pack.build_generator()
            reference = TorchBackend(net, device=self.device, dtype=torch.float32)
            psnr_db = probe_psnr(reference, backend)
            if psnr_db < BF16_MIN_PSNR_DB:
                log.warning(
                    "engine.half_rejected",
                    extra={"psnr_db": round(psnr_db, 1), "min_db": BF16_MIN_PSNR_DB},
                )
                backend = self._build(pack, torch.float32)
        return _Loaded(backend, backend.nbytes, psnr_db)

    def _backend_for(self, dtype: torch.dtype) -> BackendName:
        if self._choice != "auto":
            return self._choice
        if self.device.type == "cuda":
            return "eager"
        if self._compile_warmed:
            return "compile"
        return "eager" if dtype != torch.float32 else FP32_CPU_BACKEND

    def _build(self, pack: StylePack, dtype: torch.dtype) -> Backend:
        name = self._backend_for(dtype)
        if name == "onnxruntime":
            return OrtBackend(pack, threads=self.cpu_threads, cache_dir=self.cache_dir)
        compiled = name == "compile"
        # Eager on the CPU ran NCHW a little faster than channels_last (benchmarks/README.md).
        channels_last = compiled or self.device.type == "cuda"
        return TorchBackend(
            pack.build_generator(),
            device=self.device,
            dtype=dtype,
            channels_last=channels_last,
            compile=compiled,
        )

    def _evict(self) -> None:
        """Drop least recently used models until both bounds hold; the newest always stays."""
        while len(self._models) > 1 and (
            len(self._models) > self.cache_size or self.cache_bytes > self.cache_bytes_limit
        ):
            name, _ = self._models.popitem(last=False)
            log.info("engine.model_evicted", extra={"style": name})


def _check_backend(
    choice: BackendChoice, device: torch.device, dtype: torch.dtype
) -> BackendChoice:
    if choice not in ("auto", "eager", "compile", "onnxruntime"):
        raise ArtistoError(f"unknown backend {choice!r}: use auto, eager, compile or onnxruntime")
    if choice == "onnxruntime" and (device.type != "cpu" or dtype != torch.float32):
        raise ArtistoError("the onnxruntime backend runs fp32 on the CPU only")
    return choice


def probe_image(height: int = 128, width: int = 160) -> np.ndarray:
    """A deterministic photo stand-in (smooth colour fields, hard edges, fine texture) for
    comparing precisions: a flat image would hide rounding errors that real photos show."""
    rng = np.random.default_rng(1234)
    coarse = torch.from_numpy(rng.uniform(0, 255, (1, 3, 4, 5)))
    smooth = F.interpolate(coarse, size=(height, width), mode="bilinear", align_corners=True)
    checks = (np.arange(height)[:, None] // 16 + np.arange(width)[None, :] // 16) % 2
    texture = rng.normal(0, 12, (height, width, 3))
    img = smooth[0].permute(1, 2, 0).numpy() + np.where(checks, 40.0, -40.0)[..., None] + texture
    return np.clip(img, 0, 255).astype(np.uint8)[None]


def probe_psnr(reference: Backend, candidate: Backend) -> float:
    """PSNR in dB of the candidate's output against the reference's on the probe image."""
    x = torch.from_numpy(probe_image())
    a = reference.run(x).numpy().astype(np.float64)
    b = candidate.run(x).numpy().astype(np.float64)
    mse = float(np.mean((a - b) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)
