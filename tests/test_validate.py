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


# encode_truth: every branch, by hand.
from blender.validate import encode_truth  # noqa: E402

ENCODE = [
    ("binary 0/1", np.array([1, 0, 1]), "binary", ["target"], None, [1, 0, 1]),
    ("binary 0.0/1.0", np.array([1.0, 0.0]), "binary", ["target"], None, [1, 0]),
    ("binary True/False", np.array(["True", "false"], dtype=object), "binary", ["target"], None, [1, 0]),
    ("binary named", np.array(["pos", "neg", "pos"], dtype=object), "binary", ["pos"], None, [1, 0, 1]),
    ("multiclass by name", np.array(["B", "A", "C"], dtype=object), "multiclass", ["C", "A", "B"], None, [2, 1, 0]),
    ("multiclass ints", np.array([3, 1]), "multiclass", ["1", "3"], None, [1, 0]),
    ("multiclass text 3.0", np.array(["3.0", "1"], dtype=object), "multiclass", ["1", "3"], None, [1, 0]),
    ("labels into classes", np.array(["007", "7"], dtype=object), "labels", ["label"], ["007", "08", "7"], [0, 2]),
    ("labels sorted when no classes", np.array(["b", "a", "b"], dtype=object), "labels", ["label"], None, [1, 0, 1]),
    ("regression", np.array([1, 2]), "regression", ["y"], None, [1.0, 2.0]),
]


@pytest.mark.parametrize("case", ENCODE, ids=[case[0] for case in ENCODE])
def test_encode_truth(case):
    _, raw, kind, columns, classes, expected = case
    y = encode_truth(raw, kind=kind, columns=columns, classes=classes, truth_path="t.csv", reference_path="a.csv")
    assert y.tolist() == expected
    assert y.dtype == (np.float64 if kind == "regression" else np.int64)


@pytest.mark.parametrize(
    "raw, kind, columns, message",
    [
        (
            np.array(["a", "b"], dtype=object),
            "regression",
            ["y"],
            "t.csv: regression needs a numeric target, found text such as 'a'.",
        ),
        (
            np.array(["D"], dtype=object),
            "multiclass",
            ["A", "B"],
            "t.csv: label 'D' has no column in a.csv (columns A,B)",
        ),
        (
            np.array([0, 1, 2]),
            "binary",
            ["target"],
            "t.csv: 3 labels (0, 1, 2) against the one probability column of a.csv; "
            "a binary target has two labels; pass --task regression for a numeric target.",
        ),
        (
            np.array(["a", "b", "c"], dtype=object),
            "binary",
            ["target"],
            "t.csv: 3 labels (a, b, c) against the one "
            "probability column of a.csv; a binary target has two labels; "
            "for 3 classes, write one probability column per "
            "class (id,a,b,c).",
        ),
        (
            np.array(["Yes", "Yes"], dtype=object),
            "binary",
            ["target"],
            "t.csv: every row holds the label Yes, so the positive class is unknown; pass --positive LABEL.",
        ),
        (
            np.array([0.5, 1.0]),
            "binary",
            ["target"],
            "t.csv: the target holds fractional numbers; pass --task regression",
        ),
    ],
)
def test_encode_truth_errors(raw, kind, columns, message):
    with pytest.raises(BlendInputError) as error:
        encode_truth(raw, kind=kind, columns=columns, truth_path="t.csv", reference_path="a.csv")
    assert message in str(error.value) and "\n" not in str(error.value)
