"""A command for every registry entry that has none of its own: ``blend NAME``, with the shared options."""

from __future__ import annotations

import functools

from blender.errors import BlendInputError
from blender.methods import METHODS
from blender.cli.common import (
    Files,
    IdColumn,
    OutPath,
    SampleOption,
    Shared,
    TaskOption,
    app,
    learning_options,
    command,
    output_path,
    read,
    read_sample,
    say,
    write_one,
)
from blender.cli.learning import learn, write_run


# ---------------------------------------------------------------------------- generated commands


def generate_commands() -> None:
    """A command for each registry entry that has none above: ``blend NAME FILES...``, fitted on
    the OOF rows when the entry learns, with the entry's declared options (``Method.params``) and
    the options every command shares."""
    import inspect

    taken = {info.name for info in app.registered_commands}
    for method in METHODS:
        if method.name in taken or method.command is not None:
            continue
        generic = _learned_command if method.learns else _plain_command
        run = functools.partial(generic, method.name)
        run.__name__ = method.name.replace("-", "_") + "_command"
        options = ", ".join(f"{option.flag} {option.default}" for option in method.params)
        run.__doc__ = (f"{method.summary[0].upper()}{method.summary[1:]}: the registry's '{method.name}' entry"
                       f"{', fitted on the OOF rows' if method.learns else ''}, applied to the test files.\n\n"
                       f"Example:\n\n    blend {method.name} submissions/*.csv {options + ' ' if options else ''}"
                       f"-o blends/{method.name}.csv")
        # The entry's name is bound; the command takes the rest (the shared options included), and the
        # entry's own options, each an Option of its registry line.
        parameters = list(inspect.signature(generic, eval_str=True).parameters.values())[1:]
        own = [inspect.Parameter(option.name, inspect.Parameter.KEYWORD_ONLY, default=option.default,
                                 annotation=_annotation(option)) for option in method.params]
        run.__signature__ = inspect.Signature(parameters[:1] + own + parameters[1:])
        run.__module__ = __name__
        command(method.name)(run)


def _annotation(option):
    """A typer option for a registry entry's :class:`~blender.methods.Option`."""
    from typing import Annotated

    import typer

    if option.type is bool:
        flags = f"{option.flag}/--no-{option.flag[2:]}"
        return Annotated[bool, typer.Option(flags, help=option.help)]
    kind = str if option.choices is not None else option.type
    return Annotated[kind, typer.Option(option.flag, help=option.help)]


def _plain_command(name: str, files: Files = None, sample: SampleOption = None, out: OutPath = None,
                   id_column: IdColumn = None, task: TaskOption = None) -> None:
    from blender.entries import configured
    from blender.methods import fit

    out = output_path(out, name)
    predictions = read(files, id_column, task)
    method = configured(name)
    if predictions.kind not in method.kinds:
        raise BlendInputError(f"{predictions.paths[0]}: {name} takes {', '.join(method.kinds)} files, and these hold "
                              f"{predictions.kind}.")
    sample_set = read_sample(sample, predictions, id_column)
    say(f"{method.summary} of {predictions.n_models} files")
    blended = fit(method, predictions.values, None, kind=predictions.kind, metric=None).apply(predictions.values)
    write_one(predictions, blended, out, sample_set, method=name)


@learning_options
def _learned_command(name: str, files: Files = None, *, shared: Shared, **options) -> None:
    from blender.methods import BY_NAME, check_options

    check_options(BY_NAME[name], options)
    out, oof = shared.outputs(name)
    learning, run, sample_set = learn(name, files, shared, **options)
    write_run(learning, run, out, sample_set, oof=oof)
