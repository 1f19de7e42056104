"""One-file models: ``model.save("name.keras")`` writes the files of a model directory (``config.json``,
``weights.safetensors``, ``manifest.json``) into one zip file, written whole or not at all (a temporary
name, fsynced, renamed); ``load_model("name.keras")`` reads it back with every check a directory gets.
Nothing is pickled. Keras 3's own ``.keras`` files (``config.json``, ``metadata.json``, ``model.weights.h5``)
are read too, into a recurra model (``keras3_file``).
"""

from __future__ import annotations

import io
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any, Callable

from ..errors import ModelFileError
from .files import atomic_write_bytes
from .keras3_file import is_keras3_file, read_keras3_file

SUFFIX = ".keras"
MAX_MEMBERS = 64  # a model zip holds a handful of files
MAX_UNZIPPED = 16 * 1024**3  # bytes, all members together


def is_single_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` names a one-file model (its name ends in ``.keras``)."""
    return os.fspath(path).endswith(SUFFIX)


def write_single_file(path: str | os.PathLike, write_directory: Callable[[Path], Any]) -> Path:
    """Write a model directory with ``write_directory(dir)`` into a scratch place, then zip it to ``path``."""
    path = Path(path)
    if path.is_dir():
        raise ModelFileError(f"cannot save to {path}: a .keras model is one file, and this is a directory")
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch) / "model"
        write_directory(directory)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as z:
            for f in sorted(directory.iterdir()):
                z.write(f, f.name)
    atomic_write_bytes(path, buffer.getvalue())
    return path


def read_single_file(path: str | os.PathLike, read_directory: Callable[[Path], Any], *, compile: bool = True) -> Any:
    """Unzip ``path`` into a scratch directory (names and sizes checked first) and read it with
    ``read_directory(dir)``, which checks it as any model directory. A file written by Keras 3 itself is
    read by ``keras3_file`` instead (compiled as Keras's model was, unless ``compile=False``)."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"no model file at {path}" + (": it is a directory" if path.is_dir() else ""))
    try:
        z = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise ModelFileError(f"{path} is damaged or not a .keras model file (not a zip archive)") from None
    with z, tempfile.TemporaryDirectory() as scratch:
        members = z.infolist()
        if len(members) > MAX_MEMBERS or sum(m.file_size for m in members) > MAX_UNZIPPED:
            raise ModelFileError(f"{path} holds {len(members)} files of {sum(m.file_size for m in members):,} bytes: not a model")
        names = {m.filename for m in members}
        if is_keras3_file(names) and "weights.safetensors" not in names:
            return read_keras3_file(path, z, compile=compile)
        directory = Path(scratch) / "model"
        directory.mkdir()
        for m in members:
            name = m.filename
            if name != Path(name).name or name.startswith("."):
                raise ModelFileError(f"{path} holds the entry {name!r}; a model file holds plain file names only")
            try:
                (directory / name).write_bytes(z.read(m))
            except (zipfile.BadZipFile, OSError, ValueError) as e:
                raise ModelFileError(f"{path} is damaged: {name} cannot be read ({e})") from None
        return read_directory(directory)


__all__ = ["SUFFIX", "is_single_file", "write_single_file", "read_single_file"]
