"""Optimisers by Keras name with Keras's defaults, Optimizer descriptions, torch objects, clipping."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

import recurra
from recurra import Dense, LambdaCallback, Sequential, SimpleRNN
from recurra.errors import ConfigError, UnknownNameError
from recurra.train import optimizers
from recurra.train.trainer import Trainer

NAMES = ["adam", "sgd", "rmsprop", "adamw", "adagrad", "adadelta", "adamax", "nadam"]
TORCH_CLASS = {
    "adam": torch.optim.Adam,
    "sgd": torch.optim.SGD,
    "rmsprop": torch.optim.RMSprop,
    "adamw": torch.optim.AdamW,
    "adagrad": torch.optim.Adagrad,
    "adadelta": torch.optim.Adadelta,
    "adamax": torch.optim.Adamax,
    "nadam": torch.optim.NAdam,
}


def _model():
    recurra.set_seed(0)
    return Sequential([SimpleRNN(4, input_shape=(5, 3)), Dense(1)])


def _data(n=8):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 5, 3)).astype(np.float32), rng.normal(size=(n, 1)).astype(np.float32)


@pytest.mark.parametrize("name", NAMES)
def test_each_optimizer_name_trains_a_step(name):
    model = _model()
    model.compile(name, "mse")
    assert model.optimizer is None  # built on first fit, over the weights that exist then
    before = [p.detach().clone() for p in model.parameters()]
    x, y = _data()
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert type(model.optimizer) is TORCH_CLASS[name]
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))
    assert sum(len(g["params"]) for g in model.optimizer.param_groups) == len(list(model.parameters()))


def _group(spec):
    return optimizers.build(spec, [nn.Parameter(torch.zeros(2))]).param_groups[0]


def test_keras_defaults():
    g = _group("adam")
    assert g["lr"] == 1e-3 and g["eps"] == 1e-7 and g["betas"] == (0.9, 0.999)
    g = _group("rmsprop")
    assert g["alpha"] == 0.9 and g["lr"] == 1e-3 and g["eps"] == 1e-7 and g["momentum"] == 0.0
    assert _group("sgd")["lr"] == 1e-2
    assert _group("adamw")["weight_decay"] == 0.004
    assert _group("adagrad")["initial_accumulator_value"] == 0.1
    g = _group("adadelta")
    assert g["rho"] == 0.95 and g["lr"] == 1e-3
    assert _group("nadam")["eps"] == 1e-7
    assert _group("ADAM")["eps"] == 1e-7  # names are case-insensitive


def test_optimizer_descriptions_take_keras_argument_names():
    assert _group(optimizers.Adam(learning_rate=0.01))["lr"] == 0.01
    g = _group(optimizers.Adam(beta_1=0.8, epsilon=1e-5))
    assert g["betas"] == (0.8, 0.999) and g["eps"] == 1e-5
    assert _group(optimizers.RMSprop(rho=0.7))["alpha"] == 0.7
    assert _group(optimizers.Adadelta(rho=0.8))["rho"] == 0.8
    assert _group(optimizers.SGD(learning_rate=0.1, momentum=0.9))["momentum"] == 0.9
    assert _group({"class_name": "adam", "config": {"learning_rate": 0.2}})["lr"] == 0.2


def test_adam_learning_rate_reaches_the_model():
    model = _model()
    model.compile(optimizers.Adam(learning_rate=0.01), "mse")
    model.fit(*_data(), epochs=1, verbose=0)
    assert isinstance(model.optimizer, torch.optim.Adam)
    assert model.optimizer.param_groups[0]["lr"] == 0.01
    assert model.optimizer.param_groups[0]["eps"] == 1e-7


def test_bad_optimizer_specs():
    with pytest.raises(UnknownNameError, match="unknown optimizer 'adamm'; expected one of: adadelta, adagrad, adam, .*sgd"):
        _model().compile("adamm", "mse")
    with pytest.raises(ConfigError, match="learning_rate > 0, got 0"):
        optimizers.Adam(learning_rate=0)
    with pytest.raises(ConfigError, match="optimizer 'adam'"):
        optimizers.build(optimizers.Adam(no_such_argument=1), [nn.Parameter(torch.zeros(1))])
    with pytest.raises(TypeError, match="expected an optimizer name"):
        _model().compile(3, "mse")


def test_serialize():
    assert optimizers.serialize(optimizers.resolve("adam")) == "adam"
    assert optimizers.serialize(optimizers.Adam(learning_rate=0.5)) == {"class_name": "adam", "config": {"learning_rate": 0.5}}
    assert optimizers.serialize(lambda params: torch.optim.SGD(params, lr=1.0)) is None


# -- torch objects ----------------------------------------------------------------------------------


def test_torch_optimizer_instance_is_used_as_is():
    model = _model()
    model.build()
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    model.compile(opt, "mse")
    assert model.optimizer is opt
    before = [p.detach().clone() for p in model.parameters()]
    model.fit(*_data(), epochs=1, verbose=0)
    assert model.optimizer is opt
    assert all(not torch.equal(a, b) for a, b in zip(before, model.parameters()))


def test_torch_optimizer_created_before_the_weights_is_refused():
    model = Sequential([SimpleRNN(3), Dense(1)])  # no input shape: no weights until the first call
    model.layers[0](torch.zeros(1, 5, 3))  # the recurrent layer has its weights, Dense does not yet
    opt = torch.optim.Adam(model.parameters())
    model.compile(opt, "mse")
    with pytest.raises(ConfigError, match=r"does not hold 2 of them \(layers.1.weight, layers.1.bias\)"):
        model.fit(*_data(), epochs=1, verbose=0)


def test_optimizer_factory():
    model = _model()
    model.compile(lambda params: torch.optim.SGD(params, lr=0.5), "mse")
    model.fit(*_data(), epochs=1, verbose=0)
    assert isinstance(model.optimizer, torch.optim.SGD)
    assert model.optimizer.param_groups[0]["lr"] == 0.5
    bad = _model()
    bad.compile(lambda params: "sgd", "mse")
    with pytest.raises(TypeError, match="return a torch.optim.Optimizer, got str"):
        bad.fit(*_data(), epochs=1, verbose=0)


# -- clipping ---------------------------------------------------------------------------------------


class Linear(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.fc = nn.Linear(3, 2)

    def forward(self, x):
        return self.fc(x)


def _big_loss_step(**clip):
    """One SGD step (lr 1) on targets far away: returns the parameter change and the gradients seen."""
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 3)).astype(np.float32), np.full((16, 2), 1e4, np.float32)
    trainer = Trainer(Linear()).compile(optimizers.SGD(learning_rate=1.0), "mse", **clip)
    before = [p.detach().clone() for p in trainer.module.parameters()]
    grads = []
    hook = LambdaCallback(
        on_train_batch_end=lambda batch, logs: grads.append([p.grad.clone() for p in trainer.module.parameters()])
    )
    trainer.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[hook])
    delta = [(p.detach() - b) for p, b in zip(trainer.module.parameters(), before)]
    return delta, grads[0]


def test_clipvalue_bounds_every_gradient_entry():
    delta, _ = _big_loss_step()
    assert max(float(d.abs().max()) for d in delta) > 1.0  # unclipped: large steps
    delta, grads = _big_loss_step(clipvalue=1e-3)
    assert max(float(g.abs().max()) for g in grads) <= 1e-3 * (1 + 1e-6)
    assert max(float(d.abs().max()) for d in delta) <= 1e-3 * (1 + 1e-5)
    assert max(float(d.abs().max()) for d in delta) == pytest.approx(1e-3, rel=1e-3)  # it did move


def test_clipnorm_bounds_the_global_norm():
    delta, grads = _big_loss_step(clipnorm=0.5)
    grad_norm = float(torch.sqrt(sum((g**2).sum() for g in grads)))
    step_norm = float(torch.sqrt(sum((d**2).sum() for d in delta)))
    assert grad_norm <= 0.5 * (1 + 1e-5)
    assert step_norm == pytest.approx(0.5, rel=1e-4)


@pytest.mark.parametrize("clip", [{"clipnorm": 0}, {"clipvalue": -1.0}, {"clipnorm": "1"}])
def test_bad_clip_values(clip):
    name = next(iter(clip))
    with pytest.raises(ConfigError, match=f"expected {name} > 0"):
        _model().compile("sgd", "mse", **clip)
