"""``LanguageModel``: a character- or word-level recurrent language model over a stream of text.

>>> lm = LanguageModel(level="char", cell="gru", units=16, embedding=8, epochs=1, bptt=8, window=16)
>>> lm = lm.fit(["hola mundo", "hola amigo"] * 20)
>>> isinstance(lm.generate(prime="ho", length=5, seed=0), str)
True

Training: every non-empty line becomes ``<start> tokens <end>``; the lines are joined into one stream,
the last ``validation`` fraction of the lines held out. The training stream is cut into rows of
``window`` tokens (targets: the same stream one token later), and recurra's engine trains them with
truncated backpropagation through time (``fit(..., tbptt=bptt)``): the state is carried across the
``window / bptt`` chunks of a row and gradients reach back ``bptt`` steps.

Generation steps the recurrent state one token at a time: the prime is read once, then each new token
costs one step (the prefix is never recomputed).
"""

from __future__ import annotations

import bisect
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Sequence

import numpy as np
import torch

from ..cells import step_kernel
from ..checks import Boolean, Integer, Number, OneOf
from ..errors import ConfigError, InputValueError, ModelFileError
from ..estimator import Estimator, setting
from ..io import build_from_config
from ..limits import MAX_EPOCHS, MAX_FEATURES, MAX_LAYERS, MAX_STEPS, MAX_UNITS
from ..registry import register_format
from ..train.losses import SparseCategoricalCrossentropy
from ..train.optimizers import Adam
from ..train.trainer import Trainer, set_seed
from .datasets import read_text_file
from .generation import check_sampling, pick
from .networks import CELLS, LanguageNetwork, State, check_cell
from .storage import WEIGHTS_FILE, load_module_state, read_text_directory, save_text_directory
from .tokenizers import WordTokenizer, make_tokenizer, split_lines, tokenizer_from_config
from .vocab import Vocabulary

FORMAT = "recurra.language_model"
LN2 = math.log(2.0)


@dataclass
class Suggestions:
    """What ``LanguageModel.suggest`` returns.

    ``partial``: the word being typed ("" after a space). ``completions``: words that start with it, with
    their probability as the next word. ``next_words``: the most likely words after the text (after the
    best completion when a word is being typed), with probabilities.
    """

    partial: str
    completions: list[tuple[str, float]] = field(default_factory=list)
    next_words: list[tuple[str, float]] = field(default_factory=list)


def _positive_int(name: str, value: Any) -> int:
    Integer(1)(name, value)
    return int(value)


LEVELS = ("char", "word")
SIZE = Integer(1, MAX_FEATURES, optional=True)
COUNT = Integer(1, optional=True)
RATE = Number(0, 1, open_max=True)
POSITIVE_OR_NONE = Number(0, open_min=True, optional=True)


@dataclass(eq=False, repr=False)
class LanguageModel(Estimator):
    """A recurrent language model over characters or words.

    The settings below are stored as given and checked together (``recurra.estimator``); a ``None``
    among them takes the default for the ``level`` (see each one). ``fit`` learns ``tokenizer_``,
    ``vocab_``, ``network_``, ``history_`` (the losses per epoch) and ``metrics_`` (the validation
    perplexity and bits per token, and per character).
    """

    level: str = setting("char", "the tokens: char, or word (words and punctuation marks)", OneOf(LEVELS), kw_only=False)
    cell: str = setting("lstm", "the recurrent cell (lstm, gru, rnn, indrnn, mingru, minlstm)", kw_only=False)
    units: int = setting(128, "units per recurrent layer", Integer(1, MAX_UNITS), kw_only=False)
    layers: int = setting(1, "stacked recurrent layers", Integer(1, MAX_LAYERS), kw_only=False)
    embedding: int | None = setting(None, "size of the token vectors (None: 32 for char, 64 for word)", SIZE, kw_only=False)
    dropout: float = setting(0.0, "dropout on the embeddings, between layers and before the output", RATE, kw_only=False)
    tie_weights: bool = setting(False, "share the embedding matrix with the output layer", Boolean(), kw_only=False)
    lower: bool | None = setting(None, "lowercase the text (None: no for char, yes for word)", Boolean(optional=True))
    min_count: int | None = setting(None, "keep tokens seen this often (None: 1 for char, 2 for word)", COUNT)
    max_vocab: int | None = setting(None, "keep at most this many tokens; the rest become <unk>", SIZE)
    bptt: int = setting(64, "truncated-BPTT length: steps a gradient reaches back", Integer(1, MAX_STEPS))
    window: int | None = setting(None, "tokens per training row, the state carried across its chunks (None: 4 x bptt)",
                                 Integer(1, MAX_STEPS, optional=True))  # fmt: skip
    batch_size: int = setting(32, "rows per batch", Integer(1, MAX_STEPS))
    epochs: int = setting(10, "training epochs", Integer(0, MAX_EPOCHS))
    learning_rate: float = setting(2e-3, "Adam's learning rate", Number(0, open_min=True))
    clipnorm: float | None = setting(1.0, "the largest gradient norm (None: no clipping)", POSITIVE_OR_NONE)
    validation: float = setting(0.1, "the share of lines held out to measure perplexity", RATE)
    seed: int = setting(0, "the random seed (the same seed repeats a run)", Integer())

    fitted_attribute: ClassVar[str] = "network_"
    renamed: ClassVar[dict[str, str]] = {
        "tokenizer": "tokenizer_",
        "vocab": "vocab_",
        "network": "network_",
        "history": "history_",
        "metrics": "metrics_",
    }

    def __post_init__(self) -> None:
        super().__post_init__()
        self._cache: tuple[tuple[int, ...], State, torch.Tensor] | None = None
        self._sorted_words: list[tuple[str, int]] | None = None

    def check_together(self) -> None:
        check_cell(self.cell)
        if self.window_length < self.bptt:
            raise ConfigError(f"expected window >= bptt ({self.bptt}), got {self.window_length}")

    # -- the settings a None leaves to the level ---------------------------------------------------
    @property
    def embedding_size(self) -> int:
        return int(self.embedding) if self.embedding is not None else (32 if self.level == "char" else 64)

    @property
    def lowercase(self) -> bool:
        return (self.level == "word") if self.lower is None else bool(self.lower)

    @property
    def min_token_count(self) -> int:
        return int(self.min_count) if self.min_count is not None else (1 if self.level == "char" else 2)

    @property
    def window_length(self) -> int:
        return int(self.window) if self.window is not None else 4 * int(self.bptt)

    def _network(self) -> LanguageNetwork:
        """The network these settings and the learned vocabulary describe."""
        return LanguageNetwork(
            len(self.vocab_),
            cell=self.cell,
            units=self.units,
            layers=self.layers,
            embedding=self.embedding_size,
            dropout=self.dropout,
            tie_weights=self.tie_weights,
        )

    def get_config(self) -> dict[str, Any]:
        """The settings as JSON values (what a saved model records)."""
        return self.get_params()

    def _run_settings(self) -> dict[str, Any]:
        """The settings a checkpoint's run is compared by: the values in effect (a None resolved), not epochs."""
        settings = self.get_params()
        del settings["epochs"]
        settings.update(embedding=self.embedding_size, lower=self.lowercase, min_count=self.min_token_count)
        settings.update(window=self.window_length)
        return settings

    @classmethod
    def load(cls, path: str | os.PathLike) -> LanguageModel:
        """A language model saved by ``save`` (the same as ``recurra.load(path)``)."""
        return load_language_model(path)

    # -- data -------------------------------------------------------------------------------------
    @staticmethod
    def _gather(texts: str | Sequence[str] | None, files: str | os.PathLike | Sequence[str | os.PathLike] | None) -> list[str]:
        docs: list[str] = []
        if texts is not None:
            if isinstance(texts, str):
                docs.append(texts)
            else:
                for i, t in enumerate(texts):
                    if not isinstance(t, str):
                        raise InputValueError(f"expected texts as strings, got {type(t).__name__} at position {i}")
                    docs.append(t)
        if files is not None:
            paths = [files] if isinstance(files, (str, os.PathLike)) else list(files)
            docs += [read_text_file(p) for p in paths]
        if texts is None and files is None:
            raise InputValueError("expected texts=... (strings) or files=... (paths of UTF-8 text files), got neither")
        return docs

    def _lines(self, docs: list[str]) -> list[list[str]]:
        """Each non-empty line as its tokens."""
        return [toks for d in docs for line in split_lines(d) if (toks := self.tokenizer_.tokenize(line))]

    def _stream(self, lines: list[list[str]]) -> np.ndarray:
        v = self.vocab_
        out: list[int] = []
        for toks in lines:
            out.append(v.start_id)
            out += v.encode(toks)
            out.append(v.end_id)
        return np.asarray(out, dtype=np.int64)

    def _rows(self, stream: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
        n = (len(stream) - 1) // window
        x = stream[: n * window].reshape(n, window)  # (N, W)
        y = stream[1 : n * window + 1].reshape(n, window)  # (N, W): the next token
        return x, y

    # -- training ---------------------------------------------------------------------------------
    def fit(
        self,
        texts: str | Sequence[str] | None = None,
        *,
        files: str | os.PathLike | Sequence[str | os.PathLike] | None = None,
        epochs: int | None = None,
        verbose: int = 0,
        checkpoint_dir: str | os.PathLike | None = None,
        resume: bool = False,
        callbacks: Sequence[Any] | None = None,
    ) -> LanguageModel:
        """Train on ``texts`` (strings) and/or ``files`` (UTF-8 text files); returns ``self``.

        ``checkpoint_dir`` / ``resume=True``: checkpoints every epoch and continuation after an interruption
        (recurra's engine). ``history`` holds the losses per epoch; ``metrics`` the validation perplexity
        and bits per token (and per character).
        """
        docs = self._gather(texts, files)
        self.tokenizer_ = make_tokenizer(self.level, self.lowercase)
        lines = self._lines(docs)
        if not lines:
            raise InputValueError("expected some text to train on, got only empty lines")
        n_val = int(round(len(lines) * self.validation)) if self.validation else 0
        if self.validation and (n_val == 0 or n_val == len(lines)):
            raise InputValueError(
                f"validation={self.validation} of {len(lines)} lines leaves an empty split: give more lines or validation=0"
            )
        train_lines, val_lines = (lines[:-n_val], lines[-n_val:]) if n_val else (lines, [])
        self.vocab_ = Vocabulary.build(train_lines, min_count=self.min_token_count, max_size=self.max_vocab)
        self._sorted_words = None
        self._cache = None
        stream = self._stream(train_lines)
        if len(stream) - 1 < self.window_length:
            raise InputValueError(
                f"expected a corpus of at least {self.window_length + 1} {self.level} tokens (one training sequence of window="
                f"{self.window_length} steps plus its target), got {len(stream)} (with <start>/<end> around each line); "
                "give more text or a smaller window="
            )
        x, y = self._rows(stream, self.window_length)
        validation_data = None
        if val_lines:
            vs = self._stream(val_lines)
            xv, yv = self._rows(vs, min(self.window_length, len(vs) - 1))
            validation_data = (xv, yv)
        set_seed(self.seed)
        self.network_ = self._network()
        trainer = Trainer(self.network_)
        trainer.compile(
            Adam(learning_rate=self.learning_rate), SparseCategoricalCrossentropy(from_logits=True), clipnorm=self.clipnorm
        )
        history = trainer.fit(
            x, y, batch_size=self.batch_size, epochs=self.epochs if epochs is None else int(epochs), verbose=verbose,
            validation_data=validation_data, shuffle=True, seed=self.seed, tbptt=self.bptt, callbacks=callbacks,
            checkpoint_dir=checkpoint_dir, resume=resume, settings=self._run_settings(),
        )  # fmt: skip
        self.network_.eval()
        self.history_ = {k: [float(v) for v in vals] for k, vals in history.history.items()}
        self.metrics_ = self._score_lines(val_lines) if val_lines else {}
        return self

    # -- scoring ----------------------------------------------------------------------------------
    @torch.no_grad()
    def _score_lines(self, lines: list[list[str]], k: int = 3, streams: int = 16, chunk: int = 256) -> dict[str, float]:
        """Exact next-token loss over the stream of ``lines`` with the state carried throughout."""
        net = self.network_
        net.eval()
        s = self._stream(lines)
        n_streams = max(1, min(streams, (len(s) - 1) // max(chunk, 1)))
        L = (len(s) - 1) // n_streams
        x = torch.from_numpy(s[: n_streams * L].reshape(n_streams, L).copy())  # (S, L)
        y = torch.from_numpy(s[1 : n_streams * L + 1].reshape(n_streams, L).copy())  # (S, L)
        # a row starts from a zero state; stream 0 starts with <start> as every line does
        total, count, hits, hits_k, state = 0.0, 0, 0, 0, None
        for a in range(0, L, chunk):
            logits, state = net.step(x[:, a : a + chunk], state)  # (S, c, V)
            target = y[:, a : a + chunk].reshape(-1)  # (S * c,)
            nll = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]).double(), target, reduction="none")
            keep = target != self.vocab_.start_id  # <start> follows <end>: structure, not text
            total += float(nll[keep].sum())
            count += int(keep.sum())
            flat = logits.reshape(-1, logits.shape[-1])[keep]  # (n, V)
            top = torch.topk(flat, min(k, flat.shape[-1]), -1).indices  # (n, k)
            hits += int((top[:, 0] == target[keep]).sum())
            hits_k += int((top == target[keep][:, None]).any(-1).sum())
        loss = total / max(count, 1)
        out = {"loss": loss, "perplexity": math.exp(loss), "bits_per_token": loss / LN2}
        out["accuracy"] = hits / max(count, 1)  # the most likely token is the next one
        out[f"top{k}_accuracy"] = hits_k / max(count, 1)  # the next token is among the k most likely
        if self.level == "char":
            out["bits_per_char"] = loss / LN2  # <end> stands for the line break
        else:
            chars = sum(len(self.tokenizer_.detokenize(t)) + 1 for t in lines)  # + the line break
            out["bits_per_char"] = total / LN2 / chars
        return out

    def evaluate(
        self,
        texts: str | Sequence[str] | None = None,
        *,
        files: str | os.PathLike | Sequence[str | os.PathLike] | None = None,
        k: int = 3,
    ) -> dict[str, float]:
        """On new text: ``loss`` (nats per token), ``perplexity``, ``bits_per_token``, ``bits_per_char``,
        ``accuracy`` (the most likely next token is right) and ``top{k}_accuracy`` (it is among the ``k`` most
        likely: a keyboard showing ``k`` suggestions)."""
        self._require_fitted("evaluate()")
        lines = self._lines(self._gather(texts, files))
        if not lines:
            raise InputValueError("expected some text to evaluate, got only empty lines")
        return self._score_lines(lines, _positive_int("k", k))

    # -- stepping ---------------------------------------------------------------------------------
    def _encode_prime(self, prime: str, strict: bool) -> list[int]:
        toks = self.tokenizer_.tokenize(prime) if prime else []
        ids = self.vocab_.encode(toks)
        if strict:
            unknown = [t for t, i in zip(toks, ids) if i == self.vocab_.unk_id]
            if unknown:
                raise InputValueError(
                    f"the prime holds tokens the vocabulary does not know: {sorted(set(unknown))[:10]} "
                    "(strict=False reads them as <unk>)"
                )
        return [self.vocab_.start_id] + ids

    @torch.no_grad()
    def _advance(self, ids: Sequence[int], state: State | None) -> tuple[torch.Tensor, State]:
        """Read ``ids`` from ``state``: the logits after the last one ``(V,)`` and the new state (one token:
        the network's one-step path; more: its layers over the sequence)."""
        if len(ids) == 1 and not self.network_.training:
            logits, state = self.network_.next_logits(int(ids[0]), state)  # (1, V)
            return logits[0], state
        x = torch.tensor([list(ids)], dtype=torch.long)  # (1, T)
        logits, state = self.network_.step(x, state)  # (1, T, V)
        return logits[0, -1], state

    @torch.no_grad()
    def _context(self, ids: list[int]) -> tuple[torch.Tensor, State]:
        """Logits and state after ``ids``; reuses the state of the previous call when ``ids`` extends it."""
        key = tuple(ids)
        if self._cache is not None:
            old, state, logits = self._cache
            if key == old:
                return logits, state
            if len(key) > len(old) and key[: len(old)] == old:
                logits, state = self._advance(key[len(old) :], state)
                self._cache = (key, state, logits)
                return logits, state
        logits, state = self._advance(key, None)
        self._cache = (key, state, logits)
        return logits, state

    def _banned(self) -> torch.Tensor:
        v = self.vocab_
        return torch.tensor([v.pad_id, v.unk_id, v.start_id], dtype=torch.long)

    def _ban_mask(self) -> torch.Tensor:
        """``(V,)``: -inf on the tokens never generated (padding, unknown, start), 0 elsewhere; added to logits."""
        mask = torch.zeros(len(self.vocab_.tokens))
        mask[self._banned()] = float("-inf")
        return mask

    def next_token_probabilities(self, prime: str = "") -> dict[str, float]:
        """The distribution of the next token after ``prime`` (read from the start of a line), as a dict."""
        self._require_fitted("next_token_probabilities()")
        self.network_.eval()
        logits, _ = self._advance(self._encode_prime(prime, False), None)
        p = torch.softmax(logits.double(), -1)
        return {t: float(p[i]) for i, t in enumerate(self.vocab_.tokens)}

    # -- generation -------------------------------------------------------------------------------
    def generate(
        self,
        prime: str = "",
        length: int = 200,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        seed: int | None = None,
        *,
        strategy: str = "sample",
        beam_width: int = 5,
        stop_at_end: bool = True,
        strict: bool = False,
    ) -> str:
        """Continue ``prime`` by up to ``length`` tokens; returns the continuation (without the prime).

        ``strategy``: ``"sample"`` (temperature, ``top_k``, nucleus ``top_p``; ``seed`` repeats a draw),
        ``"greedy"`` (the most likely token each step) or ``"beam"`` (``beam_width`` hypotheses, the best by
        mean log-probability). The prime is read once; each new token is one step of the recurrent state.
        ``stop_at_end``: stop at the end of the line (the ``<end>`` token); otherwise a line break is written
        and generation goes on. Tokens of the prime that the vocabulary lacks are read as ``<unk>``
        (``strict=True`` raises instead).
        """
        self._require_fitted("generate()")
        length = int(length)
        if length < 0:
            raise ConfigError(f"expected length >= 0, got {length}")
        check_sampling(temperature, top_k, top_p, strategy, beam_width)
        self.network_.eval()
        ids = self._encode_prime(prime, strict)
        logits, state = self._advance(ids, None)
        if strategy == "beam":
            out = self._beam(logits, state, length, beam_width, stop_at_end)
        else:
            gen = torch.Generator().manual_seed(int(seed)) if seed is not None else None
            how = dict(strategy=strategy, temperature=temperature, top_k=top_k, top_p=top_p, generator=gen)
            out = self._sample(logits, state, length, stop_at_end, how)
        return self._render(out, prime)

    @torch.no_grad()
    def _sample(self, logits: torch.Tensor, state: State, length: int, stop_at_end: bool, how: dict) -> list[int]:
        """Up to ``length`` tokens after ``logits (V,)``, each picked as ``how`` says; one network step each."""
        net, end, start = self.network_, self.vocab_.end_id, self.vocab_.start_id
        ban = self._ban_mask()
        compiled = self._compiled_generation(logits, state, length, stop_at_end, ban, how)
        if compiled is not None:
            return compiled
        out: list[int] = []
        for _ in range(length):
            nxt = pick(logits + ban, **how)
            if nxt == end and stop_at_end:
                break
            out.append(nxt)
            for token in (nxt, start) if nxt == end else (nxt,):  # a line break: end the line, start the next
                step_logits, state = net.next_logits(token, state)  # (1, V)
            logits = step_logits[0]
        return out

    def _compiled_generation(
        self, logits: torch.Tensor, state: State, length: int, stop_at_end: bool, ban: torch.Tensor, how: dict
    ) -> list[int] | None:
        """The tokens ``_sample``'s loop would choose, from the compiled loop (``step_kernel.generate``: no Python per
        token), or None where it cannot run (``LanguageNetwork.generation_parts``; top-k and top-p sampling)."""
        sampled = how["strategy"] != "greedy"
        if sampled and (how["top_k"] is not None or (how["top_p"] is not None and how["top_p"] < 1.0)):
            return None
        parts = self.network_.generation_parts()
        if parts is None or length == 0:
            return None
        # the same uniform numbers, in the same order, as one draw per token (tested)
        uniforms = torch.rand(length, dtype=torch.float64, generator=how["generator"]) if sampled else None
        return step_kernel.generate(
            parts["embedding"], parts["layers"], state, parts["projection"], parts["out_wt"], parts["out_b"], logits, ban,
            uniforms, how["temperature"], length, self.vocab_.end_id, self.vocab_.start_id, stop_at_end,
        )  # fmt: skip

    def _render(self, ids: list[int], prime: str) -> str:
        toks = ["\n" if i == self.vocab_.end_id else self.vocab_.tokens[i] for i in ids]
        if self.level == "char":
            return "".join(toks)
        text = self.tokenizer_.detokenize(toks)
        if prime and text and toks[0] != "\n" and toks[0] not in ".,;:!?)]}»”…%" and not prime.endswith((" ", "¿", "¡", "(")):
            text = " " + text
        return text

    @torch.no_grad()
    def _beam(self, logits: torch.Tensor, state: State, length: int, width: int, stop_at_end: bool) -> list[int]:
        banned = self._banned()
        end = self.vocab_.end_id
        beams: list[tuple[float, list[int]]] = [(0.0, [])]
        states = state
        last = logits[None]  # (1, V)
        finished: list[tuple[float, list[int]]] = []
        for _ in range(length):
            logp = torch.log_softmax(last.double(), -1)  # (N, V)
            logp[:, banned] = float("-inf")
            scores = torch.tensor([b[0] for b in beams], dtype=torch.float64)[:, None] + logp  # (N, V)
            top = torch.topk(scores.reshape(-1), min(width, scores.numel()))
            V = logp.shape[1]
            new_beams, parents, tokens = [], [], []
            for score, flat in zip(top.values.tolist(), top.indices.tolist()):
                parent, tok = divmod(flat, V)
                seq = beams[parent][1] + [tok]
                if tok == end and stop_at_end:
                    finished.append((score, seq[:-1]))
                    continue
                new_beams.append((score, seq))
                parents.append(parent)
                tokens.append(tok)
            if not new_beams:
                break
            idx = torch.tensor(parents)
            states = [[s.index_select(0, idx) for s in layer] for layer in states]
            last, states = self.network_.next_logits(torch.tensor(tokens), states)  # (N, V)
            beams = new_beams
            if finished and len(finished) >= width:
                break
        pool = finished + beams
        best = max(pool, key=lambda b: b[0] / max(len(b[1]) + 1, 1))
        return best[1]

    # -- the keyboard -----------------------------------------------------------------------------
    def _words_by_prefix(self) -> list[tuple[str, int]]:
        if self._sorted_words is None:
            words = [(t, i) for i, t in enumerate(self.vocab_.tokens) if i >= 4 and WordTokenizer.is_word(t)]
            self._sorted_words = sorted(words)
        return self._sorted_words

    def suggest(self, text: str, k: int = 3) -> Suggestions:
        """Keyboard suggestions for ``text`` as typed so far (read from the start of its last line).

        When ``text`` ends inside a word, ``completions`` are the ``k`` most likely words that start with
        it and ``next_words`` the ``k`` most likely words after the best completion; after a space or a
        punctuation mark, ``completions`` is empty and ``next_words`` follow the text. Probabilities are the
        model's for the next word. The state of the previous call is reused when the text only grew.
        """
        self._require_fitted("suggest()")
        k = _positive_int("k", k)
        self.network_.eval()
        line = text.splitlines()[-1] if text.strip() else ""
        if text.endswith(("\n", "\r")):
            line = ""
        norm = self.tokenizer_.normalize(line)
        partial = ""
        if norm and not norm[-1].isspace():
            m = WordTokenizer.is_word(norm[-1]) and WordTokenizer().tokenize(norm)
            if m:
                partial = m[-1]
                norm = norm[: len(norm) - len(partial)]
        if self.level == "word":
            return self._suggest_words(norm, partial, k)
        return self._suggest_chars(norm, partial, k)

    def _suggest_words(self, context: str, partial: str, k: int) -> Suggestions:
        ids = [self.vocab_.start_id] + self.vocab_.encode(self.tokenizer_.tokenize(context))
        logits, state = self._context(ids)
        p = torch.softmax(logits.double(), -1)
        out = Suggestions(partial=partial)
        if partial:
            words = self._words_by_prefix()
            lo = bisect.bisect_left(words, (partial, -1))
            cands = []
            for w, i in words[lo:]:
                if not w.startswith(partial):
                    break
                cands.append((w, float(p[i])))
            cands.sort(key=lambda c: -c[1])
            out.completions = cands[:k]
            if out.completions:
                best = self.vocab_[out.completions[0][0]]
                nl, _ = self._advance([best], state)
                p = torch.softmax(nl.double(), -1)
        order = torch.argsort(p, descending=True).tolist()
        for i in order:
            t = self.vocab_.tokens[i]
            if i >= 4 and WordTokenizer.is_word(t):
                out.next_words.append((t, float(p[i])))
                if len(out.next_words) == k:
                    break
        return out

    def _suggest_chars(self, context: str, partial: str, k: int) -> Suggestions:
        ids = [self.vocab_.start_id] + self.vocab_.encode(self.tokenizer_.tokenize(context + partial))
        logits, state = self._context(ids)
        out = Suggestions(partial=partial)
        words = self._char_words(logits, state, k)
        if partial:
            out.completions = [(partial + w, pr) for w, pr in words]
            if out.completions:
                best = out.completions[0][0][len(partial) :] + " "
                logits, state = self._advance(self.vocab_.encode(list(best)), state)
        else:
            out.next_words = words
            return out
        out.next_words = [(w, pr) for w, pr in self._char_words(logits, state, k) if w]
        return out

    @torch.no_grad()
    def _char_words(self, logits: torch.Tensor, state: State, k: int, max_len: int = 20) -> list[tuple[str, float]]:
        """The ``k`` most likely ways to finish a word from here (beam search over characters)."""
        width = max(4 * k, 12)
        v = self.vocab_
        letter = torch.tensor([i >= 4 and (t.isalnum() or t in "'’-") for i, t in enumerate(v.tokens)])
        beams: list[tuple[float, str]] = [(0.0, "")]
        states, last = state, logits[None]
        done: list[tuple[float, str]] = []
        for _ in range(max_len):
            logp = torch.log_softmax(last.double(), -1)  # (N, V)
            end_mass = torch.logsumexp(logp.masked_fill(letter, float("-inf")), -1)  # (N,): the word ends here
            for (score, word), e in zip(beams, end_mass.tolist()):
                if word:
                    done.append((score + e, word))
            cand = torch.tensor([b[0] for b in beams], dtype=torch.float64)[:, None] + logp.masked_fill(~letter, float("-inf"))
            top = torch.topk(cand.reshape(-1), min(width, int(letter.sum()) * len(beams)))
            V = logp.shape[1]
            new, parents, toks = [], [], []
            for score, flat in zip(top.values.tolist(), top.indices.tolist()):
                if score == float("-inf"):
                    continue
                parent, tok = divmod(flat, V)
                new.append((score, beams[parent][1] + v.tokens[tok]))
                parents.append(parent)
                toks.append(tok)
            if not new or (len(done) >= width and max(s for s, _ in new) < sorted(s for s, _ in done)[-k]):
                break
            idx = torch.tensor(parents)
            states = [[s.index_select(0, idx) for s in layer] for layer in states]
            step, states = self.network_.step(torch.tensor(toks)[:, None], states)
            last = step[:, -1]
            beams = new
        best: dict[str, float] = {}
        for score, word in done:
            best[word] = max(best.get(word, float("-inf")), score)
        ranked = sorted(best.items(), key=lambda kv: -kv[1])[:k]
        return [(w, math.exp(s)) for w, s in ranked]

    # -- files ------------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Write ``path/config.json``, ``path/vocab.json`` and ``path/weights.safetensors`` (atomically)."""
        self._require_fitted("save()")
        doc = {
            "config": self.get_config(),
            "tokenizer": self.tokenizer_.get_config(),
            "metrics": self.metrics_,
            "history": self.history_,
        }
        return save_text_directory(path, FORMAT, doc, self.vocab_, self.network_, what="the language model")


def load_language_model(path: str | os.PathLike) -> LanguageModel:
    """Rebuild a ``LanguageModel`` saved with ``save(path)``."""
    directory, vocab, state = read_text_directory(path, FORMAT)
    doc = directory.document
    if vocab is None:
        raise ModelFileError(f"{path} is damaged: vocab.json is missing")

    def rebuild() -> LanguageModel:
        lm = LanguageModel(**doc["config"])
        lm.tokenizer_ = tokenizer_from_config(doc.get("tokenizer") or {"level": lm.level, "lower": lm.lowercase})
        lm.vocab_ = vocab
        lm.network_ = lm._network()
        return lm

    lm = build_from_config(directory, rebuild, "a language model")
    load_module_state(lm.network_, state, directory.path / WEIGHTS_FILE)
    lm.metrics_ = dict(doc.get("metrics") or {})
    lm.history_ = dict(doc.get("history") or {})
    return lm


register_format(FORMAT, load_language_model)

__all__ = ["LanguageModel", "Suggestions", "load_language_model", "CELLS"]
