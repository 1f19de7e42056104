"""The functional API: Input, layers called on symbolic tensors, Model(inputs, outputs) — several inputs
and outputs, initial and returned states, shared layers, masks, training, saving, and inference models
built from the layers of a trained one (the seq2seq pattern)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import recurra
from recurra import GRU, LSTM, Bidirectional, Dense, Embedding, Input, Model, Sequential, load_model
from recurra.errors import ConfigError, ShapeError
from recurra.model import Functional


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def test_a_stack_as_a_functional_model_equals_the_sequential():
    torch.manual_seed(0)
    seq = Sequential([LSTM(6, return_sequences=True, input_shape=(None, 3)), GRU(4), Dense(2)])
    x_in = Input(shape=(None, 3))
    out = x_in
    for layer in seq.layers:
        out = layer(out)
    model = Model(x_in, out)
    assert isinstance(model, Functional) and isinstance(model, Model)
    x = torch.randn(5, 7, 3)
    assert torch.equal(model(x), seq(x))
    assert [type(m).__name__ for m in model.layers] == ["InputLayer", "LSTM", "GRU", "Dense"]


def test_symbolic_shapes_follow_the_layers():
    x = Input(shape=(None, 3))
    seq, h, c = LSTM(5, return_sequences=True, return_state=True)(x)
    assert seq.shape == (None, None, 5) and h.shape == (None, 5) and c.shape == (None, 5)
    assert Bidirectional(GRU(4))(x).shape == (None, 8)
    assert Dense(2)(Input(shape=(7, 3), batch_size=4)).shape == (4, 7, 2)
    with pytest.raises(TypeError, match="a SymbolicTensor has no value"):
        bool(x)


def _seq2seq(H: int = 8, F_in: int = 5, F_out: int = 6):
    """keras-io's character seq2seq, scaled down: an encoder's states start the decoder."""
    enc_in = Input(shape=(None, F_in), name="encoder_inputs")
    _, h, c = LSTM(H, return_state=True, name="encoder")(enc_in)
    dec_in = Input(shape=(None, F_out), name="decoder_inputs")
    dec_lstm = LSTM(H, return_sequences=True, return_state=True, name="decoder")
    dec_seq, _, _ = dec_lstm(dec_in, initial_state=[h, c])
    dense = Dense(F_out, activation="softmax", name="next_char")
    return Model([enc_in, dec_in], dense(dec_seq)), (enc_in, h, c, dec_in, dec_lstm, dense)


def test_seq2seq_trains_and_its_layers_make_the_inference_models():
    torch.manual_seed(0)
    model, (enc_in, h, c, dec_in, dec_lstm, dense) = _seq2seq()
    rng = _rng()
    enc = rng.normal(size=(64, 4, 5)).astype(np.float32)
    dec = np.eye(6, dtype=np.float32)[rng.integers(0, 6, size=(64, 3))]
    target = np.eye(6, dtype=np.float32)[rng.integers(0, 6, size=(64, 3))]
    model.compile("rmsprop", "categorical_crossentropy", metrics=["accuracy"])
    history = model.fit([enc, dec], target, batch_size=16, epochs=3, validation_split=0.25, verbose=0, seed=0)
    assert history.history["loss"][-1] < history.history["loss"][0]

    # inference: the encoder alone, and the decoder stepping from given states (Keras's example does this)
    encoder = Model(enc_in, [h, c])
    state_h, state_c = Input(shape=(8,)), Input(shape=(8,))
    seq, h2, c2 = dec_lstm(dec_in, initial_state=[state_h, state_c])
    decoder = Model([dec_in, state_h, state_c], [dense(seq), h2, c2])
    states = encoder.predict(enc[:4])
    stepped, *_ = decoder.predict([dec[:4], *states])
    np.testing.assert_allclose(stepped, model.predict([enc[:4], dec[:4]]), atol=1e-6)
    # one step at a time from the encoder's states gives the same as the whole sequence
    s = [torch.as_tensor(v) for v in states]
    steps = []
    for t in range(3):
        out, *s = decoder([torch.as_tensor(dec[:4, t : t + 1]), *s])
        steps.append(out.detach().numpy())
    np.testing.assert_allclose(np.concatenate(steps, 1), stepped, atol=1e-6)


def test_a_shared_layer_has_one_set_of_weights():
    a, b = Input(shape=(None, 3)), Input(shape=(None, 3))
    shared = LSTM(4)
    ha, hb = shared(a), shared(b)
    model = Model([a, b], [ha, hb])
    assert sum(p.numel() for p in model.parameters()) == sum(p.numel() for p in shared.parameters())
    x = torch.randn(2, 5, 3)
    ya, yb = model([x, x])
    assert torch.equal(ya, yb)


def test_masks_travel_through_the_graph_as_in_a_sequential():
    torch.manual_seed(0)
    seq = Sequential([Embedding(10, 4, mask_zero=True), LSTM(5)])
    ids = torch.tensor([[3, 4, 0, 0], [1, 2, 5, 0]])
    seq(ids)
    x = Input(shape=(None,), dtype="int64")
    model = Model(x, seq.layers[1](seq.layers[0](x)))
    assert torch.equal(model(ids), seq(ids))
    alone = seq(torch.tensor([[3, 4]]))  # the padding changes nothing
    assert torch.allclose(model(ids)[0], alone[0], atol=1e-6)


def test_save_and_load_keep_the_graph(tmp_path):
    torch.manual_seed(0)
    model, _ = _seq2seq()
    model.compile("adam", "categorical_crossentropy")
    model.save(tmp_path / "s2s")
    again = load_model(tmp_path / "s2s")
    assert isinstance(again, Functional) and again.get_layer("decoder").units == 8
    xs = [torch.randn(2, 4, 5), torch.randn(2, 3, 6)]
    assert torch.equal(again(xs), model(xs))
    assert type(recurra.load(tmp_path / "s2s")) is Functional


def test_dict_inputs_and_several_outputs_train_with_weighted_losses(tmp_path):
    torch.manual_seed(0)
    a, b = Input(shape=(None, 3), name="a"), Input(shape=(None, 2), name="b")
    o1 = Dense(1, name="level")(LSTM(4)(a))
    o2 = Dense(2, name="shape")(GRU(4)(b))
    model = Model({"a": a, "b": b}, [o1, o2])
    assert model.output_names == ["level", "shape"]
    rng = _rng(1)
    x = {"a": rng.normal(size=(32, 5, 3)).astype(np.float32), "b": rng.normal(size=(32, 6, 2)).astype(np.float32)}
    y = [rng.normal(size=(32, 1)).astype(np.float32), rng.normal(size=(32, 2)).astype(np.float32)]
    model.compile("adam", {"level": "mse", "shape": "mae"}, loss_weights={"level": 1.0, "shape": 0.0})
    only_level = model.evaluate(x, y, verbose=0)
    np.testing.assert_allclose(only_level, np.mean((model.predict(x)[0] - y[0]) ** 2), rtol=1e-5)
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    predicted = model.predict(x)
    assert isinstance(predicted, list) and [p.shape for p in predicted] == [(32, 1), (32, 2)]
    model.save(tmp_path / "m")
    again = load_model(tmp_path / "m")
    np.testing.assert_array_equal(again.predict(x)[1], predicted[1])


def test_summary_shows_what_each_call_reads():
    model, _ = _seq2seq()
    text = model.summary(print_fn=None)
    assert "Connected to" in text and "decoder (LSTM)" in text
    assert "decoder_inputs, encoder[1], encoder[2]" in text


def test_errors_name_what_is_wrong():
    a, b = Input(shape=(None, 3)), Input(shape=(None, 3))
    with pytest.raises(ConfigError, match="an output depends on .* not among the inputs"):
        Model(a, LSTM(2)(b))
    with pytest.raises(ConfigError, match="expected symbolic tensors as outputs, got Tensor"):
        Model(a, torch.zeros(1))
    model = Model([a, b], [LSTM(2)(a), LSTM(2)(b)])
    with pytest.raises(ShapeError, match=r"expected 2 input\(s\) .*got 1"):
        model(torch.zeros(1, 4, 3))
    with pytest.raises(ShapeError, match=r"expected input of shape \(batch, None, 3\), got \(1, 4, 2\)"):
        model([torch.zeros(1, 4, 2), torch.zeros(1, 4, 3)])
