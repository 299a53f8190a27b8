"""The ``blend`` command: parse, read with ``blender.io``, call one method, write, report on stderr.

Heavy libraries (pandas, pyarrow, scipy, scikit-learn, matplotlib) are imported inside the
commands, so ``blend --help`` starts quickly.
"""

from __future__ import annotations

import functools
import glob
import os
import time
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

import typer

from blender.errors import BlendInputError

app = typer.Typer(
    help="Blend Kaggle submissions: vote, average, rank-average, correlate, select, Caruana, optimise weights, stack.",
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

DEFAULT_GLOB = "submissions/*.csv"


class Task(str, Enum):
    labels = "labels"
    binary = "binary"
    multiclass = "multiclass"
    regression = "regression"


class Mean(str, Enum):
    arithmetic = "arithmetic"
    geometric = "geometric"
    harmonic = "harmonic"
    power = "power"


class CorrMethod(str, Enum):
    pearson = "pearson"
    spearman = "spearman"
    kendall = "kendall"


# Options shared by every command, defined once.
Files = Annotated[
    Optional[list[str]],
    typer.Argument(help=f"Prediction CSVs (.csv or .csv.gz); a quoted glob is expanded. [default: {DEFAULT_GLOB}]", show_default=False),
]
OutPath = Annotated[Optional[Path], typer.Option("--out", "-o", help="Blended CSV to write. [default: blends/COMMAND.csv]", show_default=False)]
IdColumn = Annotated[Optional[str], typer.Option("--id", help="Name of the id column. [default: the first column]", show_default=False)]
TaskOption = Annotated[
    Optional[Task],
    typer.Option("--task", help="What the columns hold; inferred from the files unless given.", show_default=False),
]
WeightsOption = Annotated[Optional[str], typer.Option("--weights", "-w", help="One non-negative weight per file, comma-separated, e.g. 3,1,1.")]


def command(name: str):
    """Register a command whose bad-input errors become one ``Error:`` line and exit status 1."""

    def decorate(function):
        @functools.wraps(function)
        def run(*args, **kwargs):
            try:
                return function(*args, **kwargs)
            except (BlendInputError, ValueError) as error:
                if os.environ.get("BLEND_DEBUG"):
                    raise
                typer.echo(f"Error: {error}", err=True)
                raise typer.Exit(1) from None
            except KeyboardInterrupt:
                typer.echo("Interrupted; no output written.", err=True)
                raise typer.Exit(130) from None

        return app.command(name)(run)

    return decorate


def say(message: str) -> None:
    typer.echo(message, err=True)


def resolve_files(files: list[str] | None) -> list[Path]:
    """Expand globs the shell left alone (and the default), sorted; an empty glob is an error."""
    patterns = files or [DEFAULT_GLOB]
    paths: list[Path] = []
    for pattern in patterns:
        if glob.has_magic(pattern):
            matched = sorted(glob.glob(pattern))
            if not matched:
                hint = "run make oof, or name the files" if pattern == DEFAULT_GLOB else "check the pattern"
                raise BlendInputError(f"no files match {pattern}; {hint}.")
            paths.extend(Path(p) for p in matched)
        else:
            paths.append(Path(pattern))
    return paths


def output_path(out: Path | None, command_name: str) -> Path:
    return out if out is not None else Path("blends") / f"{command_name}.csv"


def read(files: list[str] | None, id_column: str | None, task: Task | None):
    from blender import io

    paths = resolve_files(files)
    started = time.perf_counter()
    predictions = io.read_predictions(paths, id_column=id_column, task=task.value if task else None)
    say(
        f"read {predictions.n_models} files, {predictions.n_samples:,} rows each, "
        f"{_describe_kind(predictions)} ({time.perf_counter() - started:.1f} s)"
    )
    return predictions


def write(predictions, values, out: Path, *, columns=None) -> None:
    from blender import io

    io.write_predictions(out, predictions.ids, values, columns=columns or predictions.columns, id_column=predictions.id_column)
    say(f"wrote {out}")


def _describe_kind(predictions) -> str:
    if predictions.kind == "multiclass":
        return f"class probabilities ({len(predictions.columns)} classes: {_shorten(predictions.columns)})"
    if predictions.kind == "labels":
        return f"labels ({len(predictions.classes)} classes: {_shorten(predictions.classes)})"
    if predictions.kind == "binary":
        return f"binary probabilities ('{predictions.columns[0]}')"
    return f"regression values ('{predictions.columns[0]}')"


def _shorten(items: list[str], limit: int = 6) -> str:
    return ", ".join(items) if len(items) <= limit else ", ".join(items[: limit - 1]) + f", ..., {items[-1]}"


def format_table(header: list[str], rows: list[list], *, align: str | None = None) -> str:
    """An aligned plain-text table; numbers right-aligned."""
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in cells)) if cells else len(str(h)) for i, h in enumerate(header)]
    numeric = [all(isinstance(row[i], (int, float)) and not isinstance(row[i], bool) for row in rows) for i in range(len(header))]

    def line(values):
        return "  ".join(v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)).rstrip()

    separator = "  ".join("-" * w for w in widths)
    return "\n".join([line([str(h) for h in header]), separator, *(line(r) for r in cells)])


def _cell(value) -> str:
    if isinstance(value, float):
        return "-" if value != value else f"{value:.6f}" if abs(value) < 1e4 else f"{value:.6g}"
    return str(value)


def weights_table(names: list[str], weights) -> str:
    total = float(sum(weights))
    rows = [[name, float(w), float(w) / total] for name, w in zip(names, weights)]
    return format_table(["file", "weight", "share"], rows)


# ---------------------------------------------------------------------------- commands


@command("vote")
def vote_command(
    files: Files = None,
    weights: WeightsOption = None,
    out: OutPath = None,
    id_column: IdColumn = None,
    task: TaskOption = None,
) -> None:
    """Majority vote, or weighted vote, of labels (probabilities become labels: argmax, or 0.5 for binary).

    A tie goes to the tied label of the first file (in the order listed) that voted for one.
    Probability files give a file of the same columns holding the winning class as 0/1.

    Example:

        blend vote submissions/*.csv -o blends/vote.csv

        blend vote cnn.csv rf.csv knn.csv lr.csv xgb.csv --weights 3,1,1,1,1
    """
    import numpy as np

    from blender.validate import check_weights, parse_weights
    from blender.voting import probabilities_to_labels, vote

    predictions = read(files, id_column, task)
    if predictions.kind == "regression":
        raise BlendInputError(
            f"{predictions.paths[0]}: vote needs class labels or probabilities, and these look like regression values; "
            "use blend average (or --task binary if they are probabilities)."
        )
    weight_values = check_weights(parse_weights(weights), predictions.n_models)
    say("votes: " + ", ".join(f"{n}={w:g}" for n, w in zip(predictions.names, weight_values)))
    if predictions.kind == "labels":
        winners = vote(predictions.values, weights=weight_values)
        result = np.asarray(predictions.classes, dtype=object)[winners]
    elif predictions.kind == "binary":
        result = vote(probabilities_to_labels(predictions.values), weights=weight_values)
    else:
        winners = vote(probabilities_to_labels(predictions.values), weights=weight_values)
        result = np.zeros((predictions.n_samples, len(predictions.columns)), dtype=np.int64)
        result[np.arange(predictions.n_samples), winners] = 1
    write(predictions, result, output_path(out, "vote"))


@command("average")
def average_command(
    files: Files = None,
    kind: Annotated[Mean, typer.Option("--kind", "-k", help="Which mean.")] = Mean.arithmetic,
    power: Annotated[Optional[float], typer.Option("--power", "-p", help="Exponent for --kind power (2 squares, 0.5 roots).")] = None,
    weights: WeightsOption = None,
    out: OutPath = None,
    id_column: IdColumn = None,
    task: TaskOption = None,
) -> None:
    """The mean of the predictions, column by column: arithmetic, geometric, harmonic or power.

    For class probabilities every mean but the arithmetic one is renormalised so rows sum to 1.

    Example:

        blend average submissions/*.csv --kind geometric -o blends/geo.csv
    """
    from blender.averaging import average
    from blender.validate import check_weights, parse_weights

    predictions = read(files, id_column, task)
    _refuse_labels(predictions, "average")
    if kind is not Mean.power and power is not None:
        raise BlendInputError(f"--power applies to --kind power only (got --kind {kind.value}); drop one of them.")
    weight_values = check_weights(parse_weights(weights), predictions.n_models)
    result = average(predictions.values, kind=kind.value, power=power, weights=weight_values)
    label = f"power mean (p={power:g})" if kind is Mean.power else f"{kind.value} mean"
    say(f"{label} of {predictions.n_models} files, weights " + ", ".join(f"{n}={w:g}" for n, w in zip(predictions.names, weight_values)))
    write(predictions, result, output_path(out, "average"))


@command("rank-average")
def rank_average_command(
    files: Files = None,
    weights: WeightsOption = None,
    history: Annotated[
        Optional[Path],
        typer.Option(
            "--history",
            help="Earlier predictions to rank against (historical rank): one CSV used for every file, "
            "or a folder holding NAME.csv for each file NAME.",
        ),
    ] = None,
    out: OutPath = None,
    id_column: IdColumn = None,
    task: TaskOption = None,
) -> None:
    """Each column ranked (ties share the average rank), ranks averaged, scaled to [0, 1].

    With --history, each new value takes the scaled rank of the nearest value in the earlier
    predictions, so a handful of new rows land on the same scale as the full earlier set.

    Example:

        blend rank-average submissions/*.csv -o blends/rank.csv

        blend rank-average new/*.csv --history submissions/ -o blends/rank_new.csv
    """
    import numpy as np

    from blender import io
    from blender.rank import historical_rank_average, rank_average
    from blender.validate import check_weights, parse_weights

    predictions = read(files, id_column, task)
    _refuse_labels(predictions, "rank-average")
    weight_values = check_weights(parse_weights(weights), predictions.n_models)
    if history is None:
        result = rank_average(predictions.values, weights=weight_values)
        say("rank average, weights " + ", ".join(f"{n}={w:g}" for n, w in zip(predictions.names, weight_values)))
    else:
        if history.is_dir():
            history_paths = [history / path.name for path in predictions.paths]
            missing = [path for path in history_paths if not path.exists()]
            if missing:
                raise BlendInputError(
                    f"{missing[0]} not found: --history {history} needs NAME.csv for each file "
                    f"({len(missing)} missing); or pass one CSV to rank every file against."
                )
            earlier = io.read_predictions(history_paths, id_column=id_column, like=predictions).values
        else:
            single = io.read_predictions([history], id_column=id_column, like=predictions).values
            earlier = np.repeat(single, predictions.n_models, axis=0 if single.ndim == 3 else 1)
        n_history = earlier.shape[1] if earlier.ndim == 3 else earlier.shape[0]
        result = historical_rank_average(predictions.values, earlier, weights=weight_values)
        say(f"historical rank average against {history} ({n_history:,} earlier rows)")
    write(predictions, result, output_path(out, "rank-average"))


@command("corr")
def corr_command(
    files: Files = None,
    method: Annotated[CorrMethod, typer.Option("--method", "-m", help="Correlation of values, ranks or pair concordance.")] = CorrMethod.pearson,
    plot: Annotated[Optional[Path], typer.Option("--plot", help="Also draw the matrix as a heatmap (PNG, PDF or SVG).")] = None,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Also write the matrix as CSV.")] = None,
    id_column: IdColumn = None,
    task: TaskOption = None,
) -> None:
    """The correlation matrix of the files, as a table on stdout (and a heatmap with --plot).

    Class probabilities are correlated over all their cells; label files show the share of rows
    on which two files agree.

    Example:

        blend corr submissions/*.csv --method spearman --plot blends/corr.png
    """
    import numpy as np

    from blender import io
    from blender.correlation import correlation_matrix, label_agreement

    predictions = read(files, id_column, task)
    if predictions.kind == "labels":
        matrix = label_agreement(predictions.values)
        title = "share of rows with the same label"
    else:
        matrix = correlation_matrix(predictions.values, method=method.value)
        title = f"{method.value} correlation"
    names = predictions.names
    typer.echo(format_table(["", *names], [[name, *map(float, row)] for name, row in zip(names, matrix)]))
    masked = np.where(np.eye(len(names), dtype=bool) | np.isnan(matrix), -np.inf, matrix)
    if np.isfinite(masked).any():
        i, j = np.unravel_index(np.argmax(masked), matrix.shape)
        say(f"{title}; most alike: {names[i]} and {names[j]} ({matrix[i, j]:.4f})")
    elif len(names) > 1:
        say(f"{title}; no pair has a defined correlation (is a file constant?)")
    if out is not None:
        text = "\n".join([",".join(["model", *names])] + [",".join([n, *(repr(float(v)) for v in row)]) for n, row in zip(names, matrix)])
        io.write_text(out, text + "\n")
        say(f"wrote {out}")
    if plot is not None:
        io.save_figure(_heatmap(matrix, names, title), plot)
        say(f"drew {plot}")


def _heatmap(matrix, names: list[str], title: str):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    size = max(4.0, 0.55 * len(names) + 2.5)
    figure, axes = plt.subplots(figsize=(size + 1.2, size))
    import numpy as np

    # Stretch the colours over the range actually present: blends care about 0.90 versus 0.99.
    off_diagonal = matrix[~np.eye(len(names), dtype=bool)]
    off_diagonal = off_diagonal[np.isfinite(off_diagonal)]
    low = float(np.floor(off_diagonal.min() * 20) / 20) if off_diagonal.size else 0.0
    low = min(low, 0.95)
    image = axes.imshow(matrix, cmap="viridis", vmin=low, vmax=1.0)
    axes.set_xticks(range(len(names)), names, rotation=60, ha="right")
    axes.set_yticks(range(len(names)), names)
    if len(names) <= 20:
        for i in range(len(names)):
            for j in range(len(names)):
                value = matrix[i, j]
                axes.text(j, i, "" if value != value else f"{value:.2f}", ha="center", va="center",
                          color="white" if value < (low + 1.0) / 2 else "black", fontsize=8)
    axes.set_title(title)
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04)
    return figure


# ---------------------------------------------------------------------------- learning from OOF rows


class Metric(str, Enum):
    accuracy = "accuracy"
    logloss = "logloss"
    auc = "auc"
    rmse = "rmse"
    mae = "mae"


class Meta(str, Enum):
    logreg = "logreg"
    ridge = "ridge"
    xgb = "xgb"
    et = "et"
    rf = "rf"
    knn = "knn"


class WeightMethod(str, Enum):
    nelder_mead = "nelder-mead"
    slsqp = "slsqp"


OofDir = Annotated[Path, typer.Option("--oof-dir", help="Folder of the out-of-fold files, one NAME.csv per submission.")]
TruthPath = Annotated[Path, typer.Option("--truth", help="id,<target> for the training rows.")]
MetricOption = Annotated[
    Optional[Metric],
    typer.Option("--metric", help="What to optimise and report. [default: logloss for probabilities, accuracy for labels, rmse for regression]", show_default=False),
]
SeedOption = Annotated[int, typer.Option("--seed", help="Seed for folds, bags and meta-learners.")]


@dataclass(frozen=True)
class Learning:
    """Test predictions, the matching OOF (or holdout) predictions, and their truth."""

    test: object
    train: object
    y: object
    metric: str

    def train_values(self):
        return self.train.labels if self.train.kind == "labels" else self.train.values

    def test_values(self):
        return self.test.labels if self.test.kind == "labels" else self.test.values


def read_learning(
    files, train_dir: Path, truth: Path, id_column, task, metric, *, command_name: str, role: str = "OOF",
    make_target: str = "make oof", dir_option: str = "--oof-dir",
) -> Learning:
    """Read the test files, pair each with ``train_dir/NAME.csv``, and read the truth for those rows."""
    from blender import io
    from blender.metrics import check_metric
    from blender.validate import encode_truth

    test = read(files, id_column, task)
    train_paths = [Path(train_dir) / path.name for path in test.paths]
    for path in train_paths:
        if not path.exists():
            raise BlendInputError(
                f"{path} not found: {command_name} learns from {role} predictions (run {make_target}, or pass {dir_option})."
            )
    train = io.read_predictions(train_paths, id_column=id_column, like=test)
    raw = io.read_truth(truth, train.ids, id_column=id_column, source=train.paths[0])
    y = encode_truth(raw, kind=test.kind, columns=test.columns, truth_path=truth, reference_path=test.paths[0])
    chosen_metric = check_metric(metric.value if metric else None, test.kind)
    say(f"{role}: {train.n_samples:,} rows in {train_dir}/, truth {truth}, metric {chosen_metric}")
    return Learning(test=test, train=train, y=y, metric=chosen_metric)


def single_scores(learning: Learning) -> list[float]:
    from blender.metrics import score

    values = learning.train_values()
    return [
        score(learning.y, values[j] if values.ndim == 3 else values[:, j], metric=learning.metric, kind=learning.train.kind)
        for j in range(learning.train.n_models)
    ]


def blend_score(learning: Learning, predictions) -> float:
    from blender.metrics import score

    return score(learning.y, predictions, metric=learning.metric, kind=learning.train.kind)


def _refuse_labels_learning(learning: Learning, command_name: str) -> None:
    if learning.test.kind == "labels":
        raise BlendInputError(
            f"{learning.test.paths[0]}: {command_name} weighs probabilities or values, and these files hold labels; "
            "use blend vote, blend select or blend stack for label files."
        )


def best_single(learning: Learning) -> tuple[str, float]:
    """The name and OOF score of the best single file."""
    from blender.metrics import greater_is_better

    scores = single_scores(learning)
    best = (max if greater_is_better(learning.metric) else min)(range(len(scores)), key=scores.__getitem__)
    return learning.train.names[best], scores[best]


def _report_vs_best(learning: Learning, blended_oof, label: str, best: tuple[str, float]) -> None:
    say(f"{label} OOF {learning.metric}: {blend_score(learning, blended_oof):.6f}   "
        f"(best single: {best[0]} {best[1]:.6f})")


def _save_weights(path: Path | None, learning: Learning, weights) -> None:
    """Write ``{"metric": ..., "weights": {name: weight}}`` for --weights-out."""
    import json

    from blender import io

    if path is None:
        return
    payload = {name: float(w) for name, w in zip(learning.train.names, weights)}
    io.write_text(path, json.dumps({"metric": learning.metric, "weights": payload}, indent=2) + "\n")
    say(f"wrote {path}")


@command("score")
def score_command(
    files: Files = None,
    metric: MetricOption = None,
    cv: Annotated[int, typer.Option("--cv", help="Folds over the OOF rows for scoring the blend methods honestly.")] = 5,
    models_only: Annotated[bool, typer.Option("--models-only", help="Score the files only, not the blend methods.")] = False,
    plot: Annotated[Optional[Path], typer.Option("--plot", help="Draw the leaderboard as a bar chart (PNG).")] = None,
    oof_dir: OofDir = Path("submissions/oof"),
    truth: TruthPath = Path("data/train_labels.csv"),
    seed: SeedOption = 0,
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Also write the leaderboard as CSV.")] = None,
    id_column: IdColumn = None,
    task: TaskOption = None,
) -> None:
    """A leaderboard of each file's OOF score and of each blend method, best first.

    Blend methods are scored honestly: each is fitted on K-1 folds of the OOF rows and scores
    the held-out fold, so a blend that overfits the OOF rows shows it.

    Example:

        blend score submissions/*.csv --metric logloss --plot blends/leaderboard.png
    """
    from blender import io

    learning = read_learning(files, oof_dir, truth, id_column, task, metric, command_name="score")
    started = time.perf_counter()
    if models_only:
        from blender.metrics import greater_is_better

        scores = single_scores(learning)
        rows = sorted(
            [(name, "model", value) for name, value in zip(learning.train.names, scores)],
            key=lambda row: row[2], reverse=greater_is_better(learning.metric),
        )
    else:
        from blender.evaluation import leaderboard

        say(f"scoring {learning.train.n_models} files and the blend methods by {cv}-fold CV over the OOF rows ...")
        rows = leaderboard(
            learning.train_values(), learning.y, kind=learning.train.kind, metric=learning.metric,
            names=learning.train.names, cv=cv, random_state=seed,
        )
    rows = [tuple(row) for row in rows]
    table = format_table(["rank", "name", "type", f"OOF {learning.metric}"], [[i + 1, r[0], r[1], float(r[2])] for i, r in enumerate(rows)])
    typer.echo(table)
    say(f"scored in {time.perf_counter() - started:.1f} s; blends scored out of fold ({cv} folds), files on all OOF rows")
    if out is not None:
        io.write_text(out, "rank,name,type,score\n" + "".join(f"{i + 1},{r[0]},{r[1]},{float(r[2])!r}\n" for i, r in enumerate(rows)))
        say(f"wrote {out}")
    if plot is not None:
        io.save_figure(_leaderboard_chart(rows, learning.metric), plot)
        say(f"drew {plot}")


def _leaderboard_chart(rows, metric: str):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    names = [r[0] for r in rows][::-1]
    values = [float(r[2]) for r in rows][::-1]
    colours = ["tab:orange" if r[1] != "model" else "tab:blue" for r in rows][::-1]
    figure, axes = plt.subplots(figsize=(7, 0.32 * len(rows) + 1.2))
    axes.barh(names, values, color=colours)
    low, high = min(values), max(values)
    pad = (high - low) * 0.1 or abs(high) * 0.05 or 0.05
    axes.set_xlim(low - pad, high + pad)
    axes.set_xlabel(f"OOF {metric} (blends: cross-validated)")
    axes.set_title("leaderboard (orange: blends, blue: single files)")
    return figure


@command("select")
def select_command(
    files: Files = None,
    max_corr: Annotated[float, typer.Option("--max-corr", help="Add a file only if its correlation with every chosen file is below this.")] = 0.95,
    top: Annotated[Optional[int], typer.Option("--top", help="Choose at most K files.")] = None,
    method: Annotated[CorrMethod, typer.Option("--method", "-m", help="Correlation used for the bound.")] = CorrMethod.pearson,
    metric: MetricOption = None,
    oof_dir: OofDir = Path("submissions/oof"),
    truth: TruthPath = Path("data/train_labels.csv"),
    seed: SeedOption = 0,
    out: OutPath = None,
    id_column: IdColumn = None,
    task: TaskOption = None,
) -> None:
    """Correlation-aware selection: the best OOF file first, then each next-best file whose
    correlation with all chosen stays under --max-corr; writes the average of the chosen
    (their vote, for label files).

    Example:

        blend select submissions/*.csv --max-corr 0.95 --top 5 -o blends/select.csv
    """
    import numpy as np

    from blender.averaging import average
    from blender.correlation import correlation_matrix, label_agreement
    from blender.metrics import greater_is_better
    from blender.selection import select_uncorrelated
    from blender.voting import vote

    if top is not None and top < 1:
        raise BlendInputError(f"--top {top}: choose at least one file.")
    learning = read_learning(files, oof_dir, truth, id_column, task, metric, command_name="select")
    scores = single_scores(learning)
    if learning.train.kind == "labels":
        corr = label_agreement(learning.train.values)
    else:
        corr = correlation_matrix(learning.train.values, method=method.value)
    chosen = select_uncorrelated(
        np.asarray(scores), corr, greater_is_better=greater_is_better(learning.metric), max_corr=max_corr, top=top
    )
    rows = []
    for position, j in enumerate(chosen):
        highest = max((corr[j, k] for k in chosen[:position]), default=float("nan"))
        rows.append([learning.train.names[j], float(scores[j]), float(highest)])
    say(format_table(["chosen", f"OOF {learning.metric}", "max corr with earlier"], rows))
    left_out = [n for j, n in enumerate(learning.train.names) if j not in chosen]
    if left_out:
        say("left out: " + ", ".join(left_out))
    if learning.test.kind == "labels":
        winners = vote(learning.test.values[:, chosen])
        result = np.asarray(learning.test.classes, dtype=object)[winners]
    else:
        subset = learning.test.values[chosen] if learning.test.kind == "multiclass" else learning.test.values[:, chosen]
        result = average(subset)
        train_subset = learning.train.values[chosen] if learning.train.kind == "multiclass" else learning.train.values[:, chosen]
        _report_vs_best(learning, average(train_subset), f"average of {len(chosen)} chosen,", best_single(learning))
    write(learning.test, result, output_path(out, "select"))


@command("caruana")
def caruana_command(
    files: Files = None,
    init: Annotated[int, typer.Option("--init", help="Start from the N best files (sorted initialisation); 0 starts empty.")] = 5,
    iters: Annotated[int, typer.Option("--iters", help="Forward-selection steps.")] = 50,
    bags: Annotated[int, typer.Option("--bags", help="Bagged selection: run on B random subsets of the files and average the weights.")] = 1,
    bag_fraction: Annotated[float, typer.Option("--bag-fraction", help="Share of the files each bag may choose from.")] = 0.5,
    no_replacement: Annotated[bool, typer.Option("--no-replacement", help="Never add the same file twice.")] = False,
    weights_out: Annotated[Optional[Path], typer.Option("--weights-out", help="Save the weights as JSON.")] = None,
    plot: Annotated[Optional[Path], typer.Option("--plot", help="Draw the OOF score along the selection (PNG).")] = None,
    metric: MetricOption = None,
    oof_dir: OofDir = Path("submissions/oof"),
    truth: TruthPath = Path("data/train_labels.csv"),
    seed: SeedOption = 0,
    out: OutPath = None,
    id_column: IdColumn = None,
    task: TaskOption = None,
) -> None:
    """Greedy ensemble selection (Caruana et al. 2004) on the OOF rows, with replacement,
    sorted initialisation and bagging; writes the weighted blend of the test files.

    Example:

        blend caruana submissions/*.csv --init 3 --iters 100 --bags 20 --metric logloss
    """
    from blender import io
    from blender.averaging import average
    from blender.caruana import caruana_select

    learning = read_learning(files, oof_dir, truth, id_column, task, metric, command_name="caruana")
    _refuse_labels_learning(learning, "caruana")
    if not 0.0 < bag_fraction <= 1.0:
        raise BlendInputError(f"--bag-fraction {bag_fraction:g}: give a share in (0, 1], e.g. 0.5.")
    if iters < 1 and init < 1:
        raise BlendInputError("--iters 0 with --init 0 selects nothing; give --iters 1 or more.")
    if bags < 1:
        raise BlendInputError(f"--bags {bags}: give 1 or more.")
    started = time.perf_counter()
    result = caruana_select(
        learning.train.values, learning.y, kind=learning.train.kind, metric=learning.metric, init=init,
        iters=iters, bags=bags, bag_fraction=bag_fraction, replacement=not no_replacement, random_state=seed,
    )
    say(f"caruana: init {init}, {iters} iterations, {bags} bag(s), "
        f"{'without' if no_replacement else 'with'} replacement ({time.perf_counter() - started:.1f} s)")
    say(weights_table(learning.train.names, result.weights))
    best = best_single(learning)
    _report_vs_best(learning, average(learning.train.values, weights=result.weights), "caruana blend", best)
    _save_weights(weights_out, learning, result.weights)
    if plot is not None:
        io.save_figure(_trajectory_chart(result, learning.metric, best[1]), plot)
        say(f"drew {plot}")
    write(learning.test, average(learning.test.values, weights=result.weights), output_path(out, "caruana"))


def _trajectory_chart(result, metric: str, best_single_score: float):
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    steps = [point[0] for point in result.trajectory]
    values = [point[1] for point in result.trajectory]
    figure, axes = plt.subplots(figsize=(7, 4))
    axes.plot(steps, values, marker=".", label="ensemble (OOF)")
    axes.axhline(best_single_score, color="tab:red", linestyle="--", label="best single file")
    axes.axvline(result.best_iteration, color="tab:gray", linestyle=":", label="kept")
    axes.set_xlabel("iteration (0: the sorted initialisation)")
    axes.set_ylabel(f"OOF {metric}")
    axes.set_title("Caruana ensemble selection")
    axes.legend()
    return figure


@command("weights")
def weights_command(
    files: Files = None,
    method: Annotated[WeightMethod, typer.Option("--method", help="scipy.optimize method.")] = WeightMethod.slsqp,
    weights_out: Annotated[Optional[Path], typer.Option("--weights-out", help="Save the weights as JSON.")] = None,
    metric: MetricOption = None,
    oof_dir: OofDir = Path("submissions/oof"),
    truth: TruthPath = Path("data/train_labels.csv"),
    seed: SeedOption = 0,
    out: OutPath = None,
    id_column: IdColumn = None,
    task: TaskOption = None,
) -> None:
    """Weights on the simplex (non-negative, summing to 1) that optimise the metric on the
    OOF rows; writes the weighted average of the test files.

    Example:

        blend weights submissions/*.csv --method nelder-mead --metric logloss
    """
    from blender.averaging import average
    from blender.weights import optimize_weights

    learning = read_learning(files, oof_dir, truth, id_column, task, metric, command_name="weights")
    _refuse_labels_learning(learning, "weights")
    started = time.perf_counter()
    weight_values = optimize_weights(
        learning.train.values, learning.y, kind=learning.train.kind, metric=learning.metric,
        method=method.value, random_state=seed,
    )
    say(f"{method.value} weights ({time.perf_counter() - started:.1f} s)")
    say(weights_table(learning.train.names, weight_values))
    _report_vs_best(learning, average(learning.train.values, weights=weight_values), "weighted blend", best_single(learning))
    _save_weights(weights_out, learning, weight_values)
    write(learning.test, average(learning.test.values, weights=weight_values), output_path(out, "weights"))


MetaOption = Annotated[Meta, typer.Option("--meta", help="The meta-learner.")]
FwlsOption = Annotated[bool, typer.Option("--fwls", help="Feature-weighted linear stacking (Sill et al. 2009).")]
QuadraticOption = Annotated[bool, typer.Option("--quadratic", help="Add pairwise products of the models' predictions.")]
LogitOption = Annotated[bool, typer.Option("--logit", help="Feed probabilities to the meta-learner as logits.")]
FeaturesOption = Annotated[
    Optional[str],
    typer.Option("--features", help="TRAIN.csv,TEST.csv: original features (id first) to add to the meta-learner's inputs."),
]


def _meta_options(learning: Learning, features: str | None, id_column):
    from blender import io

    if features is None:
        return None, None
    parts = [part for part in features.split(",") if part]
    if len(parts) != 2:
        raise BlendInputError(f"--features {features}: give two files, TRAIN.csv,TEST.csv, for the OOF and the test rows.")
    train_features, test_features, names = io.read_features(
        Path(parts[0]), Path(parts[1]), learning.train.ids, learning.test.ids, id_column=id_column
    )
    say(f"features: {len(names)} columns from {parts[0]} and {parts[1]}")
    return train_features, test_features


@command("stack")
def stack_command(
    files: Files = None,
    meta: MetaOption = Meta.logreg,
    folds: Annotated[int, typer.Option("--folds", help="Folds for the meta-learner's own CV score.")] = 5,
    features: FeaturesOption = None,
    fwls: FwlsOption = False,
    quadratic: QuadraticOption = False,
    logit: LogitOption = False,
    metric: MetricOption = None,
    oof_dir: OofDir = Path("submissions/oof"),
    truth: TruthPath = Path("data/train_labels.csv"),
    seed: SeedOption = 0,
    out: OutPath = None,
    id_column: IdColumn = None,
    task: TaskOption = None,
) -> None:
    """Stacking: a meta-learner fitted on the OOF predictions (optionally with the original
    features, FWLS or pairwise products) predicts the test rows; prints its own CV score.

    Example:

        blend stack submissions/*.csv --meta logreg --folds 5

        blend stack submissions/*.csv --meta xgb --features data/train.csv,data/test.csv
    """
    from blender.stacking import stack

    learning = read_learning(files, oof_dir, truth, id_column, task, metric, command_name="stack")
    train_features, test_features = _meta_options(learning, features, id_column)
    started = time.perf_counter()
    result = stack(
        learning.train_values(), learning.y, learning.test_values(), kind=learning.train.kind, meta=meta.value,
        folds=folds, train_features=train_features, test_features=test_features, fwls=fwls, quadratic=quadratic,
        logit=logit, metric=learning.metric, random_state=seed,
    )
    extras = [label for label, on in (("features", features), ("fwls", fwls), ("quadratic", quadratic), ("logit", logit)) if on]
    say(f"stack: meta {meta.value}{' + ' + ', '.join(extras) if extras else ''}, fitted on {learning.train.n_samples:,} OOF rows "
        f"({time.perf_counter() - started:.1f} s)")
    best_name, best_score = best_single(learning)
    say(f"meta-learner {folds}-fold CV {learning.metric}: {result.cv_score:.6f}   "
        f"(best single: {best_name} {best_score:.6f})")
    write(learning.test, result.test_predictions, output_path(out, "stack"))


@command("holdout")
def holdout_command(
    files: Files = None,
    meta: MetaOption = Meta.logreg,
    holdout_dir: Annotated[Path, typer.Option("--holdout-dir", help="Folder of the holdout predictions, one NAME.csv per submission.")] = Path("submissions/holdout"),
    features: FeaturesOption = None,
    fwls: FwlsOption = False,
    quadratic: QuadraticOption = False,
    logit: LogitOption = False,
    metric: MetricOption = None,
    truth: TruthPath = Path("data/train_labels.csv"),
    seed: SeedOption = 0,
    out: OutPath = None,
    id_column: IdColumn = None,
    task: TaskOption = None,
) -> None:
    """Blending: the meta-learner is fitted on the holdout predictions (made by models that
    never saw those rows) and the truth of those rows, then predicts the test rows.

    Example:

        blend holdout submissions/*.csv --meta logreg --holdout-dir submissions/holdout
    """
    from blender.holdout import holdout_blend

    learning = read_learning(
        files, holdout_dir, truth, id_column, task, metric, command_name="holdout", role="holdout",
        make_target="make holdout", dir_option="--holdout-dir",
    )
    train_features, test_features = _meta_options(learning, features, id_column)
    result = holdout_blend(
        learning.train_values(), learning.y, learning.test_values(), kind=learning.train.kind, meta=meta.value,
        train_features=train_features, test_features=test_features, fwls=fwls, quadratic=quadratic, logit=logit,
        metric=learning.metric, random_state=seed,
    )
    best_name, best_score = best_single(learning)
    say(f"holdout blend: meta {meta.value} fitted on {learning.train.n_samples:,} holdout rows; "
        f"its CV {learning.metric} on them: {result.cv_score:.6f} (best single on the holdout: {best_name} {best_score:.6f})")
    write(learning.test, result.test_predictions, output_path(out, "holdout"))


def _refuse_labels(predictions, command_name: str) -> None:
    if predictions.kind == "labels":
        raise BlendInputError(
            f"{predictions.paths[0]}: {command_name} needs probabilities or regression values, and this file holds "
            "class labels; use blend vote (or pass --task binary if the column holds 0/1 probabilities)."
        )


def main() -> None:
    """Entry point of the ``blend`` console script."""
    app(prog_name="blend")


if __name__ == "__main__":
    main()
