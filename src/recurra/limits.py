"""The largest sizes recurra accepts, checked before anything is allocated.

A configuration that comes from a file (or a typo) must not be able to ask for terabytes or nest
without end: every size below is checked where it is given (constructors, settings, files) and a
value beyond it is refused with a ``ConfigError`` naming the key, the value and the limit.
"""

from __future__ import annotations

MAX_UNITS = 65_536  # units of one layer; an LSTM of this width already holds 2**34 weights (64 GiB in float32)
MAX_FEATURES = 1_048_576  # input features, embedding sizes, vocabularies, output sizes
MAX_LAYERS = 256  # stacked layers in one network or estimator
MAX_STEPS = 10_000_000  # lookback, horizon, sequence lengths and step counts
MAX_EPOCHS = 1_000_000
MAX_VALUE = 3.4028234663852886e38  # the largest float32: data beyond it cannot be trained on (it becomes inf)
MAX_JSON_DEPTH = 32  # nesting of lists and objects in a config.json (a model of nested wrappers uses about 8)
MAX_JSON_BYTES = 256 * 1024 * 1024  # a config.json, scaler.json or vocab.json larger than this is refused unread

__all__ = ["MAX_VALUE", "MAX_UNITS", "MAX_FEATURES", "MAX_LAYERS", "MAX_STEPS", "MAX_EPOCHS", "MAX_JSON_DEPTH", "MAX_JSON_BYTES"]
