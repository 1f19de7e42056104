"""Measured signals as sequences: sensor readings from long tables, pen trajectories, and their plots."""

from .long_format import LongSequences, read_long_sequences
from .pen import HERSHEY_FONTS, Hand, handwriting, pen_features, plain_text
from .plots import plot_pen, plot_step_labels

__all__ = [
    "HERSHEY_FONTS",
    "Hand",
    "LongSequences",
    "handwriting",
    "pen_features",
    "plain_text",
    "plot_pen",
    "plot_step_labels",
    "read_long_sequences",
]
