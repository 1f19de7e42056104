"""A seed repeats a run however the layers were built: ``fit(seed=...)`` draws again the weights of layers
built before it and not changed since (``recurra.layers.initial``); trained, loaded or set weights stay."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from recurra import GRU, LSTM, Bidirectional, Dense, Embedding, Sequential, SimpleRNN, set_seed
from recurra.layers.initial import redraw_initial_weights


def _weights(model) -> list[torch.Tensor]:
    return [v.clone() for v in model.state_dict().values()]


def _equal(a, b) -> bool:
    return len(a) == len(b) and all(torch.equal(x, y) for x, y in zip(a, b))


ARCHITECTURES = {
    "simple_rnn": lambda shape: [SimpleRNN(8, **shape), Dense(1)],
    "bidirectional_lstm": lambda shape: [Bidirectional(LSTM(4, return_sequences=True), **shape), GRU(3), Dense(1)],
}


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_built_at_construction_or_at_the_first_call_the_same_seed_gives_the_same_run(name):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 5, 3)).astype(np.float32)
    y = rng.normal(size=(32, 1)).astype(np.float32)
    runs = []
    for shape in ({"input_shape": (5, 3)}, {}):
        torch.manual_seed(len(runs) + 100)  # different global states before construction: the seed must not care
        model = Sequential(ARCHITECTURES[name](shape))
        model.compile("adam", "mse")
        model.fit(x, y, epochs=2, batch_size=8, verbose=0, seed=7)
        runs.append(_weights(model))
    assert _equal(*runs)


def test_an_embedding_is_drawn_again_too():
    ids = np.random.default_rng(0).integers(1, 9, size=(16, 5))
    runs = []
    for offset in (0, 1):
        torch.manual_seed(offset)
        model = Sequential([Embedding(10, 4), GRU(3), Dense(1)])
        model.compile("adam", "mse")
        model.fit(ids, np.zeros((16, 1), np.float32), epochs=1, batch_size=4, verbose=0, seed=3)
        runs.append(_weights(model))
    assert _equal(*runs)


def test_weights_that_were_set_loaded_or_trained_are_never_drawn_again():
    model = Sequential([SimpleRNN(3, input_shape=(None, 2)), Dense(1)])
    model.set_weights([np.full_like(w, 0.5) for w in model.get_weights()])
    assert redraw_initial_weights(model) == []
    fresh = Sequential([SimpleRNN(3, input_shape=(None, 2)), Dense(1)])
    fresh.load_state_dict(model.state_dict())
    assert redraw_initial_weights(fresh) == []
    other = Sequential([SimpleRNN(3, input_shape=(None, 2)), Dense(1)])
    with torch.no_grad():
        other.layers[1].bias.add_(1.0)  # an in-place change to one layer
    assert redraw_initial_weights(other) == ["layers.0"]


def test_a_second_fit_with_the_same_seed_continues_training():
    x, y = np.ones((8, 4, 2), np.float32), np.ones((8, 1), np.float32)
    model = Sequential([SimpleRNN(3, input_shape=(None, 2)), Dense(1)])
    model.compile("sgd", "mse")
    model.fit(x, y, epochs=1, verbose=0, seed=0)
    after_one = _weights(model)
    model.fit(x, y, epochs=1, verbose=0, seed=0)
    assert not _equal(after_one, _weights(model))


def test_redraw_copies_into_the_same_parameters():
    model = Sequential([LSTM(4, input_shape=(None, 2)), Dense(1)])
    params = list(model.parameters())
    set_seed(0)
    assert redraw_initial_weights(model) == ["layers.0", "layers.1"]
    assert all(p is q for p, q in zip(params, model.parameters()))  # an optimiser built before stays valid


README_EXAMPLE = textwrap.dedent(
    """
    import sys
    import numpy as np
    import torch
    torch.manual_seed(int(sys.argv[1]))  # a different state before the example: its seed must decide
    from recurra import Sequential, SimpleRNN, Dense
    from recurra.data import sign_of_early_sum

    timesteps, features = 20, 3
    x, y = sign_of_early_sum(1000, timesteps, features)

    model = Sequential()
    model.add(SimpleRNN(64, input_shape=(timesteps, features)))
    model.add(Dense(1, activation='sigmoid'))
    model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])
    history = model.fit(x, y, epochs=2, batch_size=32, validation_split=0.2, seed=0, verbose=0)
    np.save(sys.argv[2], np.concatenate([w.ravel() for w in model.get_weights()]))
    """
)


@pytest.mark.slow
def test_two_processes_running_the_readme_example_end_with_equal_weights(tmp_path):
    script = tmp_path / "example.py"
    script.write_text(README_EXAMPLE)
    for i in (1, 2):
        subprocess.run([sys.executable, str(script), str(i), str(tmp_path / f"w{i}.npy")], check=True, timeout=300)
    a, b = np.load(tmp_path / "w1.npy"), np.load(tmp_path / "w2.npy")
    assert a.shape == b.shape and np.array_equal(a, b)
