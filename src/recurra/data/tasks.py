"""Memory tasks: generated (or bundled) sequence problems that need a memory, each with its chance level.

Every task is reproducible from ``seed`` and needs no download.

============================  =================================================  ====================================
task                          what must be remembered                            chance level (a model with no memory)
============================  =================================================  ====================================
``adding_problem``            two values marked among ``length`` noise steps;    MSE ``1/6 ≈ 0.167`` (predict 1, the
                              the target is their sum                            mean of the sum)
``copy_task``                 ``sequence_length`` symbols, to be written out     cross-entropy ``S log K / (T + 2S)``;
                              again after ``length`` blank steps                 accuracy ``1/K`` on the copied steps
``delayed_recall``            the symbol shown ``delay`` steps before the end    accuracy ``1/K``, cross-entropy
                              of a stream of random symbols                      ``log K``
``sequential_digits``         an 8x8 digit seen one row (or one pixel) at a      accuracy of the most frequent class
                              time                                               (≈ 0.10)
============================  =================================================  ====================================

``make_task(name, ...)`` returns any of them as a ``Task`` (train and test arrays, the metric, the
chance level), the form ``recurra.compare`` uses.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..errors import ConfigError, unknown_name

ADDING_CHANCE_MSE = 1.0 / 6.0  # Var(a + b), a, b ~ U(0, 1): the MSE of always predicting E[a + b] = 1


def _positive_int(name: str, value: object, minimum: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ConfigError(f"expected {name} to be an integer >= {minimum}, got {value!r}")
    return int(value)


def _one_hot(ids: np.ndarray, k: int) -> np.ndarray:
    """Integer ids ``(...)`` -> float32 one-hot ``(..., k)``."""
    return np.eye(k, dtype=np.float32)[ids]


# -- the adding problem ----------------------------------------------------------------------------


def adding_problem(n: int, length: int, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The adding problem (Hochreiter & Schmidhuber, 1997; in the form of Le et al., 2015).

    Each sequence has ``length`` steps of two features: ``x[:, t, 0] ~ U(0, 1)`` and a marker
    ``x[:, t, 1]``, 1 at exactly two steps (one drawn in the first half, one in the second half) and
    0 elsewhere. The target is the sum of the two marked values::

        y = Σ_t x[t, 0] · x[t, 1]          (in [0, 2])

    Chance level (``ADDING_CHANCE_MSE``): predicting the mean, 1, always gives the MSE
    ``Var(a + b) = 2 · 1/12 = 1/6 ≈ 0.167``.

    Returns ``x (n, length, 2)`` and ``y (n, 1)``, float32.

    >>> x, y = adding_problem(3, 10)
    >>> x.shape, y.shape, x[:, :, 1].sum(1).tolist()
    ((3, 10, 2), (3, 1), [2.0, 2.0, 2.0])
    """
    n = _positive_int("n", n)
    length = _positive_int("length", length, 2)
    rng = np.random.default_rng(seed)
    values = rng.uniform(0.0, 1.0, (n, length)).astype(np.float32)  # (n, T)
    half = length // 2
    first = rng.integers(0, half, n)  # a step in [0, T/2)
    second = rng.integers(half, length, n)  # a step in [T/2, T)
    markers = np.zeros((n, length), dtype=np.float32)
    rows = np.arange(n)
    markers[rows, first] = 1.0
    markers[rows, second] = 1.0
    x = np.stack([values, markers], -1)  # (n, T, 2)
    y = (values[rows, first] + values[rows, second])[:, None].astype(np.float32)  # (n, 1)
    return x, y


# -- the copy task ---------------------------------------------------------------------------------


def copy_task(
    n: int, length: int, *, sequence_length: int = 10, n_symbols: int = 8, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """The copy task (Hochreiter & Schmidhuber, 1997; in the form of Arjovsky et al., 2016).

    With ``S = sequence_length``, ``K = n_symbols`` and ``T = length``, each sequence has
    ``T + 2S`` steps. Class ids: 0 is the blank, ``1..K`` the symbols, ``K + 1`` the delimiter::

        input:   s_1 ... s_S   0 ... 0 (T - 1 blanks)   K+1   0 ... 0 (S blanks)
        target:  0 ... 0 (T + S blanks)                       s_1 ... s_S

    Chance level (``copy_chance``): a model with no memory outputs the blanks and guesses the
    symbols uniformly, cross-entropy ``S log K / (T + 2S)`` per step, accuracy ``1/K`` on the last
    ``S`` steps (the ones that need memory).

    Returns ``x (n, T + 2S, K + 2)`` float32 one-hot, ``y (n, T + 2S)`` int64 class ids.

    >>> x, y = copy_task(2, 5, sequence_length=3, n_symbols=4)
    >>> x.shape, y.shape, bool((x[:, :3].argmax(-1) == y[:, -3:]).all())
    ((2, 11, 6), (2, 11), True)
    """
    n = _positive_int("n", n)
    T = _positive_int("length", length)
    S = _positive_int("sequence_length", sequence_length)
    K = _positive_int("n_symbols", n_symbols, 2)
    rng = np.random.default_rng(seed)
    symbols = rng.integers(1, K + 1, (n, S))  # (n, S) in 1..K
    ids = np.zeros((n, T + 2 * S), dtype=np.int64)
    ids[:, :S] = symbols
    ids[:, T + S - 1] = K + 1  # the delimiter: "write them out now"
    y = np.zeros((n, T + 2 * S), dtype=np.int64)
    y[:, T + S :] = symbols
    return _one_hot(ids, K + 2), y


def copy_chance(length: int, *, sequence_length: int = 10, n_symbols: int = 8) -> dict[str, float]:
    """The copy task's chance level: ``{"crossentropy": S log K / (T + 2S), "accuracy": 1 / K}``
    (the accuracy counted on the ``S`` copied steps).

    >>> round(copy_chance(100)["crossentropy"], 4)
    0.1733
    """
    T, S, K = length, sequence_length, n_symbols
    return {"crossentropy": S * math.log(K) / (T + 2 * S), "accuracy": 1.0 / K}


# -- delayed recall --------------------------------------------------------------------------------


def delayed_recall(
    n: int, length: int, *, delay: int | None = None, n_symbols: int = 8, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Recall the symbol shown ``delay`` steps before the end of a stream of random symbols.

    Every step shows one of ``K = n_symbols`` symbols, drawn uniformly; the target is the symbol at
    step ``length - 1 - delay`` (``delay=None``: ``length - 1``, the first one). Everything after it
    is a distractor. Chance level: accuracy ``1/K``, cross-entropy ``log K``.

    Returns ``x (n, length, K)`` float32 one-hot and ``y (n,)`` int64 class ids in ``0..K-1``.

    >>> x, y = delayed_recall(4, 6, n_symbols=3)
    >>> x.shape, bool((x[:, 0].argmax(-1) == y).all())
    ((4, 6, 3), True)
    """
    n = _positive_int("n", n)
    length = _positive_int("length", length)
    K = _positive_int("n_symbols", n_symbols, 2)
    delay = length - 1 if delay is None else delay
    if isinstance(delay, bool) or not isinstance(delay, (int, np.integer)) or not 0 <= delay < length:
        raise ConfigError(f"expected delay in [0, length - 1] = [0, {length - 1}], got {delay!r}")
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, K, (n, length))  # (n, T)
    return _one_hot(ids, K), ids[:, length - 1 - int(delay)].astype(np.int64)


# -- sequential digits -----------------------------------------------------------------------------

DIGIT_ORDERS = ("rows", "pixels")


def sequential_digits(
    order: str = "rows", *, test_fraction: float = 0.25, seed: int = 0
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """scikit-learn's bundled 8x8 digits (1,797 images, 10 classes) read as sequences.

    ``order="rows"``: one row per step, ``x (n, 8, 8)``; ``"pixels"``: one pixel per step in
    reading order, ``x (n, 64, 1)``. Pixel values are scaled from ``0..16`` to ``[0, 1]``. The
    images are shuffled with ``seed`` and split: the last ``test_fraction`` of them is held out.
    Chance level: the accuracy of always answering the most frequent class (≈ 0.10;
    ``majority_accuracy(y_test)``).

    Returns ``(x_train, y_train), (x_test, y_test)``; ``x`` float32, ``y`` int64 digits.
    """
    from sklearn.datasets import load_digits  # bundled with scikit-learn: no download

    if order not in DIGIT_ORDERS:
        raise unknown_name("digits order", order, DIGIT_ORDERS)
    if not isinstance(test_fraction, (int, float)) or not 0.0 < test_fraction < 1.0:
        raise ConfigError(f"expected test_fraction in (0, 1), got {test_fraction!r}")
    digits = load_digits()
    images = (digits.images / 16.0).astype(np.float32)  # (1797, 8, 8) in [0, 1]
    labels = digits.target.astype(np.int64)
    perm = np.random.default_rng(seed).permutation(len(labels))
    images, labels = images[perm], labels[perm]
    x = images if order == "rows" else images.reshape(len(images), 64, 1)  # (n, 8, 8) or (n, 64, 1)
    n_test = max(1, round(test_fraction * len(labels)))
    split = len(labels) - n_test
    return (x[:split], labels[:split]), (x[split:], labels[split:])


def majority_accuracy(y: np.ndarray) -> float:
    """The accuracy of always answering the most frequent class of ``y``."""
    y = np.asarray(y).reshape(-1)
    return float(np.bincount(y).max() / len(y))


# -- one interface for all of them -----------------------------------------------------------------

TASKS = ("adding", "copy", "recall", "digits_rows", "digits_pixels")


@dataclass
class Task:
    """A memory task ready to train on: arrays, what to predict, how it is scored, and chance level.

    ``kind``: ``"regression"`` (one value per sequence, MSE), ``"classification"`` (one class per
    sequence, accuracy) or ``"sequence_classification"`` (one class per step, accuracy counted on
    ``scored_steps``, the last steps of each sequence). ``chance``: the metric of a model with no
    memory (see each task's function). ``length``: the number of steps of a sequence.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    kind: str
    metric: str
    chance: float
    description: str
    n_outputs: int  # 1 for regression, the number of classes otherwise
    scored_steps: int | None = None
    extra: dict = field(default_factory=dict)

    @property
    def length(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def features(self) -> int:
        return int(self.x_train.shape[2])

    @property
    def higher_is_better(self) -> bool:
        return self.metric == "accuracy"


def make_task(name: str, *, length: int = 100, n_train: int = 5000, n_test: int = 1000, seed: int = 0) -> Task:
    """One of ``TASKS`` as a ``Task``: ``"adding"``, ``"copy"``, ``"recall"`` (``delayed_recall``,
    the first symbol), ``"digits_rows"``, ``"digits_pixels"`` (``length``, ``n_train`` and
    ``n_test`` do not apply to the digits: 8 or 64 steps, a fixed 75 / 25 split).

    Train and test sets are drawn independently (``seed`` and ``seed + 1``).
    """
    if name not in TASKS:
        raise unknown_name("task", name, TASKS)
    n_train, n_test = _positive_int("n_train", n_train), _positive_int("n_test", n_test)
    if name == "adding":
        x, y = adding_problem(n_train, length, seed=seed)
        xt, yt = adding_problem(n_test, length, seed=seed + 1)
        return Task(
            name, x, y, xt, yt, "regression", "mse", ADDING_CHANCE_MSE,
            f"adding problem, T={length}: the sum of two marked values", 1,
        )  # fmt: skip
    if name == "copy":
        x, y = copy_task(n_train, length, seed=seed)
        xt, yt = copy_task(n_test, length, seed=seed + 1)
        chance = copy_chance(length)["accuracy"]
        return Task(
            name, x, y, xt, yt, "sequence_classification", "accuracy", chance,
            f"copy task: 10 symbols (of 8) written out after T={length} blank steps", 10, scored_steps=10,
        )  # fmt: skip
    if name == "recall":
        x, y = delayed_recall(n_train, length, seed=seed)
        xt, yt = delayed_recall(n_test, length, seed=seed + 1)
        return Task(
            name, x, y, xt, yt, "classification", "accuracy", 1.0 / 8,
            f"delayed recall: the first of T={length} random symbols (of 8)", 8,
        )  # fmt: skip
    order = "rows" if name == "digits_rows" else "pixels"
    (x, y), (xt, yt) = sequential_digits(order, seed=seed)
    return Task(
        name, x, y, xt, yt, "classification", "accuracy", majority_accuracy(yt),
        f"8x8 digits read {'row by row (T=8, F=8)' if order == 'rows' else 'pixel by pixel (T=64, F=1)'}", 10,
    )  # fmt: skip


__all__ = [
    "ADDING_CHANCE_MSE",
    "DIGIT_ORDERS",
    "TASKS",
    "Task",
    "adding_problem",
    "copy_chance",
    "copy_task",
    "delayed_recall",
    "majority_accuracy",
    "make_task",
    "sequential_digits",
]
