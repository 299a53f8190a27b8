"""voting.vote, probabilities_to_votes and votes_as_output: toy cases by hand, ties, invariants."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from blender.errors import BlendInputError
from blender.voting import probabilities_to_votes, vote, votes_as_output

TRUTH = np.array([0, 1, 1, 0, 1, 0, 0, 1, 1, 0])


def one_hot(labels, classes=None):
    """Label columns (n_rows, n_models) as one-hot votes (n_models, n_rows, n_classes), and the sorted classes."""
    labels = np.asarray(labels)
    classes = sorted(np.unique(labels).tolist()) if classes is None else list(classes)
    codes = np.searchsorted(np.asarray(classes), labels)
    return np.eye(len(classes))[codes.T], classes


def vote_labels(labels, weights=None):
    """The winning labels of label columns (n_rows, n_models), through one-hot votes."""
    votes, classes = one_hot(labels)
    return [classes[k] for k in vote(votes, weights=weights)]


def _wrong_on(rows):
    """A 70%-accurate classifier: the truth with the given rows flipped."""
    predictions = TRUTH.copy()
    predictions[list(rows)] = 1 - predictions[list(rows)]
    return predictions


def test_three_70_percent_classifiers_with_disjoint_errors_vote_right_on_every_row():
    models = [_wrong_on([0, 1, 2]), _wrong_on([3, 4, 5]), _wrong_on([6, 7, 8])]
    assert all(np.mean(m == TRUTH) == 0.7 for m in models)
    winners = vote(one_hot(np.column_stack(models), [0, 1])[0])
    assert winners.shape == (10,)
    assert np.array_equal(winners, TRUTH)


def test_two_classifiers_wrong_on_the_same_row_outvote_the_third_there_only():
    models = [_wrong_on([0, 1, 2]), _wrong_on([2, 4, 5]), _wrong_on([6, 7, 8])]
    result = vote(one_hot(np.column_stack(models), [0, 1])[0])
    assert np.flatnonzero(result != TRUTH).tolist() == [2]


def test_weighted_vote_three_votes_lose_to_four_agreeing_files():
    # Weights 3,1,1,1,1: file 1 says "a", the four others all say "b": 4 > 3.
    assert vote_labels([["a", "b", "b", "b", "b"]], weights=np.array([3.0, 1, 1, 1, 1])) == ["b"]


@pytest.mark.parametrize("others", [["b", "b", "c", "c"], ["b", "b", "b", "c"]])
def test_weighted_vote_three_votes_beat_split_others(others):
    # 3 for "a" against 2+2 or 3+1: file 1 wins.
    assert vote_labels([["a", *others]], weights=np.array([3.0, 1, 1, 1, 1])) == ["a"]


def test_weighted_vote_three_votes_against_three_plus_one_over_rows():
    labels = [["a", "b", "b", "b", "b"], ["a", "b", "b", "b", "c"], ["a", "b", "b", "c", "c"]]
    assert vote_labels(labels, weights=np.array([3.0, 1, 1, 1, 1])) == ["b", "a", "a"]


@pytest.mark.parametrize(
    "row, expected",
    [
        (["dog", "cat"], "dog"),  # two models: the first decides
        (["cat", "dog"], "cat"),
        (["bird", "cat", "dog"], "bird"),  # three-way tie
        (["zebra", "ant", "ant", "zebra"], "zebra"),  # the first model's label, not the alphabetical one
        (["ant", "zebra", "zebra", "ant"], "ant"),
    ],
)
def test_tie_goes_to_the_label_of_the_first_model_that_voted_for_a_tied_label(row, expected):
    assert vote_labels([row]) == [expected]


def test_tie_skips_a_first_model_whose_label_is_not_tied():
    # cat 1, dog 2, bird 2: the first model votes cat (not tied); dog is voted first among the tied.
    assert vote_labels([["cat", "dog", "bird", "bird", "dog"]]) == ["dog"]


def test_tie_with_weights_and_zero_weight_model_ignored():
    # weights 0,2,2: the first model has no vote and cannot break the tie.
    assert vote_labels([["dog", "cat", "dog"]], weights=np.array([0.0, 2.0, 2.0])) == ["cat"]


def test_huge_weights_do_not_overflow():
    # Issue 10 item 4: with 1e308 weights the tally overflowed to inf and picked the wrong winner.
    labels = [["a", "b", "b"], ["c", "c", "a"]]
    assert vote_labels(labels, weights=np.array([1e308, 1e308, 1e308])) == ["b", "c"]
    assert vote_labels(labels, weights=np.array([1e308, 1e308, 1e308])) == vote_labels(labels)


def test_probabilities_to_votes_binary_and_multiclass():
    # One column: above 0.5 is class 1, 0.5 itself is class 0.
    votes = probabilities_to_votes(np.array([[[0.49], [0.5], [0.51]]]))
    assert votes.shape == (1, 3, 2)
    assert votes.tolist() == [[[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]]]
    scores = np.array([[[0.2, 0.5, 0.3], [0.4, 0.4, 0.2]], [[0.1, 0.1, 0.8], [0.3, 0.3, 0.4]]])
    # argmax per row; the tie [0.4, 0.4, 0.2] goes to the first column.
    assert probabilities_to_votes(scores).argmax(axis=2).tolist() == [[1, 0], [2, 2]]
    assert set(np.unique(probabilities_to_votes(scores))) == {0.0, 1.0}


def test_votes_as_output_for_every_kind():
    winners = np.array([2, 0, 1])
    assert votes_as_output(winners, kind="labels", classes=["ant", "bee", "cat"], n_cols=3).tolist() == [
        "cat",
        "ant",
        "bee",
    ]
    binary = votes_as_output(np.array([1, 0, 1]), kind="binary", classes=None, n_cols=1)
    assert binary.tolist() == [1, 0, 1] and binary.dtype == np.int64
    np.testing.assert_array_equal(
        votes_as_output(winners, kind="multiclass", classes=None, n_cols=3), [[0, 0, 1], [1, 0, 0], [0, 1, 0]]
    )


def test_labels_that_look_like_numbers_keep_their_text():
    votes, classes = one_hot([["007", "007", "7"], ["100000", "7", "7"]])
    assert votes_as_output(vote(votes), kind="labels", classes=classes, n_cols=len(classes)).tolist() == ["007", "7"]


@pytest.mark.parametrize(
    "weights, message",
    [
        ([1.0, 1.0], "gives 2 weights for 3 files"),
        ([1.0, -1.0, 1.0], "cannot be negative"),
        ([0.0, 0.0, 0.0], "all weights are zero"),
    ],
)
def test_vote_refuses_bad_weights(weights, message):
    with pytest.raises(BlendInputError, match=message):
        vote(one_hot([["a", "b", "c"]])[0], weights=np.array(weights))


label_matrices = hnp.arrays(np.int64, st.tuples(st.integers(1, 30), st.integers(1, 6)), elements=st.integers(0, 4))


def _votes(labels):
    return np.eye(5)[labels.T]


@settings(max_examples=60, deadline=None)
@given(labels=label_matrices, data=st.data())
def test_row_order_does_not_matter(labels, data):
    order = data.draw(st.permutations(range(len(labels))))
    assert np.array_equal(vote(_votes(labels[order])), vote(_votes(labels))[order])


@settings(max_examples=60, deadline=None)
@given(labels=label_matrices, data=st.data())
def test_class_column_order_does_not_matter(labels, data):
    # Column k of the permuted votes is class order[k]: the winner maps through the permutation.
    order = np.array(data.draw(st.permutations(range(5))))
    assert np.array_equal(order[vote(_votes(labels)[:, :, order])], vote(_votes(labels)))


@settings(max_examples=60, deadline=None)
@given(column=hnp.arrays(np.int64, st.integers(1, 30), elements=st.integers(0, 4)), copies=st.integers(1, 5))
def test_voting_a_file_with_itself_returns_it(column, copies):
    assert np.array_equal(vote(_votes(np.column_stack([column] * copies))), column)


@settings(max_examples=60, deadline=None)
@given(labels=label_matrices, data=st.data(), scale=st.floats(1e-3, 1e3))
def test_scaling_the_weights_changes_nothing(labels, data, scale):
    weights = np.array(
        data.draw(st.lists(st.integers(1, 5), min_size=labels.shape[1], max_size=labels.shape[1])), float
    )
    assert np.array_equal(vote(_votes(labels), weights=weights * scale), vote(_votes(labels), weights=weights))


@settings(max_examples=60, deadline=None)
@given(labels=label_matrices, data=st.data())
def test_vote_equals_a_naive_loop(labels, data):
    weights = np.array(
        data.draw(st.lists(st.integers(0, 3), min_size=labels.shape[1], max_size=labels.shape[1])), float
    )
    if not weights.any():
        weights[0] = 1.0
    expected = []
    for row in labels:
        tally = {}
        for label, weight in zip(row, weights):
            tally[label] = tally.get(label, 0.0) + weight
        top = max(tally.values())
        # The first model with a positive weight whose label is tied at the top.
        expected.append(next(label for label, weight in zip(row, weights) if weight > 0 and tally[label] == top))
    assert vote(_votes(labels), weights=weights).tolist() == expected
