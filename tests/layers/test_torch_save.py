"""Whole recurra layers and models through ``torch.save(model)`` and torch's default ``torch.load`` (weights only).

The cells and layers keep their activations by name (``recurra.activations.ActivationsByName``) and
``import recurra`` allowlists recurra's classes (``recurra.safe_globals``), so no user action is needed.
"""

from __future__ import annotations

import copy
import io
import types

import numpy as np
import pytest
import torch

import recurra
from recurra import cells
from recurra import layers as L


def _saved(model: torch.nn.Module) -> io.BytesIO:
    f = io.BytesIO()
    torch.save(model, f)
    f.seek(0)
    return f


def _first(out):
    return out[0] if isinstance(out, (tuple, list)) else out


class _CellLoop(torch.nn.Module):
    """A user's model around a recurra cell: the loop written by hand, a recurra Dense on top."""

    def __init__(self):
        super().__init__()
        self.cell = cells.GRUCell(3, 4, activation="softsign", recurrent_activation="hard_sigmoid")
        self.head = L.Dense(2, activation="sigmoid")

    def forward(self, x):
        state = self.cell.zero_state(x.shape[0], dtype=x.dtype, device=x.device)
        for t in range(x.shape[1]):
            y, state = self.cell.step(x[:, t], state)
        return self.head(y)


def _functional():
    inputs = L.Input((None, 3))
    h = L.LSTM(4, return_sequences=True)(inputs)
    return recurra.Model(inputs, L.Dense(2)(L.Concatenate()([h, L.GRU(4, return_sequences=True)(inputs)])))


X3 = (2, 5, 3)
CASES = {
    "SimpleRNN": (lambda: L.SimpleRNN(4, return_sequences=True), X3),
    "SimpleRNN complete feedback": (lambda: L.SimpleRNN(4, feedback="complete", output_units=2), X3),
    "LSTM": (lambda: L.LSTM(4, return_sequences=True, kernel_regularizer="l2", recurrent_constraint="max_norm"), X3),
    "GRU": (lambda: L.GRU(4, return_sequences=True), X3),
    "GRU relu, reset before": (lambda: L.GRU(4, activation="relu", reset_after=False), X3),
    "IndRNN": (lambda: L.IndRNN(4, return_sequences=True), X3),
    "MinGRU": (lambda: L.MinGRU(4, return_sequences=True), X3),
    "MinLSTM tanh": (lambda: L.MinLSTM(4, activation="tanh"), X3),
    "Reservoir": (lambda: L.Reservoir(20, return_sequences=True), X3),
    "Bidirectional": (lambda: L.Bidirectional(L.GRU(4, return_sequences=True)), X3),
    "RNN of Keras cells": (lambda: L.RNN([L.LSTMCell(4), L.GRUCell(3)], return_sequences=True), X3),
    "stacked Sequential": (
        lambda: recurra.Sequential(
            [
                L.Input((None, 3)),
                L.Masking(),
                L.LSTM(4, return_sequences=True),
                L.GRU(4, return_sequences=True),
                L.SimpleRNN(3),
                L.Dense(1, activation="sigmoid"),
            ]
        ),
        X3,
    ),
    "functional model": (_functional, X3),
    "ConvLSTM1D": (lambda: L.ConvLSTM1D(4, 3, return_sequences=True), (2, 5, 6, 2)),
    "ConvLSTM2D": (lambda: L.ConvLSTM2D(4, 3, padding="same", activation="relu"), (2, 4, 5, 5, 2)),
    "a user's model of recurra cells": (_CellLoop, X3),
}


@pytest.mark.parametrize("name", list(CASES))
def test_a_whole_layer_or_model_saves_and_loads_with_torchs_default_load(name):
    make, shape = CASES[name]
    model = make()
    if name == "a user's model of recurra cells":
        torch.serialization.add_safe_globals([_CellLoop])  # the user's own class is the user's to allow
    x = torch.randn(*shape)
    expected = _first(model(x))
    f = _saved(model)
    assert "builtins.getattr" not in torch.serialization.get_unsafe_globals_in_checkpoint(f)
    f.seek(0)
    loaded = torch.load(f)  # torch's default: weights_only=True
    assert type(loaded) is type(model)
    torch.testing.assert_close(_first(loaded(x)), expected, rtol=0, atol=0)
    trainable = [p for p in loaded.parameters() if p.requires_grad]
    if trainable:  # and it trains on (a Reservoir's weights are fixed)
        _first(loaded(x)).square().sum().backward()
        assert all(p.grad is not None for p in trainable)


def test_an_embedding_text_model_loads_and_predicts_the_same():
    model = recurra.Sequential(
        [
            L.Input((None,), dtype="int64"),
            L.Embedding(10, 4, mask_zero=True),
            L.Bidirectional(L.LSTM(3)),
            L.Dropout(0.1),
            L.Dense(2, activation="softmax"),
        ]
    ).eval()
    tokens = torch.tensor([[1, 2, 3, 0, 0], [4, 5, 6, 7, 8]])
    loaded = torch.load(_saved(model))
    np.testing.assert_array_equal(loaded.predict(tokens), model.predict(tokens))


def _functions_held(module: torch.nn.Module) -> list[str]:
    found = []
    for m in module.modules():
        for key, value in m.__getstate__().items():
            if isinstance(value, (types.FunctionType, types.BuiltinFunctionType)):
                found.append(f"{type(m).__name__}.{key}")
    return found


@pytest.mark.parametrize("name", ["SimpleRNN", "LSTM", "GRU", "IndRNN", "MinGRU", "stacked Sequential", "ConvLSTM2D"])
def test_the_pickled_state_holds_activation_names_not_functions(name):
    make, shape = CASES[name]
    model = make()
    model(torch.randn(*shape))
    assert _functions_held(model) == []


def test_the_functions_are_resolved_once_and_kept_under_their_old_names():
    cell = cells.LSTMCell(3, 4, activation="relu")
    assert cell.act is torch.relu and cell.rec_act is torch.sigmoid  # plain attributes: no lookup per step
    assert "act" in vars(cell) and "act" not in cell.__getstate__()
    loaded = torch.load(_saved(cell))
    assert loaded.act is torch.relu and loaded.rec_act is torch.sigmoid and "act" in vars(loaded)
    assert cells.MinGRUCell(3, 4).act is cells.minimal.g  # the minimal cells' own positive "g"
    for copied in (copy.copy(cell), copy.deepcopy(cell)):
        assert copied.act is torch.relu and copied.activation == "relu"


def test_a_compiled_model_holds_its_trainer_which_the_default_load_refuses():
    """The documented limit: after ``compile``, the model carries its optimizer and loss (not recurra's classes to
    allow); its weights and layers save as above without them."""
    model = recurra.Sequential([L.Input((None, 3)), L.LSTM(4), L.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.zeros((4, 5, 3), np.float32), np.zeros((4, 1), np.float32), epochs=1, verbose=0)
    with pytest.raises(Exception, match="Trainer|optim|loss"):
        torch.load(_saved(model))
    rebuilt = recurra.Sequential([L.Input((None, 3)), L.LSTM(4), L.Dense(1)])
    rebuilt.load_state_dict(torch.load(_saved(model.state_dict())))
    x = torch.randn(2, 5, 3)
    torch.testing.assert_close(rebuilt(x), model(x), rtol=0, atol=0)
