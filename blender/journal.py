"""The record every writing command leaves in the submission log (:mod:`blender.log`).

A command runs inside :func:`invoked` (its name, its arguments as typed, its parsed options) and
:func:`recording` (``--log PATH``, ``--no-log``), which has the readers note every file they read
(:func:`blender.io.recording_inputs`). The command says what it did with :func:`note` (or
:func:`note_run`), and hands :func:`log_entry` to its :class:`~blender.io.OutputGroup`, which
appends the record when, and only when, the outputs are written.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, cast

from blender.errors import BlendInputError

if TYPE_CHECKING:
    from blender.entries import Run
    from blender.evaluation import SliceScore
    from blender.io import LogEntry
    from blender.io.predictions import LearningSet
    from blender.picking import AutoResult
    from blender.steps import Step

LOG_NAME = "log.jsonl"

_INVOCATION: ContextVar[tuple[str, list[str], dict] | None] = ContextVar("blender_invocation", default=None)


@contextmanager
def invoked(name: str, argv: list[str], options: dict) -> Iterator[None]:
    """Run a command known by its ``name``, its arguments as typed and its parsed ``options``, for the record."""
    token = _INVOCATION.set((name, argv, options))
    try:
        yield
    finally:
        _INVOCATION.reset(token)


@dataclass
class Journal:
    """What one command run will record: its command line and options, the files read, what it did."""

    command: list[str]
    options: dict
    log: Path | None
    inputs: dict[str, int]
    facts: dict = field(default_factory=dict)
    appended: Path | None = None  # the log the record went to

    def record(self, outputs: list[dict], main: Path) -> dict:
        """The blend record of ``outputs`` (``[{"path", "sha256"}]``), ``main`` first; the inputs are hashed now."""
        from blender import io
        from blender.log import blend_record

        facts = self.facts
        return blend_record(
            time=datetime.now(timezone.utc),
            command=self.command,
            cwd=os.getcwd(),
            version=_version(),
            inputs=[
                {"path": path, "rows": rows, "sha256": io.sha256_file(Path(path))} for path, rows in self.inputs.items()
            ],
            method=facts.get("method", self.command[1]),
            options=self.options,
            seed=self.options.get("seed"),
            members=facts.get("members", []),
            weights=facts.get("weights"),
            metric=facts.get("metric"),
            cv=facts.get("cv"),
            nested=facts.get("nested"),
            slice=facts.get("slice"),
            step=facts.get("step"),
            outputs=sorted(outputs, key=lambda item: Path(item["path"]) != Path(main)),
        )


_JOURNAL: ContextVar[Journal | None] = ContextVar("blender_journal", default=None)


@contextmanager
def recording(log: Path | None, no_log: bool) -> Iterator[None]:
    """Run a command with its record being kept (none with ``--no-log``); ``--log`` is checked first."""
    from blender import io

    if log is not None and no_log:
        raise BlendInputError(f"--log {log} --no-log: give one.")
    if log is not None:
        io.check_output_path(log, option="--log")
    name, argv, params = _INVOCATION.get() or ("blend", [], {})
    options = {key: _plain(value) for key, value in params.items() if key not in ("files", "log", "no_log")}
    with io.recording_inputs() as inputs:
        journal = None if no_log else Journal(["blend", name, *argv], options, log, inputs)
        token = _JOURNAL.set(journal)
        try:
            yield
        finally:
            _JOURNAL.reset(token)
    if journal is not None and journal.appended is not None:
        print(f"logged in {journal.appended}", file=sys.stderr)


def _plain(value: object) -> object:
    """An option's value as JSON holds it."""
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    return value


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("blender")
    except PackageNotFoundError:
        return "unknown"


def note(**facts: object) -> None:
    """Say what the command did, for its record: ``method``, ``members``, ``weights``, ``metric``, ``cv``, ``nested``,
    ``slice``."""
    journal = _JOURNAL.get()
    if journal is not None:
        journal.facts.update(facts)


def note_run(learning: LearningSet, run: Run) -> None:
    """Note a learning command's run: its entry, its weights, and its honest CV score with the per-row spread."""
    from blender.log import row_spread

    names = learning.train.names
    weights = None if run.weights is None else {name: float(w) for name, w in zip(names, run.weights)}
    honest = run.honest
    assert learning.metric is not None  # a learning command's set carries the metric it chose
    spread, source = row_spread(
        learning.y,
        run.oof,
        metric=learning.metric,
        kind=learning.train.kind,
        fold_scores=honest.fold_scores,
        n_folds=run.board.folds,
    )
    note(
        method=run.method.name,
        members=[name for name in names if weights is None or weights[name] != 0],
        weights=weights,
        metric=learning.metric,
        cv={"score": honest.mean, "se": honest.se, "folds": run.board.folds, "row_sd": spread, "row_sd_from": source},
        slice=_slice(run.slice),
        step=_step(learning, run.step, run.in_sample, run.plain_in_sample),
    )


def note_auto(learning: LearningSet, result: AutoResult) -> None:
    """Note ``blend auto``'s pick: its members, its leaderboard score where it is an entry, and its nested estimate."""
    from blender.log import row_spread

    board, estimate = result.board, result.estimate
    entry = next((entry for entry in board.entries if entry.name == result.pick.name), None)
    assert learning.metric is not None and estimate.oof is not None  # run_auto keeps the outer folds' predictions
    spread, source = row_spread(
        learning.y,
        estimate.oof,
        metric=learning.metric,
        kind=learning.train.kind,
        fold_scores=estimate.scores,
        n_folds=estimate.folds,
    )
    cv = {"row_sd": spread, "row_sd_from": source, "folds": board.folds}
    if entry is not None:
        cv.update(score=entry.mean, se=entry.se)
    note(
        method="auto",
        members=list(result.picked),
        metric=learning.metric,
        cv=cv,
        nested={"score": estimate.mean, "se": estimate.se},
        slice=_slice(cast("SliceScore | None", result.slice)),
        step=_step(learning, result.step, result.in_sample, result.plain_in_sample),
    )


def _step(learning: LearningSet, step: Step | None, in_sample: float, plain_in_sample: float) -> dict | None:
    """The decision step the written submission went through, as the record keeps it (None: the scores were written)."""
    from blender.picking import step_document

    if not (learning.post and getattr(learning.metric, "post_processes", False)):
        return None
    return step_document(step, in_sample, plain_in_sample)


def log_entry(main: Path | None) -> LogEntry | None:
    """The :class:`~blender.io.LogEntry` for an output group whose main output is ``main`` (None with ``--no-log``).

    The log is ``--log``, else ``log.jsonl`` beside ``main``.
    """
    from blender import io

    journal = _JOURNAL.get()
    if journal is None or main is None:
        return None
    path = journal.log if journal.log is not None else Path(main).parent / LOG_NAME

    def record(outputs: list[dict]) -> dict:
        assert journal is not None and main is not None
        journal.appended = path
        return journal.record(outputs, main)

    return io.LogEntry(path, record)


@contextmanager
def logged_write(path: Path) -> Iterator[None]:
    """Log an output the block writes outside an output group (the out-of-core blend): the log is
    checked before the block, and the record appended after it, only if it wrote ``path``."""
    from blender import io

    entry = log_entry(path)
    if entry is not None:
        io.check_output_path(entry.path, option="--log")
    yield
    if entry is not None:
        io.append_record(entry.path, entry.record([{"path": str(path), "sha256": io.sha256_file(path)}]))


def _slice(held: SliceScore | None) -> dict | None:
    """The slice estimate (:class:`blender.evaluation.SliceScore`) as the record keeps it; None without a slice."""
    return None if held is None else {"score": held.mean, "se": held.se, "fold": held.fold}
