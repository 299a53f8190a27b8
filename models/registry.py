"""The zoo: every learner by name, and the aliases ``--models`` accepts.

A :class:`Learner` is a name (which becomes the file name), a builder that makes a
fresh model from a :class:`~models.problem.Problem`, the input it reads (features or
images) and the optional packages it needs.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Literal

from models import backends, classic, cnn
from models.problem import ModelsError, Problem  # noqa: F401 (ModelsError: re-exported)


@dataclass(frozen=True)
class Learner:
    """One base learner of the zoo.

    Attributes
    ----------
    name : str
        Names the output files: ``submissions/NAME.csv`` and ``submissions/oof/NAME.csv``.
    build : callable
        ``build(problem) -> model``: a fresh, unfitted model with ``fit`` and
        ``predict_proba`` (classes) or ``predict`` (regression). It must be picklable
        (a module-level function or a ``functools.partial`` of one), since the fold
        tasks may run in other processes.
    inputs : {"features", "images", "native"}, default="features"
        Which view of the data the model reads: the numeric feature matrix, the
        images, or a Kaggle folder's columns with text kept as text (``native``,
        for learners that handle categories themselves; the features elsewhere).
    requires : tuple of str, default=()
        Packages the builder imports, checked before any training starts; an entry
        ``"a or b"`` is met by either (the CNNs need Keras and one of its backends).
    has_rounds : bool, default=False
        Whether the builder trains rounds (boosting rounds, forest trees) and takes
        their share from ``problem.rounds_share``, so that a time budget can shorten it.
    """

    name: str
    build: Callable[[Problem], object]
    inputs: Literal["features", "images", "native"] = "features"
    requires: tuple[str, ...] = field(default=())
    has_rounds: bool = False


#: A requirement met by any one of the packages it names: Keras' backends (see :mod:`models.backends`).
KERAS_BACKEND = " or ".join(backends.BACKENDS)


def _cnn(name: str, make_model) -> Learner:
    return Learner(name, partial(cnn.make_cnn, make_model=make_model), "images", ("keras", KERAS_BACKEND))


#: Every learner, in the order `make oof` runs them (slow CNNs first, so the
#: parallel jobs finish together).
LEARNERS: dict[str, Learner] = {
    learner.name: learner
    for learner in [
        _cnn("cnn_convpool", cnn.make_convpool_cnn),
        _cnn("cnn_allconv", cnn.make_all_conv_cnn),
        _cnn("cnn_nin", cnn.make_nin_cnn),
        _cnn("cnn_bn", cnn.make_batchnorm_cnn),
        _cnn("cnn_separable", cnn.make_separable_cnn),
        Learner("rf_gini", partial(classic.make_forest, criterion="gini"), has_rounds=True),
        Learner("rf_entropy", partial(classic.make_forest, criterion="entropy"), has_rounds=True),
        Learner("et_gini", partial(classic.make_forest, criterion="gini", extra=True), has_rounds=True),
        Learner("et_entropy", partial(classic.make_forest, criterion="entropy", extra=True), has_rounds=True),
        # gbm stops early on its own slice (after 68 to 158 of its 300 rounds on MNIST's folds):
        # fewer rounds would save it little, so a time budget times it whole and may leave it out.
        Learner("gbm", classic.make_gradient_boosting),
        Learner("xgb", classic.make_xgboost, requires=("xgboost",), has_rounds=True),
        Learner("lgbm", classic.make_lightgbm, "native", ("lightgbm",), has_rounds=True),
        Learner("catboost", classic.make_catboost, "native", ("catboost",), has_rounds=True),
        Learner("knn_5", partial(classic.make_knn, n_neighbors=5)),
        Learner("knn_15", partial(classic.make_knn, n_neighbors=15)),
        Learner("logreg", classic.make_logistic_regression),
    ]
}

#: Family names accepted by ``--models``, each standing for several learners.
ALIASES: dict[str, list[str]] = {
    "all": list(LEARNERS),
    "cnn": [name for name in LEARNERS if name.startswith("cnn_")],
    "springenberg": ["cnn_convpool", "cnn_allconv", "cnn_nin"],
    "trees": ["rf_gini", "rf_entropy", "et_gini", "et_entropy", "gbm", "xgb", "lgbm", "catboost"],
    "boosting": ["gbm", "xgb", "lgbm", "catboost"],
    "classic": [name for name in LEARNERS if not name.startswith("cnn_")],
    "rf": ["rf_gini", "rf_entropy"],
    "et": ["et_gini", "et_entropy"],
    "knn": ["knn_5", "knn_15"],
}


def select_learners(spec: str | None, *, has_images: bool = True) -> list[Learner]:
    """The learners a ``--models`` value names, in zoo order, without repeats.

    Parameters
    ----------
    spec : str or None
        Names and aliases separated by spaces or commas (``"rf et cnn_allconv"``);
        None or empty means ``all``.
    has_images : bool, default=True
        Whether the data are images. Without images, ``all`` and the family
        aliases leave the CNNs out, and a CNN named on its own is an error.

    Returns
    -------
    list of Learner

    Raises
    ------
    ModelsError
        For an unknown name, a CNN asked for on tabular data, or a missing package.

    Examples
    --------
    >>> [learner.name for learner in select_learners("knn, logreg rf")]
    ['rf_gini', 'rf_entropy', 'knn_5', 'knn_15', 'logreg']
    """
    words = (spec or "all").replace(",", " ").split()
    chosen: set[str] = set()
    for word in words:
        if word in LEARNERS:
            if not has_images and LEARNERS[word].inputs == "images":
                raise ModelsError(
                    f"--models {word}: the CNNs need images (digits, cifar10 or an .npz of images), not a CSV folder."
                )
            chosen.add(word)
        elif word in ALIASES:
            chosen.update(name for name in ALIASES[word] if has_images or LEARNERS[name].inputs != "images")
        else:
            known = ", ".join([*LEARNERS, *ALIASES])
            raise ModelsError(f"--models: unknown model '{word}'; choose from {known}.")
    if not chosen:
        raise ModelsError(f"--models {spec}: no learner left to run on this data.")
    learners = [learner for name, learner in LEARNERS.items() if name in chosen]
    for learner in learners:
        for requirement in learner.requires:
            packages = requirement.split(" or ")
            if all(importlib.util.find_spec(package) is None for package in packages):
                named = " or ".join(f"'{package}'" for package in packages)
                raise ModelsError(f"{learner.name} needs the package {named}: pip install -e '.[models]'.")
    return learners
