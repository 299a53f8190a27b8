"""Parquet wherever CSV works (issue 9 item 2): every file kind is read, written by suffix, and every
bad input gives the same message as the same data in CSV (but for the path)."""

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest
from test_io import BAD_INPUTS, GOOD

from blender import io
from blender.errors import BlendInputError


def write_parquet(path, columns: dict) -> object:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.table(columns), path)
    return path


def csv_to_parquet(text: str, path):
    """The same data as a Parquet file: ids as text, numbers as numbers, text as text, empty cells as nulls."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not text.strip():
        pq.write_table(pa.table({}), path)
        return path
    header = text.splitlines()[0].split(",")
    body = "\n".join(text.splitlines()[1:])
    if not body:
        pq.write_table(
            pa.table({name: pa.array([], pa.string() if k == 0 else pa.float64()) for k, name in enumerate(header)}),
            path,
        )
        return path
    placeholder = ",".join(f"c{k}" for k in range(len(header)))
    table = pacsv.read_csv(
        pa.py_buffer(f"{placeholder}\n{body}".encode()),
        convert_options=pacsv.ConvertOptions(
            column_types={"c0": pa.string()}, null_values=[""], strings_can_be_null=True
        ),
    )
    # Rename after reading so that a repeated name in the header survives into the Parquet schema.
    pq.write_table(table.rename_columns(header), path)
    return path


def test_reads_every_prediction_kind(tmp_path):
    binary = write_parquet(tmp_path / "b.parquet", {"id": ["1", "2"], "target": [0.25, 0.5]})
    regression = write_parquet(tmp_path / "r.parquet", {"id": [1, 2], "price": [120.5, -3.0]})
    multi_a = write_parquet(tmp_path / "m1.parquet", {"id": ["1", "2"], "B": [0.9, 0.2], "A": [0.1, 0.8]})
    multi_b = write_parquet(tmp_path / "m2.parquet", {"A": [0.3, 0.4], "id": ["2", "1"], "B": [0.7, 0.6]})
    labels = write_parquet(tmp_path / "l.parquet", {"id": ["1", "2", "3"], "label": ["007", "cat", "7"]})
    digits = write_parquet(tmp_path / "d.parquet", {"id": ["1", "2", "3"], "digit": [3, 10, 3]})

    read = io.read_predictions([binary])
    assert (read.kind, read.names, read.values.tolist()) == ("binary", ["b"], [[[0.25], [0.5]]])
    read = io.read_predictions([regression])
    assert (
        read.kind == "regression"
        and read.id_array().tolist() == ["1", "2"]
        and read.values[0, :, 0].tolist() == [120.5, -3.0]
    )
    read = io.read_predictions([multi_a, multi_b], id_column="id")
    assert read.kind == "multiclass" and read.columns == ["B", "A"]
    assert read.values[1].tolist() == [[0.6, 0.4], [0.7, 0.3]]
    read = io.read_predictions([labels])
    assert read.kind == "labels" and read.classes == ["007", "7", "cat"]
    assert read.label_strings(read.values[0]).tolist() == ["007", "cat", "7"]
    read = io.read_predictions([digits])
    assert read.kind == "labels" and read.classes == ["10", "3"]


def test_csv_and_parquet_mix(tmp_path, write_csv):
    a = write_csv("a.csv", "id,target\n1,0.1\n2,0.2\n")
    b = write_parquet(tmp_path / "b.parquet", {"id": ["2", "1"], "target": [0.9, 0.8]})
    read = io.read_predictions([a, b])
    assert read.names == ["a", "b"] and read.values[:, :, 0].tolist() == [[0.1, 0.2], [0.8, 0.9]]


def test_pandas_index_and_categorical_columns(tmp_path):
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"id": ["x", "y"], "label": pd.Categorical(["cat", "dog"])}, index=[10, 11])
    frame.to_parquet(tmp_path / "p.parquet")
    read = io.read_predictions([tmp_path / "p.parquet"])
    assert read.columns == ["label"] and read.classes == ["cat", "dog"]


def test_truth_and_learning_from_parquet(tmp_path):
    test = write_parquet(tmp_path / "nn.parquet", {"id": ["9"], "label": ["007"]})
    write_parquet(tmp_path / "oof" / "nn.parquet", {"id": ["1", "2", "3"], "label": ["007", "7", "007"]})
    truth = write_parquet(tmp_path / "truth.parquet", {"id": ["3", "2", "1"], "label": ["007", "7", "08"]})
    learning = io.read_learning([test], train_dir=tmp_path / "oof", truth=truth, command_name="score")
    assert learning.train.classes == ["007", "08", "7"]
    assert learning.y.tolist() == [1, 2, 0]


def test_numeric_truth_from_parquet(tmp_path):
    truth = write_parquet(tmp_path / "truth.parquet", {"id": [3, 1, 2], "target": [1, 0, 1]})
    assert io.read_truth(truth, pa.array(["1", "2", "3"])).tolist() == [0, 1, 1]


def test_features_from_parquet(tmp_path, write_csv):
    train = write_parquet(tmp_path / "train.parquet", {"id": ["1", "2"], "age": [30, 40], "city": ["a", "b"]})
    test = write_csv("test.csv", "id,age,city\n9,50,b\n")
    train_x, test_x, names = io.read_features(train, test, pa.array(["2", "1"]), pa.array(["9"]))
    assert names == ["age", "city_a", "city_b"]
    assert train_x.tolist() == [[40, 0, 1], [30, 1, 0]] and test_x.tolist() == [[50, 0, 1]]


@pytest.mark.parametrize("suffix", [".parquet", ".csv", ".csv.gz"])
def test_write_then_read_round_trips(tmp_path, suffix):
    ids = np.array(["007", "a,b", 'q"'], dtype=object)
    values = np.array([[0.1, 0.9], [1 / 3, 2 / 3], [0.0, 1.0]])
    path = tmp_path / f"blend{suffix}"
    with io.OutputGroup() as outputs:
        outputs.predictions(path, ids, values, columns=["B", "A"], id_column="key")
    read = io.read_predictions([path])
    assert read.names == ["blend"] and read.id_column == "key" and read.columns == ["B", "A"]
    assert read.id_array().tolist() == ids.tolist()
    assert read.values[0].tobytes() == values.tobytes()


def test_write_parquet_labels(tmp_path):
    path = tmp_path / "vote.parquet"
    io.write_predictions(path, np.array(["1", "2"]), np.array(["007", "cat"], dtype=object), columns=["label"])
    table = pq.read_table(path)
    assert table.column_names == ["id", "label"] and table.column("label").to_pylist() == ["007", "cat"]


# Every bad input gives the same message for Parquet as for CSV, but for the path. -----------------

PARQUET_BAD = {name: case for name, case in BAD_INPUTS.items() if name != "short row"}  # no short rows in Parquet
FIRST_FILE_BAD = {
    # (first file, second file): problems found in the first file, or found only by comparing the two
    "text among numbers": ("id,target\n1,0.1\n2,abc\n3,0.3\n", GOOD, None),
    "outside [0, 1] among probabilities": ("id,target\n1,0.1\n2,1.5\n3,0.3\n", GOOD, None),
    "duplicated id in the first": ("id,target\n1,0.1\n1,0.2\n3,0.3\n", GOOD, None),
    "empty label": ("id,label\n1,cat\n2,\n3,dog\n", "id,label\n1,cat\n2,cat\n3,dog\n", None),
    "missing class column": ("id,A,B\n1,0.5,0.5\n", "id,A\n1,0.5\n", None),
    "class probabilities outside [0, 1]": ("id,A,B\n1,0.5,0.5\n", "id,A,B\n1,-0.5,1.5\n", None),
    "one class column": ("id,A\n1,0.5\n", "id,A\n1,0.5\n", "multiclass"),
    "two columns as binary": ("id,A,B\n1,0.5,0.5\n", "id,A,B\n1,0.5,0.5\n", "binary"),
    "text with --task binary": ("id,target\n1,cat\n", "id,target\n1,0.5\n", "binary"),
}


def messages(make, tmp_path, files: dict[str, str], task=None) -> str:
    folder = tmp_path / make.__name__
    paths = [make(text, folder / name) for name, text in files.items()]
    with pytest.raises(BlendInputError) as error:
        io.read_predictions(paths, task=task)
    message = str(error.value)
    assert "\n" not in message
    for path in paths:
        message = message.replace(str(path), io.model_name(path))
    return message


def as_csv(text, path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode())
    return path


def as_parquet(text, path):
    return csv_to_parquet(text, path.with_name(io.model_name(path) + ".parquet"))


@pytest.mark.parametrize("case", sorted(PARQUET_BAD) + sorted(FIRST_FILE_BAD))
def test_parquet_gives_the_csv_message(tmp_path, case):
    task = None
    if case in PARQUET_BAD:
        files = {"a.csv": GOOD, **PARQUET_BAD[case][0]}
    else:
        first, second, task = FIRST_FILE_BAD[case]
        files = {"a.csv": first, "b.csv": second}
    from_csv = messages(as_csv, tmp_path, files, task)
    from_parquet = messages(as_parquet, tmp_path, files, task)
    assert from_parquet == from_csv


def test_a_file_that_is_not_parquet(tmp_path):
    path = tmp_path / "x.parquet"
    path.write_text("id,target\n1,0.5\n")
    with pytest.raises(BlendInputError, match=r"x.parquet: not a readable Parquet file \(.*\); write it again."):
        io.read_predictions([path])


@pytest.mark.parametrize(
    "truth",
    ["id,y\n1,0\n", "id,y\n1,0\n2,\n", "id,y\n1,0\n2,0\n2,1\n", "id,y,z\n1,0,1\n2,1,1\n", "id,y\n1,0\n2,nan\n"],
    ids=["missing ids", "empty target", "duplicated id", "extra column", "NaN target"],
)
def test_truth_gives_the_csv_message(tmp_path, truth):
    found = []
    for make in (as_csv, as_parquet):
        path = make(truth, tmp_path / make.__name__ / "truth.csv")
        with pytest.raises(BlendInputError) as error:
            io.read_truth(path, pa.array(["1", "2"]), source="oof/a.csv")
        found.append(str(error.value).replace(str(path), "truth"))
    assert found[0] == found[1] and found[0].startswith("truth: ")
