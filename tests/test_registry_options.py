"""A method declares its options in its registry line, and that line alone gives it a command with the option,
its --help, a place on `blend score`'s and `blend auto`'s leaderboards, and the Python face (issue 26): a
throwaway method is registered here with no other edit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import blender
from blender import methods
from blender.cli import app
from blender.cli.generated import generate_commands
from blender.errors import BlendInputError


def fit_shrunk(values, y, *, kind, metric, random_state=None, shrink=0.5):
    """The best file by OOF score, shrunk towards the mean of all files by ``shrink``."""
    best = methods.fit_best(values, y, kind=kind, metric=metric).weights
    mean = np.full(len(best), 1.0 / len(best))
    return methods.Weighted((1 - shrink) * best + shrink * mean, kind)


SHRUNK = methods.Method(
    "shrunk",
    fit_shrunk,
    methods.NUMBERS,
    True,
    2,
    "the best file shrunk towards the mean",
    params=(methods.Option("shrink", float, 0.5, "How far towards the mean of all files.", low=0.0, high=1.0),),
)


@pytest.fixture
def registered(monkeypatch):
    monkeypatch.setattr(methods, "METHODS", (*methods.METHODS, SHRUNK))
    monkeypatch.setitem(methods.BY_NAME, "shrunk", SHRUNK)
    import blender.cli.generated

    monkeypatch.setattr(blender.cli.generated, "METHODS", methods.METHODS)
    before = list(app.registered_commands)
    generate_commands()
    yield
    app.registered_commands[:] = before


@pytest.fixture
def folder(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 150)
    (tmp_path / "submissions/oof").mkdir(parents=True)
    (tmp_path / "data").mkdir()
    frames = {}
    for name, noise in (("a", 0.2), ("b", 0.3), ("c", 0.4)):
        p = np.clip(0.5 + (y - 0.5) * 0.5 + rng.normal(0, noise, 150), 0.01, 0.99)
        frames[name] = p
        pd.DataFrame({"id": range(120), "target": p[:120]}).to_csv(
            tmp_path / f"submissions/oof/{name}.csv", index=False
        )
        pd.DataFrame({"id": range(120, 150), "target": p[120:]}).to_csv(
            tmp_path / f"submissions/{name}.csv", index=False
        )
    pd.DataFrame({"id": range(120), "target": y[:120]}).to_csv(tmp_path / "data/train_labels.csv", index=False)
    monkeypatch.chdir(tmp_path)
    return frames, y


def test_a_registered_method_gets_its_command_option_help_leaderboards_and_python_face(registered, folder):
    frames, y = folder
    runner = CliRunner()
    help_text = runner.invoke(app, ["shrunk", "--help"]).stdout
    assert "--shrink" in help_text and "How far towards the mean of all files." in help_text
    result = runner.invoke(app, ["shrunk", "--shrink", "0.3", "-o", "blends/shrunk.csv"])
    assert result.exit_code == 0, result.output
    written = pd.read_csv("blends/shrunk.csv")["target"].to_numpy()
    # The best file by OOF log loss is a (the least noise): 0.7 a + 0.3 (a + b + c) / 3.
    expected = 0.8 * frames["a"][120:] + 0.1 * frames["b"][120:] + 0.1 * frames["c"][120:]
    np.testing.assert_allclose(written, expected, atol=1e-12)
    score = runner.invoke(app, ["score", "-o", "blends/board.csv"])
    assert score.exit_code == 0 and "shrunk" in pd.read_csv("blends/board.csv")["name"].tolist()
    auto = runner.invoke(app, ["auto", "--repeats", "1", "--max-level", "1", "--json"])
    assert auto.exit_code == 0 and "shrunk" in {
        row["name"] for row in __import__("json").loads(auto.stdout)["leaderboard"]
    }
    oof = pd.DataFrame({name: values[:120] for name, values in frames.items()})
    test = pd.DataFrame({name: values[120:] for name, values in frames.items()}, index=range(120, 150))
    face = blender.blend("shrunk", oof, test, pd.Series(y[:120]), shrink=0.3)
    np.testing.assert_allclose(face.test_blend.to_numpy(), expected, atol=1e-12)


def test_its_declared_rule_refuses_a_value_in_the_command_and_the_python_face(registered, folder):
    frames, y = folder
    result = CliRunner().invoke(app, ["shrunk", "--shrink", "1.5"])
    assert result.exit_code == 1 and "Error: --shrink 1.5: give a number from 0 to 1." in result.stderr
    oof = pd.DataFrame({name: values[:120] for name, values in frames.items()})
    test = pd.DataFrame({name: values[120:] for name, values in frames.items()}, index=range(120, 150))
    with pytest.raises(BlendInputError, match="--shrink 1.5: give a number from 0 to 1"):
        blender.blend("shrunk", oof, test, pd.Series(y[:120]), shrink=1.5)
    with pytest.raises(BlendInputError, match="shrunk has no option 'shrinkage'; its options: shrink"):
        blender.blend("shrunk", oof, test, pd.Series(y[:120]), shrinkage=0.2)


@pytest.mark.parametrize(
    "name, options, message",
    [
        ("caruana", {"iters": -1}, "--iters -1: give a number of 0 or more."),
        ("caruana", {"bag_fraction": 1.5}, "--bag-fraction 1.5: give a share in \\(0, 1\\], e.g. 0.5."),
        ("caruana", {"init": 0, "iters": 0}, "caruana: --init 0 with --iters 0 selects nothing"),
        ("caruana", {"bags": 0}, "--bags 0: give a number of 1 or more."),
        ("hill-climb", {"max_iters": 0}, "--iters 0: give a number of 1 or more."),
        ("hill-climb", {"tolerance": -0.1}, "--tolerance -0.1: give 0 or a positive number."),
    ],
)
def test_the_registrys_rules_of_the_existing_entries(name, options, message):
    with pytest.raises(BlendInputError, match=message):
        methods.check_options(methods.BY_NAME[name], options)
