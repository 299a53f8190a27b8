"""Durations as a user writes them (``10m``, ``90s``, ``1h30m``) and as the output prints them.

One parser for every ``--time-budget``: ``blend auto`` and ``blend score`` here, and ``make oof``
in ``models/`` (:mod:`models.budget` imports these), so the same text means the same seconds
everywhere and a bad one gets the same message.
"""

from __future__ import annotations

import re

from blender.errors import BlendInputError

_DURATION = re.compile(r"(?:(?P<h>\d+(?:\.\d+)?)h)?(?:(?P<m>\d+(?:\.\d+)?)m(?:in)?)?(?:(?P<s>\d+(?:\.\d+)?)s)?")


def parse_duration(text: str, *, option: str = "--time-budget") -> float:
    """Seconds in a duration such as ``10m``, ``90s``, ``1h30m`` or ``2.5m``.

    Parameters
    ----------
    text : str
        Hours, minutes and seconds, each with its unit (``h``, ``m`` or ``min``, ``s``), in that order.
    option : str, default="--time-budget"
        The option the text came from, named in the error message.

    Returns
    -------
    float
        More than 0.

    Raises
    ------
    BlendInputError
        For text that is not a positive duration with units.

    Examples
    --------
    >>> parse_duration("10m"), parse_duration("1h30m"), parse_duration("45s"), parse_duration("2.5m")
    (600.0, 5400.0, 45.0, 150.0)
    >>> parse_duration("5x")
    Traceback (most recent call last):
    ...
    blender.errors.BlendInputError: --time-budget 5x: give a duration with units, such as 10m, 90s or 1h30m.
    """
    match = _DURATION.fullmatch(text.strip().lower())
    if not text.strip() or match is None or not any(match.groupdict().values()):
        raise BlendInputError(f"{option} {text}: give a duration with units, such as 10m, 90s or 1h30m.")
    seconds = sum(float(match[unit] or 0) * factor for unit, factor in (("h", 3600), ("m", 60), ("s", 1)))
    if seconds <= 0:
        raise BlendInputError(f"{option} {text}: the budget must be more than 0 seconds.")
    return seconds


def format_duration(seconds: float) -> str:
    """``615`` -> ``'10 min 15 s'``; under a minute, ``'42 s'``.

    >>> format_duration(615), format_duration(42.4)
    ('10 min 15 s', '42 s')
    """
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"
