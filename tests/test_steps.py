"""Decision steps (blender.steps): hand-worked toy cases for every step and the fitting helpers."""

import warnings

import numpy as np
import pytest
from sklearn import metrics as sk

from blender import steps
from blender.steps import Argmax, Clip, CutPoints, Threshold, TopK

# ---------------------------------------------------------------------------- Threshold


def test_threshold_apply_calls_strictly_above_positive():
    step = Threshold(0.3)
    np.testing.assert_array_equal(step.apply(np.array([0.1, 0.3, 0.30000001, 0.9])), [0, 0, 1, 1])
    assert step.apply(np.array([0.1, 0.9])).dtype == np.int64


def test_threshold_write_gives_the_labels():
    written = Threshold(0.5).write(np.array([0.5, 0.51, 0.0, 1.0]), ["no", "yes"])
    assert written.tolist() == ["no", "yes", "no", "yes"]


def test_threshold_apply_over_candidates():
    np.testing.assert_array_equal(Threshold(0.5).apply(np.array([[0.4, 0.6], [0.7, 0.2]])), [[0, 1], [1, 0]])


# ---------------------------------------------------------------------------- CutPoints


def test_cut_points_count_the_cuts_below_with_a_value_on_a_cut_in_the_lower_class():
    step = CutPoints((1.5, 3.0))
    np.testing.assert_array_equal(step.apply(np.array([-5.0, 1.0, 1.5, 1.6, 3.0, 3.1, 10.0])), [0, 0, 0, 1, 1, 2, 2])
    assert step.write(np.array([1.0, 2.0, 4.0]), ["one", "two", "four"]).tolist() == ["one", "two", "four"]


def test_cut_points_with_a_rank_cut_the_expected_class():
    # Columns (a, b, c) have places (0, 2, 1): the expected place of [0.2, 0.3, 0.5] is 0.3 * 2 + 0.5 * 1 = 1.1.
    step = CutPoints((0.5, 1.5), rank=(0, 2, 1))
    p = np.array([[0.2, 0.3, 0.5], [0.9, 0.1, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [0.5, 0.0, 0.5]])
    np.testing.assert_allclose(step.numbers(p), [1.1, 0.2, 2.0, 1.0, 0.5])
    np.testing.assert_array_equal(step.apply(p), [1, 0, 2, 1, 0])  # 0.5 lies on the first cut: class 0
    # labels are in the class order (by place), not the column order
    assert step.write(p, ["low", "mid", "high"]).tolist() == ["mid", "low", "high", "mid", "low"]


def test_cut_points_with_no_cuts_is_one_class():
    np.testing.assert_array_equal(CutPoints(()).apply(np.array([-1.0, 0.0, 7.0])), [0, 0, 0])


# ---------------------------------------------------------------------------- Argmax, with and without a class order


def test_argmax_takes_the_first_class_on_a_tie():
    p = np.array([[0.2, 0.5, 0.3], [0.4, 0.4, 0.2], [0.1, 0.45, 0.45], [1.0, 1.0, 1.0]])
    np.testing.assert_array_equal(Argmax().apply(p), [1, 0, 1, 0])
    assert Argmax().write(p, ["x", "y", "z"]).tolist() == ["y", "x", "y", "x"]


def test_ordered_argmax_gives_the_place_of_the_most_probable_column():
    step = Argmax(rank=(2, 0, 1))
    p = np.array([[0.1, 0.7, 0.2], [0.6, 0.3, 0.1], [0.2, 0.2, 0.6], [0.5, 0.5, 0.0]])
    np.testing.assert_array_equal(step.apply(p), [0, 2, 1, 2])  # the tie goes to the first column (place 2)
    assert step.write(p, ["low", "mid", "high"]).tolist() == ["low", "high", "mid", "high"]


# ---------------------------------------------------------------------------- TopK


def test_top_k_writes_space_separated_labels_ties_in_class_order():
    p = np.array([[0.1, 0.4, 0.4, 0.1], [0.25, 0.25, 0.25, 0.25], [0.0, 0.1, 0.2, 0.7], [0.3, 0.1, 0.3, 0.3]])
    written = TopK(3).write(p, ["a", "b", "c", "d"])
    assert written.tolist() == ["b c a", "a b c", "d c b", "a c d"]
    assert TopK(1).write(p, ["a", "b", "c", "d"]).tolist() == ["b", "a", "d", "a"]


def test_top_k_with_k_above_the_column_count_writes_every_class():
    assert TopK(5).write(np.array([[0.2, 0.8]]), ["no", "yes"]).tolist() == ["yes no"]


def test_top_k_apply_leaves_the_scores_alone():
    p = np.array([[0.1, 0.9], [0.6, 0.4]])
    assert TopK(2).apply(p) is p


# ---------------------------------------------------------------------------- Clip


def test_clip_raises_values_below_low():
    np.testing.assert_array_equal(Clip().apply(np.array([-1.0, -0.0, 0.0, 2.5])), [0.0, 0.0, 0.0, 2.5])
    np.testing.assert_array_equal(Clip(1.0).apply(np.array([0, 1, 2])), [1.0, 1.0, 2.0])
    np.testing.assert_array_equal(Clip().write(np.array([-3.0, 4.0])), [0.0, 4.0])


def test_steps_describe_themselves():
    for step in (
        Threshold(0.25),
        CutPoints((1.5,)),
        CutPoints((0.5,), rank=(0, 1)),
        Argmax(),
        Argmax((0, 1)),
        TopK(3),
        Clip(),
    ):
        assert isinstance(step.describe(), str) and step.describe()
    assert "0.25" in Threshold(0.25).describe()
    assert "top 3" in TopK(3).describe()


def test_only_the_learnt_steps_say_fitted():
    assert Threshold(0.5).fitted and CutPoints((1.0,)).fitted
    assert not (Argmax().fitted or Argmax((0,)).fitted or TopK(1).fitted or Clip().fitted)


# ---------------------------------------------------------------------------- rounding_cuts


def test_rounding_cuts_lie_halfway_between_neighbours():
    assert steps.rounding_cuts(np.array([1.0, 2.0, 4.0])) == (1.5, 3.0)
    assert steps.rounding_cuts(np.array([0, 1, 2, 3])) == (0.5, 1.5, 2.5)
    assert steps.rounding_cuts(np.array([7.0])) == ()


def test_rounding_cuts_send_each_value_to_its_nearest_class():
    values = np.array([1.0, 2.0, 4.0, 9.0])
    x = np.array([-3.0, 1.2, 1.8, 2.9, 3.1, 6.4, 6.6, 20.0])
    decided = CutPoints(steps.rounding_cuts(values)).apply(x)
    np.testing.assert_array_equal(values[decided], [1.0, 1.0, 2.0, 2.0, 4.0, 4.0, 9.0, 9.0])


# ---------------------------------------------------------------------------- binary_counts, from_counts


def test_binary_counts_by_hand():
    y = np.array([1, 1, 1, 0, 0, 0, 0, 0])
    d = np.array([1, 1, 0, 1, 0, 0, 0, 0])
    assert [int(c) for c in steps.binary_counts(y, d)] == [2, 1, 1, 4]
    tp, fp, fn, tn = steps.binary_counts(y, np.stack([d, 1 - d]))
    np.testing.assert_array_equal(np.stack([tp, fp, fn, tn]), [[2, 1], [1, 4], [1, 2], [4, 1]])


def test_from_counts_by_hand():
    # tp 2, fp 1, fn 1, tn 4
    assert float(steps.from_counts("accuracy", 2, 1, 1, 4)) == pytest.approx(6 / 8, abs=1e-15)
    assert float(steps.from_counts("f1", 2, 1, 1, 4)) == pytest.approx(4 / 6, abs=1e-15)
    assert float(steps.from_counts("mcc", 2, 1, 1, 4)) == pytest.approx(
        (2 * 4 - 1 * 1) / np.sqrt(3 * 3 * 5 * 5), abs=1e-15
    )
    assert float(steps.from_counts("balanced_accuracy", 2, 1, 1, 4)) == pytest.approx((2 / 3 + 4 / 5) / 2, abs=1e-15)


def test_from_counts_equals_sklearn_on_the_same_decisions():
    y = np.array([1, 1, 1, 0, 0, 0, 0, 0])
    d = np.array([1, 1, 0, 1, 0, 0, 0, 0])
    counts = steps.binary_counts(y, d)
    for name, function in [
        ("accuracy", sk.accuracy_score),
        ("f1", sk.f1_score),
        ("mcc", sk.matthews_corrcoef),
        ("balanced_accuracy", sk.balanced_accuracy_score),
    ]:
        assert float(steps.from_counts(name, *counts)) == pytest.approx(function(y, d), abs=1e-15)


@pytest.mark.parametrize(
    "counts, expected",
    [
        ((0, 0, 0, 5), {"f1": 0.0, "mcc": 0.0, "accuracy": 1.0, "balanced_accuracy": 1.0}),  # all negative, all right
        ((0, 2, 0, 3), {"f1": 0.0, "mcc": 0.0, "accuracy": 0.6, "balanced_accuracy": 0.6}),  # no positives in truth
        ((3, 0, 0, 0), {"f1": 1.0, "mcc": 0.0, "accuracy": 1.0, "balanced_accuracy": 1.0}),  # all positive, all right
        ((0, 0, 2, 3), {"f1": 0.0, "mcc": 0.0, "accuracy": 0.6, "balanced_accuracy": 0.5}),  # nothing called positive
    ],
)
def test_from_counts_where_scikit_learn_defines_a_fallback(counts, expected):
    tp, fp, fn, tn = counts
    y = np.r_[np.ones(tp + fn, int), np.zeros(fp + tn, int)]
    d = np.r_[np.ones(tp, int), np.zeros(fn, int), np.ones(fp, int), np.zeros(tn, int)]
    references = {
        "f1": sk.f1_score,
        "mcc": sk.matthews_corrcoef,
        "accuracy": sk.accuracy_score,
        "balanced_accuracy": sk.balanced_accuracy_score,
    }
    for name, value in expected.items():
        got = float(steps.from_counts(name, tp, fp, fn, tn))
        assert got == pytest.approx(value, abs=1e-15), name
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # scikit-learn warns on its fallbacks; the value is what counts
            assert got == pytest.approx(float(references[name](y, d)), abs=1e-15), name


def test_from_counts_broadcasts_and_refuses_unknown_names():
    values = steps.from_counts("accuracy", np.array([1, 2]), np.array([1, 0]), np.array([0, 0]), np.array([2, 2]))
    np.testing.assert_allclose(values, [0.75, 1.0])
    with pytest.raises(ValueError, match="no binary counts formula for 'auc'"):
        steps.from_counts("auc", 1, 1, 1, 1)


# ---------------------------------------------------------------------------- threshold_scores, best_threshold


def test_threshold_scores_by_hand():
    y = np.array([0, 1, 1, 0])
    ordered, values, valid = steps.threshold_scores(y, np.array([0.2, 0.6, 0.4, 0.1]), "accuracy")
    np.testing.assert_array_equal(ordered, [0.6, 0.4, 0.2, 0.1])
    np.testing.assert_allclose(values, [0.5, 0.75, 1.0, 0.75, 0.5])  # cut m calls the m highest positive
    assert valid.all()


def test_threshold_scores_keep_ties_together():
    y = np.array([1, 0, 1])
    _, values, valid = steps.threshold_scores(y, np.array([0.5, 0.5, 0.2]), "accuracy")
    np.testing.assert_array_equal(valid, [True, False, True, True])
    np.testing.assert_allclose(values[valid], [1 / 3, 1 / 3, 2 / 3])


def test_threshold_scores_of_many_candidates():
    y = np.array([0, 1, 1, 0])
    candidates = np.array([[0.2, 0.6, 0.4, 0.1], [0.9, 0.1, 0.2, 0.3]])
    _, values, valid = steps.threshold_scores(y, candidates, "f1")
    assert values.shape == valid.shape == (2, 5)
    for row, candidate in enumerate(candidates):
        np.testing.assert_allclose(values[row], steps.threshold_scores(y, candidate, "f1")[1])


def test_best_threshold_by_hand():
    step, best = steps.best_threshold(np.array([0, 1, 1, 0]), np.array([0.2, 0.6, 0.4, 0.1]), "accuracy")
    assert step.threshold == pytest.approx(0.3) and best == 1.0
    # F1: calling everything positive (threshold below 0.1) gives 2 tp + 2 fp: 2/3; the best is 1.0 at 0.3
    step, best = steps.best_threshold(np.array([0, 1, 1, 0]), np.array([0.2, 0.6, 0.4, 0.1]), "f1")
    assert best == 1.0 and step.apply(np.array([0.2, 0.6, 0.4, 0.1])).tolist() == [0, 1, 1, 0]


def test_best_threshold_prefers_the_cut_nearest_one_half_among_equals():
    # Accuracy is 1 for every threshold in [0.3, 0.7): the plain 0.5 is kept.
    step, best = steps.best_threshold(np.array([0, 0, 1, 1]), np.array([0.1, 0.3, 0.7, 0.9]), "accuracy")
    assert best == 1.0 and step.threshold == 0.5
    # Two equally good cuts, at 0.2 and 0.65 (accuracy 2/3 either way): 0.65 is nearer 0.5.
    y, p = np.array([1, 0, 1]), np.array([0.1, 0.3, 1.0])
    step, best = steps.best_threshold(y, p, "accuracy")
    assert best == pytest.approx(2 / 3) and step.threshold == pytest.approx(0.65)


def test_best_threshold_at_the_ends():
    # Everything positive is best (no negatives): the threshold lies just below the minimum.
    p = np.array([0.6, 0.7, 0.8])
    step, best = steps.best_threshold(np.array([1, 1, 1]), p, "f1")
    assert best == 1.0 and step.apply(p).tolist() == [1, 1, 1] and step.threshold < 0.6
    # Everything negative is best for accuracy when there are no positives: the threshold is the maximum.
    step, best = steps.best_threshold(np.array([0, 0, 0]), p, "accuracy")
    assert best == 1.0 and step.apply(p).tolist() == [0, 0, 0] and step.threshold == 0.8


def test_best_threshold_separates_neighbouring_floats():
    low = 0.3
    high = float(np.nextafter(low, 1.0))
    p = np.array([low, high, low, high])
    step, best = steps.best_threshold(np.array([0, 1, 0, 1]), p, "f1")
    assert best == 1.0
    assert step.apply(p).tolist() == [0, 1, 0, 1]


def test_best_threshold_of_all_tied_values():
    p = np.full(4, 0.4)
    step, best = steps.best_threshold(np.array([1, 0, 1, 1]), p, "f1")
    assert best == pytest.approx(2 * 3 / (2 * 3 + 1))  # all positive
    assert step.apply(p).tolist() == [1, 1, 1, 1]


# ---------------------------------------------------------------------------- fit_cut_points


def test_fit_cut_points_by_hand():
    truth = np.array([0, 0, 1, 1, 2, 2])
    numbers = np.array([0.1, 0.2, 0.45, 0.5, 0.9, 1.1])
    cuts = steps.fit_cut_points(truth, numbers, 3)
    assert cuts == pytest.approx((0.325, 0.7))
    np.testing.assert_array_equal(CutPoints(cuts).apply(numbers), truth)


def test_fit_cut_points_moves_off_the_histogram_start_when_it_helps():
    # Sorted by number the truth is 2, 2, 1, 0, 2, 1. Histogram matching (one 0, two 1s, three 2s)
    # decides 0, 1, 1, 2, 2, 2: kappa -0.5. Moving the cuts to "nothing is 0, rows above 3 are 2"
    # decides 1, 1, 1, 1, 2, 2: kappa 1/7.
    truth = np.array([2, 2, 1, 0, 2, 1])
    numbers = np.arange(6.0)
    start = steps.fit_cut_points(truth, numbers, 3, sweeps=0)
    assert CutPoints(start).apply(numbers).tolist() == [0, 1, 1, 2, 2, 2]
    assert sk.cohen_kappa_score(truth, CutPoints(start).apply(numbers), weights="quadratic") == pytest.approx(-0.5)
    cuts = steps.fit_cut_points(truth, numbers, 3)
    assert np.all(np.diff(cuts) >= 0)
    assert CutPoints(cuts).apply(numbers).tolist() == [1, 1, 1, 1, 2, 2]
    assert sk.cohen_kappa_score(truth, CutPoints(cuts).apply(numbers), weights="quadratic") == pytest.approx(1 / 7)


def test_fit_cut_points_keep_tied_numbers_in_one_class():
    truth = np.array([0, 1, 0, 1, 2, 2])
    numbers = np.array([1.0, 1.0, 1.0, 1.0, 5.0, 5.0])
    cuts = steps.fit_cut_points(truth, numbers, 3)
    decided = CutPoints(cuts).apply(numbers)
    assert len(set(decided[:4].tolist())) == 1 and len(set(decided[4:].tolist())) == 1


def test_quadratic_disagreement_by_hand():
    # truth [0, 1, 2], decided [0, 2, 2]: one row off by one class (weight 1).
    observed, expected = steps.quadratic_disagreement(np.array([0, 1, 2]), np.array([0, 2, 2]), 3)
    assert observed == 1.0
    # margins: truth (1, 1, 1), decided (1, 0, 2): E = outer / 3, weighted
    margin = np.outer([1, 1, 1], [1, 0, 2]) / 3
    weights = np.subtract.outer(np.arange(3), np.arange(3)) ** 2
    assert expected == pytest.approx(float((weights * margin).sum()))
    assert 1 - observed / expected == pytest.approx(sk.cohen_kappa_score([0, 1, 2], [0, 2, 2], weights="quadratic"))
