"""Over the whole registry (issue 26): every method command takes exactly the kinds of file its registry entries
accept and refuses the others with one `Error:` line and exit status 1; values outside a method's domain are
refused with one line; and no method writes NaN or inf."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from blender import methods
from blender.cli import app

KINDS = ("binary", "multiclass", "regression", "labels")
N_OOF, N_TEST = 60, 20
CLASSES = ["cat", "dog", "owl"]


def _commands() -> dict[str, tuple[str, ...]]:
    """Each method command and the kinds its registry entries accept (their union, in the registry's order)."""
    names = {info.name for info in app.registered_commands}
    commands: dict[str, set[str]] = {}
    for entry in methods.METHODS:
        name = entry.command or entry.name
        if name in names and name not in ("auto", "score"):
            commands.setdefault(name, set()).update(entry.command_kinds)
    for entry in methods.METHODS:
        if "holdout" in entry.takes:  # blend holdout fits the same entries on the holdout rows
            commands.setdefault("holdout", set()).update(commands[entry.command or entry.name])
    return {name: tuple(kind for kind in KINDS if kind in kinds) for name, kinds in commands.items()}


COMMANDS = _commands()


def test_every_method_command_is_covered():
    assert set(COMMANDS) == {
        "average",
        "median",
        "rank-average",
        "vote",
        "select",
        "caruana",
        "hill-climb",
        "weights",
        "stack",
        "holdout",
    }
    assert COMMANDS["vote"] == ("binary", "multiclass", "labels") and COMMANDS["stack"] == KINDS


def _write(folder, kind: str, rng, *, values=None) -> None:
    """Three files' OOF, holdout and test predictions of ``kind`` and their truth, under ``folder/kind``."""
    root = folder / kind
    for sub in ("oof", "holdout"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    y = rng.integers(0, 3 if kind in ("multiclass", "labels") else 2, N_OOF + N_TEST)
    if kind == "regression":
        y = 10.0 + 3 * y + rng.normal(0, 1, y.shape)
    truth = np.asarray(CLASSES, dtype=object)[y] if kind in ("multiclass", "labels") else y
    pd.DataFrame({"id": range(N_OOF), "target": truth[:N_OOF]}).to_csv(root / "truth.csv", index=False)
    for m, noise in enumerate((0.3, 0.5, 0.8)):
        if kind == "binary":
            columns = {"target": np.clip(0.5 + (y - 0.5) * 0.6 + rng.normal(0, noise, y.shape), 0.01, 0.99)}
        elif kind == "regression":
            columns = {"target": y + rng.normal(0, noise * 3, y.shape) if values is None else values[m]}
        elif kind == "multiclass":
            logits = np.eye(3)[y] * 2 + rng.normal(0, noise * 2, (y.shape[0], 3))
            p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
            columns = dict(zip(CLASSES, p.T))
        else:
            flip = rng.random(y.shape) < noise / 2
            columns = {"label": np.asarray(CLASSES, dtype=object)[np.where(flip, rng.integers(0, 3, y.shape), y)]}
        frame = pd.DataFrame({"id": range(N_OOF + N_TEST), **columns})
        frame.iloc[:N_OOF].to_csv(root / "oof" / f"m{m}.csv", index=False)
        frame.iloc[:N_OOF].to_csv(root / "holdout" / f"m{m}.csv", index=False)
        frame.iloc[N_OOF:].to_csv(root / f"m{m}.csv", index=False)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("kinds")
    rng = np.random.default_rng(0)
    for kind in KINDS:
        _write(folder, kind, rng)
    return folder


def _arguments(command: str, folder, kind: str) -> list[str]:
    root = folder / kind
    arguments = [str(path) for path in sorted(root.glob("m*.csv"))]
    if command == "holdout":
        arguments += ["--holdout-dir", str(root / "holdout"), "--truth", str(root / "truth.csv"), "--folds", "3"]
    elif any(entry.learns for entry in methods.METHODS if (entry.command or entry.name) == command):
        arguments += ["--oof-dir", str(root / "oof"), "--truth", str(root / "truth.csv"), "--folds", "3"]
    if kind == "regression":
        arguments += ["--task", "regression"]
    return arguments


def _refused_in_one_line(result) -> str:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.stderr
    return errors[0]


def _finite(path) -> None:
    written = pd.read_csv(path)
    assert len(written) > 0
    numbers = written.iloc[:, 1:].select_dtypes("number").to_numpy(dtype=float)
    assert np.isfinite(numbers).all(), path
    assert not written.iloc[:, 1:].isna().any().any(), path  # no empty, 'nan' or 'inf' text either


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_command_takes_exactly_the_kinds_its_entries_accept(folder, tmp_path, command, kind):
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(app, [command, *_arguments(command, folder, kind), "-o", str(out), "--no-log"])
    if kind in COMMANDS[command]:
        assert result.exit_code == 0, result.output
        _finite(out)
    else:
        _refused_in_one_line(result)
        assert not out.exists()


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_probabilities_outside_0_1_are_refused_in_one_line(folder, tmp_path, command):
    _write(tmp_path, "binary", np.random.default_rng(1))
    bad = tmp_path / "binary" / "m1.csv"
    frame = pd.read_csv(bad)
    frame.loc[3, "target"] = 1.07
    frame.to_csv(bad, index=False)
    out = tmp_path / "out.csv"
    arguments = _arguments(command, tmp_path, "binary")
    result = CliRunner().invoke(app, [command, *arguments, "--task", "binary", "-o", str(out), "--no-log"])
    assert "1.07" in _refused_in_one_line(result) and not out.exists()


@pytest.mark.parametrize(
    "options", [["--kind", "geometric"], ["--kind", "harmonic"], ["--kind", "power", "--power", "0.5"]]
)
def test_means_of_positive_numbers_refuse_negative_values_in_one_line(tmp_path, options):
    rng = np.random.default_rng(2)
    values = [rng.normal(0, 1, N_OOF + N_TEST) for _ in range(3)]  # regression values, some negative
    _write(tmp_path, "regression", rng, values=values)
    out = tmp_path / "out.csv"
    arguments = _arguments("average", tmp_path, "regression")
    _refused_in_one_line(CliRunner().invoke(app, ["average", *arguments, *options, "-o", str(out), "--no-log"]))
    assert not out.exists()


@pytest.mark.parametrize("command", sorted(c for c, kinds in COMMANDS.items() if "regression" in kinds))
def test_no_method_writes_nan_or_inf_on_extreme_regression_values(tmp_path, command):
    rng = np.random.default_rng(3)
    # Signs mixed, magnitudes from 1e-300 to 1e300: sums and squares overflow where a method is careless.
    values = [rng.choice([-1.0, 1.0], N_OOF + N_TEST) * 10.0 ** rng.uniform(-300, 300, N_OOF + N_TEST) for _ in "abc"]
    _write(tmp_path, "regression", rng, values=values)
    out = tmp_path / "out.csv"
    result = CliRunner().invoke(
        app, [command, *_arguments(command, tmp_path, "regression"), "-o", str(out), "--no-log"]
    )
    if result.exit_code == 0:
        _finite(out)
    else:
        _refused_in_one_line(result)
        assert not out.exists()


@pytest.mark.parametrize("kind, name", [("regression", "stack-linear"), ("binary", "stack-logreg")])
def test_stack_meta_logreg_is_named_after_what_it_fits(folder, tmp_path, kind, name):
    out = tmp_path / "out.csv"
    arguments = [*_arguments("stack", folder, kind), "--meta", "logreg", "-o", str(out), "--no-log", "--json"]
    result = CliRunner().invoke(app, ["stack", *arguments])
    assert result.exit_code == 0, result.output
    import json

    assert json.loads(result.stdout)["method"] == name
