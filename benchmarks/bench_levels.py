"""Levels on real data: does a second or third level beat the best single file, and how optimistic is same-fold CV?

For each dataset and split seed of ``benchmarks/real_datasets.py`` (the folders of
``bench_real_data.py``, with their ``folds.csv``), everything runs through the code the
commands run (:func:`blender.entries.run_entry`, :func:`blender.auto.run_auto`) on the
folder's shared folds:

- level 2: stackers over the level-1 OOF files (``stack --meta logreg / ridge / et``), each
  with its own cross-fitted OOF predictions (``--oof-out``); the stacker with the best CV
  score is "the best level-2 stacker", chosen as a user would, by CV;
- level 3: hill climbing over the three stackers' OOF files;
- ``auto`` with ``--max-level 1`` and ``--max-level 2``.

Each is scored on the test rows against the best single file by OOF score (never the file
best on the test rows). For each level, the optimism of the same-fold CV score is its CV
score minus its test score (signed so that positive is flattering), beside the optimism of
the slice estimate (the score on the fold no blend level was fitted on), so the two can be
compared on the same rows. Gains are in the metric's units, positive is better, mean over
seeds ± their standard error.

    .venv/bin/python benchmarks/bench_levels.py
    .venv/bin/python benchmarks/bench_levels.py --datasets fair,diabetes --seeds 0,1
    .venv/bin/python benchmarks/bench_real_data.py --levels      # the same, from the real-data benchmark

Results go to ``benchmarks/_data/levels.csv`` (one row per dataset x seed x entry) and
``levels_summary.csv``.
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
    return SimpleNamespace(values=np.asarray(values), kind=kind, names=list(names), n_models=len(names),
                           n_samples=np.asarray(values).shape[1])


def _read(folder: Path, meta: dict):
    """The folder's level-1 OOF and test predictions, the truth of both, and the shared folds."""
    from blender import io

    work = folder / "work"
    learning = io.read_learning(sorted((work / "submissions").glob("*.csv")), train_dir=work / "submissions" / "oof",
                                truth=work / "data" / "train_labels.csv", task=meta["kind"], command_name="bench")
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
    from blender.auto import run_auto
    from blender.entries import configured, run_entry

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
        rows.append({"dataset": meta["dataset"], "seed": seed, "kind": kind, "metric": metric, "entry": entry,
                     "level": level, "cv": cv, "slice": slice_score, "test": test_score,
                     "best_single": train.names[best], "best_single_test": best_test,
                     "gain": sign * (test_score - best_test),
                     "cv_optimism": sign * (cv - test_score) if np.isfinite(cv) else np.nan,
                     "slice_optimism": sign * (slice_score - test_score) if np.isfinite(slice_score) else np.nan,
                     "seconds": seconds})

    level_two = {}
    for meta_learner in STACKERS:
        started = time.perf_counter()
        run = run_entry(configured("stack-logreg", as_name=f"stack-{meta_learner}", meta=meta_learner), train, y, test,
                        metric=metric, folds=folds, random_state=seed)
        level_two[run.method.name] = run
        record(run.method.name, 2, run.honest.mean, run.slice.mean, run.test_blend, time.perf_counter() - started)
    names = list(level_two)
    second_train = _set([level_two[n].oof for n in names], kind, names)
    second_test = _set([level_two[n].test_blend for n in names], kind, names)
    started = time.perf_counter()
    third = run_entry(configured("hill-climb"), second_train, y, second_test, metric=metric, folds=folds,
                      random_state=seed)
    record("L3 hill-climb over the stackers", 3, third.honest.mean, third.slice.mean, third.test_blend,
           time.perf_counter() - started)
    for max_level in (1, 2):
        started = time.perf_counter()
        result = run_auto(train, y, test, metric=metric, folds=folds, repeats=1, random_state=seed, max_level=max_level)
        record(f"auto --max-level {max_level}", result.level, result.estimate.mean, result.slice.mean,
               result.test_blend, time.perf_counter() - started)
        rows[-1]["picked"] = result.pick.name
    best_stacker = (max if sign > 0 else min)(names, key=lambda n: level_two[n].honest.mean)
    for row in rows:
        row["best_stacker_by_cv"] = row["entry"] == best_stacker
    return rows


def summarise(results: pd.DataFrame) -> pd.DataFrame:
    """Per entry group: mean gain over the best single file, its se over dataset x seed, and the optimisms."""
    frame = results.copy()
    frame["group"] = frame["entry"]
    frame.loc[frame["best_stacker_by_cv"], "group"] = "best L2 stacker (by CV)"
    frame = frame[~frame["entry"].str.startswith("stack-") | frame["best_stacker_by_cv"]]

    def se(values):
        values = np.asarray(values, dtype=float)
        values = values[np.isfinite(values)]
        return float(np.std(values, ddof=1) / np.sqrt(len(values))) if len(values) > 1 else float("nan")

    rows = []
    for group, part in frame.groupby("group", sort=False):
        beats = (part["gain"] > 0).sum()
        rows.append({"entry": group, "runs": len(part), "beats best file": f"{beats}/{len(part)}",
                     "gain": part["gain"].mean(), "gain se": se(part["gain"]),
                     "CV optimism": part["cv_optimism"].mean(), "CV optimism se": se(part["cv_optimism"]),
                     "slice optimism": part["slice_optimism"].mean(), "slice optimism se": se(part["slice_optimism"])})
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
    per_dataset = results.groupby(["dataset", "entry"], sort=False)[["gain", "cv_optimism", "slice_optimism"]].mean()
    print(per_dataset.round(5).to_string())
    summary = summarise(results)
    summary.to_csv(ROOT / "levels_summary.csv", index=False)
    print()
    print(summary.round(5).to_string(index=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
