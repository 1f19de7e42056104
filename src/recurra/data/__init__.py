"""Data: generated sets (``synthetic``) and, later, windows, text and bundled series."""

from . import tasks  # memory tasks: adding, copy, delayed recall, sequential digits
from .mackey_glass import mackey_glass
from .series import load_airline, load_co2  # real series bundled with the package
from .synthetic import seasonal_series, sign_of_early_sum, windows
from .tasks import adding_problem, copy_task, delayed_recall, sequential_digits

__all__ = ["mackey_glass", "seasonal_series", "sign_of_early_sum", "windows"]
__all__ += ["tasks", "adding_problem", "copy_task", "delayed_recall", "sequential_digits"]
__all__ += ["load_airline", "load_co2"]
