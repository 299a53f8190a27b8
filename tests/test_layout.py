"""Tests for blender.layout: the one array layout's leaf helpers, by hand and against scikit-learn."""

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.model_selection import KFold, StratifiedKFold

from blender import layout
from blender.errors import BlendInputError
from blender.metrics import score as metrics_score


def test_shapes_and_rows():
    values = np.arange(2 * 5 * 3, dtype=float).reshape(2, 5, 3)
    assert layout.n_models(values) == 2 and layout.n_rows(values) == 5
    taken = layout.take_rows(values, np.array([4, 0]))
    assert taken.shape == (2, 2, 3)
    np.testing.assert_array_equal(taken, values[:, [4, 0], :])


def test_for_metric_drops_the_single_column_only():
    assert layout.for_metric(np.array([[0.2], [0.9]]), "binary").shape == (2,)
    assert layout.for_metric(np.array([[1.5], [2.0]]), "regression").tolist() == [1.5, 2.0]
    assert layout.for_metric(np.eye(3), "multiclass").shape == (3, 3)
    assert layout.for_metric(np.eye(3), "labels").shape == (3, 3)


def test_score_and_model_scores_equal_metrics_score():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 50)
    values = rng.random((3, 50, 1))
    scores = layout.model_scores(values, y, metric="logloss", kind="binary")
    assert scores.shape == (3,)
    for model in range(3):
        assert scores[model] == metrics_score(y, values[model, :, 0], metric="logloss", kind="binary")
        assert layout.score(y, values[model], metric="auc", kind="binary") == metrics_score(
            y, values[model, :, 0], metric="auc", kind="binary"
        )
    classes = rng.dirichlet(np.ones(4), (2, 50))
    y4 = rng.integers(0, 4, 50)
    np.testing.assert_array_equal(
        layout.model_scores(classes, y4, metric="accuracy", kind="multiclass"),
        [np.mean(c.argmax(axis=1) == y4) for c in classes],
    )


def test_best_model_takes_the_first_on_a_tie_in_the_metrics_direction():
    assert layout.best_model(np.array([0.3, 0.1, 0.1]), "logloss") == 1
    assert layout.best_model(np.array([0.7, 0.9, 0.9]), "auc") == 1
    assert layout.best_model(np.array([2.0, 1.0, 3.0]), "rmse") == 1
    assert layout.best_model(np.array([0.5, 0.5]), "accuracy") == 0


# ------------------------------------------------------------------ weighted_blend


def test_weighted_blend_by_hand():
    values = np.array([[[0.2], [0.6]], [[0.8], [0.4]]])
    np.testing.assert_allclose(layout.weighted_blend(values, np.array([3.0, 1.0]), kind="binary"), [[0.35], [0.55]])
    classes = np.array([[[1.0, 0.0]], [[0.0, 1.0]]])
    np.testing.assert_allclose(layout.weighted_blend(classes, np.array([1.0, 3.0]), kind="multiclass"), [[0.25, 0.75]])
    np.testing.assert_allclose(
        layout.weighted_blend(np.array([[[1.0]], [[3.0]]]), np.ones(2), kind="regression"), [[2.0]]
    )


def test_weighted_blend_of_label_votes_is_the_vote_share():
    votes = np.eye(3)[np.array([[0, 1], [2, 1], [2, 2]])]  # 3 models, 2 rows, 3 classes
    np.testing.assert_allclose(
        layout.weighted_blend(votes, np.array([1.0, 1.0, 2.0]), kind="labels"), [[0.25, 0.0, 0.75], [0.0, 0.5, 0.5]]
    )


def test_only_ratios_of_weights_matter():
    rng = np.random.default_rng(1)
    values = rng.random((3, 10, 1))
    weights = np.array([1.0, 2.0, 5.0])
    np.testing.assert_allclose(
        layout.weighted_blend(values, weights * 1e-6, kind="binary"),
        layout.weighted_blend(values, weights, kind="binary"),
        rtol=1e-12,
    )


def test_negative_weights_clip_binary_probabilities_into_zero_one():
    # 1.5 * 0.9 - 0.5 * 0.1 = 1.3 and 1.5 * 0.1 - 0.5 * 0.9 = -0.3 leave [0, 1]; 0.5 stays.
    values = np.array([[[0.9], [0.1], [0.5]], [[0.1], [0.9], [0.5]]])
    blended = layout.weighted_blend(values, np.array([1.5, -0.5]), kind="binary")
    np.testing.assert_allclose(blended[:, 0], [1 - 1e-15, 1e-15, 0.5], rtol=0, atol=1e-15)
    assert blended[0, 0] == 1 - 1e-15 and blended[1, 0] == 1e-15  # exactly the clip bounds
    assert blended.min() > 0 and blended.max() < 1


def test_negative_weights_clip_and_renormalise_class_probabilities():
    values = np.array([[[0.7, 0.2, 0.1]], [[0.2, 0.3, 0.5]]])
    blended = layout.weighted_blend(values, np.array([2.0, -1.0]), kind="multiclass")
    # 2 * [0.7, 0.2, 0.1] - [0.2, 0.3, 0.5] = [1.2, 0.1, -0.3] -> clipped [1 - 1e-15, 0.1, 1e-15] -> renormalised.
    clipped = np.array([1 - 1e-15, 0.1, 1e-15])
    np.testing.assert_allclose(blended, [clipped / clipped.sum()], rtol=1e-12)
    np.testing.assert_allclose(blended.sum(axis=1), 1.0, rtol=1e-15)
    assert blended.min() > 0


def test_negative_weights_leave_regression_values_alone():
    values = np.array([[[1.0], [4.0]], [[3.0], [2.0]]])
    np.testing.assert_allclose(layout.weighted_blend(values, np.array([2.0, -1.0]), kind="regression"), [[-1.0], [6.0]])


def test_positive_weights_do_not_renormalise_class_probabilities():
    # Without a negative weight the mean is returned as it is, bit for bit.
    rng = np.random.default_rng(2)
    values = rng.dirichlet(np.ones(3), (2, 5))
    weights = np.array([1.0, 3.0])
    np.testing.assert_array_equal(
        layout.weighted_blend(values, weights, kind="multiclass"), 0.25 * values[0] + 0.75 * values[1]
    )


def test_weighted_sum_gives_a_row_the_same_bits_wherever_it_sits():
    # A BLAS product sums in an order that depends on a row's position; the blend of a row must not.
    rng = np.random.default_rng(5)
    values = rng.random((7, 501, 3))
    weights = rng.random(7)
    order = rng.permutation(501)
    np.testing.assert_array_equal(
        layout.weighted_sum(values[:, order], weights), layout.weighted_sum(values, weights)[order]
    )
    np.testing.assert_array_equal(
        layout.weighted_blend(values[:, order], weights, kind="multiclass"),
        layout.weighted_blend(values, weights, kind="multiclass")[order],
    )
    by_hand = np.zeros((501, 3))
    for model in range(7):
        by_hand += weights[model] * values[model]
    np.testing.assert_array_equal(layout.weighted_sum(values, weights), by_hand)


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 10_000), n_models=st.integers(2, 5), n_classes=st.integers(2, 5))
def test_any_weights_give_valid_class_probabilities(seed, n_models, n_classes):
    rng = np.random.default_rng(seed)
    values = rng.dirichlet(np.ones(n_classes), (n_models, 7))
    weights = rng.normal(size=n_models)
    if abs(weights.sum()) < 0.1:
        weights[0] += 1.0
    blended = layout.weighted_blend(values, weights, kind="multiclass")
    assert np.all(blended > 0) and np.all(blended < 1)
    np.testing.assert_allclose(blended.sum(axis=1), 1.0, rtol=1e-12)


# ------------------------------------------------------------------ normalise_weights


def test_normalise_weights_by_hand():
    np.testing.assert_allclose(layout.normalise_weights(np.array([2.0, 0.0, 2.0])), [0.5, 0.0, 0.5])
    np.testing.assert_allclose(layout.normalise_weights(np.array([3, 1])), [0.75, 0.25])
    np.testing.assert_allclose(layout.normalise_weights(np.array([1.5, -0.5])), [1.5, -0.5])


def test_normalise_weights_of_huge_weights_does_not_overflow():
    # Issue 10 item 4: 1e308 + 1e308 is inf, so dividing by the sum gave zeros (and NaN after).
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning either
        np.testing.assert_array_equal(layout.normalise_weights(np.array([1e308, 1e308])), [0.5, 0.5])
        np.testing.assert_allclose(layout.normalise_weights(np.array([1e308, 1e308, 1e308, 1e308])), [0.25] * 4)
        np.testing.assert_allclose(layout.normalise_weights(np.array([1.5e308, 0.5e308])), [0.75, 0.25])
        np.testing.assert_allclose(layout.normalise_weights(np.array([1e308, 1.0])), [1.0, 1e-308], rtol=1e-12)
        np.testing.assert_allclose(layout.normalise_weights(np.array([1.7e308, -0.7e308])), [1.7, -0.7], rtol=1e-12)


def test_weighted_blend_with_huge_weights_equals_the_same_ratios():
    rng = np.random.default_rng(3)
    values = rng.random((2, 6, 1))
    np.testing.assert_allclose(
        layout.weighted_blend(values, np.array([1e308, 1e308]), kind="binary"),
        layout.weighted_blend(values, np.array([1.0, 1.0]), kind="binary"),
        rtol=1e-15,
    )


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.0, 1e308, allow_subnormal=False), min_size=1, max_size=6).filter(lambda w: max(w) > 0))
def test_normalised_weights_are_finite_sum_to_one_and_keep_the_ratios(weights):
    weights = np.array(weights)
    normalised = layout.normalise_weights(weights)
    assert np.all(np.isfinite(normalised))
    assert normalised.sum() == pytest.approx(1.0, rel=1e-12)
    biggest = np.argmax(weights)
    np.testing.assert_allclose(normalised / normalised[biggest], weights / weights[biggest], rtol=1e-12, atol=1e-300)


# ------------------------------------------------------------------ cv_folds


def test_cv_folds_equal_scikit_learns_stratified_folds():
    y = np.array([0, 1] * 15 + [2] * 6)
    splits = layout.cv_folds(y, kind="multiclass", folds=3, random_state=4)
    expected = StratifiedKFold(3, shuffle=True, random_state=4).split(np.zeros((36, 1)), y)
    for (train, held), (train_sk, held_sk) in zip(splits, expected, strict=True):
        np.testing.assert_array_equal(train, train_sk)
        np.testing.assert_array_equal(held, held_sk)


def test_cv_folds_for_regression_are_plain_shuffled_k_fold():
    y = np.linspace(0, 1, 23)
    splits = layout.cv_folds(y, kind="regression", folds=4, random_state=1)
    expected = list(KFold(4, shuffle=True, random_state=1).split(np.zeros((23, 1))))
    assert [held.tolist() for _, held in splits] == [held.tolist() for _, held in expected]


@pytest.mark.parametrize(
    "kind, y", [("binary", np.array([0, 1] * 10)), ("labels", np.arange(30) % 3), ("regression", np.arange(17.0))]
)
def test_cv_folds_partition_the_rows_and_are_seeded(kind, y):
    splits = layout.cv_folds(y, kind=kind, folds=5, random_state=0)
    assert len(splits) == 5
    held = np.concatenate([held for _, held in splits])
    assert sorted(held.tolist()) == list(range(len(y)))
    for train, held_out in splits:
        assert set(train.tolist()).isdisjoint(held_out.tolist())
        assert len(train) + len(held_out) == len(y)
    again = layout.cv_folds(y, kind=kind, folds=5, random_state=0)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(splits, again))
    other = layout.cv_folds(y, kind=kind, folds=5, random_state=1)
    assert any(not np.array_equal(a[1], b[1]) for a, b in zip(splits, other))


def test_cv_folds_keep_the_class_shares_in_every_fold():
    y = np.array([0] * 40 + [1] * 10)
    for _, held in layout.cv_folds(y, kind="binary", folds=5, random_state=0):
        assert np.bincount(y[held]).tolist() == [8, 2]


def test_a_class_rarer_than_the_folds_is_allowed_silently():
    y = np.array([0] * 20 + [1] * 20 + [2] * 2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        splits = layout.cv_folds(y, kind="multiclass", folds=5, random_state=0)
    assert sorted(np.concatenate([held for _, held in splits]).tolist()) == list(range(42))


@pytest.mark.parametrize(
    "y, kind, folds, message",
    [
        (np.array([0, 1]), "binary", 5, r"cannot split 2 OOF rows into 5 folds; lower --cv to at most 2"),
        (np.array([0.5, 1.5, 2.5]), "regression", 4, r"cannot split 3 OOF rows into 4 folds; lower --cv to at most 3"),
        (
            np.array([0, 1, 2, 0, 1, 2, 0, 1, 2]),
            "multiclass",
            5,
            r"every class has fewer OOF rows than the 5 folds \(the largest has 3\); lower --cv to at most 3",
        ),
        (np.array(["a", "b"] * 3), "labels", 4, r"lower --cv to at most 3"),
        (np.array([0, 1] * 5), "binary", 1, r"--cv 1: cross-validation needs at least 2 folds"),
        (np.arange(10.0), "regression", 0, r"--cv 0: cross-validation needs at least 2 folds"),
    ],
)
def test_cv_folds_errors_are_blend_input_errors_naming_cv(y, kind, folds, message):
    with pytest.raises(BlendInputError, match=message) as raised:
        layout.cv_folds(y, kind=kind, folds=folds, random_state=0)
    assert "--cv" in str(raised.value) and "\n" not in str(raised.value)


def test_cv_folds_refuse_an_unknown_kind():
    with pytest.raises(ValueError, match="unknown kind 'ordinal'"):
        layout.cv_folds(np.arange(10), kind="ordinal", folds=2)
