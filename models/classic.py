"""Builders for the tabular learners: forests, extra trees, boosting, k-NN, logistic regression.

Each builder takes a :class:`~models.problem.Problem` and returns a fresh, unfitted
estimator with ``fit`` and ``predict_proba`` (classes) or ``predict`` (regression).
They use one thread each: the fold loop runs folds in parallel instead.
XGBoost is imported only when its builder runs.
"""

from __future__ import annotations

from sklearn import ensemble, linear_model, neighbors, pipeline, preprocessing

from models.problem import Problem

#: Trees per forest: enough for stable probabilities, small enough for 2 cores.
N_TREES = 300
#: Boosting rounds and step size shared by the two boosting learners.
N_BOOSTING_ROUNDS = 300
LEARNING_RATE = 0.1


def make_forest(problem: Problem, *, criterion: str = "gini", extra: bool = False):
    """A random forest (``extra=False``) or extra trees, split by ``criterion``.

    Parameters
    ----------
    problem : Problem
    criterion : {"gini", "entropy"}, default="gini"
        The split criterion for classes. Regression has neither, so the two
        variants become squared-error forests that differ in how many features
        each split may try (all of them for "gini", a third for "entropy"); that
        keeps the pair diverse, which is what a blend wants from them.
    extra : bool, default=False
        Extremely randomised trees (random thresholds) instead of a random forest.

    Returns
    -------
    estimator
        An unfitted scikit-learn forest.
    """
    if problem.task == "regression":
        forest = ensemble.ExtraTreesRegressor if extra else ensemble.RandomForestRegressor
        max_features = 1.0 if criterion == "gini" else 1 / 3
        return forest(n_estimators=N_TREES, max_features=max_features, n_jobs=problem.threads, random_state=problem.seed)
    forest = ensemble.ExtraTreesClassifier if extra else ensemble.RandomForestClassifier
    return forest(n_estimators=N_TREES, criterion=criterion, n_jobs=problem.threads, random_state=problem.seed)


def make_gradient_boosting(problem: Problem):
    """Scikit-learn's histogram gradient boosting, with early stopping on its own slice."""
    common = dict(
        max_iter=N_BOOSTING_ROUNDS,
        learning_rate=LEARNING_RATE,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=20,
        random_state=problem.seed,
    )
    if problem.task == "regression":
        return ensemble.HistGradientBoostingRegressor(**common)
    return ensemble.HistGradientBoostingClassifier(**common)


def make_xgboost(problem: Problem):
    """An XGBoost model with the ``hist`` tree method, on ``problem.threads`` threads."""
    import xgboost

    common = dict(
        n_estimators=N_BOOSTING_ROUNDS,
        learning_rate=LEARNING_RATE,
        max_depth=6,
        subsample=0.8,
        colsample_bytree=0.8,
        tree_method="hist",
        n_jobs=problem.threads,
        random_state=problem.seed,
        verbosity=0,
    )
    if problem.task == "regression":
        return xgboost.XGBRegressor(**common)
    return xgboost.XGBClassifier(**common)


def make_knn(problem: Problem, *, n_neighbors: int = 5):
    """k-nearest neighbours on standardised features, neighbours weighted by distance.

    Distance weighting keeps the probabilities away from coarse multiples of 1/k;
    scaling stops one wide feature from deciding every distance.
    """
    if problem.task == "regression":
        model = neighbors.KNeighborsRegressor(n_neighbors=n_neighbors, weights="distance")
    else:
        model = neighbors.KNeighborsClassifier(n_neighbors=n_neighbors, weights="distance")
    return pipeline.make_pipeline(preprocessing.StandardScaler(), model)


def make_logistic_regression(problem: Problem):
    """Logistic regression on standardised features (ridge regression for a numeric target)."""
    if problem.task == "regression":
        return pipeline.make_pipeline(preprocessing.StandardScaler(), linear_model.Ridge(alpha=1.0))
    model = linear_model.LogisticRegression(C=1.0, max_iter=2000)
    return pipeline.make_pipeline(preprocessing.StandardScaler(), model)
