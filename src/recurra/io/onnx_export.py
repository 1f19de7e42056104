"""Export a model to ONNX, with its batch and time axes free.

``export_onnx(model, "model.onnx")`` traces the model with torch's ONNX exporter (``torch.onnx.export``,
``dynamo=True``; it needs the ``onnx`` and ``onnxscript`` packages). Each recurrent layer takes the form
``recurra.layers.onnx_form`` gives it: ONNX's own ``LSTM`` / ``GRU`` operator where that keeps the axes
free, else its reference step inside one ONNX ``Scan``. Masks travel as in the model (an
``Embedding(mask_zero=True)`` computes its mask inside the graph).

The example inputs come from the model: a ``Sequential``'s input shape, a functional ``Model``'s
``Input`` tensors; every axis they leave free (the batch, and the time axis of ``Input((None, F))``)
stays free in the exported graph. The file is written whole or not at all.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any, Iterator, Sequence

import torch
from torch import nn

from ..errors import ConfigError, NotBuiltError
from ..tree import flatten
from .files import atomic_write_bytes

EXAMPLE_SIZES = (2, 5)  # the batch size and the length of every other free axis in the traced example


class _Inputs(nn.Module):
    """The model called with its inputs as separate arguments (as the exporter passes them)."""

    def __init__(self, model: nn.Module, several: bool):
        super().__init__()
        self.model, self.several = model, several

    def forward(self, *inputs: torch.Tensor) -> Any:
        return self.model(list(inputs) if self.several else inputs[0])


def example_inputs(model: nn.Module) -> tuple[list[torch.Tensor], list[dict[int, Any]]]:
    """Example tensors for ``model``'s inputs and, for each, the axes left free (``{axis: Dim}``)."""
    specs = _input_specs(model)
    examples, dynamic = [], []
    batch = torch.export.Dim("batch")  # one batch size for every input
    for k, (shape, dtype) in enumerate(specs):
        sizes = [EXAMPLE_SIZES[0] if i == 0 else EXAMPLE_SIZES[1] if d is None else d for i, d in enumerate(shape)]
        examples.append(torch.ones(sizes, dtype=torch.long) if not dtype.is_floating_point else torch.zeros(sizes, dtype=dtype))
        suffix = f"_{k}" if len(specs) > 1 else ""  # each input's own time axis
        names = {i: ("time" if i == 1 else f"axis_{i}") + suffix for i, d in enumerate(shape) if i > 0 and d is None}
        free = {i: torch.export.Dim(name) for i, name in names.items()}
        dynamic.append({0: batch, **free})
    return examples, dynamic


def _input_specs(model: nn.Module) -> list[tuple[tuple, torch.dtype]]:
    inputs = getattr(model, "inputs", None)
    if isinstance(inputs, list) and inputs and hasattr(inputs[0], "node"):  # a functional Model
        return [((None, *t.shape[1:]), t.dtype) for t in inputs]
    shape = getattr(model, "build_input_shape", None)
    if shape is None:
        raise NotBuiltError(
            f"export needs the input shape of the {type(model).__name__}: give its first layer input_shape= "
            "(or an Input), or call it once"
        )
    weight = next((p for p in model.parameters() if p.is_floating_point()), None)
    float_dtype = weight.dtype if weight is not None else torch.get_default_dtype()
    dtype = torch.long if getattr(model, "build_input_dtype", None) == "int" else float_dtype
    return [((None, *shape), dtype)]


@contextlib.contextmanager
def _quiet_exporter() -> Iterator[None]:
    """Without the exporter's progress lines, the deprecation warnings torch's internals raise while it
    traces, and its log lines about torchvision's operators."""
    log = logging.getLogger("torch.onnx")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            warnings.filterwarnings("ignore", message=".*shares the same shape constraints")  # a shared batch axis
            yield
    finally:
        log.setLevel(level)


def export_onnx(model: nn.Module, path: str | os.PathLike, *, opset: int | None = None) -> Path:
    """Write ``model`` to ``path`` as an ONNX graph with its batch and free time axes dynamic; returns the
    path. Inputs are named ``input_0``, ``input_1`` ...; outputs ``output_0`` ... (module docstring)."""
    try:
        import onnx  # noqa: F401
        import onnxscript  # noqa: F401
    except ImportError as e:
        raise ConfigError(f"ONNX export needs the onnx and onnxscript packages (pip install 'recurra[onnx]'): {e}") from None
    examples, dynamic = example_inputs(model)
    wrapper = _Inputs(model, several=len(examples) > 1).eval()
    was = model.training
    model.eval()
    try:
        with torch.no_grad(), _quiet_exporter():
            program = torch.onnx.export(
                wrapper,
                tuple(examples),
                dynamo=True,
                dynamic_shapes=(tuple(dynamic),),  # forward(*inputs): one entry, the tuple of inputs
                input_names=[f"input_{i}" for i in range(len(examples))],
                output_names=[f"output_{i}" for i in range(_count_outputs(wrapper, examples))],
                opset_version=opset,
            )
    finally:
        model.train(was)
    path = Path(path)
    with tempfile.TemporaryDirectory() as tmp:
        written = Path(tmp) / path.name
        program.save(written)
        atomic_write_bytes(path, written.read_bytes())
    return path


def check_onnx(model: nn.Module, path: str | os.PathLike, lengths: Sequence[int] = (3, 8), seed: int = 0) -> float:
    """The largest difference between ``model`` and the ONNX graph at ``path`` run by onnxruntime, on random
    inputs whose free axes take each of ``lengths`` (integer inputs: ids 0 and 1; 0 is padding where
    a mask is made from it)."""
    import onnxruntime

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    generator = torch.Generator().manual_seed(seed)
    worst = 0.0
    was = model.training
    model.eval()
    try:
        for length in lengths:
            inputs = []
            for shape, dtype in _input_specs(model):
                sizes = [3 if i == 0 else length if d is None else d for i, d in enumerate(shape)]
                if dtype.is_floating_point:
                    inputs.append(torch.randn(sizes, generator=generator, dtype=dtype))
                else:
                    inputs.append(torch.randint(0, 2, sizes, generator=generator))
            with torch.no_grad():
                expected = flatten(_Inputs(model, len(inputs) > 1)(*inputs))
            got = session.run(None, {f"input_{i}": t.numpy() for i, t in enumerate(inputs)})
            worst = max([worst, *(float(abs(torch.from_numpy(g) - e).max()) for g, e in zip(got, expected))])
    finally:
        model.train(was)
    return worst


def _count_outputs(wrapper: nn.Module, examples: Sequence[torch.Tensor]) -> int:
    with torch.no_grad():
        return len(flatten(wrapper(*examples)))


__all__ = ["export_onnx", "example_inputs", "check_onnx"]
