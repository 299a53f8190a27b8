"""Levels on real data: does a second or third level beat the best single file, and how optimistic is same-fold CV?

For each dataset and split seed of ``benchmarks/real_datasets.py`` (the folders of
``bench_real_data.py``, with their ``folds.csv``), everything runs through the code the
commands run (:func:`blender.entries.run_entry`, :func:`blender.picking.run_auto`) on the
folder's shared folds:

- level 2: stackers over the level-1 OOF files (``stack --meta logreg / ridge / et``), each
  with its own cross-fitted OOF predictions (``--oof-out``); the stacker with the best CV
  score is "the best level-2 stacker", chosen as a user would, by CV;
- level 3: hill climbing over the three stackers' OOF files;
- ``auto`` with ``--max-level 1`` and ``--max-level 2``.

Each is scored on the test rows against the best single file by OOF score (never the file
best on the test rows). For each level, the optimism of the same-fold CV score is its CV
score minus its test score (signed so that positive is flattering), beside the optimism of
the slice estimate (the score on the fold no blend level was fitted on). Level 1 (the best
file by OOF, its OOF score as its CV) is the baseline: its own optimism is the test rows' luck,
so each entry's *excess* optimism over it is what stacking levels add. Per dataset, in its
metric's units (positive is better for gains, more flattering for optimism), mean over seeds ±
their standard error; pooled, how often each entry beats the best file and its median gain in %
of the best file's test score.

    .venv/bin/python benchmarks/bench_levels.py
    .venv/bin/python benchmarks/bench_levels.py --datasets fair,diabetes --seeds 0,1
    .venv/bin/python benchmarks/bench_real_data.py --levels      # the same, from the real-data benchmark

Results go to ``benchmarks/_data/levels.csv`` (one row per dataset x seed x entry),
``levels_per_dataset.csv`` and ``levels_summary.csv``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd

sys.path[:0] = [str(Path(__file__).resolve().parent.parent), str(Path(__file__).resolve().parent)]
import real_datasets  # noqa: E402

ROOT = Path(__file__).resolve().parent / "_data"
DATASETS = ("fair", "randhie", "star98", "diabetes", "breast_cancer", "digits", "wine", "autompg")
SEEDS = (0, 1, 2)
STACKERS = ("logreg", "ridge", "et")


def _set(values, kind, names):
    return SimpleNamespace(
        values=np.asarray(values),
        kind=kind,
        names=list(names),
        n_models=len(names),
        n_samples=np.asarray(values).shape[1],
    )


def _read(folder: Path, meta: dict):
    """The folder's level-1 OOF and test predictions, the truth of both, and the shared folds."""
    from blender import io

    work = folder / "work"
    learning = io.read_learning(
        sorted((work / "submissions").glob("*.csv")),
        train_dir=work / "submissions" / "oof",
        truth=work / "data" / "train_labels.csv",
        task=meta["kind"],
        command_name="bench",
    )
    folds = io.read_folds(folder / "folds.csv", learning.train.ids)
    test_truth = io.read_truth(folder / "test_truth.csv", learning.test.ids, as_text=meta["kind"] != "regression")
    if meta["kind"] != "regression":
        classes = learning.train.classes if meta["kind"] == "multiclass" else None
        test_truth = _codes(test_truth, learning, classes)
    return learning, folds, test_truth


def _codes(labels, learning, classes):
    """Test labels as the class codes ``learning.y`` uses."""
    if learning.target is not None:  # binary: the positive class is 1
        return (np.asarray(labels).astype(str) == str(learning.target.positive)).astype(int)
    lookup = {str(label): k for k, label in enumerate(learning.train.columns)}
    return np.array([lookup[str(label)] for label in labels])


def study(folder: Path, meta: dict, seed: int) -> list[dict]:
    """Every level's entries on one folder: CV, slice and test scores against the best single file by OOF."""
    from blender import layout, metrics
    from blender.entries import configured, run_entry
    from blender.picking import run_auto

    learning, folds, y_test = _read(folder, meta)
    train, test, y = learning.train, learning.test, learning.y
    kind = train.kind
    metric = metrics.check_metric(None, kind)
    sign = 1.0 if metrics.greater_is_better(metric) else -1.0
    scores = layout.model_scores(train.values, y, metric=metric, kind=kind)
    best = layout.best_model(scores, metric)
    best_test = layout.score(y_test, test.values[best], metric=metric, kind=kind)
    rows = []

    def record(entry, level, cv, slice_score, blend, seconds):
        test_score = layout.score(y_test, blend, metric=metric, kind=kind)
        rows.append(
            {
                "dataset": meta["dataset"],
                "seed": seed,
                "kind": kind,
                "metric": metric,
                "entry": entry,
                "level": level,
                "cv": cv,
                "slice": slice_score,
                "test": test_score,
                "best_single": train.names[best],
                "best_single_test": best_test,
                "gain": sign * (test_score - best_test),
                "cv_optimism": sign * (cv - test_score) if np.isfinite(cv) else np.nan,
                "slice_optimism": sign * (slice_score - test_score) if np.isfinite(slice_score) else np.nan,
                "seconds": seconds,
            }
        )

    # Level 1, the baseline: the best file by OOF, its OOF score as its CV, its score on the slice rows.
    slice_rows = folds == folds.max()
    record(
        "L1 best file by OOF",
        1,
        float(scores[best]),
        layout.score(y[slice_rows], train.values[best][slice_rows], metric=metric, kind=kind),
        test.values[best],
        0.0,
    )

    level_two = {}
    for meta_learner in STACKERS:
        started = time.perf_counter()
        run = run_entry(
            configured("stack-logreg", as_name=f"stack-{meta_learner}", meta=meta_learner),
            train,
            y,
            test,
            metric=metric,
            folds=folds,
            random_state=seed,
        )
        level_two[run.method.name] = run
        record(run.method.name, 2, run.honest.mean, run.slice.mean, run.test_blend, time.perf_counter() - started)
    names = list(level_two)
    second_train = _set([level_two[n].oof for n in names], kind, names)
    second_test = _set([level_two[n].test_blend for n in names], kind, names)
    started = time.perf_counter()
    third = run_entry(
        configured("hill-climb"), second_train, y, second_test, metric=metric, folds=folds, random_state=seed
    )
    record(
        "L3 hill-climb over the stackers",
        3,
        third.honest.mean,
        third.slice.mean,
        third.test_blend,
        time.perf_counter() - started,
    )
    for max_level in (1, 2):
        started = time.perf_counter()
        result = run_auto(train, y, test, metric=metric, folds=folds, repeats=1, random_state=seed, max_level=max_level)
        record(
            f"auto --max-level {max_level}",
            result.level,
            result.estimate.mean,
            result.slice.mean,
            result.test_blend,
            time.perf_counter() - started,
        )
        rows[-1]["picked"] = result.pick.name
    best_stacker = (max if sign > 0 else min)(names, key=lambda n: level_two[n].honest.mean)
    level_one = rows[0]
    for row in rows:
        row["best_stacker_by_cv"] = row["entry"] == best_stacker
        # Beyond level 1's own optimism, which is the test rows' luck: what the levels add.
        row["cv_excess"] = row["cv_optimism"] - level_one["cv_optimism"]
        row["slice_excess"] = row["slice_optimism"] - level_one["slice_optimism"]
    return rows


GROUPS = ("best L2 stacker (by CV)", "L3 hill-climb over the stackers", "auto --max-level 1", "auto --max-level 2")
SHORT = {
    "best L2 stacker (by CV)": "L2",
    "L3 hill-climb over the stackers": "L3",
    "auto --max-level 1": "auto 1",
    "auto --max-level 2": "auto 2",
}


def _grouped(results: pd.DataFrame) -> pd.DataFrame:
    """The rows of the reported groups: the best stacker by CV stands for level 2."""
    frame = results.copy()
    frame["group"] = frame["entry"]
    frame.loc[frame["best_stacker_by_cv"], "group"] = GROUPS[0]
    return frame[frame["group"].isin(GROUPS)]


def _se(values) -> float:
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    return float(np.std(values, ddof=1) / np.sqrt(len(values))) if len(values) > 1 else float("nan")


def per_dataset(results: pd.DataFrame) -> pd.DataFrame:
    """One row per dataset, in its metric's units: each group's gain over the best file by OOF on the
    test rows (mean ± se over seeds), and the excess optimism of same-fold CV and of the slice at L2, L3."""
    frame = _grouped(results)
    rows = []
    for dataset, part in frame.groupby("dataset", sort=False):
        row = {"dataset": dataset, "metric": part["metric"].iloc[0]}
        for group in GROUPS:
            mine = part[part["group"] == group]
            row[f"{SHORT[group]} gain"] = f"{mine['gain'].mean():+.4f} ± {_se(mine['gain']):.4f}"
        for group in GROUPS[:2]:
            mine = part[part["group"] == group]
            row[f"{SHORT[group]} CV excess"] = f"{mine['cv_excess'].mean():+.4f}"
            row[f"{SHORT[group]} slice excess"] = f"{mine['slice_excess'].mean():+.4f}"
        rows.append(row)
    return pd.DataFrame(rows)


def summarise(results: pd.DataFrame) -> pd.DataFrame:
    """Pooled over dataset x seed: how often each group beats the best file, and by how much relative to
    it (median, in % of the best file's test score: datasets of other metrics and scales pool this way)."""
    frame = _grouped(results)
    rows = []
    for group in GROUPS:
        part = frame[frame["group"] == group]
        relative = 100 * part["gain"] / part["best_single_test"].abs()
        rows.append(
            {
                "entry": group,
                "runs": len(part),
                "beats best file": f"{(part['gain'] > 0).sum()}/{len(part)}",
                "median gain %": relative.median(),
                "CV more flattering than level 1": f"{(part['cv_excess'] > 0).sum()}/{len(part)}",
                "slice more flattering than level 1": f"{(part['slice_excess'] > 0).sum()}/{len(part)}",
            }
        )
    return pd.DataFrame(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", default=",".join(DATASETS))
    parser.add_argument("--seeds", default=",".join(map(str, SEEDS)))
    args = parser.parse_args(argv)
    rows = []
    for name in args.datasets.split(","):
        for seed in map(int, args.seeds.split(",")):
            meta = real_datasets.cached(name, seed, ROOT, progress=lambda line: print(line, file=sys.stderr))
            started = time.perf_counter()
            rows += study(ROOT / name / f"seed{seed}", meta, seed)
            print(f"{name} seed {seed}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
    results = pd.DataFrame(rows)
    ROOT.mkdir(parents=True, exist_ok=True)
    results.to_csv(ROOT / "levels.csv", index=False)
    table = per_dataset(results)
    table.to_csv(ROOT / "levels_per_dataset.csv", index=False)
    print(table.to_string(index=False))
    summary = summarise(results)
    summary.to_csv(ROOT / "levels_summary.csv", index=False)
    print()
    print(summary.round(2).to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
