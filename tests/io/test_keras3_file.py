"""Keras 3's own ``.keras`` files (config.json + metadata.json + HDF5 weights), written by Keras itself here,
loaded by recurra with one call: the predictions equal Keras's, and what recurra cannot follow is refused."""

from __future__ import annotations

import inspect
import json
import math
import warnings
import zipfile

import h5py
import numpy as np
import pytest
import torch

import recurra
from recurra.errors import ModelFileError, RecurraWarning
from recurra.registry import LAYERS

from ..keras3 import TOLERANCE, keras

L = keras.layers
B, T, F = 4, 6, 3
FLOAT32_TOLERANCE = 1e-5


@pytest.fixture(autouse=True)
def _fresh_keras():
    """Keras numbers layer names per session (lstm, lstm_1 ...): each test starts from lstm."""
    keras.backend.clear_session()


def _set_floatx(dtype):
    keras.config.set_floatx(dtype)
    keras.config.set_dtype_policy(dtype)  # Keras keeps the policy it made from the first floatx


@pytest.fixture(params=["float64", "float32"])
def floatx(request):
    """Keras builds its layers in this dtype; recurra takes it from the file's dtype policies."""
    _set_floatx(request.param)
    keras.utils.set_random_seed(7)
    yield request.param
    _set_floatx("float32")


@pytest.fixture
def float64():
    _set_floatx("float64")
    keras.utils.set_random_seed(7)
    yield "float64"
    _set_floatx("float32")


def _x(dtype="float64", seed=0, shape=(B, T, F)):
    return np.random.default_rng(seed).normal(size=shape).astype(dtype)


def _padded(dtype="float64"):
    """Inputs with all-zero steps (padding) at the end of some rows and the start of another."""
    x = _x(dtype)
    x[0, 4:] = 0.0
    x[1, 2:] = 0.0
    x[2, :2] = 0.0
    return x


def _flat(value):
    if isinstance(value, dict):
        return [a for k in sorted(value) for a in _flat(value[k])]
    if isinstance(value, (list, tuple)):
        return [a for v in value for a in _flat(v)]
    return [np.asarray(value)]


def _worst(a, b) -> float:
    fa, fb = _flat(a), _flat(b)
    assert [x.shape for x in fa] == [y.shape for y in fb]
    return max(float(np.max(np.abs(x - y))) for x, y in zip(fa, fb))


def _save_and_load(model, tmp_path, name="model.keras", **kwargs):
    path = tmp_path / name
    model.save(path)
    return recurra.models.load_model(path, **kwargs), path


def _check(model, x, tmp_path, floatx):
    ours, _ = _save_and_load(model, tmp_path)
    worst = _worst(ours.predict(x), model.predict(x, verbose=0))
    assert worst <= (TOLERANCE if floatx == "float64" else FLOAT32_TOLERANCE), worst
    assert next(ours.parameters()).dtype == getattr(torch, floatx)
    return ours


# -- Sequential models: each layer recurra has ------------------------------------------------------
SEQUENTIAL = {
    "simple_rnn": lambda: [L.SimpleRNN(5), L.Dense(2)],
    "lstm": lambda: [L.LSTM(5), L.Dense(1, activation="sigmoid")],
    "gru_reset_after": lambda: [L.GRU(5, reset_after=True), L.Dense(2)],
    "gru_reset_before": lambda: [L.GRU(5, reset_after=False), L.Dense(2)],
    "bidirectional_concat": lambda: [L.Bidirectional(L.LSTM(4, return_sequences=True)), L.GRU(3)],
    "bidirectional_sum": lambda: [L.Bidirectional(L.GRU(4), merge_mode="sum"), L.Dense(2)],
    "stacked": lambda: [L.LSTM(5, return_sequences=True), L.GRU(4, return_sequences=True), L.SimpleRNN(3), L.Dense(2)],
    "time_distributed": lambda: [L.LSTM(5, return_sequences=True), L.TimeDistributed(L.Dense(2)), L.Dropout(0.3)],
    "dense_dropout": lambda: [L.GRU(4, dropout=0.2, recurrent_dropout=0.1), L.Dropout(0.5), L.Dense(3, activation="softmax")],
}


@pytest.mark.parametrize("name", sorted(SEQUENTIAL))
def test_sequential_models_predict_as_in_keras(name, floatx, tmp_path):
    model = keras.Sequential([keras.Input((None, F)), *SEQUENTIAL[name]()])
    ours = _check(model, _x(floatx), tmp_path, floatx)
    assert isinstance(ours, recurra.Sequential)
    assert [layer.name for layer in ours.layers[1:]] == [layer.name for layer in model.layers]


def test_a_sequential_built_on_data_without_an_input_loads(float64, tmp_path):
    model = keras.Sequential([L.LSTM(4), L.Dense(2)])
    x = _x()
    model.predict(x, verbose=0)  # builds it: the config holds build_input_shape, no InputLayer
    _check(model, x, tmp_path, float64)


def test_masking_then_recurrent_layers(floatx, tmp_path):
    model = keras.Sequential(
        [keras.Input((None, F)), L.Masking(0.0), L.Bidirectional(L.LSTM(3, return_sequences=True)), L.LSTM(4), L.Dense(2)]
    )
    _check(model, _padded(floatx), tmp_path, floatx)


def test_bidirectional_sequences_with_a_mask_are_zero_at_padding_in_both(floatx, tmp_path):
    model = keras.Sequential([keras.Input((None, F)), L.Masking(0.0), L.Bidirectional(L.GRU(3, return_sequences=True))])
    _check(model, _padded(floatx), tmp_path, floatx)


def test_embedding_mask_zero_then_lstm_with_padded_ids(floatx, tmp_path):
    model = keras.Sequential(
        [keras.Input((None,), dtype="int32"), L.Embedding(10, 4, mask_zero=True), L.LSTM(5), L.Dense(3, activation="softmax")]
    )
    ids = np.random.default_rng(3).integers(1, 10, size=(B, T))
    ids[0, 3:] = 0
    ids[1, 1:] = 0
    ids[2, :2] = 0
    _check(model, ids, tmp_path, floatx)


def test_sequence_outputs_under_a_mask_repeat_the_last_real_output_as_in_keras(float64, tmp_path):
    model = keras.Sequential([keras.Input((None, F)), L.Masking(0.0), L.LSTM(4, return_sequences=True)])
    _check(model, _padded(), tmp_path, float64)


# -- functional models ---------------------------------------------------------------------------------
def test_shared_layers_several_inputs_and_nested_outputs(floatx, tmp_path):
    a, b = keras.Input((None, F), name="a"), keras.Input((None, F), name="b")
    shared = L.LSTM(4, return_sequences=True)
    sa, sb = shared(a), shared(b)  # one layer, two calls
    last = L.GRU(3)
    ha, hb = last(sa), last(sb)
    joined = L.Dense(2, name="joined")(L.Concatenate()([ha, hb]))
    model = keras.Model([a, b], {"joined": joined, "parts": [ha, L.TimeDistributed(L.Dense(2))(sb)]})
    ours = _check(model, [_x(floatx, 1), _x(floatx, 2)], tmp_path, floatx)
    assert isinstance(ours, recurra.Model) and ours.get_layer("lstm") is not None


def test_a_layer_called_directly_and_inside_time_distributed_is_one_layer(floatx, tmp_path):
    x = keras.Input((None, F))
    dense = L.Dense(2)
    model = keras.Model(x, [dense(x), L.TimeDistributed(dense)(x)])  # Keras stores the dense's weights once
    ours = _check(model, _x(floatx), tmp_path, floatx)
    assert ours.get_layer("time_distributed").layer is ours.get_layer("dense")


def test_initial_state_from_a_bidirectional_encoder(floatx, tmp_path):
    x, y = keras.Input((None, F)), keras.Input((None, 2))
    _, fh, bh = L.Bidirectional(L.GRU(4, return_state=True))(x)
    out = L.Bidirectional(L.GRU(4, return_sequences=True), merge_mode="ave")(y, initial_state=[fh, bh])
    model = keras.Model([x, y], out)
    _check(model, [_x(floatx, 1), _x(floatx, 2, (B, 5, 2))], tmp_path, floatx)


def _seq2seq_data(rng, n=12, enc_tokens=7, dec_tokens=8, t_in=5, t_out=6):
    """One-hot encoder inputs, decoder inputs (start token 0 first) and targets (the inputs shifted), as the
    keras-io example ``lstm_seq2seq`` prepares them."""
    enc = np.eye(enc_tokens)[rng.integers(0, enc_tokens, size=(n, t_in))]
    tokens = rng.integers(1, dec_tokens, size=(n, t_out))
    tokens[:, 0] = 0
    dec = np.eye(dec_tokens)[tokens]
    target = np.concatenate([dec[:, 1:], np.zeros((n, 1, dec_tokens))], axis=1)
    return enc, dec, target


def _seq2seq(latent=16, enc_tokens=7, dec_tokens=8):
    encoder_inputs = keras.Input(shape=(None, enc_tokens))
    encoder = L.LSTM(latent, return_state=True)
    _, state_h, state_c = encoder(encoder_inputs)
    decoder_inputs = keras.Input(shape=(None, dec_tokens))
    decoder_lstm = L.LSTM(latent, return_sequences=True, return_state=True)
    decoder_outputs, _, _ = decoder_lstm(decoder_inputs, initial_state=[state_h, state_c])
    decoder_outputs = L.Dense(dec_tokens, activation="softmax")(decoder_outputs)
    return keras.Model([encoder_inputs, decoder_inputs], decoder_outputs)


def _inference_models(api, model, latent):
    """The example's encoder and decoder models, made from the trained model's layers (``api``: keras or recurra)."""
    encoder_inputs = model.inputs[0]
    _, h, c = model.layers[2](encoder_inputs)
    encoder_model = api.Model(encoder_inputs, [h, c])
    decoder_inputs = model.inputs[1]
    h_in, c_in = api.Input(shape=(latent,)), api.Input(shape=(latent,))
    outputs, h, c = model.layers[3](decoder_inputs, initial_state=[h_in, c_in])
    decoder_model = api.Model([decoder_inputs, h_in, c_in], [model.layers[4](outputs), h, c])
    return encoder_model, decoder_model


def _decode(encoder_model, decoder_model, sequence, dec_tokens=8, steps=6):
    """Greedy decoding as in the example: the tokens chosen and every step's probabilities."""
    h, c = encoder_model.predict(sequence, verbose=0)
    target = np.zeros((1, 1, dec_tokens), dtype=sequence.dtype)
    tokens, probabilities = [], []
    for _ in range(steps):
        p, h, c = decoder_model.predict([target, h, c], verbose=0)
        token = int(np.argmax(p[0, -1]))
        tokens.append(token)
        probabilities.append(p[0, -1])
        target = np.zeros_like(target)
        target[0, 0, token] = 1.0
    return tokens, np.stack(probabilities)


def test_lstm_seq2seq_loads_and_its_inference_models_decode_as_in_keras(floatx, tmp_path):
    latent = 16
    enc, dec, target = (a.astype(floatx) for a in _seq2seq_data(np.random.default_rng(0)))
    model = _seq2seq(latent)
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    model.fit([enc, dec], target, batch_size=4, epochs=1, verbose=0)
    ours = _check(model, [enc, dec], tmp_path, floatx)
    assert [layer.name for layer in ours.layers] == [layer.name for layer in model.layers]
    theirs_models = _inference_models(keras, model, latent)
    ours_models = _inference_models(recurra, ours, latent)
    for k in range(3):
        tokens_k, p_k = _decode(*theirs_models, enc[k : k + 1])
        tokens_r, p_r = _decode(*ours_models, enc[k : k + 1])
        assert tokens_r == tokens_k
        assert np.max(np.abs(p_r - p_k)) <= (TOLERANCE if floatx == "float64" else FLOAT32_TOLERANCE)


# -- training, loading entry points --------------------------------------------------------------------
def test_a_model_trained_in_keras_continues_training_in_recurra(tmp_path):
    keras.utils.set_random_seed(3)
    x, y = _x("float32", 4, (32, T, F)), np.random.default_rng(5).normal(size=(32, 1)).astype("float32")
    model = keras.Sequential([keras.Input((None, F)), L.LSTM(8), L.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse", metrics=["mae"])
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    ours, path = _save_and_load(model, tmp_path)
    assert _worst(ours.predict(x), model.predict(x, verbose=0)) <= FLOAT32_TOLERANCE
    assert ours.optimizer is not None or ours.compile_config() is not None  # compiled as Keras's was
    before = float(np.mean((ours.predict(x) - y) ** 2))
    history = ours.fit(x, y, epochs=3, batch_size=8, verbose=0)
    losses = history.history["loss"]
    assert all(math.isfinite(v) for v in losses) and float(np.mean((ours.predict(x) - y) ** 2)) < before
    again = recurra.models.load_model(path, compile=False)
    again.compile("adam", "mse")
    assert math.isfinite(again.fit(x, y, epochs=1, batch_size=8, verbose=0).history["loss"][-1])


def test_recurra_load_reads_keras_files_too(tmp_path):
    model = keras.Sequential([keras.Input((None, F)), L.GRU(3)])
    path = tmp_path / "model.keras"
    model.save(path)
    assert _worst(recurra.load(path).predict(_x("float32")), model.predict(_x("float32"), verbose=0)) <= FLOAT32_TOLERANCE


def test_frozen_layers_stay_frozen(tmp_path):
    model = keras.Sequential([keras.Input((None, F)), L.LSTM(3, return_sequences=True), L.Bidirectional(L.GRU(2)), L.Dense(2)])
    model.layers[0].trainable = False
    model.layers[1].forward_layer.trainable = False  # one direction only
    ours, _ = _save_and_load(model, tmp_path)
    lstm, bidirectional, dense = ours.layers[1:]
    assert not any(p.requires_grad for p in lstm.parameters())
    assert not any(p.requires_grad for p in bidirectional.forward_layer.parameters())
    assert all(p.requires_grad for p in [*bidirectional.backward_layer.parameters(), *dense.parameters()])


def test_a_layer_registered_with_recurra_loads_by_its_keras_name(tmp_path):
    @keras.saving.register_keras_serializable(package="recurra_tests")
    class KerasFileScale(L.Layer):
        def build(self, input_shape):
            self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones")

        def call(self, x):
            return x * self.scale

    @recurra.saving.register_keras_serializable(package="recurra_tests", name="KerasFileScale")
    class Scale(recurra.layers.Layer):
        def build(self, input_shape, *, dtype=None, device=None):
            self.scale = torch.nn.Parameter(torch.ones(input_shape[-1], dtype=dtype, device=device))
            self.built = True

        def forward(self, x, mask=None):
            self.maybe_build(x)
            return x * self.scale

    try:
        model = keras.Sequential([keras.Input((None, F)), L.LSTM(3, return_sequences=True), KerasFileScale()])
        model.layers[-1].set_weights([np.array([1.0, -2.0, 3.0], dtype="float32")])
        ours, _ = _save_and_load(model, tmp_path)
        assert isinstance(ours.layers[-1], Scale)
        assert _worst(ours.predict(_x("float32")), model.predict(_x("float32"), verbose=0)) <= FLOAT32_TOLERANCE
    finally:
        LAYERS.pop("KerasFileScale")  # the other tests see recurra's own layers only


# -- refusals --------------------------------------------------------------------------------------------
def _rewrite(path, name, data):
    """Replace (``None``: remove) one member of a zip file."""
    with zipfile.ZipFile(path) as z:
        members = {m: z.read(m) for m in z.namelist()}
    if data is None:
        members.pop(name)
    else:
        members[name] = data
    with zipfile.ZipFile(path, "w") as z:
        for m, content in members.items():
            z.writestr(m, content)


def _saved(tmp_path, layers):
    path = tmp_path / "model.keras"
    keras.Sequential([keras.Input((None, F)), *layers]).save(path)
    return path


def test_a_damaged_zip_is_refused(tmp_path):
    path = _saved(tmp_path, [L.LSTM(3)])
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(ModelFileError, match="damaged or not a .keras model file"):
        recurra.models.load_model(path)


def test_a_file_without_its_weights_is_refused(tmp_path):
    path = _saved(tmp_path, [L.LSTM(3)])
    _rewrite(path, "model.weights.h5", None)
    with pytest.raises(ModelFileError, match=r"without model.weights.h5: expected .*found config.json, metadata.json"):
        recurra.models.load_model(path)


def test_damaged_weights_are_refused(tmp_path):
    path = _saved(tmp_path, [L.LSTM(3)])
    _rewrite(path, "model.weights.h5", b"\x89HDF\r\n\x1a\n" + b"\0" * 64)
    with pytest.raises(ModelFileError, match="model.weights.h5 is damaged or not an HDF5 file"):
        recurra.models.load_model(path)


def test_weights_of_the_wrong_shape_are_refused(tmp_path):
    path = _saved(tmp_path, [L.LSTM(3)])
    config = json.loads(zipfile.ZipFile(path).read("config.json"))
    config["config"]["layers"][1]["config"]["units"] = 4
    _rewrite(path, "config.json", json.dumps(config))
    with pytest.raises(ModelFileError, match=r"layers/lstm: the weights of 'lstm' do not fit"):
        recurra.models.load_model(path)


def test_an_unknown_layer_class_is_refused_by_name(tmp_path):
    path = _saved(tmp_path, [L.LSTM(3)])
    config = json.loads(zipfile.ZipFile(path).read("config.json"))
    config["config"]["layers"][1]["class_name"] = "ConvLSTM9D"
    _rewrite(path, "config.json", json.dumps(config))
    with pytest.raises(ModelFileError, match="layer 'lstm' of class ConvLSTM9D: recurra has no such layer"):
        recurra.models.load_model(path)


def test_a_lambda_layer_is_refused_without_running_it(tmp_path):
    path = _saved(tmp_path, [L.Lambda(keras.ops.negative), L.LSTM(3)])
    with pytest.raises(ModelFileError, match="of class Lambda: it holds Python code, and recurra never runs code"):
        recurra.models.load_model(path)


REGULARIZED = [  # (Keras layer, its recurra class, the argument): the first recurra does not take is refused
    (lambda r: L.Dense(2, kernel_regularizer=r), "Dense", "kernel_regularizer"),
    (lambda r: L.Embedding(5, 2, embeddings_regularizer=r), "Embedding", "embeddings_regularizer"),
    (lambda r: L.LayerNormalization(gamma_regularizer=r), "LayerNormalization", "gamma_regularizer"),
    (lambda r: L.BatchNormalization(beta_regularizer=r), "BatchNormalization", "beta_regularizer"),
]


def test_a_regularizer_recurra_does_not_take_is_refused_naming_the_layer_and_the_value(tmp_path):
    lacking = [(make, key) for make, name, key in REGULARIZED if key not in inspect.signature(LAYERS[name].__init__).parameters]
    if not lacking:
        pytest.skip("every layer listed takes its regularizer now")
    make, key = lacking[0]
    path = _saved(tmp_path, [L.LSTM(3, return_sequences=True), make(keras.regularizers.L2(0.01))])
    with pytest.raises(ModelFileError, match=rf"layer '\w+' of class \w+: Keras's {key}=\{{.*L2.* has no recurra equivalent"):
        recurra.models.load_model(path)


def test_a_regularizer_recurra_has_loads_and_one_it_lacks_is_refused(tmp_path):
    if "kernel_regularizer" not in inspect.signature(LAYERS["LSTM"].__init__).parameters:
        pytest.skip("recurra's LSTM takes no regularizers yet")
    model = keras.Sequential([keras.Input((None, F)), L.LSTM(3, kernel_regularizer=keras.regularizers.L2(0.01))])
    ours, _ = _save_and_load(model, tmp_path)
    assert _worst(ours.predict(_x("float32")), model.predict(_x("float32"), verbose=0)) <= FLOAT32_TOLERANCE

    @keras.saving.register_keras_serializable(package="recurra_tests")
    class KerasFilePenalty(keras.regularizers.Regularizer):
        def __call__(self, w):
            return keras.ops.sum(w)

        def get_config(self):
            return {}

    path = _saved(tmp_path, [L.LSTM(3, kernel_regularizer=KerasFilePenalty())])
    expected = "'lstm_1' of class LSTM: recurra cannot build it .*unknown regularizer 'KerasFilePenalty'"
    with pytest.raises(ModelFileError, match=expected):
        recurra.models.load_model(path)


def test_links_out_of_the_weights_file_are_refused(tmp_path):
    path = _saved(tmp_path, [L.LSTM(3)])
    weights = tmp_path / "model.weights.h5"
    weights.write_bytes(zipfile.ZipFile(path).read("model.weights.h5"))
    with h5py.File(weights, "a") as f:
        del f["layers/lstm/cell/vars/0"]
        f["layers/lstm/cell/vars/0"] = h5py.ExternalLink("/etc/other.h5", "/data")
    _rewrite(path, "model.weights.h5", weights.read_bytes())
    with pytest.raises(ModelFileError, match="layers/lstm/cell/vars/0 links to ExternalLink"):
        recurra.models.load_model(path)


def test_compile_settings_recurra_lacks_leave_the_model_uncompiled_with_a_warning(tmp_path):
    model = keras.Sequential([keras.Input((None, F)), L.LSTM(3)])
    model.compile(optimizer=keras.optimizers.Adam(use_ema=True), loss="mse")
    path = tmp_path / "model.keras"
    model.save(path)
    with pytest.warns(RecurraWarning, match="loaded without compiling .*use_ema=True"):
        ours = recurra.models.load_model(path)
    assert ours.optimizer is None and ours.compile_config() is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert recurra.models.load_model(path, compile=False).compile_config() is None  # not asked: no warning


def test_a_mixed_precision_policy_is_refused(tmp_path):
    path = _saved(tmp_path, [L.LSTM(3, dtype="mixed_float16")])
    with pytest.raises(ModelFileError, match="dtype policy|dtype 'mixed_float16'"):
        recurra.models.load_model(path)


def test_a_subclassed_model_is_refused(tmp_path):
    path = _saved(tmp_path, [L.LSTM(3)])
    config = json.loads(zipfile.ZipFile(path).read("config.json"))
    config["class_name"] = "MyModel"
    _rewrite(path, "config.json", json.dumps(config))
    with pytest.raises(ModelFileError, match="the model is a MyModel: recurra reads Keras's Sequential and functional"):
        recurra.models.load_model(path)
