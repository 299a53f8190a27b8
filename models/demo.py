"""The main job: train the zoo on the bundled digits, blend every way, print a leaderboard.

Run as ``make demo`` (or ``python -m models.demo``). Every step is a command a user could type,
printed before it runs: ``python -m models oof``, ``python -m models holdout``, then one
``blend`` command per method. The digits' test labels were kept aside by ``models``, so the
final table shows true test scores next to the OOF ones.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from blender.averaging import average
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
        blends["cnn_geometric"] = ["average", *(f"submissions/{n}.csv" for n in cnns), "--kind", "geometric"]
    all_cnns = [name for name in names if name.startswith("cnn_")]
    cnns_and_trees = [f"submissions/{n}.csv" for n in all_cnns + trees]
    if all_cnns and trees:
        blends["cnns_and_trees"] = ["weights", *cnns_and_trees, "--weights-out", "blends/cnns_and_trees_weights.json"]
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

    step("Claims, on the OOF rows (1,347) and on the kept-aside test rows (450), judged by log loss")
    oof_truth = read_truth(Path("data/train_labels.csv"))
    oof_scores = {name: test_scores(Path(f"submissions/oof/{name}.csv"), oof_truth) for name in names}
    test = {row[0]: row[2:] for row in rows}
    if "cnn_average" in test:
        # A plain average learns nothing, so its OOF score is as honest as the files'.
        cnn_oof = [pd_read(f"submissions/oof/{n}.csv") for n in cnns]
        columns, ids = list(cnn_oof[0].columns), list(cnn_oof[0].index)
        stacked = np.stack([frame.to_numpy() for frame in cnn_oof])
        for blend_name, kind in (("cnn_average", "arithmetic"), ("cnn_geometric", "geometric")):
            oof_scores[blend_name] = scores_of(average(stacked, kind=kind), columns, ids, oof_truth)
            for split, table_of in (("OOF", oof_scores), ("test", test)):
                print(claim_line(f"{split}: the {kind} average of the three Springenberg CNNs", blend_name, cnns, table_of))
    if "cnns_and_trees" in test:
        # The weights are fitted on the OOF rows, so their OOF score comes from blend score's
        # cross-validation (fitted on 4/5 of the rows, scored on the fifth), not from a refit.
        run(["blend", "score", *cnns_and_trees, "-o", "blends/leaderboard_cnns_and_trees.csv"])
        cv_scores = read_leaderboard(Path("blends/leaderboard_cnns_and_trees.csv"))
        weights = json.loads(Path("blends/cnns_and_trees_weights.json").read_text())["weights"]
        tree_share = sum(weights[n] for n in trees)
        oof_table = oof_scores | {"cnns_and_trees": (cv_scores["weights"],)}
        best_oof = min(names, key=lambda n: oof_table[n][0])
        best_test = min(names, key=lambda n: test[n][0])
        title = f"optimised weights over {len(all_cnns)} CNNs and {len(trees)} tree models (trees' share {tree_share:.2f})"
        print(claim_line(f"OOF, cross-validated: {title}", "cnns_and_trees", [best_oof], oof_table))
        print(claim_line(f"test: {title}", "cnns_and_trees", [best_test], test))
    print(f"\nDone in {time.perf_counter() - started:.0f} s. Pictures: blends/corr.png, blends/leaderboard.png, blends/caruana.png")
    return 0


def claim_line(claim: str, blend_name: str, rivals: list[str], table_of) -> str:
    """``[yes] claim (blend 0.0123) beats each (a 0.0150, b 0.0160)``, judged by log loss (lower is better)."""
    holds = all(table_of[blend_name][0] < table_of[n][0] for n in rivals)
    shown = ", ".join(f"{n} {table_of[n][0]:.4f}" for n in rivals)
    beats = "beats each" if len(rivals) > 1 else "beats the best single model"
    return f"  [{'yes' if holds else 'no '}] {claim} ({table_of[blend_name][0]:.4f}) {beats} ({shown})"


def read_leaderboard(path: Path) -> dict[str, float]:
    """name -> score from ``blend score -o``."""
    import pandas as pd

    frame = pd.read_csv(path)
    return dict(zip(frame["name"], frame["score"].astype(float)))


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
