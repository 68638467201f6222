"""Measuring the generator: its convolutions' FLOPs, the machine's matrix-product rate (the
compute floor), the peak memory a call adds, and how far an output is from the reference."""

from __future__ import annotations

import contextlib
import copy
import ctypes
import math
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from inference.nets.transformer import TransformerNet

Stylize0 = Callable[[], np.ndarray]
MATMUL_N = 3072


def conv_gflop(net: TransformerNet, height: int, width: int) -> float:
    """FLOPs (2 per multiply-add) of the net's convolutions on one image, counted by hooks on a
    shape-only ("meta") copy, so no arithmetic runs. Norms, pads and adds are left out: the
    floor is what the multiply-adds alone would cost at matrix-product speed."""
    meta = copy.deepcopy(net).to("meta")
    macs = 0

    def hook(module: torch.nn.Module, _inputs: object, output: torch.Tensor) -> None:
        nonlocal macs
        assert isinstance(module, torch.nn.Conv2d)
        k = module.kernel_size[0] * module.kernel_size[1]
        macs += output.numel() * module.in_channels // module.groups * k

    for module in meta.modules():
        if isinstance(module, torch.nn.Conv2d):
            module.register_forward_hook(hook)
    with torch.no_grad():
        meta(torch.empty(1, 3, height, width, device="meta"))
    return 2 * macs / 1e9


def matmul_gflops(device: torch.device) -> Callable[[], float]:
    """One timed fp32 N x N matrix product per call, in GFLOP/s, on the net's threads."""
    a = torch.randn(MATMUL_N, MATMUL_N, device=device)
    b = torch.randn(MATMUL_N, MATMUL_N, device=device)
    _sync(a @ b)

    def run() -> float:
        start = time.perf_counter()
        _sync(a @ b)
        return 2 * MATMUL_N**3 / (time.perf_counter() - start) / 1e9

    return run


def _sync(value: object) -> object:
    if torch.cuda.is_available() and isinstance(value, torch.Tensor) and value.is_cuda:
        torch.cuda.synchronize()
    return value


def peak_memory(fn: Stylize0, device: torch.device) -> tuple[float, np.ndarray]:
    """Peak memory one (untimed, first) call adds, in MiB, and what the call returned.

    CUDA: the caching allocator's peak. CPU: torch allocates outside Python's tracemalloc, so
    the resident set size is sampled every millisecond, after ``malloc_trim`` has handed the
    free memory of earlier calls back to the system (else a reused heap hides the peak).
    """
    if device.type == "cuda":
        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        out = fn()
        torch.cuda.synchronize()
        return (torch.cuda.max_memory_allocated() - base) / 2**20, out
    _malloc_trim()
    base = peak = _rss()
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.001):
            peak = max(peak, _rss())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        out = fn()
    finally:
        done.set()
        sampler.join()
    return (max(peak, _rss()) - base) / 2**20, out


def _malloc_trim() -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


_PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss() -> int:
    with Path("/proc/self/statm").open() as f:
        return int(f.read().split()[1]) * _PAGE


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return math.inf if mse == 0 else 10 * math.log10(255.0**2 / mse)
