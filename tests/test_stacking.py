"""Tests for blender.stacking: equality with scikit-learn, feature building, every meta-learner, no leak
of a held-out row into its own fold's fit (issue 10 item 14)."""

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict

from blender import layout
from blender.errors import BlendInputError
from blender.metrics import score
from blender.stacking import fit_stacker, meta_columns, stack


@pytest.fixture(autouse=True)
def few_trees(monkeypatch):
    """Tree meta-learners with 20 trees: the tests check wiring, not accuracy."""
    monkeypatch.setattr("blender.stacking.N_ESTIMATORS", 20)


def cube(columns):
    """(n_rows, n_models) columns as the layout's (n_models, n_rows, 1)."""
    return np.asarray(columns, dtype=float).T[:, :, None]


def _binary(seed=0, n=120, n_models=3):
    """Binary OOF and test predictions as (n_rows, n_models) columns, and y."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    oof = np.clip(
        0.5 + 0.3 * (2 * y - 1)[:, None] * rng.uniform(0.3, 1.0, n_models) + rng.normal(0, 0.2, (n, n_models)), 0, 1
    )
    test = rng.uniform(0, 1, (40, n_models))
    return oof, y, test


def _multiclass(seed=0, n=120, n_models=3, n_classes=3):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % n_classes
    oof = rng.dirichlet(np.ones(n_classes), (n_models, n))
    oof[:, np.arange(n), y] += 1.0
    oof /= oof.sum(axis=2, keepdims=True)
    return oof, y, rng.dirichlet(np.ones(n_classes), (n_models, 30))


def _columns(
    values, features=None, mean=None, deviation=None, *, kind="binary", fwls=False, quadratic=False, logit=False
):
    return meta_columns(values, features, mean, deviation, kind=kind, fwls=fwls, quadratic=quadratic, logit=logit)


def test_logreg_equals_sklearn_on_the_same_columns():
    oof, y, test = _binary()
    result = stack(cube(oof), y, cube(test), kind="binary", meta="logreg", random_state=0)
    model = LogisticRegression(C=1.0, max_iter=1000, random_state=0).fit(oof, y)
    assert result.test_predictions.shape == (40, 1)
    np.testing.assert_allclose(result.test_predictions[:, 0], model.predict_proba(test)[:, 1], rtol=0, atol=1e-12)
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    expected = cross_val_predict(
        LogisticRegression(C=1.0, max_iter=1000, random_state=0), oof, y, cv=folds, method="predict_proba"
    )[:, 1]
    np.testing.assert_allclose(result.oof_predictions[:, 0], expected, atol=1e-12)
    assert result.cv_score == pytest.approx(score(y, expected, metric="logloss", kind="binary"), abs=1e-12)
    assert result.metric == "logloss" and result.meta == "logreg"


def test_multiclass_uses_every_class_column_of_every_model():
    oof, y, test = _multiclass()
    result = stack(oof, y, test, kind="multiclass", meta="logreg", random_state=0)
    columns = oof.transpose(1, 0, 2).reshape(120, -1)
    model = LogisticRegression(C=1.0, max_iter=1000, random_state=0).fit(columns, y)
    expected = model.predict_proba(test.transpose(1, 0, 2).reshape(30, -1))
    np.testing.assert_allclose(result.test_predictions, expected, atol=1e-12)
    np.testing.assert_allclose(result.test_predictions.sum(axis=1), 1.0)


def test_regression_logreg_is_linear_regression():
    rng = np.random.default_rng(3)
    oof = rng.normal(size=(50, 2))
    y = 2 * oof[:, 0] - oof[:, 1] + 1
    test = rng.normal(size=(5, 2))
    result = stack(cube(oof), y, cube(test), kind="regression", meta="logreg", random_state=0)
    assert result.test_predictions.shape == (5, 1)
    np.testing.assert_allclose(result.test_predictions[:, 0], LinearRegression().fit(oof, y).predict(test), atol=1e-10)
    assert result.cv_score == pytest.approx(0.0, abs=1e-9)


def test_labels_are_one_hot_votes_and_predicted_as_class_probabilities():
    rng = np.random.default_rng(4)
    y = np.arange(90) % 3  # classes bird, cat, dog as indices 0, 1, 2
    noisy = np.where(rng.random(90) < 0.3, 1, y)
    votes = np.eye(3)[np.stack([y, noisy])]  # (2 models, 90 rows, 3 classes)
    result = stack(votes, y, votes[:, :10], kind="labels", meta="logreg", random_state=0)
    assert result.metric == "accuracy" and result.cv_score == 1.0
    assert result.test_predictions.shape == (10, 3)
    np.testing.assert_array_equal(result.test_predictions.argmax(axis=1), y[:10])
    np.testing.assert_allclose(result.test_predictions.sum(axis=1), 1.0)


def test_meta_features_by_hand():
    train = cube([[0.2, 0.6], [0.8, 0.4]])
    apply = cube([[0.5, 0.5]])
    columns, mean, deviation = _columns(train, quadratic=True)
    np.testing.assert_allclose(columns, [[0.2, 0.6, 0.12], [0.8, 0.4, 0.32]])
    assert mean is None and deviation is None
    logits = _columns(train, logit=True)[0]
    np.testing.assert_allclose(logits[0], np.log([0.2 / 0.8, 0.6 / 0.4]))
    features, mean, deviation = _columns(train, np.array([[1.0], [3.0]]))
    np.testing.assert_allclose(features[:, 2], [-1.0, 1.0])  # standardised with these (training) rows
    np.testing.assert_allclose([mean[0], deviation[0]], [2.0, 1.0])
    applied = _columns(apply, np.array([[2.0]]), mean, deviation)[0]
    np.testing.assert_allclose(applied, [[0.5, 0.5, 0.0]])  # with the training rows' statistics


def test_a_constant_feature_is_centred_not_divided_by_zero():
    columns, mean, deviation = _columns(cube([[0.2, 0.6], [0.8, 0.4]]), np.array([[5.0], [5.0]]))
    np.testing.assert_array_equal(columns[:, 2], [0.0, 0.0])
    assert deviation[0] == 1.0


def test_fwls_columns_are_predictions_times_meta_features():
    train = cube([[0.2, 0.6], [0.8, 0.4], [0.5, 0.5]])
    columns = _columns(train, fwls=True)[0]
    assert columns.shape == (3, 2 * 3)  # two models x (constant, spread, mean)
    np.testing.assert_allclose(columns[:, ::3], [[0.2, 0.6], [0.8, 0.4], [0.5, 0.5]])  # the constant keeps them
    # Spread (std across models) and mean, standardised over the rows, times each prediction.
    spread, mean = np.array([0.2, 0.2, 0.0]), np.array([0.4, 0.6, 0.5])
    standard = lambda v: (v - v.mean()) / v.std()  # noqa: E731
    np.testing.assert_allclose(columns[:, 1], train[0, :, 0] * standard(spread))
    np.testing.assert_allclose(columns[:, 5], train[1, :, 0] * standard(mean))
    features = np.array([[1.0], [2.0], [3.0]])
    with_features = _columns(train, features, fwls=True)[0]
    assert with_features.shape == (3, 2 * 2)
    np.testing.assert_allclose(with_features[:, 1], train[0, :, 0] * np.array([-1, 0, 1]) * np.sqrt(1.5))


def test_multiclass_quadratic_products_stay_within_each_class():
    oof, y, test = _multiclass(n_models=3)
    columns = _columns(oof, kind="multiclass", quadratic=True)[0]
    assert columns.shape == (120, 3 * 3 + 3 * 3)  # 9 prediction columns, 3 pairs x 3 classes
    np.testing.assert_allclose(columns[:, 9:12], oof[0] * oof[1])


@pytest.mark.parametrize("meta", ["logreg", "ridge", "xgb", "et", "rf", "knn"])
def test_every_meta_learner_is_reproducible_and_sane(meta):
    oof, y, test = _binary(n=100)
    first = stack(cube(oof), y, cube(test), kind="binary", meta=meta, folds=3, random_state=1)
    second = stack(cube(oof), y, cube(test), kind="binary", meta=meta, folds=3, random_state=1)
    np.testing.assert_array_equal(first.test_predictions, second.test_predictions)
    np.testing.assert_array_equal(first.oof_predictions, second.oof_predictions)
    assert first.test_predictions.shape == (40, 1)
    assert np.all((first.test_predictions >= 0) & (first.test_predictions <= 1))
    assert first.cv_score < np.log(2)  # better than a coin


@pytest.mark.parametrize("meta", ["ridge", "xgb", "knn"])
def test_regression_and_multiclass_meta_learners(meta):
    oof, y, test = _multiclass(n=90)
    result = stack(oof, y, test, kind="multiclass", meta=meta, folds=3, random_state=0)
    assert result.test_predictions.shape == (30, 3)
    np.testing.assert_allclose(result.test_predictions.sum(axis=1), 1.0, atol=1e-6)
    rng = np.random.default_rng(5)
    values = rng.normal(size=(60, 2))
    regression = stack(
        cube(values), values.sum(axis=1), cube(values[:7]), kind="regression", meta=meta, folds=3, random_state=0
    )
    assert regression.test_predictions.shape == (7, 1) and regression.metric == "rmse"


def test_options_combine():
    oof, y, test = _binary()
    result = stack(
        cube(oof),
        y,
        cube(test),
        kind="binary",
        meta="ridge",
        fwls=True,
        quadratic=True,
        logit=True,
        train_features=oof[:, :1] * 10,
        test_features=test[:, :1] * 10,
        metric="auc",
        random_state=0,
    )
    assert result.metric == "auc" and 0.5 < result.cv_score <= 1.0


def test_a_fold_missing_a_class_still_gives_every_class_column():
    oof, y, test = _multiclass(n=60)
    y = y.copy()
    y[y == 2] = 0
    y[:1] = 2  # one row of class 2: most folds never see it
    result = stack(oof, y, test, kind="multiclass", meta="xgb", folds=3, random_state=0)
    assert result.oof_predictions.shape == (60, 3)
    np.testing.assert_allclose(result.oof_predictions.sum(axis=1), 1.0, atol=1e-6)
    # The folds that never saw class 2 give it probability 0.
    assert (result.oof_predictions[1:, 2] == 0).sum() > 0


def test_fwls_columns_feed_any_meta_learner():
    oof, y, test = _binary()
    result = stack(cube(oof), y, cube(test), kind="binary", meta="rf", fwls=True, folds=3, random_state=0)
    assert result.test_predictions.shape == (40, 1)


def test_fit_stacker_applied_to_the_test_rows_is_stack_without_cv():
    oof, y, test = _binary()
    fitted = fit_stacker(cube(oof), y, kind="binary", meta="logreg", random_state=0)
    np.testing.assert_allclose(
        fitted.apply(cube(test)),
        stack(cube(oof), y, cube(test), kind="binary", meta="logreg", random_state=0).test_predictions,
    )


def test_stacker_learns_the_feature_statistics_from_its_training_rows_only():
    oof, y, test = _binary()
    features = np.random.default_rng(9).normal(3.0, 2.0, (120, 2))
    fitted = fit_stacker(cube(oof)[:, :80], y[:80], kind="binary", features=features[:80], fwls=True)
    np.testing.assert_allclose(fitted.mean, features[:80].mean(axis=0))
    np.testing.assert_allclose(fitted.deviation, features[:80].std(axis=0))


# ------------------------------------------------------------------ no leak into the CV score


def _held_out_fold(y, kind, folds=5, random_state=0, k=0):
    return layout.cv_folds(y, kind=kind, folds=folds, random_state=random_state)[k][1]


@pytest.mark.parametrize("fwls", [False, True])
@pytest.mark.parametrize("meta", ["logreg", "ridge"])
def test_a_held_out_rows_features_do_not_reach_its_folds_fit(fwls, meta):
    # One held-out row's feature becomes a huge outlier. Fitted inside the folds, the meta-learner that
    # predicts that fold never sees the row, so the fold's other rows keep their predictions bit for bit.
    # Standardised over all OOF rows first (the leak), the outlier moves the mean and deviation of every
    # training row and so the whole fold's predictions.
    oof, y, test = _binary(seed=1)
    rng = np.random.default_rng(2)
    features = rng.normal(size=(120, 2))
    test_features = rng.normal(size=(40, 2))
    held_out = _held_out_fold(y, "binary")
    outlier, others = held_out[0], held_out[1:]
    before = stack(
        cube(oof),
        y,
        cube(test),
        kind="binary",
        meta=meta,
        fwls=fwls,
        train_features=features,
        test_features=test_features,
        random_state=0,
    )
    changed = features.copy()
    changed[outlier] = [1e4, -1e4]
    after = stack(
        cube(oof),
        y,
        cube(test),
        kind="binary",
        meta=meta,
        fwls=fwls,
        train_features=changed,
        test_features=test_features,
        random_state=0,
    )
    np.testing.assert_array_equal(after.oof_predictions[others], before.oof_predictions[others])
    # The outlier does change the folds it trains (so the test is not blind to it).
    assert not np.array_equal(
        np.delete(after.oof_predictions, held_out, axis=0), np.delete(before.oof_predictions, held_out, axis=0)
    )


def test_a_held_out_rows_predictions_do_not_reach_its_folds_fwls_statistics():
    # FWLS without features standardises the models' spread and mean: a held-out row whose models
    # disagree completely moves those statistics only if they are fitted over all rows.
    oof, y, test = _binary(seed=3)
    held_out = _held_out_fold(y, "binary")
    before = stack(cube(oof), y, cube(test), kind="binary", meta="logreg", fwls=True, random_state=0)
    changed = oof.copy()
    changed[held_out[:3]] = [0.0, 1.0, 0.0]
    after = stack(cube(changed), y, cube(test), kind="binary", meta="logreg", fwls=True, random_state=0)
    np.testing.assert_array_equal(after.oof_predictions[held_out[3:]], before.oof_predictions[held_out[3:]])


def test_cv_predictions_with_features_equal_sklearn_with_statistics_of_the_training_folds():
    # The CV score, written by hand: standardise with the training folds' mean and deviation only.
    oof, y, test = _binary(seed=4)
    rng = np.random.default_rng(5)
    features = rng.normal(2.0, 3.0, (120, 2))
    test_features = rng.normal(2.0, 3.0, (40, 2))
    result = stack(
        cube(oof),
        y,
        cube(test),
        kind="binary",
        meta="logreg",
        train_features=features,
        test_features=test_features,
        random_state=0,
    )
    expected = np.empty(120)
    for train_rows, held_out in StratifiedKFold(5, shuffle=True, random_state=0).split(oof, y):
        mean, deviation = features[train_rows].mean(axis=0), features[train_rows].std(axis=0)
        model = LogisticRegression(C=1.0, max_iter=1000, random_state=0).fit(
            np.hstack([oof[train_rows], (features[train_rows] - mean) / deviation]), y[train_rows]
        )
        expected[held_out] = model.predict_proba(np.hstack([oof[held_out], (features[held_out] - mean) / deviation]))[
            :, 1
        ]
    np.testing.assert_allclose(result.oof_predictions[:, 0], expected, atol=1e-10)
    mean, deviation = features.mean(axis=0), features.std(axis=0)
    model = LogisticRegression(C=1.0, max_iter=1000, random_state=0).fit(
        np.hstack([oof, (features - mean) / deviation]), y
    )
    np.testing.assert_allclose(
        result.test_predictions[:, 0],
        model.predict_proba(np.hstack([test, (test_features - mean) / deviation]))[:, 1],
        atol=1e-10,
    )


@pytest.mark.parametrize(
    "options, exception, message",
    [
        ({"meta": "svm"}, ValueError, "unknown meta-learner 'svm'"),
        ({"folds": 1}, BlendInputError, "1: cross-validation needs at least 2 folds"),
        ({"metric": "rmse", "kind": "multiclass"}, ValueError, "rmse is not defined"),
        ({"train_features": np.ones((120, 2))}, ValueError, "give both train_features and test_features"),
        ({"train_features": np.ones((100, 2)), "test_features": np.ones((40, 2))}, ValueError, "features have 100"),
        (
            {"train_features": np.ones((120, 2)), "test_features": np.ones((40, 3))},
            ValueError,
            "train_features has 2 columns",
        ),
        ({"test": np.ones((2, 40, 1))}, ValueError, "give the same models in the same order"),
        ({"y": np.zeros(7, dtype=int)}, ValueError, "the OOF predictions have 120 rows but y has 7"),
    ],
)
def test_errors(options, exception, message):
    oof, y, test = _binary()
    arguments = {"kind": "binary", "y": y, "test": cube(test)} | options
    with pytest.raises(exception, match=message):
        stack(cube(oof), **arguments)


def test_test_features_with_fewer_rows_than_the_test_predictions_are_refused():
    # 20 rows of 2 features reshape to 40 rows of 1 without complaint; they must be refused, not blended.
    oof, y, test = _binary()
    with pytest.raises(ValueError, match=r"features have (\d+ and )?20 rows"):
        stack(cube(oof), y, cube(test), kind="binary", train_features=np.ones((120, 2)), test_features=np.ones((20, 2)))


def test_fit_stacker_refuses_features_with_other_rows():
    oof, y, _ = _binary()
    with pytest.raises(ValueError, match="features have 60 rows"):
        fit_stacker(cube(oof), y, kind="binary", features=np.ones((60, 2)))


def test_too_many_folds_name_the_stack_commands_own_option():
    # `blend stack` sets these folds with --folds; its message must not name --cv, an option stack lacks.
    oof, y, test = _binary()
    with pytest.raises(BlendInputError) as raised:
        stack(cube(oof[:6]), y[:6], cube(test), kind="binary", folds=10)
    assert "--cv" not in str(raised.value) and "--folds" in str(raised.value), str(raised.value)


def test_logit_refused_for_labels_and_regression():
    with pytest.raises(ValueError, match="logit needs probabilities"):
        stack(np.ones((2, 6, 1)), np.arange(6.0), np.ones((2, 2, 1)), kind="regression", logit=True, folds=2)
    with pytest.raises(ValueError, match="logit needs probabilities"):
        fit_stacker(np.eye(2)[np.zeros((2, 6), dtype=int)], np.array([0, 1] * 3), kind="labels", logit=True)
