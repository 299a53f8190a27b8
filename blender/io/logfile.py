"""The submission log's file (:mod:`blender.log`): the inputs a command read, content hashes, and
records read from and appended to ``log.jsonl``.

While :func:`recording_inputs` is active (``blend`` runs every writing command inside it), each
reader of :mod:`blender.io` notes the files it read and their rows (:func:`note_input`); outside
it, nothing is noted. Records are appended one line at a time, flushed and synced, and never
rewritten.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from blender.errors import BlendInputError


@dataclass(frozen=True)
class LogEntry:
    """Where a command's record goes, and how it is made from its outputs (``[{"path", "sha256"}]``)."""

    path: Path
    record: Callable[[list[dict[str, str]]], dict[str, Any]]


_INPUTS: ContextVar[dict[str, int] | None] = ContextVar("blender_inputs", default=None)


@contextmanager
def recording_inputs() -> Iterator[dict[str, int]]:
    """Within the block, every file the readers read is noted: ``{path: rows}``, in the order first read.

    >>> with recording_inputs() as inputs:
    ...     note_input(Path("a.csv"), 3)
    >>> inputs
    {'a.csv': 3}
    """
    inputs: dict[str, int] = {}
    token = _INPUTS.set(inputs)
    try:
        yield inputs
    finally:
        _INPUTS.reset(token)


def note_input(path: Path, rows: int) -> None:
    """Note that ``path`` was read, with ``rows`` rows, when inputs are being recorded."""
    inputs = _INPUTS.get()
    if inputs is not None:
        inputs.setdefault(str(path), int(rows))


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file's bytes, as hex (read in blocks by :func:`hashlib.file_digest`)."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def read_log(path: Path) -> list[dict[str, Any]]:
    """Every record of the log at ``path`` (:func:`blender.log.parse_lines`: a bad line is an error naming it)."""
    from blender.log import parse_lines

    path = Path(path)
    if not path.is_file():
        hint = (
            "it is a folder; name the file, e.g. --log blends/log.jsonl"
            if path.is_dir()
            else "blend writes log.jsonl beside its outputs (blends/log.jsonl by default); pass --log PATH for another"
        )
        raise BlendInputError(f"{path}: no log there; {hint}.")
    try:
        with open(path, encoding="utf-8") as handle:
            return parse_lines(handle, source=str(path))
    except UnicodeDecodeError as error:
        raise BlendInputError(f"{path}: not a text log ({error.reason}); is it the log blend writes?") from None


def append_record(path: Path, record: dict[str, Any]) -> None:
    """Append ``record`` to the log as one JSON line, flushed and synced to disk.

    A log whose last line was cut short (no line end) gets one first, so that the new record is
    a line of its own and the cut line stays where ``blend log`` names it.

    >>> import tempfile
    >>> log = Path(tempfile.mkdtemp()) / "log.jsonl"
    >>> append_record(log, {"type": "lb"}); append_record(log, {"type": "lb", "n": 2})
    >>> log.read_text()
    '{"type": "lb"}\\n{"type": "lb", "n": 2}\\n'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, ensure_ascii=False, allow_nan=False) + "\n"
    with open(path, "ab") as handle:
        if handle.tell() > 0 and not _ends_with_newline(path):
            line = "\n" + line
        handle.write(line.encode())
        handle.flush()
        os.fsync(handle.fileno())


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"
