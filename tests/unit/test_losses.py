"""Loss functions on tiny tensors with known answers."""

from __future__ import annotations

import pytest
import torch

from training.losses import (
    content_loss,
    gram,
    gram_distance,
    mean_photo_distances,
    motion_stability,
    noise_stability,
    style_loss,
    total_variation,
)
from training.motion import warp


def test_gram_is_normalised_by_size() -> None:
    ones = torch.ones(1, 2, 4, 4)
    assert torch.allclose(gram(ones), torch.full((1, 2, 2), 16 / (2 * 16)))
    bigger = torch.ones(1, 2, 8, 8)
    assert torch.allclose(gram(bigger), gram(ones)), "Gram must not grow with the image size"


def test_gram_of_orthogonal_channels_is_diagonal() -> None:
    f = torch.zeros(1, 2, 1, 2)
    f[0, 0, 0, 0] = 1.0
    f[0, 1, 0, 1] = 2.0
    g = gram(f)[0]
    assert g[0, 1] == 0 and g[1, 0] == 0
    assert torch.isclose(g[1, 1], torch.tensor(4.0 / 4))


def test_content_loss_is_relative() -> None:
    target = torch.randn(2, 8, 5, 5)
    assert content_loss(target, target) == 0
    assert torch.isclose(content_loss(torch.zeros_like(target), target), torch.tensor(1.0))
    assert torch.isclose(content_loss(torch.zeros_like(target), 3 * target), torch.tensor(1.0))


def test_style_loss_zero_for_the_painting_itself() -> None:
    feats = {"a": torch.rand(1, 4, 6, 6), "b": torch.rand(1, 8, 3, 3)}
    grams = {k: gram(v) for k, v in feats.items()}
    assert style_loss(feats, grams) == 0
    batch = {k: v.expand(3, -1, -1, -1) for k, v in feats.items()}
    assert style_loss(batch, grams) == 0, "one painting's Grams serve a whole batch"
    assert style_loss({k: v * 2 for k, v in feats.items()}, grams) > 0


def test_style_loss_takes_each_samples_own_painting() -> None:
    first = {"a": torch.rand(1, 4, 6, 6), "b": torch.rand(1, 8, 3, 3)}
    second = {k: v.flip(-1) ** 2 for k, v in first.items()}
    grams = {k: torch.cat([gram(first[k]), gram(second[k])]) for k in first}
    batch = {k: torch.cat([second[k], first[k]]) for k in first}
    assert style_loss(batch, grams, torch.tensor([1, 0])) == 0
    assert style_loss(batch, grams, torch.tensor([0, 1])) > 0


def test_the_score_shaped_style_term_is_zero_for_the_photos_and_floored_at_the_painting() -> None:
    photos = {"a": torch.rand(3, 4, 6, 6), "b": torch.rand(3, 8, 3, 3)}
    painting = {k: v[:1].flip(-1) ** 3 for k, v in photos.items()}
    grams = {k: gram(v) for k, v in painting.items()}
    own = {k: gram_distance(gram(v), grams[k].expand(3, -1, -1)) for k, v in photos.items()}
    assert float(style_loss(photos, grams, None, own)) == pytest.approx(0.0, abs=1e-6)
    assert float(style_loss(painting, grams, None, own)) == pytest.approx(-6.0)
    halfway = {k: (v + painting[k]) / 2 for k, v in photos.items()}
    assert -6.0 < float(style_loss(halfway, grams, None, own)) < 0.0
    means = mean_photo_distances({k: gram(v) for k, v in photos.items()}, grams)
    assert all(torch.allclose(means[k], own[k].mean()) for k in photos)


def test_total_variation_of_flat_and_striped_images() -> None:
    assert total_variation(torch.full((1, 3, 4, 4), 0.3)) == 0
    stripes = torch.zeros(1, 1, 2, 4)
    stripes[..., 1::2] = 1.0
    assert torch.isclose(total_variation(stripes), torch.tensor(1.0))


def test_stability_terms_are_zero_for_a_generator_that_ignores_its_input() -> None:
    constant = torch.full((2, 3, 16, 16), 0.25)

    def generator(x: torch.Tensor) -> torch.Tensor:
        return constant[: x.shape[0]].clone()

    x = torch.rand(2, 3, 16, 16)
    assert noise_stability(generator(x), generator(x + 0.05 * torch.randn_like(x))) == 0
    theta = torch.tensor([[[1.0, 0.0, 0.25], [0.0, 1.0, 0.0]]]).expand(2, -1, -1)
    moved, inside = warp(x, theta)
    warped_out, _ = warp(generator(x), theta)
    assert motion_stability(generator(moved), warped_out, inside) == 0


def test_stability_terms_penalise_a_generator_that_amplifies_noise() -> None:
    x = torch.rand(1, 3, 8, 8)
    noisy = x + 0.01 * torch.randn_like(x)
    assert noise_stability(10 * x, 10 * noisy) > noise_stability(x, noisy) > 0
