"""Every method command, generated from its registry line (:class:`blender.methods.Method`): ``blend NAME``, its
own options (``Method.params``), the option groups it ``takes``, the options every command shares, and its help
(``Method.doc``). The command parses; :mod:`blender.commands` does the work."""

from __future__ import annotations

import functools
import inspect
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Any, Optional

import typer

from blender.cli.common import (
    HOLDOUT_OPTIONS,
    LEARNING_OPTIONS,
    CalibrateOption,
    FeaturesOption,
    Files,
    FoldsOption,
    IdColumn,
    MemoryOption,
    NoOofOption,
    OofDir,
    OofOutOption,
    OutPath,
    PositiveOption,
    SampleOption,
    SeedOption,
    TaskOption,
    TruthPath,
    WeightsOption,
    WeightsOut,
    _choices,
    app,
    command,
    learning_options,
)
from blender.methods import HOLDOUT_DOC, METHODS, Method, Option
from blender.session import DEFAULT_OOF, DEFAULT_TRUTH, Shared

PlotOption = Annotated[Optional[Path], typer.Option("--plot", help="Draw the OOF score along the search (PNG).")]
HistoryOption = Annotated[
    Optional[Path],
    typer.Option(
        "--history",
        help="Earlier predictions to rank against (historical rank): one file used for every "
        "file, or a folder holding NAME.csv for each file NAME.",
    ),
]
VoteTruthOption = Annotated[
    Optional[Path],
    typer.Option(
        "--truth",
        help="id,<target>: for binary probability files, votes "
        "are written as its two labels (e.g. No/Yes). [default: data/train_labels.csv where it exists]",
        show_default=False,
    ),
]

Item = tuple[str, Any, Any]  # a command's parameter: (name, typer option, default)

#: The option groups a registry line may ask for (``Method.takes``), each as (parameter, option, default).
GROUPS: dict[str, tuple[Item, ...]] = {
    "weights": (("weights", WeightsOption, None),),
    "history": (("history", HistoryOption, None),),
    "vote-labels": (("truth", VoteTruthOption, None), ("positive", PositiveOption, None)),
    "features": (("features", FeaturesOption, None),),
    "memory": (("memory", MemoryOption, None),),
}
#: A method that does not learn but offers ``--calibrate`` reads the OOF rows for it with these.
CALIBRATION: tuple[Item, ...] = (
    ("oof_dir", OofDir, DEFAULT_OOF),
    ("truth", TruthPath, DEFAULT_TRUTH),
    ("positive", PositiveOption, None),
    ("folds", FoldsOption, None),
    ("seed", SeedOption, 0),
)
PLAIN: tuple[Item, ...] = (("sample", SampleOption, None), ("out", OutPath, None))
CALIBRATION_OUT: tuple[Item, ...] = (("oof_out", OofOutOption, None), ("no_oof_out", NoOofOption, False))
LAST: tuple[Item, ...] = (("id_column", IdColumn, None), ("task", TaskOption, None))
#: What a learning method's command offers when its registry line asks: --calibrate, --weights-out, --plot.
LEARNED_EXTRAS: tuple[Item, ...] = (
    ("calibrate", CalibrateOption, False),
    ("weights_out", WeightsOut, None),
    ("plot", PlotOption, None),
)


def generate_commands() -> None:
    """A command for each registry line that names no other command (``command`` None) and has none yet; ``blend
    stack`` from the stacking line that documents it, and ``blend holdout`` from the line that ``takes`` it."""
    taken = {info.name for info in app.registered_commands}
    for method in METHODS:
        if method.name not in taken and (method.command is None or method.command == method.name):
            _generate(method.name, method)
        elif method.command is not None and method.command not in taken and method.doc is not None:
            _generate(method.command, method)  # the line that documents a shared command (stack) gives it
        if "holdout" in method.takes and "holdout" not in taken:
            _generate("holdout", method)


def _generate(name: str, method: Method) -> None:
    """Register ``blend NAME`` for ``method``: the files, its own options, its groups, the shared options."""
    run: Any = functools.partial(_learned if method.learns else _plain, name, method)
    run.__name__ = name.replace("-", "_") + "_command"
    run.__doc__ = HOLDOUT_DOC if name == "holdout" else method.doc or _default_doc(method)
    run.__module__ = __name__
    run.__annotations__ = {}  # typer reads the types from the signature below
    items: list[Item] = [
        (_parameter_name(option), _annotation(option), False if option.negated else option.default)
        for option in method.params
    ]
    items += [item for group in method.takes if group in GROUPS and group != "memory" for item in GROUPS[group]]
    if method.learns:
        wanted = {"calibrate": method.calibrates, "weights_out": method.weighs, "plot": method.chart is not None}
        items += [item for item in LEARNED_EXTRAS if wanted[item[0]]]
    else:
        calibration = method.calibrates
        items += [
            *([("calibrate", CalibrateOption, False)] if calibration else []),
            *(GROUPS["memory"] if "memory" in method.takes else ()),
            *(CALIBRATION if calibration else ()),
            *PLAIN,
            *(CALIBRATION_OUT if calibration else ()),
            *LAST,
        ]
    run.__signature__ = inspect.Signature(_parameters([("files", Files, None)]) + _parameters(items, keyword=True))
    if not method.learns:
        command(name)(run)
        return
    options = HOLDOUT_OPTIONS if name == "holdout" else LEARNING_OPTIONS
    without = ("cv",) if "features" in method.takes else ()  # the stacking commands fold with --folds alone
    command(name)(learning_options(run, without=without, options=options))


def _parameters(items: list[Item], *, keyword: bool = False) -> list[inspect.Parameter]:
    kind = inspect.Parameter.KEYWORD_ONLY if keyword else inspect.Parameter.POSITIONAL_OR_KEYWORD
    return [inspect.Parameter(name, kind, default=default, annotation=option) for name, option, default in items]


def _parameter_name(option: Option) -> str:
    return ("no_" if option.negated else "") + option.name


def _own_options(method: Method, values: dict[str, Any]) -> dict[str, Any]:
    """The entry's own options from the command's parameters (``values`` loses them), as its fit takes them."""
    options = {}
    for option in method.params:
        value = values.pop(_parameter_name(option), option.default)
        options[option.name] = (not value) if option.negated else getattr(value, "value", value)
    return options


def _plain(name: str, method: Method, /, files: list[str] | None = None, **values: Any) -> None:
    from blender.commands import files as run_files
    from blender.methods import check_options

    options = _own_options(method, values)
    check_options(method, options)
    values["task"] = getattr(values.get("task"), "value", values.get("task"))
    if method.calibrates:
        fields = ("oof_dir", "truth", "positive", "folds", "seed", "sample", "out", "oof_out", "no_oof_out")
        shared = Shared(**{field: values.pop(field) for field in (*fields, "id_column", "task")})
        run_files.RUNS[name](files, shared=shared, **options, **values)
    else:
        run_files.RUNS.get(name, functools.partial(run_files.plain, name))(files, **options, **values)


def _learned(name: str, method: Method, /, files: list[str] | None = None, *, shared: Shared, **values: Any) -> None:
    from blender.commands import learning

    options = _own_options(method, values)
    if "features" not in method.takes:
        learning.learned(name, files, shared=shared, **options, **values)
    elif name == "holdout":
        learning.stack(
            files, role="holdout", shared=replace(shared, no_oof_out=shared.oof_out is None), **options, **values
        )
    else:
        learning.stack(files, shared=shared, **options, **values)


def _default_doc(method: Method) -> str:
    options = " ".join(f"{option.flag} {option.default}" for option in method.params if not option.negated)
    return (
        f"{method.summary[0].upper()}{method.summary[1:]}: the registry's '{method.name}' entry"
        f"{', fitted on the OOF rows' if method.learns else ''}, applied to the test files.\n\n"
        f"Example:\n\n    blend {method.name} submissions/*.csv {options + ' ' if options else ''}"
        f"-o blends/{method.name}.csv"
    )


def _annotation(option: Option) -> Any:
    """A typer option for a registry entry's :class:`~blender.methods.Option`."""
    flags = [option.flag] + ([option.short] if option.short else [])
    if option.type is bool:
        if option.negated:
            return Annotated[bool, typer.Option(*flags, help=option.help)]
        return Annotated[bool, typer.Option(f"{option.flag}/--no-{option.flag[2:]}", help=option.help)]
    if option.choices is not None:
        choice = _choices(option.name.title(), option.choices)
        return Annotated[choice, typer.Option(*flags, help=option.help)]  # type: ignore[valid-type]
    kind = Optional[option.type] if option.default is None else option.type
    return Annotated[kind, typer.Option(*flags, help=option.help)]
