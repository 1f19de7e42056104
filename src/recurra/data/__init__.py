"""Data: generated sets (``synthetic``) and, later, windows, text and bundled series."""

from .synthetic import seasonal_series, sign_of_early_sum, windows

__all__ = ["seasonal_series", "sign_of_early_sum", "windows"]
