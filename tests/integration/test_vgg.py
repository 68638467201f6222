"""The loss network's weights are ImageNet VGG16's, loaded safely."""

from __future__ import annotations

import hashlib
import io
import pickle
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from training.data import load_photo, to_tensor
from training.vgg import VGG16Features
from training.vgg_weights import (
    CACHE_NAME,
    PARAMETER_COUNT,
    VggWeightsError,
    _NumpyOnlyUnpickler,
    ensure_vgg16,
    load_vgg16_state,
)

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data"
# sha256 over the tensors' names and bytes in name order, recorded when first converted.
TENSORS_SHA256 = "02ea23240491c2589ec6c79346a0cd2cde49db15b57118399c02f252fb928f83"


@pytest.fixture(scope="module")
def vgg_state() -> dict[str, torch.Tensor]:
    cache = REPO / "data" / "cache"
    ensure_vgg16(cache)
    return load_vgg16_state(cache)


def test_weights_match_the_recorded_checksum(vgg_state: dict[str, torch.Tensor]) -> None:
    digest = hashlib.sha256()
    for key in sorted(vgg_state):
        digest.update(key.encode())
        digest.update(vgg_state[key].numpy().tobytes())
    assert digest.hexdigest() == TENSORS_SHA256
    assert sum(t.numel() for t in vgg_state.values()) == PARAMETER_COUNT


def test_conv1_1_filter_statistics(vgg_state: dict[str, torch.Tensor]) -> None:
    w = vgg_state["features.0.weight"]
    assert w.shape == (64, 3, 3, 3)
    assert abs(float(w.mean())) < 0.01
    assert 0.24 < float(w.std()) < 0.26
    # Most first-layer filters are edge detectors: their taps nearly cancel out.
    per_filter = w.sum(dim=(1, 2, 3)).abs() < 0.1 * w.abs().sum(dim=(1, 2, 3))
    assert int(per_filter.sum()) >= 40


def test_features_respond_to_edges_of_a_real_photo(vgg_state: dict[str, torch.Tensor]) -> None:
    """relu1_2 energy follows the photo's edges; a random network's does not."""
    image = to_tensor(load_photo(DATA / "photos" / "val" / "gcompris_erase-kitten.jpg", 256))
    gradient = (image[:, :-1, 1:] - image[:, :-1, :-1]).abs().mean(0) + (
        image[:, 1:, :-1] - image[:, :-1, :-1]
    ).abs().mean(0)

    def edge_correlation(state: dict[str, torch.Tensor]) -> float:
        energy = VGG16Features(state, ["relu1_2"])(image[None])["relu1_2"][0].pow(2).mean(0)
        pair = torch.stack([energy[:-1, :-1].flatten(), gradient.flatten()])
        return float(torch.corrcoef(pair)[0, 1])

    torch.manual_seed(0)
    random_state = {k: torch.randn_like(v) * 0.05 for k, v in vgg_state.items()}
    assert edge_correlation(vgg_state) > 0.6
    assert abs(edge_correlation(random_state)) < 0.3


def test_unpickler_refuses_anything_but_numpy_arrays() -> None:
    payload = pickle.dumps({"boom": print})
    with pytest.raises(VggWeightsError, match=r"refusing to unpickle builtins\.print"):
        _NumpyOnlyUnpickler(io.BytesIO(payload)).load()


def test_missing_cache_names_the_command(tmp_path: Path) -> None:
    with pytest.raises(VggWeightsError, match="artisto fetch-vgg"):
        load_vgg16_state(tmp_path)


def test_cached_file_is_a_safetensors_file(vgg_state: dict[str, torch.Tensor]) -> None:
    loaded = load_file(str(REPO / "data" / "cache" / CACHE_NAME))
    assert set(loaded) == set(vgg_state)
