"""The README as a newcomer meets it: every code block runs as written, from the repository's root (the
commands read the data files that ship in the repository), and every command line of the docs parses.

The docs' Python blocks run too, each on its own, except a block whose first line says why it is not
run: ``# not run: <reason>`` (it trains for minutes, or stands for the reader's own data); such a block
is not collected as a run (a test checks it gives a reason), and is still parsed and import-checked below.
"""

from __future__ import annotations

import ast
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from recurra.cli import app

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
SETUP = ("pip ", "pytest")  # the README's set-up lines: CI runs them itself


def blocks(path: Path, language: str) -> list[str]:
    """The fenced code blocks of ``language`` in a Markdown file, in order."""
    return re.findall(rf"^```{language}\n(.*?)^```", path.read_text(encoding="utf-8"), re.M | re.S)


def command_lines(block: str) -> list[str]:
    """A shell block's commands: continuation lines joined, ``&&`` chains split, comments dropped."""
    joined = block.replace("\\\n", " ")
    out = []
    for line in joined.splitlines():
        line = line.split(" #")[0].strip()
        if line and not line.startswith("#"):
            out += [part.strip() for part in line.split("&&")]
    return out


def _workdir(tmp_path: Path) -> Path:
    """A fresh directory that sees the repository's files (what the README reads) but keeps what it writes."""
    for name in ("src", "examples"):
        (tmp_path / name).symlink_to(ROOT / name)
    return tmp_path


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONWARNINGS": "error::UserWarning:recurra"}
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=900, env=env)


README_PY = blocks(ROOT / "README.md", "python")
README_SH = [line for b in blocks(ROOT / "README.md", "bash") for line in command_lines(b) if not line.startswith(SETUP)]


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(README_PY)))
def test_readme_python_blocks_run(index, tmp_path):
    done = _run([sys.executable, "-c", README_PY[index]], _workdir(tmp_path))
    assert done.returncode == 0, f"README python block {index} failed:\n{README_PY[index]}\n{done.stderr[-3000:]}"


@pytest.mark.slow
def test_readme_command_lines_run_in_order(tmp_path):
    """In one directory and in order: a later line reads what an earlier one wrote (a trained model)."""
    cwd = _workdir(tmp_path)
    assert any(line.startswith("recurra forecast train") for line in README_SH)
    for line in README_SH:
        args = shlex.split(line)
        assert args[0] == "recurra", line
        done = _run([sys.executable, "-m", "recurra.cli", *args[1:]], cwd)
        assert done.returncode == 0, f"`{line}` failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"


def _parse(args: list[str]) -> None:
    """Parse a command line the way ``recurra`` would, without running it: with ``--help`` at the end the
    command stops after parsing, which refuses an unknown command or option (exit code 2)."""
    result = CliRunner().invoke(app, [*args, "--help"])
    assert result.exit_code == 0, f"recurra {' '.join(args)}: {result.output[-1500:]}"


DOC_LINES = [
    (path.relative_to(ROOT).as_posix(), line)
    for path in DOCS
    for block in blocks(path, "bash")
    for line in command_lines(block)
    if line.startswith("recurra ")
]


@pytest.mark.parametrize("where, line", DOC_LINES, ids=[f"{w}:{i}" for i, (w, _) in enumerate(DOC_LINES)])
def test_every_command_line_in_the_docs_parses(where, line):
    _parse(shlex.split(line)[1:])


@pytest.mark.parametrize("path", DOCS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_python_block_in_the_docs_is_valid_and_imports_what_exists(path):
    for block in blocks(path, "python"):
        tree = ast.parse(block)  # a syntax error fails here
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("recurra"):
                module = __import__(node.module, fromlist=["_"])
                for alias in node.names:
                    assert hasattr(module, alias.name), f"{path.name}: {node.module} has no {alias.name}"


NOT_RUN = "# not run:"


ALL_DOC_PY = [
    (f"{path.relative_to(ROOT).as_posix()}[{i}]", block)
    for path in DOCS
    if path.name != "README.md"  # its blocks run above, each in a fresh process
    for i, block in enumerate(blocks(path, "python"))
]
NOT_RUN_BLOCKS = {where: block.splitlines()[0][len(NOT_RUN) :].strip() for where, block in ALL_DOC_PY
                  if block.splitlines()[0].startswith(NOT_RUN)}  # fmt: skip
DOC_PY = [pytest.param(where, block, id=where) for where, block in ALL_DOC_PY if where not in NOT_RUN_BLOCKS]


@pytest.mark.parametrize("where, block", DOC_PY)
def test_docs_python_blocks_run(where, block, tmp_path, monkeypatch):
    """In this process (each block is quick: the long ones say ``# not run:``), in a fresh directory that sees
    the repository's files; recurra's warnings are errors here as in every test."""
    monkeypatch.chdir(_workdir(tmp_path))
    exec(compile(block, where, "exec"), {"__name__": "__main__"})


def test_a_block_that_is_not_run_says_why():
    assert NOT_RUN_BLOCKS and len(NOT_RUN_BLOCKS) < len(DOC_PY)  # most blocks run: the marker is for long runs and placeholders
    for where, reason in NOT_RUN_BLOCKS.items():
        assert len(reason) > 10, where
