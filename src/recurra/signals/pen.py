"""Online handwriting as pen trajectories: text written in the Hershey stroke fonts, made hand-like.

``handwriting(text, font, rng)`` writes ``text`` with one Hershey font (PyPI ``Hershey-Fonts``, MIT: single-
line vector glyphs, among them script and cursive faces) as the pen would: each stroke resampled at an
even pen speed, then distorted the way hands differ —

- slant (a shear ``x += s·y``), a small rotation, a width and a height scale;
- speed: the distance between samples (more or fewer points per letter);
- jitter: Gaussian noise on every point, and a slow wobble along the line;

and returns points ``(T, 3)``: ``x``, ``y`` (up is positive, the letter height about 1) and ``pen_up``
(1 on the last point of a stroke, where the pen lifts). ``pen_features`` turns points into what a
recogniser reads: ``(dx, dy, pen_up)`` per point, independent of where the text sits.

>>> import numpy as np
>>> points = handwriting("hola", "scripts", np.random.default_rng(0))
>>> points.shape[1], bool(points[-1, 2] == 1.0)
(3, True)
>>> pen_features(points).shape == points.shape
True
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import cache

import numpy as np

from ..errors import InputValueError

# the Latin faces of the Hershey fonts, by family
HERSHEY_FONTS = ("futural", "futuram", "rowmans", "rowmand", "rowmant", "timesr", "timesrb", "timesi", "timesib",
                 "scripts", "scriptc", "cursive")  # fmt: skip
PEN_CHARACTERS = "abcdefghijklmnopqrstuvwxyz "
_CAP_HEIGHT = 21.0  # Hershey units from the cap line (-12) to the base line (9)


@dataclass(frozen=True)
class Hand:
    """How a hand distorts the font: slant, rotation (radians), width and height scale, the distance
    between samples (letter heights), point jitter and wobble (letter heights)."""

    slant: float = 0.0
    rotation: float = 0.0
    width: float = 1.0
    height: float = 1.0
    step: float = 0.15
    jitter: float = 0.0
    wobble: float = 0.0

    @classmethod
    def random(cls, rng: np.random.Generator) -> Hand:
        """A hand drawn at random within the ranges of ordinary handwriting."""
        return cls(slant=rng.uniform(-0.2, 0.45), rotation=rng.uniform(-0.06, 0.06), width=rng.uniform(0.8, 1.25),
                   height=rng.uniform(0.85, 1.15), step=rng.uniform(0.12, 0.2), jitter=rng.uniform(0.0, 0.012),
                   wobble=rng.uniform(0.0, 0.04))  # fmt: skip


@cache
def _font(name: str):
    from HersheyFonts import HersheyFonts

    if name not in HersheyFonts().default_font_names:
        raise InputValueError(f"expected a Hershey font name (e.g. {', '.join(HERSHEY_FONTS[:4])}), got {name!r}")
    font = HersheyFonts()
    font.load_default_font(name)
    return font


def plain_text(text: str) -> str:
    """``text`` lowercased, accents and ñ folded to their base letters, other characters outside ``a-z`` and
    space dropped, spaces collapsed — what the pen fonts can write."""
    folded = unicodedata.normalize("NFKD", text.lower())
    kept = "".join(c for c in folded if c in PEN_CHARACTERS)
    return " ".join(kept.split())


def _resample(stroke: np.ndarray, step: float) -> np.ndarray:
    """Points every ``step`` along the polyline ``stroke`` ``(n, 2)`` (its ends kept)."""
    seg = np.linalg.norm(np.diff(stroke, axis=0), axis=1)
    along = np.concatenate([[0.0], np.cumsum(seg)])
    if along[-1] == 0.0:
        return stroke[:1]
    at = np.linspace(0.0, along[-1], max(2, int(np.ceil(along[-1] / step)) + 1))
    return np.stack([np.interp(at, along, stroke[:, 0]), np.interp(at, along, stroke[:, 1])], 1)


def handwriting(text: str, font: str, rng: np.random.Generator, hand: Hand | None = None) -> np.ndarray:
    """Pen points ``(T, 3)`` (``x``, ``y``, ``pen_up``) of ``text`` in ``font``, by ``hand`` (default: a random one)."""
    if not text or any(c not in PEN_CHARACTERS for c in text):
        bad = sorted({c for c in text if c not in PEN_CHARACTERS})
        raise InputValueError(f"expected text of a-z and spaces (plain_text() folds others), got {text!r} (outside: {bad})")
    hand = hand if hand is not None else Hand.random(rng)
    strokes = [np.asarray(s, dtype=np.float64) for s in _font(font).strokes_for_text(text) if len(s) > 0]
    if not strokes:
        raise InputValueError(f"expected text with letters to write, got {text!r}")
    c, s = np.cos(hand.rotation), np.sin(hand.rotation)
    parts = []
    for stroke in strokes:
        xy = stroke / _CAP_HEIGHT * np.array([1.0, -1.0])  # up is positive, letter height ~1
        xy = _resample(xy, hand.step)
        xy = xy * np.array([hand.width, hand.height])
        xy[:, 0] += hand.slant * xy[:, 1]
        xy = xy @ np.array([[c, s], [-s, c]])
        up = np.zeros((len(xy), 1))
        up[-1] = 1.0
        parts.append(np.concatenate([xy, up], 1))
    points = np.concatenate(parts)  # (T, 3)
    t = np.arange(len(points))
    phase = rng.uniform(0, 2 * np.pi, 2)
    points[:, 0] += hand.wobble * np.sin(t / 25.0 + phase[0]) + rng.normal(0.0, hand.jitter, len(points))
    points[:, 1] += hand.wobble * np.sin(t / 31.0 + phase[1]) + rng.normal(0.0, hand.jitter, len(points))
    return points


def pen_features(points: np.ndarray) -> np.ndarray:
    """``(T, 3)``: each point's move from the one before (``dx``, ``dy``; 0 at the first) and ``pen_up``."""
    points = np.asarray(points, dtype=np.float64)
    if points.ndim != 2 or points.shape[1] != 3 or len(points) < 2:
        raise InputValueError(f"expected pen points of shape (T >= 2, 3) (x, y, pen_up), got {points.shape}")
    if not np.isfinite(points).all():
        i = int(np.argwhere(~np.isfinite(points))[0, 0])
        raise InputValueError(f"expected finite pen points, got {points[i].tolist()} at point {i}")
    moves = np.diff(points[:, :2], axis=0, prepend=points[:1, :2])
    return np.concatenate([moves, points[:, 2:]], 1)
