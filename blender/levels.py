"""Levels: a whole second level of blends as one registry entry (``level2-hill-climb``).

:func:`fit_level2` cross-fits cheap stackers and the mean (:data:`LEVEL2_MEMBERS`) on inner folds
of the rows it is given, then fits hill climbing over their OOF predictions. ``blend auto``
scores it beside the level-1 entries and, by its nested estimate, decides whether a second
level pays.

The evaluation helpers of levels live in :mod:`blender.evaluation`: a blend's own OOF
predictions are cross-fitted on the shared folds with the last fold kept aside, the **slice**
(:func:`blender.evaluation.level_splits`), so that no blend written this way has seen the slice's
truth at any level, and its score there (:func:`blender.evaluation.slice_estimate`) is an honest
estimate at every level, where the same-fold CV score is flattered from level 2 on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from blender import layout, metrics

if TYPE_CHECKING:
    from blender.methods import Fitted, Method

# Level 2 of ``level2-hill-climb``: cheap linear stackers and the plain mean, each cross-fitted on
# these many inner folds of the rows it is fitted on. (A logistic regression on log-odds was
# dropped: on MNIST-5k's 11 files it took 3.5x the plain one's time and scored 0.33 against 0.14.)
# Three inner folds: inside auto's nested estimate this pipeline is fitted about 30 times.
LEVEL2_MEMBERS = ("stack-logreg", "stack-ridge", "average")
INNER_FOLDS = 3


def level2_members(kind: str) -> tuple[str, ...]:
    """The level-2 entries on ``kind`` files: :data:`LEVEL2_MEMBERS`, with ``stack-linear`` (what the linear
    stacker fits on regression files) for ``stack-logreg`` on regression.

    >>> level2_members("regression")
    ('stack-linear', 'stack-ridge', 'average')
    """
    return tuple("stack-linear" if kind == "regression" and name == "stack-logreg" else name for name in LEVEL2_MEMBERS)


@dataclass(frozen=True, eq=False)
class LevelTwo:
    """Level-2 blends fitted on every row, and the level-3 blend fitted on their cross-fitted OOF predictions."""

    members: tuple[Fitted, ...]
    names: tuple[str, ...]
    combiner: Fitted

    @property
    def details(self) -> dict:
        return {"members": self.names, "weights": getattr(self.combiner, "weights", None)}

    def apply(self, values: NDArray) -> NDArray[np.float64]:
        return self.combiner.apply(np.stack([member.apply(values) for member in self.members]))


@dataclass(frozen=True, eq=False)
class EqualMean:
    """The plain mean of the level-2 blends, where too few rows leave none to learn weights from."""

    def apply(self, values: NDArray) -> NDArray[np.float64]:
        return np.mean(values, axis=0)


def fit_level2(
    values: NDArray,
    y: NDArray,
    members: dict[str, Method],
    combine: Method,
    *,
    kind: metrics.Kind,
    metric: str | None = None,
    random_state: int | None = None,
) -> LevelTwo:
    """Two levels fitted on these rows: ``members`` cross-fitted on inner folds, then ``combine`` over their OOF.

    ``members`` maps each level-2 blend's name to its registry entry (:data:`LEVEL2_MEMBERS`) and
    ``combine`` is the level-3 entry; each is fitted with ``kind``, ``metric`` and ``random_state``
    by :func:`blender.methods.fit`, and cross-fitted by :func:`blender.evaluation.cross_fit`, as
    every entry is. The inner folds split only the rows given, so inside an outer CV fold or a
    cross-fit the whole pipeline stays on that fold's training rows.
    """
    from blender.evaluation import cross_fit, shared_fit
    from blender.methods import fit

    y = np.asarray(y)
    options: dict[str, Any] = {"kind": kind, "metric": metric, "random_state": random_state}
    # Fewer inner folds where the rows are few (a fold needs rows of the largest class); with
    # fewer than 2, the stackers have no OOF predictions to learn from, and are averaged.
    folds = min(INNER_FOLDS, y.shape[0] if kind == "regression" else int(np.unique(y, return_counts=True)[1].max()))
    top: Fitted
    if folds < 2:
        top = EqualMean()
    else:
        splits = layout.cv_folds(y, kind=kind, folds=folds, random_state=random_state, option=None)
        level2 = np.stack([cross_fit(entry, values, y, splits, **options) for entry in members.values()])
        top = fit(combine, level2, y, **options)
    return LevelTwo(tuple(shared_fit(entry, values, y, **options) for entry in members.values()), tuple(members), top)
