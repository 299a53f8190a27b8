"""Tests for blender.caruana: the vectorised scorer against a naive loop, selection rules, the tie rule,
bagging computed independently, and the guarantee never to end worse than the best single file."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as sk

import blender.caruana as caruana
from blender import layout
from blender.caruana import CandidateScorer, caruana_select
from blender.metrics import greater_is_better


def _binary_oof(seed, n=200, n_models=6, ties=False):
    """Binary OOF predictions in the layout (n_models, n_rows, 1)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    oof = np.clip(y[:, None] * rng.uniform(0.1, 0.5, n_models) + rng.random((n, n_models)) * 0.6, 0, 1)
    if ties:
        oof = np.round(oof * 4) / 4  # sums of quarters are exact, so ties stay ties
    return y, oof.T[:, :, None]


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


def _regression_oof(seed, n=100, n_models=6):
    rng = np.random.default_rng(seed)
    y = rng.normal(size=n)
    noise = rng.uniform(0.2, 1.5, n_models)
    return y, (y + rng.normal(size=(n_models, n)) * noise[:, None])[:, :, None]


_SKLEARN = {
    "logloss": lambda y, p: sk.log_loss(y, p, labels=np.arange(p.shape[1]) if p.ndim == 2 else None),
    # Binary accuracy fits its threshold on the rows it scores: the best over every cut.
    "accuracy": lambda y, p: (
        max(sk.accuracy_score(y, p > t) for t in np.r_[np.unique(p), -1.0])
        if p.ndim == 1
        else sk.accuracy_score(y, p.argmax(axis=1))
    ),
    "auc": lambda y, p: sk.roc_auc_score(y, p, multi_class="ovr") if p.ndim == 2 else sk.roc_auc_score(y, p),
    "rmse": sk.root_mean_squared_error,
    "mae": sk.mean_absolute_error,
}


def _naive_scores(oof, y, chosen, kind, metric):
    """For each candidate, average the chosen members with it and call scikit-learn."""
    scores = []
    for candidate in range(oof.shape[0]):
        blend = oof[chosen + [candidate]].mean(axis=0)
        scores.append(_SKLEARN[metric](y, blend[:, 0] if kind == "binary" else blend))
    return np.array(scores)


def _naive_caruana(oof, y, *, kind, metric, init, iters, subset=None, replacement=True, empty_start=True):
    """Caruana's selection written as plainly as possible: the best score and the per-model counts there.

    Both the sorted start (the ``init`` best models) and, when ``init`` and ``iters`` are positive, the
    empty start are run; the empty one is kept only if it ends strictly better. ``empty_start=False``
    runs the sorted start alone, as the old code did.
    """
    sign = 1.0 if greater_is_better(metric) else -1.0
    subset = np.arange(oof.shape[0]) if subset is None else np.asarray(subset)

    def blend_score(counts):
        return layout.score(y, np.tensordot(counts / counts.sum(), oof, axes=1), metric=metric, kind=kind)

    def better(a, b):
        return a > b + 1e-12 * max(1.0, abs(b))

    singles = layout.model_scores(oof, y, metric=metric, kind=kind)
    ranked = sorted(subset.tolist(), key=lambda m: (-sign * singles[m], m))

    def run(start):
        counts = np.zeros(oof.shape[0])
        for model in ranked[:start]:
            counts[model] += 1
        best, best_counts = (blend_score(counts), counts.copy()) if start else (None, None)
        for _ in range(iters):
            candidates = [m for m in subset if replacement or counts[m] == 0]
            if not candidates:
                break
            scores = []
            for m in candidates:
                trial = counts.copy()
                trial[m] += 1
                scores.append(sign * blend_score(trial))
            top = max(scores)
            pick = next(m for m, s in zip(candidates, scores) if s >= top - 1e-12 * max(1.0, abs(top)))
            counts[pick] += 1
            if best is None or better(sign * blend_score(counts), sign * best):
                best, best_counts = blend_score(counts), counts.copy()
        return best, best_counts

    best, counts = run(init)
    if empty_start and init > 0 and iters > 0:
        empty_best, empty_counts = run(0)
        if better(sign * empty_best, sign * best):
            best, counts = empty_best, empty_counts
    return best, counts


# ------------------------------------------------------------------ the vectorised scorer


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("metric", ["logloss", "accuracy", "auc", "rmse", "mae"])
@pytest.mark.parametrize("chosen", [[], [2], [0, 3, 3]])
def test_vectorised_scorer_matches_naive_loop_binary(metric, chosen, ties):
    y, oof = _binary_oof(0, ties=ties)
    scorer = CandidateScorer(oof, y, kind="binary", metric=metric)
    total = scorer.empty()
    for member in chosen:
        total += scorer.member(member)
    fast = scorer.score(total, len(chosen), np.arange(oof.shape[0]))
    np.testing.assert_allclose(fast, _naive_scores(oof, y, chosen, "binary", metric), rtol=0, atol=1e-12)


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("metric", ["logloss", "accuracy", "auc"])
@pytest.mark.parametrize("chosen", [[], [1], [0, 4, 4]])
def test_vectorised_scorer_matches_naive_loop_multiclass(metric, chosen, ties):
    y, oof = _multiclass_oof(1, ties=ties)
    scorer = CandidateScorer(oof, y, kind="multiclass", metric=metric)
    total = scorer.empty()
    for member in chosen:
        total += scorer.member(member)
    fast = scorer.score(total, len(chosen), np.arange(oof.shape[0]))
    np.testing.assert_allclose(fast, _naive_scores(oof, y, chosen, "multiclass", metric), rtol=0, atol=1e-12)


def test_scorer_chunks_give_the_same_scores(monkeypatch):
    y, oof = _binary_oof(2, ties=True)
    scorer = CandidateScorer(oof, y, kind="binary", metric="auc")
    whole = scorer.score(scorer.members[1].copy(), 1, np.arange(6))
    monkeypatch.setattr("blender.caruana._CHUNK_VALUES", 1)  # one candidate per chunk
    chunked = CandidateScorer(oof, y, kind="binary", metric="auc")
    np.testing.assert_array_equal(chunked.score(chunked.members[1].copy(), 1, np.arange(6)), whole)


# ------------------------------------------------------------------ selection rules


@pytest.mark.parametrize("metric", ["logloss", "accuracy", "auc", "rmse"])
def test_one_iteration_picks_the_best_single_model(metric):
    y, oof = _binary_oof(4)
    result = caruana_select(oof, y, kind="binary", metric=metric, init=0, iters=1)
    singles = [_SKLEARN[metric](y, oof[j, :, 0]) for j in range(oof.shape[0])]
    best = int(np.argmax(singles) if metric in ("accuracy", "auc") else np.argmin(singles))
    assert result.weights[best] == 1.0
    assert result.trajectory == [(1, pytest.approx(singles[best]))]
    np.testing.assert_allclose(result.model_scores, singles, atol=1e-12)
    assert result.start == "empty" and not result.fell_back


@pytest.mark.parametrize("metric", ["logloss", "rmse", "auc", "accuracy"])
def test_the_truth_takes_all_the_weight(metric):
    y, oof = _binary_oof(5)
    oof = np.concatenate([oof[:3], y.astype(float)[None, :, None], oof[3:]])
    result = caruana_select(oof, y, kind="binary", metric=metric, init=0, iters=10)
    expected = np.zeros(oof.shape[0])
    expected[3] = 1.0
    np.testing.assert_array_equal(result.weights, expected)
    assert result.best_iteration == 1


def test_the_truth_takes_all_the_weight_multiclass():
    y, oof = _multiclass_oof(6)
    perfect = np.eye(3)[y][None]
    oof = np.concatenate([oof, perfect])
    result = caruana_select(oof, y, kind="multiclass", metric="logloss", init=0, iters=5)
    assert result.weights[-1] == 1.0


@pytest.mark.parametrize("position", [0, 1, 2])
def test_a_tie_of_scores_goes_to_the_lowest_index(position):
    # The best model appears twice (an exact tie of scores); a worse model sits between or before the copies.
    y, oof = _binary_oof(7, n_models=3)
    scores = layout.model_scores(oof, y, metric="logloss", kind="binary")
    best, worse = oof[np.argmin(scores)], oof[np.argmax(scores)]
    models = [worse] * 4
    models[position] = best
    models[position + 1] = best
    stacked = np.stack(models)
    tied = layout.model_scores(stacked, y, metric="logloss", kind="binary")
    assert tied[position] == tied[position + 1]  # a real tie, not a difference of scores
    result = caruana_select(stacked, y, kind="binary", metric="logloss", init=0, iters=1)
    assert result.selection == [position]
    assert result.counts[position] == 1 and result.counts[position + 1] == 0


def test_a_tie_within_rounding_noise_goes_to_the_lowest_index():
    # Model 1 is model 0 scaled by (1 + 1e-15): their log losses differ only in the last bits, below the
    # tolerance, so the lower index wins even when the higher index is the better by rounding.
    y, oof = _binary_oof(8, n_models=2)
    scores = layout.model_scores(oof, y, metric="logloss", kind="binary")
    base = oof[np.argmin(scores)]
    nudged = base * (1 + 4e-16 * (2 * y[:, None] - 1))  # the true class a hair more likely: a tiny gain
    stacked = np.stack([base, nudged])
    tied = layout.model_scores(stacked, y, metric="logloss", kind="binary")
    assert tied[1] < tied[0] and tied[0] - tied[1] < 1e-12 * tied[0]
    result = caruana_select(stacked, y, kind="binary", metric="logloss", init=0, iters=1)
    assert result.selection == [0]


def test_a_tie_in_a_later_iteration_goes_to_the_lowest_index():
    # Models 2 and 4 are the same predictions: whenever one of them is the best addition, the other ties it.
    y, oof = _binary_oof(11, n_models=5)
    oof[4] = oof[2]
    result = caruana_select(oof, y, kind="binary", metric="logloss", init=0, iters=20)
    assert result.selection[0] != 2 and 2 in result.selection  # model 2 (tied with 4) is added later on
    assert 4 not in result.selection
    assert result.counts[4] == 0


def test_toy_case_by_hand():
    # Opposite errors average to the truth; iteration 2 is the best point, not the last.
    y = np.array([1.0, 2.0, 3.0, 4.0])
    offsets = np.array([0.5, -0.5, 0.5, -0.5])
    oof = np.stack([y + offsets, y - offsets, y + 1])[:, :, None]
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
    assert result.start == "sorted"
    assert result.trajectory[0][0] == 0 and len(result.trajectory) == 1
    if not result.fell_back:
        assert set(np.flatnonzero(result.counts)) == set(best_three)
    assert result.selection == best_three.tolist()


def test_sorted_start_is_kept_when_it_ends_better():
    # Six equally good models with independent errors: the mean of five beats any path from one model
    # that has a single step to grow.
    y, oof = _regression_oof(1, n=400)
    oof = y[None, :, None] + np.random.default_rng(2).normal(size=(6, 400, 1))
    result = caruana_select(oof, y, kind="regression", metric="rmse", init=5, iters=1)
    assert result.start == "sorted" and not result.fell_back
    assert result.trajectory[0][0] == 0
    assert result.score < result.model_scores.min()


def test_without_replacement_never_repeats_a_model():
    y, oof = _binary_oof(9)
    result = caruana_select(oof, y, kind="binary", metric="logloss", init=2, iters=50, replacement=False)
    assert result.counts.max() == 1
    # Stops when every model is in: the sorted trajectory has 1 + (6 - 2) points, the empty one 6.
    assert len(result.trajectory) == (1 + oof.shape[0] - 2 if result.start == "sorted" else oof.shape[0])


@pytest.mark.parametrize(
    "kind, metric, seed",
    [
        ("binary", "logloss", 10),
        ("binary", "auc", 11),
        ("binary", "accuracy", 12),
        ("multiclass", "logloss", 13),
        ("multiclass", "auc", 14),
        ("regression", "rmse", 15),
        ("regression", "mae", 16),
    ],
)
@pytest.mark.parametrize("init, iters", [(0, 6), (2, 5), (4, 3)])
def test_selection_equals_a_naive_loop(kind, metric, seed, init, iters):
    y, oof = {"binary": _binary_oof, "multiclass": _multiclass_oof, "regression": _regression_oof}[kind](seed)
    result = caruana_select(oof, y, kind=kind, metric=metric, init=init, iters=iters)
    expected_score, expected_counts = _naive_caruana(oof, y, kind=kind, metric=metric, init=init, iters=iters)
    assert not result.fell_back
    np.testing.assert_array_equal(result.counts, expected_counts)
    np.testing.assert_allclose(result.weights, expected_counts / expected_counts.sum(), atol=1e-15)
    assert result.score == pytest.approx(expected_score, abs=1e-12)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 1000), st.integers(0, 3), st.integers(1, 8), st.sampled_from(["logloss", "auc", "mae"]))
def test_weights_are_on_the_simplex_and_best_point_is_kept(seed, init, iters, metric):
    y, oof = _binary_oof(seed, n=60, n_models=5)
    result = caruana_select(oof, y, kind="binary", metric=metric, init=init, iters=iters)
    assert result.weights.min() >= 0 and result.weights.sum() == pytest.approx(1.0)
    scores = [value for _, value in result.trajectory]
    assert result.best_score == pytest.approx(max(scores) if metric == "auc" else min(scores), abs=1e-12)
    assert not result.fell_back  # one bag that also ran the empty start never needs the fallback
    assert result.score == pytest.approx(result.best_score, abs=1e-12)


# ------------------------------------------------------------------ never worse than the best file


def _worse_or_equal_tolerance(score, best, metric):
    """True when ``score`` is not worse than ``best`` beyond rounding noise."""
    slack = 1e-12 * max(1.0, abs(best))
    return score >= best - slack if greater_is_better(metric) else score <= best + slack


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    init=st.integers(0, 5),
    iters=st.integers(0, 12),
    bags=st.integers(1, 5),
    case=st.sampled_from(
        [
            ("binary", "logloss"),
            ("binary", "auc"),
            ("binary", "accuracy"),
            ("binary", "rmse"),
            ("multiclass", "logloss"),
            ("multiclass", "accuracy"),
            ("regression", "rmse"),
            ("regression", "mae"),
        ]
    ),
)
def test_never_ends_worse_than_the_best_file_on_the_oof_rows(seed, init, iters, bags, case):
    kind, metric = case
    if init == 0 and iters == 0:
        iters = 1
    rng = np.random.default_rng(seed)
    n_models = int(rng.integers(1, 9))
    make = {"binary": _binary_oof, "multiclass": _multiclass_oof, "regression": _regression_oof}[kind]
    y, oof = make(seed, n=int(rng.integers(20, 80)), n_models=n_models)
    result = caruana_select(
        oof,
        y,
        kind=kind,
        metric=metric,
        init=init,
        iters=iters,
        bags=bags,
        bag_fraction=float(rng.uniform(0.2, 1.0)),
        random_state=seed,
    )
    singles = layout.model_scores(oof, y, metric=metric, kind=kind)
    best = singles[layout.best_model(singles, metric)]
    # Scored independently of the scorer: the written blend is the weighted mean.
    written = layout.score(y, layout.weighted_blend(oof, result.weights, kind=kind), metric=metric, kind=kind)
    assert _worse_or_equal_tolerance(written, best, metric)
    assert written == pytest.approx(result.score, abs=1e-12)


def test_a_sorted_start_worse_than_the_best_file_is_not_kept():
    # The digits demo's failure: one excellent model and four poor ones that still rank 2..5, so the sorted
    # start (the mean of five) is far worse than the best model alone, and ten more steps (each adding the
    # best model again) cannot bring the mean back down to it: about 6 / 15 > 0.1. The old code (sorted
    # start only, no fallback) wrote that blend.
    rng = np.random.default_rng(0)
    y = rng.normal(size=500)
    oof = np.stack(
        [y + rng.normal(0, 0.1, 500)] + [y + rng.normal(0, 3.0, 500) for _ in range(4)] + [y + rng.normal(0, 5.0, 500)]
    )[:, :, None]
    singles = layout.model_scores(oof, y, metric="rmse", kind="regression")
    old_score, old_counts = _naive_caruana(
        oof, y, kind="regression", metric="rmse", init=5, iters=10, empty_start=False
    )
    assert old_score > 2 * singles[0] and old_counts[0] > 1  # the sorted path kept adding the best, in vain
    result = caruana_select(oof, y, kind="regression", metric="rmse", init=5, iters=10)
    assert result.start == "empty"
    assert result.score == pytest.approx(singles[0], abs=1e-12)
    np.testing.assert_array_equal(result.weights, [1.0, 0, 0, 0, 0, 0])


def test_a_sorted_start_worse_than_the_best_file_binary_logloss():
    # The same with log loss: one confident, nearly always right model and five hesitant ones.
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 600)
    sure = np.where(rng.random(600) < 0.98, np.where(y == 1, 0.97, 0.03), np.where(y == 1, 0.2, 0.8))
    hesitant = [np.clip(0.5 + 0.1 * (2 * y - 1) + rng.normal(0, 0.15, 600), 0.05, 0.95) for _ in range(5)]
    oof = np.stack([*hesitant[:2], sure, *hesitant[2:]])[:, :, None]
    singles = layout.model_scores(oof, y, metric="logloss", kind="binary")
    assert layout.best_model(singles, "logloss") == 2
    start = np.zeros(6)
    start[np.argsort(singles, kind="stable")[:5]] = 1
    start_score = layout.score(y, layout.weighted_blend(oof, start, kind="binary"), metric="logloss", kind="binary")
    assert start_score > singles[2]  # the sorted start is worse than the best file
    result = caruana_select(oof, y, kind="binary", metric="logloss", init=5, iters=3)
    assert result.score <= singles[2] + 1e-12
    written = layout.score(
        y, layout.weighted_blend(oof, result.weights, kind="binary"), metric="logloss", kind="binary"
    )
    assert written <= singles[2] + 1e-12


def test_bags_that_end_worse_together_fall_back_to_the_best_file():
    # One excellent model and nine poor ones; bags of three mostly miss the excellent one, so the mean of
    # the bags' blends is worse than it alone and the weights fall back to it.
    rng = np.random.default_rng(3)
    y = rng.normal(size=300)
    oof = np.stack([y + rng.normal(0, 2.0, 300) for _ in range(9)] + [y + rng.normal(0, 0.1, 300)])[:, :, None]
    result = caruana_select(
        oof, y, kind="regression", metric="rmse", init=0, iters=5, bags=5, bag_fraction=0.3, random_state=0
    )
    assert result.fell_back
    np.testing.assert_array_equal(result.weights, np.eye(10)[9])
    assert result.score == pytest.approx(result.model_scores[9], abs=1e-12)
    assert sum(9 in models for models in result.bag_models) < 5  # some bag really missed it


# ------------------------------------------------------------------ bagging


def test_one_bag_of_everything_equals_plain_selection():
    y, oof = _binary_oof(10)
    plain = caruana_select(oof, y, kind="binary", metric="logloss", init=2, iters=20)
    bagged = caruana_select(
        oof, y, kind="binary", metric="logloss", init=2, iters=20, bags=3, bag_fraction=1.0, random_state=0
    )
    np.testing.assert_allclose(bagged.weights, plain.weights, atol=1e-15)
    assert bagged.trajectory == plain.trajectory


@pytest.mark.parametrize("init", [0, 2])
def test_bagging_draws_seeded_subsets_and_averages_each_bags_own_weights(init):
    y, oof = _binary_oof(11, n_models=10)
    first = caruana_select(
        oof, y, kind="binary", metric="auc", init=init, iters=8, bags=5, bag_fraction=0.3, random_state=42
    )
    second = caruana_select(
        oof, y, kind="binary", metric="auc", init=init, iters=8, bags=5, bag_fraction=0.3, random_state=42
    )
    np.testing.assert_array_equal(first.weights, second.weights)
    # The bags are the seeded draws of round(0.3 * 10) = 3 distinct models each.
    rng = np.random.default_rng(42)
    expected_bags = [np.sort(rng.choice(10, size=3, replace=False)) for _ in range(5)]
    assert [bag.tolist() for bag in first.bag_models] == [bag.tolist() for bag in expected_bags]
    assert len({tuple(bag) for bag in expected_bags}) > 1  # the draws differ
    # Each bag's weights come from its own subset only: the naive selection restricted to the subset,
    # normalised per bag, averaged over the bags.
    per_bag = []
    total_counts = np.zeros(10)
    for bag in expected_bags:
        _, counts = _naive_caruana(oof, y, kind="binary", metric="auc", init=init, iters=8, subset=bag)
        assert set(np.flatnonzero(counts)) <= set(bag.tolist())
        per_bag.append(counts / counts.sum())
        total_counts += counts
    assert not first.fell_back
    np.testing.assert_allclose(first.weights, np.mean(per_bag, axis=0), atol=1e-15)
    np.testing.assert_array_equal(first.counts, total_counts)
    assert first.weights.sum() == pytest.approx(1.0)
    # And a different seed draws other bags.
    other = caruana_select(
        oof, y, kind="binary", metric="auc", init=init, iters=8, bags=5, bag_fraction=0.3, random_state=7
    )
    assert [bag.tolist() for bag in other.bag_models] != [bag.tolist() for bag in expected_bags]


def test_labels_are_blended_by_vote():
    # Classes a, b; y = a b a b a; model 0 always right.
    y = np.array([0, 1, 0, 1, 0])
    labels = np.array([[0, 0, 1], [1, 0, 1], [0, 1, 0], [1, 1, 0], [0, 1, 1]])  # (n_rows, n_models)
    votes = np.eye(2)[labels.T]
    result = caruana_select(votes, y, kind="labels", metric="accuracy", init=0, iters=3)
    assert result.weights[0] == 1.0
    assert result.score == 1.0


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
        caruana_select(np.random.default_rng(0).random((2, 5, 1)), np.ones(5, dtype=int), kind="binary", metric="auc")


# ---------------------------------------------------------------------------- the bounded AUC path on large inputs
# (binary AUC with many values bounds each candidate from a histogram and sorts only possible winners)


def _bounded_oof(seed, n=3000, n_models=12, ties=False):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    oof = np.clip(y[:, None] * rng.uniform(0.05, 0.4, n_models) + rng.random((n, n_models)) * 0.6, 0, 1)
    if ties:
        oof = np.round(oof * 8) / 8
        oof[:, 3] = oof[:, 2]  # two identical models: exact ties between candidates
    return y, oof


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bounded_selection_equals_the_exact_one(monkeypatch, seed, ties):
    y, oof = _bounded_oof(seed, ties=ties)
    exact = caruana_select(oof.T[:, :, None], y, kind="binary", metric="auc", init=2, iters=15)
    monkeypatch.setattr(caruana, "_BOUND_MIN_VALUES", 0)
    bounded = caruana_select(oof.T[:, :, None], y, kind="binary", metric="auc", init=2, iters=15)
    assert bounded.selection == exact.selection
    assert bounded.trajectory == exact.trajectory
    np.testing.assert_array_equal(bounded.weights, exact.weights)


@pytest.mark.parametrize("ties", [False, True])
def test_bounded_scores_are_exact_for_the_best_and_upper_bounds_for_the_rest(monkeypatch, ties):
    monkeypatch.setattr(caruana, "_BOUND_MIN_VALUES", 0)
    y, oof = _bounded_oof(5, ties=ties)
    scorer = CandidateScorer(oof.T[:, :, None], y, kind="binary", metric="auc")
    total = scorer.members[0] + scorer.members[4]
    got = scorer.score(total, 2, np.arange(oof.shape[1]))
    naive = np.array([sk.roc_auc_score(y, (oof[:, 0] + oof[:, 4] + oof[:, j]) / 3) for j in range(oof.shape[1])])
    best = naive.max()
    winners = naive >= best - 1e-12
    np.testing.assert_allclose(got[winners], naive[winners], rtol=0, atol=1e-12)
    assert np.all(got >= naive - 1e-12)  # upper bounds
    assert np.all(got[~winners] < best - 1e-12)  # and never a winner


# ---------------------------------------------------------------------------- the bounded log-loss path
# (log loss keeps an interval for every candidate's sum of logs and scores exactly only possible winners)


@pytest.mark.parametrize("init, bags", [(0, 1), (3, 1), (2, 3)])
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bounded_logloss_selection_equals_the_exact_one(monkeypatch, seed, ties, init, bags):
    y, oof = _bounded_oof(seed, ties=ties)
    oof = np.clip(oof, 0.01, 0.99)  # inside the clip range: the bounded path applies
    options = dict(kind="binary", metric="logloss", init=init, iters=30, bags=bags, random_state=seed)
    monkeypatch.setattr(caruana, "_BOUND_MIN_VALUES", 10**12)
    exact = caruana_select(oof.T[:, :, None], y, **options)
    monkeypatch.setattr(caruana, "_BOUND_MIN_VALUES", 0)
    monkeypatch.setattr(caruana, "_CHUNK_VALUES", 1)  # one candidate at a time, so that bounds can rule some out
    bounded = caruana_select(oof.T[:, :, None], y, **options)
    assert bounded.selection == exact.selection
    np.testing.assert_allclose([s for _, s in bounded.trajectory], [s for _, s in exact.trajectory], rtol=0, atol=1e-13)
    np.testing.assert_array_equal(bounded.weights, exact.weights)


def test_bounded_logloss_skips_candidates_and_bounds_them_from_below(monkeypatch):
    """After a few joins most candidates are ruled out; every score returned is exact or a lower bound of the loss."""
    monkeypatch.setattr(caruana, "_BOUND_MIN_VALUES", 0)
    monkeypatch.setattr(caruana, "_CHUNK_VALUES", 1)
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, 3000)
    # Models of varied skill sharing some noise (as benchmarks/bench_caruana.py draws them).
    logits = (
        (2 * y - 1)[:, None] * rng.uniform(0.2, 1.5, 20)
        + rng.normal(size=(3000, 1)) * 0.8
        + rng.normal(size=(3000, 20))
    )
    oof = 1.0 / (1.0 + np.exp(-logits))
    scorer = CandidateScorer(oof.T[:, :, None], y, kind="binary", metric="logloss")
    bounds = scorer.log_sum_bounds()
    everyone = np.arange(oof.shape[1])
    scorer.score(scorer.empty(), 0, everyone, bounds=bounds)  # single models: exact sums
    total, size, scored, picked_sum = scorer.empty(), 0, [], np.zeros(len(y))
    read = []  # the candidates scored exactly, one call's worth
    exact = scorer._candidate_means
    monkeypatch.setattr(
        scorer, "_candidate_means", lambda total, size, chunk, **k: read.append(chunk) or exact(total, size, chunk, **k)
    )
    picks = caruana_select(oof.T[:, :, None], y, kind="binary", metric="logloss", init=0, iters=12).selection
    for model in picks:
        bounds.join(total, scorer.member(model))
        total = total + scorer.member(model)
        picked_sum += oof[:, model]
        size += 1
        read.clear()
        got = scorer.score(total, size, everyone, bounds=bounds)
        scored.append(len(np.concatenate(read)))  # candidates scored exactly
        # scikit-learn's log loss of the candidate ensemble (members hold true-class probabilities).
        naive = np.array([sk.log_loss(y, (picked_sum + oof[:, j]) / (size + 1), labels=[0, 1]) for j in everyone])
        best = naive.min()
        winners = naive <= best + 1e-12
        np.testing.assert_allclose(got[winners], naive[winners], rtol=0, atol=1e-12)
        assert np.all(got <= naive + 1e-12)  # lower bounds of the loss
        assert np.all(got[~winners] > best + 1e-12)  # and never a winner
    assert max(scored[-4:]) <= 3, scored  # the bounds rule out all but a few candidates


@pytest.mark.parametrize("search", ["caruana", "hill-climb"])
def test_gini_searches_as_auc_does_and_reports_gini(search):
    # Gini = 2 AUC - 1, a monotone map: the same selection, on AUC's fast path, in Gini's units.
    from blender.hillclimb import hill_climb

    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, 5000)
    oof = np.clip(0.5 + (y - 0.5) * rng.uniform(0.1, 0.4, (6, 1)) + rng.normal(0, 0.3, (6, 5000)), 0, 1)[:, :, None]
    run = caruana_select if search == "caruana" else hill_climb
    auc, gini = run(oof, y, kind="binary", metric="auc"), run(oof, y, kind="binary", metric="gini")
    np.testing.assert_array_equal(gini.weights, auc.weights)
    assert gini.score == pytest.approx(2 * auc.score - 1, abs=1e-12)
    blend = np.tensordot(gini.weights, oof[:, :, 0], axes=1)
    assert gini.score == pytest.approx(2 * sk.roc_auc_score(y, blend) - 1, abs=1e-12)
    np.testing.assert_allclose(
        gini.model_scores, [2 * sk.roc_auc_score(y, model[:, 0]) - 1 for model in oof], atol=1e-12
    )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_bounded_logloss_on_the_values_themselves_equals_the_exact_one(monkeypatch, seed, dtype):
    """Binary log loss keeps the values, not a true-class copy: the tangent bound takes ``p @ (sign * w)`` plus
    ``offset @ w``, with a rounding allowance on the signed terms. Extreme probabilities (down to 1e-6 from
    either end, so that ``-p + 1`` rounds in float32), 1,000 + a tail of rows not a multiple of the dot's block."""
    rng = np.random.default_rng(seed)
    n, n_models = 1000 + 77, 40
    y = rng.integers(0, 2, n)
    logits = (
        (2 * y - 1)[:, None] * rng.uniform(0.5, 4.0, n_models)
        + rng.normal(size=(n, 1)) * 3.0
        + rng.normal(size=(n, n_models)) * rng.uniform(0.5, 3.0, n_models)
    )
    oof = np.ascontiguousarray(np.clip(1.0 / (1.0 + np.exp(-logits)), 1e-6, 1 - 1e-6).T[:, :, None], dtype=dtype)
    options = dict(kind="binary", metric="logloss", init=0, iters=30)
    monkeypatch.setattr(caruana, "_BOUND_MIN_VALUES", 10**12)
    exact = caruana_select(oof, y, **options)
    monkeypatch.setattr(caruana, "_BOUND_MIN_VALUES", 0)
    monkeypatch.setattr(caruana, "_CHUNK_VALUES", 1)
    ruled_out = []
    tangent_rules_out = caruana._LogSumBounds.tangent_rules_out

    def counting(self, *args):
        ruled_out.append(tangent_rules_out(self, *args))
        return ruled_out[-1]

    monkeypatch.setattr(caruana._LogSumBounds, "tangent_rules_out", counting)
    bounded = caruana_select(oof, y, **options)
    assert sum(ruled_out) > 100  # the tangent bound did the pruning
    scorer = CandidateScorer(oof, y, kind="binary", metric="logloss")
    assert scorer._flip is not None and np.shares_memory(scorer.members, oof)  # no copy of the values
    assert bounded.selection == exact.selection
    np.testing.assert_allclose([s for _, s in bounded.trajectory], [s for _, s in exact.trajectory], rtol=0, atol=1e-13)
    np.testing.assert_array_equal(bounded.weights, exact.weights)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_tangent_bound_on_the_values_holds_where_it_is_tight(monkeypatch, dtype):
    """The tangent bound of every candidate is at least its exact sum of logs, also for a candidate at the
    tangent point (an ensemble of copies of itself), where only the rounding allowance keeps it above."""
    monkeypatch.setattr(caruana, "_BOUND_MIN_VALUES", 0)
    rng = np.random.default_rng(5)
    n, n_models = 3000 + 13, 8
    y = rng.integers(0, 2, n)
    logits = (2 * y - 1)[:, None] * 2.0 + rng.normal(size=(n, n_models)) * 4.0
    oof = np.ascontiguousarray(np.clip(1.0 / (1.0 + np.exp(-logits)), 1e-6, 1 - 1e-6).T[:, :, None], dtype=dtype)
    scorer = CandidateScorer(oof, y, kind="binary", metric="logloss")
    assert scorer._flip is not None
    true_class = np.array([scorer.member(model).astype(np.float64) for model in range(n_models)])
    for size, total in [(3, 3 * true_class[m]) for m in range(n_models)] + [(2, true_class[0] + true_class[5])]:
        bounds = scorer.log_sum_bounds()
        tangent = bounds.tangent(total, size)
        for model in range(n_models):
            assert bounds.tangent_rules_out(model, scorer.members[model], tangent, np.inf)
            exact = math.fsum(np.log(total + true_class[model]))
            assert bounds.high[model] >= exact, (size, model, bounds.high[model] - exact)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_tangent_bounds_carried_forward_stay_above_the_exact_sums(monkeypatch, dtype):
    """A candidate's tangent bound taken at one step, grown by ``m @ weights`` as members join, stays at least its
    exact sum of logs: from an ensemble of copies of a model (where the tangent is exact for that model)."""
    monkeypatch.setattr(caruana, "_BOUND_MIN_VALUES", 0)
    rng = np.random.default_rng(11)
    n, n_models = 2000 + 5, 6
    y = rng.integers(0, 2, n)
    logits = (2 * y - 1)[:, None] * 1.5 + rng.normal(size=(n, n_models)) * 3.0
    oof = np.ascontiguousarray(np.clip(1.0 / (1.0 + np.exp(-logits)), 1e-6, 1 - 1e-6).T[:, :, None], dtype=dtype)
    scorer = CandidateScorer(oof, y, kind="binary", metric="logloss")
    true_class = np.array([scorer.member(model).astype(np.float64) for model in range(n_models)])
    for start in range(n_models):
        bounds = scorer.log_sum_bounds()
        total, size = 2 * true_class[start], 2
        for joining in [start, (start + 1) % n_models, start]:
            tangent = bounds.tangent(total, size)
            for model in range(n_models):
                bounds.tangent_rules_out(model, scorer.members[model], tangent, np.inf)
            bounds.join(total, scorer.member(joining))
            total, size = total + true_class[joining], size + 1
            for model in range(n_models):
                exact = math.fsum(np.log(total + true_class[model]))
                assert bounds.linear[model] >= exact, (start, joining, model, bounds.linear[model] - exact)
