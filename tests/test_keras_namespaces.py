"""Keras's namespaces on recurra: ``import recurra as keras`` then ``keras.layers``, ``keras.optimizers``,
``keras.callbacks``, ``keras.utils``, ``keras.ops``, ``keras.saving``, ``keras.models``; one-file ``.keras``
models; a checkpoint never writes one format under another's name."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import recurra as keras
from recurra import layers
from recurra.errors import ConfigError, ModelFileError


def test_the_namespaces_hold_keras_names():
    assert keras.optimizers.Adam(learning_rate=1e-2).serialize() == {"class_name": "adam", "config": {"learning_rate": 0.01}}
    assert keras.losses.MeanSquaredError()(torch.ones(2, 1), torch.zeros(2, 1)).item() == 1.0
    assert keras.metrics.BinaryAccuracy is not None and keras.callbacks.EarlyStopping is not None
    assert keras.models.Sequential is keras.Sequential and keras.models.load_model is keras.load_model
    assert layers.LSTM is keras.LSTM and keras.layers.Input is keras.Input


# -- utils ------------------------------------------------------------------------------------------


def test_pad_sequences_pads_and_truncates_as_keras_does():
    seqs = [[1, 2, 3, 4], [5], []]
    assert keras.utils.pad_sequences(seqs, maxlen=3).tolist() == [[2, 3, 4], [0, 0, 5], [0, 0, 0]]
    post = keras.utils.pad_sequences(seqs, maxlen=3, padding="post", truncating="post", value=-1)
    assert post.tolist() == [[1, 2, 3], [5, -1, -1], [-1, -1, -1]]
    assert keras.utils.pad_sequences(seqs).shape == (3, 4)
    vectors = keras.utils.pad_sequences([np.ones((2, 3)), np.ones((1, 3))], dtype="float32")
    assert vectors.shape == (2, 2, 3) and vectors[1, 0].tolist() == [0, 0, 0]
    with pytest.raises(ConfigError, match="expected padding 'pre' or 'post', got 'middle'"):
        keras.utils.pad_sequences(seqs, padding="middle")


def test_to_categorical():
    out = keras.utils.to_categorical(np.array([[2], [0]]))
    assert out.dtype == np.float32 and out.tolist() == [[0, 0, 1], [1, 0, 0]]
    with pytest.raises(keras.errors.InputValueError, match=r"class ids in \[0, 1\], got values from 0 to 3"):
        keras.utils.to_categorical([0, 3], num_classes=2)


def test_timeseries_dataset_from_array_windows_like_keras():
    data = np.arange(10, dtype=np.float32)[:, None]
    targets = np.arange(10, dtype=np.float32) * 10
    ds = keras.utils.timeseries_dataset_from_array(data, targets, sequence_length=3, sequence_stride=2, batch_size=2)
    batches = list(ds)
    assert [x.shape for x, _ in batches] == [(2, 3, 1), (2, 3, 1)]
    assert batches[0][0][1, :, 0].tolist() == [2, 3, 4] and batches[0][1].tolist() == [0, 20]
    sampled = keras.utils.timeseries_dataset_from_array(data, None, sequence_length=3, sampling_rate=2, batch_size=8)
    assert next(iter(sampled))[0, :, 0].tolist() == [0, 2, 4]
    model = keras.Sequential([keras.Input(shape=(3, 1)), layers.LSTM(4), layers.Dense(1)])
    model.compile("adam", "mse")
    history = model.fit(ds, validation_data=ds, epochs=2, verbose=0)
    assert len(history.history["val_loss"]) == 2


def test_timeseries_windows_of_a_read_only_array_are_copies():
    data = np.arange(12, dtype=np.float64).reshape(6, 2)
    data.flags.writeable = False  # as pandas' .values can be
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torch warns when it wraps a read-only array
        x, y = next(iter(keras.utils.timeseries_dataset_from_array(data, np.arange(6), sequence_length=2, batch_size=4)))
    x[0, 0, 0] = -1.0
    assert data[0, 0] == 0.0 and x.shape == (4, 2, 2) and y.tolist() == [0, 1, 2, 3]


# -- losses -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "y_true", "y_pred", "options"),
    [
        ("binary_crossentropy", [[0.0, 1.0], [1.0, 1.0]], [[0.2, 0.7], [0.9, 0.4]], {}),
        ("binary_crossentropy", [[0.0, 1.0], [1.0, 1.0]], [[-1.2, 0.7], [2.0, 0.1]],
         {"from_logits": True, "label_smoothing": 0.2}),
        ("categorical_crossentropy", [[0, 1, 0], [1, 0, 0]], [[0.2, 0.7, 0.1], [0.5, 0.3, 0.2]], {"label_smoothing": 0.1}),
        ("categorical_crossentropy", [[0, 1, 0], [1, 0, 0]], [[0.2, 1.7, -0.1], [0.5, 0.3, 0.2]], {"from_logits": True}),
        ("sparse_categorical_crossentropy", [1, 0], [[0.2, 0.7, 0.1], [0.5, 0.3, 0.2]], {}),
        ("sparse_categorical_crossentropy", [[1, 2], [0, 2]],
         [[[0.2, 0.7, 0.1], [0.1, 0.1, 0.8]], [[0.5, 0.3, 0.2], [0.3, 0.3, 0.4]]], {"ignore_class": 2}),
        ("mean_squared_error", [[1.0, 2.0], [0.0, 0.0]], [[1.5, 1.0], [0.2, -0.2]], {}),
        ("mean_absolute_error", [[1.0, 2.0], [0.0, 0.0]], [[1.5, 1.0], [0.2, -0.2]], {}),
        ("huber", [[1.0, 2.0], [0.0, 0.0]], [[1.5, 4.0], [0.2, -0.2]], {"delta": 1.5}),
    ],
)  # fmt: skip
def test_loss_functions_take_keras_order_and_give_kerass_values(name, y_true, y_pred, options):
    from tests.keras3 import keras as real_keras

    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred, dtype=np.float64)
    theirs = real_keras.ops.convert_to_numpy(getattr(real_keras.losses, name)(y_true, y_pred, **options))
    ours = getattr(keras.losses, name)(y_true, y_pred, **options)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours.numpy(), theirs, rtol=1e-5, atol=1e-6)


def test_a_loss_function_given_to_compile_is_the_loss_of_its_name():
    model = keras.Sequential([keras.Input(shape=(2,)), layers.Dense(1, activation="sigmoid")])
    model.compile("sgd", loss=keras.losses.binary_crossentropy)
    x, y = np.random.default_rng(0).normal(size=(6, 2)).astype(np.float32), np.array([0, 1, 1, 0, 1, 0], np.float32)
    expected = float(keras.losses.binary_crossentropy(y[:, None], model.predict(x)).mean())
    assert model.evaluate(x, y, verbose=0) == pytest.approx(expected, rel=1e-5)
    assert model.compile_config()["loss"] == "binary_crossentropy"
    assert keras.losses.get(keras.losses.categorical_crossentropy).name == "categorical_crossentropy"
    with pytest.raises(ConfigError, match="axis=-1"):
        keras.losses.mean_squared_error([[1.0]], [[2.0]], axis=0)


# -- ops and tree ------------------------------------------------------------------------------------


def test_ops_take_keras_arguments():
    x = keras.ops.convert_to_tensor([[1.0, 2.0], [3.0, 4.0]])
    assert keras.ops.sum(x, axis=0).tolist() == [4.0, 6.0]
    assert keras.ops.mean(x, axis=-1, keepdims=True).shape == (2, 1)
    assert keras.ops.argmax(x, axis=-1).tolist() == [1, 1]
    assert keras.ops.concatenate([x, x], axis=1).shape == (2, 4)
    assert keras.ops.expand_dims(x, 0).shape == (1, 2, 2)
    assert keras.ops.matmul(x, x).tolist() == [[7.0, 10.0], [15.0, 22.0]]
    assert keras.ops.einsum("ij,jk->ik", x, x).tolist() == [[7.0, 10.0], [15.0, 22.0]]
    assert keras.ops.transpose(x).tolist() == [[1.0, 3.0], [2.0, 4.0]]
    assert keras.ops.cast(x, "int64").dtype == torch.int64
    assert keras.tree.map_structure(lambda v: v + 1, {"a": [1, 2]}) == {"a": [2, 3]}


# -- files -------------------------------------------------------------------------------------------


def _model() -> keras.Sequential:
    torch.manual_seed(0)
    return keras.Sequential([keras.Input(shape=(None, 2)), layers.GRU(3), layers.Dense(1)])


def test_a_keras_file_is_one_zip_that_loads_back(tmp_path):
    model = _model()
    model.save(tmp_path / "m.keras")
    assert (tmp_path / "m.keras").is_file()
    x = torch.randn(2, 4, 2)
    assert torch.equal(keras.models.load_model(tmp_path / "m.keras")(x), model(x))
    assert torch.equal(keras.load(tmp_path / "m.keras")(x), model(x))
    data = bytearray((tmp_path / "m.keras").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (tmp_path / "bad.keras").write_bytes(bytes(data))
    with pytest.raises(ModelFileError):
        keras.models.load_model(tmp_path / "bad.keras")
    (tmp_path / "text.keras").write_text("not a zip")
    with pytest.raises(ModelFileError, match="not a .keras model file"):
        keras.models.load_model(tmp_path / "text.keras")


def test_weights_alone_round_trip(tmp_path):
    a, b = _model(), _model()
    with torch.no_grad():
        for p in b.parameters():
            p.add_(1.0)
    a.save_weights(tmp_path / "w.safetensors")
    b.load_weights(tmp_path / "w.safetensors")
    x = torch.randn(2, 4, 2)
    assert torch.equal(a(x), b(x))


def test_checkpoints_honour_or_refuse_their_suffix(tmp_path):
    with pytest.raises(ConfigError, match=r"does not write HDF5 \(\.h5\); name a \.keras file or a directory"):
        keras.callbacks.ModelCheckpoint(tmp_path / "best.h5")
    with pytest.raises(ConfigError, match="writes safetensors: expected a .safetensors name, got .keras"):
        keras.callbacks.ModelCheckpoint(tmp_path / "w.keras", save_weights_only=True)
    model = _model()
    model.compile("adam", "mse")
    x, y = np.random.default_rng(0).normal(size=(8, 4, 2)).astype(np.float32), np.zeros((8, 1), np.float32)
    model.fit(x, y, epochs=1, verbose=0, callbacks=[keras.callbacks.ModelCheckpoint(tmp_path / "best.keras", monitor="loss")])
    assert (tmp_path / "best.keras").is_file()


def test_register_keras_serializable_makes_a_users_layer_loadable(tmp_path):
    @keras.saving.register_keras_serializable(package="test")
    class Scale(keras.layers.Layer):
        def __init__(self, factor: float = 2.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor
            self.built = True

        def forward(self, x, mask=None):
            return x * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    x_in = keras.Input(shape=(3,))
    model = keras.Model(x_in, layers.Dense(2)(Scale(3.0)(x_in)))
    model.save(tmp_path / "m.keras")
    again = keras.models.load_model(tmp_path / "m.keras")
    x = torch.randn(4, 3)
    assert torch.equal(again(x), model(x)) and keras.saving.get_registered_object("Scale") is Scale


# -- what Keras code calls on models, layers and datasets -----------------------------------------------------


def test_keras_preprocessing_is_the_same_functions_as_utils():
    assert keras.preprocessing.sequence.pad_sequences is keras.utils.pad_sequences
    assert keras.preprocessing.timeseries_dataset_from_array is keras.utils.timeseries_dataset_from_array


def test_take_gives_the_first_batches_of_windows():
    batches = keras.utils.timeseries_dataset_from_array(np.arange(20.0)[:, None], None, sequence_length=3, batch_size=4)
    taken = batches.take(2)
    assert len(taken) == 2 and taken[1][0, 0, 0] == 4.0 and len(batches.take(-1)) == len(batches) == 5
    with pytest.raises(ConfigError, match=r"take\(count\) with count a non-negative integer or -1, got -3"):
        batches.take(-3)


def test_layers_take_numpy_arrays_as_keras_converts_them():
    lstm = layers.LSTM(4)
    x = np.random.default_rng(0).random((2, 3, 5))  # float64, as numpy makes them
    out = lstm(x)
    assert out.dtype == torch.float32 and torch.equal(out, lstm(torch.from_numpy(x).float()))
    ids = layers.Embedding(10, 3)(np.array([[1, 2, 3]]))
    assert tuple(ids.shape) == (1, 3, 3)
    h = np.zeros((2, 4))
    assert torch.equal(lstm(x, initial_state=[h, h]), lstm(x))


def test_on_batch_methods_train_evaluate_and_predict_one_batch():
    model = keras.Sequential([keras.Input((5, 3)), layers.LSTM(4), layers.Dense(1)])
    model.compile("adam", "mse", metrics=["mae"])
    rng = np.random.default_rng(1)
    x, y = rng.random((8, 5, 3)), rng.random((8, 1))
    before = model.test_on_batch(x, y, return_dict=True)
    assert before == model.evaluate(x, y, return_dict=True, verbose=0)
    loss, mae = model.train_on_batch(x, y)
    assert loss == pytest.approx(before["loss"], rel=1e-5) and mae == pytest.approx(before["mae"], rel=1e-5)  # before the step
    assert model.test_on_batch(x, y)[0] < before["loss"]  # after it
    np.testing.assert_array_equal(model.predict_on_batch(x), model.predict(x))
    with pytest.raises(keras.errors.ShapeError, match="expected a batch of samples"):
        model.predict_on_batch(3.0)


@pytest.mark.parametrize(
    "options",
    [{"run_eagerly": True}, {"run_eagerly": False}, {"jit_compile": True}, {"jit_compile": False}, {"jit_compile": "auto"},
     {"run_eagerly": True, "jit_compile": True}],
)  # fmt: skip
def test_run_eagerly_and_jit_compile_are_accepted_and_change_nothing(options):
    """docs/keras.md: recurra always runs eagerly, its loops compiled ahead; the two options change no number."""
    x, y = np.random.default_rng(2).random((16, 5, 3)), np.random.default_rng(3).random((16, 1))

    def trained(**compile_options):
        torch.manual_seed(0)
        inputs = keras.Input((5, 3))
        model = keras.Model(inputs, layers.Dense(1)(layers.GRU(4, dropout=0.2)(inputs)))
        model.compile("adam", "mse", metrics=["mae"], **compile_options)
        history = model.fit(x, y, batch_size=4, epochs=2, verbose=0, seed=1).history
        return history, model.get_weights(), model.evaluate(x, y, verbose=0), model.compile_config()

    plain, changed = trained(), trained(**options)
    assert changed[0] == plain[0] and changed[2] == plain[2] and changed[3] == plain[3]
    for a, b in zip(changed[1], plain[1]):
        np.testing.assert_array_equal(a, b)


def test_layer_and_model_input_and_output_are_their_first_symbolic_call():
    encoder_in, decoder_in = keras.Input((None, 3)), keras.Input((None, 2))
    encoder = layers.LSTM(4, return_state=True)
    _, h, c = encoder(encoder_in)
    decoder_out = layers.LSTM(4)(decoder_in, initial_state=[h, c])
    model = keras.Model([encoder_in, decoder_in], decoder_out)
    assert model.input == [encoder_in, decoder_in] and model.output is decoder_out
    assert encoder.input is encoder_in and encoder.output[1] is h
    encoder(keras.Input((None, 3)))  # a second call: input and output stay the first call's
    assert encoder.input is encoder_in
    encoder_model = keras.Model(model.input[0], encoder.output[1:])  # the seq2seq inference pattern
    x = torch.randn(2, 5, 3)
    h_, c_ = encoder_model(x)
    assert torch.equal(h_, encoder(x)[1])
    with pytest.raises(ConfigError, match="LSTM has no output: it has not been called on symbolic tensors"):
        _ = layers.LSTM(3).output
