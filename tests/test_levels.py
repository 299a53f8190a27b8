"""Levels: the shared folds file, every learning command's own OOF predictions, and the slice estimate.

- A row's ``--oof-out`` prediction never depends on its own truth, for every command that
  writes one (the truth of one row is changed and the command run again).
- A level-2 OOF file written by ``blend`` is read as a level-1 file from ``make oof`` is.
- Level 1 (``make oof``) -> level 2 (three stackers) -> level 3 (hill climbing): the files, and
  the printed slice estimate recomputed by hand from the folds.
- Bad folds files get one line naming the file and the id, and no output.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from blender import io, layout
from blender.cli import app
from blender.evaluation import level_splits
from blender.methods import BY_NAME, fit

N_TRAIN, N_TEST = 240, 80
MODELS = ("good", "fair", "noisy", "weak")


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def _probabilities(rng, y, noise):
    return 1 / (1 + np.exp(-((2 * y - 1) * 1.5 + rng.normal(0, noise, len(y)))))


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """Four binary files (test, OOF and holdout predictions), the truth and data/folds.csv, in tmp_path."""
    rng = np.random.default_rng(11)
    y_train, y_test = rng.integers(0, 2, N_TRAIN), rng.integers(0, 2, N_TEST)
    train_ids, test_ids = np.arange(N_TRAIN), np.arange(9000, 9000 + N_TEST)
    for sub in ("submissions/oof", "submissions/holdout", "data"):
        (tmp_path / sub).mkdir(parents=True, exist_ok=True)
    for noise, name in zip((1.0, 1.5, 2.2, 3.5), MODELS):
        pd.DataFrame({"id": test_ids, "target": _probabilities(rng, y_test, noise)}).to_csv(
            tmp_path / f"submissions/{name}.csv", index=False
        )
        pd.DataFrame({"id": train_ids, "target": _probabilities(rng, y_train, noise)}).to_csv(
            tmp_path / f"submissions/oof/{name}.csv", index=False
        )
        pd.DataFrame({"id": train_ids[:120], "target": _probabilities(rng, y_train[:120], noise)}).to_csv(
            tmp_path / f"submissions/holdout/{name}.csv", index=False
        )
    pd.DataFrame({"id": train_ids, "target": y_train}).to_csv(tmp_path / "data/train_labels.csv", index=False)
    pd.DataFrame({"id": train_ids, "fold": rng.permutation(np.arange(N_TRAIN) % 5)}).to_csv(
        tmp_path / "data/folds.csv", index=False
    )
    pd.DataFrame({"id": train_ids[:120], "fold": rng.permutation(np.arange(120) % 5)}).to_csv(
        tmp_path / "data/holdout_folds.csv", index=False
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path


# ---------------------------------------------------------------------------- the slice


def test_level_splits_never_train_on_the_slice_and_hold_every_row_out_once():
    assignment = np.random.default_rng(0).permutation(np.arange(50) % 5)
    splits, slice_fold = level_splits(assignment)
    assert slice_fold == 4
    held = np.concatenate([rows for _, rows in splits])
    assert sorted(held.tolist()) == list(range(50))
    for train, rows in splits:
        assert not np.isin(train, rows).any()
        assert not (assignment[train] == slice_fold).any()  # no split trains on the slice
    # Only the slice's own split trains on every other fold.
    assert [np.unique(assignment[train]).tolist() for train, _ in splits] == [
        [1, 2, 3],
        [0, 2, 3],
        [0, 1, 3],
        [0, 1, 2],
        [0, 1, 2, 3],
    ]


# ---------------------------------------------------------------- a row's truth never reaches its own OOF prediction

OOF_COMMANDS = [
    ["select"],
    ["caruana", "--iters", "10"],
    ["hill-climb"],
    ["weights"],
    ["stack", "--meta", "logreg"],
    ["stack", "--meta", "et", "--fwls"],
    ["average", "--kind", "logit", "--calibrate"],
    ["auto", "--repeats", "1"],
    # Seeded folds are stratified by the truth, so a changed label may move rows between folds: the
    # holdout rows get a folds file of their own, as the training rows have theirs.
    ["holdout", "--meta", "ridge", "--oof-out", "blends/oof/out.csv", "--folds", "data/holdout_folds.csv"],
]


@pytest.mark.parametrize("args", OOF_COMMANDS, ids=[" ".join(a[:2]) for a in OOF_COMMANDS])
def test_a_rows_own_truth_never_reaches_its_oof_prediction(folder, args):
    truth = pd.read_csv("data/train_labels.csv")
    folds = pd.read_csv("data/folds.csv")
    if "holdout" in args:
        folds = pd.read_csv("data/holdout_folds.csv")
    rows = [int(np.flatnonzero(folds["fold"] == 4)[0]), int(np.flatnonzero(folds["fold"] == 1)[0])]  # slice, other
    result = run(*args, "-o", "blends/out.csv")
    assert result.exit_code == 0, result.output
    before = pd.read_csv("blends/oof/out.csv")
    for row in rows:  # one row's truth at a time: another row's truth may reach it, as a training row
        changed = truth.copy()
        changed.loc[row, "target"] = 1 - changed.loc[row, "target"]
        changed.to_csv("data/train_labels.csv", index=False)
        result = run(*args, "-o", "blends/out.csv")
        assert result.exit_code == 0, result.output
        after = pd.read_csv("blends/oof/out.csv")
        assert before["id"].tolist() == after["id"].tolist()
        k = before["id"].tolist().index(int(truth.loc[row, "id"]))
        assert after["target"][k] == pytest.approx(before["target"][k], rel=1e-12, abs=1e-15)


def test_the_oof_predictions_change_where_the_truth_they_learn_from_does(folder):
    """The check above can fail: changing the truth of many rows moves other rows' OOF predictions."""
    run("stack", "--meta", "logreg", "-o", "blends/out.csv")
    before = pd.read_csv("blends/oof/out.csv")
    truth = pd.read_csv("data/train_labels.csv")
    truth.loc[: N_TRAIN // 2, "target"] = 1 - truth.loc[: N_TRAIN // 2, "target"]
    truth.to_csv("data/train_labels.csv", index=False)
    run("stack", "--meta", "logreg", "-o", "blends/out.csv")
    after = pd.read_csv("blends/oof/out.csv")
    assert np.abs(after["target"] - before["target"]).max() > 0.01


# ---------------------------------------------------------------------------- the folds file


def test_without_a_folds_file_the_command_says_it_draws_its_own(folder):
    Path("data/folds.csv").unlink()
    result = run("weights", "-o", "blends/out.csv")
    assert result.exit_code == 0, result.output
    assert "folds: 5 seeded folds (--seed 0); no data/folds.csv" in result.output
    assert Path("blends/oof/out.csv").is_file()


def test_the_folds_file_is_the_one_every_score_is_cut_by(folder):
    result = run("stack", "-o", "blends/out.csv")
    assert "folds: data/folds.csv (5 folds, 240 rows)" in result.output
    # The CV line is the mean of the stacker's score on each fold of the file.
    values = np.stack([pd.read_csv(f"submissions/oof/{name}.csv")["target"].to_numpy() for name in sorted(MODELS)])[
        :, :, None
    ]
    y = pd.read_csv("data/train_labels.csv")["target"].to_numpy()
    fold = pd.read_csv("data/folds.csv")["fold"].to_numpy()
    scores = []
    for f in range(5):
        fitted = fit(
            BY_NAME["stack-logreg"], values[:, fold != f], y[fold != f], kind="binary", metric="logloss", random_state=0
        )
        scores.append(layout.score(y[fold == f], fitted.apply(values[:, fold == f]), metric="logloss", kind="binary"))
    assert f"5-fold CV logloss: {np.mean(scores):.6f}" in result.output


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda f: f.iloc[1:], "data/folds.csv: 1 id of the OOF rows has no fold (e.g. 0)"),
        (
            lambda f: pd.concat([f, pd.DataFrame({"id": [777777], "fold": [0]})]),
            "data/folds.csv: 1 id is not an OOF row (e.g. 777777)",
        ),
        (
            lambda f: f.assign(fold=f["fold"].astype(str).where(f.index != 3, "two")),
            "data/folds.csv: fold 'two' at id 3",
        ),
        (
            lambda f: f.assign(fold=f["fold"].astype(str).where(f.index != 5, "1.5")),
            "data/folds.csv: fold '1.5' at id 5",
        ),
        (lambda f: f.assign(fold=np.where(f.index == 0, 9, f["fold"])), "data/folds.csv: fold 9 holds 1 row"),
        (lambda f: f.assign(fold=0), "data/folds.csv: every row is in fold 0"),
    ],
    ids=["missing id", "extra id", "text fold", "fraction", "one-row fold", "one fold"],
)
def test_a_bad_folds_file_is_one_line_and_no_output(folder, edit, message):
    edit(pd.read_csv("data/folds.csv")).to_csv("data/folds.csv", index=False)
    result = run("caruana", "-o", "blends/out.csv")
    assert result.exit_code == 1
    assert result.output.count("Error:") == 1 and message in result.output, result.output
    assert not Path("blends").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["score", "--cv", "3", "--folds", "data/folds.csv"], "--cv 3 --folds data/folds.csv: give one"),
        (["score", "--repeats", "3"], "--repeats 3: the folds file data/folds.csv gives one split"),
        (["weights", "--folds", "nowhere.csv"], "--folds nowhere.csv: no such file"),
        (["weights", "--oof-out", "x.csv", "--no-oof-out"], "--oof-out x.csv --no-oof-out: give one"),
        (["average", "--oof-out", "x.csv"], "--folds and --oof-out apply to average --calibrate"),
        (["auto", "--max-level", "3"], "--max-level 3: give 1 or 2"),
    ],
)
def test_folds_and_oof_options_refuse_what_cannot_work(folder, args, message):
    result = run(*args)
    assert result.exit_code == 1 and message in result.output, result.output
    assert not Path("blends").exists()


def test_seeded_folds_by_number_still_work(folder):
    result = run("stack", "--folds", "3", "-o", "blends/out.csv")
    assert result.exit_code == 0, result.output
    assert "folds: 3 seeded folds" in result.output and "3-fold CV logloss" in result.output


# ---------------------------------------------------------------------------- three levels on make oof's files


@pytest.fixture(scope="module")
def zoo_level_one(tmp_path_factory):
    """A Kaggle folder (text Yes/No target) through make oof's own code: level-1 files and data/folds.csv."""
    from models.cli import main
    from tests.kaggle_folders import make_folder

    base = tmp_path_factory.mktemp("zoo")
    data = make_folder("binary", base / "kaggle")
    assert (
        main(["oof", "--data", str(data), "--root", str(base / "root"), "--models", "logreg knn_5 knn_15 et_gini"]) == 0
    )
    return base / "root"


@pytest.fixture
def zoo(zoo_level_one, tmp_path, monkeypatch):
    shutil.copytree(zoo_level_one, tmp_path / "root")
    monkeypatch.chdir(tmp_path / "root")
    return tmp_path / "root"


def test_three_levels_from_make_oof_with_the_honest_estimate(zoo):
    for meta in ("logreg", "ridge", "et"):
        result = run("stack", "--meta", meta, "-o", f"blends/l2/stack-{meta}.csv")
        assert result.exit_code == 0, result.output
        assert "folds: data/folds.csv (5 folds" in result.output
    level_one = pd.read_csv("submissions/oof/logreg.csv", dtype=str)
    for meta in ("logreg", "ridge", "et"):
        level_two = pd.read_csv(f"blends/l2/oof/stack-{meta}.csv", dtype=str)
        assert list(level_two.columns) == list(level_one.columns)  # row_id, the probability column
        assert sorted(level_two.iloc[:, 0]) == sorted(level_one.iloc[:, 0])
    result = run(
        "hill-climb",
        "blends/l2/stack-logreg.csv",
        "blends/l2/stack-ridge.csv",
        "blends/l2/stack-et.csv",
        "--oof-dir",
        "blends/l2/oof",
        "-o",
        "blends/l3/hill.csv",
    )
    assert result.exit_code == 0, result.output
    assert Path("blends/l3/hill.csv").is_file() and Path("blends/l3/oof/hill.csv").is_file()
    printed = float(
        re.search(
            r"hill-climb blend logloss on the holdout slice \(fold 4, \d+ rows.*?: ([0-9.]+) ±", result.output
        ).group(1)
    )

    # By hand: the level-3 blend fitted on the level-2 OOF rows outside the slice, scored on the slice.
    learning = io.read_learning(
        [Path(f"blends/l2/stack-{m}.csv") for m in ("et", "logreg", "ridge")],
        train_dir=Path("blends/l2/oof"),
        truth=Path("data/train_labels.csv"),
        command_name="test",
    )
    fold = io.read_folds(Path("data/folds.csv"), learning.train.ids)
    y, values = learning.y, learning.train.values
    fitted = fit(
        BY_NAME["hill-climb"], values[:, fold != 4], y[fold != 4], kind="binary", metric="logloss", random_state=0
    )
    by_hand = layout.score(y[fold == 4], fitted.apply(values[:, fold == 4]), metric="logloss", kind="binary")
    assert printed == pytest.approx(by_hand, abs=5e-7)
    # And the level-2 files' slice rows came from stackers fitted without the slice.
    one = io.read_learning(
        [Path(f"submissions/{n}.csv") for n in ("et_gini", "knn_15", "knn_5", "logreg")],
        train_dir=Path("submissions/oof"),
        truth=Path("data/train_labels.csv"),
        command_name="test",
    )
    assert one.train.ids.equals(learning.train.ids)
    stacker = fit(
        BY_NAME["stack-logreg"],
        one.train.values[:, fold != 4],
        one.y[fold != 4],
        kind="binary",
        metric="logloss",
        random_state=0,
    )
    np.testing.assert_allclose(
        values[learning.train.names.index("stack-logreg"), fold == 4],
        stacker.apply(one.train.values[:, fold == 4]),
        rtol=1e-9,
    )


LEVEL_TWO_COMMANDS = [
    ["score"],
    ["select"],
    ["caruana"],
    ["hill-climb"],
    ["weights"],
    ["stack"],
    ["auto"],
    ["average", "--calibrate"],
]


@pytest.mark.parametrize("args", LEVEL_TWO_COMMANDS, ids=[a[0] for a in LEVEL_TWO_COMMANDS])
def test_a_level_two_oof_file_is_read_as_a_level_one_file_is(zoo, args):
    for meta in ("logreg", "ridge"):
        assert run("stack", "--meta", meta, "-o", f"blends/l2/stack-{meta}.csv").exit_code == 0
    level_one = io.read_learning(
        [Path("submissions/logreg.csv"), Path("submissions/knn_5.csv")],
        train_dir=Path("submissions/oof"),
        truth=Path("data/train_labels.csv"),
        command_name="test",
    )
    level_two = io.read_learning(
        [Path("blends/l2/stack-logreg.csv"), Path("blends/l2/stack-ridge.csv")],
        train_dir=Path("blends/l2/oof"),
        truth=Path("data/train_labels.csv"),
        command_name="test",
    )
    for one, two in ((level_one.train, level_two.train), (level_one.test, level_two.test)):
        assert (one.kind, one.columns, one.id_column) == (two.kind, two.columns, two.id_column)
        assert one.ids.equals(two.ids)
    np.testing.assert_array_equal(level_one.y, level_two.y)
    out = "blends/l3/out.csv" if args[0] != "score" else "blends/l3/board.csv"
    result = run(
        *args, "blends/l2/stack-logreg.csv", "blends/l2/stack-ridge.csv", "--oof-dir", "blends/l2/oof", "-o", out
    )
    assert result.exit_code == 0, result.output
    assert "positive class: Yes" in result.output


# ---------------------------------------------------------------------------- auto and a second level


def test_level_verdict_keeps_a_second_level_only_beyond_its_noise():
    from blender.picking import Estimate, level_verdict

    one = Estimate(np.array([0.30, 0.31, 0.29, 0.30, 0.30]), np.zeros(5), [], 5)
    clearly = Estimate(one.scores - np.array([0.010, 0.012, 0.011, 0.009, 0.010]), np.zeros(5), [], 5)
    noise = Estimate(one.scores - np.array([0.010, -0.012, 0.011, -0.009, 0.001]), np.zeros(5), [], 5)
    assert level_verdict({1: one, 2: clearly}, metric="logloss")[0] == 2
    kept, reason = level_verdict({1: one, 2: noise}, metric="logloss")
    assert kept == 1 and reason.startswith("a second level does not pay") and "+0.0002" in reason
    assert level_verdict({1: one}, metric="logloss") == (1, "no second level suits these files")


def test_auto_says_whether_a_second_level_pays_and_writes_its_oof(folder):
    result = run("auto", "--repeats", "1", "-o", "blends/auto.csv", "--report", "blends/auto.json")
    assert result.exit_code == 0, result.output
    assert re.search(r"levels: a second level (pays|does not pay): nested logloss with a second level", result.output)
    assert "auto logloss on the holdout slice (fold 4" in result.output
    import json

    report = json.loads(Path("blends/auto.json").read_text())
    assert set(report["levels"]["estimates"]) == {"1", "2"}
    oof = pd.read_csv("blends/oof/auto.csv")
    assert len(oof) == N_TRAIN and oof["target"].between(0, 1).all()
    result = run("auto", "--repeats", "1", "--max-level", "1", "-o", "blends/auto1.csv")
    assert "no second level suits" in result.output and "level2-hill-climb" not in result.output


def test_level2_hill_climb_is_hill_climbing_over_the_stackers_cross_fitted_predictions():
    from blender.evaluation import cross_fit
    from blender.levels import INNER_FOLDS, LEVEL2_MEMBERS

    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 200)
    values = np.stack([_probabilities(rng, y, noise) for noise in (1.0, 1.8, 3.0)])[:, :, None]
    fitted = fit(BY_NAME["level2-hill-climb"], values, y, kind="binary", metric="logloss", random_state=0)
    assert fitted.names == LEVEL2_MEMBERS == ("stack-logreg", "stack-ridge", "average")
    splits = layout.cv_folds(y, kind="binary", folds=INNER_FOLDS, random_state=0)
    members = [BY_NAME[name] for name in LEVEL2_MEMBERS]
    second = np.stack(
        [cross_fit(m, values, y, splits, kind="binary", metric="logloss", random_state=0) for m in members]
    )
    by_hand = fit(BY_NAME["hill-climb"], second, y, kind="binary", metric="logloss", random_state=0)
    np.testing.assert_array_equal(fitted.details["weights"], by_hand.weights)
    full = np.stack([fit(m, values, y, kind="binary", metric="logloss", random_state=0).apply(values) for m in members])
    np.testing.assert_allclose(fitted.apply(values), by_hand.apply(full))


def test_level2_hill_climb_on_a_handful_of_rows_averages_its_stackers():
    values = np.array([[0.9, 0.2, 0.8], [0.7, 0.4, 0.3]])[:, :, None]
    fitted = fit(BY_NAME["level2-hill-climb"], values, np.array([1, 0, 1]), kind="binary", metric="logloss")
    assert fitted.apply(values).shape == (3, 1)  # one row per class at most: no inner folds, the mean of the stackers


def test_a_new_learning_method_gets_a_command_with_the_shared_options_and_its_oof_file(folder, monkeypatch):
    """A registry line with no command of its own becomes ``blend NAME``, reading the folds file and
    writing its cross-fitted OOF predictions like every learning command."""
    from blender.cli import generated
    from blender.methods import METHODS, Method, Weighted

    def fit_best(values, y, *, kind, metric, random_state=None):  # all weight on the best file by OOF
        best = layout.best_model(layout.model_scores(values, y, metric=metric, kind=kind), metric)
        return Weighted(np.eye(values.shape[0])[best], kind)

    method = Method("best-only", fit_best, ("binary",), True, 2, "the best file")
    monkeypatch.setattr(generated, "METHODS", (*METHODS, method))
    monkeypatch.setitem(BY_NAME, "best-only", method)
    monkeypatch.setattr(app, "registered_commands", list(app.registered_commands))
    generated.generate_commands()
    result = run("best-only", "-o", "blends/best.csv")
    assert result.exit_code == 0, result.output
    assert "folds: data/folds.csv (5 folds" in result.output
    fold = pd.read_csv("data/folds.csv", dtype={"id": str}).set_index("id")["fold"]
    oof = pd.read_csv("blends/oof/best.csv", dtype={"id": str}).set_index("id")["target"]
    learning = io.read_learning(
        [Path(f"submissions/{name}.csv") for name in sorted(MODELS)],
        train_dir=Path("submissions/oof"),
        truth=Path("data/train_labels.csv"),
        command_name="test",
    )
    values, y, ids = learning.train.values, learning.y, learning.train.ids.to_numpy(zero_copy_only=False)
    assignment = fold.loc[ids].to_numpy()
    for held_out_fold in range(4):  # a non-slice fold's rows: the best file on the folds other than it and the slice
        fitted_rows = (assignment != held_out_fold) & (assignment != 4)
        rows = assignment == held_out_fold
        expected = fit_best(values[:, fitted_rows], y[fitted_rows], kind="binary", metric="logloss").apply(
            values[:, rows]
        )[:, 0]
        np.testing.assert_allclose(oof.loc[ids[rows]].to_numpy(), expected, rtol=1e-12)
