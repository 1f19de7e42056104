"""states: hidden states projected to 2-D by PCA."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA

from recurra import GRU, LSTM, Dense, Sequential
from recurra.errors import ShapeError
from recurra.inspect import pca_2d, plot_states, states, trace


def test_pca_matches_scikit_learn_up_to_the_sign_of_each_component():
    rng = np.random.default_rng(0)
    h = rng.standard_normal((4, 10, 6)) @ np.diag([3.0, 2.0, 1.0, 0.5, 0.2, 0.1])
    points, mean, components, ratio = pca_2d(h)
    ref = PCA(2).fit(h.reshape(-1, 6))
    np.testing.assert_allclose(np.abs(components), np.abs(ref.components_), rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(ratio, ref.explained_variance_ratio_, rtol=1e-8)
    np.testing.assert_allclose(np.abs(points.reshape(-1, 2)), np.abs(ref.transform(h.reshape(-1, 6))), rtol=1e-8, atol=1e-10)
    assert np.all(components[np.arange(2), np.abs(components).argmax(1)] > 0)  # signed: largest entry positive


def test_states_lying_in_a_plane_are_explained_completely():
    torch.set_default_dtype(torch.float64)
    rng = np.random.default_rng(1)
    basis = np.linalg.qr(rng.standard_normal((5, 2)))[0].T  # (2, 5) orthonormal rows
    coords = rng.standard_normal((3, 8, 2))
    h = coords @ basis + 0.7
    points, mean, components, ratio = pca_2d(h)
    assert ratio.sum() == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(points @ components + mean, h, atol=1e-10)  # exact reconstruction


def test_states_of_a_model_project_its_layer_s_output_and_plot(tmp_path):
    model = Sequential([LSTM(6, return_sequences=True, input_shape=(None, 2)), Dense(1)])
    x = torch.randn(3, 12, 2)
    proj = states(model, x)
    assert proj.points.shape == (3, 12, 2) and proj.state == "a"
    np.testing.assert_allclose(proj.states, trace(model, x)["a"])
    np.testing.assert_allclose(proj.project(proj.states), proj.points, atol=1e-5)
    assert states(model, x, state="c").state == "c"
    plot_states(proj, tmp_path / "states.svg")
    assert b"<svg" in (tmp_path / "states.svg").read_bytes()[:400]


def test_a_projection_needs_two_units():
    layer = GRU(1, return_sequences=True)
    layer(torch.zeros(1, 2, 2))
    with pytest.raises(ShapeError, match="at least 2 units, got 1"):
        states(layer, torch.randn(2, 5, 2))
