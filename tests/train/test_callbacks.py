"""Callbacks: EarlyStopping, ModelCheckpoint, ReduceLROnPlateau, CSVLogger, LambdaCallback, TerminateOnNaN."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest
import torch
from torch import nn

import recurra
from recurra import (
    CSVLogger,
    Dense,
    EarlyStopping,
    LambdaCallback,
    ModelCheckpoint,
    ReduceLROnPlateau,
    Sequential,
    SimpleRNN,
    TerminateOnNaN,
    Trainer,
)
from recurra.errors import ConfigError, RecurraWarning
from recurra.train import Callback
from recurra.train.optimizers import SGD

T, F = 4, 2


def make_model(optimizer="adam", seed=0):
    recurra.set_seed(seed)
    model = Sequential([SimpleRNN(3, input_shape=(T, F)), Dense(1)])
    model.build()
    model.compile(optimizer, "mse")
    return model


def make_data(n=16, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, T, F)).astype(np.float32)
    return x, x[:, :, 0].sum(1, keepdims=True).astype(np.float32)


def snapshot(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def same_state(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


# -- EarlyStopping ----------------------------------------------------------------------------------


def test_early_stopping_stops_after_patience():
    model = make_model()
    # min_delta larger than any loss: only the first epoch counts as an improvement
    stopper = EarlyStopping(monitor="loss", min_delta=1e9, patience=2)
    history = model.fit(*make_data(), epochs=20, verbose=0, callbacks=[stopper])
    assert history.epoch == [0, 1, 2]
    assert stopper.stopped_epoch == 2
    assert stopper.best_epoch == 0


def test_early_stopping_does_not_stop_while_improving():
    model = make_model(optimizer=SGD(learning_rate=0.01))
    stopper = EarlyStopping(monitor="loss", patience=0)
    history = model.fit(*make_data(), epochs=4, batch_size=16, verbose=0, callbacks=[stopper])
    assert all(b < a for a, b in zip(history.history["loss"], history.history["loss"][1:]))
    assert len(history.epoch) == 4 and stopper.stopped_epoch == 0


def test_early_stopping_restores_best_weights():
    model = make_model(optimizer=SGD(learning_rate=0.05))
    x, y = make_data()
    xv, yv = x[:6], -y[:6]  # validation targets opposite to training: val_loss soon rises
    per_epoch = []
    record = LambdaCallback(on_epoch_end=lambda epoch, logs: per_epoch.append(snapshot(model)))
    stopper = EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    history = model.fit(x, y, epochs=30, batch_size=4, validation_data=(xv, yv), verbose=0, callbacks=[record, stopper])
    val = history.history["val_loss"]
    best = int(np.argmin(val))
    assert len(val) < 30, "did not stop early"
    assert best == stopper.best_epoch and best < len(val) - 1
    assert same_state(snapshot(model), per_epoch[best])
    assert not same_state(snapshot(model), per_epoch[-1])
    assert model.evaluate(xv, yv, verbose=0) == pytest.approx(min(val), rel=1e-6)


def test_early_stopping_without_restore_keeps_last_weights():
    model = make_model(optimizer=SGD(learning_rate=0.05))
    x, y = make_data()
    stopper = EarlyStopping(monitor="val_loss", patience=1)
    history = model.fit(x, y, epochs=30, batch_size=4, validation_data=(x[:6], -y[:6]), verbose=0, callbacks=[stopper])
    assert model.evaluate(x[:6], -y[:6], verbose=0) == pytest.approx(history.history["val_loss"][-1], rel=1e-6)


def test_early_stopping_on_plain_trainer_restores():
    torch.manual_seed(0)
    trainer = Trainer(nn.Sequential(nn.Flatten(), nn.Linear(T * F, 1))).compile(SGD(learning_rate=0.05), "mse")
    x, y = make_data()
    stopper = EarlyStopping(patience=1, restore_best_weights=True)
    history = trainer.fit(x, y, epochs=30, batch_size=4, validation_data=(x[:6], -y[:6]), verbose=0, callbacks=[stopper])
    assert trainer.evaluate(x[:6], -y[:6], verbose=0) == pytest.approx(min(history.history["val_loss"]), rel=1e-6)


def test_monitoring_a_value_that_is_not_logged_warns():
    model = make_model()
    with pytest.warns(RecurraWarning, match="watches 'val_loss', which is not logged; logged: grad_norm, .*, loss"):
        model.fit(*make_data(), epochs=1, verbose=0, callbacks=[EarlyStopping()])


def test_bad_mode():
    with pytest.raises(ConfigError, match="expected mode 'auto', 'min' or 'max', got 'up'"):
        EarlyStopping(mode="up")


# -- ModelCheckpoint --------------------------------------------------------------------------------


def test_checkpoint_save_best_only_writes_on_improvement(tmp_path):
    model = make_model(optimizer=SGD(learning_rate=0.05))
    x, y = make_data()
    checkpoint = ModelCheckpoint(tmp_path / "ckpt-{epoch:02d}", monitor="val_loss", save_best_only=True)
    history = model.fit(x, y, epochs=8, batch_size=4, validation_data=(x[:6], -y[:6]), verbose=0, callbacks=[checkpoint])
    val = history.history["val_loss"]
    improved = [e for e, v in enumerate(val) if v < min(val[:e], default=math.inf)]
    assert len(improved) < len(val), "every epoch improved: the check would be vacuous"
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == [f"ckpt-{e + 1:02d}" for e in improved]
    best = recurra.load_model(tmp_path / written[-1])
    assert isinstance(best, Sequential)
    assert best.evaluate(x[:6], -y[:6], verbose=0) == pytest.approx(min(val), rel=1e-6)


def test_checkpoint_every_epoch_with_logged_names(tmp_path):
    model = make_model()
    checkpoint = ModelCheckpoint(str(tmp_path / "m-{epoch}-{loss:.2f}"), monitor="loss")
    history = model.fit(*make_data(), epochs=2, verbose=0, callbacks=[checkpoint])
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [f"m-{e + 1}-{loss:.2f}" for e, loss in enumerate(history.history["loss"])]
    for name in names:
        assert sorted(p.name for p in (tmp_path / name).iterdir()) == ["config.json", "manifest.json", "weights.safetensors"]


def test_checkpoint_weights_only(tmp_path):
    model = make_model()
    x, y = make_data()
    path = tmp_path / "best.safetensors"
    model.fit(x, y, epochs=2, verbose=0, callbacks=[ModelCheckpoint(path, monitor="loss", save_weights_only=True)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.safetensors"]
    assert not path.read_bytes().startswith(b"\x80")
    fresh = make_model(seed=1)
    assert not np.allclose(fresh.predict(x), model.predict(x))
    recurra.load_weights(fresh, path)
    np.testing.assert_array_equal(fresh.predict(x), model.predict(x))


def test_checkpoint_weights_only_on_plain_trainer(tmp_path):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(T * F, 1))
    path = tmp_path / "w.safetensors"
    Trainer(net).compile("adam", "mse").fit(
        *make_data(), epochs=1, verbose=0, callbacks=[ModelCheckpoint(path, monitor="loss", save_weights_only=True)]
    )
    other = nn.Sequential(nn.Flatten(), nn.Linear(T * F, 1))
    recurra.load_weights(other, path)
    assert torch.equal(other[1].weight, net[1].weight)


# -- ReduceLROnPlateau ------------------------------------------------------------------------------


def test_reduce_lr_on_plateau():
    model = make_model(optimizer=SGD(learning_rate=0.01))
    lrs = []
    record = LambdaCallback(on_epoch_begin=lambda epoch, logs: lrs.append(model.optimizer.param_groups[0]["lr"]))
    reduce = ReduceLROnPlateau(monitor="loss", min_delta=1e9, patience=2, factor=0.5, min_lr=0.002)
    model.fit(*make_data(), epochs=8, verbose=0, callbacks=[record, reduce])
    # epoch 0 improves; epochs 1-2 stall -> halve after epoch 2; epochs 3-4 -> after 4; then the floor
    assert lrs == pytest.approx([0.01, 0.01, 0.01, 0.005, 0.005, 0.0025, 0.0025, 0.002])
    assert model.optimizer.param_groups[0]["lr"] == pytest.approx(0.002)


def test_reduce_lr_keeps_lr_while_improving():
    model = make_model(optimizer=SGD(learning_rate=0.01))
    model.fit(*make_data(), epochs=3, batch_size=16, verbose=0, callbacks=[ReduceLROnPlateau(monitor="loss", patience=1)])
    assert model.optimizer.param_groups[0]["lr"] == 0.01


def test_reduce_lr_bad_factor():
    with pytest.raises(ConfigError, match="0 < factor < 1 .*got 1.5"):
        ReduceLROnPlateau(factor=1.5)


# -- CSVLogger --------------------------------------------------------------------------------------


def test_csv_logger(tmp_path):
    path = tmp_path / "log.csv"
    path.write_text("stale\n")
    model = make_model()
    model.compile("adam", "mse", ["mae"])
    x, y = make_data()
    history = model.fit(x, y, epochs=3, validation_split=0.25, verbose=0, callbacks=[CSVLogger(path)])
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["epoch", "loss", "mae", "val_loss", "val_mae", "grad_norm", "grad_norm_max", "learning_rate"]
    assert len(rows) == 1 + 3
    for epoch, row in enumerate(rows[1:]):
        assert int(row[0]) == epoch
        assert float(row[1]) == pytest.approx(history.history["loss"][epoch])
        assert float(row[4]) == pytest.approx(history.history["val_mae"][epoch])


def test_csv_logger_append(tmp_path):
    path = tmp_path / "log.csv"
    model = make_model()
    model.fit(*make_data(), epochs=2, verbose=0, callbacks=[CSVLogger(path)])
    model.fit(*make_data(), epochs=4, initial_epoch=2, verbose=0, callbacks=[CSVLogger(path, append=True)])
    rows = list(csv.reader(open(path, newline="")))
    assert rows[0] == ["epoch", "loss", "grad_norm", "grad_norm_max", "learning_rate"]
    assert [r[0] for r in rows[1:]] == ["0", "1", "2", "3"]


# -- LambdaCallback ---------------------------------------------------------------------------------


def test_lambda_callback_hooks_get_the_right_epochs():
    calls = []
    cb = LambdaCallback(
        on_train_begin=lambda logs: calls.append(("train_begin",)),
        on_epoch_begin=lambda epoch, logs: calls.append(("epoch_begin", epoch)),
        on_train_batch_begin=lambda batch, logs: calls.append(("batch_begin", batch)),
        on_train_batch_end=lambda batch, logs: calls.append(("batch_end", batch, sorted(logs))),
        on_epoch_end=lambda epoch, logs: calls.append(("epoch_end", epoch, sorted(logs))),
        on_train_end=lambda logs: calls.append(("train_end",)),
    )
    model = make_model()
    model.fit(*make_data(n=10), epochs=3, initial_epoch=1, batch_size=5, validation_split=0.2, verbose=0, callbacks=[cb])
    expected = [("train_begin",)]
    for e in (1, 2):
        expected += [
            ("epoch_begin", e),
            ("batch_begin", 0),
            ("batch_end", 0, ["loss"]),
            ("batch_begin", 1),
            ("batch_end", 1, ["loss"]),
            ("epoch_end", e, ["grad_norm", "grad_norm_max", "learning_rate", "loss", "val_loss"]),
        ]
    expected.append(("train_end",))
    assert calls == expected


def test_callback_model_is_the_fitted_model():
    seen = []
    model = make_model()
    model.fit(*make_data(), epochs=1, verbose=0, callbacks=[LambdaCallback(on_train_begin=lambda logs: seen.append(None))])
    cb = Callback()
    model.fit(*make_data(), epochs=1, verbose=0, callbacks=[cb])
    assert cb.model is model and seen == [None]


def test_non_callbacks_refused():
    with pytest.raises(TypeError, match="expected recurra Callback objects, got function"):
        make_model().fit(*make_data(), epochs=1, verbose=0, callbacks=[lambda: None])


def test_stop_training_from_a_batch_hook():
    model = make_model()
    batches = []

    def on_batch_end(batch, logs):
        batches.append(batch)
        if batch == 1:
            model.stop_training = True

    history = model.fit(
        *make_data(n=16), epochs=5, batch_size=4, verbose=0, callbacks=[LambdaCallback(on_train_batch_end=on_batch_end)]
    )
    assert batches == [0, 1]
    assert len(history.epoch) == 1


# -- TerminateOnNaN ---------------------------------------------------------------------------------


def test_terminate_on_nan(capsys):
    calls = {"n": 0}

    def loss(y_pred, y_true):
        calls["n"] += 1
        value = ((y_pred - y_true) ** 2).mean()
        return value * float("nan") if calls["n"] == 3 else value

    model = make_model()
    model.compile("sgd", loss)
    batches = []
    record = LambdaCallback(on_train_batch_end=lambda batch, logs: batches.append(logs["loss"]))
    history = model.fit(*make_data(n=16), epochs=4, batch_size=4, verbose=0, callbacks=[record, TerminateOnNaN()])
    assert len(batches) == 3 and math.isnan(batches[-1]) and all(np.isfinite(batches[:2]))
    assert len(history.epoch) == 1
    assert "invalid loss nan" in capsys.readouterr().out


def test_without_terminate_on_nan_training_continues():
    model = make_model()
    model.compile("sgd", lambda p, y: ((p - y) ** 2).mean() * float("nan"))
    history = model.fit(*make_data(n=8), epochs=2, batch_size=4, verbose=0)
    assert len(history.epoch) == 2 and math.isnan(history.history["loss"][-1])


def test_tensorboard_writes_event_files_with_the_epoch_logs(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from recurra.train import TensorBoard

    model = make_model()
    model.fit(*make_data(), epochs=2, verbose=0, validation_split=0.25, callbacks=[TensorBoard(tmp_path, update_freq="batch")])
    events = EventAccumulator(str(tmp_path))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"train/loss", "validation/loss", "train/grad_norm", "batch/loss"} <= tags
    assert [e.step for e in events.Scalars("train/loss")] == [1, 2]


def test_tensorboard_refuses_an_unknown_update_freq():
    from recurra.train import TensorBoard

    with pytest.raises(ConfigError, match="expected update_freq 'epoch' or 'batch', got 'step'"):
        TensorBoard("x", update_freq="step")
