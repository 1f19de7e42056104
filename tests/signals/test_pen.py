"""Pen trajectories from the Hershey fonts: shape, strokes, the hand's distortions, features, plots, errors."""

from __future__ import annotations

import numpy as np
import pytest

from recurra.errors import InputValueError
from recurra.signals import HERSHEY_FONTS, Hand, handwriting, pen_features, plain_text, plot_pen


def test_the_same_seed_writes_the_same_trajectory_and_every_font_writes():
    a = handwriting("el perro", "scripts", np.random.default_rng(3))
    b = handwriting("el perro", "scripts", np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)
    for font in HERSHEY_FONTS:
        p = handwriting("mar", font, np.random.default_rng(0))
        assert p.shape[1] == 3 and len(p) > 10 and p[-1, 2] == 1.0
        assert set(np.unique(p[:, 2])) == {0.0, 1.0}


def test_a_hand_slants_scales_and_spaces_the_points():
    rng = np.random.default_rng(0)
    upright = handwriting("l", "futural", rng, Hand())
    slanted = handwriting("l", "futural", rng, Hand(slant=0.5))
    # the 'l' is one vertical stroke: slanting moves its top right by 0.5 x its height
    top, bottom = upright[:, 1].argmax(), upright[:, 1].argmin()
    height = upright[top, 1] - upright[bottom, 1]
    assert abs(upright[top, 0] - upright[bottom, 0]) < 1e-9
    assert slanted[top, 0] - slanted[bottom, 0] == pytest.approx(0.5 * height)
    assert height == pytest.approx(1.0, abs=0.05)  # letter heights: the cap line to the base line is 1
    dense = handwriting("l", "futural", rng, Hand(step=0.05))
    assert len(dense) > 2.5 * len(upright)


def test_pen_features_are_moves_and_lifts():
    points = np.array([[0.0, 0.0, 0.0], [1.0, 0.5, 1.0], [3.0, 0.5, 0.0], [3.0, 2.0, 1.0]])
    np.testing.assert_array_equal(pen_features(points), [[0, 0, 0], [1, 0.5, 1], [2, 0, 0], [0, 1.5, 1]])
    with pytest.raises(InputValueError, match=r"\(T >= 2, 3\).*got \(1, 3\)"):
        pen_features(points[:1])
    points[2, 1] = np.nan
    with pytest.raises(InputValueError, match="finite pen points.*at point 2"):
        pen_features(points)


def test_plain_text_folds_what_the_fonts_cannot_write():
    assert plain_text("¡Año Nuevo,  vida nueva!") == "ano nuevo vida nueva"
    with pytest.raises(InputValueError, match=r"a-z and spaces.*outside: \['ñ'\]"):
        handwriting("año", "futural", np.random.default_rng(0))
    with pytest.raises(InputValueError, match="Hershey font name"):
        handwriting("ano", "comic", np.random.default_rng(0))


def test_plot_pen_writes_a_picture(tmp_path):
    rng = np.random.default_rng(0)
    out = plot_pen([handwriting("sol", "cursive", rng), handwriting("luna", "timesi", rng)], tmp_path / "pen.png",
                   titles=["sol", "luna"])  # fmt: skip
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_bad_pen_data_is_named():
    with pytest.raises(InputValueError, match=r"shape \(T >= 2, 3\).*got \(1, 3\)"):
        pen_features(np.array([[0.0, 0.0, 0.0]]))
    with pytest.raises(InputValueError, match="expected finite pen points, got .*nan.* at point 0"):
        pen_features(np.array([[0.0, np.nan, 0.0], [1.0, 1.0, 0.0]]))
