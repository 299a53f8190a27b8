"""The main job: train the zoo on the bundled digits, blend every way, print a leaderboard.

Run as ``make demo`` (or ``python -m models.demo``). Every step is a command a user could type,
printed before it runs: ``python -m models oof``, ``python -m models holdout``, then one
``blend`` command per method. The digits' test labels were kept aside by ``models``, so the
final table shows true test scores next to the OOF ones.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from blender.cli import format_table

SPRINGENBERG = ["cnn_convpool", "cnn_allconv", "cnn_nin"]
TREES = ["rf_gini", "rf_entropy", "et_gini", "et_entropy"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2, help="parallel (learner, fold) tasks")
    parser.add_argument("--reuse", action="store_true", help="keep existing submissions/ instead of training again")
    parser.add_argument("--models", default=None, help="a subset of the zoo, e.g. 'rf et knn logreg'")
    parser.add_argument("--epochs", type=int, default=None, help="CNN epochs (default: the zoo's own)")
    args = parser.parse_args(argv)
    started = time.perf_counter()

    train_options = ["--jobs", str(args.jobs)]
    if args.models:
        train_options += ["--models", args.models]
    if args.epochs:
        train_options += ["--epochs", str(args.epochs)]
    if not (args.reuse and Path("submissions/oof").is_dir() and Path("data/test_labels.csv").exists()):
        step("Train the zoo on 5 shared folds: OOF predictions for the training rows, test predictions")
        run([sys.executable, "-m", "models", "oof", *train_options])
    if not (args.reuse and Path("submissions/holdout").is_dir()):
        step("Fit each learner without a seeded holdout slice, for blend holdout")
        run([sys.executable, "-m", "models", "holdout", *train_options])

    names = sorted(path.name[: -len(".csv")] for path in Path("submissions").glob("*.csv"))
    cnns = [name for name in SPRINGENBERG if name in names]
    trees = [name for name in TREES if name in names]
    files = [f"submissions/{name}.csv" for name in names]

    step("Blend every way (each line is a command you can run yourself)")
    blends: dict[str, list[str]] = {
        "vote": ["vote", *files],
        "average": ["average", *files],
        "geometric": ["average", *files, "--kind", "geometric"],
        "power2": ["average", *files, "--kind", "power", "--power", "2"],
        "rank": ["rank-average", *files],
        "select": ["select", *files, "--max-corr", "0.97"],
        "caruana": ["caruana", *files, "--init", "3", "--iters", "30", "--bags", "10", "--plot", "blends/caruana.png",
                    "--weights-out", "blends/caruana_weights.json"],
        "weights": ["weights", *files, "--method", "slsqp"],
        "stack_logreg": ["stack", *files, "--meta", "logreg"],
        "stack_fwls": ["stack", *files, "--meta", "logreg", "--fwls"],
        "stack_et": ["stack", *files, "--meta", "et"],
        "holdout_logreg": ["holdout", *files, "--meta", "logreg"],
    }
    if len(cnns) >= 2:
        blends["cnn_average"] = ["average", *(f"submissions/{n}.csv" for n in cnns)]
    all_cnns = [name for name in names if name.startswith("cnn_")]
    if all_cnns and trees:
        blends["cnns_and_trees"] = ["weights", *(f"submissions/{n}.csv" for n in all_cnns + trees)]
    for blend_name, arguments in blends.items():
        run(["blend", *arguments, "-o", f"blends/{blend_name}.csv"])
    run(["blend", "corr", *files, "--plot", "blends/corr.png"])

    step("Leaderboard on the OOF rows (blend methods scored by 5-fold CV over the OOF rows)")
    run(["blend", "score", *files, "--plot", "blends/leaderboard.png", "-o", "blends/leaderboard_oof.csv"])

    step("Leaderboard on the test rows (true labels kept aside by models)")
    truth = read_truth(Path("data/test_labels.csv"))
    rows = []
    for name in names:
        rows.append((name, "model", *test_scores(Path(f"submissions/{name}.csv"), truth)))
    for blend_name in blends:
        rows.append((blend_name, "blend", *test_scores(Path(f"blends/{blend_name}.csv"), truth)))
    rows.sort(key=lambda row: (row[2], -row[3]))
    print(format_table(["rank", "name", "type", "test logloss", "test accuracy"],
                       [[i + 1, r[0], r[1], float(r[2]), float(r[3])] for i, r in enumerate(rows)]))

    step("Claims, on the OOF rows (1,347) and on the kept-aside test rows (450)")
    oof_truth = read_truth(Path("data/train_labels.csv"))
    oof_scores = {name: test_scores(Path(f"submissions/oof/{name}.csv"), oof_truth) for name in names}
    test = {row[0]: row[2:] for row in rows}
    if "cnn_average" in test:
        # A plain average learns nothing, so its OOF score is as honest as the files'.
        cnn_oof = [pd_read(f"submissions/oof/{n}.csv") for n in cnns]
        average_oof = sum(frame.to_numpy() for frame in cnn_oof) / len(cnns)
        oof_scores["cnn_average"] = scores_of(average_oof, list(cnn_oof[0].columns), list(cnn_oof[0].index), oof_truth)
        for split, table_of in (("OOF", oof_scores), ("test", test)):
            for position, metric in ((0, "logloss"), (1, "accuracy")):
                better = (lambda a, b: a < b) if position == 0 else (lambda a, b: a > b)
                holds = all(better(table_of["cnn_average"][position], table_of[n][position]) for n in cnns)
                shown = ", ".join(f"{n} {table_of[n][position]:.4f}" for n in cnns)
                print(f"  [{'yes' if holds else 'no '}] {split} {metric}: the average of the three Springenberg CNNs "
                      f"({table_of['cnn_average'][position]:.4f}) beats each ({shown})")
    if "cnns_and_trees" in test:
        for position, metric in ((0, "logloss"), (1, "accuracy")):
            pick = min if position == 0 else max
            best_value, best_name = pick((test[n][position], n) for n in names)
            blend_value = test["cnns_and_trees"][position]
            holds = blend_value < best_value if position == 0 else blend_value > best_value
            print(f"  [{'yes' if holds else 'no '}] test {metric}: optimised weights over CNNs and trees "
                  f"({blend_value:.4f}) beat the best single model ({best_name} {best_value:.4f})")
    print(f"\nDone in {time.perf_counter() - started:.0f} s. Pictures: blends/corr.png, blends/leaderboard.png, blends/caruana.png")
    return 0


def step(title: str) -> None:
    print(f"\n=== {title}", flush=True)


def run(command: list[str]) -> None:
    shown = [Path(command[0]).name if command[0] == sys.executable else command[0], *command[1:]]
    print("$ " + " ".join(shlex.quote(part) for part in shorten(shown)), flush=True)
    executable = command
    if command[0] == "blend":
        executable = [sys.executable, "-m", "blender", *command[1:]]
    completed = subprocess.run(executable)
    if completed.returncode != 0:
        raise SystemExit(f"demo stopped: the command above failed (exit {completed.returncode})")


def shorten(parts: list[str]) -> list[str]:
    """Show a long list of submission files as one glob-like token."""
    files = [p for p in parts if p.startswith("submissions/") and p.endswith(".csv")]
    if len(files) <= 3:
        return parts
    first = parts.index(files[0])
    return parts[:first] + [f"submissions/{{{len(files)} files}}.csv"] + [p for p in parts[first:] if p not in files]


def read_truth(path: Path) -> dict[str, str]:
    import pandas as pd

    frame = pd.read_csv(path, dtype=str)
    return dict(zip(frame.iloc[:, 0], frame.iloc[:, 1]))


def pd_read(path: str):
    import pandas as pd

    frame = pd.read_csv(path, dtype=str)
    return frame.set_index(frame.columns[0]).astype(float).sort_index()


def test_scores(path: Path, truth: dict[str, str]) -> tuple[float, float]:
    """Log loss and accuracy of one prediction file of class probabilities (or one-hot votes)."""
    frame = pd_read(str(path))
    return scores_of(frame.to_numpy(), list(frame.columns), list(frame.index), truth)


def scores_of(probabilities, classes: list[str], ids: list[str], truth: dict[str, str]) -> tuple[float, float]:
    from sklearn.metrics import accuracy_score, log_loss

    y = np.array([classes.index(truth[i]) for i in ids])
    probabilities = np.clip(probabilities, 1e-15, 1)
    probabilities /= probabilities.sum(axis=1, keepdims=True)
    return (log_loss(y, probabilities, labels=range(len(classes))), accuracy_score(y, probabilities.argmax(axis=1)))


if __name__ == "__main__":
    sys.exit(main())
