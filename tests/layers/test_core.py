"""Dense, Embedding, Dropout, Masking, Flatten, Activation, Input (and the harness over them)."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from recurra import LSTM, Activation, Dense, Dropout, Embedding, Flatten, Input, Masking, initializers
from recurra.errors import ConfigError, InputValueError, NotBuiltError, ShapeError, UnknownNameError
from recurra.layers import LAYERS, InputLayer, layer_from_config, layer_to_config
from tests.layers.harness import ALL_CASES, CHECKS, CORE_CASES


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__.removeprefix("check_"))
@pytest.mark.parametrize("case", CORE_CASES, ids=repr)
def test_harness(case, check):
    check(case)


def test_harness_covers_every_registered_layer():
    covered = {type(case.make()) for case in ALL_CASES}
    registered = {cls for cls in LAYERS.values() if cls.__module__.startswith("recurra.layers")}
    assert registered, "no layer registered"
    assert registered <= covered, f"layers without a harness case: {sorted(c.__name__ for c in registered - covered)}"


def test_layer_to_and_from_config_by_name():
    spec = layer_to_config(Dense(3, activation="relu", name="d"))
    assert spec["class_name"] == "Dense"
    layer = layer_from_config(spec)
    assert isinstance(layer, Dense) and layer.units == 3 and layer.activation == "relu" and layer.name == "d"
    with pytest.raises(UnknownNameError, match=r"unknown layer 'Dense2'; expected one of: .*Dense"):
        layer_from_config({"class_name": "Dense2", "config": {}})


# -- Dense -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("activation", [None, "relu", "sigmoid", "softmax"])
def test_dense_equals_keras_equation(rng, activation):
    layer = Dense(4, activation=activation, input_shape=(3,))
    kernel, bias = rng.normal(size=(3, 4)), rng.normal(size=4)
    layer.set_weights([kernel, bias])
    x = rng.normal(size=(5, 2, 3))
    z = x @ kernel + bias
    want = {
        None: z,
        "relu": np.maximum(z, 0),
        "sigmoid": 1 / (1 + np.exp(-z)),
        "softmax": np.exp(z) / np.exp(z).sum(-1, keepdims=True),
    }[activation]
    y = layer(torch.tensor(x, dtype=torch.float32))
    np.testing.assert_allclose(y.detach().numpy(), want, rtol=1e-5, atol=1e-5)
    assert layer.activation == ("linear" if activation is None else activation)


def test_dense_weights_layout_and_lazy_build():
    layer = Dense(4)
    assert not layer.built and list(layer.parameters()) == []
    with pytest.raises(NotBuiltError, match=r"Dense has no weights yet: get_weights\(\) needs them"):
        layer.get_weights()
    layer(torch.zeros(2, 3, dtype=torch.float64))
    assert layer.built and layer.weight.dtype == torch.float64
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 4) and bias.shape == (4,)
    np.testing.assert_array_equal(kernel, layer.weight.detach().numpy().T)
    assert len(Dense(4, use_bias=False, input_shape=(3,)).get_weights()) == 1


def test_dense_errors():
    with pytest.raises(ConfigError, match=r"expected units to be a positive integer, got 0"):
        Dense(0)
    with pytest.raises(UnknownNameError, match=r"unknown activation 'relux'; expected one of: .*relu"):
        Dense(2, activation="relux")
    with pytest.raises(UnknownNameError, match=r"unknown initializer 'glorot'; expected one of: .*glorot_uniform"):
        Dense(2, kernel_initializer="glorot")
    layer = Dense(2, input_shape=(3,))
    with pytest.raises(ShapeError, match=r"Dense expected input of shape \(batch, \.\.\., 3\), got \(5, 4\)"):
        layer(torch.zeros(5, 4))
    with pytest.raises(ShapeError, match=r"Dense expected input of shape \(batch, \.\.\., features\), got \(3,\)"):
        layer(torch.zeros(3))
    with pytest.raises(ShapeError, match=r"Dense.set_weights expected 2 arrays of shapes \(3, 2\), \(2,\), got 1"):
        layer.set_weights([np.zeros((3, 2))])
    with pytest.raises(ShapeError, match=r"array 0 expected shape \(3, 2\), got \(2, 3\)"):
        layer.set_weights([np.zeros((2, 3)), np.zeros(2)])


def test_dense_mask_passes_through():
    mask = torch.tensor([[True, False]])
    assert Dense(2).compute_mask(torch.zeros(1, 2, 3), mask) is mask


# -- Embedding -------------------------------------------------------------------------------------


def test_embedding_lookup_and_weights(rng):
    emb = Embedding(6, 3)
    table = rng.normal(size=(6, 3))
    emb.set_weights([table])
    (w,) = emb.get_weights()
    assert w.shape == (6, 3)
    ids = torch.tensor([[0, 5, 2], [1, 1, 4]])
    np.testing.assert_allclose(emb(ids).detach().numpy(), table[ids.numpy()], rtol=1e-6)
    # integer-valued floats are accepted as ids
    assert torch.equal(emb(ids.double()), emb(ids))


def test_embedding_mask():
    ids = torch.tensor([[3, 5, 0, 0], [0, 2, 0, 1]])
    emb = Embedding(10, 4, mask_zero=True)
    assert emb.compute_mask(ids, None).tolist() == [[True, True, False, False], [False, True, False, True]]
    incoming = torch.ones(2, 4, dtype=torch.bool)
    assert Embedding(10, 4).compute_mask(ids, incoming) is incoming
    assert Embedding(10, 4).compute_mask(ids, None) is None


def test_embedding_default_initializer_is_uniform_005():
    emb = Embedding(100, 8)
    w = emb.embeddings.detach()
    assert w.abs().max() <= 0.05 and w.std() > 0.01
    init = initializers.get(emb.get_config()["embeddings_initializer"])
    assert isinstance(init, initializers.RandomUniform) and (init.minval, init.maxval) == (-0.05, 0.05)


def test_embedding_errors():
    emb = Embedding(10, 4)
    with pytest.raises(InputValueError, match=r"expected token ids in \[0, 9\] \(input_dim=10\), got values from 0 to 10"):
        emb(torch.tensor([[0, 10]]))
    with pytest.raises(InputValueError, match=r"expected token ids in \[0, 9\] \(input_dim=10\), got values from -1 to 3"):
        emb(torch.tensor([[-1, 3]]))
    with pytest.raises(InputValueError, match=r"expected integer token ids, got non-integer values of dtype torch.float32"):
        emb(torch.tensor([[0.5, 1.0]]))
    with pytest.raises(TypeError, match=r"Embedding expected a tensor of integer ids, got list"):
        emb([[1, 2]])
    with pytest.raises(ConfigError, match=r"expected input_dim to be a positive integer, got 0"):
        Embedding(0, 4)
    with pytest.raises(ConfigError, match=r"expected output_dim to be a positive integer, got -2"):
        Embedding(4, -2)


# -- Dropout ---------------------------------------------------------------------------------------


def test_dropout_eval_is_identity_training_scales():
    x = torch.ones(200, 50)
    layer = Dropout(0.25)
    layer.eval()
    assert layer(x) is x
    assert layer(x, training=False) is x
    y = layer(x, training=True)
    kept = y != 0
    assert_close(y[kept], torch.full_like(y[kept], 1 / 0.75))
    assert 0.2 < 1 - kept.float().mean().item() < 0.3
    layer.train()
    assert not torch.equal(layer(x), x)
    assert Dropout(0.0)(x) is x


def test_dropout_noise_shape_one_mask_per_sequence():
    layer = Dropout(0.5, noise_shape=(None, 1, None))
    y = layer(torch.ones(16, 7, 5), training=True)
    assert torch.equal(y, y[:, :1].expand_as(y))  # the same mask at every time step
    assert 0 < torch.count_nonzero(y) < y.numel()


def test_dropout_rate_checked():
    for bad in (1.0, 1.5, -0.1, "0.5"):
        with pytest.raises(ConfigError, match=r"expected rate in \[0, 1\), got"):
            Dropout(bad)


# -- Masking ---------------------------------------------------------------------------------------


def test_masking_mask_and_zeroing():
    x = torch.tensor([[[1.0, 2.0], [-1.0, -1.0], [0.0, 3.0]], [[-1.0, -1.0], [5.0, -1.0], [-1.0, -1.0]]])
    layer = Masking(mask_value=-1.0)
    mask = layer.compute_mask(x, None)
    assert mask.tolist() == [[True, False, True], [False, True, False]]
    y = layer(x)
    assert torch.equal(y[mask], x[mask])
    assert torch.count_nonzero(y[~mask]) == 0
    assert Masking().compute_mask(torch.zeros(1, 2, 3), None).tolist() == [[False, False]]
    with pytest.raises(ShapeError, match=r"Masking expected input of shape \(batch, time, features\), got \(2, 3\)"):
        layer(torch.zeros(2, 3))


# -- Flatten, Activation, Input --------------------------------------------------------------------


def test_flatten():
    x = torch.arange(24.0).reshape(2, 3, 4)
    assert torch.equal(Flatten()(x), x.reshape(2, 12))
    assert Flatten().compute_mask(x, torch.ones(2, 3, dtype=torch.bool)) is None


@pytest.mark.parametrize(
    ("name", "fn"),
    [
        ("relu", torch.relu),
        ("tanh", torch.tanh),
        ("softmax", lambda v: torch.softmax(v, -1)),
        ("hard_sigmoid", lambda v: torch.clamp((v + 3) / 6, 0, 1)),
        (None, lambda v: v),
    ],
)
def test_activation(name, fn):
    x = torch.randn(3, 4, 5) * 3
    assert_close(Activation(name)(x), fn(x))


def test_activation_unknown_name():
    with pytest.raises(UnknownNameError, match=r"unknown activation 'swishy'; expected one of: .*swish"):
        Activation("swishy")


def test_input_layer_checks_shape():
    layer = InputLayer(shape=(None, 3))
    x = torch.zeros(2, 7, 3)
    assert layer(x) is x
    assert layer.get_config() == {"shape": [None, 3], "batch_size": None, "name": None, "dtype": None}
    with pytest.raises(ShapeError, match=r"expected input of shape \(batch, None, 3\), got \(2, 7, 4\)"):
        layer(torch.zeros(2, 7, 4))
    with pytest.raises(ShapeError, match=r"expected input of shape \(batch, 5, 3\), got \(2, 3\)"):
        InputLayer(shape=(5, 3))(torch.zeros(2, 3))
    with pytest.raises(ConfigError, match=r"expected input_shape with positive sizes, got \(0, 3\)"):
        Input(shape=(0, 3))


def test_input_makes_a_symbolic_tensor_of_its_layer():
    x = Input(shape=(None, 3), batch_size=4, dtype="float64", name="series")
    assert x.shape == (4, None, 3) and x.dtype == torch.float64 and x.name == "series"
    assert isinstance(x.input_layer, InputLayer) and x.input_layer.output is x
    assert Input(batch_shape=(2, 5)).shape == (2, 5)
    with pytest.raises(ConfigError, match="expected dtype in float32"):
        Input(shape=(3,), dtype="complex")


def test_get_weights_needs_a_built_layer():
    with pytest.raises(NotBuiltError, match=r"LSTM has no weights yet: set_weights\(\) needs them"):
        LSTM(3).set_weights([])
