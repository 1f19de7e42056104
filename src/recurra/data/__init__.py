"""Data: generated sets (``synthetic``) and, later, windows, text and bundled series."""

from .mackey_glass import mackey_glass
from .synthetic import seasonal_series, sign_of_early_sum, windows

__all__ = ["mackey_glass", "seasonal_series", "sign_of_early_sum", "windows"]
