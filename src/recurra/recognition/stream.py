"""Transcribing while the frames arrive: a one-way recogniser's states carried from block to block.

>>> import numpy as np
>>> from recurra import CTCRecognizer
>>> rng = np.random.default_rng(0)
>>> X = [rng.normal(size=(int(rng.integers(12, 30)), 3)) for _ in range(16)]
>>> model = CTCRecognizer("gru", 8, layers=1, bidirectional=False, subsample=2, epochs=1, validation=0.0)
>>> model = model.fit(X, ["ab" if i % 2 else "ba" for i in range(16)])
>>> stream = model.stream()
>>> for a in range(0, len(X[0]), 5):
...     _ = stream.update(X[0][a : a + 5])
>>> stream.finish() == model.transcribe([X[0]])[0]
True

The front end's strided convolutions look ahead: with ``subsample`` ``s`` the ``u``-th output needs the
input frames up to ``s u + s - 1``, so ``update`` runs the recurrent layers on every output whose frames
have all arrived (``⌊n / s⌋`` of ``n`` frames; ``⌊n / s⌋ - L`` with a ``lookahead`` of ``L``, whose stage
reads ``L`` subsampled outputs further) and ``finish`` on the rest, padded at the end as in ``transcribe``.
With a ``head_lookahead`` ``R`` the head writes step ``u`` once the recurrent layers have read step ``u + R``:
their last ``R`` outputs wait in ``pending``. With a ``chunk`` ``C`` the recurrent layers read whole chunks of
``C`` front-end outputs (their backward direction needs a chunk's last step): the rest waits in ``waiting``.
The convolutions are recomputed over the last ``s`` frames before the new ones only; the greedy decoding
goes on from the last label, so the text equals ``transcribe``'s for the whole sequence.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from ..ctc.alphabet import BLANK
from ..errors import ConfigError, NotBuiltError
from ..layers.stepper import advance_layers


class RecognizerStream:
    """Feeds a fitted one-way ``CTCRecognizer`` blocks of frames ``(n, F)``; ``update`` returns the text so far."""

    def __init__(self, recognizer: Any) -> None:  # a CTCRecognizer
        if not recognizer.fitted:
            raise NotBuiltError("stream() needs a fitted recogniser; call fit() first")
        if recognizer.bidirectional:
            raise ConfigError("stream() needs one-way layers (bidirectional=False): a bidirectional layer reads the future")
        self.recognizer = recognizer
        self.factor = int(recognizer.subsample)
        self.ahead = int(recognizer.lookahead)
        self.reset()

    def reset(self) -> None:
        """Forget the sequence seen so far."""
        self.frames = np.zeros((0, self.recognizer.features_))  # the frames not yet behind the front end's reach
        self.offset = 0  # the index of self.frames[0] in the whole sequence
        self.done = 0  # front-end outputs already computed
        self.states: list[Any] = [None] * len(self.recognizer.network_.rnns)
        self.pending: torch.Tensor | None = None  # (1, n, H): recurrent outputs the head has not read past yet
        self.waiting: torch.Tensor | None = None  # (1, n, C): front-end outputs short of a whole chunk
        self.ids: list[int] = []
        self.last = BLANK
        self.log_probs: list[np.ndarray] = []

    @torch.no_grad()
    def _advance(self, final: bool) -> None:
        rec, net, s = self.recognizer, self.recognizer.network_, self.factor
        n = self.offset + len(self.frames)
        ready = -(-n // s) if final else n // s - self.ahead  # outputs whose frames have all arrived (all at the end)
        if ready > self.done and n > 0:
            a = max(s * (self.done - 1), 0)  # the window starts one output early: its first output lacks left context
            net.eval()
            x = rec._tensor([self.frames[a - self.offset :]])  # (1, n - a, F + 1)
            h = net.frames(x)[0][:, self.done - a // s : ready - a // s]  # (1, new, C)
            self.done = ready
            keep = max(s * (self.done - 1), 0)
            self.frames, self.offset = self.frames[keep - self.offset :], keep
            self._write(self._recur(h, final), final)
        elif final:
            self._write(self._recur(None, final), final)

    def _recur(self, h: torch.Tensor | None, final: bool) -> torch.Tensor | None:
        """The recurrent layers over the new front-end outputs ``h`` ``(1, new, C)``; with chunked layers over
        the whole chunks waiting (and the last, shorter one at the end) only."""
        net = self.recognizer.network_
        if not net.chunk:
            if h is None:
                return None
            h, self.states = advance_layers(net.rnns, h, self.states)  # (1, new, H)
            return h
        parts = [p for p in (self.waiting, h) if p is not None]
        if not parts:
            return None
        h = torch.cat(parts, 1)  # (1, waiting + new, C)
        whole = h.shape[1] if final else h.shape[1] - h.shape[1] % net.chunk
        self.waiting = h[:, whole:] if whole < h.shape[1] else None
        if whole == 0:
            return None
        h = h[:, :whole]  # (1, whole chunks, C)
        for i, layer in enumerate(net.rnns):
            out = layer(h, initial_state=self.states[i])
            h, self.states[i] = out[0], list(out[1:])  # (1, whole, 2H), the forward direction's state
        return h

    def _write(self, h: torch.Tensor | None, final: bool) -> None:
        """Decode the recurrent outputs ``h`` ``(1, new, H)``, through the head's look-ahead if it has one."""
        net = self.recognizer.network_
        if net.head_ahead is not None:
            parts = [p for p in (self.pending, h) if p is not None]
            if not parts:
                return
            h = torch.cat(parts, 1)  # (1, pending + new, H)
            if final or h.shape[1] > net.head_lookahead:
                self.pending = None if final else h[:, h.shape[1] - net.head_lookahead :]  # (1, R, H)
                h = net.read_ahead(h, final)  # (1, pending + new - R, H); all of them at the end
            else:
                self.pending, h = h, None
        if h is None or h.shape[1] == 0:
            return
        log_probs = net.head(h)[0]  # (new, K)
        self.log_probs.append(log_probs.double().numpy())
        for k in log_probs.argmax(-1).tolist():
            if k != BLANK and k != self.last:
                self.ids.append(k)
            self.last = k

    def update(self, frames: Any) -> str:
        """Read the new ``frames`` ``(n, F)``; the text recognised so far."""
        block = np.asarray(frames, dtype=np.float64)
        if block.ndim == 2 and len(block) == 0:
            return self.text
        (block,) = self.recognizer._frame_sequences([block])
        self.frames = np.concatenate([self.frames, block])
        self._advance(final=False)
        return self.text

    def finish(self) -> str:
        """Read the last frames (the end of the sequence); the whole text. Call ``reset`` before the next."""
        self._advance(final=True)
        return self.text

    @property
    def log_probabilities(self) -> np.ndarray:
        """CTC's log-probabilities of the frames read so far, ``(T', K)`` (as ``log_probabilities`` gives)."""
        return np.concatenate(self.log_probs) if self.log_probs else np.zeros((0, len(self.recognizer.alphabet_)))

    @property
    def text(self) -> str:
        """The text recognised so far."""
        return self.recognizer.alphabet_.decode(self.ids)
