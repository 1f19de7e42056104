"""keras-io ``examples/nlp/bidirectional_lstm_imdb.py`` ("Bidirectional LSTM on IMDB"): ``Embedding`` and two
``Bidirectional(LSTM)`` layers on variable-length integer sequences, functional API.

Changed besides the imports (``from tensorflow import keras`` -> ``import recurra as keras``) and the data:

- data: ``keras.datasets.imdb.load_data`` (a download) replaced by generated reviews: random token ids of
  random lengths, labelled by whether "positive" ids (the upper half of the vocabulary) outnumber the others;
  ``max_features`` 20000 -> 1000, ``maxlen`` 200 -> 60, 96 + 32 reviews;
- assertions added on the summary, the losses (with an ``evaluate`` before and after ``fit``) and ``predict``.
"""

from __future__ import annotations

import numpy as np

import recurra as keras
from recurra import layers

max_features = 1000
maxlen = 60


def _reviews(rng: np.random.Generator, n: int) -> tuple[list[list[int]], np.ndarray]:
    sequences = [list(rng.integers(1, max_features, size=rng.integers(10, 90))) for _ in range(n)]
    labels = np.array([int(np.mean(np.array(s) >= max_features // 2) > 0.5) for s in sequences])
    return sequences, labels


def test_bidirectional_lstm_on_imdb_like_reviews():
    rng = np.random.default_rng(0)

    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(max_features, 128)(inputs)
    x = layers.Bidirectional(layers.LSTM(64, return_sequences=True))(x)
    x = layers.Bidirectional(layers.LSTM(64))(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    model = keras.Model(inputs, outputs)
    table = model.summary()
    # Keras's counts: 1000 * 128; 2 * 4 * (64 * (128 + 64) + 64); 2 * 4 * (64 * (128 + 64) + 64); 128 + 1
    assert "128,000" in table and table.count("98,816") == 2 and "129" in table

    (x_train, y_train), (x_val, y_val) = _reviews(rng, 96), _reviews(rng, 32)
    x_train = keras.preprocessing.sequence.pad_sequences(x_train, maxlen=maxlen)
    x_val = keras.preprocessing.sequence.pad_sequences(x_val, maxlen=maxlen)
    assert x_train.shape == (96, maxlen) and x_train.dtype == np.int32

    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    before, _ = model.evaluate(x_train, y_train, verbose=0)
    history = model.fit(x_train, y_train, batch_size=32, epochs=2, validation_data=(x_val, y_val))

    loss = history.history["loss"]
    assert np.all(np.isfinite(loss)) and np.all(np.isfinite(history.history["val_loss"]))
    assert loss[1] < loss[0] and model.evaluate(x_train, y_train, verbose=0)[0] < before
    assert 0.0 <= history.history["val_accuracy"][-1] <= 1.0
    probabilities = model.predict(x_val)
    assert probabilities.shape == (32, 1) and np.all((probabilities > 0) & (probabilities < 1))
    # the input has a free length: shorter padding runs through the same model
    assert model.predict(keras.utils.pad_sequences(x_val[:, -20:].tolist(), maxlen=20)).shape == (32, 1)
