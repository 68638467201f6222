"""Ways to execute one style's generator: eager PyTorch, ``torch.compile`` or ONNX Runtime.

Every backend has the same contract: a uint8 ``(N, H, W, 3)`` CPU tensor whose H and W the
network accepts goes in, the stylized uint8 tensor of the same shape comes out. Keeping the
uint8 boundary inside the backend lets each one convert where it is cheapest (on the GPU for
CUDA, inside the graph for ONNX Runtime) and lets the engine stay unaware of dtypes and memory
formats.
"""

from __future__ import annotations

import copy
import logging
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Literal, TypeAlias

import torch

from inference.nets.transformer import TransformerNet
from inference.onnx_generator import OnnxGenerator, generator_model
from inference.registry import StylePack

log = logging.getLogger(__name__)

BackendName: TypeAlias = Literal["eager", "compile", "onnxruntime"]
BACKEND_NAMES: tuple[BackendName, ...] = ("eager", "compile", "onnxruntime")


class Backend(ABC):
    """A loaded generator ready to run; ``nbytes`` is what it keeps in memory (estimated)."""

    name: BackendName
    dtype: torch.dtype
    nbytes: int

    @abstractmethod
    def run(self, frames: torch.Tensor) -> torch.Tensor:
        """uint8 (N, H, W, 3) on the CPU -> uint8 (N, H, W, 3) on the CPU, same shape."""

    def describe(self) -> str:
        return f"{self.name} {str(self.dtype).removeprefix('torch.')}"


def to_uint8(y: torch.Tensor) -> torch.Tensor:
    """Float NCHW in [0, 1] (unclamped) -> uint8 NHWC, rounded to nearest, on y's device.

    Scaling happens in fp32 whatever y's dtype: bf16 cannot tell 254.5 from 255.
    """
    y = y.to(torch.float32).mul_(255.0).clamp_(0.0, 255.0).round_()
    return y.to(torch.uint8).permute(0, 2, 3, 1)


def _param_bytes(net: torch.nn.Module) -> int:
    tensors = [*net.parameters(), *net.buffers()]
    return sum(t.numel() * t.element_size() for t in tensors)


class TorchBackend(Backend):
    """Eager (or ``torch.compile``-d) PyTorch in a fixed dtype and memory format.

    The uint8 NHWC input, viewed as NCHW, already *is* channels_last, so the conversion to
    the compute dtype is the only copy on the way in.
    """

    def __init__(
        self,
        net: TransformerNet,
        *,
        device: torch.device,
        dtype: torch.dtype,
        channels_last: bool = True,
        compile: bool = False,
    ) -> None:
        net = copy.deepcopy(net).eval().requires_grad_(False).to(device=device, dtype=dtype)
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        net = net.to(memory_format=self.memory_format)
        self.name = "compile" if compile else "eager"
        self.device = device
        self.dtype = dtype
        self.channels_last = channels_last
        self._net = net
        self._forward: Any = torch.compile(net, dynamic=True) if compile else net
        self.nbytes = _param_bytes(net)

    def run(self, frames: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            x = frames.to(self.device, non_blocking=True).permute(0, 3, 1, 2)
            x = (
                x.to(torch.float32)
                .mul_(1.0 / 255.0)
                .to(self.dtype, memory_format=self.memory_format)
            )
            return to_uint8(self._call(x)).cpu()

    def _call(self, x: torch.Tensor) -> torch.Tensor:
        y: torch.Tensor
        if self._forward is self._net:
            y = self._net(x)
            return y
        try:
            y = self._forward(x)
        except Exception as exc:  # any compiler failure: the eager net still works
            log.warning("engine.compile_failed", extra={"error": repr(exc)[:500]})
            self._forward = self._net
            self.name = "eager"
            y = self._net(x)
        return y

    def describe(self) -> str:
        layout = " channels_last" if self.channels_last else ""
        return f"{super().describe()}{layout} on {self.device}"


class OrtBackend(Backend):
    """ONNX Runtime on the CPU, fp32, dynamic batch, height and width.

    The model is built from the pack's weights once and kept in ``cache_dir``
    (``inference.onnx_generator``): a second start opens it directly.
    """

    def __init__(self, pack: StylePack, *, threads: int, cache_dir: Path | None) -> None:
        self._generator = OnnxGenerator(generator_model(pack, cache_dir), threads=threads)
        self.name = "onnxruntime"
        self.dtype = torch.float32
        self.nbytes = self._generator.nbytes

    def run(self, frames: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(self._generator.run(frames.numpy()))
