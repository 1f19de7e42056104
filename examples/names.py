"""New first names, one character at a time: a character-level LSTM trained on 5,163 first names
(1990 US Census, bundled), then sampled at temperature 0.8.

Run: ``python examples/names.py``. ``python benchmarks/text.py --only names`` trains longer and reports
the share of new names and how close their letter pairs are to the list's.
"""

import random

import torch

from recurra import LanguageModel
from recurra.text import load_names

torch.set_num_threads(1)  # a model this small gains nothing from more threads

names = load_names()  # alphabetical: shuffled so that the held-out 10% are not all from the end of the alphabet
random.Random(0).shuffle(names)
lm = LanguageModel(level="char", cell="lstm", units=64, embedding=16, bptt=32, window=64, batch_size=16, epochs=3,
                   learning_rate=1e-2, seed=0)  # fmt: skip
lm.fit(names)  # each name is one line: <start> letters <end>

made = [lm.generate(temperature=0.8, seed=i, length=20) for i in range(100)]
known = {n.lower() for n in names}
new = [m for m in made if m and m.lower() not in known]
print("generated:", ", ".join(made[:15]))
print(f"{len(new)} of {len(made)} are not in the list; validation bits per character {lm.metrics_['bits_per_char']:.2f}")
print(f"held-out accuracy: {lm.metrics_['accuracy']:.3f} (the next letter of a held-out name is the most likely one)")
