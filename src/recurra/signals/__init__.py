"""Measured signals as sequences: sensor readings from long tables, and plots of labels given step by step."""

from .long_format import LongSequences, read_long_sequences
from .plots import plot_step_labels

__all__ = ["LongSequences", "plot_step_labels", "read_long_sequences"]
