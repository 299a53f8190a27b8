"""The time budget: durations, and the CNN plan picked from epochs timed on a fake clock."""

import numpy as np
import pytest

from models import budget
from models.budget import EpochTiming, plan_for_budget, time_two_epochs
from models.cli import main
from models.registry import ModelsError


@pytest.mark.parametrize(("text", "seconds"), [("10m", 600), ("90s", 90), ("1h30m", 5400), ("2.5m", 150), ("15min", 900)])
def test_durations(text, seconds):
    assert budget.parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("10x", "--time-budget 10x: give a duration with units, such as 10m, 90s or 1h30m."),
        ("10", "--time-budget 10: give a duration with units"),
        ("", "give a duration with units"),
        ("0m", "--time-budget 0m: the budget must be more than 0 seconds."),
    ],
)
def test_bad_durations(text, message):
    with pytest.raises(ModelsError, match=message.replace("(", r"\(")):
        budget.parse_duration(text)


def test_bad_budget_is_one_error_line(tmp_path, capsys):
    assert main(["oof", "--models", "logreg", "--data", "digits", "--root", str(tmp_path / "out"), "--time-budget", "10x"]) == 1
    assert capsys.readouterr().err == "Error: --time-budget 10x: give a duration with units, such as 10m, 90s or 1h30m.\n"
    assert not (tmp_path / "out").exists()


class FakeClock:
    """A clock that moves only when a test moves it."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def _fake_measure(seconds_per_epoch):
    """A ``measure`` that times two epochs on a fake clock: the first 2 s longer (set-up), then ``seconds_per_epoch``.

    Width 8 takes half as long as width 16, as a narrower net would.
    """

    def measure(width):
        epoch = seconds_per_epoch * (1.0 if width in (16, None) else 0.5)
        readings = iter([0.0, 2.0 + epoch, 2.0 + epoch, 2.0 + 2 * epoch])
        setup, epoch = time_two_epochs(lambda read: [read() for _ in range(4)], clock=lambda: next(readings))
        return [EpochTiming("cnn_a", setup, epoch), EpochTiming("cnn_b", setup, epoch)]

    return measure


def test_time_two_epochs_reads_the_clock():
    readings = iter([10.0, 16.0, 16.0, 20.0])
    # The first epoch took 6 s, the second 4 s: 2 s of set-up, 4 s per epoch.
    assert time_two_epochs(lambda read: [read() for _ in range(4)], clock=lambda: next(readings)) == (2.0, 4.0)


def _plan(seconds_per_epoch, *, left=600.0, widths=(16, 8)):
    clock = FakeClock()
    return plan_for_budget(
        left, _fake_measure(seconds_per_epoch), widths=list(widths), max_epochs=10, fits_per_cnn=5, jobs=2, clock=clock
    )


def test_a_slower_measured_epoch_gives_fewer_epochs():
    # Two CNNs, 5 folds each, on 2 jobs: the phase takes 5 * (2 + e t) + (2 + e t) / 4 = 10.5 + 5.25 e t, for 600 s left.
    fast, slow, slower = _plan(5.0), _plan(12.0), _plan(20.0)
    assert (fast.width, fast.epochs) == (16, 10)  # 5 * (2 + 50) + 13 = 273 s: the whole plan fits
    assert (slow.width, slow.epochs) == (16, 9)  # 10 epochs: 5 * 122 + 30.5 = 640.5 s > 600; 9: 577.5 s
    assert (slower.width, slower.epochs) == (16, 5)  # 5 * (2 + 20 e) + (2 + 20 e) / 4 = 10.5 + 105 e <= 600
    assert fast.estimate == pytest.approx(273.0) and slow.estimate == pytest.approx(577.5)
    assert "all 10 epochs fit" in fast.reason and "9 of the plan's 10 epochs fit" in slow.reason
    assert fast.warning is None and slower.warning is None


def test_too_slow_for_the_wide_net_narrows_it_then_warns():
    narrower = _plan(40.0)  # width 16: (600 - 10.5) / 210 = 2 epochs < 4, so 8 channels at 20 s an epoch: 5 epochs
    assert (narrower.width, narrower.epochs) == (8, 5) and narrower.warning is None
    short = _plan(40.0, left=250.0)  # width 8: 10.5 + 105 e <= 250 gives 2 epochs, fewer than the 4 of a useful CNN
    assert (short.width, short.epochs) == (8, 2)
    assert short.warning.startswith("the time budget is too small for a useful CNN: 4 min 10 s are left for the CNNs")
    assert "; training 2 anyway" in short.warning
    hopeless = _plan(40.0, left=100.0)  # not one epoch fits: 10.5 + 105 > 100
    assert hopeless.width == 8 and hopeless.epochs == 0
    assert "; leaving the CNNs out, since not one epoch fits" in hopeless.warning


def test_no_time_to_measure_again_scales_the_wider_nets_times():
    clock = FakeClock()
    calls = []

    def measure(width):
        calls.append(width)
        clock.now += 100.0  # a timing that took 100 s, with 300 s left after it
        return [EpochTiming("cnn_a", 2.0, 40.0)]

    plan = plan_for_budget(400.0, measure, widths=[16, 8], max_epochs=10, fits_per_cnn=5, jobs=1, clock=clock)
    assert calls == [16]  # 300 s left < 4 x 100 s: width 8 is not timed again
    assert plan.width == 8 and plan.epochs == 2  # 20 s an epoch: 5 * (2 + 20 e) <= 300
    assert plan.reason.startswith("(estimated from the wider net's times, no time to measure again) one epoch took 20.0 s")


def test_time_spent_measuring_counts_against_the_budget():
    clock = FakeClock()

    def measure(width):
        clock.now += 300.0  # a calibration that took five minutes
        return [EpochTiming("cnn_a", 2.0, 12.0)]

    plan = plan_for_budget(600.0, measure, widths=[None], max_epochs=10, fits_per_cnn=5, jobs=1, clock=clock)
    assert plan.available == 300.0 and plan.width is None
    assert plan.epochs == 4  # 5 * (2 + 12 e) <= 300
    # A margin keeps a share of the time free for changes in load: 5 * (2 + 12 e) <= 240.
    clock.now = 0.0
    assert plan_for_budget(600.0, measure, widths=[None], max_epochs=10, fits_per_cnn=5, jobs=1, clock=clock, margin=0.2).epochs == 3


@pytest.mark.slow
def test_calibration_times_a_real_tiny_cnn_on_the_fake_clock():
    from models import cnn
    from models.problem import Problem

    readings = iter([100.0, 107.0, 107.0, 111.0])  # epochs of 7 s then 4 s: 3 s of set-up
    images = np.random.default_rng(0).random((200, 8, 8, 1)).astype("float32")
    y = np.arange(200) % 3
    problem = Problem(task="multiclass", n_classes=3, input_shape=(8, 8, 1), seed=0, threads=1)
    timing = cnn.calibrate("cnn_bn", cnn.make_batchnorm_cnn, problem, images, y, fit_rows=360, predict_rows=120,
                           clock=lambda: next(readings))  # fmt: skip
    # 4 s for 200 rows, scaled to 360; set-up 3 s, half again for the predictions' graph,
    # and a third of an epoch's time per row predicted.
    assert timing.epoch == pytest.approx(4.0 * 360 / 200)
    assert timing.setup == pytest.approx(3.0 * 1.5 + 7.2 * 120 / 360 / 3)


@pytest.mark.slow
def test_oof_with_a_time_budget_prints_the_plan(tmp_path, capsys):
    rng = np.random.default_rng(0)
    y = np.arange(160) % 3
    images = rng.random((160, 8, 8)) * 0.3
    for row, label in enumerate(y):
        images[row, 2 * label : 2 * label + 2, :] += 0.7
    np.savez(tmp_path / "bars.npz", x_train=images[:120], y_train=y[:120], x_test=images[120:])
    root = tmp_path / "out"
    arguments = ["oof", "--models", "cnn_bn logreg", "--data", str(tmp_path / "bars.npz"), "--root", str(root), "--folds", "2"]
    assert main([*arguments, "--time-budget", "3m", "--epochs", "3", "--jobs", "2"]) == 0
    stderr = capsys.readouterr().err
    assert "the time budget sets the width and epochs after the other learners" in stderr
    assert "CNN plan for the budget: the plan's width, at most 3 epochs: one epoch took " in stderr
    assert "all 3 epochs fit" in stderr and "CNNs took " in stderr
    assert stderr.index("[logreg] fold") < stderr.index("[cnn_bn] fold")
    assert (root / "submissions" / "cnn_bn.csv").exists() and (root / "submissions" / "oof" / "logreg.csv").exists()


def test_no_time_left_after_the_other_learners_leaves_the_cnns_out(tmp_path, capsys):
    rng = np.random.default_rng(0)
    np.savez(tmp_path / "tiny.npz", x_train=rng.random((60, 8, 8)), y_train=np.arange(60) % 2, x_test=rng.random((10, 8, 8)))
    root = tmp_path / "out"
    arguments = ["oof", "--models", "cnn_bn logreg", "--data", str(tmp_path / "tiny.npz"), "--root", str(root), "--folds", "2"]
    assert main([*arguments, "--time-budget", "0.001s"]) == 0
    stderr = capsys.readouterr().err
    assert "Warning: the other learners used the whole time budget (" in stderr and "leaving the 1 CNNs out" in stderr
    assert (root / "submissions" / "logreg.csv").exists() and not (root / "submissions" / "cnn_bn.csv").exists()
