"""``recurra export MODEL OUTPUT``: a saved model as an ONNX graph (a thin command over
``recurra.io.onnx_export``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from torch import nn

from ..io import load
from ..io.onnx_export import check_onnx, export_onnx
from .console import console, fail, running


def export_command(
    model: Annotated[Path, typer.Argument(help="A saved model: a directory or a .keras file.")],
    output: Annotated[Path, typer.Argument(help="The file to write, e.g. model.onnx.")],
    format: Annotated[str, typer.Option("--format", help="The format to write: onnx.")] = "onnx",  # noqa: A002
    check: Annotated[bool, typer.Option("--check/--no-check", help="Run the graph with onnxruntime and compare.")] = True,
) -> None:
    """Export a saved model to ONNX, its batch and time axes free."""
    if format != "onnx":
        raise fail(f"expected --format onnx, got {format!r}")
    with running(resume=None):
        loaded = load(model)
        network = loaded if isinstance(loaded, nn.Module) else getattr(loaded, "network_", None)
        if not isinstance(network, nn.Module):
            raise fail(f"{model} holds a {type(loaded).__name__}, which has no network to export")
        console.print(f"Exporting {type(network).__name__} from {model} to ONNX ...")
        path = export_onnx(network, output)
        console.print(f"wrote {path} ({path.stat().st_size:,} bytes)")
        if check:
            try:
                worst = check_onnx(network, path)
            except ImportError:
                console.print("onnxruntime is not installed: the graph was not run (pip install onnxruntime)")
                return
            console.print(f"checked with onnxruntime at two sequence lengths: largest difference {worst:.1e}", soft_wrap=True)
