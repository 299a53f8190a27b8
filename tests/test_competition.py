"""A real competition's files through blend: text binary targets, --positive, --sample, blend check,
and the fuzz findings of issue 18 (huge values, a line break in a class name, the power mean's zero).

The competition here is small and made in tmp_path: a No/Yes truth with string ids, four
teammates' files listing the ids in their own order, and Kaggle's sample_submission.csv with
its own order and ids written with leading zeros where that matters.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import log_loss
from typer.testing import CliRunner

from blender import io
from blender.cli import app

N_TRAIN, N_TEST = 200, 60
MODELS = ("good", "fair", "noisy")
LEARNING = ["score", "select", "caruana", "hill-climb", "weights", "stack", "auto"]
WRITING = ["vote", "average", "rank-average", "select", "caruana", "hill-climb", "weights", "stack", "holdout", "auto"]
PREVIOUS = b"row_id,default\nold,0.5\n"


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture
def yes_no(tmp_path, monkeypatch):
    """A binary competition written as text: truth No/Yes, files id,default = P(Yes), a sample file."""
    rng = np.random.default_rng(3)
    y_train, y_test = rng.integers(0, 2, N_TRAIN), rng.integers(0, 2, N_TEST)
    train_ids = np.array([f"r{k:05d}" for k in rng.permutation(N_TRAIN)])
    test_ids = np.array([f"t{k:05d}" for k in range(N_TEST)])
    for folder in ("submissions/oof", "submissions/holdout", "data"):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
    for noise, name in zip((1.0, 1.8, 3.0), MODELS):

        def probabilities(y):
            return 1 / (1 + np.exp(-((2 * y - 1) * 2.0 + rng.normal(0, noise, len(y)))))

        order = rng.permutation(N_TEST)
        pd.DataFrame({"row_id": test_ids[order], "default": probabilities(y_test)[order]}).to_csv(
            tmp_path / f"submissions/{name}.csv", index=False
        )
        pd.DataFrame({"row_id": train_ids, "default": probabilities(y_train)}).to_csv(
            tmp_path / f"submissions/oof/{name}.csv", index=False
        )
        pd.DataFrame({"row_id": train_ids[:80], "default": probabilities(y_train[:80])}).to_csv(
            tmp_path / f"submissions/holdout/{name}.csv", index=False
        )
    labels = np.array(["No", "Yes"])
    pd.DataFrame({"row_id": train_ids, "default": labels[y_train]}).to_csv(
        tmp_path / "data/train_labels.csv", index=False
    )
    sample_order = rng.permutation(N_TEST)
    pd.DataFrame({"row_id": test_ids[sample_order], "default": 0.5}).to_csv(
        tmp_path / "sample_submission.csv", index=False
    )
    monkeypatch.chdir(tmp_path)
    return {"y_train": y_train, "train_ids": train_ids, "sample_ids": test_ids[sample_order].tolist()}


# ---------------------------------------------------------------------------- text binary targets


@pytest.mark.parametrize("command", LEARNING)
def test_text_binary_truth_works_in_every_learning_command_and_says_which_label_is_positive(yes_no, command):
    result = run(command, "-o", "blends/out.csv") if command != "score" else run(command, "--models-only")
    assert result.exit_code == 0, result.output
    assert "positive class: Yes (the second of No, Yes in sorted order)" in result.stderr


def test_the_positive_class_decides_the_scores(yes_no):
    """OOF log loss of each file, as blend score prints it, equals scikit-learn's with y = (truth == positive)."""
    learning = io.read_learning(
        [Path(f"submissions/{m}.csv") for m in MODELS],
        train_dir=Path("submissions/oof"),
        truth=Path("data/train_labels.csv"),
        command_name="score",
    )
    ids = learning.train.ids.to_pylist()
    truth = pd.read_csv("data/train_labels.csv").set_index("row_id")["default"]
    assert learning.y.tolist() == (truth.loc[ids] == "Yes").astype(int).tolist()
    flipped = io.read_learning(
        [Path(f"submissions/{m}.csv") for m in MODELS],
        train_dir=Path("submissions/oof"),
        truth=Path("data/train_labels.csv"),
        command_name="score",
        positive="No",
    )
    assert flipped.y.tolist() == (1 - learning.y).tolist()
    assert flipped.target.positive == "No" and flipped.target.reason == "--positive"

    result = run("score", "--models-only", "-o", "board.csv")
    assert result.exit_code == 0, result.output
    board = pd.read_csv("board.csv").set_index("name")
    for name in MODELS:
        expected = log_loss(learning.y, learning.train.values[learning.train.names.index(name), :, 0])
        assert board.loc[name, "oof"] == pytest.approx(expected, rel=1e-12)


def test_a_column_named_after_a_class_makes_that_class_positive(yes_no):
    for name in MODELS:
        for folder in ("submissions", "submissions/oof"):
            frame = pd.read_csv(f"{folder}/{name}.csv").rename(columns={"default": "No"})
            frame["No"] = 1 - frame["No"]
            frame.to_csv(f"{folder}/{name}.csv", index=False)
    result = run("score", "--models-only", "-o", "board.csv")
    assert result.exit_code == 0, result.output
    assert "positive class: No (the column No is named after it)" in result.stderr
    learning = io.read_learning(
        [Path(f"submissions/{m}.csv") for m in MODELS],
        train_dir=Path("submissions/oof"),
        truth=Path("data/train_labels.csv"),
        command_name="score",
    )
    truth = pd.read_csv("data/train_labels.csv").set_index("row_id")["default"]
    assert learning.y.tolist() == (truth.loc[learning.train.ids.to_pylist()] == "No").astype(int).tolist()


def test_vote_writes_the_truths_labels(yes_no):
    result = run("vote", "-o", "blends/vote.csv")
    assert result.exit_code == 0, result.output
    assert "votes written as No/Yes" in result.stderr
    votes = pd.read_csv("blends/vote.csv")
    files = [pd.read_csv(f"submissions/{m}.csv").set_index("row_id")["default"] for m in MODELS]
    ids = votes["row_id"]
    majority = np.mean([(f.loc[ids] > 0.5).to_numpy() for f in files], axis=0) > 0.5
    assert votes["default"].tolist() == np.where(majority, "Yes", "No").tolist()
    flipped = run("vote", "--positive", "No", "-o", "blends/vote_no.csv")
    assert flipped.exit_code == 0, flipped.output
    # The columns are now read as P(No): a row above 0.5 votes No.
    assert pd.read_csv("blends/vote_no.csv")["default"].tolist() == np.where(majority, "No", "Yes").tolist()


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["score", "--positive", "Maybe"],
            "--positive Maybe: not a label of data/train_labels.csv (its labels: No, Yes); name one of them.",
        ),
        (
            ["vote", "--positive", "Maybe"],
            "--positive Maybe: not a label of data/train_labels.csv (its labels: No, Yes)",
        ),
        (["weights", "--positive", "Maybe"], "--positive Maybe: not a label of data/train_labels.csv"),
    ],
)
def test_bad_positive(yes_no, args, message):
    _refused(args, message)


def test_three_labels_against_one_column(yes_no):
    truth = pd.read_csv("data/train_labels.csv")
    truth.loc[truth.index[:5], "default"] = "Maybe"
    truth.to_csv("data/train_labels.csv", index=False)
    _refused(
        ["weights"],
        "data/train_labels.csv: 3 labels (Maybe, No, Yes) against the one probability column of "
        "submissions/fair.csv; a binary target has two labels; for 3 classes, write one probability "
        "column per class (id,Maybe,No,Yes).",
    )


def test_positive_on_class_probabilities_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for folder in ("submissions", "submissions/oof"):
        Path(folder).mkdir(parents=True, exist_ok=True)
        Path(f"{folder}/a.csv").write_text("id,A,B\n1,0.2,0.8\n2,0.6,0.4\n3,0.5,0.5\n")
    Path("truth.csv").write_text("id,y\n1,B\n2,A\n3,A\n")
    _refused(
        ["score", "--truth", "truth.csv", "--positive", "A"],
        "--positive A: only a binary target has a positive class, and submissions/a.csv holds class "
        "probabilities; drop --positive.",
    )


def _refused(args, message, out="blends/out.csv"):
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(PREVIOUS)
    result = run(*args, "-o", out)
    assert result.exit_code == 1, result.output
    assert f"Error: {message}" in result.stderr
    assert "Traceback" not in result.output
    assert out.read_bytes() == PREVIOUS


# ---------------------------------------------------------------------------- --sample


@pytest.mark.parametrize("command", WRITING)
def test_every_blend_takes_the_samples_order_and_header(yes_no, command):
    extra = ["--holdout-dir", "submissions/holdout"] if command == "holdout" else []
    result = run(command, *extra, "--sample", "sample_submission.csv", "-o", "blends/out.csv")
    assert result.exit_code == 0, result.output
    written = pd.read_csv("blends/out.csv", dtype=str)
    assert list(written.columns) == ["row_id", "default"]
    assert written["row_id"].tolist() == yes_no["sample_ids"]
    # The same blend without --sample, in the first file's order: the rows are the same rows.
    plain = run(command, *extra, "-o", "blends/plain.csv")
    assert plain.exit_code == 0, plain.output
    plain_rows = pd.read_csv("blends/plain.csv", dtype=str).set_index("row_id")["default"]
    assert written["default"].tolist() == plain_rows.loc[yes_no["sample_ids"]].tolist()


def test_sample_ids_keep_their_text_and_class_columns_their_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("a.csv").write_text("id,B,A\n7,0.25,0.75\n12,0.5,0.5\n")
    Path("b.csv").write_text("id,A,B\n12,0.3,0.7\n7,0.45,0.55\n")
    Path("sample.csv").write_text("Id,A,B\n0012,0.5,0.5\n0007,0.5,0.5\n")
    result = run("average", "a.csv", "b.csv", "--sample", "sample.csv", "-o", "out.csv")
    assert result.exit_code == 0, result.output
    assert "ids matched as numbers" in result.stderr
    assert Path("out.csv").read_text() == "Id,A,B\n0012,0.4,0.6\n0007,0.6,0.4\n"


@pytest.mark.parametrize(
    "sample, message",
    [
        ("row_id,default\nt00001,0.5\n", "sample_submission.csv: 59 ids of submissions/fair.csv are not in the sample"),
        (
            "row_id,default\nt00001,0.5\nzzz,0.5\n",
            "sample_submission.csv: 1 ids of the sample are not in "
            "submissions/fair.csv (e.g. zzz); the predictions must hold every id",
        ),
        (
            "row_id,target\nt00001,0.5\n",
            "sample_submission.csv: column 'target' is not a column of submissions/fair.csv "
            "(columns default); name the prediction columns as the sample does.",
        ),
        (
            "row_id,default,other\nt00001,0.5,1\n",
            "sample_submission.csv: 2 columns after the id (default,other), and "
            "the blend has 1 (default); is this the sample of the same competition?",
        ),
        ("row_id,default\nt00001,0.5\nt00001,0.5\n", "sample_submission.csv: id t00001 appears twice"),
        ("row_id,default\n", "sample_submission.csv is empty: a header but no rows"),
    ],
)
@pytest.mark.parametrize("command", ["average", "weights", "vote"])
def test_a_sample_that_disagrees_is_refused_before_anything_is_written(yes_no, sample, message, command):
    Path("sample_submission.csv").write_text(sample)
    _refused([command, "--sample", "sample_submission.csv"], message)


def test_a_missing_sample(yes_no):
    _refused(
        ["average", "--sample", "nope.csv"],
        "--sample nope.csv not found; name the competition's sample_submission.csv.",
    )


def test_sample_with_memory_is_refused(yes_no):
    _refused(["average", "--sample", "sample_submission.csv", "--memory", "2GB"], "--sample orders the blend in memory")


def test_check_passes_a_good_submission_and_names_what_differs(yes_no):
    assert run("average", "--sample", "sample_submission.csv", "-o", "blends/ok.csv").exit_code == 0
    result = run("check", "sample_submission.csv", "blends/ok.csv")
    assert result.exit_code == 0, result.output
    assert f"blends/ok.csv matches sample_submission.csv: {N_TEST} ids, header row_id,default" in result.stderr
    shuffled = run("check", "sample_submission.csv", "submissions/good.csv")
    assert shuffled.exit_code == 0 and "rows in another order than the sample's (matched by id)" in shuffled.stderr


def test_check_refuses_ids_written_otherwise(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("sub.csv").write_text("Id,target\n7,0.2\n12,0.9\n")
    Path("sample.csv").write_text("Id,target\n0007,0.5\n0012,0.5\n")
    result = run("check", "sample.csv", "sub.csv")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "Error: sub.csv: ids are written otherwise than in sample.csv (e.g. 7 for 0007); write them as the sample does "
        "(blend COMMAND --sample sample.csv does)."
    )
    Path("sub.csv").write_text("Id,target\n7,0.2\n13,0.9\n")
    missing = run("check", "sample.csv", "sub.csv")
    assert missing.exit_code == 1 and "ids of the sample are not in sub.csv (e.g. 0012)" in missing.stderr


def _digit_recognizer(tmp_path, monkeypatch):
    """Two files of class probabilities for classes 0, 1, 2 and a Digit Recognizer sample (ImageId,Label)."""
    monkeypatch.chdir(tmp_path)
    Path("a.csv").write_text("ImageId,0,1,2\n1,0.7,0.2,0.1\n2,0.1,0.3,0.6\n3,0.2,0.5,0.3\n")
    Path("b.csv").write_text("ImageId,2,0,1\n3,0.1,0.1,0.8\n1,0.4,0.5,0.1\n2,0.3,0.1,0.6\n")
    Path("sample.csv").write_text("ImageId,Label\n3,0\n1,0\n2,0\n")


@pytest.mark.parametrize(
    "command, expected",
    [
        # means per row (classes 0, 1, 2): id 3 (0.15, 0.65, 0.2), id 1 (0.55, 0.15, 0.3), id 2 (0.1, 0.45, 0.45)
        # -> 1, 0, and for id 2 a tie between 1 and 2 that goes to the first class column, 1.
        ("average", "ImageId,Label\n3,1\n1,0\n2,1\n"),
        # votes: a says 0, 2, 1 for ids 1, 2, 3 and b says 0, 1, 1: id 2 ties and goes to the first file's label, 2.
        ("vote", "ImageId,Label\n3,1\n1,0\n2,2\n"),
    ],
)
def test_a_label_sample_gets_each_rows_most_probable_class(tmp_path, monkeypatch, command, expected):
    _digit_recognizer(tmp_path, monkeypatch)
    result = run(command, "a.csv", "b.csv", "--sample", "sample.csv", "-o", "out.csv")
    assert result.exit_code == 0, result.output
    assert "one label column for 3 class probabilities" in result.stderr
    assert Path("out.csv").read_text() == expected


def test_check_refuses_probabilities_against_a_label_sample(tmp_path, monkeypatch):
    _digit_recognizer(tmp_path, monkeypatch)
    result = run("check", "sample.csv", "a.csv")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "Error: a.csv: class probabilities (3 columns), and sample.csv wants one label column 'Label'; "
        "write the labels with blend COMMAND --sample sample.csv."
    )
    assert run("average", "a.csv", "b.csv", "--sample", "sample.csv", "-o", "out.csv").exit_code == 0
    assert run("check", "sample.csv", "out.csv").exit_code == 0


# ---------------------------------------------------------------------------- the fuzz findings


def test_huge_regression_values_are_refused_by_name_not_by_traceback(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("oof").mkdir()
    rows = "".join(f"{k},{k % 7}\n" for k in range(3, 13))
    for name, first in (("r1", "1.2e29"), ("r2", "1")):
        text = f"id,y\n1,{first}\n2,-1.797e308\n" + rows if name == "r1" else "id,y\n1,1\n2,2\n" + rows
        Path(f"{name}.csv").write_text(text)
        Path(f"oof/{name}.csv").write_text(text)
    Path("truth.csv").write_text("id,y\n1,1\n2,2\n" + rows)
    result = run("score", "r1.csv", "r2.csv", "--oof-dir", "oof", "--truth", "truth.csv")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "Error: oof/r1.csv: -1.797e+308 at id 2 (column 'y') is beyond ±1e+100, where squared errors overflow; "
        "rescale the target and the predictions (e.g. log or divide by a constant)."
    )
    # 1.2e29 is large but harmless: every entry is scored.
    for path in ("r1.csv", "oof/r1.csv"):
        Path(path).write_text(Path(path).read_text().replace("-1.797e308", "-3"))
    scored = run("score", "r1.csv", "r2.csv", "--oof-dir", "oof", "--truth", "truth.csv", "-o", "board.csv")
    assert scored.exit_code == 0, scored.output
    board = pd.read_csv("board.csv")
    assert np.isfinite(board["score"]).all() and len(board) > 2


def test_a_quoted_line_break_in_a_class_name_is_read(tmp_path):
    a = tmp_path / "a.csv"
    b = tmp_path / "b.csv"
    a.write_text('id,"two\nlines",b\n1,0.3,0.7\n2,0.6,0.4\n')
    b.write_text('id,b,"two\nlines"\n1,0.5,0.5\n2,0.1,0.9\n')
    result = run("vote", a, b, "-o", tmp_path / "vote.csv")
    assert result.exit_code == 0, result.output
    # Row 1: a says b, b ties (0.5/0.5: argmax takes its first column, b); row 2: a says "two lines", b says it too.
    assert (tmp_path / "vote.csv").read_text() == 'id,"two\nlines",b\n1,0,1\n2,1,0\n'
    still_broken = tmp_path / "c.csv"
    still_broken.write_text('id,"two,b\n1,0.3,0.7\n')
    refused = run("vote", still_broken, "-o", tmp_path / "c_vote.csv")
    assert refused.exit_code == 1 and "the header has an unterminated quote" in refused.stderr


@pytest.mark.parametrize("memory", [[], ["--memory", "1B"]])
def test_the_power_mean_names_the_file_and_row_of_a_zero(tmp_path, memory):
    g1 = tmp_path / "g1.csv"
    g2 = tmp_path / "g2.csv"
    g1.write_text("id,t\n1,2.5\n2,3.5\n")
    g2.write_text("id,t\n1,4\n2,0\n")
    result = run("average", g1, g2, "--kind", "power", "--power", "-2", *memory, "-o", tmp_path / "x.csv")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == (
        f"Error: {g2}: 0 at id 2 (column 't') is not positive, and the power (p=-2) mean needs positive values; "
        "use the arithmetic or rank average."
    )
    assert not (tmp_path / "x.csv").exists()
