"""Ways to execute one style's generator: eager PyTorch, ``torch.compile`` or ONNX Runtime.

Every backend has the same contract: a uint8 ``(N, H, W, 3)`` CPU tensor whose H and W the
network accepts goes in, the stylized uint8 tensor of the same shape comes out. Keeping the
uint8 boundary inside the backend lets each one convert where it is cheapest (on the GPU for
CUDA, straight into ONNX Runtime's NCHW float buffer for ORT) and lets the engine stay
unaware of dtypes and memory formats.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import os
import tempfile
import warnings
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, Literal, TypeAlias

import numpy as np
import torch

from inference.nets.transformer import TransformerNet

log = logging.getLogger(__name__)

BackendName: TypeAlias = Literal["eager", "compile", "onnxruntime"]
BACKEND_NAMES: tuple[BackendName, ...] = ("eager", "compile", "onnxruntime")

ONNX_OPSET = 17


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

    Exporting costs about a second, so the .onnx file is kept under ``cache_dir`` named by a
    hash of the weights (and the exporter's versions): a second start loads it directly.
    """

    def __init__(self, net: TransformerNet, *, threads: int, cache_dir: Path | None) -> None:
        import onnxruntime as ort

        model = _onnx_model(net, cache_dir)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        self._session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
        self.name = "onnxruntime"
        self.dtype = torch.float32
        # The session holds the model's initializers plus pre-packed copies of the weights.
        self.nbytes = 2 * len(model)

    def run(self, frames: torch.Tensor) -> torch.Tensor:
        x = np.ascontiguousarray(frames.numpy().transpose(0, 3, 1, 2), dtype=np.float32)
        x *= np.float32(1.0 / 255.0)
        (y,) = self._session.run(None, {"x": x})
        return to_uint8(torch.from_numpy(y)).contiguous()


def _onnx_model(net: TransformerNet, cache_dir: Path | None) -> bytes:
    if cache_dir is None:
        return _export_onnx(net)
    path = cache_dir / f"generator-{_weights_key(net)}.onnx"
    if path.is_file():
        return path.read_bytes()
    model = _export_onnx(net)
    cache_dir.mkdir(parents=True, exist_ok=True)
    # Write beside, then rename: a concurrent reader never sees half a file.
    fd, tmp = tempfile.mkstemp(prefix=".onnx-", dir=cache_dir)
    with os.fdopen(fd, "wb") as out:
        out.write(model)
    Path(tmp).replace(path)
    log.info("engine.onnx_cached", extra={"path": str(path), "bytes": len(model)})
    return model


def _weights_key(net: TransformerNet) -> str:
    import onnx

    digest = hashlib.sha256()
    digest.update(f"{torch.__version__}|{onnx.__version__}|{ONNX_OPSET}|".encode())
    digest.update(f"{net.width}|{len(net.residuals)}|{net.skip}|{net.skip_blur}|".encode())
    for key, tensor in net.state_dict().items():
        digest.update(key.encode())
        digest.update(tensor.detach().to("cpu", torch.float32).contiguous().numpy().tobytes())
    return digest.hexdigest()[:24]


def _export_onnx(net: TransformerNet) -> bytes:
    """Export with dynamic N, H and W.

    InstanceNorm2d without running statistics always normalises with the sample's own
    statistics; the exporter warns that it exports it "in training mode", which is exactly
    ONNX's InstanceNormalization, so that warning (and the TorchScript exporter's deprecation
    notice) is silenced here rather than shown to every user.
    """
    net = copy.deepcopy(net).to("cpu", torch.float32).eval()
    example = torch.rand(1, 3, 32, 48)
    axes = {0: "n", 2: "h", 3: "w"}
    with (
        tempfile.TemporaryDirectory(prefix="artisto-onnx-") as tmp,
        warnings.catch_warnings(),
        torch.inference_mode(False),
        torch.no_grad(),
    ):
        warnings.simplefilter("ignore")
        path = Path(tmp) / "generator.onnx"
        torch.onnx.export(
            net,
            (example,),
            path,
            input_names=["x"],
            output_names=["y"],
            dynamic_axes={"x": axes, "y": axes},
            opset_version=ONNX_OPSET,
            dynamo=False,
        )
        return path.read_bytes()
