"""io.read_learning: pairing test files with OOF files, the truth in the OOF rows' order, y per kind."""

import numpy as np
import pytest

from blender import io
from blender.errors import BlendInputError


@pytest.fixture
def layout(tmp_path, write_csv):
    """write(kind files) -> (test paths, oof dir, truth path)."""

    def write(test: dict[str, str], oof: dict[str, str], truth: str):
        tests = [write_csv(name, text) for name, text in test.items()]
        for name, text in oof.items():
            write_csv(f"oof/{name}", text)
        return tests, tmp_path / "oof", write_csv("truth.csv", truth)

    return write


def test_binary_y_follows_the_oof_rows_not_the_truth_order(layout):
    tests, oof, truth = layout(
        {"a.csv": "id,target\n9,0.5\n", "b.csv": "id,target\n9,0.4\n"},
        {"a.csv": "id,target\n1,0.1\n2,0.9\n3,0.8\n", "b.csv": "id,target\n3,0.7\n2,0.6\n1,0.2\n"},
        "id,target\n3,1\n1,0\n2,1\n4,0\n",
    )
    learning = io.read_learning(tests, train_dir=oof, truth=truth, command_name="caruana")
    assert learning.truth_path == truth
    assert learning.train.names == learning.test.names == ["a", "b"]
    assert learning.train.id_array().tolist() == ["1", "2", "3"]
    assert learning.y.tolist() == [0, 1, 1] and learning.y.dtype == np.int64
    assert learning.train.values[:, :, 0].tolist() == [[0.1, 0.9, 0.8], [0.2, 0.6, 0.7]]


def test_regression_y_is_float(layout):
    tests, oof, truth = layout(
        {"a.csv": "id,price\n9,15.5\n"},
        {"a.csv": "id,price\n1,10.5\n2,20\n"},
        "id,price\n2,19.25\n1,11\n",
    )
    learning = io.read_learning(tests, train_dir=oof, truth=truth, task="regression", command_name="weights")
    assert learning.y.dtype == np.float64 and learning.y.tolist() == [11.0, 19.25]


def test_labels_share_one_class_list_with_truth_only_labels(layout):
    tests, oof, truth = layout(
        {"a.csv": "id,label\n9,cat\n8,emu\n"},
        {"a.csv": "id,label\n1,cat\n2,dog\n3,cat\n"},
        "id,label\n1,cat\n2,bird\n3,dog\n",
    )
    learning = io.read_learning(tests, train_dir=oof, truth=truth, command_name="stack")
    assert learning.test.classes == learning.train.classes == ["bird", "cat", "dog", "emu"]
    assert learning.y.tolist() == [1, 0, 2]
    assert learning.train.values[0].tolist() == [[0, 1, 0, 0], [0, 0, 1, 0], [0, 1, 0, 0]]
    assert learning.test.values[0].tolist() == [[0, 1, 0, 0], [0, 0, 0, 1]]


@pytest.mark.parametrize("name", ["a.csv", "a.csv.gz", "a.parquet"])
def test_a_missing_oof_file_names_the_command_and_the_fix(layout, tmp_path, name):
    import gzip

    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / name
    if name.endswith(".gz"):
        path.write_bytes(gzip.compress(b"id,target\n1,0.5\n"))
    elif name.endswith(".parquet"):
        pq.write_table(pa.table({"id": ["1"], "target": [0.5]}), path)
    else:
        path.write_text("id,target\n1,0.5\n")
    (tmp_path / "holdout").mkdir()
    with pytest.raises(BlendInputError) as error:
        io.read_learning(
            [path],
            train_dir=tmp_path / "holdout",
            truth=tmp_path / "t.csv",
            command_name="holdout",
            role="holdout",
            make_target="make holdout",
            dir_option="--holdout-dir",
        )
    assert str(error.value) == (
        f"{tmp_path / 'holdout' / name} not found: holdout learns from holdout predictions "
        "(run make holdout, or pass --holdout-dir)."
    )


def test_oof_columns_must_match_the_test_files(layout):
    tests, oof, truth = layout(
        {"a.csv": "id,A,B\n9,0.5,0.5\n"},
        {"a.csv": "id,A,C\n1,0.5,0.5\n"},
        "id,y\n1,A\n",
    )
    with pytest.raises(BlendInputError, match=r"oof/a.csv: columns differ from .*a.csv: expected id,A,B, found id,A,C"):
        io.read_learning(tests, train_dir=oof, truth=truth, command_name="score")


def test_truth_must_cover_the_oof_ids(layout):
    tests, oof, truth = layout({"a.csv": "id,target\n9,0.5\n"}, {"a.csv": "id,target\n1,0.5\n2,0.5\n"}, "id,y\n1,0\n")
    with pytest.raises(BlendInputError, match=r"truth.csv: 1 ids of .*oof/a.csv have no truth \(e.g. 2\)"):
        io.read_learning(tests, train_dir=oof, truth=truth, command_name="score")


def test_progress_is_called_for_each_file(layout):
    tests, oof, truth = layout(
        {"a.csv": "id,target\n9,0.5\n", "b.csv": "id,target\n9,0.4\n"},
        {"a.csv": "id,target\n1,0.1\n", "b.csv": "id,target\n1,0.2\n"},
        "id,target\n1,1\n",
    )
    calls = []
    io.read_learning(tests, train_dir=oof, truth=truth, command_name="score", progress=lambda *a: calls.append(a[:2]))
    assert calls == [(1, 2), (2, 2)] * 2


def test_progress_every_tenth_of_many_files_once_a_second_has_passed(write_csv):
    from blender.progress import Ticker

    paths = [write_csv(f"m{k:02d}.csv", "id,target\n1,0.5\n") for k in range(40)]
    lines = []
    io.read_predictions(paths, progress=Ticker("read", say=lines.append, live=False, delay=0.0))
    assert [line.split(":")[0] for line in lines] == [f"read {4 * k}/40 files" for k in range(1, 11)]
    quick = []
    io.read_predictions(paths, progress=Ticker("read", say=quick.append, live=False, delay=60.0))
    assert quick == []  # work shorter than the delay shows nothing
