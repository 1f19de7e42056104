"""The checkpoint file layout: a Snapshot is a valid safetensors file and a copy, not a view."""

import hashlib
import json

import pytest
import torch
from safetensors.torch import load, load_file

from recurra.train.checkpoint import META_FILE, STATE_FILE, CheckpointManager, Snapshot


def file_bytes(snapshot: Snapshot) -> bytes:
    prefix, data = snapshot.chunks()
    return prefix + data.tobytes()


def tensors() -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    return {
        "w": torch.randn(3, 4, generator=g),
        "w_t": torch.randn(4, 3, generator=g).t(),  # not contiguous
        "d": torch.randn(5, dtype=torch.float64, generator=g),
        "h": torch.randn(2, 2, generator=g).to(torch.bfloat16),
        "i": torch.arange(7),
        "rng": torch.get_rng_state(),
        "flag": torch.tensor([True, False, True]),
        "scalar": torch.tensor(2.5),
        "empty": torch.zeros(0, 3),
    }


def test_snapshot_is_a_safetensors_file_with_the_same_tensors():
    t = tensors()
    loaded = load(file_bytes(Snapshot(t)))
    assert set(loaded) == set(t)
    for k, v in t.items():
        assert loaded[k].dtype == v.dtype and loaded[k].shape == v.shape, k
        torch.testing.assert_close(loaded[k], v, rtol=0, atol=0)


def test_snapshot_is_a_copy_that_later_updates_do_not_reach():
    t = tensors()
    snap = Snapshot(t)
    before = {k: v.clone() for k, v in t.items()}
    t["w"].add_(1.0)
    t["i"].mul_(3)
    loaded = load(file_bytes(snap))
    torch.testing.assert_close(loaded["w"], before["w"], rtol=0, atol=0)
    torch.testing.assert_close(loaded["i"], before["i"], rtol=0, atol=0)


def test_snapshot_refuses_a_dtype_the_format_cannot_hold():
    with pytest.raises(TypeError, match="complex64"):
        Snapshot({"z": torch.zeros(2, dtype=torch.complex64)})


@pytest.mark.parametrize("background", [False, True])
def test_checkpoint_written_from_a_snapshot_has_its_checksum_and_reads_back(tmp_path, background):
    manager = CheckpointManager(tmp_path, keep=2)
    t = tensors()
    path = manager.save(5, t, {"epoch": 1}, background=background)
    t["w"].zero_()  # training goes on while the thread writes
    manager.wait()
    meta = json.loads((path / META_FILE).read_text())
    assert meta["sha256"] == hashlib.sha256((path / STATE_FILE).read_bytes()).hexdigest()
    loaded = load_file(str(path / STATE_FILE))
    assert loaded["w"].abs().sum() > 0  # the values at save time, not the zeroed ones
    _, read, read_meta = manager.latest()
    assert read_meta["epoch"] == 1 and set(read) == set(t)
