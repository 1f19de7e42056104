"""Model directories (config.json + weights.safetensors, no pickle), weight files, and damaged files."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from torch import nn

import recurra
from recurra import (
    GRU,
    LSTM,
    Bidirectional,
    Dense,
    Dropout,
    Embedding,
    Input,
    Masking,
    Sequential,
    SimpleRNN,
    TimeDistributed,
    load_model,
    load_weights,
    save_weights,
)
from recurra.errors import ConfigError, ModelFileError, NotBuiltError

from ..helpers import rewrite_model_file

F = 3
PICKLE_MARKER = b"\x80"


def _x(n=5, T=6, seed=0):
    return np.random.default_rng(seed).normal(size=(n, T, F)).astype(np.float32)


def _no_pickle_and_no_leftovers(path):
    files = sorted(p.name for p in path.iterdir())
    assert files == ["config.json", "manifest.json", "weights.safetensors"]
    for p in path.iterdir():
        data = p.read_bytes()
        assert data and not data.startswith(PICKLE_MARKER), p.name
        assert b"PK\x03\x04" not in data[:4]  # not a torch.save zip either


MODELS = {
    "simple_rnn": lambda: Sequential([SimpleRNN(4, input_shape=(None, F)), Dense(1)]),
    "lstm": lambda: Sequential([LSTM(4, return_sequences=True, input_shape=(6, F)), LSTM(2)]),
    "gru_reset_after": lambda: Sequential([GRU(4, reset_after=True, input_shape=(None, F))]),
    "gru_reset_before": lambda: Sequential([GRU(4, reset_after=False, use_bias=True, input_shape=(None, F))]),
    "bidirectional_concat": lambda: Sequential([Bidirectional(LSTM(3), input_shape=(None, F))]),
    "bidirectional_sum": lambda: Sequential(
        [Bidirectional(GRU(3, return_sequences=True), merge_mode="sum", input_shape=(None, F))]
    ),
    "bidirectional_mul": lambda: Sequential([Bidirectional(SimpleRNN(3), merge_mode="mul", input_shape=(None, F))]),
    "bidirectional_ave": lambda: Sequential([Bidirectional(SimpleRNN(3), merge_mode="ave", input_shape=(None, F))]),
    "bidirectional_none": lambda: Sequential([Bidirectional(LSTM(2), merge_mode=None, input_shape=(None, F))]),
    "time_distributed": lambda: Sequential(
        [SimpleRNN(4, return_sequences=True, input_shape=(None, F)), TimeDistributed(Dense(2, activation="relu"))]
    ),
    "masking": lambda: Sequential([Masking(mask_value=0.0, input_shape=(None, F)), LSTM(3), Dropout(0.5), Dense(1)]),
    "input_layer": lambda: Sequential([Input(shape=(None, F)), GRU(2), Dense(1, activation="sigmoid")]),
}


@pytest.mark.parametrize("kind", list(MODELS))
def test_round_trip_gives_identical_predictions(tmp_path, kind):
    recurra.set_seed(0)
    model = MODELS[kind]()
    x = _x()
    if kind == "masking":
        x[1, 4:] = 0.0
    before = model.predict(x)  # builds any lazy layer
    model.save(tmp_path / "m")
    _no_pickle_and_no_leftovers(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert type(loaded) is Sequential
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    after = loaded.predict(x)
    if isinstance(before, tuple):
        assert len(before) == len(after)
        for a, b in zip(before, after):
            np.testing.assert_array_equal(a, b)
    else:
        np.testing.assert_array_equal(before, after)
    # and the weights are really the saved ones, not a fresh initialisation
    recurra.set_seed(1)
    fresh = MODELS[kind]().predict(x)
    first = (lambda out: out[0]) if isinstance(before, tuple) else (lambda out: out)
    assert not np.allclose(first(fresh), first(before))


def test_embedding_model_round_trip(tmp_path):
    recurra.set_seed(0)
    model = Sequential([Embedding(20, 4, mask_zero=True), LSTM(3, return_sequences=True), GRU(2)])
    ids = np.array([[3, 4, 5, 0, 0], [1, 2, 3, 4, 5], [9, 0, 0, 0, 0]])
    before = model.predict(ids)
    model.save(tmp_path / "m")
    config = json.loads((tmp_path / "m" / "config.json").read_text())
    assert config["config"]["build_input_dtype"] == "int"
    loaded = load_model(tmp_path / "m")
    np.testing.assert_array_equal(loaded.predict(ids), before)
    assert loaded.layers[0].mask_zero


def test_lazily_built_model_round_trip(tmp_path):
    recurra.set_seed(0)
    model = Sequential([LSTM(3), Dense(2)])  # no input shape anywhere
    model.compile("adam", "mse")
    x = _x(n=8)
    model.fit(x, np.zeros((8, 2), np.float32), epochs=1, verbose=0)
    model.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert loaded.build_input_shape == (None, F)
    assert loaded.built
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    np.testing.assert_array_equal(loaded.predict(_x(n=2, T=9)), model.predict(_x(n=2, T=9)))


def test_config_json_is_readable_json(tmp_path):
    model = Sequential([SimpleRNN(4, input_shape=(None, F), name="rnn"), Dense(1)])
    model.build()
    model.save(tmp_path / "m")
    document = json.loads((tmp_path / "m" / "config.json").read_text())
    assert document["format"] == "recurra.model"
    assert document["class_name"] == "Sequential"
    assert [spec["class_name"] for spec in document["config"]["layers"]] == ["SimpleRNN", "Dense"]
    assert document["config"]["layers"][0]["config"]["name"] == "rnn"
    assert document["compile_config"] is None


def test_loaded_model_is_compiled_again(tmp_path):
    recurra.set_seed(0)
    model = Sequential([GRU(3, input_shape=(None, F)), Dense(1)])
    model.compile(recurra.train.optimizers.Adam(learning_rate=0.02), "huber", ["mae"], clipnorm=1.0)
    x, y = _x(n=8), np.ones((8, 1), np.float32)
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    assert loaded.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)  # right after load
    assert loaded._trainer.clipnorm == 1.0
    loaded.fit(x, y, epochs=1, verbose=0)
    assert isinstance(loaded.optimizer, torch.optim.Adam)
    assert loaded.optimizer.param_groups[0]["lr"] == 0.02
    assert not load_model(tmp_path / "m", compile=False)._trainer


def test_model_compiled_with_torch_objects_loads_uncompiled(tmp_path):
    model = Sequential([SimpleRNN(2, input_shape=(None, F))])
    model.compile("adam", nn.MSELoss())
    model.save(tmp_path / "m")
    loaded = load_model(tmp_path / "m")
    with pytest.raises(NotBuiltError, match="not compiled"):
        loaded.evaluate(_x(), np.zeros((5, 2)))
    loaded.predict(_x())  # still usable


def test_save_overwrites_atomically(tmp_path):
    model = Sequential([SimpleRNN(2, input_shape=(None, F))])
    model.save(tmp_path / "m")
    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    model.save(tmp_path / "m")
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == ["config.json", "manifest.json", "weights.safetensors"]
    assert not list(tmp_path.rglob("*.tmp")) and not list(tmp_path.rglob(".*.pending"))
    np.testing.assert_array_equal(load_model(tmp_path / "m").predict(_x()), model.predict(_x()))


def test_save_unbuilt_model_refused(tmp_path):
    with pytest.raises(ConfigError, match="without weights"):
        Sequential([SimpleRNN(2), Dense(1)]).save(tmp_path / "m")
    assert not (tmp_path / "m" / "config.json").exists()


def test_save_plain_module_as_model_refused(tmp_path):
    with pytest.raises(ConfigError, match="cannot save Linear as a model directory.*save_weights"):
        recurra.save_model(nn.Linear(2, 2), tmp_path / "m")


# -- damaged or foreign model directories ---------------------------------------------------------


@pytest.fixture
def saved(tmp_path):
    model = Sequential([SimpleRNN(4, input_shape=(None, F)), Dense(1)])
    model.build()
    model.save(tmp_path / "good")
    return tmp_path / "good"


def _copy(saved, name):
    dest = saved.parent / name
    shutil.copytree(saved, dest)
    return dest


def _edit_config(path, edit):
    document = json.loads((path / "config.json").read_text())
    edit(document)
    rewrite_model_file(path, "config.json", json.dumps(document).encode())


def test_load_missing_path(tmp_path):
    with pytest.raises(ModelFileError, match="no model at .*nowhere: the path does not exist"):
        load_model(tmp_path / "nowhere")


def test_load_a_file_instead_of_a_directory(saved):
    with pytest.raises(ModelFileError, match="expected a model directory .*got the file .*weights.safetensors"):
        load_model(saved / "weights.safetensors")


def test_load_directory_without_config(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelFileError, match="is not a recurra model: config.json is missing"):
        load_model(tmp_path / "empty")


@pytest.mark.parametrize("text", ["{not json", "", "\udcff"])
def test_load_config_that_is_not_json(saved, text):
    path = _copy(saved, "broken")
    rewrite_model_file(path, "config.json", text.encode("utf-8", "surrogateescape"))
    with pytest.raises(ModelFileError, match="config.json is damaged: not valid JSON"):
        load_model(path)


def test_load_foreign_format(saved):
    path = _copy(saved, "foreign")
    _edit_config(path, lambda d: d.update(format="keras"))
    with pytest.raises(ModelFileError, match="not a recurra model config: expected format 'recurra.model', got 'keras'"):
        load_model(path)
    rewrite_model_file(path, "config.json", b"[1, 2]")
    with pytest.raises(ModelFileError, match="expected format 'recurra.model', got 'list'"):
        load_model(path)


def test_load_newer_or_bad_format_version(saved):
    path = _copy(saved, "newer")
    _edit_config(path, lambda d: d.update(format_version=99))
    with pytest.raises(ModelFileError, match="format version 99; this recurra reads up to 1"):
        load_model(path)
    _edit_config(path, lambda d: d.update(format_version="1"))
    with pytest.raises(ModelFileError, match="expected an integer format_version, got '1'"):
        load_model(path)


def test_load_config_describing_an_unbuildable_model(saved):
    path = _copy(saved, "unbuildable")
    _edit_config(path, lambda d: d.update(class_name="Pipeline"))
    with pytest.raises(ModelFileError, match="names the model class 'Pipeline'; known: .*Sequential"):
        load_model(path)
    _edit_config(path, lambda d: d.update(class_name="Sequential", config="layers"))
    with pytest.raises(ModelFileError, match='expected "config" to be a JSON object'):
        load_model(path)
    _edit_config(path, lambda d: d.update(config={"layers": [{"class_name": "os.system", "config": {}}]}))
    with pytest.raises(ModelFileError, match="cannot build: unknown layer 'os.system'; expected one of: .*SimpleRNN"):
        load_model(path)
    _edit_config(path, lambda d: d.update(config={"layers": [{"class_name": "SimpleRNN", "config": {"units": -4}}]}))
    with pytest.raises(ModelFileError, match="cannot build: expected units to be a positive integer, got -4"):
        load_model(path)


@pytest.mark.parametrize("damage", ["truncated", "cut_short", "garbage", "empty", "missing"])
@pytest.mark.parametrize("manifest", ["kept", "rewritten"])
def test_load_damaged_weights(saved, damage, manifest):
    """Damage is caught by the manifest's checksum; with the manifest rewritten to match (a consistent but
    broken directory), by reading the file itself."""
    path = _copy(saved, "damaged")
    weights = path / "weights.safetensors"
    data = weights.read_bytes()
    new = {"truncated": data[: len(data) // 2], "cut_short": data[:-4], "garbage": b"\x00\x01not a safetensors file" * 10}
    new.update(empty=b"", missing=None)
    if manifest == "kept":
        weights.unlink()
        if new[damage] is not None:
            weights.write_bytes(new[damage])
        expected = "is damaged: its size or SHA-256"
    else:
        rewrite_model_file(path, "weights.safetensors", new[damage])
        expected = "is damaged or not a safetensors file"
    expected = "weights.safetensors " + ("is missing" if damage == "missing" else expected)
    with pytest.raises(ModelFileError, match=expected):
        load_model(path)


def test_load_weights_that_do_not_fit_the_config(saved):
    path = _copy(saved, "misfit")
    _edit_config(path, lambda d: d["config"]["layers"][0]["config"].update(units=5))
    with pytest.raises(
        ModelFileError, match=r"weights.safetensors: layers\.0\.cell\.\w+ has shape \(4\b.*\), the model expects \(5\b"
    ):
        load_model(path)
    other = Sequential([LSTM(4, input_shape=(None, F))])
    other.save(path.parent / "lstm")
    rewrite_model_file(path, "weights.safetensors", (path.parent / "lstm" / "weights.safetensors").read_bytes())
    _edit_config(path, lambda d: d["config"].update(layers=[d["config"]["layers"][0]]))  # SimpleRNN(5) alone
    with pytest.raises(ModelFileError, match="the model expects"):
        load_model(path)
    _copy(saved, "extra")
    _edit_config(saved.parent / "extra", lambda d: d["config"].update(layers=d["config"]["layers"][:1]))
    with pytest.raises(
        ModelFileError, match=r"does not fit the model: missing \[\], unexpected \['layers.1.bias', 'layers.1.weight'\]"
    ):
        load_model(saved.parent / "extra")


# -- weight files for any module --------------------------------------------------------------------


def test_save_and_load_weights_plain_module(tmp_path):
    torch.manual_seed(0)
    a = nn.LSTM(3, 4, batch_first=True)
    b = nn.LSTM(3, 4, batch_first=True)
    assert not torch.equal(a.weight_hh_l0, b.weight_hh_l0)
    save_weights(a, tmp_path / "w.safetensors")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w.safetensors"]  # atomic: no temporary left
    assert not (tmp_path / "w.safetensors").read_bytes().startswith(PICKLE_MARKER)
    load_weights(b, tmp_path / "w.safetensors")
    for (name, p), q in zip(a.state_dict().items(), b.state_dict().values()):
        assert torch.equal(p, q), name


def test_load_weights_errors(tmp_path):
    save_weights(nn.Linear(3, 4), tmp_path / "w.safetensors")
    with pytest.raises(ModelFileError, match=r"(weight|bias) has shape \(4\b.*\), the model expects \(2\b"):
        load_weights(nn.Linear(3, 2), tmp_path / "w.safetensors")
    with pytest.raises(ModelFileError, match=r"does not fit the model: missing \[\], unexpected \['bias'\]"):
        load_weights(nn.Linear(3, 4, bias=False), tmp_path / "w.safetensors")
    with pytest.raises(ModelFileError, match="is missing"):
        load_weights(nn.Linear(3, 4), tmp_path / "nope.safetensors")
    (tmp_path / "bad.safetensors").write_bytes(b"garbage!" * 4)
    with pytest.raises(ModelFileError, match="damaged or not a safetensors file"):
        load_weights(nn.Linear(3, 4), tmp_path / "bad.safetensors")


def test_model_save_weights_round_trip(tmp_path):
    recurra.set_seed(0)
    a = Sequential([Bidirectional(GRU(2), input_shape=(None, F)), Dense(1)])
    a.build()
    save_weights(a, tmp_path / "w.safetensors")
    recurra.set_seed(1)
    b = Sequential([Bidirectional(GRU(2), input_shape=(None, F)), Dense(1)])
    b.build()
    load_weights(b, tmp_path / "w.safetensors")
    np.testing.assert_array_equal(a.predict(_x()), b.predict(_x()))


def test_unusable_compile_settings_are_a_model_file_error(tmp_path):
    import json

    model = Sequential([SimpleRNN(3, input_shape=(None, 2)), Dense(1)])
    model.compile("adam", "mse")
    model.save(tmp_path / "m")
    cfg = tmp_path / "m" / "config.json"
    doc = json.loads(cfg.read_text())
    doc["compile_config"]["optimizer"] = "no_such_optimizer"
    rewrite_model_file(tmp_path / "m", "config.json", json.dumps(doc).encode())
    with pytest.raises(ModelFileError, match="compile settings recurra cannot use: unknown optimizer 'no_such_optimizer'"):
        recurra.load_model(tmp_path / "m")


def test_huge_or_mistyped_config_values_are_refused_before_allocating(saved):
    """``units: 1000000`` in a config.json once tried to allocate terabytes; a string once gave a traceback."""
    path = _copy(saved, "huge")
    _edit_config(path, lambda d: d["config"]["layers"][0]["config"].update(units=1_000_000))
    with pytest.raises(ModelFileError, match=r"cannot build: expected units to be at most 65,536 .*got 1000000"):
        load_model(path)
    _edit_config(path, lambda d: d["config"]["layers"][0]["config"].update(units="4"))
    with pytest.raises(ModelFileError, match=r"cannot build: expected units to be a positive integer, got '4'"):
        load_model(path)
