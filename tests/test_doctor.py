"""blend doctor (issue 27): each check finds a fault planted in made-up files and names the file; clean files
give no finding; the command's lines, exit codes (0, 1 on bad input, 4 with --strict) and --verbose / --plot.

The made-up competition: a latent signal ``s`` per row, the truth drawn from it, and six models that see
``s`` through noise of their own size (so they agree with each other to different degrees), the same
models on the OOF rows and on the test rows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from blender import doctor
from blender.cli import app

N_OOF, N_TEST = 800, 500
NOISE = (0.3, 0.45, 0.6, 0.8, 1.0, 1.3)
NAMES = [f"m{k}" for k in range(len(NOISE))]


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def competition(seed: int = 0, n_oof: int = N_OOF, n_test: int = N_TEST, noise=NOISE):
    """(oof, test, y, folds): binary probabilities of shape (6, rows, 1), calibrated by construction."""
    rng = np.random.default_rng(seed)
    signal_oof, signal_test = rng.normal(0, 1.5, n_oof), rng.normal(0, 1.5, n_test)
    y = (rng.random(n_oof) < _sigmoid(signal_oof)).astype(int)

    def models(signal):
        # A model sees the signal through noise; it predicts P(y = 1 | what it sees): the signal's posterior mean
        # shrunk by the probit approximation of its posterior variance, so it is calibrated by construction.
        variance = 1.5**2
        predictions = []
        for sd in noise:
            seen = signal + rng.normal(0, sd, signal.shape)
            mean, spread = seen * variance / (variance + sd**2), variance * sd**2 / (variance + sd**2)
            predictions.append(_sigmoid(mean / np.sqrt(1 + np.pi * spread / 8)))
        return np.stack(predictions)[:, :, None]

    folds = np.arange(n_oof) % 5
    return models(signal_oof), models(signal_test), y, folds


def diagnose(oof, test, y, folds=None, names=NAMES, **kwargs):
    return doctor.diagnose(oof, test, y, names=list(names), kind="binary", metric="logloss", folds=folds, **kwargs)


def faults(diagnosis):
    return [(finding.check, finding.files) for finding in diagnosis.findings if not finding.advice]


# ---------------------------------------------------------------------------- the library, one check at a time


def test_clean_files_give_no_finding():
    oof, test, y, folds = competition()
    diagnosis = diagnose(oof, test, y, folds)
    assert diagnosis.findings == [], [finding.message for finding in diagnosis.findings]
    assert "folds" not in diagnosis.skipped and "suspicious-oof" not in diagnosis.skipped


@pytest.mark.parametrize(
    ("transform", "rows"),
    [
        (np.square, (N_OOF, N_TEST)),
        (lambda values: values * 0.6, (N_OOF, N_TEST)),
        # The same mean, squeezed: the KS statistic alone sees it, where it is 6 times its noise (so on more rows).
        (lambda values: values.mean() + (values - values.mean()) * 0.3, (4000, 3000)),
    ],
)
def test_drift_names_the_test_file_that_was_squared_rescaled_or_squeezed(transform, rows):
    oof, test, y, folds = competition(0, *rows)
    test[2] = transform(test[2])
    diagnosis = diagnose(oof, test, y, folds)
    assert faults(diagnosis) == [("drift", ("m2",))]
    assert diagnosis.findings[0].message.startswith("drift: m2: its test predictions are distributed unlike its OOF")


def test_drift_names_the_one_file_that_did_not_move_with_the_others():
    # Twelve files; the test values of every file but m2 are 15% lower (the set moved); m2 stayed, off its line.
    noise = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9)
    oof, test, y, folds = competition(noise=noise)
    shifted = test * 0.85
    shifted[2] = test[2]
    diagnosis = diagnose(oof, shifted, y, folds, names=[f"m{k}" for k in range(len(noise))])
    assert faults(diagnosis) == [("drift", ("m2",))]
    assert "against the other files' mean it moved" in diagnosis.findings[0].message


def test_a_whole_set_that_shifts_together_is_not_drift():
    oof, test, y, folds = competition()
    assert faults(diagnose(oof, test**1.5, y, folds)) == []


def test_disagreement_names_the_test_file_swapped_with_another_models_and_not_that_model():
    oof, test, y, folds = competition()
    test[0] = test[5]
    diagnosis = diagnose(oof, test, y, folds)
    assert ("disagreement", ("m0",)) in faults(diagnosis)
    assert all("m5" not in files for _, files in faults(diagnosis))
    message = next(f.message for f in diagnosis.findings if f.check == "disagreement")
    assert message.startswith("disagreement: m0: its correlation with the other files on the OOF rows differs")
    assert "its test values equal m5's" in message


def test_among_many_files_the_model_a_swapped_file_copies_is_not_flagged_too():
    # Eleven alike models and one far noisier (m11); m0's test file is m11's.
    noise = (0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 2.5)
    oof, test, y, folds = competition(noise=noise)
    test[0] = test[11]
    names = [f"m{k}" for k in range(len(noise))]
    diagnosis = diagnose(oof, test, y, folds, names=names)
    assert [files for check, files in faults(diagnosis) if check == "disagreement"] == [("m0",)]
    # Judged with m0 among the others, m11 would be an outlier too: leaving m0 out is what clears it.
    assert doctor.robust_z(diagnosis.table["disagreement"], floor=0.5)[11] > doctor.DISAGREEMENT_Z


def test_duplicate_names_both_files_and_nothing_else():
    oof, test, y, folds = competition()
    oof, test = np.concatenate([oof, oof[1:2]]), np.concatenate([test, test[1:2]])
    diagnosis = diagnose(oof, test, y, folds, names=[*NAMES, "m1_copy"])
    assert faults(diagnosis) == [("duplicate", ("m1", "m1_copy"))]
    assert diagnosis.findings[0].message.startswith("duplicate: m1 and m1_copy hold the same values")


def test_files_that_differ_in_one_cell_are_not_duplicates():
    oof, test, y, folds = competition()
    copy = test[1:2].copy()
    copy[0, 1, 0] += 0.01  # a row the first, cheap comparison does not look at
    diagnosis = diagnose(
        np.concatenate([oof, oof[1:2]]), np.concatenate([test, copy]), y, folds, names=[*NAMES, "m1_copy"]
    )
    assert [finding.check for finding in diagnosis.findings] == ["near-duplicate"]


def test_near_duplicates_are_a_cluster_above_the_printed_correlation():
    oof, test, y, folds = competition()
    rng = np.random.default_rng(1)
    oof = np.concatenate([oof, oof[3:4] + rng.normal(0, 1e-4, oof[3:4].shape)])
    test = np.concatenate([test, test[3:4] + rng.normal(0, 1e-4, test[3:4].shape)])
    diagnosis = diagnose(oof, test, y, folds, names=[*NAMES, "m3_seed2"])
    near = [finding for finding in diagnosis.findings if finding.check == "near-duplicate"]
    assert [finding.files for finding in near] == [("m3", "m3_seed2")]
    assert f"above {doctor.NEAR_DUPLICATE_CORR:g}" in near[0].message and faults(diagnosis) == []


def test_suspicious_oof_names_a_leaky_oof_file():
    oof, test, y, folds = competition()
    oof[4] = 0.7 * y[:, None] + 0.3 * oof[4]  # a model that saw these rows' truth
    diagnosis = diagnose(oof, test, y, folds)
    assert ("suspicious-oof", ("m4",)) in faults(diagnosis)
    assert all(files == ("m4",) for _, files in faults(diagnosis))
    assert any(
        f.message.startswith("suspicious-oof: m4: its OOF predictions agree with the truth far better")
        for f in diagnosis.findings
    )


def test_suspicious_oof_names_a_file_whose_fold_scores_vary_far_more():
    oof, test, y, folds = competition()
    # In fold 0 the file knows the truth, elsewhere its opposite: its per-fold scores swing from +1 to -1.
    oof[3, folds != 0, 0] = 0.9 - 0.8 * y[folds != 0]
    oof[3, folds == 0, 0] = 0.8 * y[folds == 0] + 0.1
    diagnosis = diagnose(oof, test, y, folds)
    spread = [f for f in diagnosis.findings if f.check == "suspicious-oof" and "per-fold" in f.message]
    assert [f.files for f in spread] == [("m3",)]
    assert "vary far more than the others'" in spread[0].message


def test_folds_compares_partitions_not_fold_numbers():
    oof, test, y, folds = competition()
    renumbered = (folds + 2) % 5
    other = np.random.default_rng(3).permutation(folds)
    diagnosis = diagnose(
        oof, test, y, folds, file_folds={"m0": renumbered, "m1": other}, shared_folds_name="data/folds.csv"
    )
    assert faults(diagnosis) == [("folds", ("m1",))]
    message = diagnosis.findings[0].message
    assert message.startswith("folds: m1: its OOF predictions were made on other folds than data/folds.csv")
    assert "Caruana are fine" in message and "stack" in message


def test_folds_says_it_was_skipped_without_the_shared_folds_file():
    oof, test, y, _ = competition()
    diagnosis = diagnose(oof, test, y, None, file_folds={"m0": np.arange(N_OOF) % 3})
    assert faults(diagnosis) == [] and "no shared folds file" in diagnosis.skipped["folds"]


def test_calibration_names_a_badly_calibrated_file_and_is_advice():
    oof, test, y, folds = competition()
    oof[1], test[1] = oof[1] ** 0.25, test[1] ** 0.25  # far too sure of the positive class, on both sides alike
    diagnosis = diagnose(oof, test, y, folds)
    calibration = [finding for finding in diagnosis.findings if finding.check == "calibration"]
    assert [finding.files for finding in calibration] == [("m1",)] and calibration[0].advice
    assert "--calibrate" in calibration[0].message
    assert faults(diagnosis) == []


def test_calibration_is_skipped_for_regression():
    oof, test, y, folds = competition()
    diagnosis = doctor.diagnose(
        oof * 10, test * 10, y * 10.0, names=NAMES, kind="regression", metric="rmse", folds=folds
    )
    assert "regression" in diagnosis.skipped["calibration"]


def test_partition_mismatch_by_hand():
    assert doctor.partition_mismatch(np.array([0, 0, 1, 1, 2, 2]), np.array([2, 2, 0, 0, 1, 1])) == 0.0
    assert doctor.partition_mismatch(np.array([0, 0, 1, 1]), np.array([0, 0, 0, 1])) == 0.25


def test_findings_are_sorted_most_serious_first():
    oof, test, y, folds = competition()
    test[2] = test[2] ** 2
    oof, test = np.concatenate([oof, oof[1:2]]), np.concatenate([test, test[1:2]])
    oof[1], test[1] = oof[1] ** 0.25, test[1] ** 0.25
    oof[-1], test[-1] = oof[1], test[1]
    diagnosis = diagnose(oof, test, y, folds, names=[*NAMES, "m1_copy"])
    checks = [finding.check for finding in diagnosis.findings]
    assert checks == sorted(checks, key=doctor.CHECKS.index)
    assert checks[:2] == ["duplicate", "drift"]


# ---------------------------------------------------------------------------- the command


def write_competition(folder: Path, oof, test, y, names=NAMES, *, folds=None) -> None:
    (folder / "submissions" / "oof").mkdir(parents=True)
    (folder / "data").mkdir()
    oof_ids, test_ids = [f"t{k}" for k in range(N_OOF)], [f"s{k}" for k in range(N_TEST)]
    for k, name in enumerate(names):
        pd.DataFrame({"id": test_ids, "target": test[k, :, 0]}).to_csv(
            folder / "submissions" / f"{name}.csv", index=False
        )
        pd.DataFrame({"id": oof_ids, "target": oof[k, :, 0]}).to_csv(
            folder / "submissions" / "oof" / f"{name}.csv", index=False
        )
    pd.DataFrame({"id": oof_ids, "target": y}).to_csv(folder / "data" / "train_labels.csv", index=False)
    if folds is not None:
        pd.DataFrame({"id": oof_ids, "fold": folds}).to_csv(folder / "data" / "folds.csv", index=False)


def run(*args):
    from typer.testing import CliRunner

    return CliRunner().invoke(app, ["doctor", *map(str, args)])


def finding_lines(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.split(":")[0] in doctor.CHECKS]


def test_the_command_on_clean_files_prints_no_finding_and_exits_0_even_strict(tmp_path, monkeypatch):
    oof, test, y, folds = competition()
    write_competition(tmp_path, oof, test, y, folds=folds)
    monkeypatch.chdir(tmp_path)
    result = run("--strict")
    assert result.exit_code == 0, result.output
    assert finding_lines(result) == []
    assert "doctor: 0 findings (0 to fix, 0 advice) naming 0 of 6 files" in result.stderr


def test_the_command_names_the_planted_files_and_strict_exits_4(tmp_path, monkeypatch):
    oof, test, y, folds = competition()
    test[2] = test[2] ** 2
    oof, test = np.concatenate([oof, oof[4:5]]), np.concatenate([test, test[4:5]])
    write_competition(tmp_path, oof, test, y, [*NAMES, "copy"], folds=folds)
    (tmp_path / "submissions" / "folds").mkdir()
    other = np.random.default_rng(3).permutation(folds)
    pd.DataFrame({"id": [f"t{k}" for k in range(N_OOF)], "fold": other}).to_csv(
        tmp_path / "submissions" / "folds" / "m3.csv", index=False
    )
    monkeypatch.chdir(tmp_path)
    result = run()
    assert result.exit_code == 0, result.output
    lines = finding_lines(result)
    assert [line.split(": ")[0:2] for line in lines] == [
        ["duplicate", "submissions/copy.csv and submissions/m4.csv hold the same values on every OOF and test row"]
        if lines[0].startswith("duplicate: submissions/copy")
        else [
            "duplicate",
            "submissions/m4.csv and submissions/copy.csv hold the same values on every OOF and test row",
        ],
        ["drift", "submissions/m2.csv"],
        ["folds", "submissions/folds/m3.csv"],
    ]
    assert run("--strict").exit_code == 4


def test_strict_lets_advice_pass(tmp_path, monkeypatch):
    oof, test, y, folds = competition()
    oof[1], test[1] = oof[1] ** 0.25, test[1] ** 0.25
    write_competition(tmp_path, oof, test, y, folds=folds)
    monkeypatch.chdir(tmp_path)
    result = run("--strict")
    assert result.exit_code == 0, result.output
    assert [line.split(": ")[:2] for line in finding_lines(result)] == [["calibration", "submissions/m1.csv"]]


def test_the_command_says_what_it_skipped_and_shows_the_table_and_the_picture(tmp_path, monkeypatch):
    oof, test, y, _ = competition()
    write_competition(tmp_path, oof, test, y)
    monkeypatch.chdir(tmp_path)
    result = run("--verbose", "--plot", "pictures/doctor.png")
    assert result.exit_code == 0, result.output
    assert "skipped folds: no shared folds file data/folds.csv" in result.stderr
    assert result.stdout.splitlines()[0].split()[:3] == ["file", "drift", "KS"]
    assert len(result.stdout.splitlines()) == 2 + len(NAMES)
    assert (tmp_path / "pictures" / "doctor.png").stat().st_size > 1000


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["submissions/nothere.csv"], "nothere"),
        (["--folds", "data/nothere.csv"], "--folds data/nothere.csv: no such file"),
        (["--oof-dir", "elsewhere"], "elsewhere/m0.csv not found: doctor learns from OOF predictions"),
    ],
)
def test_bad_input_is_one_error_line_and_exit_1(tmp_path, monkeypatch, args, fragment):
    oof, test, y, folds = competition()
    write_competition(tmp_path, oof, test, y, folds=folds)
    monkeypatch.chdir(tmp_path)
    result = run(*args)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and fragment in errors[0], result.stderr


@pytest.mark.parametrize("kind", ["binary", "multiclass", "labels", "regression"])
def test_every_kind_runs_and_says_which_checks_three_files_cannot_make(tmp_path, monkeypatch, kind):
    import fuzzing

    fuzzing.write_files(tmp_path, fuzzing.make_competition(np.random.default_rng(27), kind).tables())
    monkeypatch.chdir(tmp_path)
    result = run("--verbose")
    assert result.exit_code == 0, result.output
    assert "skipped disagreement: 3 files: judging one against the others needs 4" in result.stderr
    assert ("skipped calibration:" in result.stderr) == (kind in ("labels", "regression"))
    assert len(result.stdout.splitlines()) == 2 + 3
