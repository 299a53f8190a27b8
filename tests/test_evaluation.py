"""Tests for blender.evaluation: every entry on the same folds, per fold, and no row scored by a blend fitted on it."""

from dataclasses import dataclass

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from blender import layout
from blender.errors import BlendInputError
from blender.evaluation import corrected_se, fold_scores, leaderboard, model_fold_scores, repeated_folds
from blender.methods import BY_NAME, Method, methods_for


def _binary(seed=0, n=100, n_models=4):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    columns = np.clip(0.5 + 0.25 * (2 * y - 1)[:, None] + rng.normal(0, 0.25, (n, n_models)), 0.01, 0.99)
    return columns.T[:, :, None], y


@dataclass(frozen=True, eq=False)
class _Mean:
    def apply(self, values):
        return values.mean(axis=0)


def _recording_method(seen):
    """A method that records the rows (each row's bytes identify it) it is fitted on and applied to."""

    def fit(values, y, *, kind, metric, random_state=None):
        trained = {values[:, row].tobytes() for row in range(values.shape[1])}

        @dataclass(frozen=True, eq=False)
        class Recorder:
            def apply(self, apply_values):
                seen.append((trained, [apply_values[:, row].tobytes() for row in range(apply_values.shape[1])]))
                return apply_values.mean(axis=0)

        return Recorder()

    return Method("recorder", fit, ("binary",), True, 1, "")


def test_no_row_is_scored_by_a_blend_fitted_on_it():
    values, y = _binary()  # continuous values: each row is unique, so rows identify themselves
    seen = []
    splits = repeated_folds(y, kind="binary", folds=5, repeats=2, random_state=0)
    fold_scores(_recording_method(seen), values, y, splits, kind="binary", metric="logloss")
    assert len(seen) == 10
    for repeat in (seen[:5], seen[5:]):
        predicted = []
        for trained, applied in repeat:
            assert trained.isdisjoint(applied)
            assert len(trained) + len(applied) == 100
            predicted += applied
        assert sorted(predicted) == sorted(values[:, row].tobytes() for row in range(100))  # every row once per repeat


def test_memorising_the_training_rows_gains_nothing():
    values, y = _binary(1)

    def memoriser_fit(train, y_train, *, kind, metric, random_state=None):
        truth = {train[:, row].tobytes(): float(label) for row, label in enumerate(y_train)}

        @dataclass(frozen=True, eq=False)
        class Memoriser:
            def apply(self, apply_values):
                rows = [apply_values[:, row] for row in range(apply_values.shape[1])]
                return np.array([[truth.get(row.tobytes(), row.mean())] for row in rows])

        return Memoriser()

    splits = repeated_folds(y, kind="binary", folds=5, random_state=0)
    honest = fold_scores(BY_NAME["average"], values, y, splits, kind="binary", metric="logloss")
    cheat = fold_scores(
        Method("memo", memoriser_fit, ("binary",), True, 1, ""), values, y, splits, kind="binary", metric="logloss"
    )
    np.testing.assert_array_equal(cheat, honest)


def test_per_fold_auc_equals_scikit_learns_per_fold():
    values, y = _binary(2, n=120, n_models=3)
    splits = repeated_folds(y, kind="binary", folds=4, random_state=5)
    expected_splits = list(StratifiedKFold(4, shuffle=True, random_state=5).split(np.zeros((120, 1)), y))
    for (train, held), (expected_train, expected_held) in zip(splits, expected_splits):
        np.testing.assert_array_equal(held, expected_held)
    per_model = model_fold_scores(values, y, splits, kind="binary", metric="auc")
    for model in range(3):
        expected = [roc_auc_score(y[held], values[model, held, 0]) for _, held in expected_splits]
        np.testing.assert_allclose(per_model[model], expected, rtol=0, atol=1e-12)
    blend = fold_scores(BY_NAME["average"], values, y, splits, kind="binary", metric="auc")
    expected = [roc_auc_score(y[held], values[:, held, 0].mean(axis=0)) for _, held in expected_splits]
    np.testing.assert_allclose(blend, expected, rtol=0, atol=1e-12)


def test_fold_scores_are_averaged_not_pooled():
    """Pooling a rank metric over folds mixes blends of different scales; the mean of fold AUCs does not."""
    values, y = _binary(3, n=80, n_models=2)
    board = leaderboard(values, y, kind="binary", metric="auc", names=["a", "b"], folds=4, methods=[])
    splits = repeated_folds(y, kind="binary", folds=4, random_state=0)
    by_fold = [roc_auc_score(y[held], values[0, held, 0]) for _, held in splits]
    assert board.entry("a").mean == pytest.approx(np.mean(by_fold), abs=1e-12)


def test_every_entry_is_scored_on_the_same_folds():
    values, y = _binary(4)
    board = leaderboard(
        values,
        y,
        kind="binary",
        metric="logloss",
        names=list("abcd"),
        folds=5,
        repeats=3,
        random_state=7,
        methods=[BY_NAME["average"]],
    )
    splits = repeated_folds(y, kind="binary", folds=5, repeats=3, random_state=7)
    expected = [
        layout.score(y[held], values[:, held].mean(axis=0), metric="logloss", kind="binary") for _, held in splits
    ]
    np.testing.assert_allclose(board.entry("average").fold_scores, expected, rtol=1e-12)
    for index, name in enumerate("abcd"):
        single = [layout.score(y[held], values[index, held], metric="logloss", kind="binary") for _, held in splits]
        np.testing.assert_allclose(board.entry(name).fold_scores, single, rtol=1e-12)


def test_gain_wins_and_standard_errors_by_hand():
    values, y = _binary(5)
    board = leaderboard(
        values, y, kind="binary", metric="logloss", names=list("abcd"), folds=5, repeats=2, methods=[BY_NAME["average"]]
    )
    best = board.entry(board.best_single)
    average = board.entry("average")
    difference = best.fold_scores - average.fold_scores  # logloss: lower is better
    assert average.gain == pytest.approx(difference.mean())
    assert average.wins == int((difference > 0).sum())
    assert average.gain_se == pytest.approx(np.std(difference, ddof=1) * np.sqrt(1 / 10 + 1 / 4))
    assert average.se == pytest.approx(corrected_se(average.fold_scores, 5))
    overall = layout.model_scores(values, y, metric="logloss", kind="binary")
    assert board.best_single == "abcd"[int(np.argmin(overall))]
    assert board.best_single_oof == pytest.approx(overall.min())


def test_repeats_use_other_seeds():
    y = np.array([0, 1] * 10)
    splits = repeated_folds(y, kind="binary", folds=5, repeats=2, random_state=0)
    assert not all(np.array_equal(a[1], b[1]) for a, b in zip(splits[:5], splits[5:]))


def test_leaderboard_runs_every_registry_entry_for_every_kind():
    rng = np.random.default_rng(0)
    n = 60
    y_bin = np.array([0, 1] * (n // 2))
    cases = {
        "binary": (np.clip(rng.uniform(size=(4, n, 1)) * 0.5 + 0.5 * y_bin[None, :, None], 0, 1), y_bin, "logloss"),
        "multiclass": (rng.dirichlet(np.ones(3), size=(4, n)), np.arange(n) % 3, "logloss"),
        "regression": (rng.normal(size=(4, n, 1)), rng.normal(size=n), "rmse"),
        "labels": (np.eye(3)[rng.integers(0, 3, size=(4, n))], np.arange(n) % 3, "accuracy"),
    }
    for kind, (values, y, metric) in cases.items():
        methods = methods_for(kind, metric)
        board = leaderboard(values, y, kind=kind, metric=metric, names=list("abcd"), folds=3, methods=methods)
        assert {entry.name for entry in board.entries} == set("abcd") | {method.name for method in methods}
        assert all(np.isfinite(entry.mean) for entry in board.entries), kind


def test_too_few_rows_for_the_folds_is_a_clear_error():
    values, y = _binary(n=4)
    with pytest.raises(BlendInputError, match=r"cannot split 4 OOF rows into 5 folds; lower --cv"):
        leaderboard(values, y, kind="binary", metric="logloss", names=list("abcd"), folds=5, methods=[])


# ---------------------------------------------------------------------------- the noise floor (issue 18)


def test_beyond_noise_floor_by_hand():
    from blender.evaluation import NOISE_FLOOR, beyond_noise_floor

    assert NOISE_FLOOR == 1e-9
    # Relative to the scale: 1e-9 of 0.5 is 5e-10.
    assert beyond_noise_floor(np.array([4.9e-10, -4.9e-10, 5.1e-10, -5.1e-10]), 0.5).tolist() == [
        False,
        False,
        True,
        True,
    ]
    # Elementwise scales: an rmse of 20,000 (dollars) and a log loss of 0.02.
    assert beyond_noise_floor(np.array([1e-5, 1e-5]), np.array([20000.0, 0.02])).tolist() == [False, True]
    # A scale of 0 (an rmse of 0) or a negative one (its magnitude counts): only an exact 0 is a tie there.
    assert beyond_noise_floor(np.array([0.0, 1e-300, 1e-12]), np.array([0.0, 0.0, -1000.0])).tolist() == [
        False,
        True,
        False,
    ]
    assert not beyond_noise_floor(NOISE_FLOOR * 0.5, 0.5)  # the floor itself is still a tie
    assert beyond_noise_floor(2.776e-18, 0.6931).shape == ()


def test_a_blend_equal_to_the_best_file_is_a_tie_not_a_win():
    """issue 18: weights that put everything on the best file gained +2.8e-18 "in 1 of 5 folds" and passed the gate."""
    from blender.picking import choose

    values, y = _binary(6, n=200)
    overall = layout.model_scores(values, y, metric="logloss", kind="binary")
    best = int(np.argmin(overall))

    def fit_(train, y_train, *, kind, metric, random_state=None):
        @dataclass(frozen=True, eq=False)
        # What the optimiser's weights (1 - 1e-16, 1e-16, ...) do: the best file, give or take rounding.
        class AllOnBest:
            def apply(self, apply_values):
                blend = apply_values[best] * (1 - 2.0**-52) + 2.0**-53 * apply_values.mean(axis=0)
                return blend

        return AllOnBest()

    splits = repeated_folds(y, kind="binary", folds=5, repeats=2, random_state=0)
    raw = fold_scores(
        Method("weights", fit_, ("binary",), True, 3, ""), values, y, splits, kind="binary", metric="logloss"
    )
    single = model_fold_scores(values, y, splits, kind="binary", metric="logloss")[best]
    assert 0 < np.abs(raw - single).max() < 1e-14  # rounding: the gains are +-1e-17 or so, not all 0
    board = leaderboard(
        values,
        y,
        kind="binary",
        metric="logloss",
        names=list("abcd"),
        folds=5,
        repeats=2,
        methods=[Method("weights", fit_, ("binary",), True, 3, "")],
    )
    tie = board.entry("weights")
    assert (tie.gain, tie.gain_se, tie.wins) == (0.0, 0.0, 0)
    np.testing.assert_array_equal(tie.fold_scores, single)  # in each fold it is the file, so it scores as the file
    pick = choose(board)
    assert (pick.name, pick.type) == ("abcd"[best], "model")


def test_gains_of_rounding_are_ties_even_where_the_predictions_differ():
    """The floor on the per-fold differences: mirrored errors give file a's mae, +-1e-17 apart, from other
    predictions.
    """
    from blender.picking import choose

    rng = np.random.default_rng(1)
    y = rng.normal(size=120) * 3.0
    values = np.stack([y + rng.normal(0, 1.0, 120), y + rng.normal(0, 2.0, 120)])[:, :, None]
    row_of = {value: row for row, value in enumerate(values[0, :, 0].tolist())}  # a's prediction names the row

    def fit_(train, y_train, *, kind, metric, random_state=None):
        @dataclass(frozen=True, eq=False)
        class Mirror:  # 2y - a on the even rows: the same absolute errors as a, other predictions
            def apply(self, apply_values):
                rows = np.array([row_of[value] for value in apply_values[0, :, 0].tolist()])
                a = apply_values[0, :, 0]
                return np.where(rows % 2 == 0, 2 * y[rows] - a, a)[:, None]

        return Mirror()

    method = Method("mirror", fit_, ("regression",), True, 3, "")
    splits = repeated_folds(y, kind="regression", folds=5, repeats=2, random_state=0)
    raw = fold_scores(method, values, y, splits, kind="regression", metric="mae", reference=values[0])
    single = model_fold_scores(values, y, splits, kind="regression", metric="mae")[0]
    assert np.abs(raw - single).max() < 1e-12 and (raw < single).sum() == 2 and (raw > single).sum() == 1  # rounding
    board = leaderboard(
        values, y, kind="regression", metric="mae", names=["a", "b"], folds=5, repeats=2, methods=[method]
    )
    assert board.best_single == "a"
    tie = board.entry("mirror")
    assert (tie.gain, tie.gain_se, tie.wins) == (0.0, 0.0, 0)
    assert choose(board).name == "a"
