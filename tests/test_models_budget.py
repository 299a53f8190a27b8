"""The time budget: durations, and the CNN plan picked from epochs timed on a fake clock."""

import numpy as np
import pytest

from models import budget
from models.budget import EpochTiming, plan_for_budget, time_two_epochs
from models.cli import main
from models.registry import ModelsError


@pytest.mark.parametrize(
    ("text", "seconds"), [("10m", 600), ("90s", 90), ("1h30m", 5400), ("2.5m", 150), ("15min", 900)]
)
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
    assert (
        main(["oof", "--models", "logreg", "--data", "digits", "--root", str(tmp_path / "out"), "--time-budget", "10x"])
        == 1
    )
    assert (
        capsys.readouterr().err == "Error: --time-budget 10x: give a duration with units, such as 10m, 90s or 1h30m.\n"
    )
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
    # Two CNNs, 5 folds each, on 2 jobs: the phase takes 5 * (2 + e t) + (2 + e t) / 4 = 10.5 + 5.25 e t,
    # for 600 s left.
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
    assert plan.reason.startswith(
        "(estimated from the wider net's times, no time to measure again) one epoch took 20.0 s"
    )


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
    assert (
        plan_for_budget(
            600.0, measure, widths=[None], max_epochs=10, fits_per_cnn=5, jobs=1, clock=clock, margin=0.2
        ).epochs
        == 3
    )


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
    arguments = [
        "oof",
        "--models",
        "cnn_bn logreg",
        "--data",
        str(tmp_path / "bars.npz"),
        "--root",
        str(root),
        "--folds",
        "2",
    ]
    assert main([*arguments, "--time-budget", "3m", "--epochs", "3", "--jobs", "2"]) == 0
    stderr = capsys.readouterr().err
    assert "the time budget sets the width and epochs after the other learners" in stderr
    assert "CNN plan for the budget: the plan's width, at most 3 epochs: one epoch took " in stderr
    assert "all 3 epochs fit" in stderr and "CNNs took " in stderr
    assert stderr.index("[logreg] fold") < stderr.index("[cnn_bn] fold")
    assert (root / "submissions" / "cnn_bn.csv").exists() and (root / "submissions" / "oof" / "logreg.csv").exists()


def test_no_time_left_after_the_other_learners_leaves_the_cnns_out(tmp_path, capsys):
    rng = np.random.default_rng(0)
    np.savez(
        tmp_path / "tiny.npz", x_train=rng.random((60, 8, 8)), y_train=np.arange(60) % 2, x_test=rng.random((10, 8, 8))
    )
    root = tmp_path / "out"
    arguments = [
        "oof",
        "--models",
        "cnn_bn logreg",
        "--data",
        str(tmp_path / "tiny.npz"),
        "--root",
        str(root),
        "--folds",
        "2",
    ]
    assert main([*arguments, "--time-budget", "0.001s"]) == 0
    stderr = capsys.readouterr().err
    assert "Warning: the other learners used the whole time budget (" in stderr and "leaving the 1 CNNs out" in stderr
    assert (root / "submissions" / "logreg.csv").exists() and not (root / "submissions" / "cnn_bn.csv").exists()


# ---------------------------------------------------------------------------- the tabular learners' share


def _tabular_measure(slowdown, clock=None, *, seconds=10.0):
    """A ``measure`` for :func:`plan_tabular`: one fold of each learner at the whole plan, ``slowdown`` times these
    seconds; timing them takes ``seconds`` on the fake clock."""

    def measure():
        if clock is not None:
            clock.now += seconds
        return [
            budget.FitTiming("xgb", 0.0, 12.0 * slowdown),
            budget.FitTiming("lgbm", 0.0, 6.0 * slowdown),
            budget.FitTiming("rf_gini", 0.0, 3.0 * slowdown),
            budget.FitTiming("logreg", 0.2 * slowdown, 0.0),
        ]

    return measure


def _tabular_plan(slowdown, *, left=200.0):
    return budget.plan_tabular(left, _tabular_measure(slowdown), fits_per_learner=5, jobs=2, clock=FakeClock())


def test_fit_timing_scales_only_the_learners_with_rounds():
    # Three seconds at a tenth of the rounds: thirty for the whole plan, set-up included (an upper bound).
    assert budget.fit_timing("xgb", 3.0, share=0.1, has_rounds=True) == budget.FitTiming("xgb", 0.0, 30.0)
    assert budget.fit_timing("knn_5", 0.2, share=0.1, has_rounds=False).seconds(0.5) == 0.2


def test_a_slower_measured_fit_gives_the_tabular_learners_fewer_rounds():
    # 5 fits of 12 + 6 + 3 (x share) + 0.2 s on 2 jobs: 2.5 * (21 s + 0.2) + the tail, a quarter of xgb's 12 s.
    fast, slow, slower = _tabular_plan(1.0), _tabular_plan(3.0), _tabular_plan(6.0)
    assert fast.share == 1.0 and fast.estimate == pytest.approx(2.5 * 21.2 + 3.0)  # 56 s of 200: the whole plan
    assert "the whole plan fits" in fast.reason and fast.describe() == "the whole plan"
    # Three times slower: 1.65 + 166.35 s x share <= 200 gives 1.19, so the whole plan still fits.
    assert slow.share == 1.0
    # Six times slower: 3.3 + 332.7 s x share <= 200 gives 0.59, rounded down to a multiple of 0.05.
    assert slower.share == 0.55 and slower.left_out == () and slower.warning is None
    assert slower.estimate <= 200.0
    assert "55% of the rounds and trees fit" in slower.reason
    assert slower.describe() == "55% of the plan's boosting rounds and forest trees"
    assert [_tabular_plan(factor).share for factor in (1, 4, 8, 12, 16)] == [1.0, 0.85, 0.4, 0.25, 0.2]


def test_too_slow_for_a_fifth_of_the_rounds_leaves_the_slowest_tabular_learners_out():
    # 30 times slower: 16.5 + 1663.5 s x share <= 200 gives 0.11, under a fifth; at a fifth all four need
    # 2.5 x (72 + 36 + 18 + 6) + 72 / 4 = 348 s. Without xgb: 16.5 + 718.5 s x share gives 0.255.
    plan = _tabular_plan(30.0)
    assert plan.left_out == ("xgb",) and plan.kept == ("lgbm", "rf_gini", "logreg")
    assert plan.share == 0.25 and plan.estimate <= 200.0
    assert plan.warning.startswith(
        "leaving out xgb (the slowest tabular learners): all 4 need about 5 min 48 s with 20% "
    )
    assert "; the others fit (raise --time-budget, or name fewer learners with --models)" in plan.warning
    assert plan.describe().endswith(", without xgb")
    # Hopeless: not even the fastest fits; it trains anyway (at a fifth of its rounds), so that files are written.
    hopeless = _tabular_plan(30.0, left=5.0)
    assert hopeless.kept == ("logreg",) and hopeless.left_out == ("xgb", "lgbm", "rf_gini")
    assert hopeless.share == budget.MIN_ROUNDS_SHARE
    assert "; not one fits, so logreg trains anyway" in hopeless.warning


def test_time_spent_timing_the_tabular_learners_counts_against_their_share():
    clock = FakeClock()
    plan = budget.plan_tabular(
        200.0, _tabular_measure(6.0, clock, seconds=100.0), fits_per_learner=5, jobs=2, clock=clock
    )
    assert plan.available == 100.0  # 200 s, less the 100 s of timing
    assert plan.share == 0.25  # 3.3 + 332.7 s x share <= 100
    # A margin keeps a share of the time free: 3.3 + 332.7 s x share <= 80.
    clock.now = 0.0
    margin = budget.plan_tabular(
        200.0, _tabular_measure(6.0, clock, seconds=100.0), fits_per_learner=5, jobs=2, clock=clock, margin=0.2
    )
    assert margin.share == 0.2


def test_the_tabular_learners_leave_the_cnns_their_share():
    from models.cli import tabular_deadline

    assert tabular_deadline(10.0, 610.0, keep_for_cnns=True) == 10.0 + 600.0 * (1 - budget.CNN_SHARE)
    assert tabular_deadline(10.0, 610.0, keep_for_cnns=False) == 605.0  # all of it, but 5 s to write the files


def test_the_cnn_plan_may_leave_the_slowest_cnns_out_for_useful_epochs():
    clock = FakeClock()
    timings = [EpochTiming("cnn_bn", 2.0, 4.0), EpochTiming("cnn_nin", 2.0, 10.0), EpochTiming("cnn_allconv", 2.0, 6.0)]
    # All three, 5 fits each on 2 jobs: 2.5 * (6 + 20 e) + (2 + 10 e) / 4 = 15.5 + 52.5 e <= 150 gives 2 epochs.
    kept_all = plan_for_budget(
        150.0, lambda width: timings, widths=[None], max_epochs=10, fits_per_cnn=5, jobs=2, clock=clock
    )
    assert kept_all.epochs == 2 and kept_all.left_out == () and "training 2 anyway" in kept_all.warning
    plan = plan_for_budget(150.0, lambda width: timings, widths=[None], max_epochs=10, fits_per_cnn=5, jobs=2,
                           clock=clock, leave_out=True)  # fmt: skip
    # Without cnn_nin: 2.5 * (4 + 10 e) + (2 + 6 e) / 4 = 10.5 + 26.5 e <= 150 gives 5 epochs.
    assert plan.left_out == ("cnn_nin",) and plan.epochs == 5
    assert plan.warning.startswith("leaving out cnn_nin (the slowest CNNs): all 3 need about ")
    assert plan.warning.endswith("the other 2 train 5 (raise --time-budget to train them all)")
    assert "10 fits on 2 job(s)" in plan.reason


class _FakeTime:
    """Stands in for the ``time`` module in models.cli: its clock moves when the fake training says so."""

    def __init__(self):
        self.now = 1000.0

    def perf_counter(self):
        return self.now


@pytest.mark.parametrize(
    ("slowdown", "share", "left_out", "cnns", "epochs"),
    [
        # 675 s: 270 s (40%) for the tabular learners, 10 s of it timing them, 15% kept free:
        # 0.55 f + 55.45 f x share <= 221.
        (1.0, 1.0, (), ["cnn_nin", "cnn_bn"], 10),  # 56 s; the CNNs have 599 s after their timing: all 10 epochs
        (
            8.0,
            0.45,
            (),
            ["cnn_nin", "cnn_bn"],
            7,
        ),  # 0.488; the tabular phase takes 214 s; 10.5 + 46.4 e <= 379.3 at 16 channels
        # 0.123 < 0.2: without xgb, 16.5 + 718.5 x share gives 0.285. The CNNs: 2 epochs at 16 channels, then timed
        # again at 8 (15 s and 18 s an epoch): 10.5 + 87 e <= 378.3 gives 4.
        (30.0, 0.25, ("xgb",), ["cnn_nin", "cnn_bn"], 4),
        # 60 times slower: 33 + 3327 x share gives 0.056; without xgb 0.13; without lgbm too,
        # 33 + 492 x share gives 0.382. The CNNs: 1 epoch at 16 channels, 2 at 8; cnn_nin is left out,
        # and cnn_bn alone trains 4 (5.5 + 82.5 e <= 371.2).
        (60.0, 0.35, ("xgb", "lgbm"), ["cnn_bn"], 4),
    ],
)
def test_a_budget_plans_the_tabular_learners_then_gives_the_cnns_the_rest(
    monkeypatch, tmp_path, slowdown, share, left_out, cnns, epochs
):
    """The whole --time-budget flow on a fake clock: a slower machine gets fewer rounds and learners, and CNNs
    still train 4 epochs or more.
    """
    from models import cli, oof
    from models.data import load_dataset
    from models.registry import select_learners

    fake = _FakeTime()
    monkeypatch.setattr(cli, "time", fake)
    rng = np.random.default_rng(0)
    np.savez(
        tmp_path / "tiny.npz",
        x_train=rng.random((60, 20, 20)),
        y_train=np.arange(60) % 3,
        x_test=rng.random((10, 20, 20)),
    )
    data = load_dataset(str(tmp_path / "tiny.npz"))
    learners = select_learners("cnn_bn cnn_nin xgb lgbm rf_gini logreg")
    # One fold at the whole plan: xgb 12 s, lgbm 6 s, rf 3 s, logreg 0.2 s, times the slowdown; timing them takes 10 s.
    tabular = _tabular_measure(slowdown)()
    # An epoch: 1 s (cnn_bn) and 1.2 s (cnn_nin) at 16 channels, half at 8, times the slowdown; timing them takes 10 s.
    epoch_seconds = {"cnn_bn": 1.0, "cnn_nin": 1.2}

    def time_tabular(learners, data, **options):
        fake.now += 10.0
        return [timing for timing in tabular if timing.name in {learner.name for learner in learners}]

    def time_cnns(learners, data, *, width, **options):
        fake.now += 10.0
        return [
            EpochTiming(learner.name, 2.0, epoch_seconds[learner.name] * slowdown * width / 16) for learner in learners
        ]

    runs = []

    def run_oof(learners, data, **options):
        # Training takes the planned time: the fits shared out over 2 jobs.
        names = [learner.name for learner in learners]
        if learners[0].inputs == "images":
            fits = [2.0 + options["epochs"] * epoch_seconds[name] * slowdown * options["width"] / 16 for name in names]
        else:
            fits = [timing.seconds(options["rounds_share"]) for timing in tabular if timing.name in names]
        fake.now += budget.parallel_seconds(fits, fits_each=5, jobs=2)
        runs.append((names, options, fake.now))
        return {name: name for name in names}

    monkeypatch.setattr(oof, "time_tabular", time_tabular)
    monkeypatch.setattr(oof, "time_cnns", time_cnns)
    monkeypatch.setattr(cli, "run_oof", run_oof)
    arguments = cli.build_parser().parse_args(["oof", "--jobs", "2"])
    start, deadline = fake.now, fake.now + 675.0
    results = cli.run_within_budget(learners, data, arguments, dict(gpu=False, tta=0, epochs=None), deadline)

    (tabular_names, tabular_options, tabular_end), (cnn_names, cnn_options, cnn_end) = runs
    assert tabular_options["rounds_share"] == share
    assert tuple(name for name in ["xgb", "lgbm", "rf_gini", "logreg"] if name not in tabular_names) == left_out
    # The CNNs keep their share of the time: the tabular learners end within the rest (their timing included).
    assert tabular_end - start <= 675.0 * (1 - budget.CNN_SHARE)
    assert cnn_names == cnns and cnn_options["epochs"] == epochs >= budget.MIN_USEFUL_EPOCHS
    assert cnn_end <= deadline - 5
    assert list(results) == [*cnns, *tabular_names]


def test_a_rounds_share_shortens_the_boosters_and_forests_only():
    from models.data import load_dataset
    from models.oof import problem_of
    from models.problem import Problem
    from models.registry import LEARNERS

    half = Problem(task="multiclass", n_classes=3, input_shape=(4,), seed=0, rounds_share=0.5)
    assert LEARNERS["xgb"].build(half).get_params()["n_estimators"] == 150
    assert LEARNERS["lgbm"].build(half).model.get_params()["n_estimators"] == 150
    assert LEARNERS["catboost"].build(half).model.get_params()["iterations"] == 100
    assert (
        LEARNERS["rf_gini"].build(half).n_estimators == 150 and LEARNERS["et_entropy"].build(half).n_estimators == 150
    )
    # A refit's K/(K-1) more rounds and the budget's share multiply; never fewer than one round or tree.
    refit = Problem(task="multiclass", n_classes=3, input_shape=(4,), seed=0, rounds_share=0.5, rounds_scale=1.25)
    assert LEARNERS["xgb"].build(refit).get_params()["n_estimators"] == 188
    tiny = Problem(task="multiclass", n_classes=3, input_shape=(4,), seed=0, rounds_share=0.001)
    assert (
        LEARNERS["rf_gini"].build(tiny).n_estimators == 1
        and LEARNERS["xgb"].build(tiny).get_params()["n_estimators"] == 1
    )
    # Learners without rounds (gbm stops early on its own) are told the whole plan.
    data = load_dataset("digits")
    shares = {name: problem_of(LEARNERS[name], data, 0, None, 1, False, False, rounds_share=0.5).rounds_share
              for name in ("xgb", "rf_gini", "gbm", "knn_5", "logreg")}  # fmt: skip
    assert shares == {"xgb": 0.5, "rf_gini": 0.5, "gbm": 1.0, "knn_5": 1.0, "logreg": 1.0}


def test_time_tabular_times_one_fold_of_each_learner():
    from models.data import load_dataset
    from models.oof import time_tabular
    from models.registry import select_learners

    data = load_dataset("digits")
    timings = time_tabular(select_learners("rf_gini knn_5"), data, share=0.1, n_folds=5, seed=0, n_jobs=1)
    assert [timing.name for timing in timings] == ["rf_gini", "knn_5"]
    forest, knn = timings
    # The forest was timed at 30 of its 300 trees: the whole plan is ten times that, and nothing of it fixed.
    assert forest.fixed == 0.0 and forest.scaled > 0.0
    assert knn.scaled == 0.0 and knn.fixed > 0.0


def test_the_cnn_plan_leaves_cnns_out_at_the_wider_width_before_narrowing_them_all():
    def measure(width):
        scale = 1.0 if width == 16 else 0.5
        return [EpochTiming("cnn_bn", 2.0, 4.0 * scale), EpochTiming("cnn_nin", 2.0, 10.0 * scale),
                EpochTiming("cnn_allconv", 2.0, 5.0 * scale)]  # fmt: skip

    def plan(**options):
        return plan_for_budget(
            120.0, measure, widths=[16, 8], max_epochs=10, fits_per_cnn=5, jobs=2, clock=FakeClock(), **options
        )

    # At 16 channels all three need 15.5 + 50 e <= 120 (2 epochs); without cnn_nin, 10.5 + 23.75 e <= 120: 4 epochs.
    wide = plan(leave_out=True)
    assert (wide.width, wide.epochs, wide.left_out) == (16, 4, ("cnn_nin",))
    # Without leaving CNNs out, all three are narrowed to 8 channels: 15.5 + 25 e <= 120, 4 epochs.
    narrow = plan()
    assert (narrow.width, narrow.epochs, narrow.left_out) == (8, 4, ())
    # A wider width keeps at least two CNNs: with 60 s, two at 16 channels get 2 epochs (10.5 + 23.75 e), so all
    # narrow to 8 (15.5 + 25 e <= 60: 1 epoch), and there without cnn_nin 10.5 + 11.875 e <= 60 gives 4.
    short = plan_for_budget(
        60.0, measure, widths=[16, 8], max_epochs=10, fits_per_cnn=5, jobs=2, clock=FakeClock(), leave_out=True
    )
    assert (short.width, short.epochs, short.left_out) == (8, 4, ("cnn_nin",))
