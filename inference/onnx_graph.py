"""The generator as an ONNX graph, built straight from a pack's weights with ``onnx.helper``.

No exporter runs and no torch is imported, so the one-shot command line can build (once, then
cache: ``inference.onnx_generator``, whose ``GRAPH_VERSION`` follows any change here) the model
it runs. The graph also carries the uint8 boundary of every backend: uint8
NHWC frames go in and come out, rounded as ``inference.backends.to_uint8`` rounds, so the
caller holds no float copy of the picture. Each node mirrors a layer of
``inference.nets.transformer.TransformerNet``; a test holds the two to the same output.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import onnx
from onnx import TensorProto, helper, numpy_helper

from inference.registry import NetSpec
from inference.registry.weights import Weights

OPSET = 17
_EPSILON = 1e-5
"""InstanceNorm2d's default."""


def generator_graph(spec: NetSpec, weights: Weights) -> bytes:
    """The serialized ONNX model of the generator: uint8 (N, H, W, 3) -> uint8, same shape."""
    graph = _Builder(weights)
    frames = "frames"
    x = graph.node("Transpose", [frames], perm=[0, 3, 1, 2])
    x = graph.node("Mul", [graph.node("Cast", [x], to=TensorProto.FLOAT), graph.scalar(1 / 255)])
    y = graph.node("Sub", [x, graph.scalar(0.5)])
    y = graph.conv_layer("encoder.0", y)
    y = graph.conv_layer("encoder.1", y, stride=2)
    y = graph.conv_layer("encoder.2", y, stride=2)
    for block in range(spec.residual_blocks):
        residual = graph.conv_layer(f"residuals.{block}.conv1", y)
        residual = graph.conv_layer(f"residuals.{block}.conv2", residual, relu=False)
        y = graph.node("Add", [y, residual])
    y = graph.conv_layer("decoder.0.conv", graph.upsample(y))
    y = graph.conv_layer("decoder.1.conv", graph.upsample(y))
    y = graph.conv_layer("decoder.2", y, norm=False, relu=False)
    if not spec.skip:
        y = graph.node("Add", [y, graph.scalar(0.5)])
    else:
        y = graph.node("Add", [graph.low_pass(x, spec.skip_blur) if spec.skip_blur else x, y])
    y = graph.node("Mul", [y, graph.scalar(255.0)])
    y = graph.node("Clip", [y, graph.scalar(0.0), graph.scalar(255.0)])
    y = graph.node("Cast", [graph.node("Round", [y])], to=TensorProto.UINT8)
    graph.node("Transpose", [y], perm=[0, 2, 3, 1], output="stylized")

    shape: list[str | int | None] = ["n", "h", "w", 3]
    model = helper.make_model(
        helper.make_graph(
            graph.nodes,
            "artisto_generator",
            [helper.make_tensor_value_info(frames, TensorProto.UINT8, shape)],
            [helper.make_tensor_value_info("stylized", TensorProto.UINT8, shape)],
            graph.initializers,
        ),
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="artisto",
    )
    onnx.checker.check_model(model)
    serialized: bytes = model.SerializeToString()
    return serialized


def gaussian_taps(sigma: float) -> npt.NDArray[np.float32]:
    """A normalised 1-D Gaussian of radius ⌈3σ⌉, as ``transformer.gaussian_kernel`` makes it."""
    radius = math.ceil(3 * sigma)
    taps = np.arange(-radius, radius + 1, dtype=np.float32)
    kernel: npt.NDArray[np.float32] = np.exp(np.float32(-0.5) * (taps / np.float32(sigma)) ** 2)
    normalised: npt.NDArray[np.float32] = kernel / kernel.sum()
    return normalised


class _Builder:
    """Nodes and initializers of one graph; every node gets a fresh output name."""

    def __init__(self, weights: Weights) -> None:
        self.weights = weights
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._constants: set[str] = set()

    def node(self, op: str, inputs: list[str], *, output: str | None = None, **attrs: Any) -> str:
        name = output or f"{op.lower()}_{len(self.nodes)}"
        self.nodes.append(helper.make_node(op, inputs, [name], **attrs))
        return name

    def constant(self, name: str, value: npt.NDArray[np.generic]) -> str:
        if name not in self._constants:
            self._constants.add(name)
            self.initializers.append(numpy_helper.from_array(value, name))
        return name

    def scalar(self, value: float) -> str:
        return self.constant(f"scalar_{value:g}", np.array(value, np.float32))

    def weight(self, name: str) -> str:
        return self.constant(name, self.weights[name])

    def reflect_pad(self, x: str, radius: int) -> str:
        pads = np.array([0, 0, radius, radius, 0, 0, radius, radius], np.int64)
        return self.node("Pad", [x, self.constant(f"pads_{radius}", pads)], mode="reflect")

    def conv_layer(
        self, prefix: str, x: str, *, stride: int = 1, norm: bool = True, relu: bool = True
    ) -> str:
        """``ConvLayer``: reflection pad, convolution, then instance norm and ReLU if asked."""
        kernel = self.weights[f"{prefix}.1.weight"].shape[-1]
        x = self.node(
            "Conv",
            [
                self.reflect_pad(x, kernel // 2),
                self.weight(f"{prefix}.1.weight"),
                self.weight(f"{prefix}.1.bias"),
            ],
            kernel_shape=[kernel, kernel],
            strides=[stride, stride],
        )
        if norm:
            scale, bias = self.weight(f"{prefix}.2.weight"), self.weight(f"{prefix}.2.bias")
            x = self.node("InstanceNormalization", [x, scale, bias], epsilon=_EPSILON)
        return self.node("Relu", [x]) if relu else x

    def upsample(self, x: str) -> str:
        """Nearest-neighbour ×2, as ``F.interpolate(scale_factor=2.0, mode="nearest")``."""
        scales = self.constant("upsample_scales", np.array([1, 1, 2, 2], np.float32))
        return self.node(
            "Resize",
            [x, "", scales],
            mode="nearest",
            coordinate_transformation_mode="asymmetric",
            nearest_mode="floor",
        )

    def low_pass(self, x: str, sigma: float) -> str:
        """The skip path's separable Gaussian blur with reflected borders (depthwise)."""
        taps = gaussian_taps(sigma)
        rows = self.constant("blur_rows", np.tile(taps.reshape(1, 1, 1, -1), (3, 1, 1, 1)))
        columns = self.constant("blur_columns", np.tile(taps.reshape(1, 1, -1, 1), (3, 1, 1, 1)))
        x = self.node("Conv", [self.reflect_pad(x, len(taps) // 2), rows], group=3)
        return self.node("Conv", [x, columns], group=3)
