"""The ``blend`` command: parse, read with ``blender.io``, call one method, write, report on stderr.

Heavy libraries (pandas, pyarrow, scipy, scikit-learn, matplotlib) are imported inside the
commands, so ``blend --help`` starts quickly.
"""

from __future__ import annotations

import functools
import glob
import os
import sys
import time
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
        return "nan" if value != value else f"{value:.6f}" if abs(value) < 1e4 else f"{value:.6g}"
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
    off_diagonal = matrix[~np.eye(len(names), dtype=bool)]
    if off_diagonal.size:
        i, j = np.unravel_index(np.nanargmax(np.where(np.eye(len(names), dtype=bool), -np.inf, matrix)), matrix.shape)
        say(f"{title}; most alike: {names[i]} and {names[j]} ({matrix[i, j]:.4f})")
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
