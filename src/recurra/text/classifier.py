"""``SequenceClassifier``: one label per sequence (many to one), for texts or sequences of feature vectors.

>>> clf = SequenceClassifier(cell="gru", units=8, embedding=8, epochs=2, validation=0.0)
>>> clf = clf.fit(["good fun", "great film", "bad plot", "awful film"] * 5, ["pos", "pos", "neg", "neg"] * 5)
>>> clf.predict_proba(["good film"]).shape
(1, 2)

Texts are tokenized (words by default), turned into ids, padded with 0 to the longest in the batch and
masked: the recurrent layers skip the padding (packed sequences), and the pooling (``last`` real step,
``mean`` or ``max`` over real steps) sees only real steps, so every text gets the result it would get
alone. Sequences of vectors (a list of ``(T_i, F)`` arrays) are padded and masked the same way.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from ..checks import Boolean, Integer, Number, OneOf, Satisfies
from ..errors import ConfigError, InputValueError, ModelFileError, ShapeError
from ..estimator import Estimator, setting
from ..io import build_from_config
from ..limits import MAX_EPOCHS, MAX_FEATURES, MAX_LAYERS, MAX_STEPS, MAX_UNITS, MAX_VALUE
from ..registry import register_format
from ..train.estimator_fit import LR_SCHEDULE_HELP, LR_SCHEDULES, fit_module
from ..train.trainer import set_seed
from .classifier_stream import ClassifierStream
from .networks import POOLINGS, ClassifierNetwork, check_cell
from .storage import WEIGHTS_FILE, load_module_state, read_text_directory, save_text_directory
from .tokenizers import make_tokenizer, tokenizer_from_config
from .vocab import Vocabulary

FORMAT = "recurra.sequence_classifier"


@dataclass
class ClassificationReport:
    """``accuracy``, ``macro_f1``, per-class ``f1``, and ``confusion`` (rows: true labels, columns: predicted)."""

    accuracy: float
    macro_f1: float
    f1: dict[Any, float]
    confusion: pd.DataFrame

    def as_dict(self) -> dict[str, Any]:
        return {"accuracy": self.accuracy, "macro_f1": self.macro_f1, "f1": dict(self.f1)}


def classification_report(y_true: Sequence[Any], y_pred: Sequence[Any], classes: Sequence[Any]) -> ClassificationReport:
    """Accuracy, macro-averaged F1 and the confusion matrix over ``classes``."""
    classes = list(classes)
    pos = {c: i for i, c in enumerate(classes)}
    K = len(classes)
    cm = np.zeros((K, K), dtype=np.int64)
    for t, p in zip(y_true, y_pred):
        cm[pos[t], pos[p]] += 1
    tp = np.diag(cm).astype(float)
    precision = np.divide(tp, cm.sum(0), out=np.zeros(K), where=cm.sum(0) > 0)
    recall = np.divide(tp, cm.sum(1), out=np.zeros(K), where=cm.sum(1) > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros(K), where=(precision + recall) > 0)
    present = cm.sum(1) > 0
    confusion = pd.DataFrame(cm, index=pd.Index(classes, name="true"), columns=pd.Index(classes, name="predicted"))
    return ClassificationReport(
        accuracy=float(tp.sum() / max(cm.sum(), 1)),
        macro_f1=float(f1[present].mean()) if present.any() else 0.0,
        f1={c: float(f) for c, f in zip(classes, f1)},
        confusion=confusion,
    )


def _json_label(v: Any) -> Any:
    if isinstance(v, np.generic):
        v = v.item()
    if not isinstance(v, (str, int, float, bool)):
        raise InputValueError(f"expected labels that are strings or numbers, got {type(v).__name__}")
    return v


CLASS_WEIGHT = Satisfies(lambda w: w is None or w == "balanced" or isinstance(w, dict), "None, 'balanced' or a dict")
RATE = Number(0, 1, open_max=True)
POSITIVE_OR_NONE = Number(0, open_min=True, optional=True)


@dataclass(eq=False, repr=False)
class SequenceClassifier(Estimator):
    """A recurrent classifier: one label per text or sequence.

    The settings below are stored as given and checked together (``recurra.estimator``). ``fit``
    learns ``classes_`` (the labels, in the order of ``predict_proba``'s columns), ``kind_`` (``"text"``
    or ``"sequence"``), ``tokenizer_`` and ``vocab_`` (texts) or ``features_`` (sequences), ``weights_``
    (the class weights used), ``scaling_`` (each feature's training mean and std with ``standardize``,
    else None), ``network_`` and ``history_``.

    Sequences of vectors (sensor channels, features per frame) are ``(N, T, F)`` arrays or lists of
    ``(T_i, F)`` arrays of any lengths (aeon's and sktime's ``(N, F, T)`` arrays: ``.transpose(0, 2, 1)``;
    a long table of readings: ``recurra.signals.read_long_sequences``). With one-way layers,
    ``predict_proba_steps`` gives a label at every step and ``stream()`` labels a sequence as it arrives.
    """

    cell: str = setting("lstm", "the recurrent cell (lstm, gru, rnn, indrnn, mingru, minlstm)", kw_only=False)
    units: int = setting(64, "units per recurrent layer", Integer(1, MAX_UNITS), kw_only=False)
    layers: int = setting(1, "stacked recurrent layers", Integer(1, MAX_LAYERS), kw_only=False)
    bidirectional: bool = setting(False, "run each layer both ways", Boolean(), kw_only=False)
    pooling: str = setting("last", "last (the state after the last real step), mean or max over the real steps",
                           OneOf(POOLINGS))  # fmt: skip
    embedding: int = setting(64, "size of the token vectors (texts)", Integer(1, MAX_FEATURES))
    level: str = setting("word", "the tokens of texts: word or char", OneOf(("word", "char")))
    lower: bool = setting(True, "lowercase texts", Boolean())
    min_count: int = setting(1, "keep tokens seen this often; rarer ones become <unk>", Integer(1))
    max_vocab: int | None = setting(None, "keep at most this many tokens", Integer(1, MAX_FEATURES, optional=True))
    max_length: int | None = setting(None, "keep the first max_length tokens of a text", Integer(1, MAX_STEPS, optional=True))
    class_weight: str | dict | None = setting(None, "None, 'balanced' (weights n / (K n_k)) or {label: weight}", CLASS_WEIGHT)
    standardize: bool = setting(False, "scale each feature of sequences to mean 0 and std 1 (over the training steps)", Boolean())
    dropout: float = setting(0.0, "dropout between layers and before the output", RATE)
    epochs: int = setting(10, "training epochs (at most: patience may stop earlier)", Integer(0, MAX_EPOCHS))
    batch_size: int = setting(32, "sequences per batch", Integer(1, MAX_STEPS))
    learning_rate: float = setting(2e-3, "Adam's learning rate", Number(0, open_min=True))
    lr_schedule: str = setting("constant", LR_SCHEDULE_HELP, OneOf(LR_SCHEDULES))
    clipnorm: float | None = setting(1.0, "the largest gradient norm (None: no clipping)", POSITIVE_OR_NONE)
    validation: float = setting(0.1, "the held-out share (stratified) that picks the best epoch", RATE)
    patience: int | None = setting(3, "epochs without a better validation loss before stopping", Integer(1, optional=True))
    seed: int = setting(0, "the random seed (the same seed repeats a run)", Integer())

    fitted_attribute: ClassVar[str] = "network_"
    renamed: ClassVar[dict[str, str]] = {
        "tokenizer": "tokenizer_",
        "vocab": "vocab_",
        "kind": "kind_",
        "features": "features_",
        "network": "network_",
        "history": "history_",
    }

    def check_together(self) -> None:
        check_cell(self.cell)

    @classmethod
    def load(cls, path: str | os.PathLike) -> SequenceClassifier:
        """A classifier saved by ``save`` (the same as ``recurra.load(path)``)."""
        return load_classifier(path)

    def get_config(self) -> dict[str, Any]:
        """The settings as JSON values (a class_weight dict is not kept: its labels may not be JSON keys)."""
        config = self.get_params()
        if isinstance(config["class_weight"], dict):
            config["class_weight"] = None
        return config

    def _network(self) -> ClassifierNetwork:
        """The network these settings and the learned classes, vocabulary or feature count describe."""
        return ClassifierNetwork(
            classes=len(self.classes_),
            cell=self.cell,
            units=self.units,
            layers=self.layers,
            bidirectional=self.bidirectional,
            pooling=self.pooling,
            dropout=self.dropout,
            vocab_size=len(self.vocab_) if self.vocab_ is not None else None,
            embedding=self.embedding,
            features=self.features_,
        )

    # -- inputs -----------------------------------------------------------------------------------
    @staticmethod
    def _kind_of(X: Any) -> str:
        if isinstance(X, str):
            raise InputValueError("expected a list of texts (or of sequences), got one string")
        if isinstance(X, pd.Series):
            X = X.tolist()
        if isinstance(X, np.ndarray) and X.dtype.kind in "fiub" and X.ndim == 3:
            return "sequence"
        items = list(X)
        if not items:
            raise InputValueError("expected at least one text or sequence, got none")
        if all(isinstance(x, str) for x in items):
            return "text"
        bad = next((i for i, x in enumerate(items) if isinstance(x, str)), None)
        if bad is not None:
            raise InputValueError(f"expected only texts or only sequences, got a mix (a string at position {bad})")
        return "sequence"

    def _token_rows(self, texts: Sequence[str]) -> list[list[int]]:
        rows = []
        for t in texts:
            ids = self.vocab_.encode(self.tokenizer_.tokenize(t))
            if self.max_length is not None:
                ids = ids[: self.max_length]
            rows.append(ids or [self.vocab_.unk_id])  # an empty text reads as one unknown token
        return rows

    def _tensor(self, X: Any) -> torch.Tensor:
        """The padded input: ids ``(N, T)`` (0 = padding), or features + a mask channel ``(N, T, F + 1)``."""
        kind = self._kind_of(X)
        if kind != self.kind_:
            raise InputValueError(f"this classifier was trained on {self.kind_}s, got {kind}s")
        if isinstance(X, pd.Series):
            X = X.tolist()
        if kind == "text":
            rows = self._token_rows(list(X))
            T = max(len(r) for r in rows)
            ids = np.zeros((len(rows), T), dtype=np.int64)
            for i, r in enumerate(rows):
                ids[i, : len(r)] = r
            return torch.from_numpy(ids)
        seqs = [np.asarray(s, dtype=np.float64) for s in (X if not isinstance(X, np.ndarray) else list(X))]
        for i, s in enumerate(seqs):
            if s.ndim != 2 or s.shape[0] == 0:
                raise ShapeError(f"expected sequence {i} of shape (time, features) with time >= 1, got {s.shape}")
            if self.features_ is not None and s.shape[1] != self.features_:
                raise ShapeError(f"expected sequences with {self.features_} features, got {s.shape[1]} at position {i}")
            if not np.isfinite(s).all():
                step, col = np.argwhere(~np.isfinite(s))[0]
                raise InputValueError(f"sequence {i} holds {s[step, col]} at step {step}, feature {col}; expected finite numbers")
            if (np.abs(s) > MAX_VALUE).any():
                step, col = np.argwhere(np.abs(s) > MAX_VALUE)[0]
                raise InputValueError(
                    f"sequence {i} holds {s[step, col]:.4g} at step {step}, feature {col}: beyond float32's range "
                    f"(|v| <= {MAX_VALUE:.4g}); rescale the data"
                )
        T = max(s.shape[0] for s in seqs)
        F = seqs[0].shape[1]
        if getattr(self, "scaling_", None) is not None:
            mean, std = (np.asarray(v) for v in (self.scaling_["mean"], self.scaling_["std"]))
            seqs = [(s - mean) / std for s in seqs]
        out = np.zeros((len(seqs), T, F + 1), dtype=np.float32)
        for i, s in enumerate(seqs):
            out[i, : len(s), :F] = s
            out[i, : len(s), F] = 1.0
        return torch.from_numpy(out)

    def _label_ids(self, y: Sequence[Any], what: str = "labels") -> np.ndarray:
        pos = {c: i for i, c in enumerate(self.classes_)}
        ys = [_json_label(v) for v in y]
        unseen = sorted({str(v) for v in ys if v not in pos})
        if unseen:
            raise InputValueError(
                f"{what} hold values the classifier was not trained on: {unseen[:10]}; "
                f"known classes: {[str(c) for c in self.classes_]}"
            )
        return np.asarray([pos[v] for v in ys], dtype=np.int64)

    def _loss(self, weights: torch.Tensor | None):
        def loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
            w = None if weights is None else weights.to(logits.dtype)
            return nn.functional.cross_entropy(logits, target.reshape(-1).long(), weight=w)

        return loss

    # -- training ---------------------------------------------------------------------------------
    def fit(
        self,
        X: Any,
        y: Sequence[Any],
        *,
        validation_data: tuple[Any, Sequence[Any]] | None = None,
        epochs: int | None = None,
        verbose: int = 0,
        checkpoint_dir: str | os.PathLike | None = None,
        resume: bool = False,
        callbacks: Sequence[Any] | None = None,
    ) -> SequenceClassifier:
        """Train on texts (or sequences) ``X`` with labels ``y``; returns ``self``. ``callbacks``: the
        engine's, beside the early stopping ``patience`` adds."""
        self.kind_ = self._kind_of(X)
        self.tokenizer_ = make_tokenizer(self.level, self.lower)
        X = X.tolist() if isinstance(X, pd.Series) else X
        y = list(y.tolist() if isinstance(y, (pd.Series, np.ndarray)) else y)
        if len(y) != len(X):
            raise ShapeError(f"expected as many labels as inputs, got {len(y)} labels for {len(X)} inputs")
        ys = [_json_label(v) for v in y]
        classes = sorted(set(ys), key=lambda c: (str(type(c)), c))
        if len(classes) < 2:
            raise InputValueError(
                f"expected at least two classes in the labels, got only {classes[0]!r} ({len(ys)} rows)"
                if classes
                else "expected labels, got none"
            )
        self.classes_ = classes
        y_ids = self._label_ids(ys)
        idx = np.arange(len(ys))
        val_idx = np.array([], dtype=np.int64)
        if validation_data is None and self.validation:
            from sklearn.model_selection import train_test_split

            counts = np.bincount(y_ids, minlength=len(classes))
            stratify = y_ids if counts.min() >= 2 else None
            idx, val_idx = train_test_split(idx, test_size=self.validation, random_state=self.seed, stratify=stratify)
        if self.kind_ == "text":
            self.features_ = None
            train_texts = [X[i] for i in idx]
            self.vocab_ = Vocabulary.build(
                (self.tokenizer_.tokenize(t) for t in train_texts), min_count=self.min_count, max_size=self.max_vocab
            )
        else:
            first = np.asarray(X[0] if not isinstance(X, np.ndarray) else X[0])
            if first.ndim != 2:
                raise ShapeError(f"expected sequences of shape (time, features), got {first.shape} at position 0")
            self.features_ = int(first.shape[1])
            self.vocab_ = None
        self.scaling_ = None
        x_all = self._tensor(X)
        if self.kind_ == "sequence" and self.standardize:
            self.scaling_ = self._scaling([X[i] for i in idx])
            x_all = self._tensor(X)
        xt, yt = x_all[torch.from_numpy(idx)], torch.from_numpy(y_ids[idx])
        val = None
        if validation_data is not None:
            val = (self._tensor(validation_data[0]), torch.from_numpy(self._label_ids(validation_data[1], "validation labels")))
        elif len(val_idx):
            val = (x_all[torch.from_numpy(val_idx)], torch.from_numpy(y_ids[val_idx]))
        weights = self._class_weights(y_ids[idx])
        set_seed(self.seed)
        self.network_ = self._network()
        self.history_ = fit_module(
            self.network_, self._loss(weights), xt, yt, learning_rate=self.learning_rate, clipnorm=self.clipnorm,
            lr_schedule=self.lr_schedule, patience=self.patience, epochs=self.epochs if epochs is None else int(epochs),
            seed=self.seed, batch_size=self.batch_size, validation_data=val, verbose=verbose, checkpoint_dir=checkpoint_dir,
            resume=resume, callbacks=callbacks, settings={k: v for k, v in self.get_config().items() if k != "epochs"},
        )  # fmt: skip
        return self

    @staticmethod
    def _scaling(sequences: Sequence[Any]) -> dict[str, list[float]]:
        """Each feature's mean and std (1 where constant) over every step of ``sequences`` (already checked)."""
        steps = np.concatenate([np.asarray(s, dtype=np.float64) for s in sequences])  # (steps, F)
        std = steps.std(0)
        return {"mean": steps.mean(0).tolist(), "std": np.where(std > 0, std, 1.0).tolist()}

    def _class_weights(self, y_ids: np.ndarray) -> torch.Tensor | None:
        K = len(self.classes_)
        if self.class_weight is None:
            self.weights_ = None
            return None
        if self.class_weight == "balanced":
            counts = np.bincount(y_ids, minlength=K).astype(float)
            w = np.where(counts > 0, len(y_ids) / (K * np.maximum(counts, 1)), 0.0)
        else:
            unknown = [k for k in self.class_weight if k not in self.classes_]
            if unknown:
                raise ConfigError(f"class_weight names labels not in the data: {unknown}; labels: {self.classes_}")
            w = np.array([float(self.class_weight.get(c, 1.0)) for c in self.classes_])
        self.weights_ = [float(v) for v in w]
        return torch.tensor(w, dtype=torch.float32)

    # -- prediction -------------------------------------------------------------------------------
    @torch.no_grad()
    def predict_proba(self, X: Any, batch_size: int = 256) -> np.ndarray:
        """Class probabilities ``(N, K)``, columns in the order of ``classes_``."""
        self._require_fitted("predict_proba()")
        self.network_.eval()
        x = self._tensor(X)
        outs = []
        for a in range(0, x.shape[0], batch_size):
            xb = x[a : a + batch_size]
            if self.kind_ == "text":
                xb = xb[:, : int((xb != 0).sum(1).max())]  # (B, T_b): pad only to this batch's longest
            outs.append(torch.softmax(self.network_(xb).double(), -1))
        return torch.cat(outs).numpy()

    @torch.no_grad()
    def predict_proba_steps(self, X: Any) -> list[np.ndarray]:
        """Per step, the class probabilities of the sequence up to that step: one ``(T_i, K)`` array per input.

        The last row of each equals ``predict_proba``'s; needs one-way layers (``bidirectional=False``).
        """
        self._require_fitted("predict_proba_steps()")
        self.network_.eval()
        x = self._tensor(X)
        lengths = (x != 0).sum(1) if self.kind_ == "text" else (x[..., -1] > 0.5).sum(1)  # (N,)
        probs = torch.softmax(self.network_.step_logits(x).double(), -1)  # (N, T, K)
        return [probs[i, : int(n)].numpy() for i, n in enumerate(lengths)]

    def predict_steps(self, X: Any) -> list[np.ndarray]:
        """The most probable label at every step of each input (see ``predict_proba_steps``)."""
        return [np.asarray([self.classes_[i] for i in p.argmax(1)], dtype=object) for p in self.predict_proba_steps(X)]

    def stream(self) -> ClassifierStream:
        """A ``ClassifierStream``: feed it steps as they arrive, get a label after each."""
        return ClassifierStream(self)

    def predict(self, X: Any) -> np.ndarray:
        """The most probable label of each input."""
        p = self.predict_proba(X)
        return np.asarray([self.classes_[i] for i in p.argmax(1)], dtype=object)

    def evaluate(self, X: Any, y: Sequence[Any]) -> ClassificationReport:
        """Accuracy, macro-F1 and the confusion matrix on labelled data."""
        self._require_fitted("evaluate()")
        y = list(y.tolist() if isinstance(y, (pd.Series, np.ndarray)) else y)
        self._label_ids(y)  # unseen labels: a clear error
        return classification_report([_json_label(v) for v in y], list(self.predict(X)), self.classes_)

    # -- files ------------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        """Write ``config.json`` (+ ``vocab.json`` for texts) and ``weights.safetensors`` to ``path``."""
        self._require_fitted("save()")
        doc = {
            "config": self.get_config(),
            "tokenizer": self.tokenizer_.get_config(),
            "classes": self.classes_,
            "kind": self.kind_,
            "features": self.features_,
            "class_weights": self.weights_,
            "scaling": self.scaling_,
            "history": self.history_,
        }
        return save_text_directory(path, FORMAT, doc, self.vocab_, self.network_, what="the classifier")


def load_classifier(path: str | os.PathLike) -> SequenceClassifier:
    """Rebuild a ``SequenceClassifier`` saved with ``save(path)``."""
    directory, vocab, state = read_text_directory(path, FORMAT)
    doc = directory.document

    def rebuild() -> SequenceClassifier:
        clf = SequenceClassifier(**doc["config"])
        clf.classes_ = list(doc["classes"])
        clf.kind_ = doc["kind"]
        if clf.kind_ == "text" and vocab is None:
            raise ModelFileError(f"{path} is damaged: vocab.json is missing")
        clf.tokenizer_ = tokenizer_from_config(doc.get("tokenizer") or {"level": clf.level, "lower": clf.lower})
        clf.vocab_ = vocab
        clf.features_ = doc.get("features")
        clf.weights_ = doc.get("class_weights")
        clf.scaling_ = doc.get("scaling")
        clf.history_ = dict(doc.get("history") or {})
        clf.network_ = clf._network()
        return clf

    clf = build_from_config(directory, rebuild, "a classifier")
    load_module_state(clf.network_, state, directory.path / WEIGHTS_FILE)
    return clf


register_format(FORMAT, load_classifier)

__all__ = ["SequenceClassifier", "ClassificationReport", "classification_report", "load_classifier"]
