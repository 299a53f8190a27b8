"""``--log PATH`` and ``--no-log`` of every writing command, and the command line kept for its record
(:mod:`blender.journal`)."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from typer.core import TyperCommand

from blender import journal

LogOption = Annotated[
    Optional[Path],
    typer.Option(
        "--log",
        help=f"The log this run's record is appended to. [default: {journal.LOG_NAME} beside the output, "
        f"e.g. blends/{journal.LOG_NAME}]",
        show_default=False,
    ),
]
NoLogOption = Annotated[bool, typer.Option("--no-log", help="Append no record to the log.")]


class LoggedCommand(TyperCommand):
    """A command that keeps its name, its arguments as typed and its parsed options, for the record."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        ctx.meta["blend.argv"] = list(args)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: Any) -> Any:
        # Each option is recorded under the name a reader of the log typed (--holdout-dir as holdout_dir, average's
        # --kind as kind), whatever the parameter is called inside.
        options = {
            _record_key(param): ctx.params[param.name]
            for param in self.params
            if param.name is not None and param.name in ctx.params
        }
        with journal.invoked(ctx.info_name or "blend", ctx.meta.get("blend.argv", []), options):
            return super().invoke(ctx)


def _record_key(param: Any) -> str:
    """The key an option is logged under: its parameter name (``id_column`` for ``--id``), unless its flag names
    another thing (average's ``--kind``, holdout's ``--holdout-dir``), then the flag's name."""
    name = str(param.name)
    flag = next((opt[2:].replace("-", "_") for opt in param.opts if opt.startswith("--")), name)
    return name if name.startswith(flag) else flag


def with_log_options(function: Callable[..., Any]) -> inspect.Signature:
    """``function``'s signature with ``--log`` and ``--no-log`` added (the wrapper takes them)."""
    signature = inspect.signature(function, eval_str=True)
    extra = [
        inspect.Parameter("log", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=LogOption),
        inspect.Parameter("no_log", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=NoLogOption),
    ]
    return signature.replace(parameters=[*signature.parameters.values(), *extra])
