"""A command's result as one JSON object (``--json``), and one shape for an error.

A command adds what it found with :func:`emit` (the Python face's ``Result.to_dict()`` for a blend,
the leaderboard for ``score``, the findings for ``doctor``); the command line collects it with
:func:`collecting` and prints it when the command ends. A user's mistake prints ``{"error":
{"message", "file", "row"}}`` and exits 1. Exit status: 0 done, 1 bad input, 2 usage, 3 ``blend auto
--strict`` when no blend beats the best single file, 4 ``blend doctor --strict`` with a finding to fix.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TextIO

_DOCUMENT: ContextVar[dict | None] = ContextVar("blender_json_document", default=None)


def emit(**fields: object) -> None:
    """Add ``fields`` to the command's JSON result (nothing without ``--json``)."""
    document = _DOCUMENT.get()
    if document is not None:
        document.update(fields)


def add_output(path: object) -> None:
    """Record a file the command wrote, for the JSON result's ``outputs``."""
    document = _DOCUMENT.get()
    if document is not None and path is not None:
        document.setdefault("outputs", []).append(str(path))


@contextmanager
def collecting(name: str, enabled: bool) -> Iterator[dict | None]:
    """While the command runs, collect its JSON result (a dict), or nothing when ``enabled`` is False."""
    token = _DOCUMENT.set({"command": name} if enabled else None)
    try:
        yield _DOCUMENT.get()
    finally:
        _DOCUMENT.reset(token)


def table_stream() -> TextIO | None:
    """Where a table for a person goes: stdout, unless stdout carries the JSON result (then stderr)."""
    import sys

    return sys.stderr if _DOCUMENT.get() is not None else None


def dumps(document: dict) -> str:
    """The JSON text of a result: NaN and inf as null, NumPy numbers as numbers."""
    from blender.report import finite_or_none

    return json.dumps(finite_or_none(document), default=str)


def error_document(message: str) -> dict:
    """``{"error": {"message", "file", "row"}}`` of a one-line error: the file is what the line starts with
    (``path: ...``), the row the id it names (``at id 17``), each null when the line names none.

    >>> error_document("submissions/rf.csv: 1.07 at id 552 (column 'target') is outside [0, 1]; ...")["error"]["row"]
    '552'
    >>> error_document("--weights 3,1 gives 2 weights for 3 files; ...")["error"]["file"] is None
    True
    >>> error_document("nothere.csv not found; check the path.")["error"]["file"]
    'nothere.csv'
    """
    file = re.match(r"(?:--\S+ )?([^\s:]+\.(?:csv|csv\.gz|parquet|py|json|jsonl|png|pdf|svg))\b", message)
    row = re.search(r"\bat id ([^\s,;:)]+)", message) or re.search(r"\bid (\S+) appears", message)
    return {
        "error": {"message": message, "file": file.group(1) if file else None, "row": row.group(1) if row else None}
    }
