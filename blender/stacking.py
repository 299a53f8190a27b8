"""Stacking: a meta-learner fitted on out-of-fold predictions predicts the test rows.

The meta-features are the models' predictions (every class column of every model for
class probabilities, a one-hot block per model for labels), optionally their logits,
pairwise products (``quadratic``), the original features, or the feature-weighted
linear stacking products of Sill, Takacs, Mackey and Lin (2009) (``fwls``).

The meta-learner only ever sees predictions on rows the base models did not train on
(OOF here, holdout in :mod:`blender.holdout`); its own score is cross-validated over
those rows with seeded folds, and the final meta-learner is fitted on all of them.

Meta-learners (scikit-learn and XGBoost, imported only when used):

========  ==============================================  =====================================
meta      classes (binary, multiclass, labels)            regression
========  ==============================================  =====================================
logreg    ``LogisticRegression(C=1.0)``                   ``LinearRegression()``
ridge     ``LogisticRegression(C=0.1)``: stronger L2      ``Ridge(alpha=1.0)``
xgb       ``XGBClassifier``, 200 trees of depth 3         ``XGBRegressor``, same
et        ``ExtraTreesClassifier``, 200 trees, leaf >= 5  ``ExtraTreesRegressor``, same
rf        ``RandomForestClassifier``, same                ``RandomForestRegressor``, same
knn       ``KNeighborsClassifier(25)``                    ``KNeighborsRegressor(25)``
========  ==============================================  =====================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from blender import metrics
from blender.evaluation import cv_folds
from blender.weights import one_hot

META_LEARNERS = ("logreg", "ridge", "xgb", "et", "rf", "knn")
MetaLearner = Literal["logreg", "ridge", "xgb", "et", "rf", "knn"]

# Logits of probabilities clipped to [LOGIT_EPSILON, 1 - LOGIT_EPSILON] stay within
# about +-13.8, so one overconfident model cannot swamp a linear meta-learner.
LOGIT_EPSILON = 1e-6

# Trees in the xgb, et and rf meta-learners.
N_ESTIMATORS = 200


@dataclass(frozen=True, eq=False)
class StackResult:
    """What :func:`stack` produced.

    Attributes
    ----------
    test_predictions : ndarray of shape (n_test,) or (n_test, n_classes)
        P(class 1) for binary, class probabilities for multiclass, labels for labels,
        values for regression.
    cv_score : float
        The metric of ``oof_predictions``: the meta-learner's cross-validated score.
    oof_predictions : ndarray of shape (n_samples,) or (n_samples, n_classes)
        Each OOF row predicted by a meta-learner fitted on the other folds.
    metric : str
    meta : str
    """

    test_predictions: NDArray
    cv_score: float
    oof_predictions: NDArray
    metric: str
    meta: str


def stack(
    oof: NDArray,
    y: NDArray,
    test: NDArray,
    *,
    kind: metrics.Kind,
    meta: MetaLearner = "logreg",
    folds: int = 5,
    train_features: NDArray | None = None,
    test_features: NDArray | None = None,
    fwls: bool = False,
    quadratic: bool = False,
    logit: bool = False,
    metric: metrics.Metric | None = None,
    random_state: int | None = None,
) -> StackResult:
    """Fit a meta-learner on the OOF predictions and predict the test rows.

    Parameters
    ----------
    oof : ndarray of shape (n_samples, n_models), or (n_models, n_samples, n_classes)
        Out-of-fold predictions, rows aligned with ``y``.
    y : ndarray of shape (n_samples,)
    test : ndarray of shape (n_test, n_models), or (n_models, n_test, n_classes)
        The same models' test predictions, models in the same order.
    kind : {"binary", "multiclass", "regression", "labels"}
    meta : {"logreg", "ridge", "xgb", "et", "rf", "knn"}, default="logreg"
        The meta-learner; see the table in the module docstring.
    folds : int, default=5
        Folds of the meta-learner's own cross-validation (stratified for classes).
    train_features, test_features : ndarray of shape (n_samples, n_features) and
        (n_test, n_features), default=None
        Original features, rows aligned with ``oof`` and ``test``; standardised with the
        training rows' mean and deviation and appended (or, with ``fwls``, used as the
        FWLS meta-features).
    fwls : bool, default=False
        Feature-weighted linear stacking: the meta-learner sees the product of every
        prediction column with every meta-feature: a constant 1, and the given features,
        or else the spread (standard deviation across models) and mean across models of
        the predictions (for class probabilities: the spread averaged over classes, and
        the largest class mean). Sill et al. fit these with a regularised linear model
        (``meta="ridge"``, or ``"logreg"``); the other meta-learners get the same columns.
    quadratic : bool, default=False
        Add the product of every pair of models' predictions (for class probabilities
        and labels, the pairs' products within each class column).
    logit : bool, default=False
        Replace probabilities by their logits (clipped to [1e-6, 1 - 1e-6]); binary and
        multiclass only. Products (``quadratic``, spread, mean) use the probabilities.
    metric : {"accuracy", "logloss", "auc", "rmse", "mae"}, default=None
        Scores the cross-validated predictions; None means the kind's default.
    random_state : int, default=None
        Seeds the folds and the meta-learner.

    Returns
    -------
    StackResult

    Raises
    ------
    ValueError
        For an unknown meta-learner, ``logit`` on labels
        or regression, mismatched shapes, or fewer than 2 folds.

    See Also
    --------
    blender.holdout.holdout_blend : the same meta-learner fitted on holdout predictions.

    Examples
    --------
    >>> oof = np.array([[0.9, 0.7], [0.2, 0.4], [0.8, 0.6], [0.3, 0.2], [0.7, 0.9], [0.1, 0.3]])
    >>> y = np.array([1, 0, 1, 0, 1, 0])
    >>> result = stack(oof, y, np.array([[0.95, 0.8], [0.05, 0.1]]), kind="binary", folds=3,
    ...                random_state=0)
    >>> result.test_predictions.round(2), result.metric
    (array([0.62, 0.36]), 'logloss')
    """
    metric = metrics.check_metric(metric, kind)
    if folds < 2:
        raise ValueError(f"folds must be at least 2, got {folds}")
    train, apply = build_meta_features(
        oof, test, kind=kind, y=y, train_features=train_features, test_features=test_features,
        fwls=fwls, quadratic=quadratic, logit=logit, meta=meta,
    )
    y = np.asarray(y)
    if train.shape[0] != y.shape[0]:
        raise ValueError(f"the OOF predictions have {train.shape[0]} rows but y has {y.shape[0]}")
    classes = _classes(y, oof, kind)
    oof_predictions = None
    for train_rows, held_out in cv_folds(y, kind=kind, folds=folds, random_state=random_state):
        predicted = _fit_apply(train[train_rows], y[train_rows], train[held_out], kind=kind, meta=meta,
                               classes=classes, random_state=random_state)
        if oof_predictions is None:
            oof_predictions = np.empty((y.shape[0],) + predicted.shape[1:], dtype=predicted.dtype)
        oof_predictions[held_out] = predicted
    test_predictions = _fit_apply(train, y, apply, kind=kind, meta=meta, classes=classes, random_state=random_state)
    return StackResult(
        test_predictions=test_predictions,
        cv_score=metrics.score(y, oof_predictions, metric=metric, kind=kind),
        oof_predictions=oof_predictions,
        metric=metric,
        meta=meta,
    )


def fit_apply(
    train: NDArray,
    y: NDArray,
    apply: NDArray,
    *,
    kind: metrics.Kind,
    meta: MetaLearner = "logreg",
    fwls: bool = False,
    quadratic: bool = False,
    logit: bool = False,
    random_state: int | None = None,
) -> NDArray:
    """Fit the meta-learner on ``train`` predictions and predict ``apply``, without any CV.

    The parameters mean what they mean in :func:`stack`; ``train`` and ``apply`` are
    predictions in the usual layout. This is the blend method that
    :mod:`blender.evaluation` cross-validates.
    """
    train_columns, apply_columns = build_meta_features(
        train, apply, kind=kind, y=y, fwls=fwls, quadratic=quadratic, logit=logit, meta=meta
    )
    return _fit_apply(train_columns, np.asarray(y), apply_columns, kind=kind, meta=meta,
                      classes=_classes(y, train, kind), random_state=random_state)


def build_meta_features(
    train: NDArray,
    apply: NDArray,
    *,
    kind: metrics.Kind,
    y: NDArray | None = None,
    train_features: NDArray | None = None,
    test_features: NDArray | None = None,
    fwls: bool = False,
    quadratic: bool = False,
    logit: bool = False,
    meta: str = "logreg",
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The meta-learner's input columns for the training rows and the rows to predict.

    Returns two float arrays of shapes (n_train, n_columns) and (n_apply, n_columns).
    Statistics (the standardisation of features) come from the training rows only.
    """
    metrics.check_kind(kind)
    if meta not in META_LEARNERS:
        raise ValueError(f"unknown meta-learner {meta!r}; expected one of {', '.join(META_LEARNERS)}")
    if logit and kind not in ("binary", "multiclass"):
        raise ValueError(f"logit needs probabilities; {kind} predictions have none")
    if (train_features is None) != (test_features is None):
        raise ValueError("give both train_features and test_features, or neither")
    encoding = None
    if kind == "labels":
        parts = [np.unique(train), np.unique(apply)] + ([] if y is None else [np.unique(y)])
        encoding = np.unique(np.concatenate(parts))
    train_cube = _cube(train, kind, encoding)
    apply_cube = _cube(apply, kind, encoding)
    if train_cube.shape[1:] != apply_cube.shape[1:]:
        raise ValueError(
            f"training predictions have {train_cube.shape[1]} models x {train_cube.shape[2]} columns, "
            f"the rows to predict {apply_cube.shape[1]} x {apply_cube.shape[2]}; give the same models in the same order"
        )
    blocks_train, blocks_apply = [], []

    if logit:
        columns_train, columns_apply = (_logit(cube).reshape(cube.shape[0], -1) for cube in (train_cube, apply_cube))
    else:
        columns_train, columns_apply = (cube.reshape(cube.shape[0], -1) for cube in (train_cube, apply_cube))

    features_train = features_apply = None
    if train_features is not None:
        features_train = np.asarray(train_features, dtype=np.float64)
        features_apply = np.asarray(test_features, dtype=np.float64)
        features_train = features_train.reshape(features_train.shape[0], -1)
        features_apply = features_apply.reshape(features_apply.shape[0], -1)
        if features_train.shape[0] != train_cube.shape[0] or features_apply.shape[0] != apply_cube.shape[0]:
            raise ValueError(
                f"features have {features_train.shape[0]} and {features_apply.shape[0]} rows, predictions "
                f"{train_cube.shape[0]} and {apply_cube.shape[0]}; align the features by id first"
            )
        if features_train.shape[1] != features_apply.shape[1]:
            raise ValueError(
                f"train_features has {features_train.shape[1]} columns, test_features {features_apply.shape[1]}"
            )
        features_train, features_apply = _standardise(features_train, features_apply)

    if fwls:
        if features_train is None:
            features_train, features_apply = _standardise(_spread_and_mean(train_cube), _spread_and_mean(apply_cube))
        # The constant 1 keeps the plain prediction columns in the model.
        meta_train = np.column_stack([np.ones(features_train.shape[0]), features_train])
        meta_apply = np.column_stack([np.ones(features_apply.shape[0]), features_apply])
        blocks_train.append((columns_train[:, :, None] * meta_train[:, None, :]).reshape(columns_train.shape[0], -1))
        blocks_apply.append((columns_apply[:, :, None] * meta_apply[:, None, :]).reshape(columns_apply.shape[0], -1))
    else:
        blocks_train.append(columns_train)
        blocks_apply.append(columns_apply)
        if features_train is not None:
            blocks_train.append(features_train)
            blocks_apply.append(features_apply)

    if quadratic:
        blocks_train.append(_pairwise_products(train_cube))
        blocks_apply.append(_pairwise_products(apply_cube))
    return np.hstack(blocks_train), np.hstack(blocks_apply)


def _cube(predictions: NDArray, kind: str, encoding: NDArray | None) -> NDArray[np.float64]:
    """Predictions as (n_samples, n_models, n_columns): 1 column, n_classes, or one-hot."""
    predictions = np.asarray(predictions)
    if kind == "multiclass":
        if predictions.ndim != 3:
            raise ValueError(f"multiclass predictions must be (n_models, n_samples, n_classes), got shape {predictions.shape}")
        return predictions.astype(np.float64).transpose(1, 0, 2)
    if predictions.ndim != 2:
        raise ValueError(f"{kind} predictions must be (n_samples, n_models), got shape {predictions.shape}")
    if kind == "labels":
        return one_hot(predictions, encoding)[1].transpose(1, 0, 2)
    return predictions.astype(np.float64)[:, :, None]


def _logit(cube: NDArray[np.float64]) -> NDArray[np.float64]:
    clipped = np.clip(cube, LOGIT_EPSILON, 1 - LOGIT_EPSILON)
    return np.log(clipped) - np.log1p(-clipped)


def _spread_and_mean(cube: NDArray[np.float64]) -> NDArray[np.float64]:
    """FWLS meta-features: disagreement between the models, and their mean (confidence)."""
    spread = cube.std(axis=1).mean(axis=1)
    mean = cube.mean(axis=1)
    return np.column_stack([spread, mean[:, 0] if cube.shape[2] == 1 else mean.max(axis=1)])


def _pairwise_products(cube: NDArray[np.float64]) -> NDArray[np.float64]:
    """Products of each pair of models' predictions, class column by class column."""
    n_samples, n_models, _ = cube.shape
    first, second = np.triu_indices(n_models, k=1)
    return (cube[:, first, :] * cube[:, second, :]).reshape(n_samples, -1)


def _standardise(train: NDArray[np.float64], apply: NDArray[np.float64]):
    """Centre and scale both with the training rows' statistics (constant columns are only centred)."""
    mean = train.mean(axis=0)
    deviation = train.std(axis=0)
    deviation[deviation == 0] = 1.0
    return (train - mean) / deviation, (apply - mean) / deviation


def _classes(y: NDArray, predictions: NDArray, kind: str) -> NDArray | None:
    """The classes the meta-learner predicts: 0/1, class indices, the labels of y, or None."""
    if kind == "regression":
        return None
    if kind == "binary":
        return np.array([0, 1])
    if kind == "multiclass":
        return np.arange(np.asarray(predictions).shape[2])
    return np.unique(y)


def _make_meta(meta: str, kind: str, random_state: int | None, n_train: int):
    """A fresh, unfitted meta-learner."""
    regression = kind == "regression"
    if meta in ("logreg", "ridge"):
        from sklearn import linear_model

        if regression:
            return linear_model.LinearRegression() if meta == "logreg" else linear_model.Ridge(alpha=1.0)
        return linear_model.LogisticRegression(C=1.0 if meta == "logreg" else 0.1, max_iter=1000, random_state=random_state)
    if meta == "xgb":
        import xgboost

        # One thread: the meta-features are few, and threads only add synchronisation.
        options = dict(n_estimators=N_ESTIMATORS, max_depth=3, learning_rate=0.05, subsample=0.8, colsample_bytree=0.8,
                       random_state=0 if random_state is None else random_state, n_jobs=1, verbosity=0)
        return xgboost.XGBRegressor(**options) if regression else xgboost.XGBClassifier(**options)
    if meta in ("et", "rf"):
        from sklearn import ensemble

        options = dict(n_estimators=N_ESTIMATORS, min_samples_leaf=5, random_state=random_state)
        if meta == "et":
            return ensemble.ExtraTreesRegressor(**options) if regression else ensemble.ExtraTreesClassifier(**options)
        return ensemble.RandomForestRegressor(**options) if regression else ensemble.RandomForestClassifier(**options)
    from sklearn import neighbors

    neighbours = max(1, min(25, n_train))
    return neighbors.KNeighborsRegressor(neighbours) if regression else neighbors.KNeighborsClassifier(neighbours)


def _fit_apply(train, y, apply, *, kind, meta, classes, random_state) -> NDArray:
    """Fit a fresh meta-learner on (train, y) and predict ``apply`` in the kind's layout."""
    model = _make_meta(meta, kind, random_state, train.shape[0])
    if kind == "regression":
        model.fit(train, y.astype(np.float64))
        return np.asarray(model.predict(apply), dtype=np.float64)
    # Fit on the classes present (a fold may miss a rare one; XGBoost wants 0..k-1)
    # and put each probability back in its class's column.
    target = np.searchsorted(classes, y)
    present = np.unique(target)
    probabilities = np.zeros((apply.shape[0], classes.shape[0]))
    if present.size == 1:
        probabilities[:, present[0]] = 1.0
    else:
        model.fit(train, np.searchsorted(present, target))
        probabilities[:, present] = model.predict_proba(apply)
    if kind == "binary":
        return probabilities[:, 1]
    if kind == "labels":
        return classes[np.argmax(probabilities, axis=1)]
    return probabilities

