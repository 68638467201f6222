"""Training's channels_last detour for the generator's output conv changes speed, not math."""

from __future__ import annotations

import torch

from inference.nets import TransformerNet
from training.generator import speed_up_output_conv_backward


def _output_and_grads(
    net: TransformerNet, x: torch.Tensor
) -> tuple[torch.Tensor, list[torch.Tensor]]:
    net.zero_grad()
    y = net(x)
    (y * torch.linspace(0, 1, y.numel()).view_as(y)).sum().backward()
    return y.detach(), [p.grad.clone() for p in net.parameters() if p.grad is not None]


def test_the_detour_keeps_outputs_and_gradients() -> None:
    torch.manual_seed(0)
    plain = TransformerNet(width=4, n_residual=1)
    detoured = TransformerNet(width=4, n_residual=1)
    detoured.load_state_dict(plain.state_dict())
    speed_up_output_conv_backward(detoured.output_conv)
    x = torch.rand(2, 3, 32, 24)

    y_plain, grads_plain = _output_and_grads(plain, x)
    y_detoured, grads_detoured = _output_and_grads(detoured, x)

    assert y_detoured.is_contiguous()
    torch.testing.assert_close(y_detoured, y_plain, rtol=1e-5, atol=1e-5)
    assert len(grads_detoured) == len(grads_plain)
    # Summation order differs. The biases before instance norm have a true gradient of 0, so
    # theirs is rounding noise; measure it against the largest gradient, not in absolute terms.
    scale = max(float(g.abs().max()) for g in grads_plain)
    for got, want in zip(grads_detoured, grads_plain, strict=True):
        torch.testing.assert_close(got, want, rtol=1e-3, atol=1e-6 * scale)
