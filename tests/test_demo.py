"""The main job's claims, end to end on small fake prediction files with a known answer."""

import numpy as np
import pytest

from blender.evaluation import bootstrap_interval
from blender.methods import BY_NAME, Method, Weighted
from models import demo

N_ROWS = 300  # per set: 100 rows in each third, 3 classes


def _probabilities(y, p_true):
    """Rows giving ``p_true`` to the true class and the rest evenly to the two others."""
    probabilities = np.repeat(((1 - p_true) / 2)[:, None], 3, axis=1)
    probabilities[np.arange(len(y)), y] = p_true
    return probabilities


def _write(path, ids, values, columns):
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["id," + ",".join(columns)] + [
        f"{i}," + ",".join(str(v) if isinstance(v, (int, np.integer)) else repr(float(v)) for v in row)
        for i, row in zip(ids, values)
    ]
    path.write_text("\n".join(lines) + "\n")


@pytest.fixture
def fake_zoo(tmp_path):
    """Three Springenberg CNNs that are each sure on their own third of the rows, and a strong logreg.

    CNN k gives 0.9 to the true class on third k and 0.3 elsewhere; logreg gives 0.97 everywhere.
    The average of the three CNNs gives 0.5 everywhere: log loss ln 2 = 0.6931, against
    (ln(1/0.9) + 2 ln(1/0.3)) / 3 = 0.8378 for each CNN (difference -0.1446). Logreg (0.0305) beats any average.
    """
    rng = np.random.default_rng(0)
    for split, offset in (("train", 0), ("test", N_ROWS)):
        ids = np.arange(offset, offset + N_ROWS)
        y = np.arange(N_ROWS) % 3
        third = np.arange(N_ROWS) // 100
        rng.shuffle(ids)  # ids in no particular order: the files are matched by id
        _write(tmp_path / "data" / f"{split}_labels.csv", ids, y[:, None], ["target"])
        folder = tmp_path / "submissions" / ("oof" if split == "train" else "")
        for k, name in enumerate(["cnn_convpool", "cnn_allconv", "cnn_nin"]):
            _write(folder / f"{name}.csv", ids, _probabilities(y, np.where(third == k, 0.9, 0.3)), ["0", "1", "2"])
        _write(folder / "logreg.csv", ids, _probabilities(y, np.full(N_ROWS, 0.97)), ["0", "1", "2"])
    return tmp_path


def test_claims_on_fake_files_say_yes_and_no(fake_zoo):
    oof, test = demo.load_sets(fake_zoo / "submissions", fake_zoo / "data")
    assert oof.names == ["cnn_allconv", "cnn_convpool", "cnn_nin", "logreg"]
    springenberg = ["cnn_convpool", "cnn_allconv", "cnn_nin"]
    claims = demo.default_claims(oof.names, springenberg, springenberg, [])
    lines = demo.claim_lines(claims, oof, test)
    by_start = {line.split("] ", 1)[1].split(":")[0] + ":" + line.split(": ")[1]: line for line in lines[1:]}

    # Yes: the average of the three CNNs beats each of them, on both row sets.
    for split in ("OOF ", "test"):
        line = by_start[f"{split}:the average of the 3 Springenberg CNNs beats each of them"]
        assert line.startswith("  [      yes] ")
        assert "blend log loss 0.6931 vs cnn_convpool 0.8378, diff -0.1446 [" in line
    # A tie: optimised weights over all four put everything on logreg, the best OOF member, so they
    # differ from it by rounding only (the noise floor), not by a loss or a win.
    for split in ("OOF ", "test"):
        line = by_start[f"{split}:optimised weights over all 4 models beat the best OOF member"]
        assert line.startswith("  [      tie] ") and " vs logreg 0.0305, diff +0.0000 [+0.0000, +0.0000]" in line


def test_the_best_single_model_is_the_best_by_oof_not_by_test(fake_zoo):
    # Make cnn_nin the best on the test rows only: a fair claim still compares with logreg.
    truth = demo.read_labels(fake_zoo / "data" / "test_labels.csv")
    ids = np.array(list(truth), dtype=np.int64)
    y = np.array([int(truth[str(i)]) for i in ids])
    _write(fake_zoo / "submissions" / "cnn_nin.csv", ids, _probabilities(y, np.full(N_ROWS, 0.999)), ["0", "1", "2"])
    oof, test = demo.load_sets(fake_zoo / "submissions", fake_zoo / "data")
    nin = test.of(["cnn_nin"])[0]
    assert (
        demo.row_losses(test.y, nin, "logloss").mean()
        < demo.row_losses(test.y, test.of(["logreg"])[0], "logloss").mean()
    )
    claim = demo.Claim("average of all", oof.names, BY_NAME["average"])
    oof_line, test_line = demo.judge(claim, oof, test)
    assert " vs logreg " in test_line and "cnn_nin" not in test_line


def test_verdicts_and_bootstrap():
    assert demo.verdict([(-0.1, -0.2, -0.01)]) == "yes"
    assert demo.verdict([(-0.1, -0.2, 0.05)]) == "too close"
    assert demo.verdict([(-0.1, -0.2, -0.01), (0.0, -0.1, 0.1)]) == "no"
    # A fair coin's differences (+1 or -1): the interval straddles 0 and has the width of 2 standard errors each way.
    differences = np.where(np.arange(400) % 2 == 0, 1.0, -1.0)
    mean, low, high = bootstrap_interval(differences)
    assert mean == 0.0 and low == pytest.approx(-0.098, abs=0.02) and high == pytest.approx(0.098, abs=0.02)


def test_auto_table_shows_test_scores_next_to_the_oof_estimates(fake_zoo):
    blends_dir = fake_zoo / "blends" / "auto"
    for name in ("logreg", "cnn_nin"):
        (blends_dir).mkdir(parents=True, exist_ok=True)
        (blends_dir / f"{name}.csv").write_bytes((fake_zoo / "submissions" / f"{name}.csv").read_bytes())
    report = {
        "metric": "logloss", "pick": {"name": "logreg", "type": "model"}, "reason": "best by OOF",
        "estimate": {"mean": 0.031, "se": 0.002}, "best_single": {"name": "logreg", "oof": 0.0305},
        "leaderboard": [{"name": "logreg", "type": "model", "mean": 0.0305, "se": 0.001, "wins": 5, "folds": 5},
                        {"name": "cnn_nin", "type": "model", "mean": 0.8378, "se": 0.01, "wins": 0, "folds": 5}],
    }  # fmt: skip
    text = demo.auto_rows_text(report, blends_dir, demo.read_labels(fake_zoo / "data" / "test_labels.csv"))
    assert text.startswith("pick: logreg (model); best by OOF")
    logreg_row = next(line for line in text.splitlines() if line.startswith("logreg "))
    # Test log loss of logreg: -ln 0.97 = 0.030459; accuracy 1.
    assert logreg_row.split()[-2:] == ["0.030459", "1.000000"]


class _Stop(Exception):
    pass


def test_the_demo_gives_training_three_quarters_of_its_time_budget(monkeypatch, tmp_path, capsys):
    commands = []

    def run(command):
        commands.append(command)
        raise _Stop

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(demo, "run", run)
    with pytest.raises(_Stop):
        demo.main(["--jobs", "2"])
    assert commands[0][1:] == ["-m", "models", "oof", "--jobs", "2", "--time-budget", "675s"]  # 75% of 15 min
    assert capsys.readouterr().out.startswith("time budget 15 min 0 s: 11 min 15 s for training")
    commands.clear()
    with pytest.raises(_Stop):
        demo.main(["--time-budget", "none"])
    assert "--time-budget" not in commands[0]


def test_a_bad_demo_budget_is_one_usage_error(capsys):
    with pytest.raises(SystemExit) as stopped:
        demo.main(["--time-budget", "10x"])
    assert stopped.value.code == 2
    assert (
        capsys.readouterr()
        .err.splitlines()[-1]
        .endswith("error: --time-budget 10x: give a duration with units, such as 10m, 90s or 1h30m.")
    )


def test_a_blend_equal_to_its_rival_is_a_tie_not_a_win(fake_zoo):
    """The noise floor in the demo's claims: weights that put everything on the best file differ from
    it by rounding only, and the verdict is a tie on both splits."""
    oof, test = demo.load_sets(fake_zoo / "submissions", fake_zoo / "data")
    best = "logreg"

    weights = np.array(
        [1.0 + 1e-15 if name == best else 0.0 for name in oof.names]
    )  # the best file, give or take rounding
    rounding = Method("rounding", lambda values, y, **_: Weighted(weights, "multiclass"), ("multiclass",), True, 1, "")
    claim = demo.Claim("the best file, rounded", oof.names, rounding, rivals=[best])
    for line in demo.judge(claim, oof, test):
        assert line.startswith("  [      tie] ") and "diff +0.0000 [+0.0000, +0.0000]" in line


def test_the_pick_is_shown_beside_the_top_entry_and_the_best_file(fake_zoo):
    blends_dir = fake_zoo / "blends" / "auto"
    blends_dir.mkdir(parents=True, exist_ok=True)
    for name in ("logreg", "cnn_nin"):
        (blends_dir / f"{name}.csv").write_bytes((fake_zoo / "submissions" / f"{name}.csv").read_bytes())
    report = {
        "pick": {"name": "cnn_nin", "type": "model"},
        "estimate": {"mean": 0.5},
        "best_single": {"name": "logreg", "oof": 0.0305},
        "leaderboard": [{"name": "cnn_nin"}, {"name": "logreg"}],
    }
    text = demo.pick_versus_best_text(
        report, blends_dir / "cnn_nin.csv", blends_dir, demo.read_labels(fake_zoo / "data" / "test_labels.csv")
    )
    assert "the top entry cnn_nin: " in text and "the best OOF model logreg: 0.0305" in text


def test_the_claims_cross_fit_on_make_oofs_folds_file(fake_zoo):
    """With data/folds.csv, a learning blend's OOF rows are cross-fitted on those folds, as blend does."""
    from blender import layout
    from blender.evaluation import assignment_splits, cross_fit

    truth = demo.read_labels(fake_zoo / "data" / "train_labels.csv")
    ids = list(truth)
    (fake_zoo / "data" / "folds.csv").write_text("id,fold\n" + "".join(f"{i},{k % 3}\n" for k, i in enumerate(ids)))
    oof, test = demo.load_sets(fake_zoo / "submissions", fake_zoo / "data")
    assert oof.folds is not None and test.folds is None
    assert sorted(np.bincount(oof.folds).tolist()) == [100, 100, 100]
    claim = demo.Claim("a stack", oof.names, BY_NAME["stack-logreg"])
    lines = demo.claim_lines([claim], oof, test)
    assert "cross-fitted on data/folds.csv" in lines[0]
    by_hand = cross_fit(
        BY_NAME["stack-logreg"],
        oof.values,
        oof.y,
        assignment_splits(oof.folds),
        kind="multiclass",
        metric="logloss",
        random_state=0,
    )
    expected = demo.row_losses(oof.y, by_hand, "logloss").mean()
    assert f"blend log loss {expected:.4f} vs" in lines[1]
    seeded = cross_fit(
        BY_NAME["stack-logreg"],
        oof.values,
        oof.y,
        layout.cv_folds(oof.y, kind="multiclass", folds=5, random_state=0),
        kind="multiclass",
        metric="logloss",
        random_state=0,
    )
    assert not np.allclose(seeded, by_hand)  # the folds file, not seeded folds, made the line
