"""blender.outofcore: the DuckDB path equals the in-memory path, and refuses bad input with io's words."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import write_text

from blender import io, outofcore
from blender.averaging import average
from blender.errors import BlendInputError
from blender.rank import rank_average
from blender.voting import probabilities_to_votes, vote

N_ROWS = 300
WEIGHTS = [2.0, 1.0, 0.5, 0.0]


@pytest.fixture(params=["join", "group"])
def plan(request, monkeypatch):
    """Averages of a few files join them by id; of many, group every row by id: test both."""
    if request.param == "group":
        monkeypatch.setattr(outofcore, "MOST_JOINED", 0)
    return request.param


def _ids(n=N_ROWS):
    return np.array([f"{i:04d}" for i in range(n)])  # leading zeros: ids stay text


def _write(frame: pd.DataFrame, path: Path) -> Path:
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
        # The same data as CSV for io.read_predictions, which does not read Parquet on this branch yet.
        _write(frame, _twin(path))
    else:
        frame.to_csv(path, index=False, float_format="%.17g", compression="gzip" if path.suffix == ".gz" else None)
    return path


def _binary_files(tmp_path, suffixes=(".csv", ".csv.gz", ".parquet", ".csv")):
    """Four binary files, each with its ids shuffled on its own; rounded values give ties."""
    rng = np.random.default_rng(0)
    ids = _ids()
    paths = []
    for j, suffix in enumerate(suffixes):
        order = rng.permutation(N_ROWS)
        values = np.round(rng.random(N_ROWS), 2)
        values[:5] = [0.0, 1.0, 0.5, 0.5, 0.25]  # a zero for the clipped geometric mean, 0.5 for the vote
        frame = pd.DataFrame({"id": ids[order], "target": values[order]})
        paths.append(_write(frame, tmp_path / f"m{j}{suffix}"))
    return paths


def _multiclass_files(tmp_path):
    """Three class-probability files; the second and third list the classes in another order."""
    rng = np.random.default_rng(1)
    ids = _ids()
    classes = ["cat", "dog", "bird"]
    paths = []
    for j, (suffix, order_of_columns) in enumerate(((".csv", [0, 1, 2]), (".parquet", [2, 0, 1]), (".csv", [1, 2, 0]))):
        raw = np.round(rng.dirichlet(np.ones(3), N_ROWS), 3)
        raw[:3] = [[0.5, 0.5, 0.0], [1 / 3, 1 / 3, 1 / 3], [0.2, 0.4, 0.4]]  # argmax ties
        order = rng.permutation(N_ROWS)
        frame = pd.DataFrame({"id": ids[order], **{classes[k]: raw[order, k] for k in order_of_columns}})
        paths.append(_write(frame, tmp_path / f"p{j}{suffix}"))
    return paths


def _read_output(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    return pd.read_csv(path, dtype={"id": str}, keep_default_na=False)


def _twin(path: Path) -> Path:
    (path.parent / "twins").mkdir(exist_ok=True)
    return path.parent / "twins" / (path.stem + ".csv")


def _in_memory(paths):
    predictions = io.read_predictions([_twin(p) if p.suffix == ".parquet" else p for p in paths])
    return predictions, predictions.id_array().tolist()


@pytest.mark.parametrize(
    "mean, power", [("arithmetic", None), ("geometric", None), ("harmonic", None), ("power", 2.0), ("power", -0.5)]
)
def test_binary_average_equals_the_in_memory_path(tmp_path, mean, power, plan):
    paths = _binary_files(tmp_path)
    predictions, ids = _in_memory(paths)
    expected = average(predictions.values, kind=mean, power=power, weights=np.array(WEIGHTS))[:, 0]
    out = tmp_path / "out.csv"
    result = outofcore.blend_out_of_core(paths, out, method="average", mean=mean, power=power, weights=WEIGHTS)
    got = _read_output(out)
    assert result.kind == "binary" and result.n_rows == N_ROWS
    assert list(got.columns) == ["id", "target"]
    assert got["id"].tolist() == ids
    np.testing.assert_allclose(got["target"].to_numpy(), expected, rtol=0, atol=1e-12)


def test_binary_rank_average_equals_the_in_memory_path(tmp_path, plan):
    paths = _binary_files(tmp_path)
    predictions, ids = _in_memory(paths)
    expected = rank_average(predictions.values, weights=np.array(WEIGHTS))[:, 0]
    out = tmp_path / "out.parquet"
    outofcore.blend_out_of_core(paths, out, method="rank-average", weights=WEIGHTS)
    got = _read_output(out)
    assert got["id"].tolist() == ids
    np.testing.assert_allclose(got["target"].to_numpy(), expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("weights", [None, [1.0, 1.0, 2.0, 0.0], [0.5, 0.5, 1.0, 1.0]])
def test_binary_vote_equals_the_in_memory_path(tmp_path, weights):
    paths = _binary_files(tmp_path)
    predictions, ids = _in_memory(paths)
    expected = vote(probabilities_to_votes(predictions.values), weights=None if weights is None else np.array(weights))
    out = tmp_path / "out.csv"
    outofcore.blend_out_of_core(paths, out, method="vote", weights=weights)
    got = _read_output(out)
    assert got["id"].tolist() == ids
    assert got["target"].tolist() == expected.tolist()


@pytest.mark.parametrize("mean", ["arithmetic", "geometric", "harmonic"])
def test_multiclass_average_matches_columns_by_name(tmp_path, mean, plan):
    paths = _multiclass_files(tmp_path)
    predictions, ids = _in_memory(paths)
    weights = [1.0, 3.0, 0.5]
    expected = average(predictions.values, kind=mean, weights=np.array(weights))
    out = tmp_path / "out.csv"
    result = outofcore.blend_out_of_core(paths, out, method="average", mean=mean, weights=weights)
    got = _read_output(out)
    assert result.kind == "multiclass" and result.columns == ["cat", "dog", "bird"]
    assert list(got.columns) == ["id", "cat", "dog", "bird"]
    assert got["id"].tolist() == ids
    np.testing.assert_allclose(got[["cat", "dog", "bird"]].to_numpy(), expected, rtol=0, atol=1e-12)


def test_multiclass_rank_average_and_vote_equal_the_in_memory_path(tmp_path, plan):
    paths = _multiclass_files(tmp_path)
    predictions, ids = _in_memory(paths)
    weights = np.array([1.0, 1.0, 1.0])
    out = tmp_path / "rank.csv"
    outofcore.blend_out_of_core(paths, out, method="rank-average")
    np.testing.assert_allclose(
        _read_output(out)[["cat", "dog", "bird"]].to_numpy(),
        rank_average(predictions.values, weights=weights),
        rtol=0,
        atol=1e-12,
    )
    winners = vote(probabilities_to_votes(predictions.values), weights=weights)
    expected = np.zeros((N_ROWS, 3), dtype=np.int64)
    expected[np.arange(N_ROWS), winners] = 1
    out = tmp_path / "vote.csv"
    outofcore.blend_out_of_core(paths, out, method="vote")
    got = _read_output(out)
    assert got["id"].tolist() == ids
    assert got[["cat", "dog", "bird"]].to_numpy().tolist() == expected.tolist()


@pytest.mark.parametrize("weights", [None, [1.0, 2.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0 + 1e-9]])
def test_label_vote_is_byte_identical_to_the_in_memory_path(tmp_path, weights):
    rng = np.random.default_rng(2)
    ids = _ids()
    labels = np.array(["007", "7", "cat", "NA"])  # text stays text
    paths = []
    for j in range(4):
        order = rng.permutation(N_ROWS)
        frame = pd.DataFrame({"id": ids[order], "label": labels[rng.integers(0, 4, N_ROWS)][order]})
        paths.append(_write(frame, tmp_path / f"l{j}.csv"))
    predictions, _ = _in_memory(paths)
    winners = vote(predictions.values, weights=None if weights is None else np.array(weights))
    reference = tmp_path / "reference.csv"
    io.write_predictions(
        reference,
        predictions.ids,
        np.asarray(predictions.classes, dtype=object)[winners],
        columns=predictions.columns,
        id_column=predictions.id_column,
    )
    out = tmp_path / "out.csv"
    result = outofcore.blend_out_of_core(paths, out, method="vote", weights=weights)
    assert result.kind == "labels"
    assert out.read_bytes() == reference.read_bytes()


def test_regression_average_and_the_output_is_written_atomically(tmp_path):
    rng = np.random.default_rng(3)
    ids = _ids()
    paths = []
    for j in range(2):
        order = rng.permutation(N_ROWS)
        paths.append(
            _write(
                pd.DataFrame({"id": ids[order], "y": (rng.normal(size=N_ROWS) * 100)[order]}), tmp_path / f"r{j}.csv"
            )
        )
    predictions, ids_in_order = _in_memory(paths)
    out = write_text(tmp_path / "out" / "blend.csv.gz", "previous")
    result = outofcore.blend_out_of_core(paths, out, method="average", weights=[3, 1])
    assert result.kind == "regression"
    got = pd.read_csv(out, dtype={"id": str})
    assert got["id"].tolist() == ids_in_order
    np.testing.assert_allclose(
        got["y"].to_numpy(), average(predictions.values, weights=np.array([3.0, 1.0]))[:, 0], rtol=0, atol=1e-12
    )
    assert [p.name for p in out.parent.iterdir()] == ["blend.csv.gz"]  # no temporary file left
    with pytest.raises(BlendInputError, match="needs positive values"):
        outofcore.blend_out_of_core(paths, out, method="average", mean="geometric")


@pytest.mark.parametrize("power", [0.5, 2.0, 3.0])
def test_a_power_mean_of_negative_values_is_refused_in_memory_and_out_of_core_alike(tmp_path, power):
    # (-2) ** 0.5 is not real: the power mean used to write NaN and exit 0 where --kind geometric refused.
    from blender.averaging import check_mean_inputs

    paths = [
        write_text(tmp_path / "a.csv", "id,y\n1,3.5\n2,-2.5\n"),
        write_text(tmp_path / "b.csv", "id,y\n1,1.5\n2,2.5\n"),
    ]
    message = (
        f"a.csv: -2.5 at id 2 (column 'y') is negative, and the power (p={power:g}) mean needs values of 0 or more"
    )
    predictions, _ = _in_memory(paths)
    with pytest.raises(BlendInputError, match=re.escape(message)):
        check_mean_inputs(predictions, mean="power", power=power)
    with pytest.raises(BlendInputError, match=re.escape(message)):
        outofcore.blend_out_of_core(paths, tmp_path / "out.csv", method="average", mean="power", power=power)
    check_mean_inputs(predictions, mean="arithmetic", power=None)  # the plain mean takes any number


# ---------------------------------------------------------------------------- bad input: io's words


def _good(write, name, rows):
    return write(name, "id,target\n" + "".join(f"{i},{v}\n" for i, v in rows))


BAD_CASES = {
    "missing id": ("id,target\n1,0.5\n2,0.5\n", "ids of"),
    "extra id": ("id,target\n1,0.5\n2,0.5\n3,0.5\n4,0.5\n", "are not in"),
    "another id": ("id,target\n1,0.5\n2,0.5\n4,0.5\n", "are not in"),
    "duplicated id": ("id,target\n1,0.5\n2,0.5\n2,0.6\n3,0.5\n", "appears twice"),
    "NaN cell": ("id,target\n1,0.5\n2,nan\n3,0.5\n", "NaN or empty cells"),
    "empty cell": ("id,target\n1,0.5\n2,\n3,0.5\n", "NaN or empty cells"),
    "outside [0, 1]": ("id,target\n1,0.5\n2,1.5\n3,0.5\n", "outside [0, 1]"),
    "text": ("id,target\n1,0.5\n2,abc\n3,0.5\n", "non-numeric text"),
    "empty id": ("id,target\n1,0.5\n,0.2\n3,0.5\n", "empty id"),
    "other columns": ("id,score\n1,0.5\n2,0.5\n3,0.5\n", "columns differ"),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_input_gives_the_same_one_line_error_as_io(write_csv, tmp_path, case, plan):
    text, fragment = BAD_CASES[case]
    first = write_csv("a.csv", "id,target\n3,0.1\n1,0.2\n2,0.3\n")
    bad = write_csv("b.csv", text)
    with pytest.raises(BlendInputError) as in_memory:
        io.read_predictions([first, bad], task="binary")
    with pytest.raises(BlendInputError) as out_of_core:
        outofcore.blend_out_of_core([first, bad], tmp_path / "out.csv", method="average", kind="binary")
    message = str(out_of_core.value)
    assert message == str(in_memory.value)
    assert fragment in message and str(bad) in message and "\n" not in message
    assert not (tmp_path / "out.csv").exists()


def test_bad_parquet_input_names_the_file(tmp_path):
    first = _write(pd.DataFrame({"id": ["1", "2", "3"], "target": [0.1, 0.2, 0.3]}), tmp_path / "a.csv")
    bad = _write(pd.DataFrame({"id": ["1", "2", "2"], "target": [0.1, float("nan"), 0.3]}), tmp_path / "b.parquet")
    with pytest.raises(BlendInputError, match=r"b\.parquet: 1 NaN or empty cells in column 'target' \(first at id 2\)"):
        outofcore.blend_out_of_core([first, bad], tmp_path / "out.csv", method="vote")
    missing = _write(pd.DataFrame({"id": ["1", "3"], "target": [0.1, 0.3]}), tmp_path / "c.parquet")
    with pytest.raises(BlendInputError, match=r"c\.parquet: 1 ids of .*a\.csv are missing \(e\.g\. 2\)"):
        outofcore.blend_out_of_core([first, missing], tmp_path / "out.csv", method="rank-average")


def test_needs_out_of_core_estimates_from_file_sizes(tmp_path):
    path = write_text(tmp_path / "a.csv", "id,target\n" + "1,0.5\n" * 1000)  # 6,010 bytes of CSV
    assert outofcore.needs_out_of_core([path], "10kB") is False
    assert outofcore.needs_out_of_core([path], "5kB") is True
    assert outofcore.parse_memory("2GB") == 2_000_000_000
    with pytest.raises(BlendInputError, match="--memory lots"):
        outofcore.parse_memory("lots")


def test_a_repeated_id_is_found_when_another_file_lacks_it(write_csv, tmp_path, plan):
    """Id 2 comes three times from three files, but twice from b and never from c."""
    first = write_csv("a.csv", "id,target\n1,0.1\n2,0.2\n3,0.3\n")
    repeated = write_csv("b.csv", "id,target\n1,0.1\n2,0.2\n2,0.2\n3,0.3\n")
    lacking = write_csv("c.csv", "id,target\n1,0.1\n3,0.3\n")
    with pytest.raises(BlendInputError) as in_memory:
        io.read_predictions([first, repeated, lacking])
    with pytest.raises(BlendInputError) as out_of_core:
        outofcore.blend_out_of_core([first, repeated, lacking], tmp_path / "out.csv", method="average")
    assert str(out_of_core.value) == str(in_memory.value)
    assert "b.csv: id 2 appears twice (rows 2 and 3)" in str(out_of_core.value)


def test_more_than_63_files_use_the_wide_file_mask(write_csv, tmp_path):
    """Past 63 files the files an id came from are a bit string, not a 64-bit mask."""
    paths = [write_csv(f"m{j:02d}.csv", "id,target\n1,0.1\n2,0.2\n3,0.3\n") for j in range(70)]
    outofcore.blend_out_of_core(paths, tmp_path / "out.csv", method="average")
    assert (tmp_path / "out.csv").read_text() == "id,target\n1,0.1\n2,0.2\n3,0.3\n"
    paths[40] = write_csv("m40.csv", "id,target\n1,0.1\n2,0.2\n2,0.2\n3,0.3\n")
    paths[41] = write_csv("m41.csv", "id,target\n1,0.1\n3,0.3\n")
    with pytest.raises(BlendInputError, match=r"m40\.csv: id 2 appears twice \(rows 2 and 3\)"):
        outofcore.blend_out_of_core(paths, tmp_path / "out.csv", method="average")


def test_a_budget_duckdb_cannot_work_in_is_a_user_error(three_files, tmp_path, monkeypatch):
    import duckdb

    def out_of_memory(*args, **kwargs):
        raise duckdb.OutOfMemoryException("Out of Memory Error: could not allocate block of size 256.0 KiB")

    monkeypatch.setattr(outofcore, "_blend", out_of_memory)
    with pytest.raises(
        BlendInputError, match=r"^--memory 300MB is too small for these files .*e\.g\. --memory 0\.6GB\.$"
    ):
        outofcore.blend_out_of_core(three_files, tmp_path / "out.csv", method="average", memory_limit="300MB")


def test_a_repeated_id_in_the_first_file_is_found_when_another_has_an_extra_one(write_csv, tmp_path, plan):
    """Joined to the first file's rows, b matches both rows of id 2 and its extra id 4 finds none."""
    first = write_csv("a.csv", "id,target\n1,0.1\n2,0.2\n2,0.2\n")
    extra = write_csv("b.csv", "id,target\n1,0.1\n2,0.2\n4,0.3\n")
    with pytest.raises(BlendInputError) as in_memory:
        io.read_predictions([first, extra])
    with pytest.raises(BlendInputError) as out_of_core:
        outofcore.blend_out_of_core([first, extra], tmp_path / "out.csv", method="rank-average")
    assert str(out_of_core.value) == str(in_memory.value)
    assert "a.csv: id 2 appears twice (rows 2 and 3)" in str(out_of_core.value)
