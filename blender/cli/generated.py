"""A command for every registry entry that has none of its own: ``blend NAME``, with the shared options."""

from __future__ import annotations

import functools
import typing

from blender.errors import BlendInputError
from blender.methods import METHODS
from blender.cli.common import (
    CvOption,
    DEFAULT_OOF,
    DEFAULT_TRUTH,
    Files,
    IdColumn,
    MetricOption,
    OofDir,
    OutPath,
    PositiveOption,
    SampleOption,
    SeedOption,
    TaskOption,
    TruthPath,
    app,
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
    the OOF rows when the entry learns, with the options every command shares."""
    import inspect

    taken = {info.name for info in app.registered_commands}
    for method in METHODS:
        if method.name in taken or method.command is not None:
            continue
        generic = _learned_command if method.learns else _plain_command
        run = functools.partial(generic, method.name)
        run.__name__ = method.name.replace("-", "_") + "_command"
        run.__doc__ = (f"{method.summary[0].upper()}{method.summary[1:]}: the registry's '{method.name}' entry"
                       f"{', fitted on the OOF rows' if method.learns else ''}, applied to the test files.\n\n"
                       f"Example:\n\n    blend {method.name} submissions/*.csv -o blends/{method.name}.csv")
        hints = typing.get_type_hints(generic, include_extras=True)
        parameters = [parameter.replace(annotation=hints[parameter.name])
                      for parameter in list(inspect.signature(generic).parameters.values())[1:]]
        run.__signature__ = inspect.Signature(parameters)
        run.__module__ = __name__
        command(method.name)(run)


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


def _learned_command(name: str, files: Files = None, metric: MetricOption = None, oof_dir: OofDir = DEFAULT_OOF,
                     truth: TruthPath = DEFAULT_TRUTH, positive: PositiveOption = None, cv: CvOption = 5,
                     seed: SeedOption = 0, sample: SampleOption = None, out: OutPath = None,
                     id_column: IdColumn = None, task: TaskOption = None) -> None:
    out = output_path(out, name)
    learning, run, sample_set = learn(name, files, oof_dir=oof_dir, truth=truth, positive=positive, metric=metric,
                                       cv=cv, seed=seed, sample=sample, id_column=id_column, task=task)
    write_run(learning, run, out, sample_set)


