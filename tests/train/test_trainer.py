"""The training loop: fit / evaluate / predict on models and plain modules, inputs, validation,
verbosity, determinism, and the errors for bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

import recurra
from recurra import LSTM, Dense, Embedding, Sequential, SimpleRNN, Trainer
from recurra.errors import ConfigError, InputValueError, NotBuiltError, ShapeError, UnknownNameError
from recurra.train import History

T, F = 5, 3


def make_model(seed=0, **compile_kwargs):
    recurra.set_seed(seed)
    model = Sequential([SimpleRNN(4, input_shape=(T, F)), Dense(1)])
    model.build()
    model.compile(**{"optimizer": "adam", "loss": "mse", **compile_kwargs})
    return model


def make_data(n=24, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, T, F)).astype(np.float32)
    return x, (x[:, :, 0].sum(1, keepdims=True) * 0.5).astype(np.float32)


def weights(model):
    return [p.detach().clone() for p in model.parameters()]


def same(a, b):
    return all(torch.equal(p, q) for p, q in zip(a, b))


# -- History ------------------------------------------------------------------------------------------


def test_fit_returns_history_with_per_epoch_lists():
    model = make_model(metrics=["mae"])
    x, y = make_data()
    history = model.fit(x, y, epochs=3, batch_size=8, validation_split=0.25, verbose=0)
    assert isinstance(history, History)
    assert history.epoch == [0, 1, 2]
    assert set(history.history) == {"loss", "mae", "val_loss", "val_mae", "grad_norm", "grad_norm_max", "learning_rate"}
    for values in history.history.values():
        assert len(values) == 3 and all(isinstance(v, float) and np.isfinite(v) for v in values)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_initial_epoch():
    model = make_model()
    history = model.fit(*make_data(), epochs=3, initial_epoch=1, verbose=0)
    assert history.epoch == [1, 2]
    assert len(history.history["loss"]) == 2


def test_epoch_loss_is_sample_weighted_mean_of_batches():
    # SGD with lr tiny enough that weights hardly change: the logged loss is the dataset's loss
    model = make_model(optimizer=recurra.train.optimizers.SGD(learning_rate=1e-12))
    x, y = make_data(n=10)
    expected = model.evaluate(x, y, verbose=0)
    history = model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)  # batches of 4, 4, 2
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-6)


# -- validation -----------------------------------------------------------------------------------


def test_validation_split_takes_the_last_fraction():
    model = make_model()
    x, y = make_data(n=20)
    history = model.fit(x, y, epochs=1, batch_size=4, validation_split=0.25, verbose=0)
    val_loss = history.history["val_loss"][0]
    assert val_loss == pytest.approx(model.evaluate(x[-5:], y[-5:], verbose=0), rel=1e-6)
    assert val_loss != pytest.approx(model.evaluate(x[:5], y[:5], verbose=0), rel=1e-3)


def test_validation_split_trains_only_on_the_rest():
    seen = []

    class Recorder(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(F, 1)

        def forward(self, x):
            if self.training:
                seen.append(x.detach().clone())
            return self.fc(x[:, -1])

    x, y = make_data(n=20)
    Trainer(Recorder()).compile("sgd", "mse").fit(x, y, epochs=1, batch_size=32, validation_split=0.2, verbose=0)
    trained = torch.cat(seen)
    assert trained.shape[0] == 16
    assert torch.equal(torch.sort(trained[:, 0, 0]).values, torch.sort(torch.tensor(x[:16, 0, 0])).values)


def test_validation_data():
    model = make_model(metrics=["mse"])
    x, y = make_data()
    xv, yv = make_data(n=6, seed=1)
    history = model.fit(x, y, epochs=2, validation_data=(xv, yv), verbose=0)
    assert len(history.history["val_loss"]) == 2
    loss, mse = model.evaluate(xv, yv, verbose=0)
    assert history.history["val_loss"][-1] == pytest.approx(loss, rel=1e-6)
    assert history.history["val_mse"][-1] == pytest.approx(mse, rel=1e-6)


def test_validation_data_as_loader():
    model = make_model()
    x, y = make_data()
    loader = DataLoader(TensorDataset(torch.tensor(x[:6]), torch.tensor(y[:6])), batch_size=4)
    history = model.fit(x, y, epochs=1, validation_data=loader, verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(model.evaluate(x[:6], y[:6], verbose=0), rel=1e-6)


# -- inputs ---------------------------------------------------------------------------------------


def _fit_weights(kind):
    model = make_model()
    x, y = make_data(n=20)
    if kind == "numpy":
        model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    elif kind == "tensor":
        model.fit(torch.tensor(x), torch.tensor(y), batch_size=8, epochs=2, shuffle=False, verbose=0)
    elif kind == "float64":
        model.fit(x.astype(np.float64), y.astype(np.float64), batch_size=8, epochs=2, shuffle=False, verbose=0)
    else:
        loader = DataLoader(TensorDataset(torch.tensor(x), torch.tensor(y)), batch_size=8, shuffle=False)
        model.fit(loader, epochs=2, verbose=0)
    return weights(model)


def test_numpy_tensor_and_loader_give_the_same_result():
    reference = _fit_weights("numpy")
    assert not same(reference, weights(make_model()))  # training changed them
    for kind in ("tensor", "float64", "loader"):
        assert same(reference, _fit_weights(kind)), kind


def test_list_input_accepted():
    model = make_model()
    x, y = make_data(n=4)
    np.testing.assert_allclose(model.predict(x.tolist()), model.predict(x), rtol=0, atol=0)
    model.fit(x.tolist(), y.tolist(), epochs=1, verbose=0)


def test_shuffle_false_keeps_order_and_shuffle_true_permutes():
    def batches(shuffle, seed=None):
        seen = []

        class Recorder(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(F, 1)

            def forward(self, x):
                if self.training:
                    seen.append(x[:, 0, 0].detach().clone())
                return self.fc(x[:, -1])

        Trainer(Recorder()).compile("sgd", "mse").fit(
            *make_data(n=12), batch_size=4, epochs=2, shuffle=shuffle, seed=seed, verbose=0
        )
        return torch.stack(seen)  # (6 batches, 4)

    x, _ = make_data(n=12)
    in_order = torch.tensor(x[:, 0, 0]).reshape(3, 4)
    ordered = batches(False)
    assert torch.equal(ordered, torch.cat([in_order, in_order]))
    shuffled = batches(True, seed=1)
    assert not torch.equal(shuffled, ordered)
    assert torch.equal(torch.sort(shuffled[:3].flatten()).values, torch.sort(in_order.flatten()).values)
    assert not torch.equal(shuffled[:3], shuffled[3:])  # a new order every epoch
    assert torch.equal(batches(True, seed=1), shuffled)  # the same seed, the same order


def test_integer_inputs_reach_an_embedding():
    recurra.set_seed(0)
    model = Sequential([Embedding(10, 3, mask_zero=True), LSTM(2), Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", ["accuracy"])
    ids = np.array([[1, 2, 0], [3, 4, 5], [6, 0, 0], [7, 8, 9]])
    history = model.fit(ids, np.array([1, 0, 1, 0]), epochs=2, verbose=0)
    assert len(history.history["accuracy"]) == 2
    assert model.predict(ids).shape == (4, 1)


# -- verbosity ------------------------------------------------------------------------------------


def test_verbose_0_prints_nothing(capsys):
    model = make_model(metrics=["mae"])
    model.fit(*make_data(), epochs=2, validation_split=0.25, verbose=0)
    model.evaluate(*make_data(), verbose=0)
    model.predict(make_data()[0])
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("verbose", [1, 2, "auto"])
def test_verbose_prints_epochs_and_loss(capsys, verbose):
    model = make_model(metrics=["mae"])
    model.fit(*make_data(), epochs=2, batch_size=8, verbose=verbose)
    out = capsys.readouterr().out
    assert "Epoch 1/2" in out and "Epoch 2/2" in out
    assert out.count("loss: ") == 2 and out.count("mae: ") == 2
    assert "3/3 [" in out


def test_evaluate_verbose_prints(capsys):
    model = make_model()
    model.evaluate(*make_data(), verbose=1)
    assert "loss: " in capsys.readouterr().out


# -- evaluate / predict ---------------------------------------------------------------------------


def test_evaluate_return_forms():
    x, y = make_data()
    plain = make_model()
    value = plain.evaluate(x, y, verbose=0)
    assert isinstance(value, float)
    with_metrics = make_model(metrics=["mae", "mse"])
    values = with_metrics.evaluate(x, y, verbose=0)
    assert isinstance(values, list) and len(values) == 3
    assert values[0] == pytest.approx(value, rel=1e-6)  # same seed, same weights
    assert values[0] == pytest.approx(values[2], rel=1e-6)  # loss mse == metric mse
    logs = with_metrics.evaluate(x, y, verbose=0, return_dict=True)
    assert logs == {"loss": values[0], "mae": values[1], "mse": values[2]}


def test_evaluate_matches_numpy():
    model = make_model(metrics=["mae"])
    x, y = make_data()
    p = model.predict(x)
    loss, mae = model.evaluate(x, y, batch_size=5, verbose=0)
    assert loss == pytest.approx(float(np.mean((p - y) ** 2)), rel=1e-5)
    assert mae == pytest.approx(float(np.mean(np.abs(p - y))), rel=1e-5)


def test_predict_returns_numpy_and_needs_no_compile():
    recurra.set_seed(0)
    model = Sequential([SimpleRNN(4), Dense(2)])  # not compiled, not built
    x, _ = make_data(n=10)
    p = model.predict(x, batch_size=3)
    assert isinstance(p, np.ndarray) and p.dtype == np.float32 and p.shape == (10, 2)
    with torch.no_grad():
        np.testing.assert_allclose(p, model(torch.tensor(x)).numpy(), rtol=0, atol=1e-6)
    assert not model.training


def test_predict_several_outputs_gives_a_tuple():
    model = Sequential([LSTM(3, return_state=True, input_shape=(None, F))])
    out = model.predict(make_data(n=4)[0])
    assert isinstance(out, tuple) and len(out) == 3
    assert all(isinstance(o, np.ndarray) and o.shape == (4, 3) for o in out)
    np.testing.assert_array_equal(out[0], out[1])  # the output is h


# -- determinism ----------------------------------------------------------------------------------


def test_same_seed_same_weights_after_fit():
    x, y = make_data()

    def run(seed):
        model = make_model(seed=0)
        model.fit(x, y, epochs=2, batch_size=4, shuffle=True, seed=seed, verbose=0)
        return weights(model)

    a, b, c = run(7), run(7), run(8)
    assert same(a, b)
    assert not same(a, c)


def test_set_seed_repeats_initialisation():
    recurra.set_seed(5)
    a = weights(Sequential([LSTM(3, input_shape=(None, 2))]))
    recurra.set_seed(5)
    b = weights(Sequential([LSTM(3, input_shape=(None, 2))]))
    c = weights(Sequential([LSTM(3, input_shape=(None, 2))]))
    assert same(a, b) and not same(a, c)


# -- plain torch modules --------------------------------------------------------------------------


def test_trainer_on_plain_torch_sequential():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(T * F, 8), nn.Tanh(), nn.Linear(8, 1))
    x, y = make_data(n=32)
    trainer = Trainer(net).compile("adam", "mse", ["mae"])
    assert isinstance(trainer, Trainer)
    history = trainer.fit(x, y, epochs=5, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    loss, mae = trainer.evaluate(x, y, verbose=0)
    assert loss == pytest.approx(history.history["loss"][-1], rel=0.5)
    p = trainer.predict(x)
    assert isinstance(p, np.ndarray) and p.shape == (32, 1)


def test_trainer_on_lazy_torch_module():
    net = nn.Sequential(nn.Flatten(), nn.LazyLinear(1))
    trainer = Trainer(net).compile("sgd", "mse")
    trainer.fit(*make_data(), epochs=1, verbose=0)
    assert net[1].weight.shape == (1, T * F)


def test_trainer_refuses_non_modules_and_parameterless_modules():
    with pytest.raises(TypeError, match="expected a torch.nn.Module, got str"):
        Trainer("model")
    trainer = Trainer(nn.Flatten()).compile("sgd", "mse")
    with pytest.raises(ConfigError, match="no trainable parameters"):
        trainer.fit(np.zeros((2, 3), np.float32), np.zeros((2, 3), np.float32), verbose=0)


# -- bad input ------------------------------------------------------------------------------------


def test_nan_in_x():
    x, y = make_data()
    x[3, 2, 1] = np.nan
    with pytest.raises(InputValueError, match=r"x holds 1 NaN and 0 inf values \(first at index \(3, 2, 1\)\); expected finite"):
        make_model().fit(x, y, verbose=0)


def test_inf_in_y():
    x, y = make_data()
    y[5, 0] = -np.inf
    with pytest.raises(InputValueError, match=r"y holds 0 NaN and 1 inf values \(first at index \(5, 0\)\)"):
        make_model().fit(x, y, verbose=0)


def test_values_beyond_float32_are_refused_not_trained_to_inf():
    x, y = make_data()
    x = x.astype(np.float64)
    x[2, 1, 0] = 1e308  # finite in float64, inf once the float32 model reads it
    expected = r"x holds 1 value\(s\) beyond the range of torch.float32 .* the first 1e\+308 at index \(2, 1, 0\)"
    with pytest.raises(InputValueError, match=expected):
        make_model().fit(x, y, verbose=0)


def test_nan_in_validation_and_loader_batches():
    x, y = make_data()
    xv = x[:4].copy()
    xv[0, 0, 0] = np.nan
    with pytest.raises(InputValueError, match="x holds 1 NaN"):
        make_model().fit(x, y, validation_data=(xv, y[:4]), verbose=0)
    bad = torch.tensor(x)
    bad[9, 0, 0] = float("inf")
    loader = DataLoader(TensorDataset(bad, torch.tensor(y)), batch_size=8)
    with pytest.raises(InputValueError, match=r"x \(batch 1\) holds 0 NaN and 1 inf"):
        make_model().fit(loader, verbose=0)


def test_x_and_y_of_different_lengths():
    x, y = make_data()
    with pytest.raises(ShapeError, match=r"same number of samples, got 24 \(x \(24, 5, 3\)\) and 20 \(y \(20, 1\)\)"):
        make_model().fit(x, y[:20], verbose=0)
    with pytest.raises(ShapeError, match="same number of samples"):
        make_model().evaluate(x[:5], y, verbose=0)


def test_wrong_feature_count_into_built_model():
    x, y = make_data()
    with pytest.raises(ShapeError, match=r"SimpleRNN expected input of shape \(batch, time, 3\), got \(24, 5, 4\)"):
        make_model().fit(np.zeros((24, T, 4), np.float32), y, verbose=0)
    with pytest.raises(ShapeError, match=r"expected input of shape \(batch, time, 3\), got \(2, 5\)"):
        make_model().predict(np.zeros((2, 5), np.float32))


def test_zero_length_sequences():
    _, y = make_data(n=4)
    with pytest.raises(InputValueError, match=r"zero-length sequence: input shape \(4, 0, 3\)"):
        make_model().fit(np.zeros((4, 0, F), np.float32), y, verbose=0)
    with pytest.raises(InputValueError, match="zero-length"):
        make_model().predict(np.zeros((4, 0, F), np.float32))


def test_empty_x():
    with pytest.raises(InputValueError, match=r"at least one sample in x, got shape \(0, 5, 3\)"):
        make_model().predict(np.zeros((0, T, F), np.float32))


def test_unknown_names():
    model = Sequential([SimpleRNN(2, input_shape=(None, 1))])
    with pytest.raises(UnknownNameError, match="unknown optimizer 'adan'; expected one of: .*nadam.*sgd"):
        model.compile("adan", "mse")
    with pytest.raises(UnknownNameError, match="unknown loss 'crossentropy'; expected one of: .*binary_crossentropy"):
        model.compile("adam", "crossentropy")
    with pytest.raises(UnknownNameError, match="unknown metric 'precision'; expected one of: .*accuracy"):
        model.compile("adam", "mse", ["precision"])


def test_compile_loss_none():
    with pytest.raises(ConfigError, match="compile expected a loss"):
        Sequential([SimpleRNN(2, input_shape=(None, 1))]).compile("adam", None)


def test_fit_and_evaluate_before_compile():
    model = Sequential([SimpleRNN(2, input_shape=(None, F)), Dense(1)])
    x, y = make_data()
    with pytest.raises(NotBuiltError, match=r"not compiled: call compile\(optimizer=..., loss=...\) first"):
        model.fit(x, y)
    with pytest.raises(NotBuiltError, match="not compiled"):
        model.evaluate(x, y)
    with pytest.raises(NotBuiltError, match=r"fit\(\) needs a compiled model"):
        Trainer(nn.Linear(2, 1)).fit(np.zeros((2, 2)), np.zeros((2, 1)))


def test_evaluate_builds_an_unbuilt_model_from_its_data():
    model = Sequential([SimpleRNN(2), Dense(1)])
    model.compile("adam", "mse")
    assert not model.built
    loss = model.evaluate(*make_data(), verbose=0)
    assert model.built and np.isfinite(loss)


@pytest.mark.parametrize("split", [1.5, 1.0, -0.1])
def test_validation_split_out_of_range(split):
    with pytest.raises(InputValueError, match=rf"expected validation_split in \[0, 1\), got {split}"):
        make_model().fit(*make_data(), validation_split=split, verbose=0)


def test_validation_split_problems():
    x, y = make_data(n=8)
    with pytest.raises(InputValueError, match="leaves an empty split"):
        make_model().fit(x, y, validation_split=0.05, verbose=0)
    with pytest.raises(InputValueError, match="got both"):
        make_model().fit(x, y, validation_split=0.5, validation_data=(x, y), verbose=0)
    with pytest.raises(InputValueError, match="expected targets y, got None"):
        make_model().fit(x, None, validation_split=0.5, verbose=0)
    loader = DataLoader(TensorDataset(torch.tensor(x), torch.tensor(y)), batch_size=4)
    with pytest.raises(InputValueError, match="validation_split needs arrays"):
        make_model().fit(loader, validation_split=0.5, verbose=0)
    with pytest.raises(InputValueError, match=r"expected validation_data as \(x_val, y_val\)"):
        make_model().fit(x, y, validation_data=(x,), verbose=0)


@pytest.mark.parametrize("batch_size", [0, -4, 2.5])
def test_bad_batch_size(batch_size):
    with pytest.raises(InputValueError, match=rf"expected batch_size to be a positive integer, got {batch_size}"):
        make_model().fit(*make_data(), batch_size=batch_size, verbose=0)


def test_bad_epochs():
    with pytest.raises(InputValueError, match="expected epochs to be a non-negative integer, got -1"):
        make_model().fit(*make_data(), epochs=-1, verbose=0)


def test_strings_as_x():
    _, y = make_data(n=2)
    strings = np.array([[["a", "b", "c"]] * T] * 2)
    with pytest.raises(InputValueError, match=r"expected x as numbers, got strings \(dtype <U1\)"):
        make_model().fit(strings, y, verbose=0)
    with pytest.raises(InputValueError, match="expected x as numbers, got strings"):
        make_model().predict([["a"]])


def test_ragged_and_missing_inputs():
    with pytest.raises(InputValueError, match="expected x as an array of numbers, got list"):
        make_model().predict([[[1.0, 2.0, 3.0]], [[1.0, 2.0]]])
    with pytest.raises(InputValueError, match="expected targets y, got None"):
        make_model().fit(make_data()[0], verbose=0)
    x, y = make_data()
    loader = DataLoader(TensorDataset(torch.tensor(x), torch.tensor(y)), batch_size=8)
    with pytest.raises(InputValueError, match="expected y=None when x is a DataLoader"):
        make_model().fit(loader, y, verbose=0)
    x_only = DataLoader(TensorDataset(torch.tensor(x)), batch_size=8)
    with pytest.raises(InputValueError, match="batch 0 to hold targets"):
        make_model().fit(x_only, verbose=0)


def test_predict_runs_a_model_without_weights():
    model = recurra.Sequential([recurra.Input((5, 3)), recurra.layers.MaxPooling1D(2)])
    out = model.predict(np.arange(15, dtype="float32").reshape(1, 5, 3))
    assert out.shape == (1, 2, 3) and out[0, 0].tolist() == [3.0, 4.0, 5.0]
