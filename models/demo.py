"""The main job: train the zoo on MNIST, blend every way, judge the claims fairly, end with ``blend auto``.

Run as ``make demo`` (or ``python -m models.demo``). Every training and blending step is a
command a user could type, printed before it runs: ``python -m models oof``, then one ``blend``
command per method, then ``blend auto``. The test labels were kept aside by ``models``, so the
tables show true test scores next to the OOF ones.

The claims are judged as a user could have judged them, without hindsight:

- "beats the best single model" means the model with the best **OOF** score;
- a blend that learns (weights, a vote weighted by them, a stack) is scored on the OOF rows
  cross-fitted on the shared folds (``data/folds.csv``), never by a refit on all of them;
- each claim is judged on the OOF rows and on the kept-aside test rows, with a bootstrap
  interval (95%, over rows) of the per-row score difference. The verdict is ``yes`` when the
  whole interval favours the blend, ``no`` when the blend is not better on average, and
  ``too close`` when it is better on average but the interval includes no difference.
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from blender import metrics
from blender.evaluation import assignment_splits, beyond_noise_floor, bootstrap_interval, cross_fit
from blender.methods import BY_NAME, PROBABILITIES, Method, Voted, fit, fit_weights
from blender.report import format_table
from models.registry import ALIASES

#: Bootstrap resamples of the rows for each interval, and its coverage.
N_BOOTSTRAP = 2000
COVERAGE = 0.95
#: Seeded folds of the OOF rows for blends that learn, where no data/folds.csv gives them.
CV_FOLDS = 5
#: The whole demo's default wall time, and the share of it kept for the steps after
#: training (blending, claims, blend auto: 76 s of a 9 min 39 s run on a quiet 2-core
#: machine, and they slow down with the machine as training does).
DEFAULT_TIME_BUDGET = "15m"
BLENDING_SHARE = 0.25


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m models.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2, help="parallel (learner, fold) tasks")
    parser.add_argument("--reuse", action="store_true", help="keep existing submissions/ instead of training again")
    parser.add_argument("--models", default=None, help="a subset of the zoo, e.g. 'rf et knn logreg'")
    parser.add_argument("--data", default=None, help="the dataset (default: models' own, MNIST-5k)")
    parser.add_argument("--epochs", type=int, default=None, help="CNN epochs (default: the zoo's plan)")
    parser.add_argument("--seeds", type=int, default=None, help="models per fold, averaged (default: 1)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the bootstrap and the blends' CV (default: 0)")
    parser.add_argument(
        "--time-budget",
        default=DEFAULT_TIME_BUDGET,
        help=f"wall time for the whole demo (default: {DEFAULT_TIME_BUDGET}); "
        f"training gets {1 - BLENDING_SHARE:.0%} of it "
        "and fits the tabular learners' rounds and the CNNs' width and epochs to that on this machine; "
        "'none' for the fixed plans",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    timings: dict[str, float] = {}

    train_options = ["--jobs", str(args.jobs)]
    if args.time_budget.lower() != "none":
        from models.budget import format_duration, parse_duration
        from models.registry import ModelsError

        try:
            total = parse_duration(args.time_budget)
        except ModelsError as error:
            parser.error(str(error))
        training = round(total * (1 - BLENDING_SHARE))
        print(f"time budget {format_duration(total)}: {format_duration(training)} for training "
              f"(the learners' plans are fitted to it), the rest for blending", flush=True)  # fmt: skip
        train_options += ["--time-budget", f"{training}s"]
    for option, value in (
        ("--models", args.models),
        ("--data", args.data),
        ("--epochs", args.epochs),
        ("--seeds", args.seeds),
    ):
        if value:
            train_options += [option, str(value)]
    if not (args.reuse and Path("submissions/oof").is_dir() and Path("data/test_labels.csv").exists()):
        step("Train the zoo on 5 shared folds: OOF predictions for the training rows, test predictions")
        with timed(timings, "train (python -m models oof)"):
            run([sys.executable, "-m", "models", "oof", *train_options])

    names = sorted(path.name[: -len(".csv")] for path in Path("submissions").glob("*.csv"))
    files = [f"submissions/{name}.csv" for name in names]
    springenberg = [name for name in ALIASES["springenberg"] if name in names]
    cnns = [name for name in ALIASES["cnn"] if name in names]
    trees = [name for name in ALIASES["rf"] + ALIASES["et"] if name in names]

    step("Blend every way (each line is a command you can run yourself)")
    with timed(timings, "blend (one command per method, corr, score)"):
        blends = blend_commands(files, springenberg, cnns, trees)
        for blend_name, arguments in blends.items():
            run(["blend", *arguments, "-o", f"blends/{blend_name}.csv"])
        run(["blend", "corr", *files, "--plot", "blends/corr.png"])
        step("Leaderboard on the OOF rows (blend methods scored by 5-fold CV over the OOF rows)")
        run(
            [
                "blend",
                "score",
                *files,
                "--metric",
                "logloss",
                "--plot",
                "blends/leaderboard.png",
                "-o",
                "blends/leaderboard_oof.csv",
            ]
        )

    step("Leaderboard on the test rows (true labels kept aside by models)")
    test_truth = read_labels(Path("data/test_labels.csv"))
    rows = [(name, "model", *file_scores(Path(f"submissions/{name}.csv"), test_truth)) for name in names]
    rows += [(name, "blend", *file_scores(Path(f"blends/{name}.csv"), test_truth)) for name in blends]
    rows.sort(key=lambda row: (row[2], -row[3]))
    print(format_table(["rank", "name", "type", "test logloss", "test accuracy"],
                       [[i + 1, *row] for i, row in enumerate(rows)]))  # fmt: skip

    step("Claims, judged by the best OOF model, on the OOF rows (CV for blends that learn) and on the test rows")
    with timed(timings, "claims (bootstrap, CV of the learned blends)"):
        oof_set, test_set = load_sets(Path("submissions"), Path("data"))
        for line in claim_lines(default_claims(names, springenberg, cnns, trees), oof_set, test_set, seed=args.seed):
            print(line, flush=True)

    step("blend auto: pick what to submit, by a nested CV estimate")
    with timed(timings, "blend auto"):
        auto_table(files, test_truth)

    print("\nTime of each step:")
    print(format_table(["step", "seconds"], [[name, round(seconds, 1)] for name, seconds in timings.items()]))
    if args.time_budget.lower() != "none":
        print(f"time budget {args.time_budget}: used {time.perf_counter() - started:.0f} s of {total:.0f} s")
    print(
        f"\nDone in {time.perf_counter() - started:.0f} s. "
        "Pictures: blends/corr.png, blends/leaderboard.png, blends/caruana.png"
    )
    return 0


def blend_commands(
    files: list[str], springenberg: list[str], cnns: list[str], trees: list[str]
) -> dict[str, list[str]]:
    """The ``blend`` command of each demo blend, by output name."""
    blends: dict[str, list[str]] = {
        "vote": ["vote", *files],
        "average": ["average", *files],
        "geometric": ["average", *files, "--kind", "geometric"],
        "power2": ["average", *files, "--kind", "power", "--power", "2"],
        "rank": ["rank-average", *files],
        "select": ["select", *files, "--max-corr", "0.97"],
        "caruana": ["caruana", *files, "--init", "3", "--iters", "30", "--bags", "10", "--plot", "blends/caruana.png",
                    "--weights-out", "blends/caruana_weights.json"],
        "weights": ["weights", *files, "--method", "slsqp", "--weights-out", "blends/weights.json"],
        "stack_logreg": ["stack", *files, "--meta", "logreg"],
        "stack_fwls": ["stack", *files, "--meta", "logreg", "--fwls"],
    }  # fmt: skip
    if len(springenberg) >= 2:
        members = [f"submissions/{name}.csv" for name in springenberg]
        blends["springenberg_average"] = ["average", *members]
        blends["springenberg_geometric"] = ["average", *members, "--kind", "geometric"]
    if cnns and trees:
        blends["cnns_and_trees"] = ["weights", *(f"submissions/{n}.csv" for n in cnns + trees)]
    return blends


# ---------------------------------------------------------------------------- the claims


@dataclass(frozen=True)
class PredictionSet:
    """Every model's class probabilities on one set of rows, and the truth.

    Attributes
    ----------
    names : list of str
    values : ndarray of shape (n_models, n_rows, n_classes)
    y : ndarray of shape (n_rows,)
        Class indices into the files' columns.
    folds : ndarray of shape (n_rows,) or None
        Each row's fold in ``data/folds.csv`` (the OOF rows), where the file exists.
    """

    names: list[str]
    values: NDArray
    y: NDArray
    folds: NDArray | None = None

    def of(self, names: list[str]) -> NDArray:
        """The members' values, shape (len(names), n_rows, n_classes), in the order given."""
        return self.values[[self.names.index(name) for name in names]]


@dataclass(frozen=True)
class Claim:
    """One claim of the seeds: a blend of ``members`` beats ``rivals``.

    Attributes
    ----------
    title : str
    members : list of str
        The models the blend combines.
    method : blender.methods.Method
        A registry entry (or one built the same way), fitted on the OOF values of the
        members and applied to the rows it predicts.
    rivals : list of str or None
        The models to beat; None means the member with the best OOF score.
    metric : {"logloss", "accuracy"}, default="logloss"
        Votes have no probabilities, so they are judged by accuracy.
    """

    title: str
    members: list[str]
    method: Method
    rivals: list[str] | None = None
    metric: str = "logloss"


def fit_weighted_vote(values, y, *, kind, metric, random_state=None) -> Voted:
    """A vote in which each model's vote (its argmax class) counts its optimised weight."""
    return Voted(fit_weights(values, y, kind=kind, metric=metric).weights + 1e-12, kind)


weighted_vote = Method(
    "weighted-vote", fit_weighted_vote, PROBABILITIES, True, 3, "a vote weighted by optimised weights"
)


def default_claims(names: list[str], springenberg: list[str], cnns: list[str], trees: list[str]) -> list[Claim]:
    """The seeds' claims, for the models present, each blend a registry entry."""
    arithmetic, geometric, weighted_average, stacked = (
        BY_NAME[name] for name in ("average", "geometric", "weights", "stack-logreg")
    )
    claims = []
    if len(springenberg) >= 2:
        claims += [
            Claim(f"the average of the {len(springenberg)} Springenberg CNNs beats each of them", springenberg,
                  arithmetic, springenberg),
            Claim("their geometric average beats each of them", springenberg, geometric, springenberg),
        ]  # fmt: skip
    if len(names) >= 2:
        claims += [
            Claim(f"optimised weights over all {len(names)} models beat the best OOF member", names, weighted_average),
            Claim(
                "a vote weighted by them beats the best OOF member (accuracy)", names, weighted_vote, metric="accuracy"
            ),
            Claim(f"a logistic-regression stack of all {len(names)} beats the best OOF member", names, stacked),
        ]
    if cnns and trees:
        claims.append(
            Claim(
                f"weights over {len(cnns)} CNNs and {len(trees)} tree models beat the best OOF member",
                cnns + trees,
                weighted_average,
            )
        )
    return claims


def one_hot(codes: NDArray, n_classes: int) -> NDArray:
    """Class codes of shape (n_rows,) as one-hot rows of shape (n_rows, n_classes)."""
    encoded = np.zeros((len(codes), n_classes))
    encoded[np.arange(len(codes)), np.asarray(codes, dtype=np.int64)] = 1.0
    return encoded


def row_losses(y: NDArray, predictions: NDArray, metric: str) -> NDArray[np.float64]:
    """Each row's loss: its log loss, or 1 for a wrong class and 0 for a right one. Their mean is the metric.

    >>> row_losses(np.array([0, 1]), np.array([[0.5, 0.5], [0.2, 0.8]]), "accuracy").tolist()
    [0.0, 0.0]
    """
    predictions = np.asarray(predictions, dtype=np.float64)
    if metric == "accuracy":
        return (predictions.argmax(axis=1) != y).astype(np.float64)
    true_class = metrics.true_class_probability(y, predictions, kind="multiclass")
    return -np.log(np.clip(true_class, metrics.EPSILON, 1 - metrics.EPSILON))


def verdict(intervals: list[tuple[float, float, float]]) -> str:
    """``tie`` if every difference is 0 (to the noise floor), ``yes`` if every interval lies below 0,
    ``no`` if some mean difference is not, else ``too close``."""
    if all(low == mean == high == 0.0 for mean, low, high in intervals):
        return "tie"
    if all(high < 0 for _, _, high in intervals):
        return "yes"
    if any(mean >= 0 for mean, _, _ in intervals):
        return "no"
    return "too close"


def judge(claim: Claim, oof: PredictionSet, test: PredictionSet, *, seed: int = 0) -> list[str]:
    """Two lines: the claim on the OOF rows (cross-validated) and on the test rows, with their numbers."""
    from blender import layout

    members_oof = oof.of(claim.members)
    splits = (
        assignment_splits(oof.folds)
        if oof.folds is not None
        else layout.cv_folds(oof.y, kind="multiclass", folds=CV_FOLDS, random_state=seed)
    )
    # Every blend learns on log loss (a vote's weights too); the claim's metric only judges it.
    options = dict(kind="multiclass", metric="logloss", random_state=seed)
    cv_predictions = cross_fit(claim.method, members_oof, oof.y, splits, **options)
    test_predictions = fit(claim.method, members_oof, oof.y, **options).apply(test.of(claim.members))
    rivals = claim.rivals
    if rivals is None:
        scores = [row_losses(oof.y, oof.of([name])[0], claim.metric).mean() for name in claim.members]
        rivals = [claim.members[int(np.argmin(scores))]]
    metric_name = "log loss" if claim.metric == "logloss" else "error rate"
    lines = []
    for split, rows, predictions in (("OOF ", oof, cv_predictions), ("test", test, test_predictions)):
        blend_losses = row_losses(rows.y, predictions, claim.metric)
        parts, intervals = [], []
        for rival in rivals:
            rival_losses = row_losses(rows.y, rows.of([rival])[0], claim.metric)
            difference = blend_losses - rival_losses
            # Rounding is a tie, not a win: the leaderboard's noise floor, row by row.
            difference[~beyond_noise_floor(difference, np.maximum(np.abs(blend_losses), np.abs(rival_losses)))] = 0.0
            interval = bootstrap_interval(difference, seed=seed, resamples=N_BOOTSTRAP, coverage=COVERAGE)
            intervals.append(interval)
            rival_loss = row_losses(rows.y, rows.of([rival])[0], claim.metric).mean()
            parts.append(f"{rival} {rival_loss:.4f}, diff {interval[0]:+.4f} [{interval[1]:+.4f}, {interval[2]:+.4f}]")
        lines.append(
            f"  [{verdict(intervals):>9}] {split}: {claim.title}: blend {metric_name} {blend_losses.mean():.4f} vs "
            + "; ".join(parts)
        )
    return lines


def claim_lines(claims: list[Claim], oof: PredictionSet, test: PredictionSet, *, seed: int = 0) -> list[str]:
    """Every claim's lines, after a line that says how to read them."""
    lines = [
        f"  (diff = blend minus rival, lower is better for the blend; [{COVERAGE:.0%} bootstrap interval over rows]; "
        "OOF rows of blends that learn: cross-fitted on "
        + ("data/folds.csv" if oof.folds is not None else f"{CV_FOLDS} seeded folds")
        + ")"
    ]
    for claim in claims:
        lines += judge(claim, oof, test, seed=seed)
    return lines


def load_sets(submissions: Path, data: Path, names: list[str] | None = None) -> tuple[PredictionSet, PredictionSet]:
    """Read the OOF and test files of ``names`` (default: every ``submissions/*.csv``) and their truth."""
    from blender import io

    if names is None:
        names = sorted(path.name[: -len(".csv")] for path in submissions.glob("*.csv"))
    sets = []
    for folder, truth_path in (
        (submissions / "oof", data / "train_labels.csv"),
        (submissions, data / "test_labels.csv"),
    ):
        predictions = io.read_predictions([folder / f"{name}.csv" for name in names], task="multiclass")
        truth = read_labels(truth_path)
        ids = [str(identifier) for identifier in predictions.ids.to_pylist()]
        y = np.array([predictions.columns.index(truth[identifier]) for identifier in ids])
        # The shared folds of the OOF rows, where make oof wrote them.
        folds = (
            io.read_folds(data / "folds.csv", predictions.ids) if not sets and (data / "folds.csv").is_file() else None
        )
        sets.append(PredictionSet(list(names), np.asarray(predictions.values, dtype=np.float64), y, folds))
    return sets[0], sets[1]


# ---------------------------------------------------------------------------- blend auto


def auto_table(files: list[str], test_truth: dict[str, str]) -> None:
    """Run ``blend auto`` and show its leaderboard's entries on the test rows next to their OOF estimates."""
    probe = subprocess.run([sys.executable, "-m", "blender", "auto", "--help"], capture_output=True, text=True)
    if probe.returncode != 0:
        print("blend auto is not in this version of blender yet; skipped.")
        return
    run(["blend", "auto", *files, "--oof-dir", "submissions/oof", "--truth", "data/train_labels.csv",
         "--metric", "logloss", "--report", "blends/auto.json", "--blends-dir", "blends/auto",
         "-o", "blends/auto.csv"])  # fmt: skip
    report = json.loads(Path("blends/auto.json").read_text())
    print(auto_rows_text(report, Path("blends/auto"), test_truth))
    print(pick_versus_best_text(report, Path("blends/auto.csv"), Path("blends/auto"), test_truth))


def auto_rows_text(report: dict, blends_dir: Path, test_truth: dict[str, str]) -> str:
    """The pick, then a table of every leaderboard entry: OOF estimate (mean, se) and test scores."""
    rows = []
    for entry in report["leaderboard"]:
        path = blends_dir / f"{entry['name']}.csv"
        test_loss, test_accuracy = file_scores(path, test_truth) if path.exists() else (float("nan"), float("nan"))
        rows.append([entry["name"], entry["type"], float(entry["mean"]), float(entry["se"]), test_loss, test_accuracy])
    pick = report["pick"]
    estimate = report.get("estimate", {})
    head = (
        f"pick: {pick['name']} ({pick['type']}); {report.get('reason', '')}\n"
        f"nested CV estimate of the whole procedure: {report['metric']} {estimate.get('mean', float('nan')):.4f} "
        f"(se {estimate.get('se', float('nan')):.4f}); best single model by OOF: {report['best_single']['name']}"
    )
    table = format_table(["name", "type", f"OOF {report['metric']}", "se", "test logloss", "test accuracy"], rows)
    return head + "\n" + table


def pick_versus_best_text(report: dict, pick_path: Path, blends_dir: Path, test_truth: dict[str, str]) -> str:
    """What auto submits against the top entry of its leaderboard and the best single model by OOF,
    all on the kept-aside test rows."""
    best, top = report["best_single"]["name"], report["leaderboard"][0]["name"]
    pick_loss, pick_accuracy = file_scores(pick_path, test_truth)
    best_loss, best_accuracy = file_scores(blends_dir / f"{best}.csv", test_truth)
    top_loss, _ = file_scores(blends_dir / f"{top}.csv", test_truth)
    estimate = report.get("estimate", {})
    return (
        f"the pick ({report['pick']['name']}) on the test rows: log loss {pick_loss:.4f} "
        f"(accuracy {pick_accuracy:.3f}; "
        f"nested OOF estimate {estimate.get('mean', float('nan')):.4f}); the top entry {top}: {top_loss:.4f}; "
        f"the best OOF model {best}: {best_loss:.4f} "
        f"(accuracy {best_accuracy:.3f}; OOF {report['best_single']['oof']:.4f})"
    )


# ---------------------------------------------------------------------------- helpers


class timed:
    """``with timed(timings, "step"):`` adds the step's wall time to ``timings``."""

    def __init__(self, timings: dict[str, float], name: str):
        self.timings, self.name = timings, name

    def __enter__(self):
        self.start = time.perf_counter()

    def __exit__(self, *exc):
        self.timings[self.name] = self.timings.get(self.name, 0.0) + time.perf_counter() - self.start


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


def read_labels(path: Path) -> dict[str, str]:
    """id -> label, as text, from a truth file."""
    import pandas as pd

    frame = pd.read_csv(path, dtype=str)
    return dict(zip(frame.iloc[:, 0], frame.iloc[:, 1]))


def file_scores(path: Path, truth: dict[str, str]) -> tuple[float, float]:
    """Log loss and accuracy of one file of class probabilities (or one-hot votes), by ``blender.metrics``."""
    from blender import io

    predictions = io.read_predictions([path], task="multiclass")
    ids = [str(identifier) for identifier in predictions.ids.to_pylist()]
    y = np.array([predictions.columns.index(truth[identifier]) for identifier in ids])
    probabilities = np.clip(np.asarray(predictions.values[0], dtype=np.float64), 0.0, 1.0)
    probabilities = probabilities / probabilities.sum(axis=1, keepdims=True)
    return (
        metrics.score(y, probabilities, metric="logloss", kind="multiclass"),
        metrics.score(y, probabilities, metric="accuracy", kind="multiclass"),
    )


if __name__ == "__main__":
    sys.exit(main())
