"""Keras 3 itself (on its torch backend) as the reference the layers are compared with.

``same_as_keras(ours, theirs, inputs)`` copies recurra's weights (random values in every one) into the
Keras layer through ``set_weights`` (so the two agree on Keras's layout), runs both in float64 on the
same inputs and returns the largest absolute difference of the outputs.
"""

from __future__ import annotations

import os
from typing import Any

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402  (the backend is chosen before the import)
import numpy as np  # noqa: E402
import torch  # noqa: E402

assert keras.backend.backend() == "torch", "Keras must run on its torch backend here"

TOLERANCE = 1e-6  # Keras equality with copied weights, float64
# Keras 3.15's ops.matmul on its torch backend returns float32 for float64 inputs, so Keras's own results
# through it (SimpleRNNCell, cells written with keras.ops.matmul) carry float32 rounding; recurra's are
# compared with exact float64 references as well where this tolerance is used.
MATMUL_TOLERANCE = 1e-5


def _numpy(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_numpy(v) for v in value]
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def _torch(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_torch(v) for v in value]
    return torch.as_tensor(np.asarray(value))


def randomize(layer: Any, seed: int = 5, positive: tuple[int, ...] = ()) -> None:
    """Random values in every Keras-layout weight; those at ``positive`` (variances) kept above 0.1."""
    rng = np.random.default_rng(seed)
    fresh = [rng.normal(0.0, 0.5, size=w.shape) for w in layer.get_weights()]
    for i in positive:
        fresh[i] = np.abs(fresh[i]) + 0.1
    layer.set_weights(fresh)


def same_as_keras(
    ours: Any,
    theirs: Any,
    inputs: Any,
    *,
    call: dict | None = None,
    keras_call: dict | None = None,
    positive: tuple[int, ...] = (),
) -> float:
    """Largest |ours - theirs| over the outputs, both layers float64 with recurra's (randomised) weights.

    ``call``: keyword arguments for both calls (a ``mask`` is given as a bool array); ``keras_call``:
    more for the Keras call only (``training=True``)."""
    call = dict(call or {})
    x64 = _torch(inputs)
    x64 = [t.double() if t.is_floating_point() else t for t in x64] if isinstance(x64, list) else x64
    if isinstance(x64, torch.Tensor) and x64.is_floating_point():
        x64 = x64.double()
    ours_call = {k: _torch(v) for k, v in call.items()}
    theirs_call = {k: _numpy(v) for k, v in call.items()}
    theirs_call.update(keras_call or {})
    x_np = _numpy(x64)
    ours(x64, **ours_call)  # builds in float64
    theirs(x_np, **theirs_call)  # builds
    if ours.get_weights():
        randomize(ours, positive=positive)
    theirs.set_weights(ours.get_weights())  # before either runs again (training updates moving statistics)
    y_ours = ours(x64, **ours_call)
    y_theirs = theirs(x_np, **theirs_call)
    return float(np.max(np.abs(_numpy(y_ours) - keras.ops.convert_to_numpy(y_theirs))))


__all__ = ["keras", "same_as_keras", "randomize", "TOLERANCE", "MATMUL_TOLERANCE"]
