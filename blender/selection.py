"""Correlation-aware model selection: the best models that are not near-copies of each other."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def select_uncorrelated(
    model_scores: NDArray[np.float64],
    corr: NDArray[np.float64],
    *,
    greater_is_better: bool,
    max_corr: float = 0.95,
    top: int | None = None,
) -> list[int]:
    """Pick the best model, then each next-best model not too correlated with those picked.

    Models are ranked by score (a tie keeps file order). The best is taken; each next
    one is added only if its correlation with every model already chosen is strictly
    below ``max_corr``. The signed correlation is compared, not its absolute value: a
    model that disagrees with the chosen ones (negative correlation) is the diversity
    a blend wants. A NaN correlation (a constant column) counts as too correlated.

    Parameters
    ----------
    model_scores : ndarray of shape (n_models,)
        Each model's OOF score.
    corr : ndarray of shape (n_models, n_models)
        Correlation of the models' predictions, e.g. from
        :func:`blender.correlation.correlation_matrix`.
    greater_is_better : bool
        True for accuracy and AUC, False for losses.
    max_corr : float, default=0.95
    top : int, default=None
        Stop after this many models; None means no limit.

    Returns
    -------
    list of int
        Indices of the chosen models, best first.

    Raises
    ------
    ValueError
        If the shapes disagree, a score is NaN, or ``top`` is below 1.

    Examples
    --------
    Models 0 and 1 are near-copies, so the second-best is skipped:

    >>> corr = np.array([[1.0, 0.99, 0.5], [0.99, 1.0, 0.6], [0.5, 0.6, 1.0]])
    >>> select_uncorrelated(np.array([0.9, 0.89, 0.8]), corr, greater_is_better=True)
    [0, 2]
    """
    model_scores = np.asarray(model_scores, dtype=np.float64)
    corr = np.asarray(corr, dtype=np.float64)
    n_models = model_scores.shape[0]
    if model_scores.ndim != 1 or n_models == 0:
        raise ValueError(f"model_scores must be a non-empty vector, got shape {model_scores.shape}")
    if corr.shape != (n_models, n_models):
        raise ValueError(
            f"corr has shape {corr.shape} but there are {n_models} model scores; expected ({n_models}, {n_models})"
        )
    if np.any(np.isnan(model_scores)):
        raise ValueError(f"model score {int(np.flatnonzero(np.isnan(model_scores))[0])} is NaN")
    if top is not None and top < 1:
        raise ValueError(f"top must be at least 1, got {top}")
    ranked = np.argsort(-model_scores if greater_is_better else model_scores, kind="stable")
    chosen: list[int] = []
    for model in ranked:
        if top is not None and len(chosen) >= top:
            break
        # NaN < max_corr is False, so a NaN correlation keeps the model out.
        if all(corr[model, other] < max_corr for other in chosen):
            chosen.append(int(model))
    return chosen
