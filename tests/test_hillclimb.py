"""Tests for blender.hillclimb: known optima, negative weights only when asked, the vectorised
grid scorer against a naive loop over metrics.score, reproducible scores, never worse than the
best single model."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn import metrics as sk

from blender import layout, metrics
from blender.hillclimb import RowAuc, default_grid, grid_scores, hill_climb


def _binary(seed, n=80, n_models=4):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    y[:2] = [0, 1]
    logits = (2 * y - 1)[None, :] * rng.uniform(0.2, 1.5, (n_models, 1)) + rng.normal(size=(n_models, n))
    return y, (1.0 / (1.0 + np.exp(-logits)))[:, :, None]


def _multiclass(seed, n=90, n_models=4, n_classes=3):
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(n) % n_classes)
    values = rng.dirichlet(np.ones(n_classes), (n_models, n))
    values[:, np.arange(n), y] += rng.uniform(0.0, 1.0, (n_models, 1))
    return y, values / values.sum(axis=2, keepdims=True)


def _regression(seed, n=60, n_models=4):
    rng = np.random.default_rng(seed)
    y = rng.normal(size=n) * 3
    return y, (y + rng.normal(size=(n_models, n)) * rng.uniform(0.5, 2.0, (n_models, 1)))[:, :, None]


def _labels(seed, n=70, n_models=5, n_classes=3):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, n)
    votes = np.where(rng.random((n_models, n)) < 0.6, y, rng.integers(0, n_classes, (n_models, n)))
    return y, np.eye(n_classes)[votes]


DATA = {"binary": _binary, "multiclass": _multiclass, "regression": _regression, "labels": _labels}
CASES = [
    ("binary", "logloss"), ("binary", "auc"), ("binary", "accuracy"), ("binary", "rmse"), ("binary", "mae"),
    ("multiclass", "logloss"), ("multiclass", "auc"), ("multiclass", "accuracy"),
    ("regression", "rmse"), ("regression", "mae"),
    ("labels", "accuracy"),
]  # fmt: skip


# Known optima.


@pytest.mark.parametrize(
    ("shares", "expected_weights", "expected_w"),
    [
        ((1.0, -1.0), [0.5, 0.5, 0.0], 0.5),  # y + e and y - e: the mean is exact
        ((1.0, -3.0), [0.75, 0.25, 0.0], 0.25),  # y + e and y - 3e: a quarter of the second
    ],
)
def test_recovers_the_exact_regression_optimum(shares, expected_weights, expected_w):
    rng = np.random.default_rng(0)
    y = rng.normal(size=40)
    errors = rng.choice([-0.5, 0.5], size=40)  # exact in binary, so the optimum is exactly 0
    values = np.stack([y + shares[0] * errors, y + shares[1] * errors, y + 2.0])[:, :, None]
    result = hill_climb(values, y, kind="regression", metric="rmse")
    assert result.start_model == 0
    np.testing.assert_allclose(result.weights, expected_weights, atol=1e-12)
    assert result.score == pytest.approx(0.0, abs=1e-12)
    assert [(step[1], step[2]) for step in result.trajectory] == [(0, 1.0), (1, expected_w)]


def test_recovers_a_hand_worked_log_loss_optimum():
    # y = [1, 0], A = [0.9, 0.5], B = [0.5, 0.1]: the loss of (1 - w) A + w B is
    # -(log(0.9 - 0.4 w) + log(0.5 + 0.4 w)) / 2, least where 0.9 - 0.4 w = 0.5 + 0.4 w: w = 0.5.
    y = np.array([1, 0])
    values = np.array([[0.9, 0.5], [0.5, 0.1]])[:, :, None]
    result = hill_climb(values, y, kind="binary", metric="logloss")
    np.testing.assert_allclose(result.weights, [0.5, 0.5], atol=1e-9)
    assert result.score == pytest.approx(-np.log(0.7), abs=1e-12)
    assert result.trajectory[1][1] == 1 and result.trajectory[1][2] == pytest.approx(0.5, abs=1e-9)  # Newton's
    on_grid = hill_climb(values, y, kind="binary", metric="logloss", line_search=False)
    assert on_grid.trajectory[1][1:3] == (1, 0.5)


def test_ties_go_to_the_smallest_weight_then_the_lowest_model():
    # Model 0 misses only the last row (0.44); models 1 and 2, equal, miss the others but hold
    # 0.96 there. Every w from 0.12 to 0.5 fixes that row and no other changes side, so all
    # tie at accuracy 1: the smallest w of the lowest model is taken. (Two class columns, argmax:
    # binary accuracy would fit its own threshold and need no step.)
    y = np.array([0, 1, 0, 1, 1])
    good = np.array([0.1, 0.9, 0.1, 0.9, 0.44])
    fixer = np.array([0.6, 0.4, 0.6, 0.4, 0.96])
    values = np.stack([np.stack([1 - p, p], axis=1) for p in (good, fixer, fixer)])
    for grid in (None, np.array([0.5, 0.3, 0.12, 0.2])):
        result = hill_climb(values, y, kind="multiclass", metric="accuracy", grid=grid, negative_weights=True)
        assert result.trajectory == [(0, 0, 1.0, 0.8), (1, 1, 0.12, 1.0)]


# Negative weights only when asked for.


def _negative_helps_regression():
    """A = y + e, B = y + 2e: the optimum is 2A - B (w = -1), reached only through negative steps."""
    rng = np.random.default_rng(1)
    y = rng.normal(size=50)
    errors = rng.normal(size=50)
    return y, np.stack([y + errors, y + 2 * errors, y + rng.normal(size=50) * 3])[:, :, None]


def _negative_helps_binary():
    """Probabilities whose errors run together: subtracting some of the worse one helps."""
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 200)
    truth = np.where(y == 1, 0.75, 0.25)
    errors = rng.uniform(-0.12, 0.12, 200)
    return y, np.clip(np.stack([truth + errors, truth + 2 * errors, truth + 2.5 * errors]), 0, 1)[:, :, None]


@pytest.mark.parametrize(
    ("data", "kind", "metric"),
    [(_negative_helps_regression, "regression", "rmse"), (_negative_helps_binary, "binary", "logloss")],
)
def test_negative_weights_are_used_only_when_asked(data, kind, metric):
    y, values = data()
    plain = hill_climb(values, y, kind=kind, metric=metric)
    assert (plain.weights >= 0).all()
    assert all(w > 0 for _, _, w, _ in plain.trajectory)
    signed = hill_climb(values, y, kind=kind, metric=metric, negative_weights=True)
    assert (signed.weights < 0).any()
    assert signed.score < plain.score - 1e-3
    assert signed.weights.sum() == pytest.approx(1.0)
    for result in (plain, signed):
        reproduced = layout.score(y, layout.weighted_blend(values, result.weights, kind=kind), metric=metric, kind=kind)
        assert result.score == reproduced


@pytest.mark.parametrize(("kind", "metric"), CASES)
def test_no_negative_weight_without_the_flag(kind, metric):
    for seed in range(3):
        y, values = DATA[kind](seed)
        assert (hill_climb(values, y, kind=kind, metric=metric).weights >= 0).all()


def test_a_negative_grid_needs_the_flag():
    y, values = _regression(0)
    with pytest.raises(ValueError, match="negative_weights=True"):
        hill_climb(values, y, kind="regression", metric="rmse", grid=np.array([-0.1, 0.1]))


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"grid": np.array([0.0, 0.1])}, "nonzero and below 1"),
        ({"grid": np.array([0.5, 1.0])}, "nonzero and below 1"),
        ({"grid": np.array([])}, "nonzero and below 1"),
        ({"tolerance": -1.0}, "must not be negative"),
        ({"max_iters": -1}, "must not be negative"),
        ({"metric": "logloss", "kind": "regression"}, "logloss needs probabilities"),
    ],
)
def test_bad_options_raise(options, message):
    y, values = _regression(0)
    arguments = {"kind": "regression", "metric": "rmse"} | options
    with pytest.raises(ValueError, match=message):
        hill_climb(values, y, **arguments)


def test_values_and_truth_must_agree():
    y, values = _regression(0)
    with pytest.raises(ValueError, match="rows"):
        hill_climb(values, y[:-1], kind="regression", metric="rmse")
    with pytest.raises(ValueError, match="shape"):
        hill_climb(values[:, :, 0], y, kind="regression", metric="rmse")


# The vectorised grid scorer against a naive loop.


def _naive_grid_scores(values, weights, y, kind, metric, grid):
    """For every candidate and every w: blend the new weights with weighted_blend, score with metrics.fitted_score
    (binary accuracy with its threshold fitted on the rows)."""
    scores = np.empty((values.shape[0], len(grid)))
    for model in range(values.shape[0]):
        for k, w in enumerate(grid):
            new_weights = (1.0 - w) * weights
            new_weights[model] += w
            blended = layout.weighted_blend(values, new_weights, kind=kind)
            scores[model, k] = metrics.fitted_score(y, layout.for_metric(blended, kind), metric=metric, kind=kind)
    return scores


def _weight_states(n_models, seed):
    """A single model, a positive mix, and a mix with a negative weight (probabilities then clip).

    The mixes are random: label votes that tie exactly in real arithmetic (weights 0.65 - 0.3
    against 0.35) may be broken one way by rounding here and the other in weighted_blend.
    """
    rng = np.random.default_rng(seed)
    single = np.eye(n_models)[1]
    mix = rng.dirichlet(np.ones(n_models))
    signed = rng.dirichlet(np.ones(n_models)) + 0.2
    signed[1] = -0.4 * rng.uniform(0.9, 1.1)
    return [single, mix, signed / signed.sum()]


@pytest.mark.parametrize(("kind", "metric"), CASES)
@pytest.mark.parametrize("state", [0, 1, 2])
def test_grid_scorer_matches_a_naive_loop(kind, metric, state):
    y, values = DATA[kind](3)
    if kind in ("binary", "multiclass"):
        values = values.copy()
        values[0, :5] = 1.0 - values[0, :5] if kind == "binary" else values[0, :5]
        values[1, :3] = 0.999999  # pushed out of [0, 1] by negative weights: clipping matters
        if kind == "multiclass":
            values[1, :3] = [0.999998, 1e-6, 1e-6]
    weights = _weight_states(values.shape[0], 4)[state]
    grid = np.array([-0.5, -0.3, -0.01, 0.01, 0.2, 0.35, 0.5, 0.9])
    ours = grid_scores(values, weights, y, kind=kind, metric=metric, grid=grid)
    naive = _naive_grid_scores(values, weights, y, kind, metric, grid)
    np.testing.assert_allclose(ours, naive, rtol=0, atol=1e-9)


def test_grid_scorer_scores_chunks_and_candidate_subsets_alike(monkeypatch):
    from blender import hillclimb

    y, values = _binary(5, n=300, n_models=5)
    weights = _weight_states(5, 0)[2]
    grid = default_grid(negative_weights=True)
    whole = grid_scores(values, weights, y, kind="binary", metric="logloss", grid=grid)
    monkeypatch.setattr(hillclimb, "_CHUNK_VALUES", 700)  # two blends per chunk, and an odd remainder
    chunked = grid_scores(values, weights, y, kind="binary", metric="logloss", grid=grid, candidates=np.array([3, 1]))
    np.testing.assert_allclose(chunked, whole[[3, 1]], rtol=0, atol=1e-12)


def test_fast_auc_equals_metrics_and_sklearn():
    rng = np.random.default_rng(7)
    y = rng.integers(0, 2, 3000)
    rows = [
        rng.random(3000),
        rng.random(3000) ** 20,  # crowded near 0
        np.round(rng.random(3000) * 8) / 8,  # ties across the classes
        np.where(y == 1, 0.5, 0.25),  # ties within each class only
        np.full(3000, 0.3),
        rng.random(3000) * 4 - 1,  # outside [0, 2)
    ]
    values = np.array(rows)
    ours = RowAuc(y == 1)(values)
    np.testing.assert_allclose(ours, metrics.auc_rows(y == 1, values), rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours, [sk.roc_auc_score(y, row) for row in rows], rtol=0, atol=1e-12)


# Reproducible scores and never worse than the best single model.


@pytest.mark.parametrize(("kind", "metric"), CASES)
@pytest.mark.parametrize("negative_weights", [False, True])
def test_reported_score_is_the_weighted_blends_score(kind, metric, negative_weights):
    y, values = DATA[kind](11)
    result = hill_climb(values, y, kind=kind, metric=metric, negative_weights=negative_weights, max_iters=6)
    blended = layout.weighted_blend(values, result.weights, kind=kind)
    assert result.score == layout.score(y, blended, metric=metric, kind=kind)
    assert result.trajectory[-1][3] == result.score
    np.testing.assert_array_equal(result.apply(values), blended)
    assert result.weights.sum() == pytest.approx(1.0)


@pytest.mark.parametrize(("kind", "metric"), CASES)
def test_each_step_improves_and_the_start_is_the_best_single_model(kind, metric):
    y, values = DATA[kind](12)
    result = hill_climb(values, y, kind=kind, metric=metric)
    singles = layout.model_scores(values, y, metric=metric, kind=kind)
    np.testing.assert_array_equal(result.model_scores, singles)
    assert result.start_model == layout.best_model(singles, metric)
    assert result.trajectory[0] == (0, result.start_model, 1.0, singles[result.start_model])
    sign = 1 if metrics.greater_is_better(metric) else -1
    path = [sign * score for _, _, _, score in result.trajectory]
    assert all(later > earlier for earlier, later in zip(path, path[1:]))


@settings(max_examples=40, deadline=None)
@given(
    case=st.sampled_from(CASES),
    seed=st.integers(0, 10_000),
    n_models=st.integers(1, 5),
    negative_weights=st.booleans(),
    max_iters=st.integers(0, 6),
)
def test_never_worse_than_the_best_single_model(case, seed, n_models, negative_weights, max_iters):
    kind, metric = case
    y, values = DATA[kind](seed, n=30, n_models=n_models)
    result = hill_climb(values, y, kind=kind, metric=metric, negative_weights=negative_weights, max_iters=max_iters)
    singles = layout.model_scores(values, y, metric=metric, kind=kind)
    best = singles[layout.best_model(singles, metric)]
    final = layout.score(y, layout.weighted_blend(values, result.weights, kind=kind), metric=metric, kind=kind)
    if metrics.greater_is_better(metric):
        assert final >= best
    else:
        assert final <= best


def test_stops_at_the_tolerance_and_at_max_iters():
    y, values = _negative_helps_regression()
    assert len(hill_climb(values, y, kind="regression", metric="rmse", tolerance=10.0).trajectory) == 1
    stopped = hill_climb(values, y, kind="regression", metric="rmse", negative_weights=True, max_iters=2)
    assert [step[0] for step in stopped.trajectory] == [0, 1, 2]
    assert len(hill_climb(values, y, kind="regression", metric="rmse", max_iters=0).trajectory) == 1


# Skipping models that cannot be the next step (log loss and RMSE): the climb is unchanged, bit for bit.


def _many_models(kind, seed, n=120, n_models=30):
    """Models of mixed skill, some near-copies of each other (near-ties), a few exact copies (ties)."""
    y, values = DATA[kind](seed, n=n, n_models=n_models)
    values = values.copy()
    values[3] = values[2]
    values[5] = 0.5 * values[4] + 0.5 * values[6]
    return y, values


@pytest.mark.parametrize(
    ("kind", "metric"), [("binary", "logloss"), ("multiclass", "logloss"), ("binary", "rmse"), ("regression", "rmse")]
)
@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("options", [{}, {"tolerance": 0.0}, {"grid": np.array([0.5, 0.05, 0.3])}, {"max_iters": 3}])
def test_skipping_models_leaves_every_step_unchanged(monkeypatch, kind, metric, seed, options):
    from blender import hillclimb

    y, values = _many_models(kind, seed)
    if kind == "binary" and seed == 1 and metric == "logloss":
        values[7, :4, 0] = [0.0, 1.0, 0.0, 1.0]  # outside the clipping bounds: this model is never skipped
    pruned = hill_climb(values, y, kind=kind, metric=metric, **options)
    monkeypatch.setattr(hillclimb, "_PRUNE", False)
    every = hill_climb(values, y, kind=kind, metric=metric, **options)
    assert pruned.trajectory == every.trajectory
    np.testing.assert_array_equal(pruned.weights, every.weights)
    assert pruned.score == every.score


@pytest.mark.parametrize(
    ("kind", "metric"), [("binary", "logloss"), ("multiclass", "logloss"), ("binary", "rmse"), ("regression", "rmse")]
)
@pytest.mark.parametrize("state", [0, 1])
def test_gain_bounds_hold_and_skip_most_models(kind, metric, state):
    from blender.hillclimb import GridScorer

    y, values = _many_models(kind, 5, n=300, n_models=40)
    weights = _weight_states(40, 5)[state]  # one model alone, then a mix
    grid = default_grid()
    scorer = GridScorer(values, y, kind=kind, metric=metric)
    score = layout.score(y, layout.weighted_blend(values, weights, kind=kind), metric=metric, kind=kind)
    gains = score - grid_scores(values, weights, y, kind=kind, metric=metric, grid=grid)  # losses: lower is better
    bounds = scorer.gain_bounds(weights, grid, score)
    assert np.all(bounds >= gains.max(axis=1))
    steps = scorer.step_scores(weights, grid, score, tolerance=1e-6)
    scored = np.isfinite(steps).all(axis=1)
    np.testing.assert_array_equal(steps[scored], score - gains[scored])
    assert np.isinf(steps[~scored]).all() and steps[~scored].min() > 0
    best = gains.max()
    assert best in gains[scored]  # the best step is always scored
    assert scored.sum() < 40 // 2  # and most models are skipped


def test_no_bounds_with_negative_weights_or_step_metrics():
    from blender.hillclimb import GridScorer

    y, values = _many_models("binary", 0)
    mixed = _weight_states(30, 0)[2]
    assert GridScorer(values, y, kind="binary", metric="logloss").gain_bounds(mixed, default_grid(), 0.5) is None
    plain = _weight_states(30, 0)[1]
    assert GridScorer(values, y, kind="binary", metric="logloss").gain_bounds(plain, default_grid(True), 0.5) is None
    for metric in ("auc", "accuracy", "mae"):
        assert GridScorer(values, y, kind="binary", metric=metric).gain_bounds(plain, default_grid(), 0.5) is None


# Steps without a grid: the closed form (RMSE) and Newton (log loss) against a fine grid over the same range.

LINE_CASES = [("binary", "logloss"), ("multiclass", "logloss"), ("binary", "rmse"), ("regression", "rmse")]


@pytest.mark.parametrize(("kind", "metric"), LINE_CASES)
@pytest.mark.parametrize("state", [0, 1])
def test_line_steps_are_at_least_as_good_as_every_grid_weight(monkeypatch, kind, metric, state):
    from blender import hillclimb
    from blender.hillclimb import GridScorer

    monkeypatch.setattr(hillclimb, "_PRUNE", False)  # every model searched, to compare each
    y, values = _many_models(kind, 3, n=200, n_models=12)
    weights = _weight_states(12, 5)[state]
    scorer = GridScorer(values, y, kind=kind, metric=metric)
    score = layout.score(y, layout.weighted_blend(values, weights, kind=kind), metric=metric, kind=kind)
    grid = default_grid()
    ws, scores = scorer.line_steps(weights, scorer.line_intervals(grid), score, tolerance=1e-6)
    assert ((ws >= 0.01) & (ws <= 0.5)).all()
    fine = np.linspace(0.01, 0.5, 4901)  # steps of 1e-4
    on_grid = grid_scores(values, weights, y, kind=kind, metric=metric, grid=fine)
    # Never worse than any weight of the range, and equal to the fine grid's best to its resolution.
    assert (scores <= on_grid.min(axis=1) + 1e-12).all()
    np.testing.assert_allclose(scores, on_grid.min(axis=1), rtol=0, atol=1e-7)
    # Each found w scores, as weighted_blend blends it, what line_steps says.
    for model in range(12):
        stepped = (1 - ws[model]) * weights
        stepped[model] += ws[model]
        blended = layout.weighted_blend(values, stepped, kind=kind)
        assert layout.score(y, blended, metric=metric, kind=kind) == pytest.approx(scores[model], abs=1e-12)


def test_line_search_finds_the_hand_worked_log_loss_optimum_off_the_grid():
    # y = [1, 0], A = [0.9, 0.5], B = [0.3, 0.1]: the loss of (1 - w) A + w B is
    # -(log(0.9 - 0.6 w) + log(0.5 + 0.4 w)) / 2, least where 0.6 (0.5 + 0.4 w) = 0.4 (0.9 - 0.6 w):
    # w = 0.125, between the grid's 0.12 and 0.13.
    y = np.array([1, 0])
    values = np.array([[0.9, 0.5], [0.3, 0.1]])[:, :, None]
    result = hill_climb(values, y, kind="binary", metric="logloss")
    assert result.trajectory[1][1] == 1
    assert result.trajectory[1][2] == pytest.approx(0.125, abs=1e-9)
    assert result.score == pytest.approx(-(np.log(0.825) + np.log(0.55)) / 2, abs=1e-12)
    on_grid = hill_climb(values, y, kind="binary", metric="logloss", line_search=False)
    assert on_grid.trajectory[1][2] in (0.12, 0.13) and result.score < on_grid.score


@pytest.mark.parametrize(("kind", "metric"), LINE_CASES)
@pytest.mark.parametrize("seed", range(3))
def test_line_search_skipping_models_leaves_every_step_unchanged(monkeypatch, kind, metric, seed):
    from blender import hillclimb

    y, values = _many_models(kind, seed)
    if kind == "binary" and seed == 1 and metric == "logloss":
        values[7, :4, 0] = [0.0, 1.0, 0.0, 1.0]  # outside the clipping bounds: this model takes the grid
    pruned = hill_climb(values, y, kind=kind, metric=metric)
    monkeypatch.setattr(hillclimb, "_PRUNE", False)
    every = hill_climb(values, y, kind=kind, metric=metric)
    assert pruned.trajectory == every.trajectory
    assert pruned.score == every.score


def test_line_search_only_where_the_metric_allows():
    from blender.hillclimb import GridScorer

    y, values = _many_models("binary", 0)
    assert GridScorer(values, y, kind="binary", metric="logloss").line_intervals(default_grid()) == [(0.01, 0.5)]
    assert GridScorer(values, y, kind="binary", metric="logloss").line_intervals(default_grid(True)) is None
    assert GridScorer(values, y, kind="binary", metric="rmse").line_intervals(default_grid(True)) is None
    for metric in ("auc", "accuracy", "mae"):
        assert GridScorer(values, y, kind="binary", metric=metric).line_intervals(default_grid()) is None
    y, values = _many_models("regression", 0)
    both = GridScorer(values, y, kind="regression", metric="rmse").line_intervals(default_grid(True))
    assert both == [(0.01, 0.5), (-0.5, -0.01)]
