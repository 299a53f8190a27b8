"""`--json` on every command: one JSON object on stdout that follows the README's schema, and one shape for an
error (`{"error": {"message", "file", "row"}}`, exit 1); `blend auto --strict` exits 3 when no blend wins."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from blender.cli import app

# What every result of a kind holds (README, "--json").
BLEND_KEYS = {"command", "method", "metric", "score", "best_single", "weights", "step", "inputs", "outputs"}
SCHEMA = {
    "vote": {"command", "method", "inputs", "weights", "outputs"},
    "average": {"command", "method", "inputs", "weights", "outputs"},
    "rank-average": {"command", "method", "inputs", "weights", "outputs"},
    "median": {"command", "method", "inputs", "weights", "outputs"},
    "corr": {"command", "method", "inputs", "matrix"},
    "check": {"command", "file", "sample", "rows", "matches", "notes"},
    "score": {"command", "metric", "inputs", "best_single", "folds", "repeats", "leaderboard"},
    "doctor": {"command", "metric", "inputs", "findings", "skipped", "to_fix"},
    "log": {"command", "log", "records"},
    "select": BLEND_KEYS,
    "caruana": BLEND_KEYS,
    "hill-climb": BLEND_KEYS,
    "weights": BLEND_KEYS,
    "stack": BLEND_KEYS,
    "holdout": BLEND_KEYS,
    "auto": BLEND_KEYS | {"pick", "reason", "estimate", "levels", "leaderboard", "warnings"},
}
ARGUMENTS = {
    "check": ["sample.csv", "submissions/a.csv"],
    "holdout": ["--holdout-dir", "submissions/holdout"],
    "auto": ["--repeats", "1", "--max-level", "1"],
    "doctor": [],
    "log": ["--log", "blends/log.jsonl"],
}
BEFORE = {"log": ["average"]}  # a record for blend log to show


@pytest.fixture
def folder(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    n, n_test = 120, 30
    y = rng.integers(0, 2, n + n_test)
    for sub in ("submissions/oof", "submissions/holdout", "data"):
        (tmp_path / sub).mkdir(parents=True, exist_ok=True)
    for name, noise in (("a", 0.2), ("b", 0.3), ("c", 0.35), ("d", 0.4)):
        p = np.clip(0.5 + (y - 0.5) * 0.5 + rng.normal(0, noise, n + n_test), 0.01, 0.99)
        pd.DataFrame({"id": range(n), "target": p[:n]}).to_csv(tmp_path / f"submissions/oof/{name}.csv", index=False)
        pd.DataFrame({"id": range(40), "target": p[:40]}).to_csv(
            tmp_path / f"submissions/holdout/{name}.csv", index=False
        )
        pd.DataFrame({"id": range(n, n + n_test), "target": p[n:]}).to_csv(
            tmp_path / f"submissions/{name}.csv", index=False
        )
    pd.DataFrame({"id": range(n), "target": y[:n]}).to_csv(tmp_path / "data/train_labels.csv", index=False)
    pd.DataFrame({"id": range(n, n + n_test), "target": 0.5}).to_csv(tmp_path / "sample.csv", index=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_every_command_is_covered():
    names = {command.name for command in app.registered_commands}
    assert names == set(SCHEMA)


@pytest.mark.parametrize("command", sorted(SCHEMA))
def test_json_of_every_command_parses_and_follows_the_schema(folder, command):
    if command in BEFORE:
        assert CliRunner().invoke(app, BEFORE[command]).exit_code == 0
    result = CliRunner().invoke(app, [command, *ARGUMENTS.get(command, []), "--json"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)  # stdout holds the JSON alone: tables go to stderr
    assert document["command"] == command
    assert SCHEMA[command] <= set(document), SCHEMA[command] - set(document)
    if "score" in SCHEMA[command] and command not in ("score",):
        assert set(document["score"]) == {"mean", "se"} and {"name", "mean", "se"} <= set(document["best_single"])
    for path in document.get("outputs", []):
        assert (folder / path).exists()
    json.dumps(document, allow_nan=False)  # NaN is written as null


@pytest.mark.parametrize("command", sorted(set(SCHEMA) - {"check", "log"}))
def test_a_users_mistake_is_one_json_error_and_exit_1(folder, command):
    result = CliRunner().invoke(app, [command, "submissions/missing.csv", "--json"])
    assert result.exit_code == 1, result.output
    document = json.loads(result.stdout)
    assert set(document) == {"error"} and set(document["error"]) == {"message", "file", "row"}
    assert document["error"]["file"] == "submissions/missing.csv"
    assert result.stderr.startswith("Error: ")


def test_a_bad_cell_names_the_file_and_the_row(folder):
    (folder / "submissions" / "b.csv").write_text(
        "id,target\n" + "".join(f"{i},{'nan' if i == 125 else 0.5}\n" for i in range(120, 150))
    )
    result = CliRunner().invoke(app, ["average", "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["error"] == {
        "message": result.stderr.removeprefix("Error: ").strip(),
        "file": "submissions/b.csv",
        "row": "125",
    }


def test_auto_strict_exits_3_when_the_best_single_file_is_kept(folder):
    # One file carries all the signal; the others are noise: no blend can beat it beyond noise.
    rng = np.random.default_rng(1)
    for name in ("b", "c", "d"):
        for path, rows in ((f"submissions/oof/{name}.csv", range(120)), (f"submissions/{name}.csv", range(120, 150))):
            pd.DataFrame({"id": rows, "target": rng.random(len(rows))}).to_csv(path, index=False)
    result = CliRunner().invoke(
        app, ["auto", "--strict", "--metric", "auc", "--repeats", "1", "--max-level", "1", "--json"]
    )
    assert result.exit_code == 3, result.output
    document = json.loads(result.stdout)
    assert document["pick"]["type"] == "model" and document["exit_status"] == 3
    assert (folder / "blends" / "auto.csv").exists()  # the best single file is still written


def test_the_log_keeps_each_option_under_the_name_the_user_typed(folder):
    for args in (["average", "--kind", "geometric"], ["holdout", "--holdout-dir", "submissions/holdout"]):
        assert CliRunner().invoke(app, args).exit_code == 0
    records = [json.loads(line) for line in (folder / "blends/log.jsonl").read_text().splitlines()]
    average, holdout = (record["options"] for record in records)
    assert average["kind"] == "geometric" and "mean" not in average
    assert holdout["holdout_dir"] == "submissions/holdout" and "oof_dir" not in holdout
    assert average["id_column"] is None and average["seed"] == 0  # parameter names where the flag is their short form


def test_auto_gives_the_best_single_files_score_on_all_oof_rows(folder):
    result = CliRunner().invoke(app, ["auto", "--repeats", "1", "--max-level", "1", "--json"])
    document = json.loads(result.stdout)
    single = document["best_single"]
    row = next(row for row in document["leaderboard"] if row["name"] == single["name"])
    assert single["oof"] == row["oof"] and single["mean"] == row["mean"]


def test_a_seed_out_of_range_is_a_usage_error_not_a_traceback(folder):
    result = CliRunner().invoke(app, ["stack", "--seed", "-1"])
    assert result.exit_code == 2 and "--seed" in result.output, result.output
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit), result.exception
