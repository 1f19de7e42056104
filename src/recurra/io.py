"""Model directories: ``config.json`` (what to build) + ``weights.safetensors`` (the numbers).

No pickle anywhere: loading reads JSON and raw tensors and builds only classes registered with
recurra, so opening a file never runs code from it. Every file is written atomically (a temporary
file in the same directory, flushed and fsynced, then renamed over the target).
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import nn

from .errors import ConfigError, ModelFileError

FORMAT = "recurra.model"
FORMAT_VERSION = 1
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "weights.safetensors"


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a crash leaves either the old file or the new one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def _tensors(module: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().contiguous() for k, v in module.state_dict().items()}


def atomic_save_tensors(
    tensors: dict[str, torch.Tensor], path: str | os.PathLike, metadata: dict[str, str] | None = None
) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        save_file(tensors, tmp, metadata=metadata)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def save_model(model: nn.Module, path: str | os.PathLike) -> Path:
    """Save a ``Sequential`` (or a registered ``Model``) to the directory ``path``."""
    from . import __version__
    from .model import MODELS

    if type(model).__name__ not in MODELS or not hasattr(model, "get_config"):
        raise ConfigError(
            f"cannot save {type(model).__name__} as a model directory: only Sequential and models registered "
            "with recurra.model.register_model are; use save_weights(module, path) for any module"
        )
    config = model.get_config()
    if not getattr(model, "built", True):
        raise ConfigError("cannot save a model without weights: train it, call it on an input, or build() it first")
    trainer = getattr(model, "_trainer", None)
    document = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "recurra_version": __version__,
        "class_name": type(model).__name__,
        "config": config,
        "compile_config": trainer.compile_config() if trainer is not None else None,
    }
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    atomic_save_tensors(_tensors(model), path / WEIGHTS_FILE, {"format": FORMAT})
    atomic_write_bytes(path / CONFIG_FILE, json.dumps(document, indent=2).encode())
    return path


def read_json(path: Path) -> Any:
    """Parse the JSON file ``path``; a clear ``ModelFileError`` when it is not valid JSON."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ModelFileError(f"{path} is damaged: not valid JSON ({e})") from None


def read_document(
    path: str | os.PathLike, fmt: str, *, what: str = "recurra model", max_version: int = FORMAT_VERSION
) -> dict[str, Any]:
    """Read and check the ``config.json`` of the model directory ``path``.

    Checks, each with a ``ModelFileError`` naming what was expected and found: the directory exists and
    holds ``config.json``, the file is a JSON object whose ``format`` is ``fmt``, its ``format_version``
    an integer no newer than ``max_version``, and its ``config`` a JSON object. ``what`` names the kind
    of directory in the messages ("recurra model", "recurra forecaster" ...).
    """
    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"no {what.removeprefix('recurra ')} at {path}: the path does not exist")
    if not path.is_dir():
        raise ModelFileError(f"expected a {what.removeprefix('recurra ')} directory (holding {CONFIG_FILE}), got the file {path}")
    cfg_path = path / CONFIG_FILE
    if not cfg_path.exists():
        raise ModelFileError(f"{path} is not a {what}: {CONFIG_FILE} is missing")
    document = read_json(cfg_path)
    if not isinstance(document, dict) or document.get("format") != fmt:
        found = document.get("format") if isinstance(document, dict) else type(document).__name__
        raise ModelFileError(f"{cfg_path} is not a {what} config: expected format {fmt!r}, got {found!r}")
    version = document.get("format_version", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise ModelFileError(f"{cfg_path} is damaged: expected an integer format_version, got {version!r}")
    if "config" in document and not isinstance(document["config"], dict):
        raise ModelFileError(f'{cfg_path} is damaged: expected "config" to be a JSON object, got {document["config"]!r}')
    if version > max_version:
        raise ModelFileError(f"{cfg_path} has format version {version}; this recurra reads up to {max_version}")
    return document


def read_config(path: str | os.PathLike) -> dict[str, Any]:
    """Read and check ``path/config.json`` of a model saved by ``save_model``."""
    document = read_document(path, FORMAT)
    if not isinstance(document.get("config"), dict):
        raise ModelFileError(f'{Path(path) / CONFIG_FILE} is damaged: expected "config" to be a JSON object, got None')
    return document


def load_weights_file(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    path = Path(path)
    if not path.exists():
        raise ModelFileError(f"weights file {path} is missing")
    try:
        return load_file(str(path))
    except (SafetensorError, OSError, ValueError) as e:
        raise ModelFileError(f"{path} is damaged or not a safetensors file ({e})") from None


def load_model(path: str | os.PathLike, *, compile: bool = True) -> nn.Module:
    """Rebuild a saved model: from its config, then its weights; compiled again if it was."""
    from .errors import UnknownNameError
    from .model import MODELS

    document = read_config(path)
    name = document.get("class_name")
    if name not in MODELS:
        raise ModelFileError(f"{Path(path) / CONFIG_FILE} names the model class {name!r}; known: {', '.join(sorted(MODELS))}")
    try:
        model = MODELS[name].from_config(document["config"])
    except (UnknownNameError, ConfigError, TypeError, KeyError) as e:
        raise ModelFileError(f"{Path(path) / CONFIG_FILE} describes a model recurra cannot build: {e}") from None
    state = load_weights_file(Path(path) / WEIGHTS_FILE)
    if hasattr(model, "build") and not model.built:
        model.build()
    load_state(model, state, Path(path) / WEIGHTS_FILE)
    model.eval()
    if compile and document.get("compile_config"):
        cc = document["compile_config"]
        try:
            model.compile(
                cc["optimizer"], cc["loss"], cc.get("metrics"), clipnorm=cc.get("clipnorm"), clipvalue=cc.get("clipvalue")
            )
        except (UnknownNameError, ConfigError, TypeError, KeyError) as e:
            raise ModelFileError(f"{Path(path) / CONFIG_FILE} holds compile settings recurra cannot use: {e}") from None
    return model


def load_state(module: nn.Module, state: dict[str, torch.Tensor], where: Path | str) -> None:
    own = module.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    if missing or unexpected:
        raise ModelFileError(
            f"{where} does not fit the model: missing {missing[:5]}{'...' if len(missing) > 5 else ''}, "
            f"unexpected {unexpected[:5]}{'...' if len(unexpected) > 5 else ''}"
        )
    for k, v in state.items():
        if tuple(own[k].shape) != tuple(v.shape):
            raise ModelFileError(f"{where}: {k} has shape {tuple(v.shape)}, the model expects {tuple(own[k].shape)}")
    module.load_state_dict(state)


def save_weights(module: nn.Module, path: str | os.PathLike) -> None:
    """Save any module's ``state_dict`` to one ``.safetensors`` file, atomically."""
    atomic_save_tensors(_tensors(module), path, {"format": FORMAT + ".weights"})


def load_weights(module: nn.Module, path: str | os.PathLike) -> None:
    """Load a file written by ``save_weights`` into a module of the same structure."""
    load_state(module, load_weights_file(path), path)
