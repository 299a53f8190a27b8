"""Durations: the one parser behind every --time-budget (blend auto, blend score, make oof)."""

import pytest

from blender.errors import BlendInputError
from blender.timing import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("10m", 600), ("90s", 90), ("1h30m", 5400), ("2.5m", 150), ("15min", 900), (" 5M ", 300), ("1h", 3600)],
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("5x", "--time-budget 5x: give a duration with units, such as 10m, 90s or 1h30m."),
        ("10", "--time-budget 10: give a duration with units, such as 10m, 90s or 1h30m."),
        ("", "--time-budget : give a duration with units, such as 10m, 90s or 1h30m."),
        ("30s10m", "--time-budget 30s10m: give a duration with units, such as 10m, 90s or 1h30m."),
        ("0m", "--time-budget 0m: the budget must be more than 0 seconds."),
    ],
)
def test_bad_durations(text, message):
    with pytest.raises(BlendInputError) as raised:
        parse_duration(text)
    assert str(raised.value) == message


def test_the_option_is_named():
    with pytest.raises(BlendInputError, match=r"^--budget 5x: "):
        parse_duration("5x", option="--budget")


def test_the_zoo_uses_the_same_parser():
    from models import budget
    from models.problem import ModelsError

    assert budget.parse_duration("1h30m") == parse_duration("1h30m")
    assert budget.format_duration is format_duration
    with pytest.raises(ModelsError, match=r"^--time-budget 5x: give a duration with units"):
        budget.parse_duration("5x")


@pytest.mark.parametrize(("seconds", "text"), [(615, "10 min 15 s"), (42.4, "42 s"), (0.2, "0 s"), (60, "1 min 0 s")])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text
