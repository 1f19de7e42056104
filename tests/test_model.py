"""``Sequential`` and ``Model``: building a stack, masks through it, ``summary``, subclassing."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.testing import assert_close

import recurra
from recurra import GRU, LSTM, Dense, Embedding, Input, Masking, Sequential, SimpleRNN
from recurra.errors import ConfigError, ShapeError


def _data(n=16, T=5, F=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, T, F)).astype(np.float32), rng.normal(size=(n, 1)).astype(np.float32)


# -- building -------------------------------------------------------------------------------------


def test_list_constructor_and_add_build_the_same_model():
    recurra.set_seed(3)
    a = Sequential([SimpleRNN(4, input_shape=(None, 3)), Dense(2)])
    a.build()
    recurra.set_seed(3)
    b = Sequential()
    b.add(SimpleRNN(4, input_shape=(None, 3)))
    b.add(Dense(2))
    b.build()
    assert [type(layer) for layer in a.layers] == [type(layer) for layer in b.layers] == [SimpleRNN, Dense]
    x, _ = _data()
    np.testing.assert_array_equal(a.predict(x), b.predict(x))
    assert a.build_input_shape == b.build_input_shape == (None, 3)


def test_add_refuses_what_is_not_a_module():
    with pytest.raises(TypeError, match="expected a layer .*got int"):
        Sequential().add(3)


def test_input_as_first_layer_states_the_shape():
    model = Sequential([Input(shape=(None, 3)), SimpleRNN(4), Dense(1)])
    assert model.build_input_shape == (None, 3)
    assert model.built  # a known input shape builds every layer as it is added, as in Keras
    assert model.predict(np.zeros((2, 7, 3), np.float32)).shape == (2, 1)
    with pytest.raises(ShapeError, match=r"expected input of shape \(batch, None, 3\), got \(2, 7, 4\)"):
        model(torch.zeros(2, 7, 4))


def test_input_only_first():
    model = Sequential([SimpleRNN(4, input_shape=(None, 3))])
    with pytest.raises(ConfigError, match="first layer"):
        model.add(Input(shape=(None, 4)))


def test_pop_removes_the_last_layer():
    model = Sequential([SimpleRNN(4, input_shape=(None, 3)), Dense(2), Dense(1)])
    last = model.pop()
    assert isinstance(last, Dense) and last.units == 1
    assert len(model.layers) == 2
    assert model.predict(np.zeros((2, 5, 3), np.float32)).shape == (2, 2)
    model.pop()
    model.pop()
    with pytest.raises(ConfigError, match="no layers"):
        model.pop()


def test_forward_on_empty_model_raises():
    with pytest.raises(ConfigError, match="no layers"):
        Sequential()(torch.zeros(1, 2, 3))


def test_lazy_model_records_input_shape_on_first_call():
    model = Sequential([LSTM(3), Dense(1)])
    assert not model.built and model.build_input_shape is None
    model(torch.zeros(2, 6, 4))
    assert model.built
    assert model.build_input_shape == (None, 4)
    assert model.build_input_dtype == "float"


# -- masks flow through the stack -----------------------------------------------------------------


def test_embedding_mask_reaches_lstm():
    torch.manual_seed(0)
    model = Sequential([Embedding(12, 4, mask_zero=True), LSTM(5)])
    ids = torch.tensor([[3, 5, 2, 0, 0, 0], [1, 2, 3, 4, 5, 6], [7, 0, 0, 0, 0, 0]])
    lengths = [3, 6, 1]
    with torch.no_grad():
        batch = model(ids)
        for b, n in enumerate(lengths):
            alone = model(ids[b : b + 1, :n])
            assert_close(batch[b], alone[0], atol=1e-6, rtol=0)
        # without the mask the padded rows would differ: the check above is not vacuous
        unmasked = Sequential([Embedding(12, 4, mask_zero=False), LSTM(5)])
        unmasked(ids)
        unmasked.load_state_dict(model.state_dict())
        assert not torch.allclose(unmasked(ids)[0], batch[0], atol=1e-4)


def test_masking_layer_mask_reaches_gru_sequences():
    torch.manual_seed(0)
    model = Sequential([Masking(input_shape=(None, 2)), GRU(3, return_sequences=True), Dense(1)])
    x = torch.randn(2, 4, 2)
    x[0, 2:] = 0.0  # padding
    with torch.no_grad():
        y = model(x)
        alone = model(x[:1, :2])
    assert_close(y[0, :2], alone[0], atol=1e-6, rtol=0)


def test_plain_module_in_stack_gets_no_mask():
    model = Sequential([Embedding(5, 3, mask_zero=True), torch.nn.Identity(), LSTM(2)])
    ids = torch.tensor([[1, 2, 0]])
    out = model(ids)
    with torch.no_grad():
        # the mask stops at the plain module: the LSTM runs over all three steps
        full = model.layers[2](model.layers[0](ids))
    assert_close(out, full)


# -- summary ----------------------------------------------------------------------------------------


def test_summary_simple_rnn_counts():
    model = Sequential([SimpleRNN(64, input_shape=(20, 3)), Dense(1, activation="sigmoid")])
    lines = []
    text = model.summary(print_fn=lines.append)
    assert lines == [text]
    rnn_row = next(line for line in text.splitlines() if line.startswith("SimpleRNN"))
    dense_row = next(line for line in text.splitlines() if line.startswith("Dense"))
    assert 64 * 3 + 64 * 64 + 64 == 4352
    assert "(None, 64)" in rnn_row and rnn_row.rstrip().endswith("4,352")
    assert "(None, 1)" in dense_row and dense_row.rstrip().endswith("65")
    assert "Total params: 4,417" in text
    assert "Trainable params: 4,417" in text
    assert "Non-trainable params: 0" in text


def test_summary_lstm_with_free_timesteps():
    model = Sequential([LSTM(8, return_sequences=True, input_shape=(None, 4), name="enc"), LSTM(3)])
    text = model.summary(print_fn=None)
    rows = text.splitlines()
    enc = next(r for r in rows if r.startswith("enc (LSTM)"))
    assert "(None, None, 8)" in enc
    assert enc.rstrip().endswith(f"{4 * (8 * 4 + 8 * 8 + 8)}")
    second = next(r for r in rows if r.startswith("LSTM"))
    assert "(None, 3)" in second
    assert second.rstrip().endswith(f"{4 * (3 * 8 + 3 * 3 + 3)}")


def test_summary_fixed_timesteps_kept():
    text = Sequential([GRU(2, return_sequences=True, input_shape=(10, 4))]).summary(print_fn=None)
    assert "(None, 10, 2)" in text


def test_summary_units_equal_to_probe_length_not_taken_for_time():
    # 7 and 11 units: the sizes summary might use for a free time axis must still print as sizes
    for units in (7, 11):
        text = Sequential([SimpleRNN(units, input_shape=(None, 3)), Dense(units)]).summary(print_fn=None)
        assert text.count(f"(None, {units})") == 2, text


def test_known_input_shape_builds_every_layer_and_summary_counts_them():
    model = Sequential([SimpleRNN(4, input_shape=(None, 3)), Dense(2)])
    assert model.built
    text = model.summary(print_fn=None)
    assert model.built
    assert f"Total params: {4 * 3 + 16 + 4 + 4 * 2 + 2}" in text


def test_summary_unbuilt_without_shape_lists_the_layers_unbuilt():
    model = Sequential([SimpleRNN(4), Dense(1)])
    text = model.summary(print_fn=None)
    assert not model.built and text.count("0 (unbuilt)") == 2 and "Total params: 0" in text


def test_summary_does_not_disturb_stateful_layers():
    model = Sequential([SimpleRNN(4, stateful=True, input_shape=(None, 3)), Dense(1)])
    model.summary(print_fn=None)
    assert model.layers[0].carried_state is None
    model.compile("sgd", "mse")
    x, y = _data(n=8)
    model.fit(x, y, batch_size=4, shuffle=False, verbose=0)  # batch 4 after a summary's batch of 1
    assert model.layers[0].carried_state.h.shape == (4, 4)


# -- subclassing Model ------------------------------------------------------------------------------


class Regressor(recurra.Model):
    def __init__(self):
        super().__init__()
        self.rnn = LSTM(6)
        self.head = Dense(1)

    def forward(self, x):
        return self.head(self.rnn(x))


def test_model_subclass_compiles_and_fits():
    recurra.set_seed(0)
    x, _ = _data(n=32)
    y = x[:, :, 0].mean(1, keepdims=True) * 3.0
    model = Regressor()
    model.compile("adam", "mse")
    history = model.fit(x, y, epochs=8, batch_size=8, verbose=0)
    assert sum(p.numel() for p in model.parameters()) == 4 * (6 * 3 + 36 + 6) + 7
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.predict(x).shape == (32, 1)
    assert isinstance(model.evaluate(x, y, verbose=0), float)


def test_model_subclass_without_config_cannot_be_saved(tmp_path):
    model = Regressor()
    model(torch.zeros(1, 2, 3))
    with pytest.raises(ConfigError, match="only Sequential"):
        model.save(tmp_path / "m")


def test_get_set_weights_round_trip():
    a = Sequential([GRU(3, input_shape=(None, 2)), Dense(1)])
    a.build()
    b = Sequential([GRU(3, input_shape=(None, 2)), Dense(1)])
    b.build()
    x = np.random.default_rng(0).normal(size=(3, 4, 2)).astype(np.float32)
    assert not np.allclose(a.predict(x), b.predict(x))
    b.set_weights(a.get_weights())
    np.testing.assert_array_equal(a.predict(x), b.predict(x))
    with pytest.raises(ShapeError, match="expected"):
        b.set_weights(a.get_weights()[:-1])


def test_sequential_weights_speak_keras_layout_layer_by_layer():
    """``Sequential.get_weights`` once walked the module list in torch's layout: Keras-layout weights from
    another model loaded transposed, with no error, when features equal units."""
    torch.manual_seed(0)
    a = Sequential([SimpleRNN(3, return_sequences=True, input_shape=(None, 3)), LSTM(3), Dense(2)])
    b = Sequential([SimpleRNN(3, return_sequences=True, input_shape=(None, 3)), LSTM(3), Dense(2)])
    keras_layout = [w for layer in a.layers for w in layer.get_weights()]
    assert all(np.array_equal(x, y) for x, y in zip(a.get_weights(), keras_layout))
    b.set_weights(a.get_weights())
    x = torch.randn(2, 4, 3)
    assert torch.equal(a(x), b(x))
