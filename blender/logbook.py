"""What ``blend log`` shows: the table of records, the record that wrote a file, a public score recorded with
``--lb``, the checks of public gains against their noise, the CV-public line, and the ``--final`` picks
(the statistics live in :mod:`blender.log`; this module words them). Tables and answers go to stdout, notes to
stderr; with ``--json`` the same answers are collected as one JSON object (:mod:`blender.results`)."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from numpy.typing import NDArray

from blender import results
from blender.errors import BlendInputError
from blender.session import say

if TYPE_CHECKING:
    from blender.log import Submission


def show(
    log: Path,
    *,
    file: Path | None = None,
    lb: tuple[str, str] | None = None,
    public_rows: int | None = None,
    since: str | None = None,
    grep: str | None = None,
    final: int | None = None,
) -> None:
    """``blend log``: the records of ``log`` (newest first), a file's maker, ``--lb FILE SCORE`` or ``--final N``."""
    from blender import io

    if lb is not None and file is not None:
        raise BlendInputError(
            f"blend log {file} --lb {' '.join(lb)}: give FILE to look a file up, or --lb FILE SCORE "
            "to record its public score, not both."
        )
    if public_rows is not None and public_rows < 1:
        raise BlendInputError(f"--public-rows {public_rows}: give the number of rows in the public split, e.g. 5000.")
    if final is not None and final < 1:
        raise BlendInputError(f"--final {final}: give how many submissions count, e.g. --final 2.")
    records = io.read_log(log)
    results.emit(log=str(log))
    if final is not None:
        _show_final(records, final, public_rows=public_rows)
    elif lb is not None:
        _record_public(log, records, *lb, public_rows=public_rows)
    elif file is not None:
        _show_maker(log, records, file)
    else:
        _show_records(log, records, since=since, grep=grep, public_rows=public_rows)


def echo(text: str) -> None:
    """A line of the answer, on stdout (on stderr while stdout carries the JSON result)."""
    print(text, file=results.table_stream())


def _record_public(log: Path, records: list[dict], file_text: str, score_text: str, *, public_rows: int | None) -> None:
    from blender import io
    from blender.log import lb_record, parse_public_score

    option = f"--lb {file_text} {score_text}"
    path = Path(file_text)
    sha256, makers = _makers(
        log, records, path, missing=f"{option}: {file_text} not found; name the file you submitted."
    )
    maker = makers[0]
    metric = maker.get("metric")
    score = parse_public_score(score_text, metric=metric, option=option)
    record = lb_record(
        time=datetime.now(timezone.utc), path=str(path), sha256=sha256, public_score=score, public_rows=public_rows
    )
    io.append_record(log, record)
    results.emit(recorded=record)
    say(
        f"recorded public score {score:g} for {path} in {log}: made by line {maker['line']}, "
        f"{' '.join(maker['command'])}"
        + (f", CV {metric} {_score(maker, 'cv')}" if metric else "")
        + (f", nested {_score(maker, 'nested')}" if maker.get("nested_score") is not None else "")
    )
    last_line = max((r["line"] for r in records), default=0)
    _report_submissions([*records, {**record, "line": last_line + 1}], public_rows)


def _makers(log: Path, records: list[dict], path: Path, *, missing: str) -> tuple[str, list[dict]]:
    """``path``'s hash and the records that wrote its bytes; ``missing`` is the error when there is no such file."""
    from blender import io
    from blender.log import made

    if not path.is_file():
        raise BlendInputError(missing)
    sha256 = io.sha256_file(path)
    makers = made(records, sha256, path=str(path))
    if not makers:
        raise BlendInputError(
            f"{path}: no record of {log} wrote these bytes (sha256 {sha256[:12]}...); it was written "
            "with --no-log, logged in another log (pass --log PATH), or changed since."
        )
    return sha256, makers


def _show_maker(log: Path, records: list[dict], file: Path) -> None:
    from functools import lru_cache

    from blender import io, report
    from blender.log import input_states, record_time

    sha256, makers = _makers(
        log, records, file, missing=f"{file} not found; name a file blend wrote (its record is found by its content)."
    )
    results.emit(file=str(file), records=makers)

    @lru_cache(maxsize=None)
    def current_hash(path: str) -> str | None:
        return io.sha256_file(Path(path)) if Path(path).is_file() else None

    for record in makers:
        written = next(item["path"] for item in record["outputs"] if item["sha256"] == sha256)
        renamed = "" if Path(written) == file else " (renamed since)"
        echo(
            f"{file}: written by line {record['line']} of {log}, {record_time(record):%Y-%m-%d %H:%M} UTC, "
            f"as {written}{renamed}"
        )
        echo(
            f"  command: {' '.join(record['command'])}   (in {record.get('cwd', '?')}, blender {record.get('version')})"
        )
        echo(
            f"  method: {record['method']}"
            + (f", seed {record['seed']}" if record.get("seed") is not None else "")
            + f"; {_members(record)}"
        )
        if record.get("metric"):
            echo(
                f"  {record['metric']}: CV {_score(record, 'cv')}"
                + (f", nested {_score(record, 'nested')}" if record.get("nested_score") is not None else "")
                + (
                    f", holdout slice (fold {record['slice_fold']}) {_score(record, 'slice')}"
                    if record.get("slice_score") is not None
                    else ""
                )
            )
        states = input_states(record, current_hash)
        rows = [
            [item["path"], item.get("rows", ""), item["sha256"][:12], _STATE_WORDS[state]] for item, state in states
        ]
        echo(report.format_table(["input", "rows", "sha256", "now"], rows))
        moved = [item["path"] for item, state in states if state != "same"]
        if moved:
            say(
                f"warning: {len(moved)} input{'s' if len(moved) != 1 else ''} of line {record['line']} changed or went "
                f"missing on disk since ({', '.join(moved[:3])}{', ...' if len(moved) > 3 else ''}): making it again "
                "would not give these bytes"
            )


_STATE_WORDS = {"same": "unchanged", "changed": "CHANGED since", "missing": "MISSING"}


def _members(record: dict) -> str:
    weights = record.get("weights")
    if weights:
        return "weights " + ", ".join(f"{name}={weight:.4g}" for name, weight in weights.items())
    return "members " + (", ".join(record.get("members") or []) or "-")


def _show_records(
    log: Path, records: list[dict], *, since: str | None, grep: str | None, public_rows: int | None
) -> None:
    from blender import report
    from blender.log import (
        blends,
        latest_public,
        line_score,
        main_output,
        matches,
        parse_since,
        public_lines,
        record_time,
    )
    from blender.log import public_rows as public_rows_of

    chosen = blends(records)
    if since is not None:
        start = parse_since(since, now=datetime.now(timezone.utc))
        chosen = [record for record in chosen if record_time(record) >= start]
    if grep is not None:
        try:
            pattern = re.compile(grep, re.IGNORECASE)
        except re.error as error:
            raise BlendInputError(
                f"--grep {grep}: not a regular expression ({error}); escape special characters."
            ) from None
        chosen = [record for record in chosen if matches(record, pattern)]
    public = latest_public(records, public_rows_of(records, public_rows))
    lines = {
        metric: line
        for metric, line in public_lines(records, public_rows_of(records, public_rows)).items()
        if not isinstance(line, int)
    }
    for line in lines.values():
        for submission, _ in line.outside():
            score, flags = public[_line(submission)]
            public[_line(submission)] = (score, [*flags, "outside the CV-public band"])
    results.emit(
        records=[
            {
                **record,
                "public_score": public.get(record["line"], (None, []))[0],
                "flags": public.get(record["line"], (None, []))[1],
            }
            for record in chosen
        ]
    )
    if chosen:
        header = [
            "line",
            "time (UTC)",
            "method",
            "output",
            "metric",
            "CV",
            "± se",
            "nested",
            "public",
            *(["expected"] if lines else []),
            "flag",
        ]
        rows = []
        for record in chosen:
            shown: float | None
            shown, flags = public.get(record["line"], (None, []))
            fitted, judged = lines.get(record.get("metric") or ""), line_score(record)
            expected = (
                [] if not lines else [fitted.expected(judged) if fitted is not None and judged is not None else None]
            )
            rows.append(
                [
                    record["line"],
                    f"{record_time(record):%Y-%m-%d %H:%M}",
                    record["method"],
                    main_output(record)["path"],
                    record.get("metric") or "-",
                    _float(record.get("cv_score")),
                    _float(record.get("cv_se")),
                    _float(record.get("nested_score")),
                    _float(shown),
                    *map(_float, expected),
                    "; ".join(flags),
                ]
            )
        report.show_table(header, rows, stream=results.table_stream())
    n_blends = sum(record["type"] == "blend" for record in records)
    if not chosen:
        say(f"no records in {log}" + (f" match (of {n_blends})" if n_blends else ""))
    _report_submissions(records, public_rows)


def _report_submissions(records: list[dict], given_rows: int | None) -> None:
    """On stderr: public gains within the public rows' noise, how the noise was estimated, and a chase."""
    from blender.log import NOISE_SE, chasing, judged, noise_checks
    from blender.log import public_rows as public_rows_of

    series = judged(records)
    if len(series) < 2:
        return
    public_rows = public_rows_of(records, given_rows)
    if public_rows is None:
        say("give --public-rows N (the rows of the public split) to check each public gain against its noise")
    else:
        checks = noise_checks(series, public_rows)
        for check in checks:
            metric = check.submission.metric
            where = f"{check.submission.lb['path']} (made by line {_line(check.submission)})"
            if check.se is None:
                say(f"{where}: its record holds no CV spread, so its public gain of {check.gain:+.4g} cannot be judged")
            elif check.within_noise:
                say(
                    f"{where}: the public {metric} gain of {check.gain:+.4g} over the submission before is within the "
                    f"noise of a public score ({NOISE_SE:g} × {check.se:.2g} on {public_rows:,} public rows): the "
                    "public rows cannot tell the two apart"
                )
        hows = sorted({check.how for check in checks if check.how})
        if hows:
            say(f"public noise on {public_rows:,} rows from " + "; ".join(hows))
    chase = chasing(series)
    if chase is not None:
        say(chase.message())
    _report_lines(records, public_rows)


def _report_lines(records: list[dict], public_rows: int | None) -> None:
    """On stderr, per metric: the CV-public line and the submissions outside its band, or how many more it needs."""
    from blender.log import BAND_SD, MIN_LINE, public_lines

    for metric, line in public_lines(records, public_rows).items():
        if isinstance(line, int):
            have = MIN_LINE - line
            say(
                f"CV-public line ({metric}): {have} submission{'s' if have != 1 else ''} with a CV and a public score; "
                f"{line} more needed to fit it"
            )
            continue
        noise = (
            f", public noise {line.public_se:.2g} on {public_rows:,} rows"
            if line.public_se is not None
            else "; give --public-rows N to widen it by the public score's noise"
        )
        say(
            f"CV-public line ({metric}, Theil-Sen over {len(line.points)} submissions): public = "
            f"{line.intercept:+.6g} {'+' if line.slope >= 0 else '-'} {abs(line.slope):.4g} × CV; band ± "
            f"{line.band:.4g} ({BAND_SD:g} × residual SD {line.residual_sd:.2g}{noise})"
        )
        for submission, residual in line.outside():
            where = f"{submission.lb['path']} (made by line {_line(submission)})"
            cv = submission.cv
            assert cv is not None  # the line is fitted on submissions with a CV score
            say(
                f"{where}: public {submission.public:.6g} is outside the band: "
                f"{line.expected(cv):.6g} expected for CV {cv:.6g} "
                f"({residual:+.4g}); a lucky or unlucky public split, or a CV that does not measure what the "
                "leaderboard does"
            )


def _show_final(records: list[dict], n: int, *, public_rows: int | None) -> None:
    import os

    import numpy as np

    from blender import io
    from blender.log import HEDGE_MAX_CORR, final_picks, main_output, public_lines
    from blender.log import public_rows as public_rows_of

    def path_of(record: dict) -> Path:
        return Path(os.path.join(record.get("cwd", "."), main_output(record)["path"]))

    def values_of(record: dict, reference: dict) -> NDArray | str:
        path, reference_path = path_of(record), path_of(reference)
        for one in (path, reference_path):
            if not one.is_file():
                return (
                    f"{one} (line {record['line'] if one == path else reference['line']}) is gone, so its test "
                    "predictions cannot be compared"
                )
        try:
            predictions = io.read_predictions([reference_path, path] if path != reference_path else [path])
        except BlendInputError as error:
            return f"{path} cannot be compared with {reference_path}: {error}"
        return np.asarray(predictions.values[-1], dtype=np.float64).ravel()

    rows = public_rows_of(records, public_rows)
    lines = public_lines(records, rows)
    picks, notes = final_picks(records, n=n, values_of=values_of)
    metric = picks[0].record["metric"] if picks else None
    line = lines.get(metric) if metric is not None else None
    if isinstance(line, int) or line is None:
        line = None
        if picks:
            picks, notes = final_picks(records, n=n, values_of=values_of, metric=metric)
    else:
        picks, notes = final_picks(records, n=n, values_of=values_of, metric=metric, line=line)
    results.emit(
        final=[
            {
                "path": main_output(pick.record)["path"],
                "line": pick.record["line"],
                "honest": pick.honest,
                "public": pick.public,
                "expected": pick.expected,
                "correlation": pick.correlation,
                "why": pick.why,
            }
            for pick in picks
        ],
        notes=list(notes),
    )
    for number, pick in enumerate(picks, start=1):
        record = pick.record
        made_by = f"line {record['line']}, {' '.join(record['command'][:2])}"
        echo(
            f"final {number}: {main_output(record)['path']} ({made_by}): "
            f"{pick.honest_name} {record['metric']} {pick.honest:.6f}, CV {_float(record.get('cv_score')):.6f}, "
            f"public {'-' if pick.public is None else f'{pick.public:.6f}'}, expected private "
            f"{'-' if pick.expected is None else f'{pick.expected:.6f}'}"
            + ("" if pick.correlation is None else f", correlation with the first {pick.correlation:.4f}")
        )
        echo(f"  why: {pick.why}")
    if line is None and picks:
        say(f"expected private scores need the CV-public line ({metric}): log 5 or more public scores with --lb")
    for note in notes:
        say(note)
    if picks and len(picks) > 1:
        say(
            f"the hedge differs from the first beyond a correlation of {HEDGE_MAX_CORR:g} between their test "
            "predictions: it wins where the first loses, which a near-copy cannot"
        )


def _score(record: dict, which: str) -> str:
    """``cv``, ``nested`` or ``slice`` score ± its standard error, as the commands print them."""
    score, se = record.get(f"{which}_score"), record.get(f"{which}_se")
    if score is None:
        return "-"
    return f"{score:.6f}" + (f" ± {se:.6f}" if se is not None else "")


def _float(value: float | str | None) -> float:
    return float("nan") if value is None else float(value)


def _line(submission: Submission) -> int:
    """The log line of the blend record a judged public score was given for."""
    assert submission.record is not None  # only submissions with their blend record are judged
    return int(submission.record["line"])
