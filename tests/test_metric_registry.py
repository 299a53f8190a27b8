"""The metric registry (blender.metrics.resolve / Metric): every built-in against scikit-learn or its
definition, on random data, heavy ties, one-class folds and odd label orders; the fitted and held-out
steps against brute force; errors and directions; plug-in metrics (FILE.py:FUNCTION)."""

import itertools
import warnings

import numpy as np
import pytest
from sklearn import metrics as sk
from sklearn.utils.class_weight import compute_sample_weight

from blender import metrics, steps
from blender.errors import BlendInputError
from blender.metrics import REGISTRY, Metric, check_metric, fitted_score, greater_is_better, resolve, score

TOL = 1e-9

# ---------------------------------------------------------------------------- references


def _quiet(function):
    """scikit-learn warns on ill-defined values (one-class folds); the value is what we compare."""

    def call(*args, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return function(*args, **kwargs)

    return call


def _decide_binary(p):
    return (np.asarray(p) > 0.5).astype(int)


def _balanced_weights(y):
    return compute_sample_weight("balanced", y)


def _map_at_k_reference(y, p, k):
    """One true label per row: 1 / its rank among the first k of a stable sort by -p, else 0."""
    total = 0.0
    for label, row in zip(y, p):
        order = np.argsort(-row, kind="stable")
        rank = int(np.flatnonzero(order == label)[0])
        total += 1.0 / (rank + 1) if rank < k else 0.0
    return total / len(y)


def _smape_reference(y, p):
    total = 0.0
    for truth, guess in zip(y, p):
        denominator = abs(truth) + abs(guess)
        total += 0.0 if denominator == 0 else 2 * abs(guess - truth) / denominator
    return total / len(y)


def _round_to_classes(y, p):
    """The plain qwk step of regression: each prediction to its nearest truth class value (exact halves
    do not occur in the data below)."""
    values = np.unique(y)
    return values[np.argmin(np.abs(np.asarray(p)[:, None] - values[None, :]), axis=1)]


BINARY_REF = {
    "auc": lambda y, p: sk.roc_auc_score(y, p),
    "gini": lambda y, p: 2 * sk.roc_auc_score(y, p) - 1,
    "logloss": lambda y, p: sk.log_loss(y, p, labels=[0, 1]),
    "balanced_logloss": lambda y, p: sk.log_loss(y, p, labels=[0, 1], sample_weight=_balanced_weights(y)),
    "brier": lambda y, p: sk.brier_score_loss(y, p, labels=[0, 1]),
    "average_precision": lambda y, p: sk.average_precision_score(y, p),
    "accuracy": lambda y, p: sk.accuracy_score(y, _decide_binary(p)),
    "balanced_accuracy": lambda y, p: sk.balanced_accuracy_score(y, _decide_binary(p)),
    "f1": lambda y, p: sk.f1_score(y, _decide_binary(p)),
    "mcc": lambda y, p: sk.matthews_corrcoef(y, _decide_binary(p)),
    "rmse": lambda y, p: sk.root_mean_squared_error(y, p),
    "mae": lambda y, p: sk.mean_absolute_error(y, p),
}


def _multiclass_ref(name, y, p):
    n_classes = p.shape[1]
    decided = p.argmax(axis=1)
    if name.startswith("map@"):
        return _map_at_k_reference(y, p, int(name[4:]))
    table = {
        "logloss": lambda: sk.log_loss(y, p, labels=range(n_classes)),
        "balanced_logloss": lambda: sk.log_loss(y, p, labels=range(n_classes), sample_weight=_balanced_weights(y)),
        "accuracy": lambda: sk.accuracy_score(y, decided),
        "balanced_accuracy": lambda: sk.balanced_accuracy_score(y, decided),
        "f1_macro": lambda: sk.f1_score(y, decided, average="macro"),
        "f1_weighted": lambda: sk.f1_score(y, decided, average="weighted"),
        "mcc": lambda: sk.matthews_corrcoef(y, decided),
        "auc": lambda: sk.roc_auc_score(y, p, multi_class="ovr", average="macro", labels=range(n_classes)),
        "auc_ovr": lambda: sk.roc_auc_score(y, p, multi_class="ovr", average="macro", labels=range(n_classes)),
        "qwk": lambda: sk.cohen_kappa_score(y, decided, weights="quadratic"),
    }
    return table[name]()


REGRESSION_REF = {
    "rmse": lambda y, p: sk.root_mean_squared_error(y, p),
    "mae": lambda y, p: sk.mean_absolute_error(y, p),
    "rmsle": lambda y, p: sk.root_mean_squared_log_error(y, np.maximum(p, 0)),
    "mape": lambda y, p: sk.mean_absolute_percentage_error(y, p),
    "smape": _smape_reference,
    "r2": lambda y, p: sk.r2_score(y, p),
    "qwk": lambda y, p: sk.cohen_kappa_score(y, _round_to_classes(y, p), weights="quadratic"),
}


def _labels_ref(name, y, votes):
    decided = votes.argmax(axis=1)
    table = {
        "accuracy": lambda: sk.accuracy_score(y, decided),
        "balanced_accuracy": lambda: sk.balanced_accuracy_score(y, decided),
        "f1_macro": lambda: sk.f1_score(y, decided, average="macro"),
        "f1_weighted": lambda: sk.f1_score(y, decided, average="weighted"),
        "mcc": lambda: sk.matthews_corrcoef(y, decided),
        "qwk": lambda: sk.cohen_kappa_score(y, decided, weights="quadratic"),
    }
    return table[name]()


BINARY_NAMES = list(BINARY_REF)
MULTICLASS_NAMES = [
    "logloss",
    "balanced_logloss",
    "accuracy",
    "balanced_accuracy",
    "f1_macro",
    "f1_weighted",
    "mcc",
    "auc",
    "auc_ovr",
    "qwk",
] + [f"map@{k}" for k in range(1, 11)]
REGRESSION_NAMES = list(REGRESSION_REF)
LABELS_NAMES = ["accuracy", "balanced_accuracy", "f1_macro", "f1_weighted", "mcc", "qwk"]


def reference(kind, name, y, p):
    if kind == "binary":
        value = BINARY_REF[name](y, p)
    elif kind == "multiclass":
        value = _multiclass_ref(name, y, p)
    elif kind == "regression":
        value = REGRESSION_REF[name](y, p)
    else:
        value = _labels_ref(name, y, p)
    return float(value)


reference = _quiet(reference)


def assert_same(got, expected, tol=TOL):
    if np.isnan(expected):
        assert np.isnan(got), f"expected NaN, got {got}"
    else:
        assert got == pytest.approx(expected, abs=tol, rel=0), f"got {got!r}, expected {expected!r}"


# ---------------------------------------------------------------------------- data


def binary_data(seed, n=200, ties=False):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    p = np.clip(0.35 * y + 0.6 * rng.random(n) + 0.02, 0.01, 0.99)
    if ties:  # five values, 0.5 among them (the plain step calls 0.5 class 0)
        p = np.array([0.1, 0.3, 0.5, 0.7, 0.9])[np.minimum((p * 5).astype(int), 4)]
    return y, p


def multiclass_data(seed, n=200, n_classes=11, ties=False):
    rng = np.random.default_rng(seed)
    y = rng.permutation(np.arange(n) % n_classes)
    p = rng.dirichlet(np.ones(n_classes), n)
    p[np.arange(n), y] += 0.3 * rng.random(n)
    if ties:  # a few distinct probabilities: many ties inside rows, for argmax and map@K
        p = np.round(p * 4) / 4 + 0.01
    return y, p / p.sum(axis=1, keepdims=True)


def regression_data(seed, name, n=200, ties=False):
    rng = np.random.default_rng(seed)
    if name == "qwk":
        values = np.array([1.0, 2.0, 4.0, 5.0, 9.0])
        y = values[rng.integers(0, len(values), n)]
        p = y + rng.normal(scale=1.2, size=n)
        p = np.round(p, 1) if ties else p
        # no prediction exactly halfway between two class values (the rounding of halves is not pinned here)
        halves = (values[:-1] + values[1:]) / 2
        p = np.where(np.isin(p, halves), p + 0.01, p)
        return y, p
    y = np.exp(rng.normal(size=n))  # positive: rmsle and mape are defined
    p = y + rng.normal(scale=0.5, size=n)  # some negative predictions: rmsle clips them
    if ties:
        y, p = np.round(y), np.round(p)  # zeros on both sides for smape and mape
    return y, p


def labels_data(seed, n=200, n_classes=4, ties=False):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, n_classes, n)
    decided = np.where(rng.random(n) < 0.6, y, rng.integers(0, n_classes, n))
    votes = np.eye(n_classes)[decided]
    if ties:  # vote shares with ties: the first class wins
        votes = rng.integers(0, 3, (n, n_classes)).astype(float)
    return y, votes


def data(kind, name, seed, ties=False):
    if kind == "binary":
        return binary_data(seed, ties=ties)
    if kind == "multiclass":
        return multiclass_data(seed, ties=ties)
    if kind == "regression":
        return regression_data(seed, name, ties=ties)
    return labels_data(seed, ties=ties)


CASES = (
    [("binary", name) for name in BINARY_NAMES]
    + [("multiclass", name) for name in MULTICLASS_NAMES]
    + [("regression", name) for name in REGRESSION_NAMES]
    + [("labels", name) for name in LABELS_NAMES]
)


# ---------------------------------------------------------------------------- (a) random data, (b) heavy ties


@pytest.mark.parametrize("ties", [False, True], ids=["random", "ties"])
@pytest.mark.parametrize("kind, name", CASES)
def test_every_builtin_equals_sklearn(kind, name, ties):
    for seed in range(3):
        y, p = data(kind, name, seed, ties=ties)
        expected = reference(kind, name, y, p)
        assert_same(score(y, p, metric=name, kind=kind), expected)
        assert_same(resolve(name, kind).score(y, p), expected)


def test_the_data_really_is_tied_and_crosses_zero():
    y, p = binary_data(0, ties=True)
    assert len(np.unique(p)) == 5 and (p == 0.5).any()
    y, p = multiclass_data(0, ties=True)
    assert (np.sort(p, axis=1)[:, -1] == np.sort(p, axis=1)[:, -2]).sum() > 10
    y, p = regression_data(0, "rmsle")
    assert (p < 0).any()
    y, p = regression_data(0, "smape", ties=True)
    assert ((y == 0) & (p == 0)).any()


def test_binary_plain_step_calls_half_class_zero():
    y = np.array([0, 1, 1, 0])
    p = np.array([0.5, 0.5, 0.51, 0.2])
    assert score(y, p, metric="accuracy", kind="binary") == 0.75
    assert score(y, p, metric="f1", kind="binary") == pytest.approx(sk.f1_score(y, [0, 0, 1, 0]), abs=1e-15)


def test_logloss_clips_at_1e15_not_at_machine_epsilon():
    # A documented difference: scikit-learn 1.9 clips at float64 eps (2.2e-16); the registry at 1e-15.
    y, p = np.array([1, 0, 1]), np.array([0.0, 0.2, 0.9])
    expected = -np.mean(np.log([1e-15, 0.8, 0.9]))
    assert score(y, p, metric="logloss", kind="binary") == pytest.approx(expected, abs=1e-12)


def test_regression_qwk_tie_at_half_goes_to_the_lower_class():
    # Pinned as the code behaves (CutPoints uses side="left"): 1.5 between classes 1 and 2 is class 1.
    y = np.array([1.0, 2.0, 1.0, 2.0])
    assert resolve("qwk", "regression").plain_step(y, y).apply(np.array([1.5])).tolist() == [0]


# ---------------------------------------------------------------------------- (c) one-class folds


def _one_class(kind, name, which):
    """Truth of one class only (``which``), with predictions that vary."""
    y, p = data(kind, name, 7)
    if kind == "regression":
        return np.full_like(y, [1.0, 4.0][which]), p
    return np.full_like(y, which), p


ONE_CLASS_DEFINED = [c for c in CASES if c[1] not in ("auc", "gini", "auc_ovr", "r2")]


@pytest.mark.parametrize("which", [0, 1])
@pytest.mark.parametrize("kind, name", ONE_CLASS_DEFINED)
def test_one_class_truth_matches_sklearn(kind, name, which):
    y, p = _one_class(kind, name, which)
    expected = reference(kind, name, y, p)
    assert_same(score(y, p, metric=name, kind=kind), expected)


@pytest.mark.parametrize(
    "kind, name", [("binary", "auc"), ("binary", "gini"), ("multiclass", "auc"), ("multiclass", "auc_ovr")]
)
def test_auc_of_one_class_truth_raises_like_sklearn(kind, name):
    # scikit-learn 1.9 warns and returns NaN (older versions raised); the registry refuses with a ValueError.
    y, p = _one_class(kind, name, 1)
    try:
        assert np.isnan(reference(kind, name, y, p))
    except ValueError:
        pass
    with pytest.raises(ValueError, match="only one class"):
        score(y, p, metric=name, kind=kind)


@pytest.mark.parametrize("perfect", [False, True])
def test_r2_of_a_constant_truth_is_sklearns(perfect):
    y = np.full(20, 3.0)
    p = y.copy() if perfect else y + np.linspace(-1, 1, 20)
    assert score(y, p, metric="r2", kind="regression") == sk.r2_score(y, p)


@pytest.mark.parametrize("kind", ["multiclass", "labels", "regression"])
def test_qwk_is_nan_where_truth_and_decisions_are_one_class(kind):
    n = 30
    if kind == "regression":
        y, p = np.full(n, 3.0), np.full(n, 3.2)
        decided = _round_to_classes(y, p)
    else:
        y = np.full(n, 2)
        p = np.tile([0.1, 0.2, 0.7], (n, 1))
        decided = p.argmax(axis=1)
    assert np.isnan(_quiet(sk.cohen_kappa_score)(y, decided, weights="quadratic"))
    assert np.isnan(score(y, p, metric="qwk", kind=kind))


def test_one_class_decisions_but_two_class_truth():
    # Every row called negative (all p <= 0.5): f1 0, mcc 0, balanced accuracy 0.5, as scikit-learn.
    y, p = np.array([0, 1, 0, 1, 1]), np.array([0.1, 0.2, 0.3, 0.4, 0.5])
    for name in ("f1", "mcc", "balanced_accuracy", "accuracy"):
        assert_same(score(y, p, metric=name, kind="binary"), reference("binary", name, y, p))


# ---------------------------------------------------------------------------- (d) odd label orders


MULTICLASS_ORDER_FREE = [name for name in MULTICLASS_NAMES if name != "qwk"]


@pytest.mark.parametrize("name", MULTICLASS_ORDER_FREE)
def test_multiclass_columns_in_any_order(name):
    y, p = multiclass_data(5, n=120, n_classes=11)
    base = score(y, p, metric=name, kind="multiclass")
    for seed in range(3):
        perm = np.random.default_rng(seed).permutation(p.shape[1])  # new column j is old column perm[j]
        new_y = np.argsort(perm)[y]
        new_p = p[:, perm]
        assert_same(score(new_y, new_p, metric=name, kind="multiclass"), reference("multiclass", name, new_y, new_p))
        # no ties in these probabilities: the columns' order cannot matter
        assert_same(score(new_y, new_p, metric=name, kind="multiclass"), base)


ABSENT_CLASS_CASES = [
    ("multiclass", name)
    for name in MULTICLASS_NAMES
    if name not in ("auc", "auc_ovr", "map@6", "map@7", "map@8", "map@9", "map@10")
] + [("labels", name) for name in LABELS_NAMES]


@pytest.mark.parametrize("kind, name", ABSENT_CLASS_CASES)
def test_a_class_absent_from_truth_and_decisions(kind, name):
    # Column 1 of 5 is never true and never the most probable: scikit-learn's class set is {0, 2, 3, 4}
    # (macro F1 averages over those four, qwk weights their places 0..3).
    y, p = (multiclass_data if kind == "multiclass" else labels_data)(8, n=120, n_classes=5)
    y = np.where(y == 1, 3, y)
    p = p.copy()
    p[:, 1] = 0.0 if kind == "labels" else 1e-3
    p = p if kind == "labels" else p / p.sum(axis=1, keepdims=True)
    assert not (p.argmax(axis=1) == 1).any() and set(np.unique(y)) == {0, 2, 3, 4}
    assert_same(score(y, p, metric=name, kind=kind), reference(kind, name, y, p))


def test_multiclass_qwk_with_a_class_order():
    # Column c has place rank[c] in the class order: qwk compares the places.
    y, p = multiclass_data(3, n=150, n_classes=5)
    rank = (2, 0, 4, 1, 3)
    metric = Metric("qwk", REGISTRY["qwk"], "multiclass", rank=rank)
    rank_arr = np.array(rank)
    expected = sk.cohen_kappa_score(rank_arr[y], rank_arr[p.argmax(axis=1)], weights="quadratic")
    assert_same(metric.score(y, p), expected)


@pytest.mark.parametrize("name", LABELS_NAMES)
def test_text_labels_score_like_sklearn(name):
    rng = np.random.default_rng(11)
    words = np.array(["zebra", "ant", "moose", "bee"])
    y = words[rng.integers(0, 4, 80)]
    pred = np.where(rng.random(80) < 0.5, y, words[rng.integers(0, 4, 80)])
    function = {
        "accuracy": sk.accuracy_score,
        "balanced_accuracy": sk.balanced_accuracy_score,
        "f1_macro": lambda a, b: sk.f1_score(a, b, average="macro"),
        "f1_weighted": lambda a, b: sk.f1_score(a, b, average="weighted"),
        "mcc": sk.matthews_corrcoef,
        "qwk": lambda a, b: sk.cohen_kappa_score(a, b, weights="quadratic"),  # sorted text order, as sklearn's
    }[name]
    assert_same(score(y, pred, metric=name, kind="labels"), float(function(y, pred)))
    assert_same(score(y.astype(object), pred.astype(object), metric=name, kind="labels"), float(function(y, pred)))


@pytest.mark.parametrize("name", LABELS_NAMES)
def test_numeric_one_dimensional_labels_score_like_sklearn(name):
    # Labels 2, 9, 10 given as numbers: the same classes and order as scikit-learn gives them.
    rng = np.random.default_rng(4)
    values = np.array([2, 9, 10])
    y = values[rng.integers(0, 3, 90)]
    pred = np.where(rng.random(90) < 0.4, y, values[rng.integers(0, 3, 90)])
    expected = _labels_ref(name, np.searchsorted(values, y), np.eye(3)[np.searchsorted(values, pred)])
    assert_same(score(y, pred, metric=name, kind="labels"), float(expected))


def test_integer_truth_and_float_predictions_of_the_same_labels_agree():
    # sklearn: accuracy_score([1, 2], [1.0, 2.0]) == 1.0.
    y, pred = np.array([1, 2, 2, 1]), np.array([1.0, 2.0, 2.0, 2.0])
    assert score(y, pred, metric="accuracy", kind="labels") == sk.accuracy_score(y, pred) == 0.75


# ---------------------------------------------------------------------------- batch, fitted, held_out


@pytest.mark.parametrize("kind, name", CASES)
def test_batch_equals_fitted_candidate_by_candidate(kind, name):
    y, _ = data(kind, name, 0, ties=False)
    candidates = np.stack([data(kind, name, seed, ties=seed == 2)[1] for seed in range(3)])
    metric = resolve(name, kind)
    if kind == "regression" and name == "qwk":
        metric = metrics.for_truth(name, kind, y)
    got = metric.batch(y, candidates)
    assert got.shape == (3,)
    for index, candidate in enumerate(candidates):
        assert_same(float(got[index]), metric.fitted(y, candidate))


def _long_binary_candidates(seed, n=6000):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < [0.5, 0.03, 0.97][seed % 3]).astype(int)
    signal = 0.3 * y + 0.7 * rng.random(n)
    candidates = np.stack(
        [
            signal,  # smooth
            1.0 - signal,  # anti-correlated (mcc below 0 in most places)
            np.round(signal * 20) / 20,  # long runs of ties
            0.5 + 1e-9 * signal,  # a tiny range: every value in a few buckets
            np.where(rng.random(n) < 0.98, 0.2, signal),  # one value holds 98% of the rows
            np.full(n, 0.4),  # one value
            rng.beta(0.3, 0.3, n),  # noise piled at both ends
        ]
    )
    return y, candidates


@pytest.mark.parametrize("name", ["accuracy", "balanced_accuracy", "f1", "mcc"])
def test_batch_of_long_binary_rows_equals_fitted(name):
    # Rows of 4096 and more may take a faster path; the best threshold's score must not change.
    metric = resolve(name, "binary")
    for seed in range(3):
        y, candidates = _long_binary_candidates(seed)
        got = metric.batch(y, candidates)
        expected = [metric.fitted(y, candidate) for candidate in candidates]
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12, err_msg=f"seed {seed}")
        _, values, valid = steps.threshold_scores(y, candidates, name)
        np.testing.assert_allclose(got, np.where(valid, values, -np.inf).max(axis=-1), rtol=0, atol=1e-12)


STEP_CASES = [("binary", name) for name in ("accuracy", "balanced_accuracy", "f1", "mcc")] + [
    ("regression", "qwk"),
    ("multiclass", "qwk"),
]


@pytest.mark.parametrize("kind, name", STEP_CASES)
def test_fitted_is_at_least_the_plain_score(kind, name):
    metric = resolve(name, kind)
    assert metric.fits_step
    for seed in range(6):
        for ties in (False, True):
            y, p = data(kind, name, seed, ties=ties)
            if kind == "regression":
                metric = metrics.for_truth(name, kind, y)
            plain, fitted = metric.score(y, p), metric.fitted(y, p)
            assert metric.sign * fitted >= metric.sign * plain - 1e-12, (seed, ties, plain, fitted)


def test_multiclass_qwk_fitted_is_at_least_argmax_on_peaked_probabilities():
    # The fitted step cuts the expected class; the plain step is the argmax. In-sample the fitted
    # score must not fall below the plain one (the fitted step can only help on its own rows).
    metric = resolve("qwk", "multiclass")
    y = np.array([0, 1, 2])
    p = np.array([[0.1, 0.5, 0.4], [0.2, 0.3, 0.5], [0.3, 0.3, 0.4]])  # argmax 1, 2, 2: qwk 0.5
    assert metric.score(y, p) == pytest.approx(sk.cohen_kappa_score(y, [1, 2, 2], weights="quadratic"))
    assert metric.fitted(y, p) >= metric.score(y, p) - 1e-12
    below = []
    for seed in range(40):
        rng = np.random.default_rng(seed)
        y = rng.integers(0, 4, 40)
        p = rng.dirichlet(np.full(4, 0.5), 40)
        p[np.arange(40), y] += rng.random()
        p /= p.sum(axis=1, keepdims=True)
        if metric.fitted(y, p) < metric.score(y, p) - 1e-12:
            below.append((seed, metric.score(y, p), metric.fitted(y, p)))
    assert not below, below


@pytest.mark.parametrize("name", ["accuracy", "balanced_accuracy", "f1", "mcc"])
def test_held_out_on_the_fitted_rows_is_fitted(name):
    metric = resolve(name, "binary")
    for seed in range(4):
        for ties in (False, True):
            y, p = binary_data(seed, ties=ties)
            assert_same(metric.held_out(y, p, y, p), metric.fitted(y, p))
            assert_same(fitted_score(y, p, metric=name, kind="binary"), metric.fitted(y, p))


@pytest.mark.parametrize("kind, name", [c for c in CASES if c not in STEP_CASES])
def test_without_a_learnt_step_fitted_and_held_out_are_the_plain_score(kind, name):
    y, p = data(kind, name, 1)
    metric = resolve(name, kind)
    assert not metric.fits_step
    y2, p2 = data(kind, name, 2)
    assert metric.fitted(y, p) == metric.score(y, p)
    assert metric.held_out(y2, p2, y, p) == metric.score(y, p)


# ---------------------------------------------------------------------------- the fitted threshold, brute force


BINARY_STEP = {
    "f1": sk.f1_score,
    "mcc": sk.matthews_corrcoef,
    "accuracy": sk.accuracy_score,
    "balanced_accuracy": sk.balanced_accuracy_score,
}


def _candidate_thresholds(p):
    values = np.unique(p)
    return np.r_[np.nextafter(values[0], -np.inf), (values[:-1] + values[1:]) / 2, values[-1]]


@_quiet
def _brute_best(name, y, p):
    """(best score, threshold nearest 0.5 among the best) over every distinct threshold, by sklearn."""
    thresholds = _candidate_thresholds(p)
    values = np.array([BINARY_STEP[name](y, (p > t).astype(int)) for t in thresholds])
    top = values.max()
    near = thresholds[values >= top - 1e-12 * max(1.0, abs(top))]
    return top, near[np.argmin(np.abs(near - 0.5))]


@pytest.mark.parametrize("name", list(BINARY_STEP))
def test_fitted_threshold_is_the_brute_force_best(name):
    metric = resolve(name, "binary")
    for seed in range(5):
        for ties in (False, True):
            y, p = binary_data(seed, n=60, ties=ties)
            best, _ = _brute_best(name, y, p)
            assert metric.fitted(y, p) == pytest.approx(best, abs=1e-12, rel=0)
            step = metric.fit_step(y, p)
            assert isinstance(step, steps.Threshold)
            assert _quiet(BINARY_STEP[name])(y, step.apply(p)) == pytest.approx(best, abs=1e-12, rel=0)


@pytest.mark.parametrize("name", list(BINARY_STEP))
def test_fitted_threshold_on_a_one_class_truth(name):
    metric = resolve(name, "binary")
    for which in (0, 1):
        y, p = np.full(30, which), binary_data(3, n=30)[1]
        best, _ = _brute_best(name, y, p)
        assert metric.fitted(y, p) == pytest.approx(best, abs=1e-12, rel=0)


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("name", list(BINARY_STEP))
def test_held_out_threshold_equals_a_hand_written_fold_loop(name, ties):
    metric = resolve(name, "binary")
    y, p = binary_data(21, n=100, ties=ties)
    folds = np.arange(len(y)) % 5
    for fold in range(5):
        train, held = folds != fold, folds == fold
        best, threshold = _brute_best(name, y[train], p[train])
        step = metric.fit_step(y[train], p[train])
        # the step reaches the best score on the rows it was fitted on, and breaks ties towards 0.5
        assert _quiet(BINARY_STEP[name])(y[train], step.apply(p[train])) == pytest.approx(best, abs=1e-12, rel=0)
        assert step.threshold == pytest.approx(threshold, abs=1e-12)
        expected = _quiet(BINARY_STEP[name])(y[held], (p[held] > threshold).astype(int))
        got = metric.held_out(y[train], p[train], y[held], p[held])
        assert got == pytest.approx(expected, abs=TOL, rel=0)


def test_a_flat_metric_keeps_the_plain_threshold():
    # Accuracy is the same for every threshold in (0.3, 0.7): the one nearest 0.5 is kept (0.5 itself).
    y, p = np.array([0, 0, 1, 1]), np.array([0.1, 0.3, 0.7, 0.9])
    step = resolve("accuracy", "binary").fit_step(y, p)
    assert step.threshold == 0.5


# ---------------------------------------------------------------------------- qwk cut-points


def _qwk_of_cuts(truth, numbers, cuts):
    return _quiet(sk.cohen_kappa_score)(
        truth, np.searchsorted(np.asarray(cuts), numbers, side="left"), weights="quadratic"
    )


def _ordinal(seed, n=200, n_classes=5, noise=1.0):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, n_classes, n)
    numbers = truth + rng.normal(scale=noise, size=n) + rng.normal(scale=0.5)
    return truth, numbers


@pytest.mark.parametrize("n_classes", [2, 3, 5, 7])
def test_cut_points_are_non_decreasing_and_beat_their_start_and_rounding(n_classes):
    for seed in range(8):
        truth, numbers = _ordinal(seed, n_classes=n_classes, noise=0.5 + seed / 4)
        if seed % 2:
            numbers = np.round(numbers)  # ties
        cuts = steps.fit_cut_points(truth, numbers, n_classes)
        assert len(cuts) == n_classes - 1
        assert np.all(np.diff(cuts) >= 0), cuts
        start = steps.fit_cut_points(truth, numbers, n_classes, sweeps=0)
        rounding = steps.rounding_cuts(np.arange(n_classes))
        fitted = _qwk_of_cuts(truth, numbers, cuts)
        assert fitted >= _qwk_of_cuts(truth, numbers, start) - 1e-12
        assert fitted >= _qwk_of_cuts(truth, numbers, rounding) - 1e-12, (seed, fitted)


def test_histogram_matching_start_gives_the_truths_class_counts():
    truth, numbers = _ordinal(0, n=100, n_classes=4)
    start = steps.fit_cut_points(truth, numbers, 4, sweeps=0)
    decided = np.searchsorted(np.asarray(start), numbers, side="left")
    np.testing.assert_array_equal(np.bincount(decided, minlength=4), np.bincount(truth, minlength=4))


def _kappa3(truth, decided):
    """Quadratic weighted kappa over the fixed classes 0, 1, 2 (fast, for the brute force below)."""
    observed = np.zeros((3, 3))
    np.add.at(observed, (truth, decided), 1)
    weights = (np.arange(3)[:, None] - np.arange(3)[None, :]) ** 2.0
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / observed.sum()
    return 1.0 - (weights * observed).sum() / (weights * expected).sum()


def _brute_cut_points(truth, numbers):
    """The best qwk over every placement of 2 cut-points among the sorted distinct values (and below them)."""
    values = np.unique(numbers)
    cut_candidates = np.r_[np.nextafter(values[0], -np.inf), values]
    placements = list(itertools.combinations_with_replacement(cut_candidates, 2))
    kappas = [_kappa3(truth, np.searchsorted(np.asarray(cuts), numbers, side="left")) for cuts in placements]
    best = int(np.argmax(kappas))
    # the fast kappa is scikit-learn's (every class is in the truth, so the class set is fixed)
    assert kappas[best] == pytest.approx(_qwk_of_cuts(truth, numbers, placements[best]), abs=1e-12)
    return kappas[best]


def test_cut_points_reach_the_brute_force_optimum_on_tiny_cases():
    misses = []
    for seed in range(40):
        rng = np.random.default_rng(seed)
        truth = rng.integers(0, 3, 24)
        truth[:3] = [0, 1, 2]
        numbers = rng.integers(0, 10, 24) / 10 + 0.3 * truth * rng.random()  # ~10 distinct values, tied
        cuts = steps.fit_cut_points(truth, numbers, 3)
        got, best = _qwk_of_cuts(truth, numbers, cuts), _brute_cut_points(truth, numbers)
        if abs(got - best) > 1e-12:
            misses.append((seed, got, best))
    assert not misses, misses


def test_regression_qwk_fitted_uses_the_fitted_cut_points():
    y, p = regression_data(2, "qwk")
    metric = metrics.for_truth("qwk", "regression", y)
    step = metric.fit_step(y, p)
    assert isinstance(step, steps.CutPoints) and step.rank is None
    places = np.searchsorted(np.unique(y), y)
    expected = sk.cohen_kappa_score(places, step.apply(p), weights="quadratic")
    assert metric.fitted(y, p) == pytest.approx(expected, abs=TOL)
    assert metric.held_out(y, p, y, p) == pytest.approx(expected, abs=TOL)


def test_multiclass_qwk_fitted_cuts_the_expected_class():
    y, p = multiclass_data(2, n=150, n_classes=4)
    metric = resolve("qwk", "multiclass")
    step = metric.fit_step(y, p)
    assert isinstance(step, steps.CutPoints) and step.rank == (0, 1, 2, 3)
    assert step.cuts == steps.fit_cut_points(y, p @ np.arange(4.0), 4)
    decided = np.searchsorted(np.asarray(step.cuts), p @ np.arange(4.0), side="left")
    assert metric.fitted(y, p) == pytest.approx(sk.cohen_kappa_score(y, decided, weights="quadratic"), abs=TOL)
    start = steps.fit_cut_points(y, p @ np.arange(4.0), 4, sweeps=0)
    assert metric.fitted(y, p) >= _qwk_of_cuts(y, p @ np.arange(4.0), start) - 1e-12


def test_regression_qwk_fit_step_is_fit_cut_points_on_the_class_places():
    y, p = regression_data(4, "qwk")
    metric = metrics.for_truth("qwk", "regression", y)
    places = np.searchsorted(np.unique(y), y)
    assert metric.fit_step(y, p).cuts == steps.fit_cut_points(places, p, len(np.unique(y)))


# ---------------------------------------------------------------------------- errors and directions


def test_unknown_name_lists_the_names():
    with pytest.raises(ValueError) as error:
        resolve("f2", "binary")
    message = str(error.value)
    assert "unknown metric 'f2'" in message
    for name in ("auc", "logloss", "f1", "mcc", "qwk", "rmse", "smape", "map@K"):
        assert name in message


@pytest.mark.parametrize(
    "name, kind, suits",
    [
        ("f1", "multiclass", "binary probabilities"),
        ("gini", "regression", "binary probabilities"),
        ("smape", "binary", "regression values"),
        ("auc_ovr", "binary", "class probabilities"),
        ("f1_macro", "binary", "class probabilities and labels"),
    ],
)
def test_a_metric_that_does_not_suit_says_which_kinds_it_suits(name, kind, suits):
    with pytest.raises(ValueError, match=f"{name} suits {suits}"):
        resolve(name, kind)
    with pytest.raises(ValueError, match=f"{name} suits"):
        check_metric(name, kind)


@pytest.mark.parametrize("name", ["map@0", "map@11", "map@100"])
def test_map_at_k_outside_1_to_10_is_refused(name):
    with pytest.raises(ValueError, match="K must be 1 to 10"):
        resolve(name, "multiclass")


def test_map_at_k_accepts_1_to_10():
    assert [resolve(f"map@{k}", "multiclass").k for k in range(1, 11)] == list(range(1, 11))
    assert resolve("MAP@3", "multiclass") == "map@3"


def test_map_at_k_with_fewer_columns_than_k_is_refused_on_scoring():
    y, p = multiclass_data(0, n=30, n_classes=3)
    with pytest.raises(ValueError, match="map@5 needs at least 5 classes"):
        score(y, p, metric="map@5", kind="multiclass")
    assert score(y, p, metric="map@3", kind="multiclass") == pytest.approx(_map_at_k_reference(y, p, 3))


SKLEARN_SCORER = {
    "auc": "roc_auc",
    "auc_ovr": "roc_auc_ovr",
    "logloss": "neg_log_loss",
    "brier": "neg_brier_score",
    "average_precision": "average_precision",
    "accuracy": "accuracy",
    "balanced_accuracy": "balanced_accuracy",
    "f1": "f1",
    "f1_macro": "f1_macro",
    "f1_weighted": "f1_weighted",
    "mcc": "matthews_corrcoef",
    "rmse": "neg_root_mean_squared_error",
    "mae": "neg_mean_absolute_error",
    "rmsle": "neg_root_mean_squared_log_error",
    "mape": "neg_mean_absolute_percentage_error",
    "r2": "r2",
}
# no scikit-learn scorer: the direction of the definition
DEFINED_DIRECTION = {"gini": True, "balanced_logloss": False, "smape": False, "qwk": True, "map@K": True}


@pytest.mark.parametrize("name", list(REGISTRY))
def test_greater_is_better_of_every_name(name):
    if name in SKLEARN_SCORER:
        scorer = SKLEARN_SCORER[name]
        assert scorer in sk.get_scorer_names()
        expected = not scorer.startswith("neg_")
    else:
        expected = DEFINED_DIRECTION[name]
    lookup = "map@3" if name == "map@K" else name
    assert greater_is_better(lookup) is expected
    for kind in REGISTRY[name].kinds:
        metric = resolve(lookup, kind)
        assert metric.greater_is_better is expected
        assert metric.sign == (1.0 if expected else -1.0)


def test_every_name_and_kind_is_covered_here():
    covered = {(kind, "map@K" if name.startswith("map@") else name) for kind, name in CASES}
    registered = {(kind, name) for name, entry in REGISTRY.items() for kind in entry.kinds}
    assert registered == covered


def test_a_resolved_metric_is_its_name():
    metric = resolve("  Balanced_Accuracy ", "binary")
    assert metric == "balanced_accuracy" and isinstance(metric, str)
    assert resolve(metric, "binary") is metric
    assert resolve(metric, "multiclass").kind == "multiclass"


# ---------------------------------------------------------------------------- plug-ins


PLUGIN = """
import numpy as np

def my_f1(y_true, y_pred):
    decided = (np.asarray(y_pred) > 0.5).astype(int)
    tp = int(((decided == 1) & (y_true == 1)).sum())
    fp = int(((decided == 1) & (y_true == 0)).sum())
    fn = int(((decided == 0) & (y_true == 1)).sum())
    return 2 * tp / (2 * tp + fp + fn)
my_f1.greater_is_better = True

def my_mse(y_true, y_pred):
    return float(np.mean((y_true - y_pred) ** 2))
my_mse.greater_is_better = False

def boom(y_true, y_pred):
    raise RuntimeError("kaput")
boom.greater_is_better = True

def nan(y_true, y_pred):
    return float("nan")
nan.greater_is_better = True

def text(y_true, y_pred):
    return "high"
text.greater_is_better = True

def undirected(y_true, y_pred):
    return 1.0

def binary_only(y_true, y_pred):
    return 1.0
binary_only.greater_is_better = True
binary_only.kinds = ("binary",)

NOT_A_FUNCTION = 3
"""


@pytest.fixture
def plugin_file(tmp_path):
    path = tmp_path / "my_metric.py"
    path.write_text(PLUGIN)
    return path


def test_plugin_scores_like_its_function(plugin_file):
    y, p = binary_data(0)
    metric = resolve(f"{plugin_file}:my_f1", "binary")
    assert metric.greater_is_better is True
    assert metric.score(y, p) == pytest.approx(sk.f1_score(y, p > 0.5), abs=1e-12)
    assert score(y, p, metric=f"{plugin_file}:my_f1", kind="binary") == pytest.approx(sk.f1_score(y, p > 0.5))
    candidates = np.stack([binary_data(seed)[1] for seed in range(3)])
    np.testing.assert_allclose(
        metric.batch(y, candidates), [sk.f1_score(y, c > 0.5) for c in candidates], rtol=0, atol=1e-12
    )
    loss = resolve(f"{plugin_file}:my_mse", "regression")
    assert loss.greater_is_better is False and loss.sign == -1.0
    y, p = regression_data(0, "rmse")
    assert loss.score(y, p) == pytest.approx(sk.mean_squared_error(y, p), abs=1e-12)


def test_plugin_direction_from_the_caller(plugin_file):
    metric = resolve(f"{plugin_file}:undirected", "binary", greater_is_better=False)
    assert metric.greater_is_better is False
    with pytest.raises(BlendInputError, match="greater_is_better is True"):
        resolve(f"{plugin_file}:my_f1", "binary", greater_is_better=False)


def test_plugin_kinds_attribute_limits_the_kinds(plugin_file):
    assert resolve(f"{plugin_file}:binary_only", "binary").kind == "binary"
    with pytest.raises(ValueError, match="suits binary probabilities"):
        resolve(f"{plugin_file}:binary_only", "regression")


def test_plugin_on_labels_gets_indices(tmp_path):
    path = tmp_path / "labels_metric.py"
    path.write_text(
        "import numpy as np\n"
        "def share(y_true, y_pred):\n"
        "    assert np.asarray(y_pred).ndim == 1\n"
        "    return float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))\n"
        "share.greater_is_better = True\n"
    )
    y, votes = labels_data(0)
    assert score(y, votes, metric=f"{path}:share", kind="labels") == pytest.approx(
        sk.accuracy_score(y, votes.argmax(axis=1))
    )


@pytest.mark.parametrize(
    "function, words",
    [
        ("boom", ["boom", "raised RuntimeError", "kaput"]),
        ("nan", ["nan", "finite"]),
        ("text", ["text", "str", "'high'"]),
    ],
)
def test_plugin_bad_answers_raise_blend_input_errors(plugin_file, function, words):
    y, p = binary_data(0)
    metric = resolve(f"{plugin_file}:{function}", "binary")
    with pytest.raises(BlendInputError) as error:
        metric.score(y, p)
    message = str(error.value)
    assert str(plugin_file) in message
    for word in words:
        assert word in message


@pytest.mark.parametrize(
    "spec, words",
    [
        ("{tmp}/missing.py:f", ["missing.py", "not found"]),
        ("{file}:absent", ["absent", "has no function"]),
        ("{file}:NOT_A_FUNCTION", ["NOT_A_FUNCTION", "has no function"]),
        ("{file}:undirected", ["undirected", "greater-is-better"]),
        ("{tmp}/broken.py:f", ["broken.py", "importing", "SyntaxError"]),
    ],
)
def test_plugin_that_cannot_be_loaded_raises_blend_input_error(plugin_file, tmp_path, spec, words):
    (tmp_path / "broken.py").write_text("def f(:\n")
    spec = spec.format(tmp=tmp_path, file=plugin_file)
    with pytest.raises(BlendInputError) as error:
        resolve(spec, "binary")
    message = str(error.value)
    assert str(tmp_path) in message  # the file is named
    for word in words:
        assert word in message
