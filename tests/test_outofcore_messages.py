"""The same bad input gives the same ``Error:`` line in memory and out of core (``--memory 1B``).

Every item of the contract's "Bad input" list that ``blend average``, ``vote`` and
``rank-average`` can meet, plus a broken gzip stream, an unterminated quote in a header and an
unusable ``-o``, is run through each command twice: with the default budget (in memory) and
with ``--memory 1B`` (out of core on DuckDB). Both runs must exit 1 with one identical line and
leave the output untouched.
"""

from __future__ import annotations

import gzip

import pytest
from conftest import write_text

from blender.outofcore import needs_out_of_core, parse_memory

COMMANDS = ["average", "vote", "rank-average"]
GOOD = "id,target\n1,0.1\n2,0.2\n3,0.3\n"
PREVIOUS = b"id,target\nprevious,0.5\n"
MANY = "id,target\n" + "".join(f"{i},0.{i % 10}\n" for i in range(5000))


def _broken_gzip(path):
    """A gzip stream cut in half: its header line reads, its rows do not."""
    data = gzip.compress(MANY.encode())
    path.write_bytes(data[: len(data) // 2])


# name: (first file, second file, or a callable writing it, the second file's name)
BAD_FILES = {
    "missing id": (GOOD, "id,target\n1,0.1\n2,0.2\n"),
    "missing ids, more than three": ("id,target\n" + "".join(f"{i},0.5\n" for i in range(9)), "id,target\n1,0.5\n"),
    "extra id": (GOOD, GOOD + "4,0.4\n"),
    "duplicated id": (GOOD, "id,target\n1,0.1\n2,0.2\n2,0.3\n3,0.3\n"),
    "duplicated id in the first file": ("id,target\n1,0.1\n2,0.2\n2,0.3\n3,0.3\n", GOOD),
    "empty id": (GOOD, "id,target\n1,0.1\n,0.2\n3,0.3\n"),
    "missing column": (GOOD, "id,other\n1,0.1\n2,0.2\n3,0.3\n"),
    "extra column": (GOOD, "id,target,x\n1,0.1,1\n2,0.2,1\n3,0.3,1\n"),
    "only an id column": (GOOD, "id\n1\n2\n3\n"),
    "repeated column": (GOOD, "id,target,target\n1,0.1,0.1\n2,0.2,0.2\n3,0.3,0.3\n"),
    "no id column": (GOOD, "target\n0.1\n0.2\n0.3\n"),
    "NaN cell": (GOOD, "id,target\n1,0.1\n2,NaN\n3,0.3\n"),
    "empty and NaN cells": (GOOD, "id,target\n1,NaN\n2,\n3,0.3\n"),
    "inf cell": (GOOD, "id,target\n1,0.1\n2,inf\n3,0.3\n"),
    "empty cell": (GOOD, "id,target\n1,0.1\n2,\n3,0.3\n"),
    "non-numeric text": (GOOD, "id,target\n1,0.1\n2,oops\n3,0.3\n"),
    "non-numeric text with a quote": (GOOD, "id,target\n1,0.1\n2,it's\n3,0.3\n"),
    "outside [0, 1]": (GOOD, "id,target\n1,0.1\n2,1.07\n3,0.3\n"),
    "below 0 in class probabilities": ("id,a,b\n1,0.5,0.5\n2,0.5,0.5\n", "id,b,a\n1,0.5,0.5\n2,1.5,-0.5\n"),
    "a long id": (GOOD, GOOD.replace("\n2,", "\n" + "9" * 60 + ",")),
    "empty file": (GOOD, ""),
    "header only": (GOOD, "id,target\n"),
    "unterminated quote in the header": (GOOD, 'id,"target\n1,0.1\n2,0.2\n3,0.3\n'),
    "a row with too many cells": (GOOD, "id,target\n1,0.1\n2,0.2,7\n3,0.3\n"),
    "broken gzip": (MANY, _broken_gzip, "bad.csv.gz"),
    "missing file": (GOOD, None),
    "pandas index": (GOOD, ",id,target\n0,1,0.1\n1,2,0.2\n2,3,0.3\n"),
    "float ids": (GOOD, "id,target\n1.0,0.1\n2.0,0.2\n3.0,0.3\n"),
}


def _error_line(result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    lines = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(lines) == 1, result.stderr
    return lines[0]


def _both_ways(blend, command, paths, out, *options):
    """The Error: line in memory and out of core, each checked to leave ``out`` untouched."""
    existing = [path for path in paths if path.exists()]
    assert not needs_out_of_core(existing, parse_memory("2GB"))
    assert needs_out_of_core(existing, 1) or not existing  # --memory 1B: out of core whenever a file has a byte
    lines = []
    for memory in ([], ["--memory", "1B"]):
        result = blend(command, *paths, *options, *memory, "-o", out)
        lines.append(_error_line(result))
        if out.is_file():
            assert out.read_bytes() == PREVIOUS
            assert [p.name for p in out.parent.iterdir()] == [out.name]  # no temporary file left behind
    return lines


@pytest.fixture
def out(tmp_path):
    return write_text(tmp_path / "out" / "blend.csv", PREVIOUS.decode())


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_a_bad_file_gives_the_same_error_in_and_out_of_core(blend, tmp_path, out, command, case):
    first, second, *name = BAD_FILES[case]
    a = write_text(tmp_path / "a.csv", first)
    bad = tmp_path / (name[0] if name else "bad.csv")
    if callable(second):
        second(bad)
    elif second is not None:
        write_text(bad, second)
    in_memory, out_of_core = _both_ways(blend, command, [a, bad], out)
    assert str(bad) in in_memory or (case.endswith("in the first file") and str(a) in in_memory)
    assert out_of_core == in_memory


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("odd", [0, 1, 2])
def test_the_file_whose_columns_differ_from_the_others_is_the_one_named(blend, tmp_path, out, command, odd):
    """Three files, one with a renamed column: the message names that one, even when it is the first."""
    paths = [
        write_text(tmp_path / f"m{k}.csv", GOOD.replace("target", "score") if k == odd else GOOD) for k in range(3)
    ]
    in_memory, out_of_core = _both_ways(blend, command, paths, out)
    others = [str(path) for k, path in enumerate(paths) if k != odd]
    if odd == 0:
        expected = (
            f"Error: {paths[0]}: columns differ from {others[0]} and {others[1]}: expected id,target, "
            "found id,score (missing 'target'; extra 'score')."
        )
    else:
        expected = (
            f"Error: {paths[odd]}: columns differ from {paths[0]}: expected id,target, "
            "found id,score (missing 'target'; extra 'score')."
        )
    assert in_memory == expected
    assert out_of_core == in_memory


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("weights", ["3,1", "1,-1,1", "0,0,0", "1,x,1"])
def test_bad_weights_give_the_same_error(blend, tmp_path, out, command, weights):
    paths = [write_text(tmp_path / f"m{k}.csv", GOOD) for k in range(3)]
    in_memory, out_of_core = _both_ways(blend, command, paths, out, "--weights", weights)
    assert "--weights" in in_memory and out_of_core == in_memory


@pytest.mark.parametrize("command", COMMANDS)
def test_an_empty_glob_gives_the_same_error(blend, tmp_path, out, command):
    in_memory, out_of_core = _both_ways(blend, command, [tmp_path / "nothing" / "*.csv"], out)
    assert "no files match" in in_memory and out_of_core == in_memory


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("target", ["folder", "under a file"])
def test_a_bad_out_gives_the_same_error(blend, tmp_path, command, target):
    paths = [write_text(tmp_path / f"m{k}.csv", GOOD) for k in range(2)]
    if target == "folder":
        out = tmp_path / "blends"
        out.mkdir()
    else:
        out = paths[0] / "blend.csv"
    in_memory, out_of_core = _both_ways(blend, command, paths, out)
    assert f"{out}" in in_memory and out_of_core == in_memory


@pytest.mark.parametrize("command", COMMANDS)
def test_a_kind_the_command_cannot_blend_gives_the_same_error(blend, tmp_path, out, command):
    text = "id,target\n1,5.5\n2,-3\n" if command == "vote" else "id,label\n1,cat\n2,dog\n"
    paths = [write_text(tmp_path / f"m{k}.csv", text) for k in range(2)]
    in_memory, out_of_core = _both_ways(blend, command, paths, out)
    assert out_of_core == in_memory


def test_the_out_of_core_path_is_the_one_taken(blend, tmp_path, out):
    """--memory 1B blends out of core (the runs above would otherwise compare a path with itself)."""
    paths = [write_text(tmp_path / f"m{k}.csv", GOOD) for k in range(2)]
    result = blend("average", *paths, "--memory", "1B", "-o", out)
    assert result.exit_code == 0, result.output
    assert "out of core" in result.stderr
