"""EchoStateNetwork (ridge readout, streaming, several series, predict, generate, saving, errors) and
the Mackey–Glass generator."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from torch.testing import assert_close

import recurra
from recurra.cells.reservoir import ReservoirState, kernel_available
from recurra.data.mackey_glass import mackey_glass
from recurra.errors import ConfigError, InputValueError, ModelFileError, NotBuiltError, ShapeError
from recurra.esn import EchoStateNetwork, nrmse

from .helpers import rewrite_model_file

N, F, O = 30, 2, 3
RIDGE = 1e-6


def make(**kw) -> EchoStateNetwork:
    args = dict(spectral_radius=0.9, leak_rate=0.6, density=0.2, ridge=RIDGE, washout=20, seed=3)
    args.update(kw)
    return EchoStateNetwork(args.pop("units", N), **args)


def data(T: int, seed: int = 0, F: int = F, O: int = O) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    u = rng.normal(size=(T, F))
    y = np.stack([np.sin(np.cumsum(u[:, k % F])) for k in range(O)], 1) + 0.1 * rng.normal(size=(T, O))
    return u, y


def reference_states(esn: EchoStateNetwork, u: np.ndarray, x0=None, y_prev=None) -> np.ndarray:
    """The cell's reference step, one step at a time: ``(T, N)``."""
    cell = esn.reservoir
    state = ReservoirState(torch.zeros(1, N, dtype=torch.float64) if x0 is None else torch.as_tensor(x0)[None])
    xs = []
    for t, u_t in enumerate(torch.as_tensor(u)):
        fb = None if y_prev is None else torch.as_tensor(y_prev[t])[None]
        x, state = cell.step(u_t[None], state, y_prev=fb)
        xs.append(x[0])
    return torch.stack(xs).numpy()


def normal_equations(states: list[np.ndarray], targets: list[np.ndarray], washout: int, ridge: float) -> np.ndarray:
    """``(ZᵀZ + ridge · D) W = ZᵀY`` with ``Z = [1, X]`` over every series after its washout: ``W_out (O, 1 + N)``."""
    Z = np.concatenate([np.concatenate([np.ones((len(x) - washout, 1)), x[washout:]], 1) for x in states])
    Y = np.concatenate([y[washout:] for y in targets])
    D = np.eye(Z.shape[1])
    D[0, 0] = 0.0  # the bias is not penalised
    return np.linalg.solve(Z.T @ Z + ridge * D, Z.T @ Y).T


# -- the readout ------------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["auto", "torch"])
def test_ridge_readout_equals_the_normal_equations(backend):
    u, y = data(200)
    esn = make(backend=backend).fit(u, y)
    assert esn.W_out.shape == (O, 1 + N) and esn.W_out.dtype == torch.float64
    want = normal_equations([reference_states(esn, u)], [y], 20, RIDGE)
    np.testing.assert_allclose(esn.W_out.numpy(), want, rtol=1e-7, atol=1e-9)
    if backend == "auto" and kernel_available():
        assert esn.reservoir.backend == "cpp"


def test_ridge_zero_and_the_unpenalised_bias():
    u, y = data(200)
    esn = make(ridge=0.0).fit(u, y)
    np.testing.assert_allclose(
        esn.W_out.numpy(), normal_equations([reference_states(esn, u)], [y], 20, 0.0), rtol=1e-6, atol=1e-8
    )
    # a huge ridge sends the state weights to 0 and leaves the bias at the targets' mean
    big = make(ridge=1e12).fit(u, y)
    np.testing.assert_allclose(big.W_out[:, 0].numpy(), y[20:].mean(0), atol=1e-6)
    assert big.W_out[:, 1:].abs().max() < 1e-6


def test_chunked_streaming_fit_equals_one_shot_fit():
    u, y = data(300)
    whole = make().fit(u, y)
    streamed = make()
    bounds = [0, 7, 13, 50, 51, 170, 300]  # the washout of 20 ends inside the third chunk
    for a, b in zip(bounds[:-1], bounds[1:]):
        streamed.partial_fit(u[a:b], y[a:b])
    assert not streamed.built
    streamed.solve()
    assert_close(streamed.W_out, whole.W_out, atol=1e-10, rtol=1e-9)
    assert_close(streamed.x, whole.x, atol=1e-13, rtol=0)  # both end in the state after the last input


def test_input_noise_perturbs_the_fitted_inputs_only():
    u, y = data(200)
    sigma = 0.05
    noisy = make(input_noise=sigma).fit(u, y)
    # the same as fitting the perturbed inputs without noise: ν drawn from a generator seeded with `seed`
    nu = sigma * torch.randn(u.shape, generator=torch.Generator().manual_seed(noisy.seed), dtype=torch.float64)
    by_hand = make().fit(u + nu.numpy(), y)
    assert_close(noisy.W_out, by_hand.W_out, atol=1e-10, rtol=1e-9)
    assert not torch.allclose(noisy.W_out, make().fit(u, y).W_out, atol=1e-6)
    assert_close(make(input_noise=sigma).fit(u, y).W_out, noisy.W_out, atol=0, rtol=0)  # every fit draws the same
    # predicting adds no noise: the readout of the reference states of the clean inputs
    X = reference_states(noisy, u)
    expected = X @ noisy.W_out[:, 1:].T.numpy() + noisy.W_out[:, 0].numpy()
    np.testing.assert_allclose(noisy.predict(u, reset_state=True), expected, atol=1e-10)


def test_long_series_run_in_chunks_equal_one_pass(monkeypatch):
    u, y = data(250)
    whole = make().fit(u, y)
    p_whole = whole.predict(u, reset_state=True)
    monkeypatch.setattr("recurra.esn._CHUNK_VALUES", 40 * N)  # chunks of 40 steps inside fit and predict
    chunked = make().fit(u, y)
    assert_close(chunked.W_out, whole.W_out, atol=1e-10, rtol=1e-9)
    np.testing.assert_allclose(chunked.predict(u, reset_state=True), p_whole, atol=1e-10)


def test_one_core_adds_the_statistics_itself_with_the_same_result(monkeypatch):
    u, y = data(250)
    monkeypatch.setattr("recurra.esn._CHUNK_VALUES", 40 * N)  # several chunks: the pipeline has work
    overlapped = make().fit(u, y)
    monkeypatch.setattr("recurra.esn._usable_cores", lambda: 1)
    alone = make().fit(u, y)
    assert torch.equal(alone.W_out, overlapped.W_out)


@pytest.mark.parametrize("kw", [{}, {"input_noise": 0.05}, {"output_feedback": True}], ids=["plain", "noise", "feedback"])
def test_series_of_one_length_run_as_a_batch_like_one_after_the_other(monkeypatch, kw):
    lengths = [60, 60, 60, 60, 80, 80, 60]  # batches: 4 x 60, 2 x 80, 1 x 60 (alone)
    pairs = [data(T, seed=i) for i, T in enumerate(lengths)]
    xs, ys = [u for u, _ in pairs], [y for _, y in pairs]
    batched = make(**kw).fit(xs, ys)
    monkeypatch.setattr("recurra.esn._CHUNK_VALUES", 40 * N)  # no batch fits: one series after the other
    alone = make(**kw).fit(xs, ys)
    assert_close(batched.W_out, alone.W_out, atol=1e-10, rtol=1e-9)
    assert_close(batched.x, alone.x, atol=1e-13, rtol=0)  # both end in the state after the last series
    assert_close(batched.y_prev, alone.y_prev, atol=0, rtol=0)


def test_several_series_equal_their_concatenated_statistics():
    (u1, y1), (u2, y2), (u3, y3) = data(120, 1), data(90, 2), data(200, 3)
    esn = make().fit([u1, u2, u3], [y1, y2, y3])
    ref = make()
    ref.fit(u1, y1)  # builds the same reservoir (same seed)
    states = [reference_states(ref, u) for u in (u1, u2, u3)]  # each series from the zero state
    want = normal_equations(states, [y1, y2, y3], 20, RIDGE)
    np.testing.assert_allclose(esn.W_out.numpy(), want, rtol=1e-7, atol=1e-9)
    streamed = make()
    for u, y in ((u1, y1), (u2, y2), (u3, y3)):
        streamed.reset_state()
        streamed.partial_fit(u, y)
    assert_close(streamed.solve().W_out, esn.W_out, atol=1e-10, rtol=1e-9)
    stacked = make().fit(np.stack([u1[:90], u2]), np.stack([y1[:90], y2]))  # a (S, T, F) array is S series
    assert_close(stacked.W_out, make().fit([u1[:90], u2], [y1[:90], y2]).W_out, atol=0, rtol=0)


# -- predicting and generating --------------------------------------------------------------------


def test_predict_is_the_readout_of_the_reference_states_and_continues_the_state():
    u, y = data(200)
    esn = make().fit(u, y)
    v, _ = data(60, 9)
    x_after_fit = esn.x.numpy().copy()
    pred = esn.predict(v)
    states = reference_states(esn, v, x0=x_after_fit)
    np.testing.assert_allclose(pred, states @ esn.W_out[:, 1:].numpy().T + esn.W_out[:, 0].numpy(), atol=1e-12)
    np.testing.assert_allclose(esn.x.numpy(), states[-1], atol=1e-13)
    # in two calls, as in one; reset_state starts from zero; a list gives each series a fresh start
    first = esn.predict(v[:25], reset_state=True)
    second = esn.predict(v[25:])
    np.testing.assert_allclose(np.concatenate([first, second]), esn.predict(v, reset_state=True), atol=1e-12)
    both = esn.predict([v, v[:10]])
    assert isinstance(both, list) and both[0].shape == (60, O) and both[1].shape == (10, O)
    np.testing.assert_allclose(both[1], esn.predict(v[:10], reset_state=True), atol=1e-12)
    assert esn.predict(v[:, 0:1].ravel().repeat(2).reshape(-1, 2)).shape == (60, O)


@pytest.mark.parametrize("backend, density", [("auto", 0.2), ("torch", 0.2), ("auto", 0.6), ("torch", 0.6)])
def test_generate_is_the_closed_loop_of_the_reference_step(backend, density):
    u = np.sin(0.3 * np.arange(400))[:, None] + 0.05 * np.cos(1.1 * np.arange(400))[:, None]
    esn = make(backend=backend, density=density).fit(u[:-1], u[1:])  # one input, one output: autonomous
    esn.predict(u[-50:], reset_state=True)
    x = esn.x.clone()
    gen = esn.generate(30)
    assert gen.shape == (30, 1)
    # by hand: y = W_out [1; x]; feed y as the next input
    W_out = esn.W_out
    state, outs = ReservoirState(x[None]), []
    y = W_out[:, 0] + W_out[:, 1:] @ x
    for _ in range(30):
        outs.append(y)
        x_new, state = esn.reservoir.step(y[None], state)
        y = W_out[:, 0] + W_out[:, 1:] @ x_new[0]
    np.testing.assert_allclose(gen, torch.stack(outs).numpy(), atol=1e-12)
    np.testing.assert_allclose(esn.x.numpy(), state.h[0].numpy(), atol=1e-13)
    # generate(a) then generate(b) == generate(a + b)
    esn.x.copy_(x)
    a, b = esn.generate(12), esn.generate(18)
    np.testing.assert_allclose(np.concatenate([a, b]), gen, atol=1e-12)


def test_output_feedback_teacher_forcing_and_closed_loop():
    u = np.sin(0.2 * np.arange(300))[:, None]
    esn = make(output_feedback=True, feedback_scaling=0.5, ridge=1e-3).fit(u[:-1], u[1:])  # a sine: ill-conditioned without ridge
    assert esn.reservoir.W_fb.shape == (N, 1)
    y_prev = np.concatenate([np.zeros((1, 1)), u[1:-1]])  # teacher forcing: y_{t-1} is the previous target
    states = reference_states(esn, u[:-1], y_prev=y_prev)
    np.testing.assert_allclose(esn.W_out.numpy(), normal_equations([states], [u[1:]], 20, 1e-3), rtol=1e-7, atol=1e-9)
    # predict feeds back its own previous outputs
    pred = esn.predict(u[:50], reset_state=True)
    cell, W_out = esn.reservoir, esn.W_out
    state, fb, outs = cell.zero_state(1, dtype=torch.float64, device="cpu"), torch.zeros(1, 1, dtype=torch.float64), []
    for u_t in torch.as_tensor(u[:50]):
        x, state = cell.step(u_t[None], state, y_prev=fb)
        fb = (W_out[:, 0] + x @ W_out[:, 1:].T).reshape(1, 1)
        outs.append(fb[0])
    np.testing.assert_allclose(pred, torch.stack(outs).numpy(), atol=1e-12)
    assert nrmse(u[51:71], esn.predict(u[50:70])) < 0.05  # continues from the state after u[:50]
    assert esn.generate(20).shape == (20, 1)


def test_the_figure_at_reduced_size():
    """Mackey–Glass (sampling step dt = 1), 300 units, 2,000 training steps: one-step NRMSE below 1e-3
    on the next 700 steps and below 0.02 over 200 closed-loop steps (measured: 4.5e-4 and 2.4e-3;
    the full-size figures are in docs/esn.md, from benchmarks/esn.py)."""
    s = mackey_glass(3700)[1000:, None]  # drop the transient
    esn = EchoStateNetwork(300, spectral_radius=1.25, leak_rate=0.5, input_scaling=1.0, ridge=1e-8, washout=100, seed=0)
    esn.fit(s[:1999], s[1:2000])
    esn.predict(s[1999:2000])  # the state after s[1999]
    x = esn.x.clone()
    one_step = nrmse(s[2001:2700], esn.predict(s[2000:2699]))
    esn.x.copy_(x)
    closed_loop = nrmse(s[2000:2200], esn.generate(200))
    assert one_step < 1e-3, one_step
    assert closed_loop < 0.02, closed_loop


# -- saving -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("feedback", [False, True], ids=["plain", "feedback"])
def test_save_and_load_round_trip(tmp_path, feedback):
    u = np.sin(0.25 * np.arange(300))[:, None]
    esn = make(output_feedback=feedback).fit(u[:-1], u[1:])
    esn.predict(u[:40])
    esn.save(tmp_path / "esn")
    document = json.loads((tmp_path / "esn" / "config.json").read_text())
    assert document["class_name"] == "EchoStateNetwork" and document["config"]["input_dim"] == 1
    loaded = recurra.load_model(tmp_path / "esn")
    assert isinstance(loaded, EchoStateNetwork)
    assert loaded.get_config() == esn.get_config()
    for k, v in esn.state_dict().items():
        assert torch.equal(loaded.state_dict()[k], v), k
    np.testing.assert_array_equal(loaded.generate(25), esn.generate(25))  # from the saved current state
    np.testing.assert_array_equal(loaded.predict(u[:60], reset_state=True), esn.predict(u[:60], reset_state=True))


def test_saving_needs_a_fitted_network_and_loading_checks_the_weights(tmp_path):
    with pytest.raises(ConfigError, match=r"cannot save a model without weights"):
        make().save(tmp_path / "nothing")
    u, y = data(100)
    make().fit(u, y).save(tmp_path / "esn")
    make(units=N).fit(u[:, :1], y).save(tmp_path / "other")  # another input size
    rewrite_model_file(tmp_path / "esn", "weights.safetensors", (tmp_path / "other" / "weights.safetensors").read_bytes())
    with pytest.raises(ModelFileError, match=r"reservoir.W_in has shape \(30, 2\), the model expects \(30, 3\)"):
        recurra.load_model(tmp_path / "esn")


# -- errors -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(spectral_radius=0), r"expected spectral_radius > 0, got 0"),
        (dict(spectral_radius=-0.5), r"expected spectral_radius > 0, got -0.5"),
        (dict(density=0), r"expected density in \(0, 1\], got 0"),
        (dict(density=1.2), r"expected density in \(0, 1\], got 1.2"),
        (dict(leak_rate=0), r"expected leak_rate in \(0, 1\], got 0"),
        (dict(leak_rate=2.0), r"expected leak_rate in \(0, 1\], got 2.0"),
        (dict(units=0), r"expected units to be a positive integer, got 0"),
        (dict(units=2.5), r"expected units to be a positive integer, got 2.5"),
        (dict(ridge=-1e-3), r"expected ridge >= 0, got -0.001"),
        (dict(washout=-1), r"expected washout to be a non-negative integer, got -1"),
        (dict(input_noise=-0.1), r"expected input_noise to be a finite number >= 0, got -0.1"),
        (dict(input_noise=float("nan")), r"expected input_noise to be a finite number >= 0, got nan"),
        (dict(backend="gpu"), r"expected backend in \('auto', 'cpp', 'torch'\), got 'gpu'"),
    ],
)
def test_argument_errors(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        make(**kwargs)


def test_data_errors():
    u, y = data(100)
    esn = make(washout=20)
    with pytest.raises(NotBuiltError, match=r"EchoStateNetwork is not fitted: predict\(\) needs fit\(x, y\)"):
        esn.predict(u)
    with pytest.raises(NotBuiltError, match=r"EchoStateNetwork is not fitted: generate\(\) needs fit\(x, y\)"):
        esn.generate(5)
    with pytest.raises(InputValueError, match=r"expected every series longer than washout=20 steps, got 20 steps"):
        esn.fit(u[:20], y[:20])
    with pytest.raises(InputValueError, match=r"longer than washout=20 steps, got 15 steps \(series 1\)"):
        esn.fit([u, u[:15]], [y, y[:15]])
    bad = u.copy()
    bad[37, 1] = np.nan
    with pytest.raises(InputValueError, match=r"expected finite values in x, got nan at step 37"):
        esn.fit(bad, y)
    with pytest.raises(InputValueError, match=r"expected finite values in y, got inf at step 3 of series 1"):
        esn.fit([u, u], [y, np.where(np.arange(100)[:, None] == 3, np.inf, y)])
    with pytest.raises(ShapeError, match=r"expected x and y of one length, got 100 and 99 steps"):
        esn.fit(u, y[:99])
    with pytest.raises(ShapeError, match=r"expected as many target series as input series, got 1 and 2"):
        esn.fit([u, u], [y])
    with pytest.raises(ShapeError, match=r"expected x of shape \(time,\) or \(time, features\), got \(2, 3, 4, 5\)"):
        esn.fit(np.zeros((2, 3, 4, 5)), y)
    with pytest.raises(NotBuiltError, match=r"no steps to fit \(every step so far was in the washout of 20 steps\)"):
        esn.partial_fit(u[:10], y[:10]).solve()
    esn.fit(u, y)
    with pytest.raises(ShapeError, match=r"expected x of shape \(time, 2\) \(the network's input size\), got \(50, 3\)"):
        esn.predict(np.zeros((50, 3)))
    with pytest.raises(InputValueError, match=r"expected finite values in x, got nan at step 0"):
        esn.predict(np.full((5, 2), np.nan))
    with pytest.raises(ShapeError, match=r"generate feeds each output back as the next input: .* got 3 outputs and 2 inputs"):
        esn.generate(5)
    with pytest.raises(ShapeError, match=r"partial_fit takes one chunk of one series"):
        esn.partial_fit([u, u], [y, y])
    with pytest.raises(ConfigError, match=r"expected n_steps to be a positive integer, got 0"):
        make().fit(u[:, :1], u[:, :1]).generate(0)


def test_nrmse():
    y = np.array([1.0, 2.0, 3.0, 4.0])
    assert nrmse(y, y) == 0.0
    assert nrmse(y, y + 0.5) == pytest.approx(0.5 / y.std())
    with pytest.raises(ShapeError, match=r"nrmse expected y_true and y_pred of one shape, got \(4,\) and \(3,\)"):
        nrmse(y, y[:3])


# -- Mackey–Glass -----------------------------------------------------------------------------------


def test_mackey_glass_series():
    s = mackey_glass(1500)
    assert s.shape == (1500,) and s.dtype == np.float64 and s[0] == 1.2
    np.testing.assert_array_equal(s, mackey_glass(1500))
    assert 0.2 < s[300:].min() < 0.6 and 1.1 < s[300:].max() < 1.4  # the chaotic attractor's range
    # the integration converges: a 4x finer step changes the first 100 time units by < 1e-4
    fine = mackey_glass(100, substeps=40)
    assert np.abs(mackey_glass(100) - fine).max() < 1e-4
    # dt is the sampling step: every second sample of dt = 0.5 is the series at dt = 1
    np.testing.assert_allclose(mackey_glass(201, dt=0.5, substeps=5)[::2], mackey_glass(101), atol=1e-12)
    seeded = mackey_glass(300, seed=1)
    assert seeded[0] == 1.2 and not np.allclose(seeded, s[:300]) and np.array_equal(seeded, mackey_glass(300, seed=1))
    slow = mackey_glass(300, tau=5.0, n_exp=10)  # a short delay: no chaos, a limit cycle or a fixed point
    assert np.isfinite(slow).all()


def test_mackey_glass_errors():
    with pytest.raises(ConfigError, match=r"expected n to be a positive integer, got 0"):
        mackey_glass(0)
    with pytest.raises(ConfigError, match=r"expected tau to be a whole number \(at least 2\) of integration steps h"):
        mackey_glass(10, tau=17.05)
    with pytest.raises(ConfigError, match=r"expected dt to be a positive number, got -1"):
        mackey_glass(10, dt=-1)
    with pytest.raises(ConfigError, match=r"expected substeps to be a positive integer, got 2.5"):
        mackey_glass(10, substeps=2.5)
    with pytest.raises(ConfigError, match=r"expected seed to be an integer or None, got 'a'"):
        mackey_glass(10, seed="a")
