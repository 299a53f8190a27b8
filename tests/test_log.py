"""The submission log (issue 16): every writing command appends exactly one record, a failed one none;
``blend log`` finds a renamed file's record by its hash and flags changed inputs; the public-score
checks; the contract's bad-input rules for the log.

Small generated competitions (24 test rows, 36 OOF rows, 18 holdout rows, 3 models) are written
into tmp_path, and ``blend`` runs in-process from there with its default paths.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import fuzzing
import numpy as np
import pytest

from blender import log as logbook
from blender.cli import app

N_TEST, N_TRAIN, N_HOLDOUT = 24, 36, 18
NAMES = fuzzing.MODEL_NAMES[:3]
TEST_FILES = [f"submissions/{name}.csv" for name in NAMES]
OOF_FILES = [f"submissions/oof/{name}.csv" for name in NAMES]
HOLDOUT_FILES = [f"submissions/holdout/{name}.csv" for name in NAMES]
TRUTH = "data/train_labels.csv"


@pytest.fixture
def competition(tmp_path, monkeypatch):
    """A binary competition in tmp_path, the working folder."""
    fuzzing.write_files(tmp_path, fuzzing.make_competition(np.random.default_rng(16), "binary").tables())
    monkeypatch.chdir(tmp_path)
    return tmp_path


def blend(*args):
    return fuzzing.invoke(list(args))


def sha256(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def log_lines(path="blends/log.jsonl") -> list[dict]:
    path = Path(path)
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def error_line(result) -> str:
    """The one ``Error:`` line of a refused run (and no traceback)."""
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.stderr
    return errors[0]


# ---------------------------------------------------------------------------- every writing command logs once

# (arguments after the command, the main output, the inputs it reads besides the test files)
LEARNS = (*OOF_FILES, TRUTH)
WRITING = {
    "vote": (["vote", "-o", "blends/out.csv"], "blends/out.csv", (TRUTH,)),
    "average": (["average", "-o", "blends/out.csv"], "blends/out.csv", ()),
    "average --calibrate": (["average", "--calibrate", "-o", "blends/out.csv"], "blends/out.csv", LEARNS),
    "average out of core": (["average", "--memory", "1KB", "-o", "blends/out.csv"], "blends/out.csv", ()),
    "rank-average": (["rank-average", "-o", "blends/out.csv"], "blends/out.csv", ()),
    "median": (["median", "-o", "blends/out.csv"], "blends/out.csv", ()),
    "corr -o": (["corr", "-o", "blends/corr.csv"], "blends/corr.csv", ()),
    "corr --plot": (["corr", "--plot", "pictures/corr.png"], "pictures/corr.png", ()),
    "doctor --plot": (["doctor", "--plot", "pictures/doctor.png"], "pictures/doctor.png", LEARNS),
    "score": (["score", "--cv", "3", "-o", "blends/board.csv"], "blends/board.csv", LEARNS),
    "select": (["select", "-o", "blends/out.csv"], "blends/out.csv", LEARNS),
    "caruana": (
        ["caruana", "--iters", "8", "--weights-out", "blends/w.json", "-o", "blends/out.csv"],
        "blends/out.csv",
        LEARNS,
    ),
    "hill-climb": (["hill-climb", "-o", "blends/out.csv"], "blends/out.csv", LEARNS),
    "weights": (["weights", "-o", "blends/out.csv"], "blends/out.csv", LEARNS),
    "stack": (["stack", "--folds", "3", "-o", "blends/out.csv"], "blends/out.csv", LEARNS),
    "holdout": (["holdout", "-o", "blends/out.csv"], "blends/out.csv", (*HOLDOUT_FILES, TRUTH)),
    "auto": (
        ["auto", "--cv", "3", "--repeats", "1", "--max-level", "1", "-o", "blends/out.csv"],
        "blends/out.csv",
        LEARNS,
    ),
}


def test_every_command_that_writes_a_file_takes_log_options_and_is_tested_here():
    import typer

    commands = typer.main.get_command(app).commands
    logging = {
        name
        for name, command in commands.items()
        if any("--log" in param.opts for param in command.params) and name != "log"
    }
    assert logging == set(commands) - {"check", "log"}
    assert logging == {key.split()[0] for key in WRITING}
    for name in logging:
        assert any("--no-log" in param.opts for param in commands[name].params), name


@pytest.mark.parametrize("name", WRITING)
def test_every_writing_command_appends_exactly_one_record_and_a_failed_one_none(competition, name):
    args, main, reads = WRITING[name]
    result = blend(*args)
    assert result.exit_code == 0, result.output
    main_log = Path(main).parent / "log.jsonl"
    assert f"logged in {main_log}" in result.stderr
    (record,) = log_lines(main_log)
    assert record["type"] == "blend" and list(record) == list(logbook.BLEND_KEYS)
    assert record["command"] == ["blend", *args]
    assert record["cwd"] == str(competition)
    assert record["outputs"][0] == {"path": main, "sha256": sha256(main)}
    for output in record["outputs"]:
        assert output["sha256"] == sha256(output["path"])
    expected = {path: N_TEST for path in TEST_FILES}
    expected.update({path: N_TRAIN for path in reads if "/oof/" in path})
    expected.update({path: N_HOLDOUT for path in reads if "/holdout/" in path})
    if TRUTH in reads:
        expected[TRUTH] = N_TRAIN
    assert {item["path"]: item["rows"] for item in record["inputs"]} == expected
    for item in record["inputs"]:
        assert item["sha256"] == sha256(item["path"])

    # The same command failing (a file that is not there) appends nothing.
    failed = blend(*args[:1], *TEST_FILES, "submissions/missing.csv", *args[1:])
    assert "submissions/missing.csv" in error_line(failed)
    assert len(log_lines(main_log)) == 1


def test_a_learning_record_holds_what_the_run_printed(competition):
    result = blend("caruana", "--iters", "8", "--seed", "3", "--weights-out", "blends/w.json", "-o", "blends/c.csv")
    assert result.exit_code == 0, result.output
    (record,) = log_lines()
    cv = re.search(r"(\d+)-fold CV logloss: ([0-9.]+) ± ([0-9.]+)", result.stderr)
    assert record["method"] == "caruana" and record["metric"] == "logloss" and record["seed"] == 3
    assert record["cv_folds"] == int(cv.group(1))
    assert f"{record['cv_score']:.6f}" == cv.group(2) and f"{record['cv_se']:.6f}" == cv.group(3)
    assert record["weights"] == json.loads(Path("blends/w.json").read_text())["weights"]
    assert record["members"] == [name for name, weight in record["weights"].items() if weight != 0]
    assert record["options"]["iters"] == 8 and record["options"]["weights_out"] == "blends/w.json"
    assert record["row_sd_from"] == "rows" and record["row_sd"] > 0
    assert record["nested_score"] is None


@pytest.mark.parametrize(
    ("kind", "args", "metric", "source"),
    [
        ("labels", ["select"], "accuracy", "rows"),
        ("multiclass", ["select"], "logloss", "rows"),
        ("multiclass", ["weights", "--metric", "auc"], "auc", "folds"),
        ("regression", ["select", "--task", "regression"], "rmse", "rows"),
    ],
)
def test_every_kind_records_the_spread_of_its_score(tmp_path, monkeypatch, kind, args, metric, source):
    fuzzing.write_files(tmp_path, fuzzing.make_competition(np.random.default_rng(16), kind).tables())
    monkeypatch.chdir(tmp_path)
    assert blend(*args, "-o", "blends/out.csv").exit_code == 0
    (record,) = log_lines()
    assert record["metric"] == metric and record["row_sd_from"] == source
    assert record["row_sd"] > 0 and math.isfinite(record["cv_score"])


def test_auto_records_its_nested_estimate(competition):
    result = blend("auto", "--cv", "3", "--repeats", "1", "--max-level", "1", "-o", "blends/auto.csv")
    assert result.exit_code == 0, result.output
    (record,) = log_lines()
    estimate = re.search(r"nested CV over \d+ outer folds.*?: ([0-9.]+) ± ([0-9.]+)", result.stderr)
    assert f"{record['nested_score']:.6f}" == estimate.group(1) and f"{record['nested_se']:.6f}" == estimate.group(2)
    pick = re.search(r"pick: (\S+)", result.stderr).group(1)
    assert pick in record["members"] or record["members"][0] in pick


def test_records_accumulate_and_log_options_choose_where(competition):
    assert blend("vote", "-o", "blends/a.csv").exit_code == 0
    assert blend("average", "-o", "blends/b.csv").exit_code == 0
    assert [record["method"] for record in log_lines()] == ["vote", "average"]
    assert blend("average", "--no-log", "-o", "blends/c.csv").exit_code == 0
    assert len(log_lines()) == 2 and Path("blends/c.csv").exists()
    assert blend("average", "--log", "elsewhere/my.jsonl", "-o", "blends/d.csv").exit_code == 0
    assert len(log_lines()) == 2 and log_lines("elsewhere/my.jsonl")[0]["outputs"][0]["path"] == "blends/d.csv"
    assert "--no-log: give one" in error_line(blend("average", "--log", "x.jsonl", "--no-log"))


def test_a_failure_while_writing_appends_no_record(competition, monkeypatch):
    from blender.io import writing

    assert blend("vote", "-o", "blends/first.csv").exit_code == 0

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(writing, "write_predictions_to", broken)
    result = blend("caruana", "--weights-out", "blends/w.json", "-o", "blends/out.csv")
    assert isinstance(result.exception, OSError)
    assert len(log_lines()) == 1
    assert not Path("blends/out.csv").exists() and not Path("blends/w.json").exists()


def test_an_unusable_log_is_refused_and_nothing_is_written(competition):
    Path("blends/log.jsonl").mkdir(parents=True)
    line = error_line(blend("average", "-o", "blends/out.csv"))
    assert line.startswith("Error: --log blends/log.jsonl: is a folder")
    assert not Path("blends/out.csv").exists() and not Path("blends/oof").exists()
    line = error_line(blend("average", "--memory", "1KB", "-o", "blends/out.csv"))  # written out of core
    assert line.startswith("Error: --log blends/log.jsonl: is a folder") and not Path("blends/out.csv").exists()
    line = error_line(blend("caruana", "--log", "blends/log.jsonl", "-o", "blends/out.csv"))
    assert "caruana:" not in line and line.startswith("Error: --log blends/log.jsonl: is a folder")


def test_a_cut_last_line_stays_a_line_of_its_own(competition):
    Path("blends").mkdir()
    Path("blends/log.jsonl").write_text('{"type": "blend", "time": "2024-0')  # a crash mid-write
    assert blend("vote", "-o", "blends/out.csv").exit_code == 0
    lines = Path("blends/log.jsonl").read_text().splitlines()
    assert len(lines) == 2 and json.loads(lines[1])["method"] == "vote"
    assert "blends/log.jsonl: line 1 is not a log record (not JSON" in error_line(blend("log"))


# ---------------------------------------------------------------------------- blend log FILE


def test_the_record_of_a_renamed_file_is_found_by_its_hash(competition):
    assert blend("vote", "-o", "blends/vote.csv").exit_code == 0
    assert blend("stack", "--folds", "3", "-o", "blends/stack.csv").exit_code == 0
    Path("blends/stack.csv").rename("final_submission.csv")
    result = blend("log", "final_submission.csv")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("final_submission.csv: written by line 2 of blends/log.jsonl")
    assert "as blends/stack.csv (renamed since)" in result.stdout
    assert "blend stack --folds 3 -o blends/stack.csv" in result.stdout
    assert "line 1" not in result.stdout and "warning" not in result.stderr
    assert result.stdout.count("unchanged") == len(TEST_FILES + OOF_FILES) + 1


def test_a_changed_or_missing_input_is_flagged(competition):
    assert blend("weights", "-o", "blends/w.csv").exit_code == 0
    oof = Path(OOF_FILES[1])
    oof.write_text(oof.read_text().replace(".", ".9", 1))
    Path(TEST_FILES[2]).unlink()
    result = blend("log", "blends/w.csv")
    assert result.exit_code == 0
    rows = {line.split()[0]: line for line in result.stdout.splitlines() if line.startswith(("submissions", "data"))}
    assert rows[str(oof)].endswith("CHANGED since") and rows[TEST_FILES[2]].endswith("MISSING")
    assert sum(line.endswith("unchanged") for line in rows.values()) == len(rows) - 2
    assert (
        f"warning: 2 inputs of line 1 changed or went missing on disk since ({TEST_FILES[2]}, {oof})" in result.stderr
    )


def test_an_unknown_or_absent_file_is_one_line(competition):
    assert blend("vote", "-o", "blends/vote.csv").exit_code == 0
    line = error_line(blend("log", TRUTH))
    assert line.startswith(
        f"Error: {TRUTH}: no record of blends/log.jsonl wrote these bytes (sha256 {sha256(TRUTH)[:12]}"
    )
    assert error_line(blend("log", "nothere.csv")) == (
        "Error: nothere.csv not found; name a file blend wrote (its record is found by its content)."
    )
    line = error_line(blend("log", "--log", "none.jsonl"))
    assert line.startswith("Error: none.jsonl: no log there;")


# ---------------------------------------------------------------------------- the table, --since, --grep, --json


def test_the_table_newest_first_with_since_grep_and_json(competition):
    assert blend("vote", "-o", "blends/vote.csv").exit_code == 0
    assert blend("select", "-o", "blends/select.csv").exit_code == 0
    result = blend("log")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["line", "time", "(UTC)", "method"]
    assert [line.split()[0] for line in lines[2:]] == ["2", "1"]
    (select,) = (line for line in lines if "blends/select.csv" in line)
    record = log_lines()[1]
    assert f"{record['cv_score']:.6f}" in select and f"{record['cv_se']:.6f}" in select

    assert [line.split()[0] for line in blend("log", "--grep", "SELECT").stdout.splitlines()[2:]] == ["2"]
    assert blend("log", "--since", "1h").stdout.count("blends/") == 2
    assert blend("log", "--since", "2999-01-01").stdout == ""
    assert "no records in blends/log.jsonl match (of 2)" in blend("log", "--since", "2999-01-01").stderr
    document = json.loads(blend("log", "--json").stdout)  # one JSON object, the schema of every command's --json
    assert document["command"] == "log" and document["log"] == "blends/log.jsonl"
    printed = document["records"]
    assert [(record["line"], record["method"]) for record in printed] == [(2, "select"), (1, "vote")]
    assert printed[0]["public_score"] is None and printed[0]["flags"] == []
    assert error_line(blend("log", "--since", "yesterday")).startswith("Error: --since yesterday: give a date")
    assert error_line(blend("log", "--grep", "(")).startswith("Error: --grep (: not a regular expression")


def test_since_reads_dates_times_and_ages():
    now = datetime(2024, 5, 8, 12, 30, tzinfo=timezone.utc)
    assert logbook.parse_since("30m", now=now) == now - timedelta(minutes=30)
    assert logbook.parse_since("2w", now=now) == now - timedelta(days=14)
    assert logbook.parse_since("2024-05-01T10:00", now=now) == datetime(2024, 5, 1, 10, tzinfo=timezone.utc)
    assert logbook.parse_since("2024-05-01T10:00+02:00", now=now) == datetime(2024, 5, 1, 8, tzinfo=timezone.utc)


def test_the_log_reads_with_pandas_and_the_readme_documents_every_key(competition):
    import pandas as pd

    assert blend("vote", "-o", "blends/vote.csv").exit_code == 0
    assert blend("hill-climb", "-o", "blends/hc.csv").exit_code == 0
    assert blend("log", "--lb", "blends/hc.csv", "0.31").exit_code == 0
    frame = pd.read_json("blends/log.jsonl", lines=True)
    assert frame.shape[0] == 3 and set(logbook.BLEND_KEYS) | set(logbook.LB_KEYS) <= set(frame.columns)
    assert frame["type"].tolist() == ["blend", "blend", "lb"]
    assert frame["public_score"].iloc[2] == 0.31 and math.isnan(frame["cv_score"].iloc[0])
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert 'pd.read_json("blends/log.jsonl", lines=True)' in readme
    for key in {*logbook.BLEND_KEYS, *logbook.LB_KEYS}:
        assert f"| `{key}` |" in readme, key


# ---------------------------------------------------------------------------- the per-row spread


def test_row_spread_by_hand():
    y = np.array([0, 1, 1, 0, 1])
    oof = np.array([[0.2], [0.9], [0.4], [0.5], [0.7]])
    losses = -np.log([0.8, 0.9, 0.4, 0.5, 0.7])
    none = np.zeros(2)
    assert logbook.row_spread(y, oof, metric="logloss", kind="binary", fold_scores=none, n_folds=2) == (
        pytest.approx(np.std(losses, ddof=1)),
        "rows",
    )
    # Accuracy: above 0.5 is class 1 (0.5 itself is class 0), so every row but the third is right.
    correct = np.array([1, 1, 0, 1, 1], dtype=float)
    assert logbook.row_spread(y, oof, metric="accuracy", kind="binary", fold_scores=none, n_folds=2)[
        0
    ] == pytest.approx(np.std(correct, ddof=1))
    target = np.array([1.0, 2.0, 4.0, 3.0])
    guess = np.array([[1.5], [2.0], [3.0], [3.5]])
    squared = (guess[:, 0] - target) ** 2
    rmse = math.sqrt(squared.mean())
    assert logbook.row_spread(target, guess, metric="rmse", kind="regression", fold_scores=none, n_folds=2)[
        0
    ] == pytest.approx(np.std(squared, ddof=1) / (2 * rmse))
    scores = np.array([0.7, 0.8, 0.9])
    assert logbook.row_spread(y, oof, metric="auc", kind="binary", fold_scores=scores, n_folds=3) == (
        pytest.approx(np.std(scores, ddof=1) * math.sqrt(5 / 3)),
        "folds",
    )


# ---------------------------------------------------------------------------- public scores and their noise

ROWS = 1000  # public rows
ROW_SD = 0.5  # so a public log loss has a standard error of 0.5 / sqrt(1000) = 0.0158, and gains under 0.0316 are noise


def made_up_log(path: Path, publics, cvs, *, metric="logloss", row_sd=ROW_SD) -> None:
    """Blend records and lb records for a series of submissions a day apart, and the files blends/vK.csv they name."""
    start = datetime(2024, 5, 1, tzinfo=timezone.utc)
    lines = []
    for k, (public, cv) in enumerate(zip(publics, cvs)):
        submitted = path.parent / f"v{k}.csv"
        submitted.parent.mkdir(parents=True, exist_ok=True)
        submitted.write_text(f"id,target\n1,0.{k}\n")
        digest = sha256(submitted)
        lines.append(
            logbook.blend_record(
                time=start + timedelta(days=k),
                command=["blend", "average"],
                cwd="/c",
                version="0.1.0",
                inputs=[],
                method="average",
                options={},
                seed=0,
                members=["a"],
                weights=None,
                metric=metric,
                cv={"score": cv, "se": 0.01, "folds": 5, "row_sd": row_sd, "row_sd_from": "rows"},
                nested=None,
                outputs=[{"path": f"blends/v{k}.csv", "sha256": digest}],
            )
        )
        lines.append(
            logbook.lb_record(
                time=start + timedelta(days=k, hours=1),
                path=f"blends/v{k}.csv",
                sha256=digest,
                public_score=public,
                public_rows=None,
            )
        )
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


def series(path: Path):
    return logbook.submissions(logbook.parse_lines(path.read_text().splitlines(), source=str(path)))


# Log loss, lower is better. Chasing: the public score improves by 0.005 a time, inside its noise
# (2 x 0.0158), while the CV score gets worse. Honest: both improve by 0.05, beyond the noise.
CHASING = dict(publics=[0.300, 0.295, 0.290, 0.285], cvs=[0.300, 0.304, 0.308, 0.312])
HONEST = dict(publics=[0.300, 0.250, 0.200, 0.150], cvs=[0.310, 0.260, 0.210, 0.160])


def test_the_noise_flag_goes_up_on_gains_within_the_noise_while_the_cv_falls(tmp_path):
    made_up_log(tmp_path / "log.jsonl", **CHASING)
    checks = logbook.noise_checks(series(tmp_path / "log.jsonl"), ROWS)
    assert [round(check.gain, 6) for check in checks] == [0.005, 0.005, 0.005]
    assert all(check.se == pytest.approx(ROW_SD / math.sqrt(ROWS)) for check in checks)
    assert [check.within_noise for check in checks] == [True, True, True]
    chase = logbook.chasing(series(tmp_path / "log.jsonl"))
    assert (chase.n, chase.public_trend, chase.cv_trend) == (4, 1.0, -1.0)


def test_the_noise_flag_stays_down_when_both_rise_beyond_the_noise(tmp_path):
    made_up_log(tmp_path / "log.jsonl", **HONEST)
    checks = logbook.noise_checks(series(tmp_path / "log.jsonl"), ROWS)
    assert [round(check.gain, 6) for check in checks] == [0.05, 0.05, 0.05]
    assert not any(check.within_noise for check in checks)
    assert logbook.chasing(series(tmp_path / "log.jsonl")) is None


def test_blend_log_prints_the_public_checks(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    made_up_log(Path("blends/log.jsonl"), **CHASING)
    result = blend("log", "--public-rows", str(ROWS))
    assert result.exit_code == 0
    flagged = [line.split()[0] for line in result.stdout.splitlines() if line.endswith("public gain within noise")]
    assert flagged == ["7", "5", "3"]  # the blend records of the 2nd, 3rd and 4th submissions, newest first
    latest = next(line for line in result.stdout.splitlines() if line.split()[0] == "7")
    assert "0.312000" in latest and "0.285000" in latest  # CV beside public
    assert (
        "blends/v3.csv (made by line 7): the public logloss gain of +0.005 over the submission before "
        "is within the noise "
        "of a public score (2 × 0.016 on 1,000 public rows)"
    ) in result.stderr
    assert "public noise on 1,000 rows from the CV's per-row spread of logloss, row_sd/sqrt(N)" in result.stderr
    assert (
        "warning: over the last 4 submissions the public score rose (rank correlation with time +1.00) while the "
        "CV score did not (-1.00)"
    ) in result.stderr

    made_up_log(Path("blends/log.jsonl"), **HONEST)
    result = blend("log", "--public-rows", str(ROWS))
    assert "within noise" not in result.stdout + result.stderr and "warning" not in result.stderr

    without = blend("log")
    assert "give --public-rows N (the rows of the public split) to check each public gain" in without.stderr


def test_accuracy_noise_is_a_binomial_bound(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # Accuracy, higher is better: 0.80 then 0.81 on 1,000 rows, where sqrt(0.81 * 0.19 / 1000) = 0.0124.
    made_up_log(
        Path("blends/log.jsonl"), publics=[0.80, 0.81, 0.90], cvs=[0.8, 0.8, 0.9], metric="accuracy", row_sd=None
    )
    checks = logbook.noise_checks(series(Path("blends/log.jsonl")), ROWS)
    assert checks[0].se == pytest.approx(math.sqrt(0.81 * 0.19 / ROWS)) and checks[0].within_noise
    assert checks[1].se == pytest.approx(math.sqrt(0.90 * 0.10 / ROWS)) and not checks[1].within_noise
    result = blend("log", "--public-rows", str(ROWS))
    assert "from a binomial bound for accuracy, sqrt(p(1-p)/N)" in result.stderr


def test_lb_records_a_public_score_and_checks_it(competition):
    assert blend("weights", "-o", "blends/first.csv").exit_code == 0
    assert blend("stack", "--folds", "3", "-o", "blends/second.csv").exit_code == 0
    Path("blends/second.csv").rename("upload.csv")
    result = blend("log", "--lb", "blends/first.csv", "0.5", "--public-rows", "100")
    assert result.exit_code == 0, result.output
    assert result.stderr.startswith(
        "recorded public score 0.5 for blends/first.csv in blends/log.jsonl: made by line 1"
    )
    result = blend("log", "--lb", "upload.csv", "0.49")  # renamed: found by its hash; the public rows are remembered
    assert result.exit_code == 0 and "made by line 2, blend stack --folds 3 -o blends/second.csv" in result.stderr
    lb = log_lines()[-1]
    assert lb == {
        "type": "lb",
        "time": lb["time"],
        "path": "upload.csv",
        "sha256": sha256("upload.csv"),
        "public_score": 0.49,
        "public_rows": None,
    }
    se = log_lines()[1]["row_sd"] / math.sqrt(100)
    flagged = "upload.csv (made by line 2): the public logloss gain of +0.01 over the submission before is within"
    assert (flagged in result.stderr) == (0.01 < 2 * se)
    table = blend("log").stdout.splitlines()
    assert "0.490000" in table[2] and "0.500000" in table[3]


# ---------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("score", "fragment"),
    [
        ("abc", "'abc' is not a score; give the number the public leaderboard showed"),
        ("nan", "'nan' is not a score"),
        ("inf", "'inf' is not a score"),
        ("-0.2", "logloss is never negative"),
    ],
)
def test_a_bad_lb_score_is_one_line_and_appends_nothing(competition, score, fragment):
    assert blend("weights", "-o", "blends/w.csv").exit_code == 0
    before = Path("blends/log.jsonl").read_bytes()
    line = error_line(blend("log", "--lb", "blends/w.csv", score))
    assert line.startswith(f"Error: --lb blends/w.csv {score}: ") and fragment in line
    assert Path("blends/log.jsonl").read_bytes() == before


def test_an_accuracy_score_outside_0_1_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    made_up_log(Path("blends/log.jsonl"), publics=[0.8], cvs=[0.8], metric="accuracy")
    assert "accuracy lies in [0, 1]" in error_line(blend("log", "--lb", "blends/v0.csv", "81.5"))
    assert blend("log", "--lb", "blends/v0.csv", "0.815").exit_code == 0


def test_lb_of_an_unknown_or_absent_file_is_one_line(competition):
    assert blend("vote", "-o", "blends/vote.csv").exit_code == 0
    before = Path("blends/log.jsonl").read_bytes()
    assert f"Error: {TRUTH}: no record of blends/log.jsonl wrote these bytes" in error_line(
        blend("log", "--lb", TRUTH, "0.3")
    )
    assert error_line(blend("log", "--lb", "gone.csv", "0.3")) == (
        "Error: --lb gone.csv 0.3: gone.csv not found; name the file you submitted."
    )
    assert "--public-rows 0: give the number of rows" in error_line(blend("log", "--public-rows", "0"))
    assert Path("blends/log.jsonl").read_bytes() == before


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ('{"type": "blend", "time": ', "not JSON: Expecting value at column 26"),
        ("[1, 2]", "a JSON list, not an object"),
        ('{"type": "other", "time": "2024-05-01"}', "type 'other', expected 'blend' or 'lb'"),
        ('{"type": "lb", "time": "2024-05-01", "sha256": "ab"}', "no 'public_score'"),
        (
            '{"type": "lb", "time": "yesterday", "sha256": "ab", "public_score": 0.3}',
            "'time' 'yesterday' is not an ISO 8601 time",
        ),
        (
            '{"type": "blend", "time": "2024-05-01", "command": [], "inputs": [], "method": "x", "outputs": []}',
            "'outputs' is empty",
        ),
    ],
)
def test_a_corrupt_line_is_named_by_its_number_and_never_dropped(competition, line, reason):
    assert blend("vote", "-o", "blends/vote.csv").exit_code == 0
    with open("blends/log.jsonl", "a") as handle:
        handle.write(line + "\n")
    assert blend("average", "-o", "blends/average.csv").exit_code == 0  # writing commands only append
    expected = f"Error: blends/log.jsonl: line 2 is not a log record ({reason}); fix or delete that line."
    assert error_line(blend("log")) == expected
    assert error_line(blend("log", "blends/vote.csv")) == expected
    before = Path("blends/log.jsonl").read_bytes()
    assert error_line(blend("log", "--lb", "blends/vote.csv", "0.3")) == expected
    assert Path("blends/log.jsonl").read_bytes() == before


def test_a_learning_record_keeps_the_slice_estimate_it_printed(competition):
    assert blend("stack", "--folds", "3", "-o", "blends/stack.csv").exit_code == 0
    result = blend("caruana", "--folds", "3", "-o", "blends/caruana.csv")
    assert result.exit_code == 0, result.output
    record = log_lines()[-1]
    printed = re.search(r"on the holdout slice \(fold (\d+), \d+ rows.*?: ([0-9.]+) ± ([0-9.]+)", result.stderr)
    assert (record["slice_fold"], f"{record['slice_score']:.6f}", f"{record['slice_se']:.6f}") == (
        int(printed.group(1)),
        printed.group(2),
        printed.group(3),
    )
    shown = blend("log", "blends/caruana.csv", "--log", "blends/log.jsonl")
    assert f"holdout slice (fold {printed.group(1)}) {printed.group(2)} ± {printed.group(3)}" in shown.output


# ---------------------------------------------------------------------------- the public score against the CV

# Log loss: public = CV + 0.002 (a stable gap), but for the fourth submission, whose public split was lucky.
LINE_CVS = [0.310, 0.305, 0.300, 0.296, 0.292, 0.288]
LINE_PUBLICS = [0.312, 0.307, 0.302, 0.260, 0.294, 0.290]


def test_the_cv_public_line_is_fitted_robustly_and_flags_the_planted_outlier(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    made_up_log(Path("blends/log.jsonl"), publics=LINE_PUBLICS, cvs=LINE_CVS)
    (line,) = logbook.public_lines(
        logbook.parse_lines(Path("blends/log.jsonl").read_text().splitlines(), source="log"), ROWS
    ).values()
    assert line.slope == pytest.approx(1.0) and line.expected(0.300) == pytest.approx(0.302)
    assert [submission.lb["path"] for submission, _ in line.outside()] == ["blends/v3.csv"]
    result = blend("log", "--public-rows", str(ROWS))
    assert result.exit_code == 0, result.output
    assert "CV-public line (logloss, Theil-Sen over 6 submissions): public = +0.002 + 1 × CV; band ± " in result.stderr
    assert (
        "blends/v3.csv (made by line 7): public 0.26 is outside the band: 0.298 expected for CV 0.296 (-0.038)"
        in result.stderr
    )
    flagged = [line.split()[0] for line in result.stdout.splitlines() if line.endswith("outside the CV-public band")]
    assert flagged == ["7"]
    assert result.stdout.splitlines()[0].split()[-2:] == ["expected", "flag"]


def test_with_too_few_points_the_line_says_how_many_more_it_needs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    made_up_log(Path("blends/log.jsonl"), publics=LINE_PUBLICS[:3], cvs=LINE_CVS[:3])
    result = blend("log")
    assert (
        "CV-public line (logloss): 3 submissions with a CV and a public score; 2 more needed to fit it" in result.stderr
    )
    assert "expected" not in result.stdout.splitlines()[0]


def final_log(path: Path, publics: dict | None = None) -> None:
    """Five blends of one competition: A (the best nested score), B a near-copy of A (second best), C unlike A,
    D another near-copy, E unlike all; with ``publics``, an lb record for each blend named there."""
    rng = np.random.default_rng(27)
    base = rng.random(200)
    values = {
        "a": base,
        "b": np.clip(base + rng.normal(0, 0.01, 200), 0, 1),
        "c": rng.random(200),
        "d": np.clip(base + rng.normal(0, 0.01, 200), 0, 1),
        "e": rng.random(200),
    }
    nested = {"a": 0.250, "b": 0.251, "c": 0.260, "d": 0.270, "e": 0.280}
    start = datetime(2024, 5, 1, tzinfo=timezone.utc)
    lines = []
    for k, name in enumerate(values):
        output = path.parent / f"{name}.csv"
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text("id,target\n" + "".join(f"{i},{float(v)!r}\n" for i, v in enumerate(values[name])))
        lines.append(
            logbook.blend_record(
                time=start + timedelta(days=k),
                command=["blend", "caruana"],
                cwd=str(path.parent.parent),
                version="0.1.0",
                inputs=[],
                method="caruana",
                options={},
                seed=0,
                members=["a"],
                weights=None,
                metric="logloss",
                cv={"score": nested[name] - 0.01, "se": 0.01, "folds": 5, "row_sd": 0.5, "row_sd_from": "rows"},
                nested={"score": nested[name], "se": 0.01},
                outputs=[{"path": f"blends/{name}.csv", "sha256": sha256(output)}],
            )
        )
        if publics and name in publics:
            lines.append(
                logbook.lb_record(
                    time=start + timedelta(days=k, hours=1),
                    path=f"blends/{name}.csv",
                    sha256=sha256(output),
                    public_score=publics[name],
                    public_rows=None,
                )
            )
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))


def test_final_2_picks_the_best_honest_score_and_a_hedge_that_is_not_a_near_copy(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    final_log(Path("blends/log.jsonl"))
    result = blend("log", "--final", "2")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("final 1: blends/a.csv (line 1, blend caruana): nested logloss 0.250000, CV 0.240000")
    assert lines[2].startswith("final 2: blends/c.csv (line 3, blend caruana): nested logloss 0.260000")
    assert "correlation with the first" in lines[2] and "below 0.98" in lines[3]
    assert "expected private scores need the CV-public line (logloss)" in result.stderr


def test_final_gives_each_pick_its_public_score_and_the_private_score_the_line_expects(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # Public = nested estimate - 0.005 on all five: the line expects 0.245 for A's 0.250.
    final_log(Path("blends/log.jsonl"), publics={"a": 0.245, "b": 0.246, "c": 0.255, "d": 0.265, "e": 0.275})
    result = blend("log", "--final", "2")
    assert result.exit_code == 0, result.output
    first, _, second, _ = result.stdout.splitlines()
    assert first.endswith("nested logloss 0.250000, CV 0.240000, public 0.245000, expected private 0.245000")
    assert second.startswith("final 2: blends/c.csv") and "public 0.255000, expected private 0.255000" in second


def test_final_says_when_an_output_is_gone(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    final_log(Path("blends/log.jsonl"))
    Path("blends/c.csv").unlink()
    result = blend("log", "--final", "2")
    assert result.exit_code == 0, result.output
    assert "blends/c.csv (line 3) is gone, so its test predictions cannot be compared" in result.stderr
    assert [line.split()[2] for line in result.stdout.splitlines() if line.startswith("final")] == [
        "blends/a.csv",
        "blends/e.csv",
    ]
    assert blend("log", "--final", "0").exit_code == 1
