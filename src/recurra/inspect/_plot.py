"""Figures without pyplot: a ``matplotlib.figure.Figure`` drawn by the Agg renderer, so plotting never
touches matplotlib's global backend or opens a window."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import ConfigError

FORMATS = (".png", ".svg", ".pdf")


def new_figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save(fig: Any, path: str | os.PathLike | None) -> None:
    """Write ``fig`` to ``path`` (``.png``, ``.svg`` or ``.pdf``, by its suffix); nothing for ``None``."""
    if path is None:
        return
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise ConfigError(f"expected a figure path ending in {', '.join(FORMATS)}, got {str(path)!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
