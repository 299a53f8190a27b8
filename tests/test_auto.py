"""Tests for blender.picking (blend auto): the pick rule, and a nested estimate that never scores a row used
to choose.
"""

from dataclasses import dataclass

import numpy as np
import pytest

from blender import layout
from blender.evaluation import Entry, Leaderboard, leaderboard
from blender.methods import BY_NAME, Method
from blender.picking import choose, fit_pick, nested_estimate


def _entry(name, type_, gain, gain_se, complexity, mean=0.0):
    return Entry(name, type_, np.zeros(5), mean, 0.0, gain, gain_se, 3, complexity)


def _board(*entries):
    return Leaderboard(list(entries), "logloss", 5, 1, "lr", 0.3)


def test_a_blend_within_noise_of_the_best_file_is_not_picked():
    board = _board(_entry("caruana", "blend", 0.002, 0.005, 3), _entry("lr", "model", 0.0, 0.0, 0))
    pick = choose(board)  # 0.002 < 0.5 * 0.005
    assert (pick.name, pick.type) == ("lr", "model")
    assert "no blend beats the best single file lr" in pick.reason


def _board_from_folds(folds: dict, best_single: str, metric: str = "logloss", k: int = 5):
    """A leaderboard from per-fold scores, entries best first, gains as blender.evaluation computes them."""
    from blender.evaluation import corrected_se

    sign = -1.0  # log loss: lower is better
    base = np.asarray(folds[best_single][1])
    entries = []
    for name, (type_, scores) in folds.items():
        scores = np.asarray(scores, dtype=float)
        difference = sign * (scores - base)
        entries.append(
            Entry(
                name,
                type_,
                scores,
                float(scores.mean()),
                corrected_se(scores, k),
                float(difference.mean()),
                corrected_se(difference, k),
                int((difference > 0).sum()),
                0 if type_ == "model" else 3,
            )
        )
    entries.sort(key=lambda entry: entry.mean)
    return Leaderboard(entries, metric, k, len(base) // k, best_single, float(base.mean()))


_BASE = np.array([0.30, 0.32, 0.29, 0.31, 0.33, 0.30, 0.28, 0.31, 0.32, 0.30])  # 2 x 5 folds of the best file


def test_a_top_entry_ten_standard_errors_ahead_is_submitted_alone():
    from blender.picking import lead_over

    wobble = np.array([0.0, 1.0, -1.0, 0.5, -0.5, 0.0, 1.0, -1.0, 0.5, -0.5]) * 2.27e-3
    folds = {
        "stack-logreg": ("blend", _BASE - 0.05),
        "caruana": ("blend", _BASE - 0.04 + wobble),  # 0.01 behind the top, give or take 0.001 per fold
        "weights": ("blend", _BASE - 0.035 + wobble[::-1]),
        "lr": ("model", _BASE),
        "rf": ("model", _BASE + 0.02 + wobble),
    }
    board = _board_from_folds(folds, "lr")
    top, second = board.entries[0], board.entries[1]
    assert (top.name, second.name) == ("stack-logreg", "caruana")
    lead, se = lead_over(top, second, metric="logloss", folds=5)
    assert lead == pytest.approx(0.01) and 9.5 < lead / se < 10.5  # ten standard errors ahead
    pick = choose(board)
    assert (pick.name, pick.type, pick.members) == ("stack-logreg", "blend", ())
    assert "stack-logreg beats the best single file lr" in pick.reason
    assert "so it is submitted alone" in pick.reason and "caruana +0.01 ± 0.001" in pick.reason


def test_five_level_entries_are_averaged_and_the_others_named():
    wobble = np.array([0.0, 1.0, -1.0, 0.5, -0.5, 0.0, 1.0, -1.0, 0.5, -0.5]) * 1e-2
    # Five entries within noise of each other (leads of 0 to 0.002, per-fold wobbles of 0.01), 0.03 ahead of lr.
    level = {
        name: ("blend" if name != "xgb" else "model", _BASE - 0.03 + lead + np.roll(wobble, shift))
        for shift, (name, lead) in enumerate(
            zip(["caruana", "weights", "stack-ridge", "xgb", "hill-climb"], [0.0, 0.0005, 0.001, 0.0015, 0.002])
        )
    }
    far = {
        "average": ("blend", _BASE - 0.03 + 0.04 + wobble / 10),  # 0.04 behind, with little noise
        "lr": ("model", _BASE),
        "knn": ("model", _BASE + 0.1),
    }
    board = _board_from_folds({**level, **far}, "lr")
    pick = choose(board)
    assert pick.type == "blend" and pick.name == "top-5 average"
    assert set(pick.members) == set(level) and pick.members[0] == board.entries[0].name
    assert "cannot be told apart from 4 others" in pick.reason
    assert (
        "the others trail it by more than 1.5 standard errors (lr +0.03 ± 0.0044, average +0.04 ± 0.004" in pick.reason
    )


def test_level_is_in_standard_errors_of_the_lead():
    from blender.picking import lead_over

    wobble = np.array([0.0, 1.0, -1.0, 0.5, -0.5, 0.0, 1.0, -1.0, 0.5, -0.5]) * 1e-2
    folds = {"top": ("blend", _BASE - 0.05), "close": ("blend", _BASE - 0.05 + 0.004 + wobble), "lr": ("model", _BASE)}
    board = _board_from_folds(folds, "lr")
    lead, se = lead_over(board.entry("top"), board.entry("close"), metric="logloss", folds=5)
    ratio = lead / se  # about 0.9 standard errors
    assert 0.8 < ratio < 1.0
    assert choose(board, level=ratio * 1.01).members == ("top", "close")
    assert choose(board, level=ratio * 0.99).name == "top"
    assert choose(board, level=0).name == "top"


def test_the_mean_of_the_members_is_what_is_fitted():
    values, y = _two_independent_regressors(n=60)
    from blender.picking import Pick

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
    board = leaderboard(
        values,
        y,
        kind="regression",
        metric="rmse",
        names=["a", "b"],
        folds=5,
        repeats=2,
        methods=[BY_NAME["average"], BY_NAME["weights"]],
    )
    pick = choose(board)
    assert pick.type == "blend" and pick.members[0] in ("average", "weights"), (
        pick
    )  # both near the true optimum 1/2, 1/2


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
    estimate = nested_estimate(
        values,
        y,
        kind="regression",
        metric="rmse",
        names=["a", "b"],
        folds=5,
        repeats=1,
        random_state=0,
        methods=[_recorder(events)],
    )[1]
    assert estimate.picks == ["recorder"] * 5  # the mean of two independent files is clearly ahead of either
    outer = _outer_folds(y)
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
        # The recorder applies the mean of a and b.
        expected = layout.score(y[held], values[:, held].mean(axis=0), metric="rmse", kind="regression")
        assert value == pytest.approx(expected)
    # The outer predictions are the procedure's own OOF predictions: each row from the fold that held it out.
    np.testing.assert_allclose(estimate.oof, values.mean(axis=0))


def _outer_folds(y):
    """The nested estimate's outer folds: the shared folds (seed 0) with the last kept aside as the slice."""
    from blender.evaluation import fold_assignment, level_splits

    return level_splits(fold_assignment(y, kind="regression", folds=5, random_state=0))[0]


def test_nested_estimate_compares_with_the_best_file_chosen_the_same_way():
    values, y = _two_independent_regressors(n=100, seed=3)
    estimate = nested_estimate(
        values, y, kind="regression", metric="rmse", names=["a", "b"], folds=5, methods=[BY_NAME["average"]]
    )[1]
    outer = _outer_folds(y)
    for (train, held), single in zip(outer, estimate.best_single_scores):
        train_scores = layout.model_scores(values[:, train], y[train], metric="rmse", kind="regression")
        best = int(np.argmin(train_scores))
        assert single == pytest.approx(layout.score(y[held], values[best, held], metric="rmse", kind="regression"))
    assert estimate.mean < estimate.best_single_mean


def test_fit_pick_of_a_file_is_that_file():
    values, y = _two_independent_regressors(n=30)
    from blender.picking import Pick

    fitted = fit_pick(Pick("b", "model", ""), values, y, names=["a", "b"], kind="regression", metric="rmse")
    np.testing.assert_array_equal(fitted.apply(values), values[1])


def test_the_cli_default_threshold_is_the_rules():
    import inspect

    from blender import picking
    from blender.cli.learning import auto_command

    assert inspect.signature(auto_command).parameters["threshold"].default == picking.THRESHOLD


def test_a_caution_when_the_nested_estimate_prefers_the_best_single_file():
    from blender.picking import Estimate, procedure_caution

    picked = np.array([0.50, 0.60, 0.55, 0.52, 0.58])
    # The best file beats the procedure by 0.1 in every outer fold: a lead no noise explains.
    worse = Estimate(picked, picked - 0.1, ["average"] * 5, 5)
    line = procedure_caution(worse, metric="logloss", pick_type="blend")
    assert line.startswith(
        "caution: on the nested estimate, picking the best single file would score better "
        "(0.450000 against 0.550000, by 0.1 ± 0 per fold, in 5 of 5 outer folds)"
    )
    assert procedure_caution(worse, metric="logloss", pick_type="model") is None
    # For AUC higher is better: the same numbers mean the procedure wins, and nothing is said.
    assert procedure_caution(worse, metric="auc", pick_type="blend") is None
    # Within noise (one fold of five worse, the others level): nothing either.
    noisy = Estimate(picked, picked - np.array([0.1, 0, 0, 0, 0]), ["average"] * 5, 5)
    assert procedure_caution(noisy, metric="logloss", pick_type="blend") is None
