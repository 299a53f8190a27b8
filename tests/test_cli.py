"""blend vote / average / rank-average / corr, in-process: outputs, bad input, invariants through the CLI."""

import gzip

import numpy as np
import pandas as pd
import pytest
from conftest import THREE_BINARY, csv_text, write_text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

COMMANDS = ["vote", "average", "rank-average", "corr"]
BLENDING = ["vote", "average", "rank-average"]
PREVIOUS = b"id,target\nprevious,0.5\n"


def read_csv(path):
    return pd.read_csv(path, dtype={"id": str}, compression="infer")


def test_average_writes_the_mean_in_the_first_files_order(blend, three_files, tmp_path):
    out = tmp_path / "avg.csv"
    result = blend("average", *three_files, "-o", out)
    assert result.exit_code == 0, result.output
    frame = read_csv(out)
    assert frame["id"].tolist() == ["1", "2", "3", "4", "5"]
    expected = np.mean(
        [[0.1, 0.2, 0.05], [0.8, 0.7, 0.9], [0.35, 0.4, 0.3], [0.6, 0.45, 0.55], [0.95, 0.9, 0.99]], axis=1
    )
    assert np.allclose(frame["target"], expected, rtol=1e-15)
    assert "wrote" in result.stderr and "read 3 files, 5 rows each" in result.stderr


def test_vote_of_binary_probabilities_writes_0_1(blend, three_files, tmp_path):
    out = tmp_path / "vote.csv"
    assert blend("vote", *three_files, "-o", out).exit_code == 0
    assert read_csv(out)["target"].tolist() == [0, 1, 0, 1, 1]


def test_weighted_vote_through_the_cli(blend, write_csv, tmp_path):
    # File 1 (3 votes) says cat everywhere; row 1: 4 others say dog -> dog; row 2: 3 dog + 1 bird -> cat.
    files = [write_csv("m1.csv", "id,label\n1,cat\n2,cat\n")]
    others = [("dog", "dog"), ("dog", "dog"), ("dog", "dog"), ("dog", "bird")]
    files += [write_csv(f"m{k + 2}.csv", f"id,label\n1,{a}\n2,{b}\n") for k, (a, b) in enumerate(others)]
    out = tmp_path / "vote.csv"
    assert blend("vote", *files, "--weights", "3,1,1,1,1", "-o", out).exit_code == 0
    assert read_csv(out)["label"].tolist() == ["dog", "cat"]


def test_labels_vote_correctly(blend, write_csv, tmp_path):
    a = write_csv("a.csv", "id,label\n1,cat\n2,dog\n3,cat\n4,bird\n")
    b = write_csv("b.csv", "id,label\n4,dog\n3,dog\n2,dog\n1,cat\n")
    c = write_csv("c.csv", "id,label\n1,dog\n2,cat\n3,dog\n4,cat\n")
    out = tmp_path / "vote.csv"
    result = blend("vote", a, b, c, "-o", out)
    assert result.exit_code == 0, result.output
    assert out.read_text() == "id,label\n1,cat\n2,dog\n3,dog\n4,bird\n"


def test_multiclass_vote_and_average(blend, write_csv, tmp_path):
    a = write_csv("a.csv", "id,A,B,C\n1,0.7,0.2,0.1\n2,0.1,0.1,0.8\n")
    b = write_csv("b.csv", "id,A,B,C\n1,0.2,0.7,0.1\n2,0.1,0.2,0.7\n")
    c = write_csv("c.csv", "id,A,B,C\n1,0.6,0.3,0.1\n2,0.3,0.4,0.3\n")
    out = tmp_path / "vote.csv"
    assert blend("vote", a, b, c, "-o", out).exit_code == 0
    assert out.read_text() == "id,A,B,C\n1,1,0,0\n2,0,0,1\n"
    assert blend("average", a, b, c, "--kind", "geometric", "-o", out).exit_code == 0
    assert np.allclose(read_csv(out)[["A", "B", "C"]].sum(axis=1), 1.0)


def test_regression_task_accepts_values_outside_0_1(blend, write_csv, tmp_path):
    a = write_csv("a.csv", "id,y\n1,0.5\n2,0.25\n")
    b = write_csv("b.csv", "id,y\n1,3.5\n2,-1.25\n")
    out = tmp_path / "avg.csv"
    result = blend("average", a, b, "--task", "regression", "-o", out)
    assert result.exit_code == 0, result.output
    assert read_csv(out)["y"].tolist() == [2.0, -0.5]


def test_gzip_input_and_output(blend, tmp_path, three_files):
    gz = tmp_path / "gz.csv.gz"
    gz.write_bytes(gzip.compress(b"id,target\n5,0.5\n4,0.5\n3,0.5\n2,0.5\n1,0.5\n"))
    out = tmp_path / "out.csv.gz"
    assert blend("average", *three_files, gz, "-o", out).exit_code == 0
    text = gzip.decompress(out.read_bytes()).decode()
    assert text.startswith("id,target\n1,") and len(text.splitlines()) == 6


@pytest.mark.parametrize("command", BLENDING)
def test_ids_in_another_order_give_identical_output(blend, write_csv, tmp_path, command):
    files = [write_csv(name, text) for name, text in THREE_BINARY.items()]
    shuffled = [files[0]]
    for name, text in list(THREE_BINARY.items())[1:]:
        header, *rows = text.splitlines()
        shuffled.append(write_csv(f"shuffled/{name}", "\n".join([header, *rows[::-1]]) + "\n"))
    assert blend(command, *files, "-o", tmp_path / "a.csv").exit_code == 0
    assert blend(command, *shuffled, "-o", tmp_path / "b.csv").exit_code == 0
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


@pytest.mark.parametrize("command", BLENDING)
def test_output_keeps_the_first_files_id_order(blend, write_csv, tmp_path, command):
    a = write_csv("a.csv", "id,target\n30,0.3\n010,0.1\n2,0.2\n")
    b = write_csv("b.csv", "id,target\n2,0.6\n30,0.7\n010,0.8\n")
    out = tmp_path / "out.csv"
    assert blend(command, a, b, "-o", out).exit_code == 0
    assert [line.split(",")[0] for line in out.read_text().splitlines()] == ["id", "30", "010", "2"]


def test_corr_prints_the_matrix(blend, three_files, tmp_path):
    out = tmp_path / "corr.csv"
    result = blend("corr", *three_files, "--method", "spearman", "-o", out)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[0].split() == ["lr", "rf", "knn"]
    matrix = pd.read_csv(out, index_col="model")
    assert np.allclose(np.diag(matrix), 1.0) and list(matrix.columns) == ["lr", "rf", "knn"]


def test_quoted_glob_is_expanded_sorted(blend, three_files, tmp_path):
    out = tmp_path / "out.csv"
    result = blend("average", str(tmp_path / "*.csv"), "-o", out)
    assert result.exit_code == 0, result.output
    assert "knn=1, lr=1, rf=1" in result.stderr


# ---------------------------------------------------------------------------- bad input

GOOD = "id,target\n1,0.1\n2,0.2\n3,0.3\n"
# name: (text of the second file, message fragment, extra arguments)
BAD_FILES = {
    "missing id": (
        "id,target\n1,0.1\n2,0.2\n",
        "bad.csv: 1 ids of {a} are missing (e.g. 3); every file needs the same ids.",
    ),
    "extra id": (GOOD + "4,0.4\n", "bad.csv: 1 ids are not in {a} (e.g. 4); every file needs the same ids."),
    "duplicated id": (
        "id,target\n1,0.1\n2,0.2\n2,0.3\n3,0.3\n",
        "bad.csv: id 2 appears twice (rows 2 and 3); keep one row per id.",
    ),
    "missing column": (
        "id,other\n1,0.1\n2,0.2\n3,0.3\n",
        "bad.csv: columns differ from {a}: expected id,target, found id,other (missing 'target'; extra 'other').",
    ),
    "only id column": ("id\n1\n2\n3\n", "bad.csv: only an id column; expected predictions after it"),
    "extra column": (
        "id,target,x\n1,0.1,1\n2,0.2,1\n3,0.3,1\n",
        "bad.csv: columns differ from {a}: expected id,target, found id,target,x (extra 'x').",
    ),
    "NaN cell": (
        "id,target\n1,0.1\n2,NaN\n3,0.3\n",
        "bad.csv: 1 NaN or empty cells in column 'target' (first at id 2); re-run the model or leave it out.",
    ),
    "inf cell": (
        "id,target\n1,0.1\n2,inf\n3,0.3\n",
        "bad.csv: 1 inf cells in column 'target' (first at id 2); re-run the model or leave it out.",
    ),
    "empty cell": ("id,target\n1,0.1\n2,\n3,0.3\n", "bad.csv: 1 NaN or empty cells in column 'target' (first at id 2)"),
    "non-numeric text": (
        "id,target\n1,0.1\n2,oops\n3,0.3\n",
        "bad.csv: non-numeric text 'oops' in column 'target' at id 2; pass --task labels if these are class labels.",
    ),
    "outside [0, 1]": (
        "id,target\n1,0.1\n2,1.07\n3,0.3\n",
        "bad.csv: 1.07 at id 2 (column 'target') is outside [0, 1]; "
        "pass --task regression if these are not probabilities.",
    ),
    "empty file": ("", "bad.csv is empty; expected a header line (id,...) and one row per id."),
    "header only": ("id,target\n", "bad.csv is empty: a header but no rows; re-run the model that wrote it."),
}
BAD_ARGUMENTS = {
    "weights of the wrong length": (
        ["--weights", "3,1"],
        "--weights 3,1 gives 2 weights for 3 files; give one per file, in the order the files are listed.",
    ),
    "negative weight": (
        ["--weights", "1,-1,1"],
        "--weights 1,-1,1: weights cannot be negative; use 0 to leave a file out.",
    ),
    "all-zero weights": (
        ["--weights", "0,0,0"],
        "--weights 0,0,0: all weights are zero; give at least one file a positive weight.",
    ),
    "weights not numbers": (["--weights", "1,x,1"], "--weights 1,x,1: weights are numbers separated by commas"),
}


def assert_refused(result, fragment, out_path):
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    error_lines = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(error_lines) == 1, result.stderr
    assert fragment in error_lines[0]
    assert out_path.read_bytes() == PREVIOUS
    assert [p.name for p in out_path.parent.iterdir()] == [out_path.name]  # no temporary file left behind


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_bad_file_exits_1_with_one_error_line_and_keeps_the_output(blend, write_csv, out_path, command, case):
    text, fragment = BAD_FILES[case]
    a = write_csv("a.csv", GOOD)
    b = write_csv("bad.csv", text)
    result = blend(command, a, b, "-o", out_path)
    assert_refused(result, fragment.format(a=a), out_path)


@pytest.mark.parametrize("command", BLENDING)
@pytest.mark.parametrize("case", sorted(BAD_ARGUMENTS))
def test_bad_weights_exit_1_and_keep_the_output(blend, three_files, out_path, command, case):
    arguments, fragment = BAD_ARGUMENTS[case]
    result = blend(command, *three_files, *arguments, "-o", out_path)
    assert_refused(result, fragment, out_path)


@pytest.mark.parametrize("command", COMMANDS)
def test_empty_glob_exits_1(blend, tmp_path, out_path, command):
    pattern = tmp_path / "nothing" / "*.csv"
    result = blend(command, pattern, "-o", out_path)
    assert_refused(result, f"no files match {pattern}; check the pattern.", out_path)


@pytest.mark.parametrize("command", COMMANDS)
def test_nonexistent_file_exits_1(blend, three_files, tmp_path, out_path, command):
    missing = tmp_path / "nope.csv"
    result = blend(command, *three_files, missing, "-o", out_path)
    assert_refused(result, f"{missing} not found; check the path", out_path)


@pytest.mark.parametrize("command", ["average", "rank-average"])
def test_labels_are_refused_by_averaging_commands(blend, write_csv, out_path, command):
    a = write_csv("a.csv", "id,label\n1,cat\n2,dog\n")
    result = blend(command, a, "-o", out_path)
    assert_refused(result, "holds class labels; use blend vote", out_path)


def test_power_without_kind_power_is_refused(blend, three_files, out_path):
    result = blend("average", *three_files, "--power", "2", "-o", out_path)
    assert_refused(result, "--power applies to --kind power only", out_path)


def test_kind_power_without_power_is_refused(blend, three_files, out_path):
    result = blend("average", *three_files, "--kind", "power", "-o", out_path)
    assert_refused(result, "the power mean needs an exponent", out_path)


# ---------------------------------------------------------------------------- invariants through the CLI


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), command=st.sampled_from(BLENDING))
def test_shuffling_each_files_rows_never_changes_the_output(blend, tmp_path_factory, data, command):
    folder = tmp_path_factory.mktemp("shuffle")
    n = data.draw(st.integers(2, 12))
    ids = [f"{k:03d}" for k in range(n)]
    ordered, shuffled = [], []
    for m in range(3):
        column = data.draw(st.lists(st.floats(0, 1), min_size=n, max_size=n))
        rows = [[i, v] for i, v in zip(ids, column)]
        order = data.draw(st.permutations(range(n)))
        ordered.append(write_text(folder / "ordered" / f"m{m}.csv", csv_text(["id", "target"], rows)))
        shuffled.append(
            write_text(folder / "shuffled" / f"m{m}.csv", csv_text(["id", "target"], [rows[k] for k in order]))
        )
    assert blend(command, *ordered, "-o", folder / "a.csv").exit_code == 0
    assert blend(command, *shuffled, "-o", folder / "b.csv").exit_code == 0
    a = read_csv(folder / "a.csv").set_index("id").sort_index()
    b = read_csv(folder / "b.csv").set_index("id").sort_index()
    assert a.equals(b)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), command=st.sampled_from(["vote", "average"]))
def test_blending_a_file_with_itself_returns_it(blend, tmp_path_factory, data, command):
    folder = tmp_path_factory.mktemp("self")
    n = data.draw(st.integers(1, 12))
    labels = command == "vote"
    values = data.draw(
        st.lists(st.sampled_from(["cat", "dog", "007"]) if labels else st.floats(0, 1), min_size=n, max_size=n)
    )
    text = csv_text(["id", "label" if labels else "target"], [[f"r{k}", v] for k, v in enumerate(values)])
    copies = [write_text(folder / f"copy{m}.csv", text) for m in range(data.draw(st.integers(1, 3)))]
    assert blend(command, *copies, "-o", folder / "out.csv").exit_code == 0
    if labels:
        assert (folder / "out.csv").read_text() == text
    else:  # the same numbers, though 0.0 may come back written as 0
        written = read_csv(folder / "out.csv")
        assert written["id"].tolist() == [f"r{k}" for k in range(n)]
        assert written["target"].to_numpy(dtype=float).tobytes() == np.array(values).tobytes()


# ---------------------------------------------------------------------------- options


def test_rank_average_with_history_file_and_folder(blend, write_csv, tmp_path):
    a = write_csv("new/a.csv", "id,target\nx,0.29\ny,0.9\nz,0.0\n")
    b = write_csv("new/b.csv", "id,target\nz,0.1\nx,0.3\ny,0.45\n")
    history = "id,target\n1,0.1\n2,0.2\n3,0.3\n4,0.4\n5,0.5\n"
    write_csv("old/a.csv", history)
    write_csv("old/b.csv", history)
    out = tmp_path / "rank.csv"
    result = blend("rank-average", a, b, "--history", tmp_path / "old", "-o", out)
    assert result.exit_code == 0, result.output
    # History ranks 0, .25, .5, .75, 1. a: 0.29 -> .5, 0.9 -> 1, 0.0 -> 0;
    # b: 0.3 -> .5, 0.45 -> .75 (a tie: the lower), 0.1 -> 0.
    assert read_csv(out)["target"].tolist() == [0.5, (1.0 + 0.75) / 2, 0.0]
    single = write_csv("single.csv", history)
    assert blend("rank-average", a, b, "--history", single, "-o", tmp_path / "single_out.csv").exit_code == 0
    assert (tmp_path / "single_out.csv").read_bytes() == out.read_bytes()


def test_history_folder_missing_a_file(blend, three_files, tmp_path, out_path):
    (tmp_path / "old").mkdir()
    result = blend("rank-average", *three_files, "--history", tmp_path / "old", "-o", out_path)
    assert_refused(result, f"{tmp_path / 'old' / 'lr.csv'} not found", out_path)


def test_id_option(blend, write_csv, tmp_path):
    a = write_csv("a.csv", "target,key\n0.2,k1\n0.4,k2\n")
    b = write_csv("b.csv", "key,target\nk2,0.6\nk1,0.4\n")
    out = tmp_path / "out.csv"
    result = blend("average", a, b, "--id", "key", "-o", out)
    assert result.exit_code == 0, result.output
    assert out.read_text() == "key,target\nk1,0.30000000000000004\nk2,0.5\n"


def test_vote_refuses_regression(blend, three_files, out_path):
    result = blend("vote", *three_files, "--task", "regression", "-o", out_path)
    assert_refused(result, "vote needs class labels or probabilities", out_path)


def test_corr_of_labels_is_the_share_of_agreeing_rows(blend, write_csv):
    a = write_csv("a.csv", "id,label\n1,cat\n2,dog\n3,dog\n4,cat\n")
    b = write_csv("b.csv", "id,label\n1,cat\n2,dog\n3,cat\n4,cat\n")
    result = blend("corr", a, b)
    assert result.exit_code == 0, result.output
    assert "0.750000" in result.stdout


def test_corr_with_a_constant_file_does_not_call_a_file_most_alike_itself(blend, write_csv):
    a = write_csv("a.csv", "id,target\n1,0.1\n2,0.7\n3,0.4\n")
    c = write_csv("const.csv", "id,target\n1,0.5\n2,0.5\n3,0.5\n")
    result = blend("corr", a, c)
    assert result.exit_code == 0
    assert "most alike: a and a" not in result.stderr
    assert "no pair has a defined correlation (is a file constant?)" in result.stderr


@pytest.mark.parametrize("command", ["average", "rank-average", "vote", "corr"])
def test_a_broken_probability_file_listed_first_is_refused_too(blend, write_csv, out_path, command):
    # The kind comes from the first file, but the order of the files must not decide whether
    # a probability of 1.07 is an error: with the bad file first it is refused all the same.
    bad = write_csv("a_bad.csv", "id,target\n1,0.2\n2,1.07\n3,0.4\n")
    good = write_csv("b_good.csv", "id,target\n1,0.3\n2,0.9\n3,0.5\n")
    result = blend(command, bad, good, "-o", out_path)
    assert result.exit_code == 1
    assert f"Error: {bad}: 1.07 at id 2 (column 'target') is outside [0, 1]" in result.stderr
    assert "Traceback" not in result.output
    assert out_path.read_bytes() == b"id,target\nprevious,0.5\n"
    ok = blend(command, bad, good, "--task", "regression", "-o", out_path)
    assert ok.exit_code == (1 if command == "vote" else 0)


def test_geometric_mean_of_negative_regression_values_is_refused(blend, write_csv, out_path):
    a = write_csv("a.csv", "id,y\n1,-2.5\n2,4\n")
    b = write_csv("b.csv", "id,y\n1,3\n2,5\n")
    result = blend("average", a, b, "--kind", "geometric", "-o", out_path)
    assert_refused(result, "the geometric mean needs positive values; use the arithmetic or rank average.", out_path)


# ---------------------------------------------------------------------------- success paths of every option


def test_corr_kendall_and_plot_through_the_cli(blend, three_files, tmp_path):
    from scipy.stats import kendalltau

    out, plot = tmp_path / "corr.csv", tmp_path / "corr.png"
    result = blend("corr", *three_files, "--method", "kendall", "-o", out, "--plot", plot)
    assert result.exit_code == 0, result.output
    matrix = pd.read_csv(out, index_col="model")
    columns = {name: read_csv(path).set_index("id")["target"] for name, path in zip(["lr", "rf", "knn"], three_files)}
    expected = kendalltau(columns["lr"], columns["rf"].loc[columns["lr"].index]).statistic
    assert matrix.loc["lr", "rf"] == pytest.approx(expected, abs=1e-12)
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_corr_csv_quotes_a_file_name_with_a_comma(blend, write_csv, tmp_path):
    files = [write_csv("lgbm_lr=0.05,d=6.csv", THREE_BINARY["lr.csv"]), write_csv("rf.csv", THREE_BINARY["rf.csv"])]
    out = tmp_path / "corr.csv"
    assert blend("corr", *files, "-o", out).exit_code == 0
    matrix = pd.read_csv(out, index_col="model")
    assert list(matrix.columns) == ["lgbm_lr=0.05,d=6", "rf"]


@pytest.mark.parametrize("kind, reference", [("harmonic", "hmean"), ("geometric", "gmean")])
def test_harmonic_and_geometric_mean_through_the_cli(blend, three_files, tmp_path, kind, reference):
    import scipy.stats

    out = tmp_path / "out.csv"
    result = blend("average", *three_files, "--kind", kind, "--weights", "3,1,1", "-o", out)
    assert result.exit_code == 0, result.output
    columns = pd.concat([read_csv(p).set_index("id")["target"] for p in three_files], axis=1)
    expected = getattr(scipy.stats, reference)(columns.to_numpy(), axis=1, weights=[3, 1, 1])
    written = read_csv(out).set_index("id")["target"].loc[columns.index]
    np.testing.assert_allclose(written, expected, rtol=1e-12)


def test_logit_mean_through_the_cli(blend, three_files, tmp_path):
    out = tmp_path / "out.csv"
    assert blend("average", *three_files, "--kind", "logit", "-o", out).exit_code == 0
    columns = pd.concat([read_csv(p).set_index("id")["target"] for p in three_files], axis=1).to_numpy()
    expected = 1 / (1 + np.exp(-np.log(columns / (1 - columns)).mean(axis=1)))
    np.testing.assert_allclose(read_csv(out)["target"], expected, rtol=1e-12)


def test_literal_file_name_with_glob_characters(blend, write_csv, tmp_path):
    files = [write_csv("nn[2].csv", THREE_BINARY["lr.csv"]), write_csv("rf.csv", THREE_BINARY["rf.csv"])]
    result = blend("average", *files, "-o", tmp_path / "out.csv")
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("weights", ["1e308,1e308,1e308", "1e308,1,1"])
def test_huge_weights_do_not_overflow(blend, three_files, tmp_path, weights):
    small = ",".join("1" if w == "1e308" else "1e-308" for w in weights.split(","))
    for command in ("average", "rank-average", "vote"):
        a, b = tmp_path / f"{command}_a.csv", tmp_path / f"{command}_b.csv"
        assert blend(command, *three_files, "--weights", weights, "-o", a).exit_code == 0
        assert blend(command, *three_files, "--weights", small, "-o", b).exit_code == 0
        assert a.read_bytes() == b.read_bytes(), command


@pytest.mark.parametrize(
    "command, extra",
    [("average", []), ("average", ["--kind", "geometric"]), ("vote", []), ("rank-average", ["--weights", "2,1,1"])],
)
def test_a_memory_budget_too_small_for_the_files_blends_out_of_core_with_the_same_result(
    blend, write_csv, tmp_path, command, extra
):
    rng = np.random.default_rng(0)
    files = []
    for m in range(3):
        order = rng.permutation(300)
        rows = [[f"r{k}", float(v)] for k, v in zip(order, rng.uniform(size=300))]
        files.append(write_csv(f"m{m}.csv", csv_text(["id", "target"], rows)))
    in_memory, out_of_core = tmp_path / "mem.csv", tmp_path / "ooc.csv"
    assert blend(command, *files, *extra, "-o", in_memory).exit_code == 0
    result = blend(command, *files, *extra, "--memory", "1KB", "-o", out_of_core)
    assert result.exit_code == 0, result.output
    assert "out of core on DuckDB" in result.stderr
    a, b = read_csv(in_memory), read_csv(out_of_core)
    assert a["id"].tolist() == b["id"].tolist()
    np.testing.assert_allclose(a["target"], b["target"], rtol=1e-12, atol=0)


def test_a_memory_budget_that_is_not_a_size(blend, three_files, out_path):
    assert_refused(
        blend("average", *three_files, "--memory", "lots", "-o", out_path), "--memory lots: give a size", out_path
    )
