"""The model zoo: base learners that share one set of folds and write the files ``blend`` reads.

Keras (on TensorFlow, JAX or PyTorch) and XGBoost are imported only when a learner that needs them runs,
so ``import models`` and the scikit-learn learners stay light.
"""

import os

# TensorFlow reads this when it is imported; set it first so its C++ logging stays quiet.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from models.data import DataError, Dataset, load_dataset  # noqa: E402
from models.oof import LearnerResult, assign_folds, run_holdout, run_oof, score  # noqa: E402
from models.problem import Problem  # noqa: E402
from models.registry import ALIASES, LEARNERS, Learner, ModelsError, select_learners  # noqa: E402

__all__ = [
    "ALIASES",
    "LEARNERS",
    "DataError",
    "Dataset",
    "Learner",
    "LearnerResult",
    "ModelsError",
    "Problem",
    "assign_folds",
    "load_dataset",
    "run_holdout",
    "run_oof",
    "score",
    "select_learners",
]
