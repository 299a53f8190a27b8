"""The ``blend`` command line: it parses, calls :mod:`blender.commands`, and reports.

Every method command is generated from its registry line (:func:`generate_commands`); only ``score``,
``auto``, ``corr``, ``check``, ``log`` and ``doctor`` are written here by hand. The learning commands
reach their method through :func:`blender.entries.run_entry`, as ``blend score``, ``blend auto`` and the
benchmark do, so a method has one honest score wherever it is shown. Heavy libraries (pandas, pyarrow,
scipy, scikit-learn, matplotlib) are imported inside the commands, so ``blend --help`` starts quickly. A
user's mistake (a ``BlendInputError``) becomes one ``Error:`` line and exit status 1; anything else is our
bug and keeps its traceback.
"""

from __future__ import annotations

from blender.cli import doctor, files, learning, log  # noqa: F401  (each module registers its commands)
from blender.cli.common import app
from blender.cli.generated import generate_commands

generate_commands()

# `blend --help` lists the commands in the order of a competition's evening: check the files, score them, let
# auto pick, or run one method by hand, then keep the log. Unlisted commands (a method added later) come last.
ORDER = [
    *("doctor", "check", "corr", "score", "auto", "vote", "average", "rank-average", "median", "select"),
    *("caruana", "hill-climb", "weights", "stack", "holdout", "log"),
]
app.registered_commands.sort(key=lambda info: ORDER.index(info.name) if info.name in ORDER else len(ORDER))


def main() -> None:
    """Entry point of the ``blend`` console script."""
    app(prog_name="blend")


if __name__ == "__main__":
    main()
