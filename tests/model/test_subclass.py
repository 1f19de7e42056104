"""Models written Keras's way as subclasses: call (with training), fit, several inputs, saving and
loading a registered subclass (its weights created from the recorded first input), and the refusals."""

from __future__ import annotations

import pytest
import torch

import recurra
from recurra import layers
from recurra.errors import ConfigError


@recurra.saving.register_keras_serializable(package="tests")
class Tagger(recurra.Model):
    """An encoder over two inputs (a sequence and a per-sequence feature vector), as a Keras user writes it."""

    def __init__(self, units: int = 6, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.encoder = layers.GRU(units, return_sequences=True)
        self.mix = layers.Dense(units, activation="tanh")
        self.head = layers.Dense(2)
        self.dropout = layers.Dropout(0.1)

    def call(self, inputs, training=False):
        seq = self.encoder(inputs["tokens"])  # (B, T, H)
        ctx = self.mix(inputs["context"])[:, None, :]  # (B, 1, H)
        h = seq + ctx
        if training:
            h = self.dropout(h)
        return self.head(h)

    def get_config(self):
        return {"units": self.units}


def _data():
    return {"tokens": torch.randn(8, 5, 3), "context": torch.randn(8, 4)}, torch.randn(8, 5, 2)


def test_a_subclass_trains_with_call_and_training():
    model = Tagger(name="tagger")
    model.compile(optimizer=recurra.optimizers.Adam(learning_rate=0.02), loss="mse")
    x, y = _data()
    losses = model.fit(x, y, epochs=20, batch_size=8, verbose=0, seed=0).history["loss"]
    assert sum(losses[-3:]) < sum(losses[:3])
    model.eval()
    assert torch.equal(model(x), model(x))  # no dropout outside training
    model.train()
    assert not torch.equal(model(x, training=True), model(x, training=True))


def test_a_registered_subclass_saves_and_loads_equal(tmp_path):
    model = Tagger(units=4)
    x, _ = _data()
    model(x)
    model.save(tmp_path / "tagger.keras")
    loaded = recurra.models.load_model(tmp_path / "tagger.keras")
    assert isinstance(loaded, Tagger) and loaded.units == 4
    model.eval()
    assert torch.equal(model(x), loaded(x))


def test_an_unregistered_subclass_is_refused_by_name(tmp_path):
    class Plain(recurra.Model):
        def call(self, x):
            return x

    with pytest.raises(ConfigError, match=r"cannot save Plain as a model directory"):
        Plain().save(tmp_path / "p.keras")


def test_a_subclass_without_call_or_forward_says_so():
    class Empty(recurra.Model):
        pass

    with pytest.raises(NotImplementedError, match=r"Empty defines neither forward nor call"):
        Empty()(torch.zeros(1, 2))
