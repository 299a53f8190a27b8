"""The ``blend`` app, its shared options (declared once), and the decorator that makes a function a command."""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable, Iterable
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Optional, cast

import typer

from blender import arrays, correlation, metrics, results
from blender import journal as records
from blender.cli import journal, output
from blender.errors import BlendInputError
from blender.session import DEFAULT_GLOB, DEFAULT_OOF, DEFAULT_TRUTH, Shared

app = typer.Typer(
    help="Blend Kaggle submissions: vote, average, rank-average, correlate, select, Caruana, hill-climb, "
    "optimise weights, stack, and pick the blend to submit (auto).",
    add_completion=False,
    no_args_is_help=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _choices(name: str, values: Iterable[str]) -> type[Enum]:
    """An option's choices, from the library's own list of them."""
    return cast("type[Enum]", Enum(name, {value: value for value in values}, type=str))


if TYPE_CHECKING:  # to the type checker a choice is the string it holds
    Task = str
    CorrMethod = str
    Device = str
else:
    Task = _choices("Task", metrics.KINDS)
    CorrMethod = _choices("CorrMethod", correlation.CORRELATION_METHODS)
    Device = _choices("Device", ("cpu", "gpu"))

Command = Callable[..., Any]

# Options shared by the commands, declared once.
Files = Annotated[
    Optional[list[str]],
    typer.Argument(
        help=f"Prediction files (.csv, .csv.gz or .parquet); a quoted glob is expanded. [default: {DEFAULT_GLOB}]",
        show_default=False,
    ),
]
OutPath = Annotated[
    Optional[Path],
    typer.Option(
        "--out",
        "-o",
        help="Blend to write (.csv, .csv.gz or .parquet). [default: blends/COMMAND.csv]",
        show_default=False,
    ),
]
IdColumn = Annotated[
    Optional[str], typer.Option("--id", help="Name of the id column. [default: the first column]", show_default=False)
]
TaskOption = Annotated[
    Optional[Task],
    typer.Option("--task", help="What the columns hold; inferred from the files unless given.", show_default=False),
]
WeightsOption = Annotated[
    Optional[str],
    typer.Option("--weights", "-w", help="One non-negative weight per file, comma-separated, e.g. 3,1,1."),
]
OofDir = Annotated[
    Path, typer.Option("--oof-dir", help="Folder of the out-of-fold files, one NAME.csv per submission.")
]
TruthPath = Annotated[Path, typer.Option("--truth", help="id,<target> for the training rows.")]
MetricOption = Annotated[
    Optional[str],
    typer.Option(
        "--metric",
        help=f"The competition's metric, optimised and reported: {metrics.names()} (map@K for "
        "K = 1..10), or FILE.py:FUNCTION for your own. [default: logloss for probabilities, accuracy for "
        "labels, rmse for regression]",
        show_default=False,
    ),
]
DirectionOption = Annotated[
    Optional[bool],
    typer.Option(
        "--greater-is-better/--smaller-is-better",
        help="The direction of your own --metric FILE.py:FUNCTION (unless the function carries greater_is_better).",
        show_default=False,
    ),
]
ClassesOption = Annotated[
    Optional[str],
    typer.Option(
        "--classes",
        help="A,B,C: the order of the classes for qwk. [default: sorted, numbers as numbers]",
        show_default=False,
    ),
]
NoPostOption = Annotated[
    bool,
    typer.Option(
        "--no-post",
        help="Write the blend's scores, not the metric's decisions (threshold labels, qwk classes, top-K labels).",
    ),
]
SeedOption = Annotated[
    int,
    typer.Option(
        "--seed", min=0, max=2**32 - 1, help="Seed for the folds of the cross-validated scores, bags and meta-learners."
    ),
]
CvOption = Annotated[
    Optional[int],
    typer.Option(
        "--cv",
        help="K seeded folds over the OOF rows for the honest scores, "
        "instead of the folds file. [default: the folds file, else 5]",
        show_default=False,
    ),
]
FoldsOption = Annotated[
    Optional[str],
    typer.Option(
        "--folds",
        help="The folds of the honest scores and of --oof-out: a folds file (id,fold), shared by "
        "every level, or a number K of seeded folds. [default: folds.csv beside --truth (data/folds.csv) "
        "where it exists, else 5 seeded folds]",
        show_default=False,
    ),
]
OofOutOption = Annotated[
    Optional[Path],
    typer.Option(
        "--oof-out",
        help="Where to write the blend's own OOF predictions, cross-fitted on the folds, for a "
        "next level. [default: oof/NAME.csv beside the blend, e.g. blends/oof/caruana.csv]",
        show_default=False,
    ),
]
NoOofOption = Annotated[bool, typer.Option("--no-oof-out", help="Write no OOF predictions.")]
CalibrateOption = Annotated[
    bool,
    typer.Option(
        "--calibrate", help="Temperature-scale each file's probabilities first (fitted on the OOF rows only)."
    ),
]
PlotOption = Annotated[Optional[Path], typer.Option("--plot", help="Also draw a chart (PNG, PDF or SVG).")]
MemoryOption = Annotated[
    Optional[str],
    typer.Option(
        "--memory",
        help="Memory budget, e.g. 2GB: files that would not fit are blended out of core on DuckDB. "
        "[default: out of core only when the files would need over half of this machine's memory]",
        show_default=False,
    ),
]
WeightsOut = Annotated[Optional[Path], typer.Option("--weights-out", help="Save the weights as JSON.")]
PositiveOption = Annotated[
    Optional[str],
    typer.Option(
        "--positive",
        help="The truth's label that a binary probability column predicts. "
        "[default: the label the column is named after, else the second in sorted order]",
        show_default=False,
    ),
]
SampleOption = Annotated[
    Optional[Path],
    typer.Option(
        "--sample",
        help="The competition's sample_submission.csv: the blend takes its id order, id text and "
        "header, and ids or columns that disagree with it are refused before anything is written.",
    ),
]
FeaturesOption = Annotated[
    Optional[str],
    typer.Option(
        "--features", help="TRAIN.csv,TEST.csv: original features (id first) to add to the meta-learner's inputs."
    ),
]


#: The options of every command that learns from OOF rows, in the order ``--help`` lists them:
#: (parameter, option, default). :func:`learning_options` gives them to a command as one :class:`Shared`.
LEARNING_OPTIONS = (
    ("metric", MetricOption, None),
    ("greater_is_better", DirectionOption, None),
    ("classes", ClassesOption, None),
    ("no_post", NoPostOption, False),
    ("oof_dir", OofDir, DEFAULT_OOF),
    ("truth", TruthPath, DEFAULT_TRUTH),
    ("positive", PositiveOption, None),
    ("cv", CvOption, None),
    ("folds", FoldsOption, None),
    ("seed", SeedOption, 0),
    ("sample", SampleOption, None),
    ("out", OutPath, None),
    ("oof_out", OofOutOption, None),
    ("no_oof_out", NoOofOption, False),
    ("id_column", IdColumn, None),
    ("task", TaskOption, None),
)

#: ``blend holdout``'s learning options: its rows are the holdout rows (``--holdout-dir``), never folded by the
#: training rows' folds file, and it writes OOF predictions only when asked.
HOLDOUT_OPTIONS = (
    *LEARNING_OPTIONS[:4],
    (
        "oof_dir",
        Annotated[
            Path, typer.Option("--holdout-dir", help="Folder of the holdout predictions, one NAME.csv per submission.")
        ],
        Path("submissions/holdout"),
    ),
    *LEARNING_OPTIONS[5:7],
    (
        "folds",
        Annotated[
            Optional[str],
            typer.Option(
                "--folds",
                help="Folds over the holdout rows for the meta-learner's CV score and --oof-out: a number K of "
                "seeded folds, or a folds file (id,fold) of the holdout rows. [default: 5]",
                show_default=False,
            ),
        ],
        None,
    ),
    *LEARNING_OPTIONS[9:12],
    (
        "oof_out",
        Annotated[
            Optional[Path],
            typer.Option(
                "--oof-out",
                help="Also write the blend's OOF predictions of the holdout rows, cross-fitted on --folds. "
                "[default: none]",
                show_default=False,
            ),
        ],
        None,
    ),
    *LEARNING_OPTIONS[14:],
)


DeviceOption = Annotated[
    Device,
    typer.Option(
        "--device",
        help="Where the fold scores are computed: gpu needs CuPy and a visible GPU (pip install cupy-cuda12x).",
    ),
]


def device_option(function: Command) -> Command:
    """Give a command ``--device cpu|gpu``: the command runs in that array namespace (:mod:`blender.arrays`),
    resolved before any work, so ``gpu`` without CuPy or a GPU is one ``Error:`` line."""
    signature = inspect.signature(function, eval_str=True)
    parameters = list(signature.parameters.values())
    added = inspect.Parameter("device", inspect.Parameter.KEYWORD_ONLY, default="cpu", annotation=DeviceOption)
    at = next((i for i, p in enumerate(parameters) if p.kind == p.VAR_KEYWORD), len(parameters))

    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        device = kwargs.pop("device", "cpu")
        with arrays.on_device(getattr(device, "value", device)):
            return function(*args, **kwargs)

    run.__signature__ = signature.replace(parameters=[*parameters[:at], added, *parameters[at:]])  # type: ignore[attr-defined]
    return run


def learning_options(
    function: Command | None = None, *, without: tuple[str, ...] = (), options: tuple = LEARNING_OPTIONS
) -> Any:
    """Give a command the shared learning ``options`` (all but ``without``), passed to it as ``shared``.

    The command declares its own options and a keyword ``shared: Shared``; its ``--help``
    lists its own options, then the shared ones.
    """

    def decorate(function: Command) -> Command:
        signature = inspect.signature(function, eval_str=True)
        # A **options catch-all takes a generated command's own options, which its signature lists instead.
        own = [
            parameter
            for name, parameter in signature.parameters.items()
            if name != "shared" and parameter.kind != parameter.VAR_KEYWORD
        ]
        added = [
            inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=option)
            for name, option, default in options
            if name not in without
        ]

        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> Any:
            shared = Shared(**{name: kwargs.pop(name, default) for name, _, default in options})
            return function(*args, shared=shared, **kwargs)

        run.__signature__ = signature.replace(parameters=[*own, *added])  # type: ignore[attr-defined]
        return device_option(run)

    return decorate(function) if function is not None else decorate


def command(name: str, *, logs: bool = True) -> Callable[[Command], Command]:
    """Register a command whose bad-input errors become one ``Error:`` line and exit status 1.

    A command that ``logs`` (every command that writes a file) also takes ``--log PATH`` and
    ``--no-log``, and runs with its record being kept (:mod:`blender.cli.journal`).
    """

    def decorate(function: Command) -> Command:
        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> None:
            as_json = kwargs.pop("json_output", False)
            with results.collecting(name, as_json) as document:
                try:
                    if not logs:
                        function(*args, **kwargs)
                    else:
                        with records.recording(kwargs.pop("log", None), kwargs.pop("no_log", False)):
                            function(*args, **kwargs)
                except BlendInputError as error:
                    if os.environ.get("BLEND_DEBUG"):
                        raise
                    typer.echo(f"Error: {error}", err=True)
                    if as_json:
                        typer.echo(results.dumps(results.error_document(str(error))))
                    raise typer.Exit(1) from None
                except KeyboardInterrupt:
                    typer.echo("Interrupted; no output written.", err=True)
                    raise typer.Exit(130) from None
                except typer.Exit as done:
                    if document is not None and done.exit_code in (0, 3, 4):
                        typer.echo(results.dumps({**document, "exit_status": done.exit_code}))
                    raise
                if document is not None:
                    typer.echo(results.dumps(document))

        signature = journal.with_log_options(function) if logs else inspect.signature(function, eval_str=True)
        json_option = inspect.Parameter(
            "json_output", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=output.JsonOption
        )
        run.__signature__ = signature.replace(  # type: ignore[attr-defined]
            parameters=[*signature.parameters.values(), json_option]
        )
        return app.command(name, cls=journal.LoggedCommand)(run)

    return decorate
