"""validate.check_weights and parse_weights: one row per message."""

import numpy as np
import pytest

from blender.errors import BlendInputError
from blender.validate import check_weights, parse_weights


def test_none_gives_uniform_weights():
    assert check_weights(None, 3).tolist() == [1.0, 1.0, 1.0]


def test_good_weights_come_back_as_floats():
    assert check_weights([3, 1, 0], 3).tolist() == [3.0, 1.0, 0.0]


@pytest.mark.parametrize(
    "weights, n_models, message",
    [
        ([3, 1], 3, "--weights 3,1 gives 2 weights for 3 files; give one per file, in the order the files are listed."),
        ([1, 1, 1, 1], 3, "--weights 1,1,1,1 gives 4 weights for 3 files"),
        ([1, -2, 1], 3, "--weights 1,-2,1: weights cannot be negative; use 0 to leave a file out."),
        ([0, 0, 0], 3, "--weights 0,0,0: all weights are zero; give at least one file a positive weight."),
        ([1, float("nan"), 1], 3, "every weight must be a finite number"),
        ([1, float("inf"), 1], 3, "every weight must be a finite number"),
    ],
)
def test_check_weights_errors(weights, n_models, message):
    with pytest.raises(BlendInputError) as error:
        check_weights(weights, n_models)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_parse_weights():
    assert parse_weights(None) is None
    assert parse_weights("  ") is None
    assert parse_weights("3,1,0.5").tolist() == [3.0, 1.0, 0.5]
    with pytest.raises(BlendInputError, match="weights are numbers separated by commas"):
        parse_weights("3,one,1")
