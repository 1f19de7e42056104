"""flush_denormals: denormal floats read as zero inside the block, and as themselves again after it."""

from __future__ import annotations

import torch

from recurra.train.numerics import flush_denormals


def test_denormals_are_flushed_inside_the_block_only():
    tiny = torch.tensor([1e-39], dtype=torch.float32)  # below float32's smallest normal number (1.18e-38)
    assert float(tiny * 1.0) > 0
    with flush_denormals():
        inside = float(tiny * 1.0)
    assert inside == 0.0
    assert float(tiny * 1.0) > 0  # the default is back


def test_the_setting_is_restored_when_the_block_raises():
    tiny = torch.tensor([1e-39], dtype=torch.float32)
    try:
        with flush_denormals():
            raise ValueError("stop")
    except ValueError:
        pass
    assert float(tiny * 1.0) > 0
