"""IndRNN, MinGRU and MinLSTM as layers: the shared harness, masks, wrappers, stacking, saving."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.testing import assert_close

import recurra
from recurra import Bidirectional, Dense, Embedding, IndRNN, Masking, MinGRU, MinLSTM, Sequential, load_model
from recurra.layers import LAYERS, layer_from_config, layer_to_config
from tests.helpers import (
    B,
    F,
    H,
    T,
    as_tuple,
    build_random,
    check_each_sequence_alone,
    mask_kwargs,
    mask_of,
    padded_input,
    randomize,
    twin,
)
from tests.layers.harness import CHECKS, ELEMENTWISE_CASES

KINDS = {
    "indrnn": lambda **kw: IndRNN(H, **kw),
    "indrnn_tanh": lambda **kw: IndRNN(H, activation="tanh", recurrent_max=0.9, **kw),
    "min_gru": lambda **kw: MinGRU(H, **kw),
    "min_lstm": lambda **kw: MinLSTM(H, **kw),
    "min_gru_scan": lambda **kw: MinGRU(H, implementation="scan", **kw),
    "min_lstm_scan": lambda **kw: MinLSTM(H, implementation="scan", **kw),
}


def make(kind: str, rng, features: int = F, **kw):
    """A float64 layer of ``kind`` built for ``features`` features, with random weights and biases."""
    return build_random(KINDS[kind], rng, features, **kw)


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
@pytest.mark.parametrize("case", ELEMENTWISE_CASES, ids=repr)
def test_harness(case, check):
    check(case)


def test_registered_by_name():
    for cls in (IndRNN, MinGRU, MinLSTM):
        assert LAYERS[cls.__name__] is cls
        layer = cls(3, return_sequences=True, name="x")
        clone = layer_from_config(layer_to_config(layer))
        assert type(clone) is cls and clone.get_config() == layer.get_config()


# -- masks: every sequence gets exactly what it would get alone ------------------------------------


KIND_AND_IMPLEMENTATION = [(kind, "auto") for kind in KINDS] + [
    (kind, "reference") for kind in KINDS if not kind.endswith("_scan")
]


@pytest.mark.parametrize("mask_kind", ["lengths", "left", "holes"])
@pytest.mark.parametrize("go_backwards", [False, True], ids=["fwd", "bwd"])
@pytest.mark.parametrize("kind, implementation", KIND_AND_IMPLEMENTATION, ids=[f"{k}-{i}" for k, i in KIND_AND_IMPLEMENTATION])
def test_each_sequence_as_if_alone(rng, kind, implementation, go_backwards, mask_kind):
    kw = {} if implementation == "auto" else {"implementation": implementation}
    layer = make(kind, rng, return_sequences=True, return_state=True, go_backwards=go_backwards, **kw)
    mask = mask_of(mask_kind)
    x = padded_input(rng, mask)
    check_each_sequence_alone(layer, x, mask, mask_kwargs(mask_kind), reversed_output=go_backwards)
    layer(x, **mask_kwargs(mask_kind))
    expected = "reference" if implementation == "reference" else "scan" if kind.endswith("_scan") else "compiled"
    assert layer.kernel == expected


@pytest.mark.parametrize("mask_kind", ["lengths", "holes"])
@pytest.mark.parametrize("kind", ["indrnn", "min_gru", "min_lstm_scan"])
def test_each_sequence_as_if_alone_bidirectional(rng, kind, mask_kind):
    layer = Bidirectional(make(kind, rng, return_sequences=True, return_state=True))
    randomize(layer, rng)
    mask = mask_of(mask_kind)
    check_each_sequence_alone(layer, padded_input(rng, mask), mask, mask_kwargs(mask_kind), reversed_output=False)
    out, h_fwd, h_bwd = layer(padded_input(rng, mask), **mask_kwargs(mask_kind))
    assert out.shape == (B, T, 2 * H) and h_fwd.shape == h_bwd.shape == (B, H)


@pytest.mark.parametrize("kind", ["indrnn", "min_gru", "min_lstm"])
def test_embedding_and_masking_into_the_layer(rng, kind):
    emb = Embedding(12, F, mask_zero=True).double()
    randomize(emb, rng)
    ids = torch.tensor([[3, 5, 0, 7, 0, 0], [1, 1, 1, 1, 1, 1], [0, 0, 4, 9, 11, 2], [0, 6, 0, 0, 0, 0]])
    layer = make(kind, rng, return_sequences=True, return_state=True)
    mask = emb.compute_mask(ids, None)
    check_each_sequence_alone(layer, emb(ids), mask, {"mask": mask}, reversed_output=False)
    x = torch.tensor(rng.normal(size=(B, T, F)))
    x[~mask] = 0.0
    m = Masking(0.0).compute_mask(x, None)
    assert torch.equal(m, mask)
    check_each_sequence_alone(layer, x, m, {"mask": m}, reversed_output=False)


# -- go_backwards, stateful ------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["indrnn", "min_gru", "min_lstm_scan"])
def test_go_backwards_is_forward_on_reversed_input(rng, kind):
    back = make(kind, rng, return_sequences=True, return_state=True, go_backwards=True)
    fwd = twin(back, go_backwards=False)
    x = torch.tensor(rng.normal(size=(B, T, F)))
    for a, b in zip(as_tuple(back(x)), as_tuple(fwd(x.flip(1)))):
        assert_close(a, b, atol=1e-12, rtol=0)


@pytest.mark.parametrize("kind", ["indrnn", "min_gru", "min_lstm_scan"])
def test_stateful_halves_equal_whole(rng, kind):
    layer = make(kind, rng, return_sequences=True, return_state=True, stateful=True)
    whole = twin(layer, stateful=False)
    x = torch.tensor(rng.normal(size=(B, T, F)))
    y1, _ = layer(x[:, :3])
    y2, h = layer(x[:, 3:])
    y, h_whole = whole(x)
    assert_close(torch.cat([y1, y2], 1), y, atol=1e-12, rtol=0)
    assert_close(h, h_whole, atol=1e-12, rtol=0)
    layer.reset_states()
    assert_close(layer(x[:, :3])[0], y1, atol=0, rtol=0)


# -- stacked in a Sequential, saved and loaded -----------------------------------------------------


def stacked_model():
    return Sequential(
        [
            Masking(0.0, input_shape=(None, F)),
            IndRNN(6, return_sequences=True, recurrent_max=2 ** (1 / T)),
            Bidirectional(MinGRU(5, return_sequences=True)),
            MinLSTM(4, implementation="scan"),
            Dense(2),
        ]
    )


def test_stacked_model_gives_each_sequence_what_it_gets_alone(rng):
    recurra.set_seed(0)
    model = stacked_model().double()
    mask = mask_of("holes")
    x = torch.tensor(rng.normal(size=(B, T, F)))
    x[~mask] = 0.0
    y = model(x)
    assert y.shape == (B, 2)
    for b in range(B):
        assert_close(y[b], model(x[b : b + 1, mask[b]])[0], atol=1e-12, rtol=0)
    assert [getattr(layer, "kernel", None) for layer in model.layers[1:4]] == ["compiled", "compiled", "scan"]


def test_save_and_load_round_trip(tmp_path, rng):
    recurra.set_seed(0)
    model = stacked_model()
    model.compile("adam", "mse")
    x = rng.normal(size=(16, T, F)).astype(np.float32)
    x[3, 4:] = 0.0  # masked steps
    model.fit(x, rng.normal(size=(16, 2)).astype(np.float32), epochs=2, batch_size=8, verbose=0)
    before = model.predict(x)
    model.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    assert loaded.layers[1].recurrent_max == model.layers[1].recurrent_max
    assert loaded.layers[3].implementation == "scan"
    np.testing.assert_array_equal(loaded.predict(x), before)
    recurra.set_seed(1)
    assert not np.allclose(stacked_model().predict(x), before)  # the weights were really loaded


@pytest.mark.parametrize("kind", ["indrnn", "min_gru", "min_lstm", "min_gru_scan"])
def test_backward_twice_through_a_retained_graph(rng, kind):
    """The kernels keep what their backward reads: two losses may share one forward pass."""
    layer = make(kind, rng, return_sequences=True)
    x = torch.tensor(rng.normal(size=(B, T, F)), requires_grad=True)
    y = layer(x)
    y.sum().backward(retain_graph=True)
    first = [p.grad.clone() for p in layer.parameters()] + [x.grad.clone()]
    (2 * y).sum().backward()
    for g1, p in zip(first, [*layer.parameters(), x]):
        assert_close(p.grad, 3 * g1, atol=1e-12, rtol=1e-12)
