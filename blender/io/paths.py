"""From the command line's FILES to paths, and from a path to a model name."""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from pathlib import Path

from blender.errors import BlendInputError
from blender.io.predictions import DEFAULT_GLOB, SUFFIXES


def model_name(path: Path) -> str:
    """``submissions/oof/knn_5.csv.gz`` -> ``knn_5``; ``nn.parquet`` -> ``nn``.

    >>> model_name(Path("submissions/oof/knn_5.csv.gz")), model_name(Path("nn.parquet"))
    ('knn_5', 'nn')
    """
    name = Path(path).name
    for suffix in (*SUFFIXES, ".gz"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def resolve_paths(patterns: Sequence[str] | None, *, default: str = DEFAULT_GLOB) -> list[Path]:
    """Turn the command line's FILES into paths: an existing path is a file name, anything else with
    ``*``, ``?`` or ``[`` a glob (sorted); ``default`` when none are given.

    A glob that matches nothing is a :class:`BlendInputError`; a plain name that does not exist
    is kept, so that the reader says which file is missing.

    >>> resolve_paths(["b.csv", "a.csv"])
    [PosixPath('b.csv'), PosixPath('a.csv')]
    """
    paths: list[Path] = []
    for pattern in patterns or [default]:
        pattern = str(pattern)
        if os.path.lexists(pattern) or not glob.has_magic(pattern):
            paths.append(Path(pattern))
            continue
        matched = sorted(glob.glob(pattern))
        if not matched:
            hint = "run make oof, or name the files" if pattern == default else "check the pattern"
            raise BlendInputError(f"no files match {pattern}; {hint}.")
        paths.extend(Path(p) for p in matched)
    return paths


def check_distinct_names(paths: list[Path]) -> None:
    seen: dict[str, Path] = {}
    for path in paths:
        name = model_name(path)
        if name in seen:
            raise BlendInputError(
                f"{path}: the model name '{name}' is also {seen[name]}; each file needs its own name (or is it listed "
                "twice?)."
            )
        seen[name] = path
