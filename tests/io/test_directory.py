"""Model directories: written whole or not at all, checked against their manifest when read, JSON that
cannot hurt, and ``recurra.load`` for every kind."""

from __future__ import annotations

import json
import os
import random

import numpy as np
import pandas as pd
import pytest
import torch

import recurra
from recurra import Dense, Forecaster, LanguageModel, SequenceClassifier, Sequential, SimpleRNN
from recurra.errors import InputValueError, ModelFileError
from recurra.io import load_model, open_model_directory, write_model_directory
from recurra.io.files import parse_json
from recurra.limits import MAX_JSON_DEPTH

from ..helpers import rewrite_model_file


def _model(seed: int = 0) -> Sequential:
    torch.manual_seed(seed)
    model = Sequential([SimpleRNN(3, input_shape=(None, 2)), Dense(1)])
    return model


def _x() -> np.ndarray:
    return np.random.default_rng(0).normal(size=(4, 5, 2)).astype(np.float32)


# -- the manifest -----------------------------------------------------------------------------------


def test_manifest_lists_every_file_with_its_checksum(tmp_path):
    _model().save(tmp_path / "m")
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert manifest["format"] == "recurra.manifest"
    assert sorted(manifest["files"]) == ["config.json", "weights.safetensors"]
    import hashlib

    for name, entry in manifest["files"].items():
        data = (tmp_path / "m" / name).read_bytes()
        assert entry == {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


@pytest.mark.parametrize("name", ["config.json", "weights.safetensors", "manifest.json"])
def test_flipped_bytes_in_any_file_are_refused_with_the_file_named(tmp_path, name):
    _model().save(tmp_path / "m")
    path = tmp_path / "m" / name
    data = bytearray(path.read_bytes())
    rng = random.Random(0)
    for i in rng.sample(range(len(data)), min(100, len(data))):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match=name.replace(".", r"\.")):
        load_model(tmp_path / "m")


def test_nan_weights_are_refused_at_load_and_at_save(tmp_path):
    model = _model()
    model.save(tmp_path / "m")
    with torch.no_grad():
        model.layers[1].weight.view(-1)[0] = float("nan")
    with pytest.raises(InputValueError, match=r"cannot save the Sequential: the weights: layers\.1\.weight holds 1 NaN"):
        model.save(tmp_path / "bad")
    assert not (tmp_path / "bad" / "manifest.json").exists()
    from safetensors.torch import save

    tensors = {k: v.contiguous() for k, v in model.state_dict().items()}
    rewrite_model_file(tmp_path / "m", "weights.safetensors", save(tensors))
    with pytest.raises(ModelFileError, match=r"weights\.safetensors: layers\.1\.weight holds 1 NaN or infinite value"):
        load_model(tmp_path / "m")


def test_a_directory_without_a_manifest_is_read_unchecked(tmp_path):
    """Directories saved before manifests existed still load (without the check)."""
    model = _model()
    model.save(tmp_path / "m")
    (tmp_path / "m" / "manifest.json").unlink()
    assert not open_model_directory(tmp_path / "m").checked
    np.testing.assert_array_equal(load_model(tmp_path / "m").predict(_x()), model.predict(_x()))


def test_other_entries_of_the_directory_are_left_alone(tmp_path):
    path = tmp_path / "m"
    (path / "checkpoints").mkdir(parents=True)
    (path / "checkpoints" / "ckpt").write_text("kept")
    (path / "notes.txt").write_text("mine")
    _model(0).save(path)
    _model(1).save(path)
    assert (path / "checkpoints" / "ckpt").read_text() == "kept" and (path / "notes.txt").read_text() == "mine"


def test_files_the_new_save_lacks_are_removed(tmp_path):
    write_model_directory(tmp_path / "d", {"config.json": b"{}", "extra.json": b"[]"})
    write_model_directory(tmp_path / "d", {"config.json": b"{}"})
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == ["config.json", "manifest.json"]


def test_file_modes_follow_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        _model().save(tmp_path / "m")
    finally:
        os.umask(old)
    for p in (tmp_path / "m").iterdir():
        assert p.stat().st_mode & 0o777 == 0o640, p.name


def test_saving_onto_a_file_is_refused(tmp_path):
    (tmp_path / "f").write_text("x")
    with pytest.raises(ModelFileError, match="it is a file, expected a directory"):
        _model().save(tmp_path / "f")


# -- interrupted saves ------------------------------------------------------------------------------


def _interrupted_save(path, files: dict[str, bytes], *, committed: bool, renamed: tuple[str, ...] = ()) -> None:
    """Leave ``path`` as a save of ``files`` killed before (or after) its manifest was replaced."""
    import hashlib

    for name, data in files.items():
        (path / f".{name}.pending").write_bytes(data)
    if committed:
        entries = {n: {"sha256": hashlib.sha256(d).hexdigest(), "bytes": len(d)} for n, d in files.items()}
        (path / "manifest.json").write_text(json.dumps({"format": "recurra.manifest", "version": 1, "files": entries}))
        for name in renamed:
            os.replace(path / f".{name}.pending", path / name)


def _files_of(model: Sequential, tmp_path) -> dict[str, bytes]:
    model.save(tmp_path / "scratch")
    return {n: (tmp_path / "scratch" / n).read_bytes() for n in ("config.json", "weights.safetensors")}


@pytest.mark.parametrize("renamed", [(), ("config.json",), ("weights.safetensors",)])
def test_a_save_killed_after_its_commit_reads_as_the_new_model(tmp_path, renamed):
    old, new = _model(0), _model(1)
    old.save(tmp_path / "m")
    _interrupted_save(tmp_path / "m", _files_of(new, tmp_path), committed=True, renamed=renamed)
    np.testing.assert_array_equal(load_model(tmp_path / "m").predict(_x()), new.predict(_x()))
    _model(2).save(tmp_path / "m")  # the next save finishes the renames first, then writes its own
    assert not list((tmp_path / "m").glob(".*.pending"))
    np.testing.assert_array_equal(load_model(tmp_path / "m").predict(_x()), _model(2).predict(_x()))


def test_a_save_killed_before_its_commit_reads_as_the_old_model(tmp_path):
    old, new = _model(0), _model(1)
    old.save(tmp_path / "m")
    _interrupted_save(tmp_path / "m", _files_of(new, tmp_path), committed=False)
    np.testing.assert_array_equal(load_model(tmp_path / "m").predict(_x()), old.predict(_x()))


# -- JSON that cannot hurt ---------------------------------------------------------------------------


def test_deeply_nested_json_is_refused():
    with pytest.raises(ModelFileError, match="nests lists or objects thousands of levels deep"):
        parse_json(b"[" * 5000 + b"]" * 5000, "config.json")
    deep = b'{"a": ' * (MAX_JSON_DEPTH + 1) + b"1" + b"}" * (MAX_JSON_DEPTH + 1)
    with pytest.raises(ModelFileError, match=rf"nests deeper than {MAX_JSON_DEPTH} levels at a\.a\.a"):
        parse_json(deep, "config.json")
    assert parse_json(b'{"a": [1, {"b": 2}]}', "config.json") == {"a": [1, {"b": 2}]}


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_json_numbers_are_refused(constant):
    with pytest.raises(ModelFileError, match=f"scaler.json holds {constant}, expected finite numbers only"):
        parse_json(f'{{"scale": [{constant}]}}'.encode(), "scaler.json")


def test_deeply_nested_layer_configs_are_refused(tmp_path):
    model = _model()
    model.save(tmp_path / "m")
    doc = json.loads((tmp_path / "m" / "config.json").read_text())
    layer = doc["config"]["layers"][0]
    for _ in range(40):
        layer = {"class_name": "TimeDistributed", "config": {"name": None, "layer": layer}}
    doc["config"]["layers"][0] = layer
    rewrite_model_file(tmp_path / "m", "config.json", json.dumps(doc).encode())
    with pytest.raises(ModelFileError, match="config.json nests deeper than"):
        load_model(tmp_path / "m")


# -- recurra.load: every kind by its format ---------------------------------------------------------


def _series() -> pd.DataFrame:
    t = np.arange(40)
    return pd.DataFrame({"t": t, "y": np.sin(t * np.pi / 6)})


@pytest.mark.parametrize("kind", ["model", "esn", "forecaster", "language_model", "classifier"])
def test_load_opens_every_kind_by_its_format(tmp_path, kind):
    if kind == "model":
        obj = _model()
    elif kind == "esn":
        obj = recurra.EchoStateNetwork(10, washout=5, seed=0).fit(np.zeros((30, 1)), np.zeros((30, 1)))
    elif kind == "forecaster":
        obj = Forecaster("gru", 4, lookback=4, horizon=2, epochs=0).fit(_series(), time_col="t")
    elif kind == "language_model":
        lm = LanguageModel(level="char", units=4, embedding=4, window=8, bptt=8, epochs=1, validation=0, seed=0)
        obj = lm.fit(["hola mundo", "adios"])
    else:
        clf = SequenceClassifier(units=4, epochs=1, validation=0, seed=0)
        obj = clf.fit(["bien", "mal", "muy bien", "muy mal"], [1, 0, 1, 0])
    obj.save(tmp_path / kind)
    loaded = recurra.load(tmp_path / kind)
    assert type(loaded) is type(obj)


def test_load_refuses_an_unknown_format(tmp_path):
    write_model_directory(tmp_path / "d", {"config.json": b'{"format": "keras"}'})
    with pytest.raises(ModelFileError, match="has format 'keras'; recurra.load opens .*recurra.forecaster"):
        recurra.load(tmp_path / "d")


@pytest.mark.parametrize("name", ["config.json", "scaler.json", "weights.safetensors", "manifest.json"])
def test_flipped_bytes_in_any_file_of_a_forecaster_are_refused(tmp_path, name):
    Forecaster("gru", 4, lookback=4, horizon=2, epochs=0).fit(_series(), time_col="t").save(tmp_path / "f")
    path = tmp_path / "f" / name
    data = bytearray(path.read_bytes())
    for i in random.Random(1).sample(range(len(data)), min(100, len(data))):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match=name.replace(".", r"\.")):
        recurra.load(tmp_path / "f")
