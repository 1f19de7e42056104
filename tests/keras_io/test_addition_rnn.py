"""keras-io ``examples/nlp/addition_rnn.py`` ("Sequence to sequence learning for performing number
addition"): an LSTM encoder, ``RepeatVector``, an LSTM decoder and a softmax ``Dense`` on one-hot digits.

Changed besides the imports (``from tensorflow import keras`` -> ``import recurra as keras``) and the data:

- sizes: ``TRAINING_SIZE`` 50000 -> 600, ``DIGITS`` 3 -> 2, 2 training iterations instead of 29, 3 validation
  samples shown per iteration instead of 10; the random generators are seeded (``keras.utils.set_random_seed``);
- ``print`` of the samples replaced by assertions on what they print.

Everything else (``CharacterTable``, the generation of the questions, the model, ``compile``, ``summary``, the
training loop with ``fit(validation_data=...)`` and ``predict``) is the example's code.
"""

# ruff: noqa: B007, UP032 (the example's code, kept as it is written)

from __future__ import annotations

import numpy as np

import recurra as keras
from recurra import layers

TRAINING_SIZE = 600
DIGITS = 2
REVERSE = True
MAXLEN = DIGITS + 1 + DIGITS


class CharacterTable:
    """The example's table: one-hot encoding and decoding of characters."""

    def __init__(self, chars):
        self.chars = sorted(set(chars))
        self.char_indices = dict((c, i) for i, c in enumerate(self.chars))
        self.indices_char = dict((i, c) for i, c in enumerate(self.chars))

    def encode(self, C, num_rows):
        x = np.zeros((num_rows, len(self.chars)))
        for i, c in enumerate(C):
            x[i, self.char_indices[c]] = 1
        return x

    def decode(self, x, calc_argmax=True):
        if calc_argmax:
            x = x.argmax(axis=-1)
        return "".join(self.indices_char[x] for x in x)


def test_addition_rnn_trains_and_answers_in_digits():
    keras.utils.set_random_seed(1337)
    chars = "0123456789+ "
    ctable = CharacterTable(chars)

    questions = []
    expected = []
    seen = set()
    while len(questions) < TRAINING_SIZE:
        f = lambda: int("".join(np.random.choice(list("0123456789")) for i in range(np.random.randint(1, DIGITS + 1))))  # noqa: E731
        a, b = f(), f()
        key = tuple(sorted((a, b)))
        if key in seen:
            continue
        seen.add(key)
        q = "{}+{}".format(a, b)
        query = q + " " * (MAXLEN - len(q))
        ans = str(a + b)
        ans += " " * (DIGITS + 1 - len(ans))
        if REVERSE:
            query = query[::-1]
        questions.append(query)
        expected.append(ans)

    x = np.zeros((len(questions), MAXLEN, len(chars)), dtype=np.bool)
    y = np.zeros((len(questions), DIGITS + 1, len(chars)), dtype=np.bool)
    for i, sentence in enumerate(questions):
        x[i] = ctable.encode(sentence, MAXLEN)
    for i, sentence in enumerate(expected):
        y[i] = ctable.encode(sentence, DIGITS + 1)

    indices = np.arange(len(y))
    np.random.shuffle(indices)
    x = x[indices]
    y = y[indices]

    split_at = len(x) - len(x) // 10
    (x_train, x_val) = x[:split_at], x[split_at:]
    (y_train, y_val) = y[:split_at], y[split_at:]

    num_layers = 1
    model = keras.Sequential()
    model.add(layers.LSTM(128, input_shape=(MAXLEN, len(chars))))
    model.add(layers.RepeatVector(DIGITS + 1))
    for _ in range(num_layers):
        model.add(layers.LSTM(128, return_sequences=True))
    model.add(layers.Dense(len(chars), activation="softmax"))
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    table = model.summary()
    # Keras's count: 4 * (128 * (12 + 128) + 128) + 4 * (128 * (128 + 128) + 128) + (128 * 12 + 12)
    assert "205,324" in table and "RepeatVector" in table

    epochs = 3
    batch_size = 32
    losses = []
    for epoch in range(1, epochs):
        history = model.fit(x_train, y_train, batch_size=batch_size, epochs=1, validation_data=(x_val, y_val))
        losses.append(history.history["loss"][0])
        assert np.isfinite(history.history["val_loss"][0]) and 0.0 <= history.history["val_accuracy"][0] <= 1.0
        for i in range(3):
            ind = np.random.randint(0, len(x_val))
            rowx, rowy = x_val[np.array([ind])], y_val[np.array([ind])]
            preds = np.argmax(model.predict(rowx), axis=-1)
            q = ctable.decode(rowx[0])
            correct = ctable.decode(rowy[0])
            guess = ctable.decode(preds[0], calc_argmax=False)
            assert preds.shape == (1, DIGITS + 1)
            assert "+" in q and len(correct) == len(guess) == DIGITS + 1 and set(guess) <= set(chars)
    assert np.all(np.isfinite(losses)) and losses[1] < losses[0]
