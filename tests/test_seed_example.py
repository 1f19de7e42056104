"""The seed's Keras example, with only the import changed, runs and learns."""

from __future__ import annotations

import numpy as np

import recurra
from recurra import Dense, Sequential, SimpleRNN

timesteps, features = 20, 3


def make_task(seed: int, n: int = 800) -> tuple[np.ndarray, np.ndarray]:
    """Label: the sign of the sum of the first 5 steps of feature 0 (samples too close to 0 left out)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2 * n, timesteps, features)).astype(np.float32)
    s = x[:, :5, 0].sum(1)
    keep = np.abs(s) > 1.0
    return x[keep][:n], (s[keep][:n] > 0).astype(np.float32)


def test_seed_keras_example_learns():
    recurra.set_seed(0)
    x, y = make_task(0)
    x_train, y_train, x_test, y_test = x[:600], y[:600], x[600:], y[600:]
    assert len(x_test) == 200

    # --- the seed's example, verbatim except for the import ---
    model = Sequential()
    model.add(SimpleRNN(64, input_shape=(timesteps, features)))
    model.add(Dense(1, activation="sigmoid"))
    model.compile(optimizer="adam", loss="binary_crossentropy")
    # ----------------------------------------------------------

    history = model.fit(x_train, y_train, epochs=6, batch_size=32, verbose=0)
    assert len(history.history["loss"]) == 6
    assert history.history["loss"][-1] < 0.5 * history.history["loss"][0]

    p = model.predict(x_test)
    assert isinstance(p, np.ndarray) and p.shape == (200, 1)
    assert np.all((p >= 0) & (p <= 1))
    accuracy = float(((p[:, 0] > 0.5) == (y_test > 0.5)).mean())
    assert accuracy > 0.9, f"held-out accuracy {accuracy:.3f}"
