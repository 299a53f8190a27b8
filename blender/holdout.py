"""Blending: a meta-learner fitted on a holdout slice's predictions predicts the test rows.

The base models were fitted without the holdout rows, so their predictions there are as
honest as OOF predictions; the meta-learner and its features are those of
:mod:`blender.stacking`, which this module reuses.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np  # noqa: F401  (the doctests use np)
from numpy.typing import NDArray

from blender import metrics
from blender.stacking import stack


@dataclass(frozen=True, eq=False)
class HoldoutResult:
    """What :func:`holdout_blend` produced.

    Attributes
    ----------
    test_predictions : ndarray of shape (n_test, n_cols)
    cv_score : float
        The meta-learner's cross-validated score over the holdout rows.
    metric : str
    meta : str
    """

    test_predictions: NDArray
    cv_score: float
    metric: str
    meta: str


def holdout_blend(
    holdout: NDArray, y_holdout: NDArray, test: NDArray, *, kind: metrics.Kind, **options: Any
) -> HoldoutResult:
    """Fit the meta-learner on holdout predictions and truth, and predict the test rows.

    Parameters and ``options`` (``meta``, ``folds``, ``train_features``, ``test_features``,
    ``fwls``, ``quadratic``, ``logit``, ``metric``, ``random_state``) are those of
    :func:`blender.stacking.stack`, with the holdout rows in place of the OOF rows: ``holdout``
    is (n_models, n_holdout, n_cols), ``train_features`` are the holdout rows' features, and
    ``folds`` splits the holdout rows for the meta-learner's cross-validated score.

    Returns
    -------
    HoldoutResult

    See Also
    --------
    blender.stacking.stack : the same on OOF predictions.

    Examples
    --------
    >>> holdout = np.array([[0.9, 0.2, 0.8, 0.3, 0.7, 0.1], [0.7, 0.4, 0.6, 0.2, 0.9, 0.3]])[:, :, None]
    >>> result = holdout_blend(holdout, np.array([1, 0, 1, 0, 1, 0]), np.array([[[0.95]], [[0.8]]]),
    ...                        kind="binary", folds=3, random_state=0)
    >>> result.test_predictions.round(2)
    array([[0.62]])
    """
    result = stack(holdout, y_holdout, test, kind=kind, rows="holdout rows", folds_option=None, **options)
    return HoldoutResult(
        test_predictions=result.test_predictions, cv_score=result.cv_score, metric=result.metric, meta=result.meta
    )
