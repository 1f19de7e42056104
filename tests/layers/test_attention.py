"""Attention, AdditiveAttention, MultiHeadAttention: the harness, Keras 3's numbers (float64, copied
weights), masks, dropout, initial weights, the functional API (a seq2seq model with attention trained,
saved and loaded) and the errors."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from recurra import Input, Model, load_model
from recurra import layers as recurra_layers
from recurra.errors import ConfigError, NotBuiltError, ShapeError, UnknownNameError
from recurra.layers import (
    LSTM,
    Add,
    AdditiveAttention,
    Attention,
    Concatenate,
    Dense,
    Embedding,
    GlobalAveragePooling1D,
    LayerNormalization,
    MultiHeadAttention,
)
from tests.keras3 import TOLERANCE, keras, randomize
from tests.layers.harness import ATTENTION_CASES, CHECKS

set_keras_mask = keras.src.backend.set_keras_mask  # Keras's MultiHeadAttention reads the query mask only from there


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
@pytest.mark.parametrize("case", ATTENTION_CASES, ids=repr)
def test_harness(case, check):
    check(case)


# -- Keras 3's numbers --------------------------------------------------------------------------------

QUERY_MASK = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], dtype=bool)  # (B, Tq) = (2, 5)
VALUE_MASK = np.array([[1, 1, 0, 0], [0, 1, 1, 1]], dtype=bool)  # (B, Tv) = (2, 4)
# under a causal mask the first value step stays real: a query step with no step to attend to gets Keras's
# `scores - 1e9` on every score, which Keras 3.15 computes in float32 (its matmul rounds float64 down)
# and so loses the scores themselves; recurra keeps them (float64 there)
CAUSAL_VALUE_MASK = np.array([[1, 1, 0, 0], [1, 0, 1, 1]], dtype=bool)


def _t(x):
    return None if x is None else torch.as_tensor(x)


def _worst(ours, theirs) -> float:
    """Largest |ours - theirs| over an output or a tuple of outputs."""
    ours = ours if isinstance(ours, tuple) else (ours,)
    theirs = theirs if isinstance(theirs, (tuple, list)) else (theirs,)
    assert len(ours) == len(theirs)
    return max(float(np.max(np.abs(a.detach().numpy() - keras.ops.convert_to_numpy(b)))) for a, b in zip(ours, theirs))


ATTENTION_CONFIGS = [
    ("Attention", {}),
    ("Attention", {"use_scale": True}),
    ("Attention", {"score_mode": "concat"}),
    ("Attention", {"use_scale": True, "score_mode": "concat"}),
    ("AdditiveAttention", {}),
    ("AdditiveAttention", {"use_scale": False}),
]
ATTENTION_CALLS = {
    "plain": ({}, False),
    "key": ({}, True),
    "masks": ({"mask": [QUERY_MASK, VALUE_MASK]}, True),
    "query_mask_only": ({"mask": [QUERY_MASK, None]}, False),
    "causal_value_mask": ({"mask": [None, CAUSAL_VALUE_MASK], "use_causal_mask": True}, True),
    "causal_scores": ({"mask": [QUERY_MASK, CAUSAL_VALUE_MASK], "use_causal_mask": True, "return_attention_scores": True}, False),
}


@pytest.mark.parametrize("call", ATTENTION_CALLS, ids=str)
@pytest.mark.parametrize("name, config", ATTENTION_CONFIGS, ids=lambda v: v if isinstance(v, str) else repr(v))
def test_attention_equals_keras(rng, name, config, call):
    kwargs, with_key = ATTENTION_CALLS[call]
    q = rng.normal(size=(2, 5, 4))
    k = rng.normal(size=(2, 4, 4))
    v = rng.normal(size=(2, 4, 3)) if with_key else k
    inputs = [_t(q), _t(v)] + ([_t(k)] if with_key else [])
    call_kwargs = {key: [_t(m) for m in value] if key == "mask" else value for key, value in kwargs.items()}
    ours = getattr(recurra_layers, name)(**config)
    theirs = getattr(keras.layers, name)(**config, dtype="float64")
    ours(inputs, **call_kwargs)  # builds, in float64
    theirs(inputs, **call_kwargs)
    if ours.get_weights():
        randomize(ours)
    theirs.set_weights(ours.get_weights())
    worst = _worst(ours(inputs, **call_kwargs), theirs(inputs, **call_kwargs))
    assert worst <= TOLERANCE  # Keras 3.15's matmul rounds float64 to float32: about 2e-7 here


MHA_CONFIGS = [
    {"num_heads": 2, "key_dim": 3},
    {"num_heads": 3, "key_dim": 2, "value_dim": 4, "output_shape": 6},
    {"num_heads": 1, "key_dim": 5, "use_bias": False},
    {"num_heads": 2, "key_dim": 3, "output_shape": (2, 3)},
    {"num_heads": 4, "key_dim": 1, "value_dim": 2, "dropout": 0.3},  # compared at inference
]
MHA_CALLS = {
    "plain": {},
    "key": {"key": True},
    "value_mask": {"value_mask": VALUE_MASK},
    "query_and_value_masks": {"query_mask": QUERY_MASK, "value_mask": VALUE_MASK},
    "key_mask": {"key": True, "key_mask": VALUE_MASK},
    "causal": {"use_causal_mask": True},
    "causal_masked": {"use_causal_mask": True, "query_mask": QUERY_MASK, "value_mask": VALUE_MASK},
    "attention_mask": {"attention_mask": np.random.default_rng(3).random((2, 5, 4)) > 0.3},
}


def _mha_pair(rng, config: dict, call: dict, *, scores: bool):
    """Both layers built on the same float64 inputs, recurra's random weights copied into Keras's; the two
    calls (the query mask attached to the query tensor for Keras, which reads it only there)."""
    q, v, k = rng.normal(size=(2, 5, 4)), rng.normal(size=(2, 4, 6)), rng.normal(size=(2, 4, 3))
    key = _t(k) if call.get("key") else None
    masks = {name: _t(call[name]) for name in ("value_mask", "key_mask", "attention_mask") if name in call}
    flags = {"use_causal_mask": call.get("use_causal_mask", False), "return_attention_scores": scores}
    query_mask = _t(call.get("query_mask"))
    ours = MultiHeadAttention(**config).eval()
    theirs = keras.layers.MultiHeadAttention(**config, dtype="float64")
    ours(_t(q), _t(v), key, query_mask=query_mask, **masks, **flags)
    theirs(_t(q), _t(v), key, **masks, **flags)
    randomize(ours)
    theirs.set_weights(ours.get_weights())
    y_ours = ours(_t(q), _t(v), key, query_mask=query_mask, **masks, **flags)
    keras_query = _t(q).clone()
    if query_mask is not None:
        set_keras_mask(keras_query, query_mask)
    y_theirs = theirs(keras_query, _t(v), key, **masks, **flags)
    return y_ours, y_theirs


@pytest.mark.parametrize("call", MHA_CALLS, ids=str)
@pytest.mark.parametrize("config", MHA_CONFIGS, ids=repr)
def test_multi_head_attention_equals_keras(rng, config, call):
    """With the scores returned Keras computes in float64 as written: outputs and scores agree."""
    (y, a), (y_keras, a_keras) = _mha_pair(rng, config, MHA_CALLS[call], scores=True)
    assert tuple(a.shape) == (2, config["num_heads"], 5, 4)
    assert _worst((y, a), (y_keras, a_keras)) <= TOLERANCE


@pytest.mark.parametrize("call", ["plain", "key", "query_and_value_masks", "causal", "attention_mask"])
@pytest.mark.parametrize("config", MHA_CONFIGS[:4], ids=repr)
def test_multi_head_attention_equals_keras_fused_path_on_real_steps(rng, config, call):
    """Without scores or dropout Keras runs torch's fused attention, in float32 (Keras 3.15 rounds its
    float64 dtype to float32 there) and with ordinary attention at padded query steps: the real steps
    agree to float32's precision."""
    y, y_keras = _mha_pair(rng, config, MHA_CALLS[call], scores=False)
    y, y_keras = y.detach().numpy(), keras.ops.convert_to_numpy(y_keras)
    real = MHA_CALLS[call].get("query_mask", np.ones((2, 5), dtype=bool))
    np.testing.assert_allclose(y[real], y_keras[real], rtol=1e-5, atol=1e-5 * np.abs(y).max())


def test_weight_shapes_and_order_are_keras_s():
    q, v, k = torch.zeros(2, 5, 4), torch.zeros(2, 3, 6), torch.zeros(2, 3, 7)
    for config in ({"num_heads": 2, "key_dim": 3, "value_dim": 5, "output_shape": (2, 3)}, {"num_heads": 3, "key_dim": 2}):
        for use_bias in (True, False):
            ours = MultiHeadAttention(**config, use_bias=use_bias)
            theirs = keras.layers.MultiHeadAttention(**config, use_bias=use_bias)
            ours(q, v, k)
            theirs(q.numpy(), v.numpy(), k.numpy())
            assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]
    for name, config in ATTENTION_CONFIGS:
        ours, theirs = getattr(recurra_layers, name)(**config), getattr(keras.layers, name)(**config)
        ours([q, q])
        theirs([q.numpy(), q.numpy()])
        assert [w.shape for w in ours.get_weights()] == [tuple(w.shape) for w in theirs.get_weights()]


def test_initial_weights_follow_keras_s_fans():
    """Glorot-uniform bounds from Keras 3's EinsumDense fans (fan_in: the axes summed over), and Keras's own
    weights within the same bounds; scalar scales start at 1, the additive scale Glorot-uniform on (D,)."""
    torch.manual_seed(0)
    F, N, K, V, O = 32, 4, 16, 8, 24
    ours = MultiHeadAttention(N, K, value_dim=V, output_shape=O)
    theirs = keras.layers.MultiHeadAttention(N, K, value_dim=V, output_shape=O)
    x = torch.zeros(1, 2, F)
    ours(x, x)
    theirs(x.numpy(), x.numpy())
    fans = [(F, N * K), None, (F, N * K), None, (F, N * V), None, (N * V, O), None]
    for w_ours, w_theirs, fan in zip(ours.get_weights(), theirs.get_weights(), fans):
        if fan is None:
            assert not w_ours.any()  # biases start at zero
            continue
        limit = math.sqrt(6.0 / sum(fan))
        for w in (w_ours, keras.ops.convert_to_numpy(w_theirs)):
            assert 0.9 * limit < np.abs(w).max() <= limit
    additive = AdditiveAttention()
    additive([torch.zeros(1, 2, 300)] * 2)
    limit = math.sqrt(6.0 / 600)
    assert 0.9 * limit < np.abs(additive.get_weights()[0]).max() <= limit
    scaled = Attention(use_scale=True, score_mode="concat")
    scaled([x, x])
    assert [float(w) for w in scaled.get_weights()] == [1.0, 1.0]


# -- masks and dropout --------------------------------------------------------------------------------


def test_attention_masks():
    torch.manual_seed(0)
    q, v = torch.randn(2, 5, 3), torch.randn(2, 4, 3)
    q_mask, v_mask = torch.tensor(QUERY_MASK), torch.tensor(VALUE_MASK)
    layer = Attention()
    y, a = layer([q, v], mask=[q_mask, v_mask], return_attention_scores=True)
    assert torch.equal(y[0, 3:], torch.zeros(2, 3))  # padded query steps give 0
    assert_close(a.sum(-1), torch.ones(2, 5, dtype=a.dtype))
    assert (a * ~v_mask[:, None, :]).abs().max() < 1e-30  # padded value steps get no weight
    changed = v.clone()
    changed[~v_mask] = 100.0
    assert_close(layer([q, changed], mask=[q_mask, v_mask]), y)
    assert torch.equal(layer.compute_mask([q, v], [q_mask, v_mask]), q_mask)
    assert layer.compute_mask([q, v], None) is None and layer.compute_mask([q, v], [None, v_mask]) is None
    _, causal = layer([q, q], use_causal_mask=True, return_attention_scores=True)
    assert torch.equal(causal.triu(1), torch.zeros(2, 5, 5))  # step i sees steps j <= i only


def test_multi_head_attention_masks():
    torch.manual_seed(0)
    layer = MultiHeadAttention(num_heads=2, key_dim=3).eval()
    q, v = torch.randn(2, 5, 4), torch.randn(2, 4, 6)
    layer(q, v)
    randomize(layer)  # biases too
    q_mask, v_mask = torch.tensor(QUERY_MASK), torch.tensor(VALUE_MASK)
    y, a = layer(q, v, query_mask=q_mask, value_mask=v_mask, return_attention_scores=True)
    changed = v.clone()
    changed[~v_mask] = 100.0
    assert_close(layer(q, changed, query_mask=q_mask, value_mask=v_mask), y)  # padded value steps are ignored
    assert torch.equal(a[0, :, 3:], torch.zeros(2, 2, 4))  # padded query steps attend nowhere
    assert_close(y[0, 3:], layer.output_bias.expand(2, 4))  # so their output is the output bias
    assert torch.equal(layer.compute_mask(q, q_mask), q_mask)
    # causal self-attention: an output step does not depend on later steps
    self_attention = MultiHeadAttention(num_heads=2, key_dim=3).eval()
    x = torch.randn(2, 5, 4)
    later = x.clone()
    later[:, 3:] = 50.0
    assert_close(self_attention(x, x, use_causal_mask=True)[:, :3], self_attention(later, later, use_causal_mask=True)[:, :3])
    # attention_mask (B, Tq, Tv) and (Tq, Tv) broadcast over the batch
    pairs = torch.rand(5, 4, generator=torch.Generator().manual_seed(1)) > 0.3
    assert_close(layer(q, v, attention_mask=pairs), layer(q, v, attention_mask=pairs.expand(2, 5, 4)))


def test_the_mask_of_a_self_attention_input_is_the_value_mask_too():
    """``mask`` travels with the query (a model passes it so); in ``layer(x, x)`` it is the value's mask too,
    as Keras reads it from the tensor given as both."""
    torch.manual_seed(0)
    layer = MultiHeadAttention(num_heads=2, key_dim=3).eval()
    x = torch.randn(2, 4, 5)
    m = torch.tensor(VALUE_MASK)
    assert_close(layer(x, x, mask=m), layer(x, x, query_mask=m, value_mask=m))
    y = x.clone()
    assert_close(layer(x, y, mask=m), layer(x, y, query_mask=m))  # another tensor: the query's mask only


def test_the_key_bias_never_changes_the_output():
    torch.manual_seed(0)
    layer = MultiHeadAttention(num_heads=2, key_dim=3).eval()
    q, v = torch.randn(2, 5, 4), torch.randn(2, 4, 6)
    before = layer(q, v)
    with torch.no_grad():
        layer.key_bias.normal_()
    assert_close(layer(q, v), before)  # it shifts every score of a row alike: the softmax ignores it


def test_dropout_acts_while_training_only():
    torch.manual_seed(0)
    q, v = torch.randn(2, 5, 3), torch.randn(2, 4, 3)
    layer = Attention(dropout=0.5)
    _, kept = layer([q, v], return_attention_scores=True, training=False)
    _, dropped = layer([q, v], return_attention_scores=True, training=True)
    assert (dropped == 0).any()
    assert_close(dropped[dropped != 0], 2 * kept[dropped != 0])  # the survivors scaled by 1 / (1 - rate)
    layer.eval()
    assert torch.equal(layer([q, v]), Attention()([q, v]))

    mha = MultiHeadAttention(num_heads=2, key_dim=3, dropout=0.5)
    x = torch.randn(2, 5, 4)
    y_train, a_train = mha(x, x, return_attention_scores=True)  # a module trains until .eval()
    mha.eval()
    y_eval, a_eval = mha(x, x, return_attention_scores=True)
    assert torch.equal(a_train, a_eval)  # the scores returned are before dropout, as Keras's
    assert not torch.allclose(y_train, y_eval)
    assert torch.equal(mha(x, x, training=False), y_eval)


def test_dtype_follows_the_first_input():
    for layer in (Attention(use_scale=True), AdditiveAttention()):
        x = torch.randn(2, 3, 4, dtype=torch.float64)
        assert layer([x, x]).dtype == torch.float64
        assert all(w.dtype == np.float64 for w in layer.get_weights())
    mha = MultiHeadAttention(2, 2)
    x = torch.randn(2, 3, 4, dtype=torch.float64)
    assert mha(x, x).dtype == torch.float64


# -- the functional API ---------------------------------------------------------------------------------


def _seq2seq_with_attention(vocab: int = 12):
    """An encoder and a decoder (each an Embedding(mask_zero=True) then an LSTM over the sequence); the
    decoder attends over the encoder's steps (Luong), and the context joins the decoder's output."""
    enc_in = Input(shape=(None,), dtype="int64", name="encoder_ids")
    dec_in = Input(shape=(None,), dtype="int64", name="decoder_ids")
    enc_seq = LSTM(16, return_sequences=True, name="encoder")(Embedding(vocab, 8, mask_zero=True)(enc_in))
    dec_seq = LSTM(16, return_sequences=True, name="decoder")(Embedding(vocab, 8, mask_zero=True)(dec_in))
    context, scores = Attention(name="attention")([dec_seq, enc_seq], return_attention_scores=True)
    out = Dense(vocab, activation="softmax", name="next_token")(Concatenate()([dec_seq, context]))
    return Model([enc_in, dec_in], out), Model([enc_in, dec_in], scores)


def test_seq2seq_with_attention_trains_saves_and_loads(tmp_path):
    torch.manual_seed(0)
    model, attention_map = _seq2seq_with_attention()
    assert attention_map.outputs[0].shape == (None, None, None)
    rng = np.random.default_rng(0)
    enc = rng.integers(1, 12, size=(64, 6))
    enc[::2, -2:] = 0  # padding
    dec, target = rng.integers(1, 12, size=(64, 5)), rng.integers(1, 12, size=(64, 5))
    model.compile("adam", "sparse_categorical_crossentropy")
    history = model.fit([enc, dec], target, epochs=3, batch_size=16, verbose=0, seed=0)
    assert history.history["loss"][-1] < history.history["loss"][0]

    model.eval()
    xs = [torch.as_tensor(enc[:4]), torch.as_tensor(dec[:4])]
    for path in (tmp_path / "s2s", tmp_path / "s2s.keras"):
        model.save(path)
        again = load_model(path)
        assert torch.equal(again(xs), model(xs))
    # the encoder's padding is masked out of the attention: padded and unpadded give the same
    short, padded, d = torch.tensor([[3, 4, 5]]), torch.tensor([[3, 4, 5, 0, 0]]), torch.tensor([[1, 2]])
    assert_close(model([padded, d]), model([short, d]))
    assert attention_map([padded, d])[0, :, 3:].abs().max() < 1e-30


def test_self_attention_block_in_a_functional_model(tmp_path):
    torch.manual_seed(0)
    ids = Input(shape=(None,), dtype="int64")
    x = Embedding(20, 8, mask_zero=True)(ids)
    attended = MultiHeadAttention(num_heads=2, key_dim=4, name="mha")(x, x, use_causal_mask=True)
    x = LayerNormalization()(Add()([x, attended]))
    model = Model(ids, Dense(1)(GlobalAveragePooling1D()(x)))
    rng = np.random.default_rng(1)
    data = rng.integers(1, 20, size=(32, 6))
    data[::3, -3:] = 0
    model.compile("adam", "mse")
    history = model.fit(data, rng.normal(size=(32, 1)).astype(np.float32), epochs=3, batch_size=8, verbose=0, seed=0)
    assert np.isfinite(history.history["loss"]).all()
    model.save(tmp_path / "block")
    again = load_model(tmp_path / "block")
    model.eval()
    batch = torch.as_tensor(data[:5])
    assert torch.equal(again(batch), model(batch))
    assert_close(model(torch.tensor([[4, 7, 9, 0, 0]])), model(torch.tensor([[4, 7, 9]])))  # the padding changes nothing

    scores_in = Input(shape=(None, 6))
    y, scores = MultiHeadAttention(num_heads=3, key_dim=2)(scores_in, scores_in, return_attention_scores=True)
    assert y.shape == (None, None, 6) and scores.shape == (None, 3, None, None)


# -- errors -------------------------------------------------------------------------------------------

Q, V = torch.zeros(2, 5, 3), torch.zeros(2, 4, 3)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: Attention(score_mode="general"), r"expected score_mode in \('dot', 'concat'\), got 'general'"),
        (lambda: Attention(dropout=1.5), r"expected dropout in \[0, 1\), got 1.5"),
        (lambda: AdditiveAttention(seed="7"), r"expected seed as an int or None, got '7'"),
        (lambda: MultiHeadAttention(0, 4), r"expected num_heads to be a positive integer, got 0"),
        (lambda: MultiHeadAttention(2, 4.0), r"expected key_dim to be a positive integer, got 4.0"),
        (lambda: MultiHeadAttention(2, 4, value_dim=-1), r"expected value_dim to be a positive integer, got -1"),
        (lambda: MultiHeadAttention(2, 4, output_shape=[]), r"expected output_shape as an int, a tuple of ints or None"),
        (lambda: MultiHeadAttention(2, 4, attention_axes=(1, 2)), r"supports attention_axes=None only .*, got \(1, 2\)"),
        (lambda: MultiHeadAttention(2, 4, attention_axes=2), r"supports attention_axes=None only .*, got 2"),
    ],
)
def test_bad_settings_are_named(make, message):
    with pytest.raises(ConfigError, match=message):
        make()


def test_an_unknown_initializer_is_named():
    with pytest.raises(UnknownNameError, match=r"unknown initializer 'nope'; expected one of: .*glorot_uniform"):
        MultiHeadAttention(2, 4, kernel_initializer="nope")


def test_the_time_axis_written_out_is_attention_axes_none():
    """Keras writes ``attention_axes=(1,)`` in a built layer's config: the same as None for (B, T, F) inputs."""
    for axes in ((1,), [1], 1, -2):
        assert MultiHeadAttention(2, 4, attention_axes=axes).get_config()["attention_axes"] is None


@pytest.mark.parametrize(
    "layer, inputs, kwargs, message",
    [
        (Attention(), Q, {}, r"Attention expected a list \[query, value\] or \[query, value, key\], got \(2, 5, 3\)"),
        (Attention(), [Q], {}, r"Attention expected a list \[query, value\] or \[query, value, key\], got 1 item"),
        (Attention(), [Q[0], V], {}, r"Attention expected query of shape \(batch, time, features\), got \(5, 3\)"),
        (Attention(), [Q, V, torch.zeros(2, 4)], {}, r"Attention expected key of shape \(batch, time, features\), got \(2, 4\)"),
        (Attention(), [Q, torch.zeros(2, 4, 2)], {}, r"expected query and key with the same features, got query \(2, 5, 3\)"),
        (Attention(), [Q, V, torch.zeros(2, 6, 3)], {}, r"expected key and value of one length, got key \(2, 6, 3\)"),
        (Attention(), [Q, torch.zeros(3, 4, 3)], {}, r"expected query, value and key of one batch size"),
        (Attention(), [Q, torch.zeros(2, 4, 3, dtype=torch.int64)], {}, r"Attention expected value of floats, got dtype int64"),
        (
            Attention(),
            [Q, V],
            {"mask": torch.ones(2, 5, dtype=torch.bool)},
            r"expected mask as a list \[query_mask, value_mask\]",
        ),
        (
            AdditiveAttention(),
            [Q, V],
            {"mask": [None, torch.ones(2, 5, dtype=torch.bool)]},
            r"AdditiveAttention expected value_mask of shape \(2, 4\) \(batch, steps\), got \(2, 5\)",
        ),
    ],
)
def test_bad_attention_inputs_are_named(layer, inputs, kwargs, message):
    with pytest.raises(ShapeError, match=message):
        layer(inputs, **kwargs)


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        ((torch.zeros(2, 3), V), {}, r"MultiHeadAttention expected query of shape \(batch, time, features\), got \(2, 3\)"),
        ((Q, torch.zeros(2, 4, 3, 1)), {}, r"expected value of shape \(batch, time, features\), got \(2, 4, 3, 1\)"),
        ((Q, V, torch.zeros(2, 6, 3)), {}, r"expected key and value of one length, got key \(2, 6, 3\), value \(2, 4, 3\)"),
        ((Q, torch.zeros(1, 4, 3)), {}, r"expected query, value and key of one batch size, got \(2, 5, 3\), \(1, 4, 3\)"),
        ((Q, V), {"value_mask": torch.ones(2, 5)}, r"expected value_mask of shape \(2, 4\) \(batch, steps\), got \(2, 5\)"),
        ((Q, V), {"query_mask": torch.ones(5)}, r"expected query_mask of shape \(2, 5\) \(batch, steps\), got \(5,\)"),
        ((Q, V), {"attention_mask": torch.ones(2, 4, 5)}, r"expected attention_mask of shape .* = \(2, 5, 4\), got \(2, 4, 5\)"),
    ],
)
def test_bad_multi_head_attention_inputs_are_named(args, kwargs, message):
    with pytest.raises(ShapeError, match=message):
        MultiHeadAttention(2, 3)(*args, **kwargs)


def test_inputs_must_keep_the_features_the_layer_was_built_for():
    mha = MultiHeadAttention(2, 3)
    mha(Q, V)
    with pytest.raises(ShapeError, match=r"MultiHeadAttention expected value of shape \(batch, time, 3\), got \(2, 4, 7\)"):
        mha(Q, torch.zeros(2, 4, 7))
    additive = AdditiveAttention()
    additive([Q, V])
    with pytest.raises(ShapeError, match=r"AdditiveAttention expected a query of 3 features, got \(2, 5, 4\)"):
        additive([torch.zeros(2, 5, 4), torch.zeros(2, 4, 4)])


def test_weights_before_building_and_of_the_wrong_shape():
    with pytest.raises(NotBuiltError, match="MultiHeadAttention has no weights yet"):
        MultiHeadAttention(2, 3).get_weights()
    mha = MultiHeadAttention(2, 3)
    mha(Q, V)
    weights = mha.get_weights()
    weights[0] = np.zeros((3, 2, 4))
    with pytest.raises(ShapeError, match=r"array 0 expected shape \(3, 2, 3\), got \(3, 2, 4\)"):
        mha.set_weights(weights)


def test_errors_in_a_functional_model_name_the_layer():
    a, b = Input(shape=(None, 3)), Input(shape=(None, 4))
    with pytest.raises(ShapeError, match=r"calling Attention on inputs of shape .*same features"):
        Attention()([a, b])


def test_cross_attention_in_a_model_reads_the_values_own_mask():
    """Keras passes each tensor's mask by name (value_mask) in a functional graph; padding the values
    changes nothing."""
    from recurra import Model, layers

    q_ids, v_ids = layers.Input((None,), dtype="int64"), layers.Input((None,), dtype="int64")
    q = layers.Embedding(10, 4, mask_zero=True)(q_ids)
    v = layers.Embedding(10, 4, mask_zero=True)(v_ids)
    model = Model([q_ids, v_ids], layers.MultiHeadAttention(num_heads=2, key_dim=3)(q, v))
    model.eval()
    queries = torch.tensor([[1, 2, 3]])
    short = model([queries, torch.tensor([[4, 5]])])
    padded = model([queries, torch.tensor([[4, 5, 0, 0]])])
    torch.testing.assert_close(short, padded)
