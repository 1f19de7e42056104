"""Model directories written whole or not at all, and checked when read.

A model directory holds a few files (``config.json``, ``weights.safetensors``, and for some kinds
``scaler.json`` or ``vocab.json``) and ``manifest.json``, which lists each file with its SHA-256 and
size. Saving (``write_model_directory``):

1. every file is written beside its final name as ``.<name>.pending`` and fsynced;
2. ``manifest.json`` is replaced atomically (temporary name, fsync, rename): **the commit point**;
3. each pending file is renamed over its final name; files of the previous save that the new one
   does not have are removed.

A crash before step 2 leaves the previous model (its manifest still describes its files, which are
untouched); a crash after it leaves the new one, whose files are at their final names or still at
their pending names, where the reader finds them by their checksums (and the next save finishes the
renames). Other entries of the directory (a ``checkpoints/`` folder, the user's own files) are
never touched. File modes follow the umask.

Reading (``open_model_directory``) checks every listed file against the manifest before anything is
built: a missing, truncated or altered file is refused with ``ModelFileError`` naming it. Directories
written before manifests existed (recurra 0.1's first releases) are read without that check.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from ..errors import ModelFileError
from .files import atomic_write_bytes, dump_json, fsync_dir, parse_json, sha256_of, write_synced

MANIFEST = "manifest.json"
MANIFEST_FORMAT = "recurra.manifest"
CONFIG_FILE = "config.json"


def _pending(path: Path, name: str) -> Path:
    return path / f".{name}.pending"


def _check_name(name: str) -> None:
    if not name or name != Path(name).name or name.startswith(".") or name == MANIFEST:
        raise ValueError(f"expected a plain file name for a model file, got {name!r}")


def tensor_bytes(tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None = None) -> bytes:
    """``tensors`` as the bytes of a safetensors file (moved to the CPU, made contiguous)."""
    return save_safetensors({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, metadata=metadata)


def _manifest(path: Path) -> dict[str, dict[str, Any]] | None:
    """The ``files`` table of ``path/manifest.json``; ``None`` when there is no manifest."""
    where = path / MANIFEST
    if not where.exists():
        return None
    doc = parse_json(where.read_bytes(), where)
    files = doc.get("files") if isinstance(doc, dict) and doc.get("format") == MANIFEST_FORMAT else None
    if not isinstance(files, dict) or not all(
        isinstance(e, dict) and isinstance(e.get("sha256"), str) and isinstance(e.get("bytes"), int) for e in files.values()
    ):
        raise ModelFileError(f"{where} is damaged: expected a recurra manifest listing each file's sha256 and bytes")
    return files


def _settle(path: Path) -> None:
    """Finish what an interrupted save left: pending files the manifest already lists are renamed into
    place (the save had committed); the others are removed (it had not)."""
    try:
        files = _manifest(path) or {}
    except ModelFileError:
        files = {}
    for pending in path.glob(".*.pending"):
        name = pending.name[1 : -len(".pending")]
        entry = files.get(name)
        if entry is not None and pending.stat().st_size == entry["bytes"] and sha256_of(pending) == entry["sha256"]:
            os.replace(pending, path / name)
        else:
            pending.unlink(missing_ok=True)
    for tmp in path.glob(f".{MANIFEST}.*.tmp"):
        tmp.unlink(missing_ok=True)


def write_model_directory(path: str | os.PathLike, files: dict[str, bytes]) -> Path:
    """Write ``files`` (name -> bytes) into the directory ``path`` as one unit (see the module docstring)."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ModelFileError(f"cannot save a model to {path}: it is a file, expected a directory (or a new path)")
    for name in files:
        _check_name(name)
    path.mkdir(parents=True, exist_ok=True)
    _settle(path)
    try:
        previous = set(_manifest(path) or {})
    except ModelFileError:
        previous = set()
    entries = {name: write_synced(_pending(path, name), data) for name, data in files.items()}
    fsync_dir(path)
    atomic_write_bytes(path / MANIFEST, dump_json({"format": MANIFEST_FORMAT, "version": 1, "files": entries}, "the manifest"))
    for name in files:  # committed: the manifest now describes the new files
        os.replace(_pending(path, name), path / name)
    for name in previous - set(files):
        (path / name).unlink(missing_ok=True)
    fsync_dir(path)
    return path


class ModelDirectory:
    """A model directory whose files were checked against its manifest (``open_model_directory``).

    ``document``: the parsed ``config.json``; ``has(name)``, ``read(name)`` (bytes), ``json(name)``,
    ``tensors(name)``: the other files, read once and checked. ``checked`` is ``False`` for a directory
    written before manifests existed.
    """

    def __init__(self, path: Path, data: dict[str, bytes | Path], checked: bool):
        self.path = path
        self._data = data
        self.checked = checked
        self.document: dict[str, Any] = {}

    def has(self, name: str) -> bool:
        return name in self._data

    def read(self, name: str) -> bytes:
        if name not in self._data:
            raise ModelFileError(f"{self.path} is not complete: {name} is missing")
        data = self._data[name]
        return data.read_bytes() if isinstance(data, Path) else data

    def json(self, name: str) -> Any:
        return parse_json(self.read(name), self.path / name)

    def tensors(self, name: str) -> dict[str, torch.Tensor]:
        """The tensors of a safetensors file; refused when damaged or holding NaN or infinite values."""
        where = self.path / name
        try:
            tensors = load_safetensors(self.read(name))
        except (SafetensorError, ValueError, RuntimeError) as e:
            raise ModelFileError(f"{where} is damaged or not a safetensors file ({e})") from None
        check_finite(tensors, where)
        return tensors


def check_finite(tensors: dict[str, torch.Tensor], where: str | os.PathLike, error: type[Exception] = ModelFileError) -> None:
    """Refuse tensors holding NaN or infinite values (``error``), naming the first such tensor."""
    for key, t in tensors.items():
        if t.is_floating_point() and not bool(torch.isfinite(t).all()):
            bad = int((~torch.isfinite(t)).sum())
            raise error(
                f"{where}: {key} holds {bad} NaN or infinite value{'s' if bad > 1 else ''}; a model file holds finite weights"
            )


def _read_checked(path: Path, files: dict[str, dict[str, Any]]) -> dict[str, bytes]:
    data = {}
    for name, entry in files.items():
        found = None
        for candidate in (path / name, _pending(path, name)):
            if candidate.is_file() and candidate.stat().st_size == entry["bytes"]:
                content = candidate.read_bytes()
                if hashlib.sha256(content).hexdigest() == entry["sha256"]:
                    found = content
                    break
        if found is None:
            if not (path / name).exists():
                raise ModelFileError(f"{path / name} is missing: {MANIFEST} lists it as part of the model")
            raise ModelFileError(
                f"{path / name} is damaged: its size or SHA-256 differs from what {MANIFEST} recorded when the model was saved"
            )
        data[name] = found
    return data


def open_model_directory(path: str | os.PathLike, fmt: str | None = None, *, what: str = "recurra model") -> ModelDirectory:
    """Open and check the model directory ``path``; ``fmt``: the ``format`` its ``config.json`` must name.

    Raises ``ModelFileError`` naming what was expected and found: no such directory, no
    ``config.json``, a file missing or altered since it was saved, a config of another format or a
    newer format version, JSON that is invalid, too large or too deeply nested.
    """
    path = Path(path)
    kind = what.removeprefix("recurra ")
    if not path.exists():
        raise ModelFileError(f"no {kind} at {path}: the path does not exist")
    if not path.is_dir():
        raise ModelFileError(f"expected a {kind} directory (holding {CONFIG_FILE}), got the file {path}")
    files = _manifest(path)
    if files is not None:
        if CONFIG_FILE not in files:
            raise ModelFileError(f"{path} is not a {what}: {MANIFEST} lists no {CONFIG_FILE}")
        directory = ModelDirectory(path, _read_checked(path, files), checked=True)
    else:
        if not (path / CONFIG_FILE).exists():
            raise ModelFileError(f"{path} is not a {what}: {CONFIG_FILE} is missing")
        present: dict[str, bytes | Path] = {p.name: p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")}
        directory = ModelDirectory(path, present, checked=False)
    document = directory.json(CONFIG_FILE)
    if fmt is not None:
        check_document(document, fmt, path / CONFIG_FILE, what)
    directory.document = document
    return directory


def check_document(document: Any, fmt: str, where: Path, what: str, max_version: int = 1) -> None:
    if not isinstance(document, dict) or document.get("format") != fmt:
        found = document.get("format") if isinstance(document, dict) else type(document).__name__
        raise ModelFileError(f"{where} is not a {what} config: expected format {fmt!r}, got {found!r}")
    version = document.get("format_version", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise ModelFileError(f"{where} is damaged: expected an integer format_version, got {version!r}")
    if "config" in document and not isinstance(document["config"], dict):
        raise ModelFileError(f'{where} is damaged: expected "config" to be a JSON object, got {document["config"]!r}')
    if version > max_version:
        raise ModelFileError(f"{where} has format version {version}; this recurra reads up to {max_version}")


__all__ = [
    "MANIFEST",
    "CONFIG_FILE",
    "ModelDirectory",
    "write_model_directory",
    "open_model_directory",
    "check_document",
    "check_finite",
    "tensor_bytes",
]
