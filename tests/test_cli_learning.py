"""The learning commands from the command line: score, select, caruana, weights, stack, holdout.

Each test builds a small competition in tmp_path (test files, OOF files, holdout files and the
truth), runs ``blend`` in-process from that folder, and checks the files and lines a user sees.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from blender.cli import app

N_TRAIN, N_TEST = 300, 120
MODELS = ("good", "fair", "noisy", "weak")


def _probabilities(rng, y, noise):
    """Binary probabilities that track y with the given noise."""
    logit = (2 * y - 1) * 2.0 + rng.normal(0, noise, len(y))
    return 1 / (1 + np.exp(-logit))


@pytest.fixture
def competition(tmp_path, monkeypatch):
    """submissions/, submissions/oof/, submissions/holdout/, data/train_labels.csv in tmp_path (binary)."""
    rng = np.random.default_rng(7)
    y_train = rng.integers(0, 2, N_TRAIN)
    y_test = rng.integers(0, 2, N_TEST)
    train_ids = np.arange(1000, 1000 + N_TRAIN)
    test_ids = np.arange(5000, 5000 + N_TEST)
    holdout = train_ids[:100]
    for folder in ("submissions/oof", "submissions/holdout", "data"):
        (tmp_path / folder).mkdir(parents=True, exist_ok=True)
    for noise, name in zip((1.0, 1.6, 2.5, 4.0), MODELS):
        order = rng.permutation(N_TEST)  # each teammate's file lists the ids in its own order
        pd.DataFrame({"id": test_ids[order], "target": _probabilities(rng, y_test, noise)[order]}).to_csv(
            tmp_path / f"submissions/{name}.csv", index=False
        )
        pd.DataFrame({"id": train_ids, "target": _probabilities(rng, y_train, noise)}).to_csv(
            tmp_path / f"submissions/oof/{name}.csv", index=False
        )
        pd.DataFrame({"id": holdout, "target": _probabilities(rng, y_train[:100], noise)}).to_csv(
            tmp_path / f"submissions/holdout/{name}.csv", index=False
        )
    pd.DataFrame({"id": train_ids, "target": y_train}).to_csv(tmp_path / "data/train_labels.csv", index=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def read_output(path="blends/out.csv"):
    return pd.read_csv(path, dtype={"id": str})


def first_file_ids():
    return pd.read_csv("submissions/fair.csv", dtype={"id": str})["id"].tolist()  # files sort: fair is first


@pytest.mark.parametrize(
    "args",
    [
        ["select"],
        ["select", "--top", "2"],
        ["caruana", "--iters", "10", "--bags", "3"],
        ["caruana", "--no-replacement", "--init", "0", "--iters", "3"],
        ["weights", "--method", "slsqp"],
        ["weights", "--method", "nelder-mead"],
        ["stack", "--meta", "logreg"],
        ["stack", "--meta", "ridge", "--fwls"],
        ["stack", "--meta", "et", "--quadratic"],
        ["stack", "--meta", "knn", "--logit"],
        ["holdout", "--meta", "logreg"],
    ],
)
def test_learning_commands_write_probabilities_in_the_first_files_order(competition, args):
    result = run(*args, "-o", "blends/out.csv")
    assert result.exit_code == 0, result.output
    out = read_output()
    assert list(out.columns) == ["id", "target"]
    assert out["id"].tolist() == first_file_ids()
    assert out["target"].between(0, 1).all()
    assert "wrote blends/out.csv" in result.stderr


def test_score_models_only_ranks_the_files_best_first(competition):
    # The fixture's files get noisier in the order good, fair, noisy, weak.
    result = run("score", "--models-only")
    assert result.exit_code == 0
    lines = [line.split() for line in result.stdout.splitlines()[2:]]
    assert [line[1] for line in lines] == ["good", "fair", "noisy", "weak"]  # best first, by OOF logloss


def test_caruana_gives_a_perfect_file_all_the_weight(competition):
    y = pd.read_csv("data/train_labels.csv")
    y.rename(columns={"target": "target"}).to_csv("submissions/oof/oracle.csv", index=False)
    pd.read_csv("submissions/good.csv").to_csv("submissions/oracle.csv", index=False)
    result = run("caruana", "--init", "0", "--iters", "5", "--weights-out", "blends/w.json", "-o", "blends/out.csv")
    assert result.exit_code == 0, result.output
    weights = json.loads(Path("blends/w.json").read_text())["weights"]
    assert weights["oracle"] == pytest.approx(1.0)
    assert sum(weights.values()) == pytest.approx(1.0)
    # The blend of the test files is then the oracle's test file itself.
    out = read_output().set_index("id")["target"]
    oracle = pd.read_csv("submissions/oracle.csv", dtype={"id": str}).set_index("id")["target"]
    np.testing.assert_allclose(out.loc[oracle.index], oracle, rtol=0, atol=1e-15)


def test_weights_are_on_the_simplex_and_applied_to_the_test_files(competition):
    result = run("weights", "--weights-out", "blends/w.json", "-o", "blends/out.csv")
    assert result.exit_code == 0, result.output
    weights = json.loads(Path("blends/w.json").read_text())["weights"]
    assert all(w >= 0 for w in weights.values())
    assert sum(weights.values()) == pytest.approx(1.0)
    expected = sum(
        w * pd.read_csv(f"submissions/{name}.csv", dtype={"id": str}).set_index("id")["target"]
        for name, w in weights.items()
    )
    out = read_output().set_index("id")["target"]
    np.testing.assert_allclose(out, expected.loc[out.index], rtol=1e-12)


def test_score_prints_a_leaderboard_with_blends_and_draws_it(competition):
    result = run("score", "--cv", "3", "--plot", "blends/board.png", "-o", "blends/board.csv")
    assert result.exit_code == 0, result.output
    board = pd.read_csv("blends/board.csv")
    assert set(MODELS) <= set(board["name"])
    assert (board["type"] != "model").any()
    assert board["score"].is_monotonic_increasing  # logloss: best (lowest) first
    assert Path("blends/board.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_caruana_plot_is_a_png(competition):
    assert run("caruana", "--plot", "blends/c.png", "-o", "blends/out.csv").exit_code == 0
    assert Path("blends/c.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_select_skips_a_file_correlated_with_a_better_one(competition):
    good = pd.read_csv("submissions/oof/good.csv")
    good["target"] = np.clip(good["target"] * 0.999 + 0.0005, 0, 1)  # a near-copy of good, slightly worse
    good.to_csv("submissions/oof/copy.csv", index=False)
    pd.read_csv("submissions/good.csv").to_csv("submissions/copy.csv", index=False)
    result = run("select", "--max-corr", "0.99", "-o", "blends/out.csv")
    assert result.exit_code == 0, result.output
    assert "left out: copy" in result.stderr


# ------------------------------------------------------------------ bad input


def _untouched(args, message):
    out = Path("blends/out.csv")
    out.parent.mkdir(exist_ok=True)
    out.write_bytes(b"id,target\nold,0.5\n")
    result = run(*args, "-o", out)
    assert result.exit_code == 1
    assert f"Error: {message}" in result.stderr
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()[-1]) > 0
    assert out.read_bytes() == b"id,target\nold,0.5\n"


@pytest.mark.parametrize("command", ["select", "caruana", "weights", "stack", "score"])
def test_missing_oof_file(competition, command):
    Path("submissions/oof/fair.csv").unlink()
    _untouched(
        [command],
        f"submissions/oof/fair.csv not found: {command} learns from OOF predictions (run make oof, or pass --oof-dir).",
    )


def test_missing_holdout_file(competition):
    Path("submissions/holdout/weak.csv").unlink()
    _untouched(
        ["holdout"],
        "submissions/holdout/weak.csv not found: holdout learns from holdout predictions "
        "(run make holdout, or pass --holdout-dir).",
    )


def test_truth_that_does_not_cover_the_oof_ids(competition):
    truth = pd.read_csv("data/train_labels.csv")
    truth.iloc[5:].to_csv("data/train_labels.csv", index=False)
    _untouched(
        ["caruana"],
        "data/train_labels.csv: 5 ids of submissions/oof/fair.csv have no truth (e.g. 1000, 1001, 1002, ...)",
    )


def test_oof_file_with_missing_ids(competition):
    oof = pd.read_csv("submissions/oof/noisy.csv")
    oof.iloc[:-2].to_csv("submissions/oof/noisy.csv", index=False)
    _untouched(
        ["weights"], "submissions/oof/noisy.csv: 2 ids of submissions/oof/fair.csv are missing (e.g. 1298, 1299)"
    )


def test_oof_file_with_other_columns(competition):
    oof = pd.read_csv("submissions/oof/weak.csv").rename(columns={"target": "prob"})
    oof.to_csv("submissions/oof/weak.csv", index=False)
    _untouched(["stack"], "submissions/oof/weak.csv: columns differ from submissions/fair.csv")


def test_bad_bag_fraction(competition):
    _untouched(["caruana", "--bag-fraction", "0"], "--bag-fraction 0: give a share in (0, 1], e.g. 0.5.")


def test_features_need_two_files(competition):
    _untouched(["stack", "--features", "train.csv"], "--features train.csv: give two files, TRAIN.csv,TEST.csv")


def test_non_binary_truth_for_binary_probabilities(competition):
    truth = pd.read_csv("data/train_labels.csv")
    truth["target"] = truth["target"] + np.arange(len(truth)) % 3
    truth.to_csv("data/train_labels.csv", index=False)
    _untouched(["weights"], "data/train_labels.csv: 4 labels (0, 1, 2, 3) against the one probability column of")


# ------------------------------------------------------------------ other kinds


@pytest.fixture
def multiclass(tmp_path, monkeypatch):
    """Three-class probabilities (columns cat, dog, owl) and label files, with the truth."""
    rng = np.random.default_rng(3)
    classes = np.array(["cat", "dog", "owl"])
    y_train, y_test = rng.integers(0, 3, 240), rng.integers(0, 3, 90)
    (tmp_path / "submissions/oof").mkdir(parents=True)
    (tmp_path / "labels/oof").mkdir(parents=True)
    (tmp_path / "data").mkdir()
    for noise, name in zip((0.8, 1.5, 2.5), ("a", "b", "c")):
        for y, ids, folder in (
            (y_test, np.arange(len(y_test)), ""),
            (y_train, np.arange(100, 100 + len(y_train)), "oof/"),
        ):
            scores = np.eye(3)[y] * 2 + rng.normal(0, noise, (len(y), 3))
            p = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
            frame = pd.DataFrame(p, columns=classes)
            frame.insert(0, "id", ids)
            frame.to_csv(tmp_path / f"submissions/{folder}{name}.csv", index=False)
            pd.DataFrame({"id": ids, "label": classes[p.argmax(axis=1)]}).to_csv(
                tmp_path / f"labels/{folder}{name}.csv", index=False
            )
    pd.DataFrame({"id": np.arange(100, 100 + len(y_train)), "animal": classes[y_train]}).to_csv(
        tmp_path / "data/train_labels.csv", index=False
    )
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    "args", [["caruana"], ["weights"], ["stack", "--meta", "xgb"], ["select"], ["stack", "--meta", "rf", "--fwls"]]
)
def test_multiclass_blends_are_probability_rows(multiclass, args):
    result = run(*args, "-o", "blends/out.csv")
    assert result.exit_code == 0, result.output
    out = read_output()
    assert list(out.columns) == ["id", "cat", "dog", "owl"]
    np.testing.assert_allclose(out[["cat", "dog", "owl"]].sum(axis=1), 1.0, atol=1e-9)


def test_label_files_score_by_accuracy_and_stack_to_labels(multiclass):
    result = run("score", "labels/*.csv", "--oof-dir", "labels/oof", "--models-only")
    assert result.exit_code == 0, result.output
    assert "accuracy (CV)" in result.stdout
    result = run("stack", "labels/*.csv", "--oof-dir", "labels/oof", "-o", "blends/out.csv")
    assert result.exit_code == 0, result.output
    assert set(read_output()["label"]) <= {"cat", "dog", "owl"}


def test_metric_that_does_not_suit_the_kind(multiclass):
    result = run("caruana", "--metric", "rmse")
    assert result.exit_code == 1
    assert (
        "Error: --metric rmse: rmse is not defined for class probabilities; for class probabilities use logloss, "
        "balanced_logloss, accuracy, balanced_accuracy, f1_macro, f1_weighted, mcc, auc_ovr, map@K or qwk."
        in result.stderr
    )


@pytest.mark.parametrize("command", ["select", "caruana", "hill-climb", "weights", "stack"])
def test_a_learning_command_takes_label_files_as_its_registry_entry_does(multiclass, command):
    # The registry is the one definition: caruana and weights took labels in `blend score` and `auto` but their
    # commands refused them. Each command now blends them, as its entry does, and writes labels.
    from blender.methods import BY_NAME

    entry = BY_NAME["stack-logreg" if command == "stack" else command]
    assert "labels" in entry.kinds
    result = run(command, "labels/*.csv", "--oof-dir", "labels/oof", "-o", "blends/out.csv")
    assert result.exit_code == 0, result.output
    assert set(read_output()["label"]) <= {"cat", "dog", "owl"}


# ---------------------------------------------------------------------------- values, not just shapes


def _library_blend(entry_name, **options):
    """What the registry entry gives when fitted on the OOF files and applied to the test files, read by io."""
    from blender import io
    from blender.methods import BY_NAME, fit

    paths = sorted(Path("submissions").glob("*.csv"))
    learning = io.read_learning(
        paths, train_dir=Path("submissions/oof"), truth=Path("data/train_labels.csv"), command_name="test"
    )
    fitted = fit(
        BY_NAME[entry_name],
        learning.train.values,
        learning.y,
        kind=learning.train.kind,
        metric="logloss",
        random_state=0,
        **options,
    )
    blended = fitted.apply(learning.test.values)
    return pd.Series(blended[:, 0], index=learning.test.id_array())


@pytest.mark.parametrize(
    "args, entry, options",
    [
        (["select", "--max-corr", "0.9"], "select", {"max_corr": 0.9}),
        (["caruana", "--init", "2", "--iters", "7"], "caruana", {"init": 2, "iters": 7}),
        (["weights"], "weights", {}),
        (["hill-climb"], "hill-climb", {}),
        (["stack", "--meta", "ridge"], "stack-ridge", {}),
    ],
)
def test_learning_commands_write_what_the_library_computes(competition, args, entry, options):
    result = run(*args, "--seed", "0", "-o", "blends/out.csv")
    assert result.exit_code == 0, result.output
    out = read_output().set_index("id")["target"]
    expected = _library_blend(entry, **options)
    np.testing.assert_allclose(out.to_numpy(), expected.loc[out.index].to_numpy(), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    "args",
    [
        ["select"],
        ["caruana", "--bags", "3"],
        ["weights"],
        ["hill-climb"],
        ["stack", "--meta", "logreg", "--fwls"],
        ["holdout"],
        ["score", "--cv", "3"],
        ["average", "--calibrate"],
        ["auto", "--cv", "3", "--repeats", "1"],
    ],
)
def test_shuffled_truth_and_oof_rows_change_nothing(competition, args):
    """Truth and OOF files in another id order give the same bytes: rows are matched by id."""
    first = run(*args, "-o", "blends/first.csv")
    assert first.exit_code == 0, first.output
    rng = np.random.default_rng(3)
    truth = pd.read_csv("data/train_labels.csv")
    truth.iloc[rng.permutation(len(truth))].to_csv("data/train_labels.csv", index=False)
    for path in [*Path("submissions/oof").glob("*.csv"), *Path("submissions/holdout").glob("*.csv")]:
        frame = pd.read_csv(path, dtype={"id": str})
        frame.iloc[rng.permutation(len(frame))].to_csv(path, index=False)
    second = run(*args, "-o", "blends/second.csv")
    assert second.exit_code == 0, second.output
    if args[0] == "score":
        assert first.stdout == second.stdout
    else:
        assert Path("blends/first.csv").read_bytes() == Path("blends/second.csv").read_bytes()


def test_auto_picks_a_truly_better_blend_and_writes_it(competition):
    """Two files with independent errors: their average is truly better, and auto picks a blend."""
    rng = np.random.default_rng(11)
    y = pd.read_csv("data/train_labels.csv")["target"].to_numpy()
    for path in [*Path("submissions").glob("*.csv"), *Path("submissions/oof").glob("*.csv")]:
        path.unlink()
    test_ids = np.arange(5000, 5000 + N_TEST)
    train_ids = np.arange(1000, 1000 + N_TRAIN)
    for name in ("a", "b"):
        pd.DataFrame({"id": train_ids, "target": _probabilities(rng, y, 3.0)}).to_csv(
            f"submissions/oof/{name}.csv", index=False
        )
        pd.DataFrame({"id": test_ids, "target": rng.uniform(size=N_TEST)}).to_csv(
            f"submissions/{name}.csv", index=False
        )
    result = run("auto", "--report", "blends/auto.json", "-o", "blends/out.csv")
    assert result.exit_code == 0, result.output
    report = json.loads(Path("blends/auto.json").read_text())
    assert report["pick"]["type"] == "blend", report["reason"]
    assert "pick:" in result.stderr and "estimated logloss" in result.stderr


def test_auto_on_pure_noise_keeps_the_best_single_file(competition):
    """Files of pure noise: no blend can beat the best one beyond noise, and auto says so."""
    rng = np.random.default_rng(5)
    for path in Path("submissions/oof").glob("*.csv"):
        frame = pd.read_csv(path)
        frame["target"] = rng.uniform(0.3, 0.7, len(frame))
        frame.to_csv(path, index=False)
    # By AUC no blend of noise is truly better (by log loss their mean is: it shrinks towards 0.5).
    result = run("auto", "--metric", "auc", "--report", "blends/auto.json", "-o", "blends/out.csv")
    assert result.exit_code == 0, result.output
    report = json.loads(Path("blends/auto.json").read_text())
    assert report["pick"] == {"name": report["best_single"]["name"], "type": "model", "members": []}
    assert "no blend beats" in result.stderr
    written = read_output().set_index("id")["target"]
    original = pd.read_csv(f"submissions/{report['pick']['name']}.csv", dtype={"id": str}).set_index("id")["target"]
    np.testing.assert_array_equal(written.to_numpy(), original.loc[written.index].to_numpy())


def test_a_command_failing_while_writing_leaves_no_output(competition, monkeypatch):
    """caruana writes JSON, PNG and CSV as one unit: a failure writing the last leaves none of them."""
    from blender.io import writing

    Path("blends").mkdir()
    Path("blends/out.csv").write_text("previous\n")

    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(writing, "write_predictions_to", broken)
    result = run("caruana", "--weights-out", "blends/w.json", "--plot", "blends/c.png", "-o", "blends/out.csv")
    assert result.exit_code != 0
    assert isinstance(result.exception, OSError)  # our failure, not a user's: it keeps its traceback
    assert sorted(p.name for p in Path("blends").iterdir()) == ["out.csv"]
    assert Path("blends/out.csv").read_text() == "previous\n"


def test_an_unusable_output_is_refused_before_any_work(competition):
    Path("blends").mkdir()
    result = run("caruana", "--plot", "blends/c.txt", "--weights-out", "blends/w.json", "-o", "blends/out.csv")
    assert result.exit_code == 1
    assert "Error: --plot blends/c.txt" in result.stderr
    assert "caruana:" not in result.stderr  # refused before the selection ran
    assert list(Path("blends").iterdir()) == []
    result = run("stack", "-o", "blends")
    assert result.exit_code == 1 and "Error: --out blends" in result.stderr


# ---------------------------------------------------------------------------- success paths


@pytest.mark.parametrize(
    "args", [["caruana"], ["weights"], ["hill-climb"], ["stack", "--meta", "logreg"], ["auto", "--repeats", "1"]]
)
def test_multiclass_files_with_shuffled_rows_and_columns_give_the_same_blend(multiclass, args):
    """Rows matched by id and class columns by name: shuffling both in every file but the first changes nothing."""
    first = run(*args, "-o", "blends/first.csv")
    assert first.exit_code == 0, first.output
    rng = np.random.default_rng(0)
    for path in [Path("submissions/b.csv"), Path("submissions/c.csv"), *Path("submissions/oof").glob("*.csv")]:
        frame = pd.read_csv(path, dtype={"id": str})
        columns = ["id", *rng.permutation(["cat", "dog", "owl"]).tolist()]
        frame.iloc[rng.permutation(len(frame))][columns].to_csv(path, index=False)
    second = run(*args, "-o", "blends/second.csv")
    assert second.exit_code == 0, second.output
    assert Path("blends/first.csv").read_bytes() == Path("blends/second.csv").read_bytes()
    assert pd.read_csv("blends/first.csv").columns.tolist() == ["id", "cat", "dog", "owl"]


def _regression(tmp_path, monkeypatch):
    rng = np.random.default_rng(4)
    y_train, y_test = rng.normal(50, 10, 200), rng.normal(50, 10, 60)
    (tmp_path / "submissions/oof").mkdir(parents=True)
    (tmp_path / "data").mkdir()
    for noise, name in zip((3.0, 5.0, 8.0), ("a", "b", "c")):
        pd.DataFrame({"id": np.arange(60), "price": y_test + rng.normal(0, noise, 60)}).to_csv(
            tmp_path / f"submissions/{name}.csv", index=False
        )
        pd.DataFrame({"id": np.arange(100, 300), "price": y_train + rng.normal(0, noise, 200)}).to_csv(
            tmp_path / f"submissions/oof/{name}.csv", index=False
        )
    pd.DataFrame({"id": np.arange(100, 300), "price": y_train}).to_csv(tmp_path / "data/train_labels.csv", index=False)
    monkeypatch.chdir(tmp_path)


@pytest.mark.parametrize(
    "args, entry",
    [
        (["caruana"], "caruana"),
        (["weights"], "weights"),
        (["hill-climb"], "hill-climb"),
        (["stack", "--meta", "ridge"], "stack-ridge"),
    ],
)
def test_regression_through_learning_commands(tmp_path, monkeypatch, args, entry):
    from blender import io
    from blender.methods import BY_NAME, fit

    _regression(tmp_path, monkeypatch)
    result = run(*args, "-o", "blends/out.csv")
    assert result.exit_code == 0, result.output
    assert "metric rmse" in result.stderr
    learning = io.read_learning(
        sorted(Path("submissions").glob("*.csv")),
        train_dir=Path("submissions/oof"),
        truth=Path("data/train_labels.csv"),
        command_name="test",
    )
    expected = fit(
        BY_NAME[entry], learning.train.values, learning.y, kind="regression", metric="rmse", random_state=0
    ).apply(learning.test.values)[:, 0]
    out = pd.read_csv("blends/out.csv")
    np.testing.assert_allclose(out["price"], expected, rtol=1e-12)
    assert out["price"].std() > 5  # values, not probabilities


def test_stack_with_features_equals_the_library_call(competition):
    from blender import io
    from blender.stacking import stack

    rng = np.random.default_rng(9)
    train_ids = pd.read_csv("data/train_labels.csv")["id"]
    test_ids = pd.read_csv("submissions/good.csv")["id"]
    pd.DataFrame(
        {"id": train_ids, "x1": rng.normal(size=len(train_ids)), "colour": rng.choice(["r", "g"], len(train_ids))}
    ).iloc[::-1].to_csv("train_features.csv", index=False)
    pd.DataFrame(
        {"id": test_ids, "x1": rng.normal(size=len(test_ids)), "colour": rng.choice(["r", "g"], len(test_ids))}
    ).to_csv("test_features.csv", index=False)
    result = run(
        "stack",
        "--meta",
        "ridge",
        "--fwls",
        "--features",
        "train_features.csv,test_features.csv",
        "-o",
        "blends/out.csv",
    )
    assert result.exit_code == 0, result.output
    assert "features: 3 columns" in result.stderr
    learning = io.read_learning(
        sorted(Path("submissions").glob("*.csv")),
        train_dir=Path("submissions/oof"),
        truth=Path("data/train_labels.csv"),
        command_name="test",
    )
    train_features, test_features, names = io.read_features(
        Path("train_features.csv"), Path("test_features.csv"), learning.train.ids, learning.test.ids
    )
    assert names == ["x1", "colour_g", "colour_r"]
    expected = stack(
        learning.train.values,
        learning.y,
        learning.test.values,
        kind="binary",
        meta="ridge",
        fwls=True,
        train_features=train_features,
        test_features=test_features,
        random_state=0,
    )
    out = read_output()
    np.testing.assert_allclose(out["target"], expected.test_predictions[:, 0], rtol=1e-12)
