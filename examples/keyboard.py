"""The predictive keyboard: a word-level LSTM trained on the bundled Spanish proverbs suggests how to
finish the word being typed and which words come next.

Run: ``python examples/keyboard.py`` (under a minute on 2 CPU cores). A longer run with the figures is
``python benchmarks/text.py --only keyboard``.
"""

import torch

from recurra import LanguageModel
from recurra.text import bundled_text

torch.set_num_threads(1)  # a model this small gains nothing from more threads

proverbs = bundled_text("refranes")  # 4,995 proverbs from Debian's fortunes-es, one per line
lm = LanguageModel(level="word", cell="lstm", units=32, embedding=32, max_vocab=1000, bptt=32, window=64, batch_size=64, epochs=2)
lm.fit(proverbs)  # the last 10% of the lines are held out

for typed in ["Voy al parque con mi per", "Voy al parque con mi ", "Más vale pájaro en ma"]:
    s = lm.suggest(typed, k=3)
    if s.partial:
        print(f"{typed!r}: completions {[w for w, _ in s.completions]}, then {[w for w, _ in s.next_words]}")
    else:
        print(f"{typed!r}: next words {[w for w, _ in s.next_words]}")

m = lm.metrics_
print(f"validation perplexity {m['perplexity']:.0f}; the next word is the first suggestion {m['accuracy']:.1%} of the time")
print(f"held-out accuracy: {m['top3_accuracy']:.3f} (the next word is among the 3 suggestions)")
