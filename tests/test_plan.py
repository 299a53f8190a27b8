"""The time budget of blend auto and blend score: plans from fits timed on a fake clock, the guard, the CLI."""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from blender import plan
from blender.cli import app
from blender.methods import Mean, Method
from blender.picking import run_auto


class FakeClock:
    """A clock that moves only when a fake fit moves it."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def _files(n_rows=1000, n_models=4, seed=0):
    """Binary OOF predictions of varied skill (test rows: the same arrays) and the truth."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n_rows)
    logits = (2 * y - 1)[:, None] * rng.uniform(0.3, 1.5, n_models) + rng.normal(size=(n_rows, n_models))
    values = (1 / (1 + np.exp(-logits))).T[:, :, None]
    train = SimpleNamespace(
        values=values, kind="binary", names=[f"m{i}" for i in range(n_models)], n_models=n_models, n_samples=n_rows
    )
    return train, y


def _fake(name, complexity, seconds_per_row, clock, *, later=None):
    """A method whose fit takes ``seconds_per_row`` per training row on ``clock`` (``later`` after its first three
    fits: the two warm-ups and the timed one), and blends as the arithmetic mean."""
    calls = []

    def fit(values, y, *, kind, metric, random_state=None, **options):
        rate = seconds_per_row if later is None or len(calls) < 3 else later
        calls.append(len(y))
        clock.now += rate * len(y)
        return Mean()

    return Method(name, fit, ("binary",), complexity > 1, complexity, name)


def _methods(speed, clock, **options):
    """A simple mean (a hundredth of the speed) and two learners, ``b`` twice as slow as ``a``."""
    return [
        _fake("mean", 1, speed / 100, clock),
        _fake("a", 3, speed, clock, **options),
        _fake("b", 4, 2 * speed, clock),
    ]


def _plan(speed, *, budget=600.0, repeats=3, nested=True):
    clock = FakeClock()
    train, y = _files()
    budget_plan, _ = plan.plan_run(
        train,
        y,
        metric="logloss",
        folds=5,
        repeats=repeats,
        random_state=0,
        methods=_methods(speed, clock),
        budget=budget,
        started=0.0,
        nested=nested,
        clock=clock,
    )
    return budget_plan


# ---------------------------------------------------------------------------- the plan


def test_the_plan_shrinks_as_fits_get_slower():
    # Seconds per training row of method a (b: twice that, the mean a hundredth); 1,000 rows, 5 folds, 3 repeats,
    # a 10-minute budget.
    speeds = [1e-4, 4e-3, 8e-3, 1e-2, 2.5e-2, 64e-3, 5.0]
    plans = [_plan(speed) for speed in speeds]
    kept = [[method.name for method in budget_plan.methods] for budget_plan in plans]
    assert kept[:6] == [["mean", "a", "b"]] * 4 + [["mean", "a"], ["mean"]]
    # Fast: the whole run. Then fewer repeats, then smaller inner leaderboards, and only then the costliest methods.
    assert [(p.repeats, p.inner_folds) for p in plans[:5]] == [(3, 5), (2, 5), (1, 4), (1, 3), (1, 3)]
    assert [name for name, _ in plans[4].left_out] == ["b"]
    assert [name for name, _ in plans[5].left_out] == ["a", "b"]
    # What the left-out methods free goes back to the repeats and the nested estimate: the mean costs nothing.
    assert (plans[5].repeats, plans[5].inner_folds) == (3, 5)
    assert all(p.fits for p in plans[:6]) and not plans[6].fits
    # Never more methods as the fits get slower.
    for faster, slower in zip(plans, plans[1:]):
        assert {m.name for m in slower.methods} <= {m.name for m in faster.methods}
    # Every plan that fits ends within the budget's time left, with the safety margin.
    for budget_plan in plans[:6]:
        assert budget_plan.estimate <= budget_plan.available * (1 - plan.SAFETY)


def test_the_plan_says_what_it_leaves_out_and_why():
    budget_plan = _plan(2.5e-2)
    lines = budget_plan.lines(n_files=4, folds=5)
    assert lines[0].startswith("time budget 10 min 0 s: scored the files and timed 3 blend methods on one fold in ")
    assert lines[1].startswith("plan: 4 files and 2 blend methods on 1x5-fold CV (about ")
    assert "the nested estimate with 3 inner folds" in lines[1]
    assert "plan: 1 repeat of the folds instead of 3, to fit the budget" in lines
    assert "plan: the nested estimate's inner leaderboards on 3 folds instead of 5, to fit the budget" in lines
    left_out = [line for line in lines if line.startswith("left out: ")]
    assert len(left_out) == 1
    # b: 0.05 s per training row; 4,000 rows on the leaderboard, 2 x 3,200 in the nested estimate at 3 inner folds.
    assert left_out[0] == (
        "left out: b: about 3 min 20 s per leaderboard and 5 min 20 s in the nested estimate "
        "(40.0 s a fold); with it the run would need about 17 min 17 s, more than the 7 min 0 s "
        "the plan can use of the 8 min 14 s left of the 10 min 0 s budget"
    )


def test_score_plans_the_leaderboard_alone():
    # Without the nested estimate the same fits leave less out.
    nested, alone = _plan(16e-3), _plan(16e-3, nested=False)
    assert [m.name for m in nested.methods] == ["mean", "a"]
    assert [m.name for m in alone.methods] == ["mean", "a", "b"] and alone.inner_folds is None
    assert alone.parts["nested"] == 0.0


def test_methods_not_timed_within_the_timing_share_are_left_out():
    # a takes 800 s to time, past 30% of a 600 s budget: b is never timed.
    budget_plan = _plan(1.0)
    why = "not timed: timing the cheaper methods used the budget's share for timing (30%)"
    assert ("b", why) in budget_plan.left_out


# ---------------------------------------------------------------------------- budgeted runs


def _run(speed, *, budget=600.0, **options):
    clock = FakeClock()
    train, y = _files()
    lines = []
    result, budget_plan, _ = plan.run_auto_within(
        train,
        y,
        train,
        metric="logloss",
        folds=5,
        repeats=1,
        random_state=0,
        budget=budget,
        started=0.0,
        progress=lines.append,
        clock=clock,
        live=False,
        methods=_methods(speed, clock, **options),
    )
    return result, budget_plan, lines, clock


def test_a_budgeted_run_ends_within_the_budget_and_its_pick_was_scored_on_every_fold():
    for speed in (1e-4, 8e-3, 16e-3, 64e-3):
        result, budget_plan, _, clock = _run(speed, budget=300.0)
        assert clock.now <= 300.0, (speed, clock.now)
        names = {entry.name for entry in result.board.entries}
        assert {method.name for method in budget_plan.methods} <= names
        assert all(entry.n_folds == 5 for entry in result.board.entries)
        assert set(result.picked) <= names


def test_a_method_that_turns_slow_is_left_out_whole_and_never_picked():
    # a's timed fit is 25 times faster than its later ones: the guard drops it once the run is late.
    result, budget_plan, lines, clock = _run(4e-3, budget=300.0, later=0.1)
    assert "a" in [method.name for method in budget_plan.methods]
    late = [line for line in lines if line.startswith("running late")]
    assert late and "leaving a out of the leaderboard after 2 of its 5 folds" in late[0], late
    assert clock.now <= 300.0
    assert "a" not in {entry.name for entry in result.board.entries}
    assert "a" not in result.picked and "a" not in result.estimate.picks
    assert all(entry.n_folds == 5 for entry in result.board.entries)


def test_a_budget_too_small_for_any_blend_writes_the_best_single_file():
    result, budget_plan, lines, _ = _run(5.0, budget=60.0)
    assert not budget_plan.fits
    assert [entry.type for entry in result.board.entries] == ["model"] * 4
    assert result.pick.type == "model" and result.pick.name == result.board.best_single
    assert result.pick.reason.startswith("the 1 min 0 s time budget is too small to score any blend honestly")
    assert any(
        line.startswith("plan: ")
        and line.endswith("; writing the best single file, chosen on the folds, and the nested estimate of choosing it")
        for line in lines
    )
    train, _ = _files()
    np.testing.assert_allclose(result.test_blend, train.values[train.names.index(result.pick.name)], rtol=0, atol=1e-15)


def test_a_budget_that_fits_everything_changes_nothing():
    """The timed first fold is reused: the same fold scores, estimate and pick as without a budget."""
    from blender.methods import methods_for

    train, y = _files(n_rows=400)
    methods = methods_for("binary", "logloss", max_level=1)
    plain = run_auto(train, y, train, metric="logloss", folds=5, random_state=0, max_level=1)
    budgeted, budget_plan, _ = plan.run_auto_within(
        train, y, train, metric="logloss", folds=5, random_state=0, max_level=1, budget=3600.0, live=False
    )
    assert [method.name for method in budget_plan.methods] == [method.name for method in methods]
    assert [entry.name for entry in budgeted.board.entries] == [entry.name for entry in plain.board.entries]
    for ours, theirs in zip(budgeted.board.entries, plain.board.entries):
        np.testing.assert_array_equal(ours.fold_scores, theirs.fold_scores)
    assert budgeted.pick == plain.pick
    np.testing.assert_array_equal(budgeted.estimate.scores, plain.estimate.scores)
    np.testing.assert_array_equal(budgeted.test_blend, plain.test_blend)


def test_progress_counts_fits_with_the_time_left():
    _, budget_plan, lines, _ = _run(8e-3, budget=600.0)
    board = [line for line in lines if line.startswith("leaderboard ")]
    nested = [line for line in lines if line.startswith("nested estimate ")]
    # 3 methods x 5 folds on the leaderboard; 5 outer folds x 3 methods x 4 inner folds in the nested estimate.
    assert budget_plan.inner_folds == 4
    assert re.fullmatch(r"leaderboard 15/15 fits: \d+ min \d+ s of the budget left; b fold 5/5", board[-1])
    assert re.fullmatch(
        r"nested estimate 60/60 fits: \d+ min \d+ s of the budget left; outer fold 5, b fold 4/4", nested[-1]
    )
    assert len(nested) <= 10


# ---------------------------------------------------------------------------- the command line


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """Three binary files of 300 OOF rows in a Kaggle folder layout."""
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 300)
    (tmp_path / "submissions/oof").mkdir(parents=True)
    (tmp_path / "data").mkdir()
    for index, noise in enumerate((1.0, 1.5, 2.5)):
        oof = 1 / (1 + np.exp(-((2 * y - 1) * 1.5 + rng.normal(0, noise, 300))))
        pd.DataFrame({"id": np.arange(300), "target": oof}).to_csv(
            tmp_path / f"submissions/oof/f{index}.csv", index=False
        )
        pd.DataFrame({"id": np.arange(1000, 1100), "target": rng.uniform(size=100)}).to_csv(
            tmp_path / f"submissions/f{index}.csv", index=False
        )
    pd.DataFrame({"id": np.arange(300), "target": y}).to_csv(tmp_path / "data/train_labels.csv", index=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _slow_timings(monkeypatch, names):
    """Make the named methods look a million times slower when timed, so that the plan leaves them out."""
    original = plan.time_methods

    def time_methods(*args, **kwargs):
        timings, timed, untimed = original(*args, **kwargs)
        return (
            [
                plan.Timing(t.name, t.seconds * 1e6 + (1.0 if t.name in names else 0.0), t.train_rows, t.scores)
                if t.name in names
                else t
                for t in timings
            ],
            timed,
            untimed,
        )

    monkeypatch.setattr(plan, "time_methods", time_methods)


def test_auto_time_budget_prints_the_plan_and_what_it_left_out(folder, monkeypatch):
    _slow_timings(monkeypatch, {"caruana+cal", "level2-hill-climb"})
    result = CliRunner().invoke(app, ["auto", "--time-budget", "1m", "--no-log", "--report", "blends/auto.json"])
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    assert any(
        line.startswith("time budget 1 min 0 s: scored the files and timed 12 blend methods on one fold in ")
        for line in lines
    )
    assert any(line.startswith("plan: 3 files and 10 blend methods on ") for line in lines)
    left_out = [line for line in lines if line.startswith("left out: ")]
    assert [line.split(":")[1].strip() for line in left_out] == ["caruana+cal", "level2-hill-climb"]
    assert all(" the plan can use of the " in line and " left of the 1 min 0 s budget" in line for line in left_out)
    assert lines[-1].startswith("time budget 1 min 0 s: the run took ") and lines[-1].endswith("within it")
    import json

    report = json.loads((folder / "blends/auto.json").read_text())
    names = {entry["name"] for entry in report["leaderboard"]}
    assert not names & {"caruana+cal", "level2-hill-climb"}
    assert set(report["pick"]["members"] or [report["pick"]["name"]]) <= names


def test_score_time_budget_prints_the_plan(folder, monkeypatch):
    _slow_timings(monkeypatch, {"stack-logreg"})
    result = CliRunner().invoke(app, ["score", "--time-budget", "90s"])
    assert result.exit_code == 0, result.output
    assert "left out: stack-logreg: about " in result.stderr
    assert "stack-logreg" not in result.stdout + result.stderr.split("left out: stack-logreg")[1]
    assert result.stderr.splitlines()[-1].startswith("time budget 1 min 30 s: the run took ")


@pytest.mark.parametrize("command", ["auto", "score"])
@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("5x", "--time-budget 5x: give a duration with units, such as 10m, 90s or 1h30m."),
        ("0s", "--time-budget 0s: the budget must be more than 0 seconds."),
    ],
)
def test_a_bad_time_budget_is_one_error_line(folder, command, text, message):
    result = CliRunner().invoke(app, [command, "--time-budget", text])
    assert result.exit_code == 1
    assert result.stderr == f"Error: {message}\n"
    assert not (folder / "blends").exists()


# Passes over the OOF values, per entry (issue 28).


def test_passes_count_folds_repeats_fits_and_iterations():
    from blender.methods import BY_NAME

    caruana = plan.fit_passes(BY_NAME["caruana"], "logloss")
    assert caruana[:2] == (1, 1 + 2 * 50 + 1)  # the files scored, two starts of 50 rounds, the blend applied
    assert plan.fit_passes(BY_NAME["caruana"], "rmse", options={"init": 0, "iters": 25})[1] == 1 + 25 + 1
    # Four bags, each of half the files: two starts x 50 rounds each, over half the values.
    assert plan.fit_passes(BY_NAME["caruana"], "rmse", options={"bags": 4, "bag_fraction": 0.5})[1] == 1 + 200 + 1
    assert plan.fit_passes(BY_NAME["hill-climb"], "auc")[1] == 1 + 100 * 50  # every step scores the grid
    assert plan.fit_passes(BY_NAME["hill-climb"], "rmse")[1] == 1 + 100  # the closed form: one pass a step
    assert plan.fit_passes(BY_NAME["hill-climb"], "logloss", options={"negative_weights": True})[1] == 1 + 100 * 100
    assert plan.fit_passes(BY_NAME["average"], "logloss") == (1, 1, "apply", False)
    fits, iterations, _, _ = plan.fit_passes(BY_NAME["level2-hill-climb"], "logloss")
    assert fits == 2 * 3  # two stackers on three inner folds; their fits on all the fold's rows are shared
    rows = plan.passes([BY_NAME["caruana"], BY_NAME["average"]], "logloss", folds=5, repeats=2, outer_folds=4)
    assert [(row.name, row.folds, row.total) for row in rows] == [
        ("caruana", 5, 5 * 2 * 102),
        ("caruana (nested)", 20, 20 * 2 * 102),
        ("average", 5, 10),
        ("average (nested)", 20, 40),
    ]
    lines = plan.passes_lines(rows)
    assert lines[-1] == f"  in all: at most {5 * 2 * 102 + 20 * 2 * 102 + 10 + 40:,} passes"


@pytest.mark.parametrize("command", ["score", "auto"])
def test_verbose_prints_the_passes_per_entry(folder, command):
    arguments = [command, "--no-log"] if command == "auto" else [command]
    plain = CliRunner().invoke(app, arguments)
    assert plain.exit_code == 0, plain.output
    assert "passes over the OOF values" not in plain.stderr
    result = CliRunner().invoke(app, [*arguments, "--verbose"])
    assert result.exit_code == 0, result.output
    lines = result.stderr.splitlines()
    start = lines.index("passes over the OOF values (every file, a fit's training rows), per entry:")
    entries = [line.split()[0] for line in lines[start + 1 :] if line.startswith("  ") and " folds x " in line]
    assert "caruana" in entries and "average" in entries
    assert any(line.startswith("  in all: ") for line in lines[start:])
    if command == "auto":
        assert any(line.startswith("  caruana (nested) ") for line in lines[start:])
