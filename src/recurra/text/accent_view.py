"""Seeing a restoration: which letters a restorer changed, and whether each change (or each letter it left)
is right.

``marks(true, restored)`` classes each character: ``"restored"`` (an accent put back, rightly), ``"wrong"``
(a letter that differs from the true text: an accent missing, added or of the wrong kind), or ``""``.
``accent_figure`` draws passages line by line, one row per restorer, with those marks in colour (PNG).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

from ..errors import ShapeError
from .accents import strip_accents
from .tokenizers import normalize

COLOURS = {"restored": "#1a7f37", "wrong": "#cf222e"}


def marks(true: str, restored: str) -> list[str]:
    """Per character of ``restored``: ``"restored"``, ``"wrong"`` or ``""`` (module docstring)."""
    true, restored = normalize(true), normalize(restored)
    if len(true) != len(restored):
        raise ShapeError(f"expected a restored text as long as the true one ({len(true)} characters), got {len(restored)}")
    plain = strip_accents(true)
    return ["wrong" if r != t else "restored" if r != p else "" for t, r, p in zip(true, restored, plain)]


def accent_figure(
    lines: Sequence[str], restorers: dict[str, Sequence[str]], path: str | os.PathLike, width: int = 84, title: str = ""
) -> Path:
    """A PNG of ``lines`` (the true text) as each restorer (name -> its restored lines) wrote them:
    green letters restored rightly, red ones wrong. Lines longer than ``width`` are cut."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    rows = []
    for i, line in enumerate(lines):
        for name, restored in restorers.items():
            true, got = normalize(line)[:width], normalize(restored[i])[:width]
            rows.append((name, got, marks(true, got)))
        rows.append(None)  # a gap between passages
    char_w, row_h, label_w = 0.078, 0.24, 0.8
    fig = plt.figure(figsize=(label_w + width * char_w + 0.2, 0.5 + row_h * len(rows)))
    H, W = fig.get_figheight(), fig.get_figwidth()
    if title:
        fig.text(0.1 / W, 1 - 0.25 / H, title, fontsize=9, va="center", weight="bold")
    for r, row in enumerate(rows):
        if row is None:
            continue
        y = 1 - (0.55 + r * row_h) / H
        name, got, kinds = row
        fig.text(0.1 / W, y, name, fontsize=8, va="center", color="#57606a")
        for j, (ch, kind) in enumerate(zip(got, kinds)):
            if ch != " ":
                style = {"color": COLOURS[kind], "weight": "bold"} if kind else {"color": "#24292f"}
                fig.text((label_w + j * char_w) / W, y, ch, fontsize=9, family="monospace", va="center", **style)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    from PIL import Image  # matplotlib's own dependency

    with Image.open(path) as image:
        small = image.convert("RGB").quantize(colors=128, method=Image.Quantize.FASTOCTREE)  # few colours: a small file
    small.save(path, optimize=True)
    return path


__all__ = ["marks", "accent_figure", "COLOURS"]
