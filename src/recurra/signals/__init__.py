"""Measured signals as sequences: sensor readings from long tables."""

from .long_format import LongSequences, read_long_sequences

__all__ = ["LongSequences", "read_long_sequences"]
