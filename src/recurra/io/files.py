"""Writing files so that a crash never leaves half of one, and reading JSON that cannot hurt.

- ``write_synced(path, data)``: create ``path`` (mode from the umask, like any file the user makes),
  write, flush and fsync; returns its SHA-256 and size.
- ``atomic_write_bytes(path, data)``: the same through a temporary name in the same directory, then
  renamed over ``path``: a crash leaves the old file or the new one.
- ``dump_json(document, what)``: JSON bytes, refusing NaN and infinities (JSON has none; Python would
  write ``Infinity``, which no other reader takes) with the key named.
- ``parse_json(data, where)``: a JSON document, refusing ``NaN`` / ``Infinity`` constants, documents
  larger than ``MAX_JSON_BYTES`` and nesting deeper than ``MAX_JSON_DEPTH``, with the file named.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import secrets
from pathlib import Path
from typing import Any, Iterable

from ..errors import ConfigError, ModelFileError
from ..limits import MAX_JSON_BYTES, MAX_JSON_DEPTH


def sha256_of(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def fsync_dir(path: str | os.PathLike) -> None:
    """Make a directory's entries (new names, renames) durable; a no-op where the system cannot."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_synced(path: str | os.PathLike, data: bytes | Iterable[bytes]) -> dict[str, Any]:
    """Create (or truncate) ``path``, write ``data``, fsync. Returns ``{"sha256": hex, "bytes": n}``.

    The file is created with mode ``0o666`` less the umask, as ``open()`` would make it.
    """
    chunks = [data] if isinstance(data, (bytes, bytearray, memoryview)) else data
    digest, size = hashlib.sha256(), 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    with os.fdopen(fd, "wb") as f:
        for chunk in chunks:
            view = memoryview(chunk).cast("B")
            digest.update(view)
            f.write(view)
            size += view.nbytes
        f.flush()
        os.fsync(f.fileno())
    return {"sha256": digest.hexdigest(), "bytes": size}


def atomic_write_bytes(path: str | os.PathLike, data: bytes | Iterable[bytes]) -> dict[str, Any]:
    """Write ``path`` so that a crash leaves either the old file or the new one (never a mix)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.{os.getpid()}-{secrets.token_hex(4)}.tmp"
    try:
        entry = write_synced(tmp, data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)
    return entry


def save_figure(fig: Any, path: str | os.PathLike, dpi: int = 110) -> Path:
    """A matplotlib figure written whole to ``path`` (PNG, SVG or PDF by its suffix), then closed."""
    import io

    import matplotlib.pyplot as plt

    path = Path(path)
    buffer = io.BytesIO()
    fig.savefig(buffer, format=path.suffix.lstrip(".").lower() or "png", dpi=dpi)
    plt.close(fig)
    atomic_write_bytes(path, buffer.getvalue())
    return path


# -- JSON ------------------------------------------------------------------------------------------
def _non_finite_key(value: Any, where: str = "") -> str | None:
    """The key path of the first NaN or infinite float inside ``value``, or ``None``."""
    if isinstance(value, float) and not math.isfinite(value):
        return where or "(the document)"
    if isinstance(value, dict):
        for k, v in value.items():
            found = _non_finite_key(v, f"{where}.{k}" if where else str(k))
            if found:
                return found
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            found = _non_finite_key(v, f"{where}[{i}]")
            if found:
                return found
    return None


def dump_json(document: Any, what: str, *, default: Any = None) -> bytes:
    """``document`` as UTF-8 JSON; a ``ConfigError`` naming the key when a value is NaN or infinite."""
    try:
        text = json.dumps(document, indent=1, ensure_ascii=False, allow_nan=False, default=default)
    except ValueError:
        key = _non_finite_key(json.loads(json.dumps(document, default=default)))
        raise ConfigError(
            f"cannot save {what}: {key} is not a finite number (NaN or infinite); a model with such values "
            "would not give usable results"
        ) from None
    return text.encode("utf-8")


def _finite_float(where: str):
    def parse(text: str) -> float:
        value = float(text)
        if not math.isfinite(value):
            raise ModelFileError(f"{where} holds the number {text}, beyond the range of a float; expected finite numbers only")
        return value

    return parse


def _refuse_constant(where: str):
    def refuse(name: str) -> Any:
        raise ModelFileError(f"{where} holds {name}, expected finite numbers only")

    return refuse


def depth_of(value: Any, limit: int, where: str = "") -> str | None:
    """The key path where ``value`` nests deeper than ``limit`` levels, or ``None``."""
    stack: list[tuple[Any, int, str]] = [(value, 1, where)]
    while stack:
        v, d, key = stack.pop()
        if isinstance(v, (dict, list)):
            if d > limit:
                return key or "(the document)"
            if isinstance(v, dict):
                stack.extend((child, d + 1, f"{key}.{k}" if key else str(k)) for k, child in v.items())
            else:
                stack.extend((child, d + 1, f"{key}[{i}]") for i, child in enumerate(v))
    return None


def parse_json(data: bytes, where: str | os.PathLike) -> Any:
    """Parse JSON from a model file, refusing what no recurra file holds (see the module docstring)."""
    if len(data) > MAX_JSON_BYTES:
        raise ModelFileError(f"{where} is {len(data):,} bytes; recurra reads JSON files of at most {MAX_JSON_BYTES:,}")
    try:
        text = data.decode("utf-8")
        value = json.loads(text, parse_constant=_refuse_constant(str(where)), parse_float=_finite_float(str(where)))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ModelFileError(f"{where} is damaged: not valid JSON ({e})") from None
    except RecursionError:
        raise ModelFileError(
            f"{where} nests lists or objects thousands of levels deep; at most {MAX_JSON_DEPTH} are read"
        ) from None
    deep = depth_of(value, MAX_JSON_DEPTH)
    if deep is not None:
        raise ModelFileError(f"{where} nests deeper than {MAX_JSON_DEPTH} levels at {deep}; at most {MAX_JSON_DEPTH} are read")
    return value


def read_json(path: str | os.PathLike) -> Any:
    """Read and parse the JSON file ``path`` with ``parse_json``'s checks."""
    path = Path(path)
    size = path.stat().st_size
    if size > MAX_JSON_BYTES:
        raise ModelFileError(f"{path} is {size:,} bytes; recurra reads JSON files of at most {MAX_JSON_BYTES:,}")
    return parse_json(path.read_bytes(), path)


__all__ = ["atomic_write_bytes", "write_synced", "fsync_dir", "sha256_of", "dump_json", "parse_json", "read_json", "depth_of"]
