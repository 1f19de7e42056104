"""RNN(cell) and Keras's cell layers: the harness, Keras 3's numbers (built-in cells, stacked cells, a
cell written Keras's way with only the imports changed), weights interchangeable with the layers, masks,
states, saving, and the errors."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.testing import assert_close

import recurra
from recurra import layers
from recurra.errors import ConfigError, ShapeError
from tests.keras3 import MATMUL_TOLERANCE, TOLERANCE, keras
from tests.layers.harness import CELL_CASES, CHECKS

MASK = np.array([[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0], [0, 0, 1, 1, 0, 1]], dtype=bool)


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
@pytest.mark.parametrize("case", CELL_CASES, ids=repr)
def test_harness(case, check):
    check(case)


def minimal_rnn_cell(k):
    """Keras's documented example cell, written once against a Keras-like module ``k`` (keras or recurra)."""

    class MinimalRNNCell(k.layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.state_size = units

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="uniform", name="kernel")
            self.recurrent_kernel = self.add_weight(
                shape=(self.units, self.units), initializer="uniform", name="recurrent_kernel"
            )
            self.built = True

        def call(self, inputs, states):
            prev_output = states[0]
            h = k.ops.matmul(inputs, self.kernel)
            output = h + k.ops.matmul(prev_output, self.recurrent_kernel)
            return output, [output]

        def get_config(self):
            return {**super().get_config(), "units": self.units}

    return MinimalRNNCell


def peephole_cell(k):
    """A cell with two states, an output of its own size, and ``training`` (written against ``k``)."""

    class LeakyTwoState(k.layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.state_size = [units, units]
            self.output_size = 2 * units

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="glorot_uniform", name="w")
            self.u = self.add_weight(shape=(self.units, self.units), initializer="orthogonal", name="u")

        def call(self, inputs, states, training=None):
            h, s = states
            h_new = k.ops.tanh(k.ops.matmul(inputs, self.w) + k.ops.matmul(h, self.u))
            s_new = 0.5 * s + 0.5 * h_new
            return k.ops.concatenate([h_new, s_new], axis=-1), [h_new, s_new]

    return LeakyTwoState


def _run_keras(layer, x, mask=None):
    out = layer(x, mask=mask) if mask is not None else layer(x)
    return [keras.ops.convert_to_numpy(o) for o in recurra.tree.flatten(out)]


def _run_ours(layer, x, mask=None):
    out = layer(torch.tensor(x), mask=None if mask is None else torch.tensor(mask))
    flat = recurra.tree.flatten(out)
    return [o.detach().numpy() for o in flat]


def _compare(ours_layer, keras_layer, x, mask=None) -> float:
    ours_layer(torch.tensor(x))
    keras_layer(x)
    rng = np.random.default_rng(3)
    weights = [rng.normal(0, 0.5, size=w.shape) for w in ours_layer.get_weights()]
    ours_layer.set_weights(weights)
    keras_layer.set_weights(weights)
    ours, theirs = _run_ours(ours_layer, x, mask), _run_keras(keras_layer, x, mask)
    assert len(ours) == len(theirs)
    return max(float(np.max(np.abs(a - b))) for a, b in zip(ours, theirs))


CELLS = [
    ("LSTMCell", {}),
    ("GRUCell", {}),
    ("GRUCell", {"reset_after": False}),
    ("SimpleRNNCell", {"activation": "relu"}),
]


@pytest.mark.parametrize("masked", [False, True], ids=["nomask", "mask"])
@pytest.mark.parametrize(
    "options", [{}, {"return_sequences": True, "return_state": True}, {"return_sequences": True, "go_backwards": True}]
)
@pytest.mark.parametrize("name, config", CELLS)
def test_rnn_over_builtin_cells_equals_keras(rng, name, config, options, masked):
    x = rng.normal(size=(3, 6, 4))
    ours = layers.RNN(getattr(layers, name)(5, **config), **options).double()
    theirs = keras.layers.RNN(getattr(keras.layers, name)(5, **config, dtype="float64"), **options, dtype="float64")
    tolerance = MATMUL_TOLERANCE if name == "SimpleRNNCell" else TOLERANCE  # Keras's SimpleRNNCell uses ops.matmul
    assert _compare(ours, theirs, x, MASK if masked else None) <= tolerance


@pytest.mark.parametrize("masked", [False, True], ids=["nomask", "mask"])
def test_stacked_cells_equal_keras_with_nested_states(rng, masked):
    x = rng.normal(size=(3, 6, 4))
    ours = layers.RNN([layers.LSTMCell(5), layers.GRUCell(3)], return_sequences=True, return_state=True).double()
    theirs = keras.layers.RNN(
        [keras.layers.LSTMCell(5, dtype="float64"), keras.layers.GRUCell(3, dtype="float64")],
        return_sequences=True,
        return_state=True,
        dtype="float64",
    )
    assert _compare(ours, theirs, x, MASK if masked else None) <= MATMUL_TOLERANCE
    out = ours(torch.tensor(x))
    assert len(out) == 3 and [len(s) for s in out[1:]] == [2, 1]  # output, [h, c], [h]


@pytest.mark.parametrize("make", [minimal_rnn_cell, peephole_cell], ids=["minimal", "two_states"])
@pytest.mark.parametrize(
    "options", [{}, {"return_sequences": True, "return_state": True}, {"return_sequences": True, "go_backwards": True}]
)
def test_a_cell_written_for_keras_runs_with_only_the_import_changed(rng, make, options):
    x = rng.normal(size=(3, 6, 4))
    ours = layers.RNN(make(recurra)(5, dtype="float64"), **options)
    theirs = keras.layers.RNN(make(keras)(5, dtype="float64"), **options, dtype="float64")
    for mask in (None, MASK):
        assert _compare(ours, theirs, x, mask) <= MATMUL_TOLERANCE
    assert ours.kernel == "reference"


def test_a_keras_written_cell_is_exact_in_float64(rng):
    """recurra runs the cell in float64 throughout: the minimal cell's equations in numpy, to 1e-12."""
    x = rng.normal(size=(3, 6, 4))
    layer = layers.RNN(minimal_rnn_cell(recurra)(5, dtype="float64"), return_sequences=True)
    layer(torch.tensor(x))
    W, U = rng.normal(size=(4, 5)), rng.normal(size=(5, 5)) * 0.3
    layer.set_weights([W, U])
    h, want = np.zeros((3, 5)), []
    for t in range(6):
        h = x[:, t] @ W + h @ U
        want.append(h)
    np.testing.assert_allclose(layer(torch.tensor(x)).detach().numpy(), np.stack(want, 1), rtol=1e-12, atol=1e-12)


def test_cells_called_one_step_equal_keras(rng):
    x, h, c = rng.normal(size=(3, 4)), rng.normal(size=(3, 5)), rng.normal(size=(3, 5))
    ours, theirs = layers.LSTMCell(5), keras.layers.LSTMCell(5, dtype="float64")
    y, states = ours(torch.tensor(x), [torch.tensor(h), torch.tensor(c)])
    theirs.build((None, 4))
    theirs.set_weights(ours.get_weights())
    y_k, states_k = theirs(x, [h, c])
    np.testing.assert_allclose(y.detach().numpy(), keras.ops.convert_to_numpy(y_k), atol=TOLERANCE, rtol=0)
    for a, b in zip(states, states_k):
        np.testing.assert_allclose(a.detach().numpy(), keras.ops.convert_to_numpy(b), atol=TOLERANCE, rtol=0)


@pytest.mark.parametrize(
    "cell, layer",
    [
        (lambda: layers.LSTMCell(4), lambda: layers.LSTM(4)),
        (lambda: layers.GRUCell(4, reset_after=False), lambda: layers.GRU(4, reset_after=False)),
        (lambda: layers.SimpleRNNCell(4), lambda: layers.SimpleRNN(4)),
    ],
)
def test_cell_weights_are_interchangeable_with_the_layer(cell, layer):
    x = torch.randn(2, 5, 3)
    a, b = layer(), layers.RNN(cell())
    a(x)
    b(x)
    assert [w.shape for w in a.get_weights()] == [w.shape for w in b.get_weights()]
    b.set_weights(a.get_weights())
    assert_close(a(x), b(x))
    assert b.kernel == a.kernel  # recurra's own cells keep the layers' kernels (fused where they allow)


def test_user_cell_may_state_a_fast_path():
    class Doubling(layers.Layer):
        state_size = 3

        def call(self, inputs, states):
            out = states[0] + inputs
            return out, [out]

        def fused_reason(self):
            return None

        def fused(self, inputs, states):
            out = states[0].unsqueeze(1) + inputs.cumsum(1)
            return out, [out[:, -1]]

    x = torch.randn(2, 5, 3)
    fast = layers.RNN(Doubling(), return_sequences=True)
    y = fast(x)
    assert fast.kernel == "fused"
    slow = layers.RNN(Doubling(), return_sequences=True, implementation="reference")
    assert_close(y, slow(x))
    assert slow.kernel == "reference"
    fast(x, mask=torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=torch.bool))
    assert fast.kernel == "reference"  # a mask: the cell's whole-sequence path cannot skip steps


def test_stateful_rnn_exposes_states_and_resets():
    layer = layers.RNN(layers.LSTMCell(3), stateful=True)
    assert layer.states is None
    x = torch.randn(2, 4, 2)
    first = layer(x)
    h, c = layer.states
    assert h.shape == (2, 3) and torch.equal(h, first.detach())
    second = layer(x)
    assert not torch.allclose(first, second)
    layer.reset_states()
    assert layer.states is None
    assert_close(layer(x), first)


def test_initial_state_and_return_state_in_a_functional_model():
    enc_in, dec_in = layers.Input((None, 3)), layers.Input((None, 2))
    _, h, c = layers.RNN(layers.LSTMCell(4), return_state=True)(enc_in)
    out = layers.RNN(layers.LSTMCell(4), return_sequences=True)(dec_in, initial_state=[h, c])
    model = recurra.Model([enc_in, dec_in], layers.Dense(2)(out))
    assert model([torch.randn(2, 5, 3), torch.randn(2, 6, 2)]).shape == (2, 6, 2)


def test_bidirectional_over_rnn_of_a_user_cell(rng):
    x = rng.normal(size=(3, 6, 4))
    ours = layers.Bidirectional(layers.RNN(minimal_rnn_cell(recurra)(5, dtype="float64"), return_sequences=True))
    keras_cell = keras.saving.register_keras_serializable(package="recurra_tests")(minimal_rnn_cell(keras))  # Keras needs it
    theirs = keras.layers.Bidirectional(
        keras.layers.RNN(keras_cell(5, dtype="float64"), return_sequences=True, dtype="float64"), dtype="float64"
    )
    for mask in (None, MASK):
        assert _compare(ours, theirs, x, mask) <= MATMUL_TOLERANCE


def test_a_registered_user_cell_saves_and_loads(tmp_path):
    cell_class = recurra.saving.register_keras_serializable(package="tests")(minimal_rnn_cell(recurra))
    model = recurra.Sequential([layers.Input((None, 3)), layers.RNN([cell_class(4), layers.GRUCell(2)]), layers.Dense(1)])
    x = torch.randn(2, 5, 3)
    model.save(tmp_path / "m.keras")
    loaded = recurra.models.load_model(tmp_path / "m.keras")
    assert torch.equal(model(x), loaded(x))
    model.compile(optimizer="adam", loss="mse")
    losses = model.fit(x, torch.randn(2, 1), epochs=3, verbose=0).history["loss"]
    assert losses[-1] < losses[0]


def test_rnn_refuses_what_is_not_a_cell():
    with pytest.raises(ConfigError, match=r"RNN expected a cell: a layer with a state_size attribute .*got Dense"):
        layers.RNN(layers.Dense(3))
    with pytest.raises(ConfigError, match=r"RNN expected a cell instance, got the class LSTMCell; write LSTMCell\(units\)"):
        layers.RNN(layers.LSTMCell)
    with pytest.raises(ConfigError, match=r"StackedRNNCells expected at least one cell"):
        layers.RNN([])


def test_a_cell_returning_too_few_states_is_named():
    class Forgetful(layers.Layer):
        state_size = [3, 3]

        def call(self, inputs, states):
            return states[0], [states[0]]

    with pytest.raises(ShapeError, match=r"Forgetful.call returned 1 state tensor\(s\); its state_size \[3, 3\] says 2"):
        layers.RNN(Forgetful())(torch.randn(2, 4, 3))


def test_a_cell_step_of_the_wrong_rank_is_named():
    with pytest.raises(ShapeError, match=r"LSTMCell expected one step of shape \(batch, features\), got \(2, 5, 3\)"):
        layers.LSTMCell(4)(torch.zeros(2, 5, 3), [torch.zeros(2, 4)] * 2)


# -- nested inputs, states and outputs ---------------------------------------------------------------------


@recurra.saving.register_keras_serializable(package="tests")
class PenCell(layers.Layer):
    """Keras's nested-structure example in small: inputs ``{"location": (B, 2), "pressure": (B, 1)}``, a state
    that is a grid ``(B, 2, 3)`` and one that is a vector ``(B, 4)``, and both as outputs."""

    state_size = [(2, 3), 4]
    output_size = [4, (2, 3)]

    def build(self, input_shape):
        self.w_location = self.add_weight(shape=(input_shape["location"][-1], 2, 3), name="w_location")
        self.w_pressure = self.add_weight(shape=(input_shape["pressure"][-1], 4), name="w_pressure")

    def call(self, inputs, states):
        grid, vector = states
        grid = torch.tanh(grid + torch.einsum("bi,ijk->bjk", inputs["location"], self.w_location))
        vector = torch.tanh(vector + inputs["pressure"] @ self.w_pressure + grid.sum((1, 2))[:, None])
        return [vector, grid], [grid, vector]


def _pen_inputs(B=3, T=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    return {"location": torch.randn(B, T, 2, generator=g), "pressure": torch.randn(B, T, 1, generator=g)}


def _pen_reference(cell, x, mask):
    """The loop over time written out: masked steps keep the states and repeat the last output."""
    B, T = mask.shape
    grid, vector = torch.zeros(B, 2, 3), torch.zeros(B, 4)
    last = [torch.zeros(B, 4), torch.zeros(B, 2, 3)]
    outputs = []
    for t in range(T):
        y, (new_grid, new_vector) = cell({k: v[:, t] for k, v in x.items()}, [grid, vector])
        m = mask[:, t]
        grid = torch.where(m[:, None, None], new_grid, grid)
        vector = torch.where(m[:, None], new_vector, vector)
        last = [torch.where(m[:, None], y[0], last[0]), torch.where(m[:, None, None], y[1], last[1])]
        outputs.append(last)
    return [torch.stack([o[0] for o in outputs], 1), torch.stack([o[1] for o in outputs], 1)], [grid, vector]


def test_nested_inputs_states_and_outputs_follow_the_loop_written_out():
    x, mask = _pen_inputs(), torch.from_numpy(MASK[:, :5].copy())
    rnn = layers.RNN(PenCell(), return_sequences=True, return_state=True)
    (vectors, grids), grid, vector = rnn(x, mask=mask)
    (expected_vectors, expected_grids), (expected_grid, expected_vector) = _pen_reference(rnn.keras_cell, x, mask)
    assert tuple(vectors.shape) == (3, 5, 4) and tuple(grids.shape) == (3, 5, 2, 3)
    for ours, theirs in [(vectors, expected_vectors), (grids, expected_grids), (grid, expected_grid), (vector, expected_vector)]:
        assert_close(ours, theirs, rtol=0, atol=1e-6)


def test_nested_states_carry_over_and_start_again():
    x = _pen_inputs(B=2, T=6)
    whole = layers.RNN(PenCell(), return_state=True)
    _, grid, vector = whole(x)
    half = layers.RNN(whole.keras_cell, return_state=True)
    _, g1, v1 = half({k: v[:, :3] for k, v in x.items()})
    _, g2, v2 = half({k: v[:, 3:] for k, v in x.items()}, initial_state=[g1, v1])
    assert_close(g2, grid) and assert_close(v2, vector)
    stateful = layers.RNN(whole.keras_cell, stateful=True)
    stateful({k: v[:, :3] for k, v in x.items()})
    stateful({k: v[:, 3:] for k, v in x.items()})
    assert [tuple(s.shape) for s in stateful.states] == [(2, 2, 3), (2, 4)]
    assert_close(stateful.states[0], grid)
    backwards = layers.RNN(whole.keras_cell, go_backwards=True)
    assert_close(backwards(x)[0], half({k: v.flip(1) for k, v in x.items()})[0][0])


def test_a_functional_model_of_a_nested_cell_trains_saves_and_loads(tmp_path):
    location, pressure = layers.Input((None, 2)), layers.Input((None, 1))
    vector, grid = layers.RNN(PenCell())({"location": location, "pressure": pressure})
    model = recurra.Model([location, pressure], [layers.Dense(1)(vector), grid])
    x = _pen_inputs(B=8, T=4)
    inputs, targets = [x["location"], x["pressure"]], [torch.randn(8, 1), torch.randn(8, 2, 3)]
    model.compile(optimizer="adam", loss="mse")
    losses = model.fit(inputs, targets, epochs=3, verbose=0).history["loss"]
    assert losses[-1] < losses[0]
    model.save(tmp_path / "pen.keras")
    loaded = recurra.models.load_model(tmp_path / "pen.keras")
    for ours, theirs in zip(model.predict(inputs), loaded.predict(inputs)):
        np.testing.assert_array_equal(ours, theirs)


def test_nested_inputs_and_states_of_the_wrong_form_are_named():
    rnn = layers.RNN(PenCell())
    x = _pen_inputs()
    rnn(x)
    with pytest.raises(ShapeError, match=r"RNN was built for inputs .*location.*got"):
        rnn({"location": x["location"]})
    with pytest.raises(ShapeError, match=r"one batch and time size"):
        layers.RNN(PenCell())({"location": x["location"], "pressure": x["pressure"][:, :2]})
    with pytest.raises(ShapeError, match=r"initial_state .*expected tensor 0 of shape \(batch, 2, 3\), got \(3, 6\)"):
        rnn(x, initial_state=[torch.zeros(3, 6), torch.zeros(3, 4)])

    class Flattening(PenCell):
        def call(self, inputs, states):
            y, (grid, vector) = super().call(inputs, states)
            return y, [grid.reshape(len(grid), -1), vector]

    with pytest.raises(ShapeError, match=r"Flattening.call .*expected tensor 0 of shape \(batch, 2, 3\), got \(3, 6\)"):
        layers.RNN(Flattening())(x)

    class Misshapen(layers.Layer):
        state_size = [(2, 0)]

        def call(self, inputs, states):
            return inputs, states

    with pytest.raises(ConfigError, match=r"Misshapen.state_size expected positive sizes, got \(2, 0\)"):
        layers.RNN(Misshapen())
