"""Properties every command keeps, checked through the command line (issue 10, "Done means").

1. Rows are matched by id and class columns by name (CONTRACT.md): permuting the rows of any
   file (test, OOF, holdout, truth), or the class columns of any file, never changes a command's
   output, up to the output's own row and column order, which follow the first test file.
2. Same seed, same bytes: a command that takes ``--seed`` writes the same bytes (and prints the
   same lines, timings aside) when run twice with the same seed.

Small generated competitions (24 test rows, 36 OOF rows, 18 holdout rows, 3 models) are written
into a temporary folder and ``blend`` runs in-process. Hypothesis draws the kind, the data seed
and which files to permute; ``derandomize=True`` makes every CI run draw the same examples.
"""

from __future__ import annotations

import json
import math
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import fuzzing
import numpy as np
import pytest
from fuzzing import Competition, invoke, read_csv_cells
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

# Permuting rows changes the order in which sums over rows add up, so learned numbers may move
# in their last bits; a matching-by-position bug moves them by far more.
RTOL, ATOL = 1e-6, 1e-9

ALL = ("binary", "multiclass", "labels", "regression")
NUMERIC = ("binary", "multiclass", "regression")


@dataclass(frozen=True)
class Command:
    """One ``blend`` call: its arguments, the kinds it takes, what it reads and writes besides -o."""

    name: str
    args: tuple[str, ...]
    kinds: tuple[str, ...]
    learns: bool = False  # reads --oof-dir and --truth
    holdout: bool = False  # reads --holdout-dir and --truth
    out: str = "prediction"  # what -o holds: prediction, corr, leaderboard
    extras: tuple[tuple[str, str], ...] = ()  # (option, file name) of further outputs
    new: bool = False  # a command that may not exist yet on this code

    @property
    def id(self) -> str:
        return " ".join((self.name, *self.args[1:]))


WEIGHTS_OUT = (("--weights-out", "weights.json"),)
COMMANDS = [
    Command("vote", ("vote",), ("binary", "multiclass", "labels")),
    Command("average", ("average", "--kind", "arithmetic"), NUMERIC),
    Command("average", ("average", "--kind", "geometric"), NUMERIC),
    Command("average", ("average", "--kind", "harmonic"), NUMERIC),
    Command("rank-average", ("rank-average",), NUMERIC),
    Command("corr", ("corr", "--method", "pearson"), ALL, out="corr"),
    Command("corr", ("corr", "--method", "kendall"), ALL, out="corr"),
    Command("score", ("score", "--cv", "3"), ALL, learns=True, out="leaderboard"),
    Command("select", ("select", "--max-corr", "0.99"), ALL, learns=True),
    Command(
        "caruana", ("caruana", "--init", "1", "--iters", "8", "--bags", "2"), NUMERIC, learns=True, extras=WEIGHTS_OUT
    ),
    Command("weights", ("weights",), NUMERIC, learns=True, extras=WEIGHTS_OUT),
    Command("stack", ("stack", "--meta", "logreg", "--folds", "3"), ALL, learns=True),
    Command("stack", ("stack", "--meta", "ridge", "--folds", "3"), ALL, learns=True),
    Command("holdout", ("holdout", "--meta", "logreg"), ALL, holdout=True),
    Command("holdout", ("holdout", "--meta", "ridge"), ALL, holdout=True),
    Command("hill-climb", ("hill-climb",), NUMERIC, learns=True, new=True),
    Command(
        "auto",
        ("auto", "--cv", "3", "--repeats", "1"),
        ALL,
        learns=True,
        extras=(("--report", "report.json"),),
        new=True,
    ),
]


def skip_if_absent(command: Command) -> None:
    if command.new and not fuzzing.command_exists(command.name):
        pytest.skip(f"blend {command.name} does not exist on this code yet")


def arguments(command: Command, folder: Path, competition: Competition, out: Path) -> list:
    """The full argument list: the first file first, the learning folders, -o and the extra outputs."""
    args = [*command.args, *(folder / f"submissions/{n}.csv" for n in competition.names)]
    if command.learns:
        args += ["--oof-dir", folder / "submissions/oof", "--truth", folder / "data/train_labels.csv"]
    if command.holdout:
        args += ["--holdout-dir", folder / "submissions/holdout", "--truth", folder / "data/train_labels.csv"]
    if competition.kind == "regression":
        args += ["--task", "regression"]
    args += ["-o", out]
    for option, name in command.extras:
        args += [option, out.parent / name]
    return args


# ---------------------------------------------------------------------------- outcomes


@dataclass
class Outcome:
    """What a run left: exit status, its Error: line, and every output parsed by key and column."""

    exit_code: int
    error: str
    outputs: dict = field(default_factory=dict)
    orders: dict = field(default_factory=dict)  # output -> (row keys, columns) in written order


def run(command: Command, folder: Path, competition: Competition) -> Outcome:
    out = folder / "out" / "out.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    result = invoke(arguments(command, folder, competition, out))
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    outcome = Outcome(result.exit_code, errors[0] if errors else "")
    if result.exit_code != 0 and not errors:  # a usage error (exit 2) or a crash: show what it said
        outcome.error = (result.stderr.strip().splitlines() or [""])[-1]
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        outcome.error = f"{type(result.exception).__name__}: {result.exception}"
    if result.exit_code != 0:
        return outcome
    header, rows = read_csv_cells(out)
    key = header.index("name") if command.out == "leaderboard" else 0
    outcome.outputs["-o"] = {row[key]: dict(zip(header, row)) for row in rows}
    if command.out == "leaderboard":  # ranks are positions; ties may swap them
        for cells in outcome.outputs["-o"].values():
            cells.pop("rank", None)
    outcome.orders["-o"] = ([row[key] for row in rows], header)
    for option, name in command.extras:
        outcome.outputs[option] = flatten(json.loads((out.parent / name).read_text()))
    return outcome


def flatten(value, prefix: str = "") -> dict:
    """JSON as {path: leaf}; lists of objects with a name are keyed by name (leaderboards)."""
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = [(item.get("name", k) if isinstance(item, dict) else k, item) for k, item in enumerate(value)]
    else:
        return {prefix: value}
    flat = {}
    for k, item in items:
        flat.update(flatten(item, f"{prefix}/{k}"))
    return flat


def same_cell(a, b) -> bool:
    if a == b:
        return True
    try:
        x, y = float(a), float(b)
    except (TypeError, ValueError):
        return False
    return (math.isnan(x) and math.isnan(y)) or math.isclose(x, y, rel_tol=RTOL, abs_tol=ATOL)


def differences(a: Outcome, b: Outcome) -> list[str]:
    found = []
    if a.exit_code != b.exit_code:
        found.append(f"exit status {a.exit_code} ({a.error}) became {b.exit_code} ({b.error})")
        return found
    if a.error != b.error:
        found.append(f"error {a.error!r} became {b.error!r}")
    for output, cells in a.outputs.items():
        other = b.outputs[output]
        if isinstance(cells, dict) and set(cells) != set(other):
            found.append(f"{output}: keys {sorted(cells)[:5]} became {sorted(other)[:5]}")
            continue
        for key in cells:
            x, y = cells[key], other[key]
            if isinstance(x, dict):
                if set(x) != set(y):
                    found.append(f"{output} {key}: columns {sorted(x)} became {sorted(y)}")
                    continue
                bad = [c for c in x if not same_cell(x[c], y[c])]
                found += [f"{output} row {key!r} column {c!r}: {x[c]} became {y[c]}" for c in bad[:3]]
            elif not same_cell(x, y):
                found.append(f"{output} {key}: {x!r} became {y!r}")
    return found


def order_problems(outcome: Outcome, command: Command, competition: Competition) -> list[str]:
    """The output keeps the first test file's row order and column order (CONTRACT.md)."""
    if outcome.exit_code != 0 or command.out != "prediction":
        return []
    first = competition.test[competition.names[0]]
    keys, header = outcome.orders["-o"]
    problems = []
    if keys != first.ids:
        problems.append("-o rows are not in the first test file's order")
    if header != first.header:
        problems.append(f"-o columns {header} are not the first test file's {first.header}")
    return problems


# ---------------------------------------------------------------------------- 1. permutations


def permuted(competition: Competition, rng: np.random.Generator, rows: list[bool], columns: list[bool]) -> Competition:
    """The competition with the rows and/or class columns of the chosen files shuffled, independently per file."""
    tables = {}
    for (path, table), by_row, by_column in zip(competition.tables().items(), rows, columns):
        tables[path] = fuzzing.permute(table, rng, rows=by_row, columns=by_column and path != "data/train_labels.csv")
    n = competition.names
    return Competition(
        competition.kind,
        n,
        test={name: tables[f"submissions/{name}.csv"] for name in n},
        oof={name: tables[f"submissions/oof/{name}.csv"] for name in n},
        holdout={name: tables[f"submissions/holdout/{name}.csv"] for name in n},
        truth=tables["data/train_labels.csv"],
        classes=competition.classes,
    )


EXAMPLES = 4
N_FILES = 3 * 3 + 1  # test, OOF and holdout files of 3 models, and the truth


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c.id)
@settings(
    # Bounded: a few fixed examples per command, and no shrinking (it reruns the CLI hundreds of
    # times); a failure still prints the drawn kind, seed and files.
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_permuting_rows_or_class_columns_of_any_file_never_changes_the_output(command, data):
    skip_if_absent(command)
    kind = data.draw(st.sampled_from(command.kinds), label="kind")
    seed = data.draw(st.integers(0, 2**32 - 1), label="data seed")
    rows = data.draw(st.lists(st.booleans(), min_size=N_FILES, max_size=N_FILES), label="files whose rows are shuffled")
    columns = data.draw(
        st.lists(st.booleans(), min_size=N_FILES, max_size=N_FILES), label="files whose class columns are shuffled"
    )
    competition = fuzzing.make_competition(np.random.default_rng(seed), kind)
    shuffled = permuted(competition, np.random.default_rng(seed + 1), rows, columns)
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        fuzzing.write_files(a, competition.tables())
        fuzzing.write_files(b, shuffled.tables())
        before, after = run(command, Path(a), competition), run(command, Path(b), shuffled)
    assert before.exit_code == 0 or before.error.startswith("Error:"), before.error
    assert not differences(before, after), differences(before, after)
    assert not order_problems(after, command, shuffled), order_problems(after, command, shuffled)


def test_the_property_test_sees_a_class_column_matched_by_position(monkeypatch):
    """Guard for the test itself: a reader that matches class columns by position is caught."""
    rng = np.random.default_rng(3)
    competition = fuzzing.make_competition(rng, "multiclass")
    # Rename the second file's columns in place: by position the values stay, by name they move.
    second = competition.test[competition.names[1]]
    swapped = fuzzing.Table([second.header[0], second.header[2], second.header[1], *second.header[3:]], second.rows)
    renamed = Competition(
        competition.kind,
        competition.names,
        {**competition.test, competition.names[1]: swapped},
        competition.oof,
        competition.holdout,
        competition.truth,
        competition.classes,
    )
    command = COMMANDS[1]  # average
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        fuzzing.write_files(a, competition.tables())
        fuzzing.write_files(b, renamed.tables())
        assert differences(run(command, Path(a), competition), run(command, Path(b), renamed))


# ---------------------------------------------------------------------------- 2. same seed, same bytes

SEEDED = [
    # Tree meta-learners and plots are slow: one kind each; the rest run on every kind they take.
    Command("score", ("score", "--cv", "3", "--plot", "LEADERBOARD"), ("binary",), learns=True, out="leaderboard"),
    Command("score", ("score", "--cv", "3"), ("multiclass", "labels", "regression"), learns=True, out="leaderboard"),
    Command("select", ("select", "--max-corr", "0.99"), ALL, learns=True),
    Command(
        "caruana",
        ("caruana", "--iters", "8", "--bags", "3", "--bag-fraction", "0.6"),
        NUMERIC,
        learns=True,
        extras=WEIGHTS_OUT,
    ),
    Command("weights", ("weights", "--method", "nelder-mead"), NUMERIC, learns=True, extras=WEIGHTS_OUT),
    Command("stack", ("stack", "--meta", "et", "--folds", "3"), ("multiclass",), learns=True),
    Command("stack", ("stack", "--meta", "logreg", "--folds", "3", "--fwls"), ALL, learns=True),
    Command("holdout", ("holdout", "--meta", "rf"), ("binary",), holdout=True),
    Command("holdout", ("holdout", "--meta", "logreg"), ("labels", "regression"), holdout=True),
    Command("hill-climb", ("hill-climb",), NUMERIC, learns=True, new=True),
    Command(
        "auto",
        ("auto", "--cv", "3", "--repeats", "2"),
        ALL,
        learns=True,
        extras=(("--report", "report.json"),),
        new=True,
    ),
]
TIMING = re.compile(r"\d+(\.\d+)? ?(s|ms|seconds)\b")
# Progress lines (blender.progress: "nested estimate 76/126 fits: ...") appear only after work has run a
# second, and at each tenth of it, so how many a run prints depends on the machine's speed, not on the seed.
PROGRESS = re.compile(r"^.* \d+/\d+ (fits|files)\b.*\n", flags=re.M)


@pytest.mark.parametrize(
    ("command", "kind"), [(c, k) for c in SEEDED for k in c.kinds], ids=lambda v: v.id if isinstance(v, Command) else v
)
def test_same_seed_same_bytes(command, kind, tmp_path):
    skip_if_absent(command)
    if not fuzzing.takes_option(command.name, "--seed"):
        pytest.skip(f"blend {command.name} takes no --seed")
    competition = fuzzing.make_competition(np.random.default_rng(17), kind)
    fuzzing.write_files(tmp_path, competition.tables())
    out = tmp_path / "out" / "out.csv"
    args = [
        a if a != "LEADERBOARD" else tmp_path / "out" / "leaderboard.png"
        for a in arguments(command, tmp_path, competition, out)
    ]
    args += ["--seed", "12345"]
    runs = []
    for _ in range(2):
        result = invoke(args)
        assert result.exit_code == 0, result.stderr
        written = sorted(p for p in out.parent.rglob("*") if p.is_file())  # the blend's OOF file is in out/oof/
        files = {
            str(p.relative_to(out.parent)): _timeless(p) if p.name == "log.jsonl" else p.read_bytes() for p in written
        }
        runs.append((files, result.stdout, TIMING.sub("<time>", PROGRESS.sub("", result.stderr))))
        for p in written:
            p.unlink()
    (files_a, stdout_a, stderr_a), (files_b, stdout_b, stderr_b) = runs
    assert sorted(files_a) == sorted(files_b)
    for name in files_a:
        assert files_a[name] == files_b[name], f"{name} differs between two runs with --seed 12345"
    assert stdout_a == stdout_b
    assert stderr_a == stderr_b


def _timeless(log: Path) -> list[dict]:
    """The log's records without their times: two runs with the same seed leave the same record."""
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(records) == 1
    return [{key: value for key, value in record.items() if key != "time"} for record in records]
