"""The worst absolute difference from Keras 3, per layer group: every layer built twice, in recurra and in
Keras 3 (torch backend), recurra's weights drawn at random and copied into Keras's with ``set_weights``,
both run in float64 on the same inputs (masks, states and the options listed in ``cases()``).

    python benchmarks/keras_equality.py

The cases follow the Keras comparisons in ``tests/layers``. A second table lists the cases above 1e-6:
Keras 3 on its torch backend computes them in float32 although its inputs and weights are float64
(``keras.ops.matmul``, and the fused attention of ``MultiHeadAttention`` without scores), so each is also
compared with a float64 reference (a numpy loop of the cell's equations; Keras's own attention with the
scores returned, which it computes in float64). Needs Keras 3 (``benchmarks/requirements.txt``); runs on
the CPU in well under a minute.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any, Callable

os.environ.setdefault("KERAS_BACKEND", "torch")
import numpy as np  # noqa: E402
import torch  # noqa: E402

try:
    import keras  # noqa: E402
except ImportError:
    sys.exit("Keras 3 is not installed: pip install -r benchmarks/requirements.txt (see benchmarks/README.md)")

import recurra  # noqa: E402
from recurra import layers  # noqa: E402

MASK = np.array([[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0], [0, 0, 1, 1, 0, 1]], dtype=bool)  # (B, T) = (3, 6)
POOL_MASK = np.array([[1, 1, 1, 0, 0, 0, 0], [1] * 7, [0, 1, 1, 0, 1, 1, 0]], dtype=bool)
QUERY_MASK = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=bool)  # (B, Tq) = (2, 5)
VALUE_MASK = np.array([[1, 1, 0, 0], [0, 1, 1, 1]], dtype=bool)  # (B, Tv) = (2, 4)
RNN_OPTIONS = [{}, {"return_sequences": True, "return_state": True}, {"return_sequences": True, "go_backwards": True}]


def _torch(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return [_torch(v) for v in value]
    return None if value is None else torch.as_tensor(value)


def _numpy(value: Any) -> list[np.ndarray]:
    """Every output (states included) as float64 numpy arrays."""
    return [
        np.asarray(keras.ops.convert_to_numpy(v.detach() if isinstance(v, torch.Tensor) else v))
        for v in keras.tree.flatten(value)
    ]


def worst(a: Any, b: Any) -> float:
    pairs = list(zip(_numpy(a), _numpy(b), strict=True))
    return max(float(np.max(np.abs(x - y))) for x, y in pairs)


def copied(ours: Any, theirs: Any, inputs: Any, call: dict | None = None, keras_call: dict | None = None,
           positive: tuple[int, ...] = (), seed: int = 5) -> tuple[Any, Any]:  # fmt: skip
    """Both layers' outputs on ``inputs`` (float64), with the same random weights (drawn from ``seed``, as
    the tests draw them: ``tests/keras3.py`` 5, ``tests/layers/test_generic.py`` 3)."""
    call = call or {}
    ours(_torch(inputs), **{k: _torch(v) for k, v in call.items()})  # builds, in float64
    theirs(inputs, **call, **(keras_call or {}))
    rng = np.random.default_rng(seed)
    weights = [rng.normal(0.0, 0.5, size=w.shape) for w in ours.get_weights()]
    for i in positive:  # variances
        weights[i] = np.abs(weights[i]) + 0.1
    if weights:
        ours.set_weights(weights)
        theirs.set_weights(weights)
    return ours(_torch(inputs), **{k: _torch(v) for k, v in call.items()}), theirs(inputs, **call, **(keras_call or {}))


def one(name: str, config: dict, shape: Any, call: dict | None = None, *, training: bool = False, keras_call: dict | None = None,
        positive: tuple[int, ...] = ()) -> Callable[[np.random.Generator], float]:  # fmt: skip
    """A case: layer ``name`` with ``config`` in both libraries, on inputs of ``shape`` (a list: several)."""

    def run(rng: np.random.Generator) -> float:
        x = [rng.normal(size=s) for s in shape] if isinstance(shape, list) else rng.normal(size=shape)
        ours = getattr(layers, name)(**config).double().train(training)
        theirs = getattr(keras.layers, name)(**config, dtype="float64")
        return worst(*copied(ours, theirs, x, call, keras_call=keras_call, positive=positive))

    return run


def rnn(make: Callable[[Any], Any], options: dict, masked: bool) -> Callable[[np.random.Generator], float]:
    """``make(lib)`` builds the layer in ``lib`` (recurra or keras): the same code in both, as Keras code runs."""

    def run(rng: np.random.Generator) -> float:
        ours = make(recurra, options).double().eval()
        x, call = rng.normal(size=(3, 6, 4)), {"mask": MASK} if masked else None
        return worst(*copied(ours, make(keras, options), x, call, seed=3))

    return run


def minimal_rnn_cell(k: Any) -> type:
    """Keras's documented example cell, written once against a Keras-like module ``k`` (keras or recurra)."""

    class MinimalRNNCell(k.layers.Layer):
        def __init__(self, units: int, dtype: str = "float64") -> None:
            super().__init__(dtype=dtype)
            self.units, self.state_size = units, units

        def build(self, input_shape: tuple) -> None:
            self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="uniform", name="kernel")
            self.recurrent_kernel = self.add_weight(
                shape=(self.units, self.units), initializer="uniform", name="recurrent_kernel"
            )

        def call(self, inputs: Any, states: list) -> tuple[Any, list]:
            output = k.ops.matmul(inputs, self.kernel) + k.ops.matmul(states[0], self.recurrent_kernel)
            return output, [output]

    return MinimalRNNCell


def recurrent(name: str, config: dict | None = None) -> Callable[[Any, dict], Any]:
    return lambda lib, options: getattr(lib.layers, name)(5, **(config or {}), **options, dtype="float64")


def cell(make_cell: Callable[[Any], Any]) -> Callable[[Any, dict], Any]:
    return lambda lib, options: lib.layers.RNN(make_cell(lib), **options, dtype="float64")


def bidirectional(merge_mode: str) -> Callable[[Any, dict], Any]:
    return lambda lib, options: lib.layers.Bidirectional(
        lib.layers.GRU(5, return_sequences=True, dtype="float64"), merge_mode=merge_mode
    )


def conv_lstm(rank: int, config: dict, masked: bool) -> Callable[[np.random.Generator], float]:
    spatial = {1: (7,), 2: (6, 5), 3: (4, 5, 3)}[rank]
    call = {"mask": np.array([[1, 0, 1, 1], [0, 0, 1, 0]], dtype=bool)} if masked else None
    return one(f"ConvLSTM{rank}D", config, (2, 4, *spatial, 2), call)


def mha(config: dict, call: dict, scores: bool, keras_scores: bool | None = None) -> Callable[[np.random.Generator], float]:
    """MultiHeadAttention(query, value, key): recurra with or without the scores, against Keras with or without
    (``call``: ``key``, a ``value_mask`` if ``masked``, ``use_causal_mask`` if ``causal``)."""

    def run(rng: np.random.Generator) -> float:
        q, v, k = rng.normal(size=(2, 5, 4)), rng.normal(size=(2, 4, 6)), rng.normal(size=(2, 4, 3))
        k = k if call.get("key") else None
        ours, theirs = layers.MultiHeadAttention(**config).eval(), keras.layers.MultiHeadAttention(**config, dtype="float64")
        masks = {"value_mask": VALUE_MASK} if call.get("masked") else {}
        flags = {"use_causal_mask": call.get("causal", False)}
        ours(_torch(q), _torch(v), _torch(k), **{n: _torch(m) for n, m in masks.items()}, **flags)
        theirs(q, v, k, **masks, **flags)
        weights = np.random.default_rng(5)
        theirs.set_weights([weights.normal(0, 0.5, size=w.shape) for w in ours.get_weights()])
        ours.set_weights(theirs.get_weights())
        ours_out = ours(_torch(q), _torch(v), _torch(k), **{n: _torch(m) for n, m in masks.items()}, **flags,
                        return_attention_scores=scores)  # fmt: skip
        theirs_out = theirs(q, v, k, **masks, **flags, return_attention_scores=scores if keras_scores is None else keras_scores)
        return worst(ours_out[0] if scores else ours_out, theirs_out[0] if (keras_scores or scores) else theirs_out)

    return run


RECURRENT = [
    ("SimpleRNN", recurrent("SimpleRNN")),
    ("LSTM", recurrent("LSTM")),
    ("GRU", recurrent("GRU")),
    ("GRU(reset_after=False)", recurrent("GRU", {"reset_after": False})),
    ("RNN(LSTMCell)", cell(lambda k: k.layers.LSTMCell(5, dtype="float64"))),
    ("RNN(GRUCell)", cell(lambda k: k.layers.GRUCell(5, dtype="float64"))),
    ("RNN([LSTMCell, GRUCell])", cell(lambda k: [k.layers.LSTMCell(5, dtype="float64"), k.layers.GRUCell(3, dtype="float64")])),
]
CONV_LSTM = [
    {"filters": 3, "kernel_size": 3, "return_sequences": True, "return_state": True},
    {"filters": 2, "kernel_size": 2, "padding": "same", "strides": 2, "go_backwards": True},
    {"filters": 2, "kernel_size": 3, "activation": "relu", "recurrent_activation": "hard_sigmoid", "use_bias": False},
]
CONVOLUTIONS = [  # (layer, input shape, config)
    ("Conv1D", (3, 9, 4), {"filters": 5, "kernel_size": 3}),
    ("Conv1D", (3, 9, 4), {"filters": 5, "kernel_size": 4, "padding": "same", "strides": 2}),
    ("Conv1D", (3, 9, 4), {"filters": 5, "kernel_size": 3, "padding": "causal", "dilation_rate": 2}),
    ("Conv1D", (3, 9, 4), {"filters": 4, "kernel_size": 3, "groups": 2, "activation": "tanh"}),
    ("Conv2D", (2, 9, 8, 4), {"filters": 3, "kernel_size": 3}),
    ("Conv2D", (2, 9, 8, 4), {"filters": 8, "kernel_size": 2, "groups": 4, "padding": "same", "strides": 2}),
    ("Conv3D", (2, 5, 7, 6, 4), {"filters": 3, "kernel_size": 2}),
    ("Conv3D", (2, 5, 7, 6, 4), {"filters": 3, "kernel_size": 2, "dilation_rate": (2, 1, 2), "padding": "same"}),
]
ATTENTIONS = [("Attention", {}), ("Attention", {"use_scale": True}), ("Attention", {"score_mode": "concat"}),
              ("AdditiveAttention", {}), ("AdditiveAttention", {"use_scale": False})]  # fmt: skip
ATTENTION_CALLS = {
    "plain": {},
    "masks": {"mask": [QUERY_MASK, VALUE_MASK]},
    "query_mask": {"mask": [QUERY_MASK, None]},
    "causal": {"use_causal_mask": True},
}
MHA = [
    {"num_heads": 2, "key_dim": 3},
    {"num_heads": 3, "key_dim": 2, "value_dim": 4, "output_shape": 6},
    {"num_heads": 1, "key_dim": 5, "use_bias": False},
    {"num_heads": 2, "key_dim": 3, "output_shape": (2, 3)},
]
MHA_CALLS = ({}, {"key": True}, {"masked": True}, {"causal": True})
MERGES = [  # (layer, config, input shapes)
    ("Add", {}, [(2, 5, 3)] * 3),
    ("Subtract", {}, [(2, 5, 3)] * 2),
    ("Multiply", {}, [(2, 5, 3)] * 3),
    ("Average", {}, [(2, 5, 3)] * 2),
    ("Maximum", {}, [(2, 5, 3)] * 2),
    ("Minimum", {}, [(2, 5, 3)] * 2),
    ("Concatenate", {"axis": 1}, [(2, 5, 3), (2, 2, 3)]),
    ("Dot", {"axes": (2, 2)}, [(2, 5, 3), (2, 4, 3)]),
    ("Dot", {"axes": (1, 1)}, [(2, 5, 3), (2, 5, 4)]),
    ("Dot", {"axes": 1, "normalize": True}, [(2, 3), (2, 3)]),
]
RESHAPES = [("RepeatVector", {"n": 4}, (2, 3)), ("Reshape", {"target_shape": (2, 3, 2)}, (2, 4, 3)),
            ("Permute", {"dims": (3, 1, 2)}, (2, 5, 3, 4))]  # fmt: skip
POOLS = [  # (layer, config, masked)
    ("GlobalAveragePooling1D", {}, False),
    ("GlobalAveragePooling1D", {}, True),
    ("GlobalMaxPooling1D", {}, False),
    ("MaxPooling1D", {"pool_size": 3, "strides": 2, "padding": "same"}, False),
    ("AveragePooling1D", {"pool_size": 2}, False),
]


def cases() -> dict[str, list[tuple[str, Callable[[np.random.Generator], float]]]]:
    """Every case, by layer group: (a label, a function of a numpy generator giving the worst difference)."""
    masked = (False, True)
    return {
        "recurrent": [
            (f"{label} {o}{' masked' * m}", rnn(make, o, m)) for label, make in RECURRENT for o in RNN_OPTIONS for m in masked
        ]
        + [
            (f"Bidirectional(GRU, {mode}){' masked' * m}", rnn(bidirectional(mode), {}, m))
            for mode in ("sum", "concat")
            for m in masked
        ],
        "convolutional recurrent": [
            (f"ConvLSTM{rank}D {config}{' masked' * m}", conv_lstm(rank, config, m))
            for rank in (1, 2, 3)
            for config in CONV_LSTM
            for m in masked
        ],
        "convolution": [(f"{name} {config}", one(name, config, shape)) for name, shape, config in CONVOLUTIONS],
        "attention": [
            (f"{name} {config} {label}", one(name, config, [(2, 5, 4), (2, 4, 3), (2, 4, 4)], call))
            for name, config in ATTENTIONS
            for label, call in ATTENTION_CALLS.items()
        ]
        + [(f"MultiHeadAttention {c} {call} with scores", mha(c, call, scores=True)) for c in MHA for call in MHA_CALLS],
        "merging": [(f"{name} {config}", one(name, config, shapes)) for name, config, shapes in MERGES],
        "reshaping": [(f"{name} {config}", one(name, config, shape)) for name, config, shape in RESHAPES],
        "pooling": [
            (f"{name} {c}{' masked' * m}", one(name, c, (3, 7, 4), {"mask": POOL_MASK} if m else None)) for name, c, m in POOLS
        ],
        "normalisation": [
            (f"LayerNormalization {c}", one("LayerNormalization", c, (3, 5, 4)))
            for c in ({}, {"center": False}, {"scale": False})
        ]
        + [
            (
                f"BatchNormalization {c} training={t}",
                one("BatchNormalization", c, (6, 5, 4), training=t, keras_call={"training": t}, positive=(3,)),
            )
            for c in ({}, {"momentum": 0.9, "epsilon": 1e-5})
            for t in (False, True)
        ],
    }


def float32_in_keras(kind: str) -> tuple[float, float, float]:
    """An RNN over Keras's ``SimpleRNNCell`` (``kind="simple"``) or over the minimal user cell: the worst
    |recurra - Keras| over the options and masks the tests use, then recurra and Keras each against the
    cell's equations run in float64 numpy (forward sequences, the same weights)."""
    if kind == "simple":
        make = cell(lambda k: k.layers.SimpleRNNCell(5, activation="relu", dtype="float64"))
    else:
        make = cell(lambda k: minimal_rnn_cell(k)(5, dtype="float64"))
    x = np.random.default_rng(1234).normal(size=(3, 6, 4))
    vs_keras = max(rnn(make, o, m)(np.random.default_rng(1234)) for o in RNN_OPTIONS for m in (False, True))
    ours, theirs = copied(make(recurra, {"return_sequences": True}).double(), make(keras, {"return_sequences": True}), x, seed=3)
    rng = np.random.default_rng(3)  # the weights copied() drew
    weights = [rng.normal(0.0, 0.5, size=w.shape) for w in _built(make(recurra, {}), x).get_weights()]
    W, U, bias = weights[0], weights[1], (weights[2] if kind == "simple" else 0.0)
    h, steps = np.zeros((3, 5)), []
    for t in range(6):  # SimpleRNNCell(relu): h_t = relu(x_t W + b + h_{t-1} U); the minimal cell: x_t W + h_{t-1} U
        h = x[:, t] @ W + bias + h @ U
        h = np.maximum(h, 0.0) if kind == "simple" else h
        steps.append(h)
    want = np.stack(steps, 1)
    return vs_keras, worst(ours, want), worst(theirs, want)


def _built(layer: Any, x: np.ndarray) -> Any:
    layer.double()(_torch(x))
    return layer


def main() -> None:
    torch.set_num_threads(1)
    start = time.perf_counter()
    print(f"Worst |recurra - Keras {keras.__version__}| (torch backend), float64, recurra's random weights copied into Keras\n")
    print(f"{'group':<25} {'cases':>5}  {'worst':>8}  case")
    for group, listed in cases().items():
        results = [(run(np.random.default_rng(1234)), label) for label, run in listed]
        value, label = max(results)
        print(f"{group:<25} {len(results):>5}  {value:8.1e}  {label}")
    print("\nAbove 1e-6: Keras 3 on torch computes these float64 inputs in float32 (the float64 references show it)")
    print(f"{'case':<50} {'vs Keras':>9} {'recurra vs f64 ref':>19} {'Keras vs f64 ref':>17}")
    for label, kind in [("RNN(SimpleRNNCell(relu))", "simple"), ("RNN(MinimalRNNCell): a user cell with ops.matmul", "minimal")]:
        vs_keras, ours, theirs = float32_in_keras(kind)
        print(f"{label:<50} {vs_keras:9.1e} {ours:19.1e} {theirs:17.1e}")
    fused = max(mha(c, call, scores=False)(np.random.default_rng(1234)) for c in MHA for call in MHA_CALLS)
    exact = max(mha(c, call, scores=False, keras_scores=True)(np.random.default_rng(1234)) for c in MHA for call in MHA_CALLS)
    print(f"{'MultiHeadAttention without scores (fused in Keras)':<50} {fused:9.1e} {exact:19.1e} {'-':>17}")
    print("  f64 ref: for the cells, their equations in float64 numpy on forward sequences (no mask) with the same weights;")
    print("  for MultiHeadAttention, Keras's own layer with the scores returned, which it computes in float64")
    print(f"\n{time.perf_counter() - start:.1f} s")


if __name__ == "__main__":
    main()
