"""The generator's skip path: blurred, it carries the photo but not the photo's noise."""

from __future__ import annotations

import pytest
import torch

from inference.nets.transformer import TransformerNet, gaussian_kernel
from training.evaluate import identity_generator, noise_flicker, torch_generator


def skip_only(skip_blur: float) -> TransformerNet:
    """A generator whose learned part adds nothing: its output is its skip path."""
    net = TransformerNet(4, 1, skip=True, skip_blur=skip_blur)
    for parameter in net.output_conv.parameters():
        torch.nn.init.zeros_(parameter)
    return net.eval()


def test_gaussian_kernel_is_normalised_and_three_sigmas_wide() -> None:
    kernel = gaussian_kernel(2.0)

    assert kernel.shape == (13,)
    assert float(kernel.sum()) == pytest.approx(1.0)
    assert int(kernel.argmax()) == 6
    assert torch.equal(kernel, kernel.flip(0))


def test_blurred_skip_keeps_flat_colours_and_smooth_shapes() -> None:
    flat = torch.full((1, 3, 24, 32), 0.3)
    ramp = torch.linspace(0, 1, 32).expand(1, 3, 24, 32)

    with torch.no_grad():
        torch.testing.assert_close(skip_only(2.0)(flat), flat)
        inner = (slice(None), slice(None), slice(8, -8), slice(8, -8))
        torch.testing.assert_close(skip_only(2.0)(ramp)[inner], ramp[inner], atol=1e-5, rtol=0)


def test_blurred_skip_passes_a_fraction_of_the_noise_a_plain_skip_passes() -> None:
    photo = torch.rand(1, 3, 8, 8)
    photos = [torch.nn.functional.interpolate(photo, size=(96, 128), mode="bilinear")[0]]

    plain = noise_flicker(torch_generator(skip_only(0.0)), photos)
    blurred = noise_flicker(torch_generator(skip_only(2.0)), photos)

    assert plain == pytest.approx(noise_flicker(identity_generator, photos), rel=1e-3)
    # A 2-D Gaussian of σ = 2 px scales white noise by 1 / (2 √π σ) ≈ 0.14.
    assert 0.11 < blurred / plain < 0.17


def test_the_blur_kernel_is_not_stored_with_the_weights() -> None:
    net = TransformerNet(4, 1, skip_blur=2.0)

    assert not any("blur" in key for key in net.state_dict())
    TransformerNet(4, 1).load_state_dict(net.state_dict())


@pytest.mark.parametrize(("skip", "skip_blur"), [(False, 2.0), (True, -1.0)])
def test_a_blur_without_a_skip_or_below_zero_is_refused(skip: bool, skip_blur: float) -> None:
    with pytest.raises(ValueError, match="skip_blur"):
        TransformerNet(4, 1, skip=skip, skip_blur=skip_blur)
