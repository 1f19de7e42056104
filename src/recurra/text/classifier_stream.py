"""Labelling a sequence while it arrives: the classifier's recurrent states carried from block to block.

>>> import numpy as np
>>> from recurra import SequenceClassifier
>>> rng = np.random.default_rng(0)
>>> X = [rng.normal(size=(20, 3)) + (i % 2) for i in range(40)]
>>> clf = SequenceClassifier("gru", 8, epochs=2, validation=0.0).fit(X, [i % 2 for i in range(40)])
>>> stream = clf.stream()
>>> stream.update(X[0][:5]).shape  # one row of probabilities per new step
(5, 2)
>>> bool(np.allclose(stream.update(X[0][5:])[-1], clf.predict_proba([X[0]])[0], atol=1e-6))
True
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..errors import ConfigError, NotBuiltError
from ..layers.stepper import advance_layers
from .networks import causal_pool


class ClassifierStream:
    """Feeds a fitted ``SequenceClassifier`` (one-way layers, sequences of vectors) a block of steps at a time.

    ``update(frames)`` (``(n, F)``) returns ``(n, K)`` probabilities: row ``i`` is what ``predict_proba``
    gives the whole sequence seen so far, ending at that step. The layers' states and the pooling's running
    sum or maximum are carried between calls; ``reset()`` starts a new sequence.
    """

    def __init__(self, classifier: Any) -> None:  # a SequenceClassifier
        if not classifier.fitted:
            raise NotBuiltError("stream() needs a fitted classifier; call fit() first")
        if classifier.kind_ != "sequence":
            raise ConfigError(f"stream() labels sequences of vectors; this classifier was trained on {classifier.kind_}s")
        if classifier.bidirectional:
            raise ConfigError("stream() needs one-way layers (bidirectional=False): a bidirectional layer reads the future")
        self.classifier = classifier
        self.reset()

    def reset(self) -> None:
        """Forget the sequence seen so far."""
        self.states: list[list[torch.Tensor] | None] = [None] * len(self.classifier.network_.rnns)
        self.pool: tuple[torch.Tensor, torch.Tensor] | None = None
        self.steps = 0

    @torch.no_grad()
    def update(self, frames: Any) -> np.ndarray:
        """Class probabilities ``(n, K)`` after each of the ``n`` new steps ``frames`` ``(n, F)``."""
        net = self.classifier.network_
        net.eval()
        x = self.classifier._tensor([np.asarray(frames, dtype=np.float64)])[..., :-1]  # (1, n, F)
        h, self.states = advance_layers(net.rnns, x, self.states)  # (1, n, H)
        pooled = causal_pool(h, net.pooling, self.pool)  # (1, n, H)
        count = (self.pool[1] if self.pool is not None else torch.zeros(1, 1, dtype=h.dtype)) + h.shape[1]
        if net.pooling == "mean":
            self.pool = (pooled[:, -1] * count, count)
        elif net.pooling == "max":
            self.pool = (pooled[:, -1], count)
        self.steps += h.shape[1]
        return torch.softmax(net.out(pooled).double(), -1)[0].numpy()

    def label(self, probabilities: np.ndarray) -> list[Any]:
        """The labels of rows of probabilities (``update``'s output)."""
        return [self.classifier.classes_[i] for i in np.asarray(probabilities).argmax(-1)]
