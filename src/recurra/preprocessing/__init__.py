"""``keras.preprocessing`` as Keras 3 keeps it for older code: the same functions as ``recurra.utils``.

>>> from recurra.preprocessing.sequence import pad_sequences
>>> pad_sequences([[1, 2], [3]]).tolist()
[[1, 2], [0, 3]]
"""

from ..utils import timeseries_dataset_from_array
from . import sequence

__all__ = ["sequence", "timeseries_dataset_from_array"]
