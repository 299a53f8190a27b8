"""What TTA, snapshots, LightGBM, CatBoost and ``--refit`` add, against the best single file by OOF, on the test rows.

For each seed (the seed of the MNIST-5k split, of the shared folds and of every model),
everything trains on the demo's data (4,000 training digits, 1,000 kept-aside test digits)
through the fold loop ``python -m models oof`` runs, and writes the same files:

- a base set: ``cnn_bn`` (the CPU plan: 16 channels wide, at most ``--epochs`` epochs with
  early stopping), ``xgb``, ``rf_gini``, ``et_gini``, ``knn_5`` and ``logreg``;
- ``cnn_bn_tta``: the same ``cnn_bn`` models' predictions averaged over 5 views (``--tta 5``);
- ``cnn_bn`` trained as 3 cosine cycles instead (``--snapshots 3``, the same epochs in all,
  no early stopping): its last snapshot, ``_snap1``, ``_snap2`` and ``_snapmean``;
- ``lgbm`` and ``catboost``; ``xgb``, ``lgbm`` and ``catboost`` also refitted on all rows (``--refit``).

Each variant is a set of files with it against the set without it. For both sets, the
number a user can know to pick by is the OOF score: the **best file by OOF** is scored on the
test rows, and so is **``blend auto``'s pick** (:func:`blender.picking.run_auto` on the shared
folds, as the command runs it). A gain is the set without minus the set with, in test log
loss, so positive is better; the tables show the mean over seeds and its standard error.
The refit rows compare each booster's test log loss refitted against its fold models' mean.

    .venv/bin/python benchmarks/bench_zoo.py                    # seeds 0, 1, 2 (11 minutes a seed on 2 quiet cores)
    .venv/bin/python benchmarks/bench_zoo.py --seeds 0 --epochs 6

Results go to ``benchmarks/_data/zoo.csv`` (one row per seed x variant) and ``zoo_refit.csv``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

ROOT = Path(__file__).resolve().parent / "_data"
SEEDS = (0, 1, 2)
#: At most this many epochs per CNN fit (the CPU plan's 10 would take a third longer); the
#: snapshots split them into 3 cycles of 3.
EPOCHS = 9
BASE = ["cnn_bn", "xgb", "rf_gini", "et_gini", "knn_5", "logreg"]
SNAPSHOT_FILES = ["cnn_bn_snap1", "cnn_bn_snap2", "cnn_bn_snapmean"]
BOOSTERS = ["xgb", "lgbm", "catboost"]


def train(seed: int, *, epochs: int, jobs: int, say) -> tuple[Path, dict[str, float]]:
    """Every file of the study for one seed, under ``_data/zoo/seed_N``; the refit and fold-mean test log loss
    of each booster.
    """
    from models import output
    from models.data import load_dataset
    from models.oof import run_oof, score
    from models.registry import select_learners

    root = ROOT / "zoo" / f"seed_{seed}"
    data = load_dataset("mnist", seed=seed)
    common = dict(n_folds=5, seed=seed, n_jobs=jobs, log=lambda line: None)
    results = {}
    started = time.perf_counter()
    results.update(run_oof(select_learners("cnn_bn"), data, epochs=epochs, tta=5, **common))
    say(f"  seed {seed}: cnn_bn with --tta 5 in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    snapshots = run_oof(select_learners("cnn_bn"), data, epochs=epochs, snapshots=3, **common)
    # The snapshot-trained net's last snapshot gets a name of its own beside the early-stopped cnn_bn.
    results.update({name.replace("cnn_bn", "cnn_bn_snap", 1) if name == "cnn_bn" else name: result
                    for name, result in snapshots.items()})  # fmt: skip
    say(f"  seed {seed}: cnn_bn with --snapshots 3 in {time.perf_counter() - started:.0f} s")
    started = time.perf_counter()
    results.update(run_oof(select_learners("rf_gini et_gini knn_5 logreg"), data, **common))
    boosters = run_oof(select_learners(" ".join(BOOSTERS)), data, refit=True, **common)
    say(f"  seed {seed}: the tabular learners (the boosters refitted too) in {time.perf_counter() - started:.0f} s")
    refit = {}
    for name, result in boosters.items():
        refit[name] = {
            "seed": seed,
            "booster": name,
            "fold mean": score(data.y_test, result.fold_average_test, data.task)["logloss"],
            "refit": score(data.y_test, result.test, data.task)["logloss"],
        }
        # The files hold the fold models' mean, the default.
        result.test = result.fold_average_test
    results.update(boosters)
    output.write_labels(data, root)
    output.write_folds(data, results["cnn_bn"].folds, root)
    for name, result in results.items():
        output.write_oof_result(data, name, result.oof, result.test, root)
    return root, refit


def variants() -> dict[str, tuple[list[str], list[str]]]:
    """Each variant's sets of files: (without, with)."""
    snapshot_base = ["cnn_bn_snap" if name == "cnn_bn" else name for name in BASE]
    return {
        "TTA (cnn_bn_tta)": (BASE, [*BASE, "cnn_bn_tta"]),
        "snapshot files (snap1, snap2, snapmean)": (snapshot_base, [*snapshot_base, *SNAPSHOT_FILES]),
        "cnn_bn as 3 snapshots, not early-stopped (its last snapshot)": (BASE, snapshot_base),
        "LightGBM (lgbm)": (BASE, [*BASE, "lgbm"]),
        "CatBoost (catboost)": (BASE, [*BASE, "catboost"]),
        "all of them": (BASE, [*BASE, "cnn_bn_tta", "cnn_bn_snap", *SNAPSHOT_FILES, "lgbm", "catboost"]),
    }


def judge(root: Path, names: list[str], seed: int) -> dict:
    """The best file by OOF and ``blend auto``'s pick over ``names``: their names and test log loss."""
    from blender import io, layout
    from blender.picking import run_auto

    learning = io.read_learning([root / "submissions" / f"{name}.csv" for name in names],
                                train_dir=root / "submissions" / "oof", truth=root / "data" / "train_labels.csv",
                                task="multiclass", command_name="bench")  # fmt: skip
    train, test, y = learning.train, learning.test, learning.y
    folds = io.read_folds(root / "data" / "folds.csv", train.ids)
    truth = io.read_truth(root / "data" / "test_labels.csv", test.ids, as_text=True)
    lookup = {str(label): code for code, label in enumerate(train.columns)}
    y_test = np.array([lookup[str(label)] for label in truth])
    scores = layout.model_scores(train.values, y, metric="logloss", kind="multiclass")
    best = layout.best_model(scores, "logloss")
    started = time.perf_counter()
    result = run_auto(train, y, test, metric="logloss", folds=folds, random_state=seed)
    return {
        "best file": train.names[best],
        "best file test": layout.score(y_test, test.values[best], metric="logloss", kind="multiclass"),
        "auto pick": result.pick.name,
        "auto test": layout.score(y_test, result.test_blend, metric="logloss", kind="multiclass"),
        "auto estimate": result.estimate.mean,
        "auto seconds": time.perf_counter() - started,
    }


def summarise(rows: pd.DataFrame, refits: pd.DataFrame) -> str:
    """Markdown tables: each variant's gains (mean ± se over seeds), and the refit against the fold mean."""

    def mean_se(values) -> str:
        values = np.asarray(values, dtype=float)
        se = np.std(values, ddof=1) / np.sqrt(len(values)) if len(values) > 1 else float("nan")
        return f"{values.mean():+.4f} ± {se:.4f}" if len(values) > 1 else f"{values.mean():+.4f}"

    lines = ["| variant | best file by OOF: without → with (test log loss) | its gain "
             "| auto's pick: without → with | its gain | seeds where auto gains |",
             "| --- | --- | --- | --- | --- | --- |"]  # fmt: skip
    for variant, part in rows.groupby("variant", sort=False):
        best_gain = part["without best file test"] - part["with best file test"]
        auto_gain = part["without auto test"] - part["with auto test"]
        lines.append(
            f"| {variant} | {part['without best file test'].mean():.4f} → {part['with best file test'].mean():.4f} | "
            f"{mean_se(best_gain)} | {part['without auto test'].mean():.4f} → {part['with auto test'].mean():.4f} | "
            f"{mean_se(auto_gain)} | {(auto_gain > 0).sum()}/{len(part)} |"
        )
    lines += ["", "| booster | fold mean (test log loss) | refit | refit − fold mean |", "| --- | --- | --- | --- |"]
    for booster, part in refits.groupby("booster", sort=False):
        lines.append(f"| {booster} | {part['fold mean'].mean():.4f} | {part['refit'].mean():.4f} | "
                     f"{mean_se(part['refit'] - part['fold mean'])} |")  # fmt: skip
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default=",".join(map(str, SEEDS)))
    parser.add_argument("--epochs", type=int, default=EPOCHS, help=f"most epochs per CNN fit (default: {EPOCHS})")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument(
        "--reuse", action="store_true", help="judge the files of an earlier run again, without training"
    )
    args = parser.parse_args(argv)

    def say(line):
        print(line, file=sys.stderr, flush=True)

    rows, refits = [], []
    started = time.perf_counter()
    for seed in (int(seed) for seed in args.seeds.split(",")):
        root = ROOT / "zoo" / f"seed_{seed}"
        if args.reuse and (ROOT / f"zoo_refit_seed_{seed}.csv").exists():
            refits += pd.read_csv(ROOT / f"zoo_refit_seed_{seed}.csv").to_dict("records")
        else:
            root, refit = train(seed, epochs=args.epochs, jobs=args.jobs, say=say)
            refits += list(refit.values())
            ROOT.mkdir(parents=True, exist_ok=True)
            pd.DataFrame(list(refit.values())).to_csv(ROOT / f"zoo_refit_seed_{seed}.csv", index=False)
        judged = {}
        for variant, (without, with_variant) in variants().items():
            row = {"seed": seed, "variant": variant}
            for side, names in (("without", without), ("with", with_variant)):
                key = tuple(names)
                if key not in judged:
                    judged[key] = judge(root, names, seed)
                row.update({f"{side} {field}": value for field, value in judged[key].items()})
            rows.append(row)
            say(
                f"  seed {seed}: {variant}: best file {row['without best file']} "
                f"{row['without best file test']:.4f} -> "
                f"{row['with best file']} {row['with best file test']:.4f}; auto {row['without auto pick']} "
                f"{row['without auto test']:.4f} -> {row['with auto pick']} {row['with auto test']:.4f}"
            )
        say(f"seed {seed} done, {time.perf_counter() - started:.0f} s so far")
    rows, refits = pd.DataFrame(rows), pd.DataFrame(refits)
    ROOT.mkdir(parents=True, exist_ok=True)
    rows.to_csv(ROOT / "zoo.csv", index=False)
    refits.to_csv(ROOT / "zoo_refit.csv", index=False)
    print(
        f"MNIST-5k, seeds {args.seeds}, cnn_bn at most {args.epochs} epochs; test log loss, lower is better; "
        f"gain = without - with, mean ± se over seeds ({time.perf_counter() - started:.0f} s)\n"
    )
    print(summarise(rows, refits))
    return 0


if __name__ == "__main__":
    sys.exit(main())
