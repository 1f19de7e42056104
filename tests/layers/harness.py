"""The shared layer-test harness, run over every registered layer class.

A ``Case`` says how to make a layer and its input and what to expect; each ``check_*`` function
proves one property for a case:

- ``check_output_shape``: the output has the expected shape;
- ``check_parameter_count``: the parameters (and the Keras weights) hold the expected number of values;
- ``check_config_round_trip``: ``from_config(json(get_config()))`` gives the same config and, after
  ``set_weights(get_weights())``, identical outputs;
- ``check_sgd_step``: one SGD step on a tiny batch changes every weight tensor and lowers the loss;
- ``check_determinism``: the same ``torch.manual_seed`` gives the same weights and outputs.

Test modules parametrise ``CHECKS`` over their group of cases (``CORE_CASES``, ``RECURRENT_CASES``,
``WRAPPER_CASES``, ``ELEMENTWISE_CASES``, ``RESERVOIR_CASES``, ``NEIGHBOUR_CASES``: the layers recurrent
models sit among).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pytest
import torch

from recurra.errors import ConfigError
from recurra.layers import (
    GRU,
    LSTM,
    Activation,
    Add,
    Average,
    AveragePooling1D,
    BatchNormalization,
    Bidirectional,
    Concatenate,
    Conv1D,
    Dense,
    Dot,
    Dropout,
    Embedding,
    Flatten,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    IndRNN,
    InputLayer,
    Lambda,
    LayerNormalization,
    Masking,
    Maximum,
    MaxPooling1D,
    MinGRU,
    Minimum,
    MinLSTM,
    Multiply,
    Permute,
    RepeatVector,
    Reshape,
    SimpleRNN,
    Subtract,
    TimeDistributed,
)
from recurra.layers.base import Layer
from recurra.layers.reservoir import Reservoir


@dataclass
class Case:
    id: str
    make: Callable[[], Layer]
    make_input: Callable[[], torch.Tensor]
    output_shape: tuple[int, ...]
    n_params: int
    call_kwargs: dict[str, Any] = field(default_factory=dict)
    n_weights: int | None = None  # values in get_weights() when it holds more than the parameters (moving statistics)
    drawn: bool = True  # whether the initial weights are random (a seed changes them)
    saves: bool = True  # whether get_config describes the layer (a Lambda holds code, which a file never does)

    def __repr__(self) -> str:  # pytest ids
        return self.id


def _floats(*shape: int) -> Callable[[], torch.Tensor]:
    def make() -> torch.Tensor:
        g = torch.Generator().manual_seed(11)
        return torch.randn(*shape, generator=g)

    return make


def _ids(*shape: int, high: int = 10) -> Callable[[], torch.Tensor]:
    def make() -> torch.Tensor:
        g = torch.Generator().manual_seed(11)
        ids = torch.randint(1, high, shape, generator=g)
        ids[0, -2:] = 0  # some padding
        return ids

    return make


def _several(*shapes: tuple[int, ...]) -> Callable[[], list[torch.Tensor]]:
    def make() -> list[torch.Tensor]:
        g = torch.Generator().manual_seed(11)
        return [torch.randn(*shape, generator=g) for shape in shapes]

    return make


def _with_padding(*shape: int) -> Callable[[], torch.Tensor]:
    def make() -> torch.Tensor:
        x = _floats(*shape)()
        x[0, -2:] = 0.0  # two all-zero (masked) steps
        return x

    return make


def _lstm_params(F: int, H: int) -> int:
    return 4 * (F * H + H * H + H)


def _gru_params(F: int, H: int, reset_after: bool = True) -> int:
    return 3 * (F * H + H * H) + (6 * H if reset_after else 3 * H)


CORE_CASES = [
    Case("dense_2d", lambda: Dense(4, activation="tanh"), _floats(2, 3), (2, 4), 3 * 4 + 4),
    Case("dense_3d_relu", lambda: Dense(4, activation="relu"), _floats(2, 5, 3), (2, 5, 4), 3 * 4 + 4),
    Case("dense_nobias_built", lambda: Dense(4, use_bias=False, input_shape=(3,)), _floats(2, 3), (2, 4), 3 * 4),
    Case("embedding", lambda: Embedding(10, 4), _ids(2, 5), (2, 5, 4), 10 * 4),
    Case("embedding_mask_zero", lambda: Embedding(10, 3, mask_zero=True, input_length=5), _ids(2, 5), (2, 5, 3), 10 * 3),
    Case("dropout", lambda: Dropout(0.5), _floats(2, 5, 3), (2, 5, 3), 0),
    Case("dropout_noise_shape", lambda: Dropout(0.3, noise_shape=(None, 1, None)), _floats(2, 5, 3), (2, 5, 3), 0),
    Case("masking", lambda: Masking(0.0), _with_padding(2, 5, 3), (2, 5, 3), 0),
    Case("flatten", lambda: Flatten(), _floats(2, 5, 3), (2, 15), 0),
    Case("activation_softmax", lambda: Activation("softmax"), _floats(2, 5, 3), (2, 5, 3), 0),
    Case("input", lambda: InputLayer(shape=(None, 3)), _floats(2, 5, 3), (2, 5, 3), 0),
]

RECURRENT_CASES = [
    Case("simple_rnn", lambda: SimpleRNN(4), _floats(2, 5, 3), (2, 4), 3 * 4 + 4 * 4 + 4),
    Case(
        "simple_rnn_relu_seq_built",
        lambda: SimpleRNN(4, activation="relu", return_sequences=True, input_shape=(None, 3)),
        _floats(2, 5, 3),
        (2, 5, 4),
        3 * 4 + 4 * 4 + 4,
    ),
    Case("simple_rnn_direct", lambda: SimpleRNN(4, feedback="direct"), _floats(2, 5, 3), (2, 4), 3 * 4 + 4 + 4),
    Case(
        "simple_rnn_indirect_seq_masked",
        lambda: SimpleRNN(4, feedback="indirect", output_units=2, return_sequences=True),
        _floats(2, 5, 3),
        (2, 5, 2),
        3 * 4 + 2 * 4 + 4 + 4 * 2 + 2,
        {"lengths": torch.tensor([5, 3])},
    ),
    Case(
        "simple_rnn_complete_dropout",
        lambda: SimpleRNN(4, feedback="complete", output_units=2, dropout=0.2, recurrent_dropout=0.2),
        _floats(2, 5, 3),
        (2, 2),
        3 * 4 + 4 * 4 + 2 * 4 + 4 + 4 * 2 + 2,
    ),
    Case("lstm", lambda: LSTM(4), _floats(2, 5, 3), (2, 4), _lstm_params(3, 4)),
    Case(
        "lstm_seq_backwards_masked",
        lambda: LSTM(4, return_sequences=True, go_backwards=True),
        _floats(2, 5, 3),
        (2, 5, 4),
        _lstm_params(3, 4),
        {"lengths": torch.tensor([5, 3])},
    ),
    Case("lstm_dropout", lambda: LSTM(4, dropout=0.2, recurrent_dropout=0.2), _floats(2, 5, 3), (2, 4), _lstm_params(3, 4)),
    Case("gru", lambda: GRU(4), _floats(2, 5, 3), (2, 4), _gru_params(3, 4)),
    Case(
        "gru_reset_before_nobias",
        lambda: GRU(4, reset_after=False, use_bias=False),
        _floats(2, 5, 3),
        (2, 4),
        3 * (3 * 4 + 4 * 4),
    ),
    Case(
        "gru_reset_before",
        lambda: GRU(4, reset_after=False, return_sequences=True),
        _floats(2, 5, 3),
        (2, 5, 4),
        _gru_params(3, 4, reset_after=False),
    ),
]

WRAPPER_CASES = [
    Case("bidirectional_lstm_concat", lambda: Bidirectional(LSTM(4)), _floats(2, 5, 3), (2, 8), 2 * _lstm_params(3, 4)),
    Case(
        "bidirectional_gru_seq_sum",
        lambda: Bidirectional(GRU(3, return_sequences=True), merge_mode="sum"),
        _floats(2, 5, 3),
        (2, 5, 3),
        2 * _gru_params(3, 3),
    ),
    Case(
        "bidirectional_rnn_ave_built",
        lambda: Bidirectional(SimpleRNN(4, input_shape=(None, 3)), merge_mode="ave"),
        _floats(2, 5, 3),
        (2, 4),
        2 * (3 * 4 + 4 * 4 + 4),
    ),
    Case("time_distributed_dense", lambda: TimeDistributed(Dense(2)), _floats(2, 5, 3), (2, 5, 2), 3 * 2 + 2),
    Case("time_distributed_lstm", lambda: TimeDistributed(LSTM(2)), _floats(2, 4, 5, 3), (2, 4, 2), _lstm_params(3, 2)),
]

ELEMENTWISE_CASES = [  # IndRNN, MinGRU, MinLSTM: run by tests/layers/test_indrnn_minimal.py
    Case("indrnn", lambda: IndRNN(4), _floats(2, 5, 3), (2, 4), 3 * 4 + 4 + 4),
    Case(
        "indrnn_tanh_seq_backwards_masked_built",
        lambda: IndRNN(4, activation="tanh", recurrent_max=1.2, return_sequences=True, go_backwards=True, input_shape=(None, 3)),
        _floats(2, 5, 3),
        (2, 5, 4),
        3 * 4 + 4 + 4,
        {"lengths": torch.tensor([5, 3])},
    ),
    Case(
        "indrnn_dropout_nobias_seq",
        lambda: IndRNN(4, use_bias=False, dropout=0.2, recurrent_dropout=0.2, return_sequences=True),
        _floats(2, 5, 3),
        (2, 5, 4),
        3 * 4 + 4,
    ),
    Case("min_gru", lambda: MinGRU(4), _floats(2, 5, 3), (2, 4), 2 * (3 * 4 + 4)),
    Case(
        "min_gru_scan_seq_masked",
        lambda: MinGRU(4, implementation="scan", return_sequences=True),
        _floats(2, 5, 3),
        (2, 5, 4),
        2 * (3 * 4 + 4),
        {"mask": torch.tensor([[1, 0, 1, 1, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)},
    ),
    Case("min_lstm", lambda: MinLSTM(4, dropout=0.2), _floats(2, 5, 3), (2, 4), 3 * (3 * 4 + 4)),
    Case(
        "min_lstm_scan_seq_backwards_built",
        lambda: MinLSTM(4, implementation="scan", return_sequences=True, go_backwards=True, input_shape=(None, 3)),
        _floats(2, 5, 3),
        (2, 5, 4),
        3 * (3 * 4 + 4),
    ),
]

RESERVOIR_CASES = [  # no trainable parameters: the reservoir is buffers; run by tests/layers/test_reservoir_layer.py
    Case("reservoir", lambda: Reservoir(6, density=0.5, seed=3), _floats(2, 5, 3), (2, 6), 0),
    Case(
        "reservoir_leaky_seq_masked_built",
        lambda: Reservoir(6, leak_rate=0.3, spectral_radius=1.2, return_sequences=True, input_shape=(None, 3)),
        _floats(2, 5, 3),
        (2, 5, 6),
        0,
        {"lengths": torch.tensor([5, 3])},
    ),
]

NEIGHBOUR_CASES = [  # merging, reshaping, convolution, pooling, normalisation: run by their own test modules
    Case("add", lambda: Add(), _several((2, 5, 3), (2, 5, 3), (2, 5, 3)), (2, 5, 3), 0),
    Case("subtract", lambda: Subtract(), _several((2, 3), (2, 3)), (2, 3), 0),
    Case("multiply_broadcast", lambda: Multiply(), _several((2, 5, 3), (2, 1, 3)), (2, 5, 3), 0),
    Case("average", lambda: Average(), _several((2, 3), (2, 3)), (2, 3), 0),
    Case("maximum", lambda: Maximum(), _several((2, 3), (2, 3)), (2, 3), 0),
    Case("minimum", lambda: Minimum(), _several((2, 3), (2, 3)), (2, 3), 0),
    Case("concatenate", lambda: Concatenate(), _several((2, 5, 3), (2, 5, 4)), (2, 5, 7), 0),
    Case("concatenate_time", lambda: Concatenate(axis=1), _several((2, 5, 3), (2, 2, 3)), (2, 7, 3), 0),
    Case("dot_attention_scores", lambda: Dot(axes=(2, 2)), _several((2, 5, 3), (2, 4, 3)), (2, 5, 4), 0),
    Case("dot_cosine", lambda: Dot(axes=1, normalize=True), _several((2, 3), (2, 3)), (2, 1), 0),
    Case("repeat_vector", lambda: RepeatVector(4), _floats(2, 3), (2, 4, 3), 0),
    Case("reshape", lambda: Reshape((3, -1)), _floats(2, 12), (2, 3, 4), 0),
    Case("permute", lambda: Permute((2, 1)), _floats(2, 5, 3), (2, 3, 5), 0),
    Case("lambda", lambda: Lambda(lambda x: x * 2.0), _floats(2, 5, 3), (2, 5, 3), 0, saves=False),
    Case("conv1d", lambda: Conv1D(4, 3), _floats(2, 6, 3), (2, 4, 4), 3 * 3 * 4 + 4),
    Case(
        "conv1d_causal_dilated_relu_built",
        lambda: Conv1D(4, 2, padding="causal", dilation_rate=2, activation="relu", input_shape=(None, 3)),
        _floats(2, 6, 3),
        (2, 6, 4),
        2 * 3 * 4 + 4,
    ),
    Case(
        "conv1d_same_strided_groups",
        lambda: Conv1D(4, 3, strides=2, padding="same", groups=2),
        _floats(2, 7, 4),
        (2, 4, 4),
        3 * 2 * 4 + 4,
    ),
    Case(
        "global_average_pooling_masked",
        lambda: GlobalAveragePooling1D(),
        _floats(2, 5, 3),
        (2, 3),
        0,
        {"mask": torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)},
    ),  # fmt: skip
    Case("global_max_pooling_keepdims", lambda: GlobalMaxPooling1D(keepdims=True), _floats(2, 5, 3), (2, 1, 3), 0),
    Case("max_pooling", lambda: MaxPooling1D(2), _floats(2, 5, 3), (2, 2, 3), 0),
    Case("average_pooling_same", lambda: AveragePooling1D(3, strides=2, padding="same"), _floats(2, 5, 3), (2, 3, 3), 0),
    Case("layer_normalization", lambda: LayerNormalization(), _floats(2, 5, 3), (2, 5, 3), 2 * 3, drawn=False),
    Case(
        "layer_normalization_random_gamma_built",
        lambda: LayerNormalization(center=False, gamma_initializer="random_normal", input_shape=(None, 3)),
        _floats(2, 5, 3),
        (2, 5, 3),
        3,
    ),
    Case("batch_normalization", lambda: BatchNormalization(), _floats(2, 5, 3), (2, 5, 3), 2 * 3, n_weights=4 * 3, drawn=False),
    Case(
        "batch_normalization_2d_masked",
        lambda: BatchNormalization(momentum=0.9, scale=False),
        _floats(4, 3),
        (4, 3),
        3,
        n_weights=3 * 3,
        drawn=False,
    ),
]

from recurra.layers import Conv2D, Conv3D, ConvLSTM1D, ConvLSTM2D, ConvLSTM3D  # noqa: E402 (added with these cases)

CONV_CASES = [  # Conv2D, Conv3D, ConvLSTM1D/2D/3D: run by tests/layers/test_convolutional.py and test_conv_lstm.py
    Case("conv2d", lambda: Conv2D(4, 3), _floats(2, 6, 5, 3), (2, 4, 3, 4), 3 * 3 * 3 * 4 + 4),
    Case(
        "conv2d_same_strided_groups_built",
        lambda: Conv2D(4, (3, 2), strides=2, padding="same", groups=2, activation="tanh", input_shape=(None, None, 4)),
        _floats(2, 7, 5, 4),
        (2, 4, 3, 4),
        3 * 2 * 2 * 4 + 4,
    ),
    Case(
        "conv3d_dilated_nobias",
        lambda: Conv3D(3, 2, dilation_rate=(1, 2, 1), use_bias=False),
        _floats(2, 4, 5, 4, 2),
        (2, 3, 3, 3, 3),
        2 * 2 * 2 * 2 * 3,
    ),
    Case(
        "conv3d_same_sigmoid",
        lambda: Conv3D(2, 3, padding="same", activation="sigmoid"),
        _floats(2, 3, 4, 4, 2),
        (2, 3, 4, 4, 2),
        27 * 2 * 2 + 2,
    ),
    Case("conv_lstm1d", lambda: ConvLSTM1D(3, 3), _floats(2, 4, 6, 2), (2, 4, 3), 4 * 3 * (3 * 2 + 3 * 3) + 4 * 3),
    Case(
        "conv_lstm2d_seq_same_masked",
        lambda: ConvLSTM2D(3, 2, padding="same", return_sequences=True),
        _floats(2, 4, 5, 5, 2),
        (2, 4, 5, 5, 3),
        4 * 3 * (4 * 2 + 4 * 3) + 4 * 3,
        {"mask": torch.tensor([[1, 0, 1, 1], [1, 1, 1, 0]], dtype=torch.bool)},
    ),
    Case(
        "conv_lstm2d_strided_dropout_built",
        lambda: ConvLSTM2D(2, 3, strides=2, padding="same", dropout=0.2, recurrent_dropout=0.2, input_shape=(None, 6, 6, 1)),
        _floats(2, 3, 6, 6, 1),
        (2, 3, 3, 2),
        4 * 2 * (9 * 1 + 9 * 2) + 4 * 2,
    ),
    Case(
        "conv_lstm3d_backwards_state",
        lambda: ConvLSTM3D(2, 2, return_state=True, go_backwards=True),
        _floats(2, 3, 3, 4, 3, 1),
        (2, 2, 3, 2, 2),
        4 * 2 * (8 * 1 + 8 * 2) + 4 * 2,
    ),
]

from recurra.layers import AdditiveAttention, Attention, MultiHeadAttention  # noqa: E402 (added with these cases)

_QUERY_MASK = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.bool)
_VALUE_MASK = torch.tensor([[1, 1, 0, 0], [1, 0, 1, 1]], dtype=torch.bool)

ATTENTION_CASES = [  # Attention, AdditiveAttention, MultiHeadAttention: run by tests/layers/test_attention.py
    Case("attention_dot", lambda: Attention(), _several((2, 5, 3), (2, 4, 3)), (2, 5, 3), 0),
    Case(
        "attention_scaled_masked_key",
        lambda: Attention(use_scale=True),
        _several((2, 5, 3), (2, 4, 2), (2, 4, 3)),
        (2, 5, 2),
        1,
        {"mask": [_QUERY_MASK, _VALUE_MASK]},
        drawn=False,
    ),
    Case(
        "attention_concat_causal_scores_dropout",
        lambda: Attention(use_scale=True, score_mode="concat", dropout=0.2, seed=3),
        _several((2, 5, 3), (2, 5, 3)),
        (2, 5, 3),
        2,
        {"use_causal_mask": True, "return_attention_scores": True},
        drawn=False,
    ),
    Case("additive_attention", lambda: AdditiveAttention(), _several((2, 5, 3), (2, 4, 3)), (2, 5, 3), 3),
    Case(
        "additive_attention_unscaled_masked_dropout",
        lambda: AdditiveAttention(use_scale=False, dropout=0.1),
        _several((2, 5, 3), (2, 4, 3)),
        (2, 5, 3),
        0,
        {"mask": [None, _VALUE_MASK]},
    ),
    Case(
        "multi_head_attention",
        lambda: MultiHeadAttention(num_heads=2, key_dim=3),
        _floats(2, 5, 4),
        (2, 5, 4),
        (4 * 2 * 3 + 2 * 3) + (6 * 2 * 3 + 2 * 3) + (6 * 2 * 3 + 2 * 3) + (2 * 3 * 4 + 4),
        {"value": _floats(2, 4, 6)()},
    ),
    Case(
        "multi_head_attention_key_masked_causal_scores",
        lambda: MultiHeadAttention(num_heads=3, key_dim=2, value_dim=4, output_shape=5, dropout=0.2),
        _floats(2, 5, 4),
        (2, 5, 5),
        (4 * 3 * 2 + 3 * 2) + (3 * 3 * 2 + 3 * 2) + (6 * 3 * 4 + 3 * 4) + (3 * 4 * 5 + 5),
        {"value": _floats(2, 5, 6)(), "key": _floats(2, 5, 3)(), "query_mask": _QUERY_MASK, "value_mask": _QUERY_MASK,
         "use_causal_mask": True, "return_attention_scores": True},  # fmt: skip
    ),
    Case(
        "multi_head_attention_nobias_output_shape_2d",
        lambda: MultiHeadAttention(num_heads=1, key_dim=4, use_bias=False, output_shape=(2, 3)),
        _floats(2, 5, 3),
        (2, 5, 2, 3),
        3 * (3 * 1 * 4) + 1 * 4 * 2 * 3,
        {"value": _floats(2, 4, 3)()},
    ),
]

from recurra.layers import RNN, GRUCell, LSTMCell, SimpleRNNCell, StackedRNNCells  # noqa: E402


def _states(*sizes: int, batch: int = 2) -> list[torch.Tensor]:
    g = torch.Generator().manual_seed(5)
    return [torch.randn(batch, n, generator=g) for n in sizes]


CELL_CASES = [  # Keras's cell layers and RNN(cell): run by tests/layers/test_generic.py
    Case("simple_rnn_cell", lambda: SimpleRNNCell(4), _floats(2, 3), (2, 4), 3 * 4 + 4 * 4 + 4, {"states": _states(4)}),
    Case("lstm_cell", lambda: LSTMCell(4), _floats(2, 3), (2, 4), _lstm_params(3, 4), {"states": _states(4, 4)}),
    Case("gru_cell_reset_before", lambda: GRUCell(4, reset_after=False), _floats(2, 3), (2, 4), _gru_params(3, 4, False),
         {"states": _states(4)}),  # fmt: skip
    Case("stacked_cells", lambda: StackedRNNCells([LSTMCell(4), SimpleRNNCell(3)]), _floats(2, 3), (2, 3),
         _lstm_params(3, 4) + 4 * 3 + 3 * 3 + 3, {"states": [_states(4, 4), _states(3)[0]]}),  # fmt: skip
    Case("rnn_lstm_cell", lambda: RNN(LSTMCell(4)), _floats(2, 5, 3), (2, 4), _lstm_params(3, 4)),
    Case(
        "rnn_gru_cell_seq_backwards_masked_dropout",
        lambda: RNN(GRUCell(4, dropout=0.2, recurrent_dropout=0.2), return_sequences=True, go_backwards=True),
        _floats(2, 5, 3),
        (2, 5, 4),
        _gru_params(3, 4),
        {"lengths": torch.tensor([5, 3])},
    ),
    Case("rnn_stacked_built", lambda: RNN([SimpleRNNCell(4), LSTMCell(2)], input_shape=(None, 3)), _floats(2, 5, 3), (2, 2),
         3 * 4 + 4 * 4 + 4 + _lstm_params(4, 2)),  # fmt: skip
]

ALL_CASES = (
    CORE_CASES + RECURRENT_CASES + WRAPPER_CASES + ELEMENTWISE_CASES + RESERVOIR_CASES + NEIGHBOUR_CASES + CONV_CASES
    + ATTENTION_CASES + CELL_CASES
)


# -- running a case --------------------------------------------------------------------------------


def first_output(out) -> torch.Tensor:
    while isinstance(out, (tuple, list)):
        out = out[0]
    return out


def build(case: Case) -> tuple[Layer, torch.Tensor, torch.Tensor]:
    """Make the layer, call it once (which builds it if needed); return layer, input, output."""
    layer = case.make()
    x = case.make_input()
    return layer, x, first_output(layer(x, **case.call_kwargs))


def randomize_weights(layer: Layer, seed: int = 5) -> None:
    """Random values in every Keras weight, biases included (so that they matter in comparisons)."""
    rng = np.random.default_rng(seed)
    weights = [rng.normal(0.0, 0.5, size=w.shape) for w in layer.get_weights()]
    if hasattr(layer, "moving_variance"):  # a variance stays positive
        weights[-1] = np.abs(weights[-1]) + 0.1
    layer.set_weights(weights)


def n_values(layer: Layer) -> int:
    return sum(p.numel() for p in layer.parameters())


# -- the checks ------------------------------------------------------------------------------------


def check_output_shape(case: Case) -> None:
    layer, x, y = build(case)
    assert tuple(y.shape) == case.output_shape
    assert y.dtype == torch.get_default_dtype()
    assert layer.built


def check_parameter_count(case: Case) -> None:
    layer, _, _ = build(case)
    assert n_values(layer) == case.n_params
    n_weights = case.n_params if case.n_weights is None else case.n_weights
    assert sum(w.size for w in layer.get_weights()) == n_weights
    assert all(isinstance(w, np.ndarray) for w in layer.get_weights())


def check_config_round_trip(case: Case) -> None:
    layer, x, _ = build(case)
    if not case.saves:
        with pytest.raises(ConfigError, match="cannot hold"):
            layer.get_config()
        return
    if case.n_params:
        randomize_weights(layer)
    layer.eval()
    config = layer.get_config()
    as_json = json.loads(json.dumps(config))  # plain JSON types only
    assert as_json == config

    clone = type(layer).from_config(as_json)
    assert clone.get_config() == config
    assert type(clone) is type(layer)
    if not clone.built:
        clone(x, **case.call_kwargs)  # lazy layers build on their first call
    assert clone.built
    clone.eval()
    weights = layer.get_weights()
    clone.set_weights(weights)
    for a, b in zip(clone.get_weights(), weights):
        np.testing.assert_array_equal(a, b)
    y, y_clone = first_output(layer(x, **case.call_kwargs)), first_output(clone(x, **case.call_kwargs))
    assert torch.equal(y, y_clone)


def check_sgd_step(case: Case) -> None:
    layer, x, y = build(case)
    if case.n_params == 0:
        assert list(layer.parameters()) == []
        return
    layer.train()
    target = torch.randn(y.shape, generator=torch.Generator().manual_seed(2))
    before = [p.detach().clone() for p in layer.parameters()]
    optimizer = torch.optim.SGD(layer.parameters(), lr=0.05)

    def loss_value() -> torch.Tensor:
        torch.manual_seed(99)  # the same dropout masks for both evaluations
        return torch.mean((first_output(layer(x, **case.call_kwargs)) - target) ** 2)

    optimizer.zero_grad()
    loss = loss_value()
    loss.backward()
    for p in layer.parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all()
    optimizer.step()
    for (name, p), old in zip(layer.named_parameters(), before):
        assert not torch.equal(p.detach(), old), f"{name} did not change"
    with torch.no_grad():
        assert loss_value().item() < loss.item()


def check_determinism(case: Case) -> None:
    def run(seed: int):
        torch.manual_seed(seed)
        layer, _, y = build(case)  # training mode: dropout draws from the seeded generator too
        return [p.detach().clone() for p in layer.parameters()], y.detach()

    w1, y1 = run(42)
    w2, y2 = run(42)
    assert len(w1) == len(w2)
    assert all(torch.equal(a, b) for a, b in zip(w1, w2))
    assert torch.equal(y1, y2)
    if case.n_params and case.drawn:
        w3, y3 = run(43)
        assert not all(torch.equal(a, b) for a, b in zip(w1, w3))
        assert not torch.equal(y1, y3)


CHECKS = [check_output_shape, check_parameter_count, check_config_round_trip, check_sgd_step, check_determinism]
