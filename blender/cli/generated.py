"""A command for every registry entry that has none of its own: ``blend NAME``, its options and help from its
registry line (:class:`blender.methods.Method`), with the shared options."""

from __future__ import annotations

import functools
import inspect
from pathlib import Path
from typing import Annotated, Optional

import typer

from blender.cli.common import (
    CalibrateOption,
    Files,
    IdColumn,
    OutPath,
    SampleOption,
    Shared,
    TaskOption,
    WeightsOut,
    _choices,
    app,
    command,
    learning_options,
    output_path,
    read,
    read_sample,
    say,
    write_one,
)
from blender.cli.learning import learn, write_run
from blender.errors import BlendInputError
from blender.methods import METHODS

PlotOption = Annotated[Optional[Path], typer.Option("--plot", help="Draw the OOF score along the search (PNG).")]

# ---------------------------------------------------------------------------- generated commands


def generate_commands() -> None:
    """A command for each registry entry that has none above: ``blend NAME FILES...``, fitted on
    the OOF rows when the entry learns, with the entry's declared options (``Method.params``), the
    extras it asks for (``--calibrate``, ``--weights-out``, ``--plot``) and the options every
    command shares."""
    taken = {info.name for info in app.registered_commands}
    for method in METHODS:
        if method.name in taken or method.command is not None:
            continue
        generic = _learned_command if method.learns else _plain_command
        run = functools.partial(generic, method.name)
        run.__name__ = method.name.replace("-", "_") + "_command"
        run.__doc__ = method.doc or _default_doc(method)
        # The entry's name is bound; the command takes the rest (the shared options included), the
        # entry's own options, each an Option of its registry line, and the extras it asks for.
        parameters = list(inspect.signature(generic, eval_str=True).parameters.values())[1:]
        wanted = {"calibrate": method.calibrates, "weights_out": method.weighs, "plot": method.chart is not None}
        parameters = [parameter for parameter in parameters if wanted.get(parameter.name, True)]
        own = [
            inspect.Parameter(
                ("no_" if option.negated else "") + option.name,
                inspect.Parameter.KEYWORD_ONLY,
                default=False if option.negated else option.default,
                annotation=_annotation(option),
            )
            for option in method.params
        ]
        rest = [parameter.replace(kind=inspect.Parameter.KEYWORD_ONLY) for parameter in parameters[1:]]
        run.__signature__ = inspect.Signature(parameters[:1] + own + rest)
        run.__module__ = __name__
        command(method.name)(run)


def _default_doc(method) -> str:
    options = " ".join(f"{option.flag} {option.default}" for option in method.params if not option.negated)
    return (
        f"{method.summary[0].upper()}{method.summary[1:]}: the registry's '{method.name}' entry"
        f"{', fitted on the OOF rows' if method.learns else ''}, applied to the test files.\n\n"
        f"Example:\n\n    blend {method.name} submissions/*.csv {options + ' ' if options else ''}"
        f"-o blends/{method.name}.csv"
    )


def _annotation(option):
    """A typer option for a registry entry's :class:`~blender.methods.Option`."""
    flags = [option.flag] + ([option.short] if option.short else [])
    if option.type is bool:
        if option.negated:
            return Annotated[bool, typer.Option(*flags, help=option.help)]
        return Annotated[bool, typer.Option(f"{option.flag}/--no-{option.flag[2:]}", help=option.help)]
    if option.choices is not None:
        return Annotated[_choices(option.name.title(), option.choices), typer.Option(*flags, help=option.help)]
    kind = Optional[option.type] if option.default is None else option.type
    return Annotated[kind, typer.Option(*flags, help=option.help)]


def _plain_command(
    name: str,
    files: Files = None,
    sample: SampleOption = None,
    out: OutPath = None,
    id_column: IdColumn = None,
    task: TaskOption = None,
) -> None:
    from blender.entries import configured
    from blender.methods import fit

    out = output_path(out, name)
    predictions = read(files, id_column, task)
    method = configured(name)
    if predictions.kind not in method.kinds:
        raise BlendInputError(
            f"{predictions.paths[0]}: {name} takes {', '.join(method.kinds)} files, and these hold {predictions.kind}."
        )
    sample_set = read_sample(sample, predictions, id_column)
    say(f"{method.summary} of {predictions.n_models} files")
    blended = fit(method, predictions.values, None, kind=predictions.kind, metric=None).apply(predictions.values)
    write_one(predictions, blended, out, sample_set, method=name)


@learning_options
def _learned_command(
    name: str,
    files: Files = None,
    calibrate: CalibrateOption = False,
    weights_out: WeightsOut = None,
    plot: PlotOption = None,
    *,
    shared: Shared,
    **options,
) -> None:
    from blender.methods import BY_NAME, check_options

    entry = BY_NAME[name]
    for option in entry.params:
        value = options.pop(("no_" if option.negated else "") + option.name, option.default)
        options[option.name] = (not value) if option.negated else getattr(value, "value", value)
    check_options(entry, options)
    out, oof = shared.outputs(name, weights_out=weights_out, plot=plot)
    learning, run, sample_set = learn(
        name,
        files,
        shared,
        calibrate=calibrate,
        label=entry.label,
        show_weights=entry.weighs or entry.lines is None,
        **options,
    )
    for line in entry.lines(run, learning.train.names, learning.metric) if entry.lines is not None else ():
        say(line)
    chart = None if entry.chart is None else (lambda: entry.chart(run, learning.metric))
    write_run(learning, run, out, sample_set, oof=oof, weights_out=weights_out, plot=plot, chart=chart)
