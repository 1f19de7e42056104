"""Deprecated: ``recurra.forecast.plots`` holds these names now."""

import warnings

warnings.warn("recurra.tasks.plots is deprecated; import from recurra.forecast.plots", DeprecationWarning, stacklevel=2)

from ..forecast.plots import plot_forecast  # noqa: E402

__all__ = ["plot_forecast"]
