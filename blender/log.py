"""The submission log: what every blend was made of, and a guard against chasing the public leaderboard.

Every ``blend`` command that writes a file appends one *blend record* to ``blends/log.jsonl``
(one JSON object a line, the keys in :data:`BLEND_KEYS`); ``blend log --lb FILE SCORE`` appends
an *lb record* (:data:`LB_KEYS`), the public score a submitted file got, naming the file by its
content hash. The log is only ever appended to: nothing here rewrites a line.

This module is pure: it builds records, parses lines (a bad line is an error naming its line
number, never skipped), finds the record that wrote some bytes, and judges a series of public
scores against their noise. :mod:`blender.io.logfile` reads and writes the file.

The public score of a submission is noisy: on N public rows its standard error is about
``row_sd / sqrt(N)``, where ``row_sd`` is the spread of one row's loss, measured on the blend's
own OOF predictions when the record was written (for AUC, which has no per-row loss, from the
spread of its fold scores); for accuracy the binomial ``sqrt(p (1 - p) / N)`` at the public
score ``p`` is used instead. A public gain smaller than :data:`NOISE_SE` of those standard errors
is one the public rows cannot resolve.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import numpy as np
from numpy.typing import NDArray

from blender import metrics
from blender.errors import BlendInputError
from blender.metrics import Kind
from blender.report import finite_or_none

#: The keys of a blend record, in the order they are written (documented in the README).
BLEND_KEYS = (
    "type",
    "time",
    "command",
    "cwd",
    "version",
    "inputs",
    "method",
    "options",
    "seed",
    "members",
    "weights",
    "metric",
    "cv_score",
    "cv_se",
    "cv_folds",
    "row_sd",
    "row_sd_from",
    "nested_score",
    "nested_se",
    "slice_score",
    "slice_se",
    "slice_fold",
    "step",
    "outputs",
)
#: The keys of an lb record: the public score of the file whose bytes hash to ``sha256``.
LB_KEYS = ("type", "time", "path", "sha256", "public_score", "public_rows")

#: A public gain below this many standard errors of a public score is within its noise.
NOISE_SE = 2.0
#: The chasing check looks at this many latest submissions (and needs at least 3).
CHASE_WINDOW = 5


def blend_record(
    *,
    time: datetime,
    command: list[str],
    cwd: str,
    version: str,
    inputs: list[dict],
    method: str,
    options: dict,
    seed: int | None,
    members: list[str],
    weights: dict | None,
    metric: str | None,
    cv: dict | None,
    nested: dict | None,
    outputs: list[dict],
    slice: dict | None = None,
    step: dict | None = None,
) -> dict:
    """One blend record, its keys in the order of :data:`BLEND_KEYS`.

    ``cv`` holds ``score``, ``se``, ``folds``, ``row_sd`` and ``row_sd_from``; ``nested`` holds
    ``score`` and ``se``, ``slice`` (the score on the folds file's holdout slice, see
    :mod:`blender.levels`) ``score``, ``se`` and ``fold``; each is None where the command has
    none. ``step`` is the metric's decision step fitted on the OOF rows (``blender.picking.step_document``:
    the threshold or cut-points, and the OOF score with and without it), None for a metric of scores. Numbers
    that are not finite are written as null (JSON has no NaN).

    >>> from datetime import datetime, timezone
    >>> record = blend_record(time=datetime(2024, 5, 1, tzinfo=timezone.utc), command=["blend", "vote"], cwd="/c",
    ...                       version="0.1.0", inputs=[], method="vote", options={}, seed=None, members=["a"],
    ...                       weights=None, metric=None, cv=None, nested=None,
    ...                       outputs=[{"path": "blends/vote.csv", "sha256": "ab"}])
    >>> record["time"], record["cv_score"], list(record) == list(BLEND_KEYS)
    ('2024-05-01T00:00:00+00:00', None, True)
    """
    cv, nested, held = cv or {}, nested or {}, slice or {}
    return finite_or_none(
        {
            "type": "blend",
            "time": _stamp(time),
            "command": list(command),
            "cwd": cwd,
            "version": version,
            "inputs": inputs,
            "method": method,
            "options": options,
            "seed": seed,
            "members": list(members),
            "weights": weights,
            "metric": metric,
            "cv_score": cv.get("score"),
            "cv_se": cv.get("se"),
            "cv_folds": cv.get("folds"),
            "row_sd": cv.get("row_sd"),
            "row_sd_from": cv.get("row_sd_from"),
            "nested_score": nested.get("score"),
            "nested_se": nested.get("se"),
            "slice_score": held.get("score"),
            "slice_se": held.get("se"),
            "slice_fold": held.get("fold"),
            "step": step,
            "outputs": outputs,
        }
    )


def lb_record(*, time: datetime, path: str, sha256: str, public_score: float, public_rows: int | None) -> dict:
    """One lb record: ``public_score`` for the file at ``path`` whose bytes hash to ``sha256``."""
    return {
        "type": "lb",
        "time": _stamp(time),
        "path": path,
        "sha256": sha256,
        "public_score": float(public_score),
        "public_rows": public_rows,
    }


def parse_public_score(text: str, *, metric: str | None, option: str) -> float:
    """A public leaderboard score: a finite number, in [0, 1] for accuracy and AUC, never negative for a loss.

    >>> parse_public_score("0.81", metric="accuracy", option="--lb a.csv 0.81")
    0.81
    >>> parse_public_score("81", metric="accuracy", option="--lb a.csv 81")  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    blender.errors.BlendInputError: --lb a.csv 81: accuracy lies in [0, 1]; give the public score as the
    leaderboard shows it.
    """
    try:
        score = float(text)
    except ValueError:
        score = math.nan
    if not math.isfinite(score):
        raise BlendInputError(
            f"{option}: '{text}' is not a score; give the number the public leaderboard showed, "
            "e.g. --lb blends/auto.csv 0.2871."
        )
    if metric in ("accuracy", "auc") and not 0 <= score <= 1:
        raise BlendInputError(f"{option}: {metric} lies in [0, 1]; give the public score as the leaderboard shows it.")
    if metric in ("logloss", "rmse", "mae") and score < 0:
        raise BlendInputError(
            f"{option}: {metric} is never negative; give the public score as the leaderboard shows it."
        )
    return score


def _stamp(time: datetime) -> str:
    return time.astimezone(timezone.utc).isoformat(timespec="seconds")


# ---------------------------------------------------------------------------- reading


def parse_lines(lines: Iterable[str], *, source: str) -> list[dict]:
    """The records of a log's lines, each with its 1-based ``line`` number added.

    Blank lines hold no record and are passed over; any other line that is not a record (not
    JSON, not an object, a key missing or of the wrong type) is a :class:`BlendInputError`
    naming ``source`` and its line number, so that no record is ever silently dropped.

    >>> parse_lines(['{"type": "lb", "time": "2024-05-01T00:00:00+00:00", "sha256": "ab", "public_score": 0.5}'],
    ...             source="log.jsonl")[0]["line"]
    1
    >>> parse_lines(['{"type": "lb"', ""], source="log.jsonl")  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    blender.errors.BlendInputError: log.jsonl: line 1 is not a log record (not JSON: Expecting ...); fix or
    delete that line.
    """
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line.strip())
        except json.JSONDecodeError as error:
            raise _bad_line(source, number, f"not JSON: {error.msg} at column {error.colno}") from None
        problem = _record_problem(record)
        if problem:
            raise _bad_line(source, number, problem)
        records.append({**record, "line": number})
    return records


def _bad_line(source: str, number: int, reason: str) -> BlendInputError:
    return BlendInputError(f"{source}: line {number} is not a log record ({reason}); fix or delete that line.")


_REQUIRED: dict[str, dict[str, type | tuple[type, ...]]] = {
    "blend": {"time": str, "command": list, "inputs": list, "method": str, "outputs": list},
    "lb": {"time": str, "sha256": str, "public_score": (int, float)},
}


def _record_problem(record: object) -> str | None:
    """What is wrong with a parsed line, or None for a record."""
    if not isinstance(record, dict):
        return f"a JSON {type(record).__name__}, not an object"
    kind = record.get("type")
    if kind not in _REQUIRED:
        return f"type {kind!r}, expected 'blend' or 'lb'"
    for key, expected in _REQUIRED[kind].items():
        if not isinstance(record.get(key), expected) or isinstance(record.get(key), bool):
            return f"no {key!r}" if key not in record else f"{key!r} is {json.dumps(record[key])[:40]}"
    if kind == "blend" and not record["outputs"]:
        return "'outputs' is empty"
    try:
        record_time(record)
    except ValueError:
        return f"'time' {record['time']!r} is not an ISO 8601 time"
    for item in [*record.get("inputs", []), *record.get("outputs", [])]:
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("path"), str)
            or not isinstance(item.get("sha256"), str)
        ):
            return "an input or output without a path and a sha256"
    return None


def record_time(record: dict) -> datetime:
    """The record's time, as an aware datetime (UTC when the text has no zone)."""
    time = datetime.fromisoformat(record["time"])
    return time if time.tzinfo is not None else time.replace(tzinfo=timezone.utc)


def blends(records: list[dict]) -> list[dict]:
    """The blend records, newest first (the later line first on equal times)."""
    chosen = [record for record in records if record["type"] == "blend"]
    return sorted(chosen, key=lambda record: (record_time(record), record["line"]), reverse=True)


def made(records: list[dict], sha256: str, *, path: str | None = None) -> list[dict]:
    """The blend records that wrote a file with these bytes: found by content, whatever its name now.

    Newest first; where two commands wrote the same bytes, those that wrote them under ``path``
    come first.
    """
    makers = [record for record in blends(records) if any(item["sha256"] == sha256 for item in record["outputs"])]
    if path is None:
        return makers

    def wrote_there(record: dict) -> bool:
        return any(
            item["sha256"] == sha256 and os.path.normpath(item["path"]) == os.path.normpath(path)
            for item in record["outputs"]
        )

    return sorted(makers, key=lambda record: not wrote_there(record))


def input_states(record: dict, current_hash: Callable[[str], str | None]) -> list[tuple[dict, str]]:
    """Each input of the record and what became of it: ``"same"``, ``"changed"`` or ``"missing"``.

    ``current_hash(path)`` gives the SHA-256 of the file at ``path`` now, or None where there is
    none; a relative input path is taken from the record's working directory (``cwd``).

    >>> record = {"cwd": "/c", "inputs": [{"path": "a.csv", "sha256": "1"}, {"path": "/d/b.csv", "sha256": "2"}]}
    >>> [state for _, state in input_states(record, {"/c/a.csv": "1"}.get)]
    ['same', 'missing']
    """
    states = []
    for item in record["inputs"]:
        now = current_hash(os.path.join(record.get("cwd", "."), item["path"]))
        states.append((item, "missing" if now is None else "same" if now == item["sha256"] else "changed"))
    return states


def main_output(record: dict) -> dict:
    """The record's blend (its first output)."""
    return record["outputs"][0]


def matches(record: dict, pattern: re.Pattern) -> bool:
    """Whether ``pattern`` is found in the record's command line, method, or an input's or output's path."""
    texts = [
        " ".join(record["command"]),
        record["method"],
        *(item["path"] for item in [*record["inputs"], *record["outputs"]]),
    ]
    return any(pattern.search(text) for text in texts)


_AGE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhdw])\s*$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_since(text: str, *, now: datetime) -> datetime:
    """The start of ``--since``: a date or time (``2024-05-01``, ``2024-05-01T12:00``, UTC unless it
    says otherwise) or an age before ``now`` (``30m``, ``12h``, ``7d``, ``2w``).

    >>> from datetime import datetime, timezone
    >>> now = datetime(2024, 5, 8, 12, tzinfo=timezone.utc)
    >>> parse_since("7d", now=now).isoformat(), parse_since("2024-05-01", now=now).isoformat()
    ('2024-05-01T12:00:00+00:00', '2024-05-01T00:00:00+00:00')
    """
    age = _AGE.match(text)
    if age:
        return now - timedelta(**{_UNITS[age.group(2)]: float(age.group(1))})
    try:
        start = datetime.fromisoformat(text.strip())
    except ValueError:
        raise BlendInputError(
            f"--since {text}: give a date or time (2024-05-01, 2024-05-01T12:00) or an age (30m, 12h, 7d, 2w)."
        ) from None
    return start if start.tzinfo is not None else start.replace(tzinfo=timezone.utc)


# ---------------------------------------------------------------------------- the noise of a score


def row_spread(
    y: NDArray, oof: NDArray, *, metric: str, kind: Kind, fold_scores: NDArray[np.float64], n_folds: int
) -> tuple[float, str]:
    """How much one row moves the score: ``(row_sd, source)``, so that a score on N rows has a
    standard error of about ``row_sd / sqrt(N)``.

    For log loss, MAE and accuracy, ``row_sd`` is the standard deviation of the per-row loss of
    the OOF predictions ``oof`` (source ``"rows"``); for RMSE, that of the squared error divided
    by ``2 * rmse`` (the delta method). AUC has no per-row loss: there the spread of the fold
    scores, scaled by the square root of the rows in a fold (source ``"folds"``).

    Parameters
    ----------
    y : ndarray of shape (n_rows,)
    oof : ndarray of shape (n_rows, n_cols)
        The blend's own OOF predictions (the layout of :mod:`blender.layout`).
    fold_scores : ndarray of shape (n_splits,)
        The CV's fold scores; ``n_folds`` folds split the rows.

    >>> y = np.array([0, 1, 1, 0])
    >>> oof = np.array([[0.1], [0.8], [0.4], [0.3]])
    >>> sd, source = row_spread(y, oof, metric="accuracy", kind="binary", fold_scores=np.zeros(2), n_folds=2)
    >>> round(sd, 4), source   # correct on 3 of 4 rows: sd of (1, 1, 0, 1)
    (0.5, 'rows')
    """
    from blender import layout

    predictions = layout.for_metric(np.asarray(oof), kind)
    y = np.asarray(y)
    if metric not in ("logloss", "accuracy", "mae", "rmse"):
        # AUC and most other metrics have no per-row loss: the spread of the fold scores.
        rows_per_fold = y.shape[0] / n_folds
        spread = float(np.std(fold_scores, ddof=1)) if len(fold_scores) > 1 else float("nan")
        return spread * math.sqrt(rows_per_fold), "folds"
    if metric == "logloss":
        probability = metrics.true_class_probability(y, predictions, kind=kind)
        losses = -np.log(np.clip(probability, metrics.EPSILON, 1 - metrics.EPSILON))
    elif metric == "accuracy":
        if kind == "binary":
            predicted = predictions > 0.5
        else:
            predicted = np.argmax(predictions, axis=1)
        losses = (predicted == y).astype(np.float64)
    elif metric == "mae":
        losses = np.abs(predictions - y)
    else:  # rmse
        squared = (predictions - y) ** 2
        rmse = math.sqrt(float(squared.mean()))
        return (float(np.std(squared, ddof=1)) / (2 * rmse) if rmse > 0 else 0.0), "rows"
    return float(np.std(losses, ddof=1)), "rows"


def line_score(record: dict) -> float | None:
    """The score a blend record is judged by against its public score: the nested estimate, else the CV score."""
    score = record.get("nested_score")
    return score if score is not None else record.get("cv_score")


@dataclass(frozen=True)
class Submission:
    """One public score (an lb record) beside the blend record of the file it was given for."""

    lb: dict
    record: dict | None

    @property
    def public(self) -> float:
        return float(self.lb["public_score"])

    @property
    def cv(self) -> float | None:
        """The blend's honest score: the nested estimate where there is one (``blend auto``), else the CV score."""
        return None if self.record is None else line_score(self.record)

    @property
    def metric(self) -> str | None:
        return None if self.record is None else self.record.get("metric")

    @property
    def line(self) -> int:
        """The log line of the blend record it was given for (a judged submission has one)."""
        assert self.record is not None
        return int(self.record["line"])


def submissions(records: list[dict]) -> list[Submission]:
    """Every public score in time order, each beside the blend record that wrote its file (:func:`made`:
    the newest up to its time, one that wrote it under the submitted name first)."""
    lbs = sorted((r for r in records if r["type"] == "lb"), key=lambda r: (record_time(r), r["line"]))
    found = []
    for lb in lbs:
        makers = made(records, lb["sha256"], path=lb.get("path"))
        earlier = [record for record in makers if record_time(record) <= record_time(lb)]
        candidates = earlier or makers
        found.append(Submission(lb, candidates[0] if candidates else None))
    return found


def judged(records: list[dict]) -> list[Submission]:
    """The submissions the public checks compare: time order, each with its record, all in the metric of the latest."""
    series = [submission for submission in submissions(records) if submission.metric is not None]
    return [submission for submission in series if submission.metric == series[-1].metric] if series else []


def public_rows(records: list[dict], given: int | None) -> int | None:
    """The public split's rows: ``given`` (``--public-rows``), else the last recorded with an lb record."""
    if given is not None:
        return given
    stored = [record["public_rows"] for record in records if record["type"] == "lb" and record.get("public_rows")]
    return stored[-1] if stored else None


def public_noise(submission: Submission, public_rows: int) -> tuple[float, str] | None:
    """The standard error of this submission's public score on ``public_rows`` rows and how it was
    estimated, or None when its record holds no spread.

    >>> lb = {"public_score": 0.9}
    >>> se, how = public_noise(Submission(lb, {"metric": "accuracy"}), 100)
    >>> round(se, 6), how
    (0.03, 'a binomial bound for accuracy, sqrt(p(1-p)/N)')
    >>> public_noise(Submission(lb, {"metric": "logloss", "row_sd": 0.5, "row_sd_from": "rows"}), 100)
    (0.05, "the CV's per-row spread of logloss, row_sd/sqrt(N)")
    """
    metric = submission.metric
    if metric == "accuracy":
        p = min(max(submission.public, 0.0), 1.0)
        return math.sqrt(p * (1 - p) / public_rows), "a binomial bound for accuracy, sqrt(p(1-p)/N)"
    record = submission.record
    row_sd = None if record is None else record.get("row_sd")
    if record is None or row_sd is None or metric is None:
        return None
    if record.get("row_sd_from") == "folds":
        return row_sd / math.sqrt(public_rows), f"the CV's fold spread of {metric}, scaled to N rows"
    return row_sd / math.sqrt(public_rows), f"the CV's per-row spread of {metric}, row_sd/sqrt(N)"


def _gain(later: float, earlier: float, metric: str) -> float:
    """How much better ``later`` is than ``earlier`` (positive is better, in the metric's units)."""
    return later - earlier if metrics.greater_is_better(metric) else earlier - later


@dataclass(frozen=True)
class NoiseCheck:
    """A public gain over the previous submission, set against the noise of the public score."""

    submission: Submission
    gain: float
    se: float | None
    how: str | None

    @property
    def within_noise(self) -> bool:
        """A gain the public rows cannot resolve: positive, but under NOISE_SE standard errors."""
        return self.se is not None and 0 < self.gain < NOISE_SE * self.se


def noise_checks(series: list[Submission], public_rows: int) -> list[NoiseCheck]:
    """Each submission after the first of ``series`` (time order, one metric), its public gain over
    the one before, and the standard error that gain is judged by (:func:`public_noise`).

    >>> def sub(public, cv):
    ...     return Submission({"public_score": public}, {"metric": "logloss", "cv_score": cv, "row_sd": 0.5})
    >>> [check.within_noise for check in noise_checks([sub(0.30, 0.30), sub(0.29, 0.31), sub(0.20, 0.20)], 1000)]
    [True, False]
    """
    checks = []
    for before, after in zip(series, series[1:]):
        noise = public_noise(after, public_rows)
        se, how = noise if noise is not None else (None, None)
        checks.append(NoiseCheck(after, _gain(after.public, before.public, str(after.metric)), se, how))
    return checks


def latest_public(records: list[dict], rows: int | None) -> dict[int, tuple[float, list[str]]]:
    """For each blend record (by line) that was submitted: its latest public score and that submission's flags."""
    latest: dict[int, tuple[float, list[str]]] = {
        submission.record["line"]: (submission.public, [])
        for submission in submissions(records)
        if submission.record is not None
    }
    if rows is not None:
        for check in noise_checks(judged(records), rows):  # in time order: a file's latest submission decides
            line = check.submission.line
            latest[line] = (latest[line][0], ["public gain within noise"] if check.within_noise else [])
    return latest


@dataclass(frozen=True)
class Chase:
    """Public scores that rose over the latest submissions while their CV scores did not."""

    n: int
    public_trend: float
    cv_trend: float

    def message(self) -> str:
        return (
            f"warning: over the last {self.n} submissions the public score rose (rank correlation with time "
            f"{self.public_trend:+.2f}) while the CV score did not ({self.cv_trend:+.2f}): the gains look like "
            "fitting the public rows; trust the CV score"
        )


def chasing(series: list[Submission]) -> Chase | None:
    """A :class:`Chase` when, over the latest :data:`CHASE_WINDOW` submissions of ``series`` (at least 3,
    time order, one metric, each with a CV score), the public score rose (its Spearman rank correlation
    with time, the metric's better direction up, at least 0.5) while the CV score did not (at most 0).

    >>> def sub(public, cv):
    ...     return Submission({"public_score": public}, {"metric": "logloss", "cv_score": cv})
    >>> chasing([sub(0.30, 0.30), sub(0.29, 0.31), sub(0.28, 0.32)]).cv_trend
    -1.0
    >>> chasing([sub(0.30, 0.30), sub(0.29, 0.29), sub(0.28, 0.28)]) is None
    True
    """
    window = [submission for submission in series if submission.cv is not None][-CHASE_WINDOW:]
    if len(window) < 3:
        return None
    sign = 1.0 if metrics.greater_is_better(str(window[-1].metric)) else -1.0
    order = np.arange(len(window), dtype=np.float64)
    public = _spearman(order, sign * np.array([s.public for s in window]))
    cv = _spearman(order, sign * np.array([s.cv for s in window]))
    return Chase(len(window), public, cv) if public >= 0.5 and cv <= 0.0 else None


def _spearman(a: NDArray[np.float64], b: NDArray[np.float64]) -> float:
    """Spearman's rank correlation; 0 when one side is constant."""
    from scipy.stats import rankdata

    ranks_a, ranks_b = rankdata(a), rankdata(b)
    if np.ptp(ranks_a) == 0 or np.ptp(ranks_b) == 0:
        return 0.0
    return float(np.corrcoef(ranks_a, ranks_b)[0, 1])


# ---------------------------------------------------------------------------- the public score against the CV score

#: The CV-public line is fitted once this many submissions have both scores in one metric.
MIN_LINE = 5
#: A submission is flagged when its public score lies further from the line than this many standard deviations
#: of the residuals and the public score's own noise together.
BAND_SD = 2.0
#: The hedge of ``--final`` is the best submission whose test predictions correlate with the first's below this.
HEDGE_MAX_CORR = 0.98


@dataclass(frozen=True)
class PublicLine:
    """The public score as a line of the CV score, fitted by Theil-Sen over the submissions of one metric.

    ``residual_sd`` is the residuals' robust spread (1.4826 MAD); ``public_se`` the public score's
    own standard error on ``--public-rows`` rows (the median over the submissions), or None.
    """

    metric: str
    slope: float
    intercept: float
    points: list[Submission]
    residual_sd: float
    public_se: float | None

    def expected(self, cv: float) -> float:
        """The public score the line expects for a CV score."""
        return self.intercept + self.slope * cv

    @property
    def band(self) -> float:
        """How far from the line a public score may lie: :data:`BAND_SD` SDs of the residuals and the public noise."""
        return BAND_SD * math.sqrt(self.residual_sd**2 + (self.public_se or 0.0) ** 2)

    def outside(self) -> list[tuple[Submission, float]]:
        """The submissions outside the band, with their residual (public minus expected)."""
        found = []
        for submission in self.points:
            cv = submission.cv
            assert cv is not None  # the line is fitted on submissions with a CV score
            residual = submission.public - self.expected(cv)
            if abs(residual) > self.band:
                found.append((submission, residual))
        return found


def public_lines(records: list[dict], public_rows: int | None) -> dict[str, PublicLine | int]:
    """Per metric, the :class:`PublicLine` over the submissions with a CV and a public score (the latest public
    score of each file), or, with fewer than :data:`MIN_LINE`, how many more it needs.

    Theil-Sen's line is the median of the pairwise slopes: a submission far off the line (the one it
    must flag) does not pull it.

    >>> def sub(public, cv, k):
    ...     return {"public_score": public, "sha256": str(k)}, {"metric": "logloss", "cv_score": cv, "line": k}
    >>> pairs = [sub(0.30 + 0.001 * k, 0.29 + 0.001 * k, k) for k in range(5)] + [sub(0.40, 0.295, 9)]
    >>> series = [Submission(lb, record) for lb, record in pairs]
    >>> line = _fit_line("logloss", series, None)
    >>> round(line.slope, 3), round(line.expected(0.30), 4), [s.record["line"] for s, _ in line.outside()]
    (1.0, 0.31, [9])
    """
    latest: dict[tuple[str, str], Submission] = {}
    for submission in submissions(records):
        if submission.cv is not None and submission.metric is not None:
            latest[submission.metric, submission.lb["sha256"]] = submission
    by_metric: dict[str, list[Submission]] = {}
    for (metric, _), submission in latest.items():
        by_metric.setdefault(metric, []).append(submission)
    return {
        metric: (_fit_line(metric, series, public_rows) if len(series) >= MIN_LINE else MIN_LINE - len(series))
        for metric, series in by_metric.items()
    }


def _fit_line(metric: str, series: list[Submission], public_rows: int | None) -> PublicLine:
    from scipy.stats import theilslopes

    cv = np.array([submission.cv for submission in series], dtype=np.float64)
    public = np.array([submission.public for submission in series], dtype=np.float64)
    slope = float(theilslopes(public, cv)[0]) if np.ptp(cv) > 0 else 0.0
    # The intercept as the median residual (Sen's): scipy's median(y) - slope * median(x) is pulled by an outlier.
    intercept = float(np.median(public - slope * cv))
    residuals = public - (intercept + slope * cv)
    spread = 1.4826 * float(np.median(np.abs(residuals - np.median(residuals))))
    noises = [public_noise(submission, public_rows) for submission in series] if public_rows else []
    values = [noise[0] for noise in noises if noise is not None]
    return PublicLine(
        metric, float(slope), float(intercept), list(series), spread, float(np.median(values)) if values else None
    )


# ---------------------------------------------------------------------------- the final two


@dataclass(frozen=True)
class Pick:
    """A submission proposed for the final selection, with its honest estimate and why."""

    record: dict
    honest: float
    honest_name: str  # "nested", "slice" or "CV (flattered)"
    public: float | None
    expected: float | None  # the public (and private) score the CV-public line expects
    correlation: float | None  # with the first pick's test predictions (the hedge only)
    why: str


def honest_score(record: dict) -> tuple[float | None, str]:
    """The record's honest estimate: the nested one, else the holdout slice's, else its CV score (flattered).

    >>> honest_score({"nested_score": None, "slice_score": 0.31, "cv_score": 0.30})
    (0.31, 'slice')
    """
    for key, name in (("nested_score", "nested"), ("slice_score", "slice")):
        if record.get(key) is not None:
            return float(record[key]), name
    score = record.get("cv_score")
    return (None, "") if score is None else (float(score), "CV (flattered)")


def final_picks(
    records: list[dict],
    *,
    n: int,
    values_of: Callable[[dict, dict], NDArray | str],
    metric: str | None = None,
    line: PublicLine | None = None,
    max_corr: float = HEDGE_MAX_CORR,
) -> tuple[list[Pick], list[str]]:
    """The ``n`` submissions to select at the deadline, and notes on what could not be used.

    The first is the logged blend with the best honest estimate (:func:`honest_score`); each
    next one the best among those whose test predictions correlate with every pick so far below
    ``max_corr``: a hedge that wins where the first loses.

    Parameters
    ----------
    records : list of dict
        The log's records.
    values_of : callable
        ``values_of(record, reference)`` gives the record's written test predictions as a flat
        array aligned with those of ``reference`` (a record), or a string saying why it cannot
        (the file is gone).
    metric : str, default=None
        The metric to pick in; by default the latest blend record's.
    line : PublicLine, default=None
        The CV-public line of that metric, for each pick's expected score.
    """
    chosen = [
        record
        for record in blends(records)
        if record.get("metric")
        and honest_score(record)[0] is not None
        and record["method"] not in ("score", "corr", "doctor")
    ]
    if metric is None and chosen:
        metric = chosen[0]["metric"]
    seen, candidates = set(), []
    for record in chosen:
        digest = main_output(record)["sha256"]
        if record["metric"] == metric and digest not in seen:
            seen.add(digest)
            candidates.append(record)
    notes: list[str] = []
    if not candidates:
        return [], ["no logged blend has a CV score; run a learning command (blend auto, caruana, ...) first"]
    assert metric is not None  # the candidates are in it
    sign = 1.0 if metrics.greater_is_better(metric) else -1.0
    candidates.sort(key=lambda record: -sign * (honest_score(record)[0] or 0.0))  # each has one (chosen above)
    public = {
        submission.record["line"]: submission.public
        for submission in submissions(records)
        if submission.record is not None
    }
    picks: list[Pick] = []

    def pick(record: dict, correlation: float | None, why: str) -> None:
        score, name = honest_score(record)
        assert score is not None  # candidates have an honest score
        fitted_on = line_score(record)  # what the line was fitted on (Submission.cv)
        expected = line.expected(fitted_on) if line is not None and fitted_on is not None else None
        picks.append(Pick(record, score, name, public.get(record["line"]), expected, correlation, why))

    pick(candidates[0], None, f"the best honest estimate of {len(candidates)} logged blends")
    first_values = values_of(candidates[0], candidates[0])
    if isinstance(first_values, str):
        notes.append(first_values + "; no hedge can be chosen by its predictions")
        return picks, notes
    for record in candidates[1:]:
        if len(picks) >= n:
            break
        correlations = []
        for earlier in picks:
            values = values_of(record, earlier.record)
            if isinstance(values, str):
                notes.append(values)
                break
            reference = values_of(earlier.record, earlier.record)
            if isinstance(reference, str):
                notes.append(reference)
                break
            correlations.append(float(np.corrcoef(reference, values)[0, 1]) if np.std(values) > 0 else 1.0)
        else:
            worst = max(correlations)
            if worst < max_corr:
                pick(
                    record,
                    worst,
                    f"the best honest estimate among those whose test predictions correlate with "
                    f"the {'first' if len(picks) == 1 else 'picks before'} below {max_corr:g}",
                )
    if len(picks) < n:
        notes.append(
            f"no other logged blend's test predictions correlate with the picks below {max_corr:g}: "
            "every other one is a near-copy"
        )
    return picks, notes
