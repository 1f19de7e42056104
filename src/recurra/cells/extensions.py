"""C++ kernels compiled on first use, shared by the cells that have one (``scan``, ``reservoir``).

A ``CompiledExtension`` names one source file in ``recurra/csrc`` and the op it registers. The first
``available()`` call builds it with ``torch.utils.cpp_extension.load`` (a few seconds, once per
machine: torch caches the build in its extensions directory), trying each build variant in turn
(say, with and without OpenMP). When no variant builds (no compiler, no ninja, missing headers), it
warns once (``RecurraWarning``) and answers ``False`` from then on, so the caller's pure-torch loop
runs instead. Thread-safe: one build at a time.

A build that compiles (nothing cached for it yet) says so, before and after ("compiling the GRU loop
for this machine ..."): on the ``recurra`` logger at INFO level, which the command line shows, and on
stderr when nothing handles that logger (a script or a notebook that configured no logging), so that
a first call that takes 15-40 s never looks stuck.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import torch

from ..errors import RecurraWarning

CSRC = Path(__file__).resolve().parent.parent / "csrc"
log = logging.getLogger("recurra")

# (extension name, compile flags, link flags): one way to build
BuildVariant = tuple[str, list[str], list[str]]


def cpu_build_variants(name: str) -> list[BuildVariant]:
    """The builds of a CPU loop named ``name``, in order: with OpenMP, then without (Apple's clang has
    none: the loops still run, on one thread). CPUs with AVX2 and FMA (as torch sees them) get builds
    of their own, named apart so that a machine without them never loads one: the loops are
    compute-bound in exp and about twice as fast with them."""
    base = ["-O3", "-fopenmp-simd", "-fno-math-errno", "-fno-trapping-math"]
    isa = ["-mavx2", "-mfma"] if torch.backends.cpu.get_cpu_capability() in ("AVX2", "AVX512") else []
    name += "_avx2" if isa else ""
    return [(name, [*base, *isa, "-fopenmp"], ["-fopenmp"]), (name + "_serial", [*base, *isa], [])]


def wide_build_variants(name: str) -> list[BuildVariant]:
    """``cpu_build_variants``, led on CPUs with AVX-512 (as torch sees them) by builds with 512-bit vectors, for
    loops bound by arithmetic on short rows (the LSTM's gates, with five ``exp`` per unit; the one-step dot
    products): 16 float32 lanes at a time there."""
    variants = cpu_build_variants(name)
    if torch.backends.cpu.get_cpu_capability() != "AVX512":
        return variants
    wide = ["-mavx512f", "-mavx512dq", "-mavx512bw", "-mavx512vl", "-mprefer-vector-width=512"]
    return [(n.replace("_avx2", "_avx512"), [*cflags, *wide], ldflags) for n, cflags, ldflags in variants] + variants


def _say(message: str) -> None:
    """Log ``message`` at INFO on the ``recurra`` logger; print it to stderr when no handler would show it."""
    log.info(message)
    if not log.hasHandlers():
        print(f"recurra: {message}", file=sys.stderr, flush=True)


def _cached(cpp_extension, name: str) -> bool:
    """Whether torch's extension cache already holds a built library for ``name`` (then loading is quick)."""
    try:
        directory = cpp_extension._get_build_directory(name, verbose=False)
    except Exception:  # noqa: BLE001 (a private helper of torch's: if it moves, assume a build)
        return False
    return os.path.exists(os.path.join(directory, f"{name}.so"))


def _constant_when_traced(function: Callable) -> Callable:
    """``torch.compiler.assume_constant_result(function)``: traced by ``torch.compile``, a call runs as it is,
    outside the graph, and its result is a constant (a first call that builds the extension inside a compiled
    region needs no graph break). It sets the mark that function sets, without importing ``torch._dynamo``
    (1.5 s) with recurra."""
    function._dynamo_marked_constant = True  # type: ignore[attr-defined]
    return function


class CompiledExtension:
    """One C++ source, built on first use; ``available()`` says whether its op can run.

    ``op``: ``"namespace.name"`` of an op the source registers (``torch.ops.namespace.name``);
    ``variants``: a function giving the builds to try, in order (called at build time, so it can look
    at the CPU); ``fallback``: what runs instead, for the warning ("IndRNN ... use a slower loop");
    ``on_load``: called once the ops are loaded (the Python side of their registration: fake kernels
    that give torch.compile and torch.export the output shapes, and their autograd).
    """

    def __init__(self, source: str, op: str, variants: Callable[[], list[BuildVariant]], what: str, fallback: str,
                 on_load: Callable[[], None] | None = None):  # fmt: skip
        self.source = CSRC / source
        self.op = op
        self.variants = variants
        self.what = what
        self.fallback = fallback
        self.on_load = on_load  # run once the ops exist: their fake kernels and autograd, for torch.compile and export
        self.state: bool | None = None  # None: not tried yet
        self._lock = threading.Lock()

    def registered(self) -> bool:
        """Whether the op is loaded in this process (built now or earlier)."""
        namespace, name = self.op.split(".")
        try:
            getattr(getattr(torch.ops, namespace), name)
        except (AttributeError, RuntimeError):
            return False
        return True

    @_constant_when_traced
    def available(self) -> bool:
        """Build on the first call; afterwards answer from the cached result."""
        if self.state is None:
            with self._lock:
                if self.state is None:
                    built = self._build()
                    if built and self.on_load is not None:
                        self.on_load()
                    self.state = built
        return self.state

    def _build(self) -> bool:
        if self.registered():
            return True
        from torch.utils import cpp_extension

        errors = []
        for name, cflags, ldflags in self.variants():
            compiling = not _cached(cpp_extension, name)
            if compiling:
                _say(f"compiling the {self.what} for this machine (once; later runs load it at once) ...")
            start = time.perf_counter()
            try:
                cpp_extension.load(
                    name=name,
                    sources=[str(self.source)],
                    extra_cflags=cflags,
                    extra_ldflags=ldflags,
                    is_python_module=False,
                    verbose=False,
                )
            except Exception as error:  # noqa: BLE001 (no compiler, no ninja, missing headers ...: all mean "not available")
                errors.append(f"{type(error).__name__}: {error}")
                continue
            if compiling:
                _say(f"compiled the {self.what} in {time.perf_counter() - start:.0f} s")
            return self.registered()
        warnings.warn(
            f"recurra could not build its compiled {self.what} ({errors[-1]}); {self.fallback}",
            RecurraWarning,
            stacklevel=5,
        )
        return False
