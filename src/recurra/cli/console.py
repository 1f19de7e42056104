"""What every command shares: one console, errors and exit codes, interrupts, notes, threads, and the
message a first build of a compiled kernel gives.

Commands run their work inside ``running()``: a ``RecurraError`` prints ``error: ...`` and exits with
code 2; an interrupted training prints where it stopped and how to continue (``--resume``) and exits
with 130, as does a Ctrl-C that stops a command at once (outside a training step, or a second one); a
``RecurraWarning`` raised on the way (a metric undefined on the data ...) prints as ``note: ...``.
Library code never exits the process or prints errors: only this module does.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from typing import Iterator

import torch
import typer
from rich.console import Console
from rich.markup import escape

from ..errors import RecurraError, RecurraWarning, TrainingInterrupted

console = Console()
EXIT_ERROR = 2  # a bad option, file or value: the message says which
EXIT_INTERRUPTED = 130  # stopped by SIGINT / SIGTERM (a checkpoint written when the command keeps them)


def fail(message: object) -> typer.Exit:
    """Print ``error: message`` and return the exit to raise (``raise fail(...) from None``)."""
    console.print(f"[red]error:[/red] {escape(str(message))}", highlight=False, soft_wrap=True)
    return typer.Exit(EXIT_ERROR)


def note(message: object) -> None:
    console.print(f"[yellow]note:[/yellow] {escape(str(message))}", highlight=False, soft_wrap=True)


@contextlib.contextmanager
def running(resume: str | None = "--resume") -> Iterator[None]:
    """Run a command's work with the shared handling of errors, interrupts and notes (module docstring).
    ``resume``: the option that continues an interrupted run (``None``: the command has none)."""
    caught: list[warnings.WarningMessage] = []
    try:
        with warnings.catch_warnings(record=True) as recorded:
            warnings.simplefilter("always", RecurraWarning)
            try:
                yield
            except TrainingInterrupted as e:
                console.print(f"[yellow]{escape(e.reason)}[/yellow]", highlight=False)
                if e.checkpoint is not None and resume is not None:
                    continuing = f"run the same command again with {resume} to continue where it stopped"
                    console.print(f"checkpoint: {e.checkpoint}; {continuing}", highlight=False)
                elif e.checkpoint is None:
                    console.print("no checkpoint was written: the run starts again from the beginning")
                raise typer.Exit(EXIT_INTERRUPTED) from None
            except KeyboardInterrupt:  # Ctrl-C outside a training step, or a second one inside: stopped at once
                console.print("[yellow]stopped at once by Ctrl-C[/yellow]", highlight=False)
                if resume is not None:
                    console.print(f"what was saved before it is kept: run the same command again with {resume} to continue")
                raise typer.Exit(EXIT_INTERRUPTED) from None
            except RecurraError as e:
                raise fail(e) from None
            finally:
                caught = list(recorded)
    finally:  # after recording stops: a warning shown again here is not recorded again
        for w in caught:
            if issubclass(w.category, RecurraWarning):
                note(w.message)
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def set_threads(threads: int | None) -> None:
    """Use ``threads`` CPU threads in torch (``None``: torch's choice)."""
    if threads is not None:
        torch.set_num_threads(threads)


class _ConsoleLog(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        console.print(f"[dim]{escape(record.getMessage())}[/dim]", highlight=False)


def show_progress_messages() -> None:
    """Print what the library logs at INFO level (a compiled kernel built for the first time ...)."""
    logger = logging.getLogger("recurra")
    if not any(isinstance(h, _ConsoleLog) for h in logger.handlers):
        logger.addHandler(_ConsoleLog())
    logger.setLevel(logging.INFO)


__all__ = ["console", "fail", "note", "running", "set_threads", "show_progress_messages", "EXIT_ERROR", "EXIT_INTERRUPTED"]
