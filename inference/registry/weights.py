"""A pack's weights, read and checked without torch.

Weights are safetensors only, never pickle, so a pack dropped into the extra styles folder
cannot run code; and every tensor name and shape is checked against the generator that
``[net]`` describes, so a pack from another architecture fails with a message naming the file
and the tensor instead of a shape error deep inside a runtime. The expected names and shapes
are worked out from the spec rather than from a built network, which would need torch (a test
holds them to ``TransformerNet``'s state dict).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
from safetensors import SafetensorError, deserialize

from artisto.errors import StylePackError
from inference.registry.meta import NetSpec

Weights = dict[str, npt.NDArray[np.float32]]
"""Tensor name -> fp32 array, in the generator's order."""

_FLOAT_DTYPES = frozenset({"F16", "BF16", "F32"})


def expected_shapes(spec: NetSpec) -> dict[str, tuple[int, ...]]:
    """The generator's state dict as names and shapes, in the net's order."""
    c1, c2, c3 = spec.width, spec.width * 2, spec.width * 4
    shapes: dict[str, tuple[int, ...]] = {}

    def conv(prefix: str, c_in: int, c_out: int, kernel: int, *, norm: bool = True) -> None:
        shapes[f"{prefix}.1.weight"] = (c_out, c_in, kernel, kernel)
        shapes[f"{prefix}.1.bias"] = (c_out,)
        if norm:
            shapes[f"{prefix}.2.weight"] = (c_out,)
            shapes[f"{prefix}.2.bias"] = (c_out,)

    conv("encoder.0", 3, c1, 9)
    conv("encoder.1", c1, c2, 3)
    conv("encoder.2", c2, c3, 3)
    for block in range(spec.residual_blocks):
        conv(f"residuals.{block}.conv1", c3, c3, 3)
        conv(f"residuals.{block}.conv2", c3, c3, 3)
    conv("decoder.0.conv", c3, c2, 3)
    conv("decoder.1.conv", c2, c1, 3)
    conv("decoder.2", c1, 3, 9, norm=False)
    return shapes


def read_weights(file: Path, spec: NetSpec) -> Weights:
    """The weights as fp32 arrays, after checking names, shapes, dtypes and values."""
    try:
        stored = dict(deserialize(file.read_bytes()))  # type: ignore[no-untyped-call]
    except (SafetensorError, OSError, ValueError) as exc:
        raise StylePackError(f"{file}: not a readable safetensors file ({exc})") from None
    expected = expected_shapes(spec)
    described = f"the generator of [net] width={spec.width}, residual_blocks={spec.residual_blocks}"
    unknown = sorted(set(stored) - set(expected))
    if unknown:
        raise StylePackError(f"{file}: unknown tensor {unknown[0]!r} for {described}")
    missing = sorted(set(expected) - set(stored))
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise StylePackError(f"{file}: missing tensor {missing[0]!r}{more} for {described}")
    weights: Weights = {}
    for key, shape in expected.items():  # in the net's order: the first layer is reported first
        view = stored[key]
        if tuple(view["shape"]) != shape:
            raise StylePackError(
                f"{file}: tensor {key!r} has shape {list(view['shape'])}, "
                f"expected {list(shape)} for {described}"
            )
        if view["dtype"] not in _FLOAT_DTYPES:
            raise StylePackError(f"{file}: tensor {key!r} has dtype {view['dtype']}, not float")
        array = _as_float32(view["data"], view["dtype"]).reshape(shape)
        if not np.isfinite(array).all():
            raise StylePackError(f"{file}: tensor {key!r} holds NaN or infinite values")
        weights[key] = array
    return weights


def _as_float32(data: bytes, dtype: str) -> npt.NDArray[np.float32]:
    if dtype == "BF16":  # numpy has no bfloat16: it is the top half of a float32
        return (np.frombuffer(data, "<u2").astype(np.uint32) << 16).view(np.float32)
    return np.frombuffer(data, "<f2" if dtype == "F16" else "<f4").astype(np.float32)
