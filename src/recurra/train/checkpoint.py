"""Training checkpoints that survive crashes: atomic, checksummed, pruned, resumable.

A checkpoint is a directory ``ckpt-<global step>/`` holding

- ``state.safetensors``: every tensor (model weights, optimiser moments, RNG states);
- ``meta.json``: everything else (epoch, batch position, optimiser hyper-parameters, scheduler state,
  Python and numpy RNG states, the history so far) and the SHA-256 of ``state.safetensors``.

It is written into a temporary directory, each file flushed and fsynced, then renamed into place, so a
checkpoint directory either is complete or does not exist. On resume the newest checkpoint whose
checksum matches is loaded; a truncated or corrupt one is skipped (with a warning) for the one before.
No pickle: loading never runs code.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import tempfile
import threading
import warnings
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file

from ..errors import RecurraWarning
from ..io.files import fsync_dir as _fsync_dir
from ..io.files import sha256_of as _sha256

PREFIX = "ckpt-"
STATE_FILE = "state.safetensors"
META_FILE = "meta.json"


_SAFETENSORS_DTYPES = {
    torch.float64: "F64",
    torch.float32: "F32",
    torch.float16: "F16",
    torch.bfloat16: "BF16",
    torch.int64: "I64",
    torch.int32: "I32",
    torch.int16: "I16",
    torch.int8: "I8",
    torch.uint8: "U8",
    torch.bool: "BOOL",
}


class Snapshot:
    """A copy of a checkpoint's tensors, laid out as one safetensors file.

    ``prefix`` is the file's header (8-byte little-endian length + JSON: name -> dtype, shape,
    byte offsets) and ``data`` every tensor's bytes in one flat uint8 buffer. Building it is one
    ``torch.cat`` (a single copy that releases the GIL); writing it in a thread holds the GIL for
    almost nothing (file writes and SHA-256 release it), so the training thread keeps running.
    """

    def __init__(self, tensors: dict[str, torch.Tensor]):
        header: dict[str, Any] = {}
        flat: list[torch.Tensor] = []
        offset = 0
        for name, t in tensors.items():
            t = t.detach().to("cpu").contiguous()
            if t.dtype not in _SAFETENSORS_DTYPES:
                known = ", ".join(sorted(map(str, _SAFETENSORS_DTYPES)))
                raise TypeError(f"checkpoint tensor {name!r}: expected one of {known}, got {t.dtype}")
            nbytes = t.numel() * t.element_size()
            dtype = _SAFETENSORS_DTYPES[t.dtype]
            header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + nbytes]}
            flat.append(t.reshape(-1).view(torch.uint8))  # (nbytes,)
            offset += nbytes
        self.data = torch.cat(flat) if flat else torch.empty(0, dtype=torch.uint8)  # the copy
        text = json.dumps(header, separators=(",", ":")).encode("utf-8")
        text += b" " * (-len(text) % 8)  # the format pads the header to 8 bytes
        self.prefix = struct.pack("<Q", len(text)) + text

    def chunks(self) -> tuple[bytes, Any]:
        """The file's bytes in two buffers: header, then data."""
        return self.prefix, self.data.numpy()


def _jsonable(value: Any) -> Any:
    """A JSON copy of ``value`` (tensors and numpy values as numbers and lists, keys as strings)."""
    try:  # the C encoder: fast on the long integer lists of the RNG states
        return json.loads(json.dumps(value, default=_json_leaf))
    except TypeError:  # keys json cannot take (tuples ...): the slow walk turns them into strings
        return _jsonable_walk(value)


def _json_leaf(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.item() if value.numel() == 1 else value.tolist()
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return value.tolist()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def _jsonable_walk(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable_walk(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable_walk(v) for v in value]
    if isinstance(value, torch.Tensor) or hasattr(value, "tolist"):
        return _json_leaf(value)
    return value


# -- optimiser state: tensors to safetensors, the rest to JSON --------------------------------------
def split_optimizer_state(state: dict) -> tuple[dict[str, torch.Tensor], dict]:
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for pid, entries in state["state"].items():
        for k, v in entries.items():
            if isinstance(v, torch.Tensor):
                tensors[f"optimizer/{pid}/{k}"] = v.detach().cpu().contiguous()
            else:
                scalars.setdefault(str(pid), {})[k] = _jsonable(v)
    return tensors, {"param_groups": _jsonable(state["param_groups"]), "scalars": scalars}


def join_optimizer_state(tensors: dict[str, torch.Tensor], meta: dict) -> dict:
    state: dict[int, dict[str, Any]] = {}
    for key, v in tensors.items():
        if key.startswith("optimizer/"):
            _, pid, name = key.split("/", 2)
            state.setdefault(int(pid), {})[name] = v
    for pid, entries in meta.get("scalars", {}).items():
        state.setdefault(int(pid), {}).update(entries)
    groups = meta["param_groups"]
    for g in groups:
        if "betas" in g and isinstance(g["betas"], list):
            g["betas"] = tuple(g["betas"])
    return {"state": state, "param_groups": groups}


class CheckpointManager:
    """Writes, lists, prunes and reads the checkpoints of one run in ``directory``.

    ``keep``: how many of the newest to keep (the best one, by ``meta["best_value"]``, is kept too).
    """

    def __init__(self, directory: str | os.PathLike, keep: int = 3):
        if not isinstance(keep, int) or keep < 1:
            from ..errors import ConfigError

            raise ConfigError(f"expected keep >= 1 checkpoints, got {keep!r}")
        self.directory = Path(directory)
        self.keep = keep
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def paths(self) -> list[Path]:
        """Complete checkpoint directories, newest first."""
        if not self.directory.exists():
            return []
        found = []
        for p in self.directory.iterdir():
            if p.is_dir() and p.name.startswith(PREFIX) and p.name[len(PREFIX) :].isdigit():
                found.append((int(p.name[len(PREFIX) :]), p))
        return [p for _, p in sorted(found, reverse=True)]

    def save(self, step: int, tensors: dict[str, torch.Tensor], meta: dict, *, background: bool = False) -> Path:
        """Write checkpoint ``step`` atomically and prune old ones; returns its directory.

        The tensors are copied at once into one buffer laid out as the file (``Snapshot``: the only
        part that holds up training); with ``background=True`` the checksum, disk write, fsync,
        rename and pruning run in a thread while training goes on and changes the live tensors
        (one write in flight at a time; ``wait()`` joins it).
        """
        snapshot = Snapshot(tensors)
        document = dict(_jsonable(meta), step=step, format="recurra.checkpoint")  # + the checksum, taken while writing
        final = self.directory / f"{PREFIX}{step:010d}"
        self.wait()
        if background:
            self._thread = threading.Thread(target=self._write_guarded, args=(final, snapshot, document), daemon=True)
            self._thread.start()
        else:
            self._write(final, snapshot, document)
        return final

    def wait(self) -> None:
        """Block until the background write (if any) is on disk; re-raise its error."""
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join()
        error, self._error = self._error, None
        if error is not None:
            raise error

    def _write_guarded(self, final: Path, snapshot: Snapshot, document: dict) -> None:
        try:
            self._write(final, snapshot, document)
        except BaseException as e:  # handed to the training thread by wait()
            self._error = e

    def _write(self, final: Path, snapshot: Snapshot, document: dict) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=self.directory, prefix=f".{final.name}.", suffix=".tmp"))
        digest = hashlib.sha256()
        for chunk in snapshot.chunks():
            digest.update(chunk)
        document = dict(document, sha256=digest.hexdigest())
        try:
            with open(tmp / STATE_FILE, "wb") as f:
                for chunk in snapshot.chunks():
                    f.write(chunk)
                f.flush()
                os.fsync(f.fileno())
            with open(tmp / META_FILE, "w", encoding="utf-8") as f:
                json.dump(document, f)
                f.flush()
                os.fsync(f.fileno())
            _fsync_dir(tmp)
            if final.exists():
                shutil.rmtree(final)
            os.replace(tmp, final)
            _fsync_dir(self.directory)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        self.prune()

    def prune(self) -> None:
        paths = self.paths()
        best = self._best_path(paths)
        for p in paths[self.keep :]:
            if p != best:
                shutil.rmtree(p, ignore_errors=True)
        for p in self.directory.glob(f".{PREFIX}*.tmp"):  # left by a crash mid-write (ours are renamed first)
            shutil.rmtree(p, ignore_errors=True)

    def _best_path(self, paths: list[Path]) -> Path | None:
        best, best_value, mode = None, None, "min"
        for p in paths:
            try:
                meta = json.loads((p / META_FILE).read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            value, mode = meta.get("monitor_value"), meta.get("monitor_mode", "min")
            if value is None:
                continue
            if best_value is None or (value < best_value if mode == "min" else value > best_value):
                best, best_value = p, value
        return best

    def best(self) -> Path | None:
        """The checkpoint with the best monitored value (``monitor_value`` in its meta), if any."""
        return self._best_path(self.paths())

    def read(self, path: Path) -> tuple[dict[str, torch.Tensor], dict] | None:
        """Tensors and meta of one checkpoint, or None (with a warning) when it is damaged."""
        try:
            meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
            if meta.get("format") != "recurra.checkpoint":
                raise ValueError(f"format {meta.get('format')!r}")
            if _sha256(path / STATE_FILE) != meta.get("sha256"):
                raise ValueError("checksum mismatch: the state file is truncated or corrupt")
            return load_file(str(path / STATE_FILE)), meta
        except (OSError, ValueError) as e:
            warnings.warn(f"skipping damaged checkpoint {path}: {e}", RecurraWarning, stacklevel=2)
            return None

    def latest(self) -> tuple[Path, dict[str, torch.Tensor], dict] | None:
        """The newest intact checkpoint, skipping damaged ones; None when there is none."""
        for path in self.paths():
            loaded = self.read(path)
            if loaded is not None:
                return (path, *loaded)
        return None
