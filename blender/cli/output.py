"""``--json``: every command's result as one JSON object on stdout (:mod:`blender.results`)."""

from __future__ import annotations

from typing import Annotated

import typer

JsonOption = Annotated[
    bool,
    typer.Option(
        "--json", help="Also print the result as one JSON object on stdout (the README's schema), for scripts."
    ),
]
