"""The training engine: truncated BPTT, stateful streams, gradients, schedules, checkpoints and resume,
signals, determinism and distributed training."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

import recurra
from recurra import GRU, LSTM, Bidirectional, Dense, LambdaCallback, Sequential, SimpleRNN, TimeDistributed
from recurra.errors import ConfigError, NonFiniteLossError, RecurraWarning, UnknownNameError
from recurra.layers.carry import carried_states
from recurra.train.checkpoint import CheckpointManager

HERE = Path(__file__).resolve().parent
RUN = HERE / "engine_run.py"


def seq_data(n=32, T=12, F=3, aligned=False, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, T, F))
    y = np.cumsum(x[..., :1], axis=1) * 0.3 if aligned else x[:, :4, 0].sum(1, keepdims=True)
    return x, y


def weights(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def same(a, b, atol=0.0):
    return a.keys() == b.keys() and all(torch.allclose(a[k], b[k], atol=atol, rtol=0) for k in a)


# -- truncated BPTT -----------------------------------------------------------------------------------
def seq2seq(cell=LSTM, seed=0):
    torch.manual_seed(seed)
    m = Sequential([cell(6, return_sequences=True, input_shape=(None, 3)), TimeDistributed(Dense(1))]).double()
    m.compile("sgd", "mse")
    return m


@pytest.mark.parametrize("cell", [LSTM, GRU, SimpleRNN])
def test_tbptt_of_the_whole_length_is_full_bptt(cell):
    x, y = seq_data(aligned=True)
    a, b = seq2seq(cell), seq2seq(cell)
    a.fit(x, y, batch_size=8, epochs=2, verbose=0, seed=1)
    b.fit(x, y, batch_size=8, epochs=2, verbose=0, seed=1, tbptt=12)
    assert same(weights(a), weights(b))


def test_tbptt_shorter_than_the_sequence_changes_the_updates():
    x, y = seq_data(aligned=True)
    a, b = seq2seq(), seq2seq()
    a.fit(x, y, batch_size=8, epochs=1, verbose=0, seed=1)
    b.fit(x, y, batch_size=8, epochs=1, verbose=0, seed=1, tbptt=4)
    assert not same(weights(a), weights(b), atol=1e-6)


@pytest.mark.parametrize("per_step", [False, True])
def test_tbptt_takes_sample_weights(per_step):
    """Under truncated BPTT, unit sample weights (per sample, or per step of aligned targets) change nothing,
    and other weights reach the loss of every chunk."""
    x, y = seq_data(aligned=True)
    ones = np.ones((32, 12)) if per_step else np.ones(32)
    a, b = seq2seq(), seq2seq()
    a.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False, tbptt=4)
    b.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False, tbptt=4, sample_weight=ones)
    assert same(weights(a), weights(b), atol=1e-12)
    half = ones.copy()
    half[1::2] = 0.0
    c, d = seq2seq(), seq2seq()
    c.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False, tbptt=4, sample_weight=half)
    d.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False, tbptt=4, sample_weight=2 * half)
    assert not same(weights(a), weights(c), atol=1e-6)  # the weights reach the loss
    assert not same(weights(c), weights(d), atol=1e-6)


def test_carrying_state_over_chunks_equals_the_whole_sequence_forward():
    torch.manual_seed(0)
    layer = LSTM(5, return_sequences=True).double()
    x = torch.randn(4, 20, 3, dtype=torch.float64)
    whole = layer(x)
    with carried_states(layer):
        chunks = torch.cat([layer(x[:, s : s + 6]) for s in range(0, 20, 6)], 1)
    torch.testing.assert_close(chunks, whole, rtol=0, atol=1e-12)
    assert layer.carried_state is None and not layer.carrying  # nothing leaks out of the block


def test_tbptt_many_to_one_backpropagates_only_through_the_last_chunk():
    x, y = seq_data()
    torch.manual_seed(0)
    m = Sequential([LSTM(6, input_shape=(None, 3)), Dense(1)]).double()
    m.compile("sgd", "mse")
    grads = []
    m.fit(
        x[:8],
        y[:8],
        batch_size=8,
        epochs=1,
        verbose=0,
        tbptt=4,
        callbacks=[LambdaCallback(on_train_batch_end=lambda b, logs: grads.append(m.layers[0].cell.weight_ih.grad.clone()))],
    )
    # the same gradient as a model that sees only the last 4 steps from the carried state
    torch.manual_seed(0)
    ref = Sequential([LSTM(6, input_shape=(None, 3)), Dense(1)]).double()
    xt, yt = torch.as_tensor(x[:8]), torch.as_tensor(y[:8])
    lstm = ref.layers[0]
    lstm.return_state = True
    with torch.no_grad():
        _, h, c = lstm(xt[:, :8])
    out, _, _ = lstm(xt[:, 8:], initial_state=[h, c])
    loss = torch.nn.functional.mse_loss(ref.layers[1](out), yt)
    loss.backward()
    torch.testing.assert_close(grads[0], lstm.cell.weight_ih.grad, rtol=0, atol=1e-12)


def test_tbptt_refuses_bidirectional_and_bad_values():
    x, y = seq_data()
    m = Sequential([Bidirectional(LSTM(4), input_shape=(None, 3)), Dense(1)])
    m.compile("adam", "mse")
    with pytest.raises(ConfigError, match="tbptt cannot train Bidirectional"):
        m.fit(x, y, tbptt=4, verbose=0)
    with pytest.raises(ConfigError, match="expected tbptt to be a positive number of steps, got 0"):
        m.fit(x, y, tbptt=0, verbose=0)


# -- stateful streams ---------------------------------------------------------------------------------
def test_stateful_fit_needs_order_and_equal_batches():
    x, y = seq_data(n=30)
    m = Sequential([LSTM(4, stateful=True, input_shape=(None, 3)), Dense(1)])
    m.compile("adam", "mse")
    with pytest.raises(ConfigError, match=r"shuffle=False"):
        m.fit(x, y, batch_size=10, verbose=0)
    with pytest.raises(ConfigError, match=r"number of samples \(30\) to be a multiple of batch_size \(8\)"):
        m.fit(x, y, batch_size=8, shuffle=False, verbose=0)
    m.fit(x, y, batch_size=10, shuffle=False, verbose=0)
    assert m.layers[0].carried_state is not None and m.layers[0].carried_state.h.shape == (10, 4)


# -- gradients ----------------------------------------------------------------------------------------
def test_gradient_norm_before_clipping_is_logged():
    x, y = seq_data(n=8)
    torch.manual_seed(0)
    m = Sequential([SimpleRNN(4, input_shape=(None, 3)), Dense(1)]).double()
    ref = Sequential([SimpleRNN(4, input_shape=(None, 3)), Dense(1)]).double()
    ref.load_state_dict(m.state_dict())
    m.compile("sgd", "mse", clipnorm=1e-3)
    h = m.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    loss = torch.nn.functional.mse_loss(ref(torch.as_tensor(x)), torch.as_tensor(y))
    loss.backward()
    expected = torch.sqrt(sum((p.grad**2).sum() for p in ref.parameters())).item()
    assert h.history["grad_norm"][0] == pytest.approx(expected, rel=1e-9)
    assert h.history["grad_norm_max"][0] == pytest.approx(expected, rel=1e-9)
    assert expected > 1e-3  # so the clipping above did act after the norm was taken


def test_stop_on_nan_raises_and_keeps_the_last_good_weights():
    x, y = seq_data(n=16)
    calls: list[int] = []

    def loss_turning_nan_at_the_third_step(p, t):  # fit refuses NaN data, so the NaN is made inside the loss
        calls.append(1)
        return (p - t).pow(2).mean() * (float("nan") if len(calls) == 3 else 1.0)

    torch.manual_seed(0)
    m = Sequential([SimpleRNN(4, input_shape=(None, 3)), Dense(1)])
    m.compile("sgd", loss_turning_nan_at_the_third_step)
    before = {}
    cb = LambdaCallback(on_train_batch_end=lambda b, logs: before.update(weights(m)))
    with pytest.raises(NonFiniteLossError, match="the loss became nan at epoch 1, step 3"):
        m.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False, stop_on_nan=True, callbacks=[cb])
    assert same(before, weights(m))  # the bad step was not applied


# -- schedules ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "spec, check",
    [
        ({"name": "step", "step_size": 1, "gamma": 0.5}, lambda lrs: lrs == pytest.approx([0.1, 0.05, 0.025])),
        ("cosine", lambda lrs: lrs[0] == pytest.approx(0.1) and lrs[1] < lrs[0] and lrs[2] < lrs[1]),
        ("onecycle", lambda lrs: lrs[0] < 0.1 and max(lrs) <= 0.1 + 1e-12),
        ({"name": "plateau", "patience": 0, "factor": 0.5, "monitor": "loss"}, lambda lrs: lrs[-1] <= 0.1),
    ],
)
def test_learning_rate_schedules_by_name(spec, check):
    x, y = seq_data(n=16)
    m = Sequential([SimpleRNN(3, input_shape=(None, 3)), Dense(1)])
    m.compile(recurra.train.optimizers.SGD(learning_rate=0.1), "mse", lr_schedule=spec)
    lrs = []
    m.fit(
        x,
        y,
        batch_size=4,
        epochs=3,
        verbose=0,
        callbacks=[LambdaCallback(on_epoch_begin=lambda e, logs: lrs.append(m.optimizer.param_groups[0]["lr"]))],
    )
    assert check(lrs), lrs


def test_torch_scheduler_and_unknown_name():
    m = Sequential([SimpleRNN(3, input_shape=(None, 3)), Dense(1)])
    opt = torch.optim.SGD(m.parameters(), lr=1.0)
    m.compile(opt, "mse", lr_schedule=torch.optim.lr_scheduler.ExponentialLR(opt, gamma=0.5))
    h = m.fit(*seq_data(n=8), epochs=3, verbose=0)
    assert h.history["learning_rate"] == [1.0, 0.5, 0.25]
    with pytest.raises(UnknownNameError, match="unknown learning-rate schedule 'linear'"):
        m.compile("sgd", "mse", lr_schedule="linear")


# -- checkpoints ----------------------------------------------------------------------------------------
def small(seed=0, dropout=0.0):
    torch.manual_seed(seed)
    m = Sequential([LSTM(6, input_shape=(None, 3), dropout=dropout), Dense(1)])
    m.compile("adam", "mse")
    return m


def test_checkpoints_every_n_steps_and_epoch_end_keep_the_newest_and_the_best(tmp_path):
    x, y = seq_data(n=32)
    m = small()
    m.fit(
        x,
        y,
        batch_size=8,
        epochs=3,
        verbose=0,
        checkpoint_dir=tmp_path,
        checkpoint_every=3,
        keep_checkpoints=2,
        validation_split=0.25,
    )
    names = sorted(p.name for p in tmp_path.iterdir())
    assert not [n for n in names if n.endswith(".tmp")]
    manager = CheckpointManager(tmp_path, keep=2)
    steps = [int(p.name.split("-")[1]) for p in manager.paths()]
    assert steps[:2] == [9, 6]  # 3 steps per epoch; the newest two, the best may add one more
    assert len(steps) <= 3
    meta = json.loads((manager.paths()[0] / "meta.json").read_text())
    assert meta["epoch"] == 3 and meta["batch"] == 0 and meta["format"] == "recurra.checkpoint"


def test_resume_after_the_end_changes_nothing_and_corrupt_checkpoints_are_skipped(tmp_path):
    x, y = seq_data(n=32)
    a = small()
    a.fit(x, y, batch_size=8, epochs=2, verbose=0, seed=3, checkpoint_dir=tmp_path, checkpoint_every=1, keep_checkpoints=10)
    newest = CheckpointManager(tmp_path).paths()[0]
    with open(newest / "state.safetensors", "r+b") as f:  # corrupt the newest
        f.seek(100)
        f.write(b"\x00garbage\x00")
    # resuming a 3-epoch run from the 2-epoch checkpoints: the corrupt one is skipped for the one before
    b = small(seed=5)
    with pytest.warns(RecurraWarning, match="skipping damaged checkpoint .*checksum mismatch"):
        b.fit(x, y, batch_size=8, epochs=3, verbose=0, seed=3, checkpoint_dir=tmp_path, resume=True)
    c = small()
    c.fit(x, y, batch_size=8, epochs=3, verbose=0, seed=3)
    assert same(weights(b), weights(c), atol=1e-6)


def test_resume_needs_a_directory():
    with pytest.raises(ConfigError, match="resume=True needs checkpoint_dir="):
        small().fit(*seq_data(), resume=True, verbose=0)


def _train_subprocess(args, **kw):
    env = dict(os.environ, PYTHONHASHSEED="0")
    return subprocess.Popen([sys.executable, str(RUN), *args], env=env, **kw)


def _wait_for_checkpoints(ckpt: Path, n: int, proc, timeout=60.0):
    start = time.time()
    while time.time() - start < timeout:
        if ckpt.exists() and len([p for p in ckpt.iterdir() if p.name.startswith("ckpt-")]) >= n:
            return
        assert proc.poll() is None, "the training process ended before it was interrupted"
        time.sleep(0.05)
    raise AssertionError("no checkpoints appeared")


@pytest.mark.slow  # three training processes, one killed: ~18 s
def test_a_run_killed_mid_epoch_and_resumed_ends_with_the_weights_of_an_uninterrupted_run(tmp_path):
    full, part, ckpt = tmp_path / "full.safetensors", tmp_path / "part.safetensors", tmp_path / "ckpt"
    common = ["--epochs", "3", "--dropout", "0.2"]
    assert _train_subprocess([str(full), *common]).wait(120) == 0
    proc = _train_subprocess([str(part), *common, "--ckpt", str(ckpt), "--every", "2", "--sleep", "0.15"])
    _wait_for_checkpoints(ckpt, 2, proc)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)
    assert not part.exists()
    done = [json.loads((p / "meta.json").read_text()) for p in CheckpointManager(ckpt).paths()]
    assert done and done[0]["global_step"] < 18  # killed before the end (3 epochs of 6 steps)
    assert _train_subprocess([str(part), *common, "--ckpt", str(ckpt), "--every", "2", "--resume"]).wait(120) == 0
    a, b = load_file(str(full)), load_file(str(part))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


@pytest.mark.slow  # a training process stopped by SIGTERM: ~7 s
def test_sigterm_finishes_the_step_writes_a_checkpoint_and_stops_with_a_message(tmp_path):
    part, ckpt = tmp_path / "part.safetensors", tmp_path / "ckpt"
    proc = _train_subprocess(
        [str(part), "--ckpt", str(ckpt), "--epochs", "3", "--sleep", "0.15"], stderr=subprocess.PIPE, text=True
    )
    _wait_for_checkpoints(ckpt, 1, proc)  # the first epoch's checkpoint
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert "TrainingInterrupted: training stopped by SIGTERM after epoch" in err
    assert "resume=True" in err
    assert not part.exists()


# -- determinism ----------------------------------------------------------------------------------------
def test_the_same_seed_repeats_a_run_exactly():
    x, y = seq_data()
    a, b = small(dropout=0.3), small(dropout=0.3)
    ha = a.fit(x, y, batch_size=8, epochs=2, verbose=0, seed=11)
    hb = b.fit(x, y, batch_size=8, epochs=2, verbose=0, seed=11)
    assert same(weights(a), weights(b)) and ha.history == hb.history


# -- distributed ----------------------------------------------------------------------------------------
@pytest.mark.slow  # one process and a torchrun of two: ~19 s
def test_two_processes_give_the_weights_of_one_on_the_same_global_batch(tmp_path):
    one, two = tmp_path / "one.safetensors", tmp_path / "two.safetensors"
    common = ["--epochs", "2", "--batch", "16"]
    assert _train_subprocess([str(one), *common]).wait(120) == 0
    env = dict(os.environ, RECURRA_DIST_BACKEND="gloo", OMP_NUM_THREADS="1")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", str(RUN), str(two), *common]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr[-3000:]
    a, b = load_file(str(one)), load_file(str(two))
    for k in a:
        torch.testing.assert_close(a[k], b[k], rtol=1e-4, atol=1e-5)


def test_tbptt_cuts_token_id_sequences_too():
    """(B, T) integer ids before an Embedding are sequences: tbptt=k makes T/k updates per batch."""
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    ids = rng.integers(1, 9, size=(8, 12))
    targets = np.roll(ids, -1, axis=1)
    m = Sequential([recurra.Embedding(9, 4), LSTM(5, return_sequences=True), TimeDistributed(Dense(9))])
    m.compile("adam", recurra.train.losses.SparseCategoricalCrossentropy(from_logits=True))
    m.fit(ids, targets, batch_size=4, epochs=1, verbose=0, shuffle=False, tbptt=4)
    steps = {int(s["step"]) for s in m._trainer.optimizer.state.values()}
    assert steps == {2 * 3}  # 2 batches x 3 chunks of 4 steps
