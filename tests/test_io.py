"""io.read_predictions / write_predictions: kinds, alignment by id, bad-input messages, round trips."""

import gzip

import numpy as np
import pytest
from conftest import csv_text, write_text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from blender import io
from blender.errors import BlendInputError


def test_reads_three_aligned_binary_files(three_files):
    predictions = io.read_predictions(three_files)
    assert predictions.kind == "binary"
    assert predictions.names == ["lr", "rf", "knn"]
    assert predictions.id_array().tolist() == ["1", "2", "3", "4", "5"]
    assert predictions.values.shape == (3, 5, 1) and predictions.values.dtype == np.float64
    assert predictions.values[1, :, 0].tolist() == [0.2, 0.7, 0.4, 0.45, 0.9]


def test_rows_are_matched_by_id_and_keep_the_first_files_order(write_csv):
    first = write_csv("a.csv", "id,target\n3,0.3\n1,0.1\n2,0.2\n")
    second = write_csv("b.csv", "id,target\n1,0.6\n2,0.7\n3,0.8\n")
    predictions = io.read_predictions([first, second])
    assert predictions.id_array().tolist() == ["3", "1", "2"]
    assert predictions.values[:, :, 0].T.tolist() == [[0.3, 0.8], [0.1, 0.6], [0.2, 0.7]]


def test_ids_are_text(write_csv):
    path = write_csv("a.csv", "id,target\n007,0.1\n7,0.2\nNA,0.3\nnull,0.4\n")
    assert io.read_predictions([path]).id_array().tolist() == ["007", "7", "NA", "null"]


def test_kinds_are_inferred(write_csv):
    labels = write_csv("labels.csv", "id,label\n1,cat\n2,dog\n3,NA\n")
    multiclass = write_csv("multi.csv", "id,Class_1,Class_2\n1,0.2,0.8\n2,0.5,0.5\n")
    regression = write_csv("reg.csv", "id,price\n1,120.5\n2,99\n")
    integers = write_csv("ints.csv", "id,digit\n1,3\n2,7\n")
    read = io.read_predictions([labels])
    assert read.classes == ["NA", "cat", "dog"]
    assert read.values[0].tolist() == [[0, 1, 0], [0, 0, 1], [1, 0, 0]]
    assert read.label_strings(read.values[0]).tolist() == ["cat", "dog", "NA"]
    predictions = io.read_predictions([multiclass])
    assert predictions.kind == "multiclass" and predictions.values.shape == (1, 2, 2)
    assert predictions.classes == ["Class_1", "Class_2"]
    assert io.read_predictions([regression]).kind == "regression"
    assert io.read_predictions([integers]).kind == "labels"
    assert io.read_predictions([regression], task="regression").values.ravel().tolist() == [120.5, 99.0]


def test_labels_are_one_hot_over_the_sorted_union_of_every_files_labels(write_csv):
    a = write_csv("a.csv", "id,label\n1,cat\n2,dog\n")
    b = write_csv("b.csv", "id,label\n2,bird\n1,dog\n")
    predictions = io.read_predictions([a, b])
    assert predictions.classes == ["bird", "cat", "dog"]
    assert predictions.values.tolist() == [[[0, 1, 0], [0, 0, 1]], [[0, 0, 1], [1, 0, 0]]]
    assert predictions.label_strings(predictions.values).tolist() == [["cat", "dog"], ["dog", "bird"]]
    extended = io.read_predictions([a, b], classes=["ant", "cat"])
    assert extended.classes == ["ant", "bird", "cat", "dog"]
    assert extended.values[:, :, 1:].tolist() == predictions.values.tolist() and not extended.values[:, :, 0].any()


def test_gzip_input(tmp_path):
    path = tmp_path / "a.csv.gz"
    path.write_bytes(gzip.compress(b"id,target\n1,0.25\n2,0.5\n"))
    predictions = io.read_predictions([path])
    assert predictions.names == ["a"] and predictions.values.ravel().tolist() == [0.25, 0.5]


def test_byte_order_mark_is_ignored(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffid,target\n1,0.5\n".encode())
    assert io.read_predictions([path]).id_column == "id"


def test_id_option_names_a_column_other_than_the_first(write_csv):
    path = write_csv("a.csv", "target,row\n0.1,a\n0.2,b\n")
    predictions = io.read_predictions([path], id_column="row")
    assert predictions.id_array().tolist() == ["a", "b"] and predictions.columns == ["target"]


# One row per bad input: (files as {name: text}, message fragment). The first file is the reference.
GOOD = "id,target\n1,0.1\n2,0.2\n3,0.3\n"
BAD_INPUTS = {
    "missing id": (
        {"b.csv": "id,target\n1,0.1\n2,0.2\n"},
        "b.csv: 1 ids of {a} are missing (e.g. 3); every file needs the same ids.",
    ),
    "extra id": ({"b.csv": GOOD + "4,0.4\n"}, "b.csv: 1 ids are not in {a} (e.g. 4); every file needs the same ids."),
    "other id": ({"b.csv": "id,target\n1,0.1\n2,0.2\n9,0.3\n"}, "b.csv: 1 ids are not in {a} (e.g. 9)"),
    "duplicated id": (
        {"b.csv": "id,target\n1,0.1\n2,0.2\n2,0.3\n"},
        "b.csv: id 2 appears twice (rows 2 and 3); keep one row per id.",
    ),
    "missing column": ({"b.csv": "id\n1\n2\n3\n"}, "b.csv: only an id column"),
    "renamed column": (
        {"b.csv": "id,score\n1,0.1\n2,0.2\n3,0.3\n"},
        "b.csv: columns differ from {a}: expected id,target, found id,score (missing 'target'; extra 'score').",
    ),
    "extra column": (
        {"b.csv": "id,target,x\n1,0.1,1\n2,0.2,1\n3,0.3,1\n"},
        "b.csv: columns differ from {a}: expected id,target, found id,target,x (extra 'x').",
    ),
    "NaN cell": (
        {"b.csv": "id,target\n1,0.1\n2,nan\n3,0.3\n"},
        "b.csv: 1 NaN or empty cells in column 'target' (first at id 2)",
    ),
    "inf cell": (
        {"b.csv": "id,target\n1,0.1\n2,inf\n3,0.3\n"},
        "b.csv: 1 inf cells in column 'target' (first at id 2)",
    ),
    "empty cell": (
        {"b.csv": "id,target\n1,0.1\n2,\n3,0.3\n"},
        "b.csv: 1 NaN or empty cells in column 'target' (first at id 2)",
    ),
    "text cell": (
        {"b.csv": "id,target\n1,0.1\n2,high\n3,0.3\n"},
        "b.csv: non-numeric text 'high' in column 'target' at id 2",
    ),
    "outside [0, 1]": (
        {"b.csv": "id,target\n1,0.1\n2,1.07\n3,0.3\n"},
        "b.csv: 1.07 at id 2 (column 'target') is outside [0, 1]; pass --task regression",
    ),
    "empty file": ({"b.csv": ""}, "b.csv is empty; expected a header line"),
    "header only": ({"b.csv": "id,target\n"}, "b.csv is empty: a header but no rows"),
    "empty id": ({"b.csv": "id,target\n1,0.1\n,0.2\n3,0.3\n"}, "b.csv: empty id in row 2"),
    "repeated header": (
        {"b.csv": "id,target,target\n1,0.1,0.1\n"},
        "b.csv: column 'target' appears twice in the header",
    ),
    "short row": ({"b.csv": "id,target\n1,0.1\n2\n3,0.3\n"}, "b.csv: not a readable CSV"),
    "pandas index": (
        {"b.csv": ",id,target\n0,1,0.1\n1,2,0.2\n2,3,0.3\n"},
        "b.csv: columns differ from {a}: expected "
        "id,target, found id,,target (extra ''; an unnamed column is pandas' index: write the file with index=False).",
    ),
    "float ids": (
        {"b.csv": "id,target\n1.0,0.1\n2.0,0.2\n3.0,0.3\n"},
        "b.csv: 3 ids are not in {a} (e.g. 1.0, 2.0, 3.0); every "
        "file needs the same ids (ids are compared as text, and 1.0 is not 1: write them as integers).",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_INPUTS))
def test_bad_input_raises_one_line_naming_the_file(case, write_csv):
    files, fragment = BAD_INPUTS[case]
    a = write_csv("a.csv", GOOD)
    paths = [a] + [write_csv(name, text) for name, text in files.items()]
    with pytest.raises(BlendInputError) as error:
        io.read_predictions(paths)
    message = str(error.value)
    assert fragment.format(a=a) in message
    assert "\n" not in message


def test_a_first_file_with_pandas_index_is_refused_with_the_fix(write_csv):
    a = write_csv("a.csv", ",id,target\n0,1,0.1\n1,2,0.2\n")
    with pytest.raises(BlendInputError) as error:
        io.read_predictions([a, write_csv("b.csv", GOOD)])
    assert str(error.value) == (
        f"{a}: the first column has no name (pandas' index, from to_csv without index=False); "
        "write the file with index=False, or pass --id with the id column's name."
    )
    # --id names the real id column, and the index column is then refused as an extra column by name.
    with pytest.raises(BlendInputError, match="extra ''"):
        io.read_predictions([write_csv("c.csv", GOOD), a], id_column="id")


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(BlendInputError, match="nope.csv not found"):
        io.read_predictions([tmp_path / "nope.csv"])
    with pytest.raises(BlendInputError, match="is a folder"):
        io.read_predictions([tmp_path])
    with pytest.raises(BlendInputError, match="no prediction files given"):
        io.read_predictions([])


def test_same_model_name_twice(write_csv, tmp_path):
    a = write_csv("a.csv", GOOD)
    other = write_text(tmp_path / "sub" / "a.csv", GOOD)
    with pytest.raises(BlendInputError, match="the model name 'a' is also"):
        io.read_predictions([a, other])


def test_text_in_a_probability_column_with_task_binary(write_csv):
    a = write_csv("a.csv", "id,target\n1,cat\n2,0.2\n")
    with pytest.raises(BlendInputError, match="non-numeric text 'cat' in column 'target' at id 1"):
        io.read_predictions([a], task="binary")


def test_regression_accepts_values_outside_0_1(write_csv):
    a = write_csv("a.csv", GOOD)
    b = write_csv("b.csv", "id,target\n1,-3.5\n2,1.07\n3,250\n")
    assert io.read_predictions([a, b], task="regression").values[1, :, 0].tolist() == [-3.5, 1.07, 250.0]


def test_write_is_atomic_and_leaves_no_temporary_file(tmp_path):
    path = write_text(tmp_path / "out.csv", "old")
    with pytest.raises(Exception):
        io.atomic_write(path, lambda stream: (stream.write(b"half"), 1 / 0))
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_write_gzip(tmp_path):
    path = tmp_path / "out.csv.gz"
    io.write_predictions(path, np.array(["1", "2"]), np.array([0.5, 0.25]), columns=["target"])
    assert gzip.decompress(path.read_bytes()) == b"id,target\n1,0.5\n2,0.25\n"


def test_write_labels_and_multiclass(tmp_path):
    path = tmp_path / "out.csv"
    io.write_predictions(path, np.array(["1", "2"]), np.array(["cat", "a,b"], dtype=object), columns=["label"])
    assert path.read_text() == 'id,label\n"1","cat"\n"2","a,b"\n' or path.read_text() == 'id,label\n1,cat\n2,"a,b"\n'
    io.write_predictions(path, np.array(["1"]), np.array([[0.25, 0.75]]), columns=["A", "B"], id_column="key")
    assert path.read_text() == "key,A,B\n1,0.25,0.75\n"


ids_strategy = st.lists(
    st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=8).filter(lambda s: s.strip() == s),
    min_size=1,
    max_size=20,
    unique=True,
)
floats_strategy = st.floats(allow_nan=False, allow_infinity=False, width=64)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ids=ids_strategy, data=st.data())
def test_write_then_read_round_trips_ids_and_floats_bit_identically(tmp_path, ids, data):
    ids = ["007", "a,b", 'say "hi"', *ids]
    ids = list(dict.fromkeys(ids))
    values = np.array(data.draw(st.lists(floats_strategy, min_size=len(ids), max_size=len(ids))))
    path = tmp_path / "round.csv"
    io.write_predictions(path, np.array(ids, dtype=object), values, columns=["target"])
    predictions = io.read_predictions([path], task="regression")
    assert predictions.id_array().tolist() == ids
    # Bit for bit, but for the sign of a zero: -0.0 is written as -0, and a column of whole
    # numbers may read back as integers, where -0 is 0.
    read = predictions.values[0, :, 0]
    nonzero = values != 0
    assert read[nonzero].tobytes() == values[nonzero].tobytes()
    assert (read[~nonzero] == 0).all()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_shuffled_files_read_the_same_values_by_id(tmp_path, data):
    n = data.draw(st.integers(1, 15))
    ids = [f"{k:03d}" for k in range(n)]
    columns = [data.draw(st.lists(st.floats(0, 1), min_size=n, max_size=n)) for _ in range(3)]
    ordered, shuffled = [], []
    for m, column in enumerate(columns):
        rows = [[i, v] for i, v in zip(ids, column)]
        ordered.append(write_text(tmp_path / "ordered" / f"m{m}.csv", csv_text(["id", "target"], rows)))
        order = data.draw(st.permutations(range(n))) if m else range(n)
        shuffled.append(
            write_text(tmp_path / "shuffled" / f"m{m}.csv", csv_text(["id", "target"], [rows[k] for k in order]))
        )
    a, b = io.read_predictions(ordered), io.read_predictions(shuffled)
    assert a.id_array().tolist() == b.id_array().tolist() == ids
    assert a.values.tobytes() == b.values.tobytes()


ID_STYLES = {
    "dense integers": [str(k) for k in range(50)],
    "sparse integers": [str(k * 10**12 - 7) for k in range(50)],
    "negative integers": [str(k - 25) for k in range(50)],
    "text": [f"row{k}" for k in range(50)],
    "leading zeros": [f"{k:03d}" for k in range(50)],
}


@pytest.mark.parametrize("style", sorted(ID_STYLES))
def test_every_id_style_aligns_and_refuses_the_same_way(write_csv, style):
    rng = np.random.default_rng(0)
    ids = ID_STYLES[style]
    values = rng.random(len(ids)).tolist()
    order = rng.permutation(len(ids))
    a = write_csv("a.csv", csv_text(["id", "target"], [[i, v] for i, v in zip(ids, values)]))
    b = write_csv("b.csv", csv_text(["id", "target"], [[ids[k], values[k]] for k in order]))
    read = io.read_predictions([a, b])
    assert read.id_array().tolist() == ids and read.values[1, :, 0].tolist() == values

    def refused(rows, first_rows=None):
        first = write_csv("c.csv", csv_text(["id", "target"], first_rows or [[i, 0.5] for i in ids]))
        other = write_csv("d.csv", csv_text(["id", "target"], rows))
        with pytest.raises(BlendInputError) as error:
            io.read_predictions([first, other])
        return str(error.value).replace(str(first), "c").replace(str(other), "d")

    shuffled = [[ids[k], 0.5] for k in order]
    assert refused(shuffled[1:]) == f"d: 1 ids of c are missing (e.g. {ids[order[0]]}); every file needs the same ids."
    assert refused(shuffled + [["7.5", 0.5]]) == "d: 1 ids are not in c (e.g. 7.5); every file needs the same ids."
    assert (
        refused(shuffled[:-1] + [["007", 0.5]]).startswith("d: 1 ids are not in c (e.g. 007)")
        or style == "leading zeros"
    )
    repeated = shuffled[:-1] + [shuffled[0]]
    assert refused(repeated) == f"d: id {ids[order[0]]} appears twice (rows 1 and 50); keep one row per id."
    first_repeated = [[i, 0.5] for i in ids[:-1]] + [[ids[3], 0.5]]
    assert refused(shuffled, first_repeated) == f"c: id {ids[3]} appears twice (rows 4 and 50); keep one row per id."


def test_many_small_files_are_read_ahead_in_order_and_the_first_bad_one_is_reported(tmp_path):
    """Hundreds of OOF files are read a few at a time in threads: same values, same first error."""
    from blender import io
    from blender.errors import BlendInputError

    rng = np.random.default_rng(0)
    ids = [f"r{k}" for k in range(50)]
    expected = rng.uniform(size=(30, 50))
    paths = []
    for m in range(30):
        order = rng.permutation(50)
        path = tmp_path / f"m{m:02d}.csv"
        path.write_text("id,target\n" + "".join(f"{ids[k]},{float(expected[m, k])!r}\n" for k in order))
        paths.append(path)
    predictions = io.read_predictions(paths)
    position = [int(i[1:]) for i in predictions.id_array()]  # rows follow the first file's id order
    np.testing.assert_array_equal(predictions.values[:, :, 0], expected[:, position])
    paths[7].write_text("id,target\nr0,0.5\n")
    paths[20].write_text("id,target\nr0,abc\n")
    with pytest.raises(BlendInputError, match="m07.csv: 49 ids of"):
        io.read_predictions(paths)
