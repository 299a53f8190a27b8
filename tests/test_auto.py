"""Tests for blender.auto: the pick rule, and a nested estimate that never scores a row used to choose."""

from dataclasses import dataclass

import numpy as np
import pytest

from blender import layout
from blender.auto import choose, fit_pick, nested_estimate
from blender.evaluation import Entry, Leaderboard, leaderboard
from blender.methods import BY_NAME, Method


def _entry(name, type_, gain, gain_se, complexity, mean=0.0):
    return Entry(name, type_, np.zeros(5), mean, 0.0, gain, gain_se, 3, complexity)


def _board(*entries):
    return Leaderboard(list(entries), "logloss", 5, 1, "lr", 0.3)


def test_a_blend_within_noise_of_the_best_file_is_not_picked():
    board = _board(_entry("caruana", "blend", 0.002, 0.005, 3), _entry("lr", "model", 0.0, 0.0, 0))
    pick = choose(board)  # 0.002 < 0.5 * 0.005
    assert (pick.name, pick.type) == ("lr", "model")
    assert "no blend beats the best single file lr" in pick.reason


def test_past_the_gate_the_top_entries_are_averaged():
    board = _board(_entry("stack-logreg", "blend", 0.030, 0.004, 5, mean=0.10), _entry("weights", "blend", 0.027, 0.004, 3, mean=0.11),
                   _entry("lr", "model", 0.0, 0.0, 0, mean=0.13), _entry("average", "blend", -0.01, 0.004, 1, mean=0.14),
                   _entry("rf", "model", -0.02, 0.01, 0, mean=0.15), _entry("knn", "model", -0.05, 0.01, 0, mean=0.18))
    pick = choose(board)
    assert (pick.name, pick.type) == ("top-5 average", "blend")
    assert pick.members == ("stack-logreg", "weights", "lr", "average", "rf")  # the board's order, files included
    assert "stack-logreg beats the best single file lr" in pick.reason  # the largest gain for its noise: 0.030 / 0.004
    assert choose(board, top=2).members == ("stack-logreg", "weights")


def test_the_mean_of_the_members_is_what_is_fitted():
    values, y = _two_independent_regressors(n=60)
    from blender.auto import Pick

    pick = Pick("top-2 average", "blend", "", ("average", "a"))
    fitted = fit_pick(pick, values, y, names=["a", "b"], kind="regression", metric="rmse")
    expected = (values.mean(axis=0) + values[0]) / 2
    np.testing.assert_allclose(fitted.apply(values), expected, rtol=1e-15)


def test_the_threshold_is_in_standard_errors():
    board = _board(_entry("weights", "blend", 0.010, 0.004, 3), _entry("lr", "model", 0.0, 0.0, 0))
    assert choose(board).type == "blend"  # the default, 0.5: 0.010 > 0.5 * 0.004
    assert choose(board, threshold=2.0).type == "blend"  # 0.010 > 2 * 0.004
    assert choose(board, threshold=3.0).name == "lr"  # 0.010 < 3 * 0.004


def _two_independent_regressors(n=120, seed=0):
    """Two files with independent errors: their mean halves the error variance, a truly better blend."""
    rng = np.random.default_rng(seed)
    y = rng.normal(size=n)
    values = np.stack([y + rng.normal(0, 1.0, n), y + rng.normal(0, 1.0, n)])[:, :, None]
    return values, y


def test_a_truly_better_blend_is_picked():
    values, y = _two_independent_regressors()
    board = leaderboard(values, y, kind="regression", metric="rmse", names=["a", "b"], folds=5, repeats=2,
                        methods=[BY_NAME["average"], BY_NAME["weights"]])
    pick = choose(board)
    assert pick.type == "blend" and pick.members[0] in ("average", "weights"), pick  # both near the true optimum 1/2, 1/2


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_on_pure_noise_the_best_single_file_is_picked(seed):
    # By AUC no blend of files unrelated to the truth is truly better than one of them. (By log
    # loss the mean of noise files is: it shrinks towards 0.5, and auto rightly says so.)
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 200)
    values = rng.uniform(0.3, 0.7, size=(5, 200, 1))
    board = leaderboard(values, y, kind="binary", metric="auc", names=list("abcde"), folds=5, repeats=2)
    pick = choose(board)
    assert (pick.name, pick.type) == (board.best_single, "model")


def _recorder(events):
    def fit(values, y, *, kind, metric, random_state=None):
        trained = frozenset(float(v) for v in values[0, :, 0])
        events.append(("fit", trained))

        @dataclass(frozen=True, eq=False)
        class Recorder:
            def apply(self, apply_values):
                events.append(("apply", frozenset(float(v) for v in apply_values[0, :, 0])))
                return apply_values.mean(axis=0)

        return Recorder()

    return Method("recorder", fit, ("regression",), True, 1, "")


def test_the_nested_estimate_never_uses_a_row_to_choose_the_method_then_scored_on_it():
    values, y = _two_independent_regressors(n=100, seed=2)  # unique floats: a row's first value names it
    events = []
    estimate = nested_estimate(values, y, kind="regression", metric="rmse", names=["a", "b"], folds=5, repeats=1,
                               random_state=0, methods=[_recorder(events)])
    assert estimate.picks == ["top-3 average"] * 5  # the recorder and both files
    outer = layout.cv_folds(y, kind="regression", folds=5, random_state=1000)
    held_out_sets = [frozenset(float(v) for v in values[0, held, 0]) for _, held in outer]
    # Split the event log at each outer fold's scoring (the apply to exactly that fold's held-out rows).
    position = 0
    for held in held_out_sets:
        scoring = next(k for k in range(position, len(events)) if events[k] == ("apply", held))
        for kind, rows in events[position:scoring]:
            assert rows.isdisjoint(held), f"a {kind} while choosing saw a row it is then scored on"
        position = scoring + 1
    assert position == len(events)
    # Each outer score is that of the fitted pick on its held-out rows.
    for (train, held), value in zip(outer, estimate.scores):
        # The mean of the recorder (the mean of a and b), a and b is the mean of a and b.
        expected = layout.score(y[held], values[:, held].mean(axis=0), metric="rmse", kind="regression")
        assert value == pytest.approx(expected)


def test_nested_estimate_compares_with_the_best_file_chosen_the_same_way():
    values, y = _two_independent_regressors(n=100, seed=3)
    estimate = nested_estimate(values, y, kind="regression", metric="rmse", names=["a", "b"], folds=5,
                               methods=[BY_NAME["average"]])
    outer = layout.cv_folds(y, kind="regression", folds=5, random_state=1000)
    for (train, held), single in zip(outer, estimate.best_single_scores):
        train_scores = layout.model_scores(values[:, train], y[train], metric="rmse", kind="regression")
        best = int(np.argmin(train_scores))
        assert single == pytest.approx(layout.score(y[held], values[best, held], metric="rmse", kind="regression"))
    assert estimate.mean < estimate.best_single_mean


def test_fit_pick_of_a_file_is_that_file():
    values, y = _two_independent_regressors(n=30)
    from blender.auto import Pick

    fitted = fit_pick(Pick("b", "model", ""), values, y, names=["a", "b"], kind="regression", metric="rmse")
    np.testing.assert_array_equal(fitted.apply(values), values[1])


def test_the_cli_default_threshold_is_the_rules():
    from blender import auto, cli

    assert cli.THRESHOLD == auto.THRESHOLD
