"""keras-io ``examples/generative/lstm_character_level_text_generation.py`` ("Character-level text generation
with LSTM"): a one-layer LSTM predicting the next character of 40-character windows, and sampling with a
temperature.

Changed besides the imports (``from tensorflow import keras`` -> ``import recurra as keras``) and the data:

- data: Nietzsche's writings (a download via ``keras.utils.get_file``) replaced by the first 1500 characters
  of recurra's Spanish proverbs (``src/recurra/text/corpora/refranes.txt``), read by the example's own code;
  ``epochs`` 40 -> 2, 40 characters generated per
  diversity instead of 400, two diversities (0.2, 1.0) instead of four; the random generators are seeded
  (``keras.utils.set_random_seed``);
- ``sys.stdout.write`` of the generated text replaced by assertions on it.
"""

# ruff: noqa: B007, UP020 (the example's code, kept as it is written)

from __future__ import annotations

import io
import random
from pathlib import Path

import numpy as np

import recurra
import recurra as keras
from recurra import layers

CORPUS = Path(recurra.__file__).parent / "text" / "corpora" / "refranes.txt"


def sample(preds, temperature=1.0):
    # helper function to sample an index from a probability array
    preds = np.asarray(preds).astype("float64")
    preds = np.log(preds) / temperature
    exp_preds = np.exp(preds)
    preds = exp_preds / np.sum(exp_preds)
    probas = np.random.multinomial(1, preds, 1)
    return np.argmax(probas)


def test_character_level_lstm_learns_and_generates_text():
    keras.utils.set_random_seed(1337)
    path = CORPUS
    with io.open(path, encoding="utf-8") as f:
        text = f.read().lower()[:1500]

    chars = sorted(list(set(text)))
    char_indices = dict((c, i) for i, c in enumerate(chars))
    indices_char = dict((i, c) for i, c in enumerate(chars))

    maxlen = 40
    step = 3
    sentences = []
    next_chars = []
    for i in range(0, len(text) - maxlen, step):
        sentences.append(text[i : i + maxlen])
        next_chars.append(text[i + maxlen])

    x = np.zeros((len(sentences), maxlen, len(chars)), dtype=np.bool)
    y = np.zeros((len(sentences), len(chars)), dtype=np.bool)
    for i, sentence in enumerate(sentences):
        for t, char in enumerate(sentence):
            x[i, t, char_indices[char]] = 1
        y[i, char_indices[next_chars[i]]] = 1

    model = keras.Sequential(
        [
            keras.Input(shape=(maxlen, len(chars))),
            layers.LSTM(128),
            layers.Dense(len(chars), activation="softmax"),
        ]
    )
    optimizer = keras.optimizers.RMSprop(learning_rate=0.01)
    model.compile(loss="categorical_crossentropy", optimizer=optimizer)

    epochs = 2
    batch_size = 128
    losses = []
    for epoch in range(epochs):
        losses += model.fit(x, y, batch_size=batch_size, epochs=1).history["loss"]

        start_index = random.randint(0, len(text) - maxlen - 1)
        for diversity in [0.2, 1.0]:
            generated = ""
            sentence = text[start_index : start_index + maxlen]
            generated += sentence
            for i in range(40):
                x_pred = np.zeros((1, maxlen, len(chars)))
                for t, char in enumerate(sentence):
                    x_pred[0, t, char_indices[char]] = 1.0

                preds = model.predict(x_pred, verbose=0)[0]
                assert preds.shape == (len(chars),) and abs(float(preds.sum()) - 1.0) < 1e-5
                next_index = sample(preds, diversity)
                next_char = indices_char[next_index]

                sentence = sentence[1:] + next_char
                generated += next_char
            assert len(generated) == maxlen + 40 and set(generated) <= set(chars)
            assert generated.startswith(text[start_index : start_index + maxlen])

    assert np.all(np.isfinite(losses)) and losses[1] < losses[0]
