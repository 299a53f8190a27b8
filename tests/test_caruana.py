"""Tests for blender.caruana: the vectorised scorer against a naive loop, selection rules, bagging."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as sk

from blender.caruana import _CandidateScorer, caruana_select
from blender.metrics import score


def _binary_oof(seed, n=200, n_models=6, ties=False):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    oof = np.clip(y[:, None] * rng.uniform(0.1, 0.5, n_models) + rng.random((n, n_models)) * 0.6, 0, 1)
    if ties:
        oof = np.round(oof * 4) / 4  # sums of quarters are exact, so ties stay ties
    return y, oof


def _multiclass_oof(seed, n=150, n_models=5, n_classes=3, ties=False):
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(n) % n_classes)
    oof = rng.dirichlet(np.ones(n_classes), (n_models, n))
    oof[:, np.arange(n), y] += rng.uniform(0.0, 1.0, (n_models, 1))
    oof /= oof.sum(axis=2, keepdims=True)
    if ties:
        # Rows drawn from three vectors of quarters: exact sums, many ties, no zeros.
        choices = np.array([[0.5, 0.25, 0.25], [0.25, 0.5, 0.25], [0.25, 0.25, 0.5]])
        oof = choices[rng.integers(0, 3, (n_models, n))]
    return y, oof


_SKLEARN = {
    "logloss": lambda y, p: sk.log_loss(y, p, labels=np.arange(p.shape[1]) if p.ndim == 2 else None),
    "accuracy": lambda y, p: sk.accuracy_score(y, p > 0.5 if p.ndim == 1 else p.argmax(axis=1)),
    "auc": lambda y, p: sk.roc_auc_score(y, p, multi_class="ovr") if p.ndim == 2 else sk.roc_auc_score(y, p),
    "rmse": sk.root_mean_squared_error,
    "mae": sk.mean_absolute_error,
}


def _naive_scores(oof, y, chosen, kind, metric):
    """For each candidate, average the chosen members with it and call scikit-learn."""
    n_models = oof.shape[0] if kind == "multiclass" else oof.shape[1]
    scores = []
    for candidate in range(n_models):
        members = chosen + [candidate]
        blend = oof[members].mean(axis=0) if kind == "multiclass" else oof[:, members].mean(axis=1)
        scores.append(_SKLEARN[metric](y, blend))
    return np.array(scores)


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("metric", ["logloss", "accuracy", "auc", "rmse", "mae"])
@pytest.mark.parametrize("chosen", [[], [2], [0, 3, 3]])
def test_vectorised_scorer_matches_naive_loop_binary(metric, chosen, ties):
    y, oof = _binary_oof(0, ties=ties)
    scorer = _CandidateScorer(oof, y, kind="binary", metric=metric)
    total = scorer.empty()
    for member in chosen:
        total += scorer.members[member]
    fast = scorer.score(total, len(chosen), np.arange(oof.shape[1]))
    np.testing.assert_allclose(fast, _naive_scores(oof, y, chosen, "binary", metric), rtol=0, atol=1e-12)


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("metric", ["logloss", "accuracy", "auc"])
@pytest.mark.parametrize("chosen", [[], [1], [0, 4, 4]])
def test_vectorised_scorer_matches_naive_loop_multiclass(metric, chosen, ties):
    y, oof = _multiclass_oof(1, ties=ties)
    scorer = _CandidateScorer(oof, y, kind="multiclass", metric=metric)
    total = scorer.empty()
    for member in chosen:
        total += scorer.members[member]
    fast = scorer.score(total, len(chosen), np.arange(oof.shape[0]))
    np.testing.assert_allclose(fast, _naive_scores(oof, y, chosen, "multiclass", metric), rtol=0, atol=1e-12)


def test_scorer_chunks_give_the_same_scores(monkeypatch):
    y, oof = _binary_oof(2, ties=True)
    scorer = _CandidateScorer(oof, y, kind="binary", metric="auc")
    whole = scorer.score(scorer.members[1].copy(), 1, np.arange(6))
    monkeypatch.setattr("blender.caruana._CHUNK_VALUES", 1)  # one candidate per chunk
    np.testing.assert_array_equal(scorer.score(scorer.members[1].copy(), 1, np.arange(6)), whole)


@pytest.mark.parametrize("metric", ["logloss", "accuracy", "auc", "rmse"])
def test_one_iteration_picks_the_best_single_model(metric):
    y, oof = _binary_oof(4)
    result = caruana_select(oof, y, kind="binary", metric=metric, init=0, iters=1)
    singles = [score(y, oof[:, j], metric=metric, kind="binary") for j in range(oof.shape[1])]
    best = int(np.argmax(singles) if metric in ("accuracy", "auc") else np.argmin(singles))
    assert result.weights[best] == 1.0
    assert result.trajectory == [(1, pytest.approx(singles[best]))]
    np.testing.assert_allclose(result.model_scores, singles, atol=1e-12)


@pytest.mark.parametrize("metric", ["logloss", "rmse", "auc", "accuracy"])
def test_the_truth_takes_all_the_weight(metric):
    y, oof = _binary_oof(5)
    oof = np.column_stack([oof[:, :3], y.astype(float), oof[:, 3:]])
    result = caruana_select(oof, y, kind="binary", metric=metric, init=0, iters=10)
    expected = np.zeros(oof.shape[1])
    expected[3] = 1.0
    np.testing.assert_array_equal(result.weights, expected)
    assert result.best_iteration == 1


def test_the_truth_takes_all_the_weight_multiclass():
    y, oof = _multiclass_oof(6)
    perfect = np.eye(3)[y][None]
    oof = np.concatenate([oof, perfect])
    result = caruana_select(oof, y, kind="multiclass", metric="logloss", init=0, iters=5)
    assert result.weights[-1] == 1.0


def test_ties_go_to_the_lowest_index():
    y, oof = _binary_oof(7)
    oof = np.column_stack([oof[:, 1], oof[:, 0], oof[:, 1]])  # models 0 and 2 are identical
    result = caruana_select(oof, y, kind="binary", metric="logloss", init=0, iters=1)
    assert result.counts[2] == 0


def test_toy_case_by_hand():
    # Opposite errors average to the truth; iteration 2 is the best point, not the last.
    y = np.array([1.0, 2.0, 3.0, 4.0])
    offsets = np.array([0.5, -0.5, 0.5, -0.5])
    oof = np.column_stack([y + offsets, y - offsets, y + 1])
    result = caruana_select(oof, y, kind="regression", metric="rmse", init=0, iters=3)
    assert [iteration for iteration, _ in result.trajectory] == [1, 2, 3]
    assert result.trajectory[1][1] == 0.0
    assert result.best_iteration == 2
    np.testing.assert_array_equal(result.weights, [0.5, 0.5, 0.0])
    np.testing.assert_array_equal(result.counts, [1, 1, 0])


def test_sorted_initialisation_starts_from_the_best_models():
    y, oof = _binary_oof(8)
    result = caruana_select(oof, y, kind="binary", metric="logloss", init=3, iters=0)
    best_three = np.argsort(result.model_scores)[:3]
    assert set(np.flatnonzero(result.counts)) == set(best_three)
    assert result.trajectory[0][0] == 0 and len(result.trajectory) == 1


def test_without_replacement_never_repeats_a_model():
    y, oof = _binary_oof(9)
    result = caruana_select(oof, y, kind="binary", metric="logloss", init=2, iters=50, replacement=False)
    assert result.counts.max() == 1
    assert len(result.trajectory) == 1 + oof.shape[1] - 2  # stops when every model is in


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 1000), st.integers(0, 3), st.integers(1, 8), st.sampled_from(["logloss", "auc", "mae"]))
def test_weights_are_on_the_simplex_and_best_point_is_kept(seed, init, iters, metric):
    y, oof = _binary_oof(seed, n=60, n_models=5)
    result = caruana_select(oof, y, kind="binary", metric=metric, init=init, iters=iters)
    assert result.weights.min() >= 0 and result.weights.sum() == pytest.approx(1.0)
    scores = [value for _, value in result.trajectory]
    assert result.best_score == pytest.approx(max(scores) if metric == "auc" else min(scores), abs=1e-12)
    assert result.score == pytest.approx(result.best_score, abs=1e-12)


def test_one_bag_of_everything_equals_plain_selection():
    y, oof = _binary_oof(10)
    plain = caruana_select(oof, y, kind="binary", metric="logloss", init=2, iters=20)
    bagged = caruana_select(oof, y, kind="binary", metric="logloss", init=2, iters=20, bags=3, bag_fraction=1.0,
                            random_state=0)
    np.testing.assert_allclose(bagged.weights, plain.weights, atol=1e-15)
    assert bagged.trajectory == plain.trajectory


def test_bagging_is_seeded_and_uses_the_fraction():
    y, oof = _binary_oof(11, n_models=10)
    first = caruana_select(oof, y, kind="binary", metric="auc", bags=5, bag_fraction=0.3, random_state=42)
    second = caruana_select(oof, y, kind="binary", metric="auc", bags=5, bag_fraction=0.3, random_state=42)
    np.testing.assert_array_equal(first.weights, second.weights)
    assert [len(models) for models in first.bag_models] == [3] * 5
    for models in first.bag_models:  # each bag's members come from its own draw
        assert set(models) <= set(range(10))
    assert first.weights.sum() == pytest.approx(1.0)


def test_labels_are_blended_by_vote():
    y = np.array(["a", "b", "a", "b", "a"], dtype=object)
    oof = np.array([["a", "a", "b"], ["b", "a", "b"], ["a", "b", "a"], ["b", "b", "a"], ["a", "b", "b"]], dtype=object)
    result = caruana_select(oof, y, kind="labels", metric="accuracy", init=0, iters=3)
    assert result.weights[0] == 1.0  # model 0 is always right


@pytest.mark.parametrize(
    "options, message",
    [
        ({"metric": "logloss", "kind": "labels"}, "logloss needs probabilities"),
        ({"init": -1}, "must not be negative"),
        ({"init": 0, "iters": 0}, "select nothing"),
        ({"bags": 0}, "bags must be at least 1"),
        ({"bag_fraction": 0.0}, r"bag_fraction must be in \(0, 1\]"),
        ({"bag_fraction": 1.5}, r"bag_fraction must be in \(0, 1\]"),
    ],
)
def test_errors(options, message):
    y, oof = _binary_oof(12, n=20, n_models=3)
    arguments = {"kind": "binary", "metric": "logloss"} | options
    with pytest.raises(ValueError, match=message):
        caruana_select(oof, y, **arguments)


def test_auc_with_one_class_is_refused():
    with pytest.raises(ValueError, match="auc is undefined"):
        caruana_select(np.random.default_rng(0).random((5, 2)), np.ones(5, dtype=int), kind="binary", metric="auc")
