"""Padded token sequences of different lengths: Embedding(mask_zero=True) + Bidirectional(LSTM).

Task (generated): each sequence holds 3 to 30 tokens from 1..9, padded with 0 at the end; the label says
whether token 7 occurs more often than token 3. The mask makes every sequence see only its own
tokens, whatever the padding. Run: ``python examples/variable_length_tokens.py``.
"""

import numpy as np

from recurra import LSTM, Bidirectional, Dense, Embedding, Sequential, set_seed

set_seed(0)
rng = np.random.default_rng(0)
n, max_len = 1500, 30
lengths = rng.integers(3, max_len + 1, size=n)
tokens = np.zeros((n, max_len), dtype=np.int64)
for i, L in enumerate(lengths):
    tokens[i, :L] = rng.integers(1, 10, size=L)
labels = ((tokens == 7).sum(1) > (tokens == 3).sum(1)).astype(np.float32)

model = Sequential([
    Embedding(10, 16, mask_zero=True),
    Bidirectional(LSTM(24)),
    Dense(1, activation="sigmoid"),
])
model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
model.fit(tokens[:1200], labels[:1200], epochs=8, batch_size=32, verbose=2, seed=0)
loss, accuracy = model.evaluate(tokens[1200:], labels[1200:], verbose=0)
print(f"held-out accuracy: {accuracy:.3f} (majority class: {max(labels[1200:].mean(), 1 - labels[1200:].mean()):.3f})")
