"""Shared fixtures: prediction files written into tmp_path, and an in-process `blend` runner."""

from __future__ import annotations

from pathlib import Path

import pytest

# Three aligned binary prediction files over the same five ids (first file's order: 1..5).
THREE_BINARY = {
    "lr.csv": "id,target\n1,0.1\n2,0.8\n3,0.35\n4,0.6\n5,0.95\n",
    "rf.csv": "id,target\n1,0.2\n2,0.7\n3,0.4\n4,0.45\n5,0.9\n",
    "knn.csv": "id,target\n1,0.05\n2,0.9\n3,0.3\n4,0.55\n5,0.99\n",
}


def write_text(path: Path, text: str) -> Path:
    """Write ``text`` as-is (no newline translation) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode())
    return path


def csv_text(header: list[str], rows: list[list]) -> str:
    """CSV text from a header and rows; floats written with repr so they read back bit-identical."""
    lines = [",".join(header)]
    lines += [",".join(repr(v) if isinstance(v, float) else str(v) for v in row) for row in rows]
    return "\n".join(lines) + "\n"


@pytest.fixture
def write_csv(tmp_path):
    """``write_csv("name.csv", text)`` writes into tmp_path and returns the Path."""

    def write(name: str, text: str) -> Path:
        return write_text(tmp_path / name, text)

    return write


@pytest.fixture
def three_files(write_csv) -> list[Path]:
    """Three aligned binary prediction files (lr, rf, knn) in tmp_path."""
    return [write_csv(name, text) for name, text in THREE_BINARY.items()]


@pytest.fixture
def out_path(tmp_path) -> Path:
    """An output path that already holds known bytes, to check failed runs leave it untouched."""
    return write_text(tmp_path / "out" / "blend.csv", "id,target\nprevious,0.5\n")


@pytest.fixture
def blend():
    """Run ``blend ARGS...`` in-process; returns the click Result (stdout, stderr, output, exit_code)."""
    from typer.testing import CliRunner

    from blender.cli import app

    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(app, [str(a) for a in args])

    return invoke
