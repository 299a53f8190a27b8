"""blender: Kaggle-style ensembling of prediction files.

``blender.blend(method, oof, test, y, ...)`` runs one blend method on DataFrames and
``blender.auto(oof, test, y, ...)`` picks the blend to submit (:mod:`blender.api`), as the
``blend`` command (:mod:`blender.cli`) does on files. The methods are pure functions over numpy
arrays; ``blender.io`` reads and writes the files.
"""

from blender.api import Result, Score, auto, blend
from blender.averaging import average
from blender.caruana import caruana_select
from blender.correlation import correlation_matrix, label_agreement
from blender.errors import BlendInputError
from blender.hillclimb import HillClimbResult, hill_climb
from blender.rank import historical_rank_average, rank_average
from blender.voting import probabilities_to_votes, vote

__all__ = [
    "BlendInputError",
    "Result",
    "Score",
    "auto",
    "blend",
    "HillClimbResult",
    "caruana_select",
    "hill_climb",
    "average",
    "correlation_matrix",
    "historical_rank_average",
    "label_agreement",
    "probabilities_to_votes",
    "rank_average",
    "vote",
]
