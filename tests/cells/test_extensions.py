"""Compiled kernels built on first use say so (the command line shows it), and load at once afterwards."""

from __future__ import annotations

import logging
import uuid

import pytest

from recurra.cells.extensions import CompiledExtension

SOURCE = """
#include <torch/extension.h>
torch::Tensor twice(torch::Tensor x) { return x * 2; }
TORCH_LIBRARY(NAMESPACE, m) { m.def("twice", twice); }
"""


@pytest.mark.slow
def test_a_first_build_says_it_compiles(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("TORCH_EXTENSIONS_DIR", str(tmp_path / "cache"))
    namespace = f"recurra_test_{uuid.uuid4().hex[:8]}"
    source = tmp_path / "twice.cpp"
    source.write_text(SOURCE.replace("NAMESPACE", namespace))
    ext = CompiledExtension("unused.cpp", op=f"{namespace}.twice", variants=lambda: [(namespace, ["-O0"], [])],
                            what="test loop", fallback="nothing")  # fmt: skip
    ext.source = source
    with caplog.at_level(logging.INFO, logger="recurra"):
        assert ext.available()
    said = [r.getMessage() for r in caplog.records if r.name == "recurra"]
    assert said[0] == "compiling the test loop for this machine (once; later runs load it at once) ..."
    assert said[1].startswith("compiled the test loop in ")
