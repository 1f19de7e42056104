"""``keras.preprocessing.sequence``: ``pad_sequences`` (the function of ``recurra.utils``)."""

from ..utils import pad_sequences

__all__ = ["pad_sequences"]
