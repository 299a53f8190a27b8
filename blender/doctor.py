"""What is wrong with a set of prediction files before they are blended (``blend doctor``).

Some broken files show in no score: a test file from another run than its OOF file, a test
file whose predictions drift away from its OOF predictions, an OOF file with a leak, the same
model under two names, a file cross-validated on other folds. Each check here is a pure
function over the arrays :mod:`blender.io` reads (shape ``(n_models, n_rows, n_cols)``) that
returns :class:`Finding` objects; nothing prints or touches a file.

Every statistic that compares one file with the others is judged *against the others*: its
distance from the median of the same statistic over all files, in units of their spread (the
median absolute deviation, scaled to a standard deviation, with a floor so that a set of
near-identical files does not make every small difference an outlier). A whole set that shifts
together (test rows unlike the training rows) moves the median, not one file.

The statistics are cheap and vectorised: on at most :data:`SAMPLE_ROWS` seeded rows of each
side (so that 300 files of 100,000 rows are checked in less time than they take to read), a
Kolmogorov-Smirnov statistic per file, two means and a line against the other files' mean, one
correlation matrix on OOF rows and one on test rows, per-fold scores and one reliability number
per file; on every row, each file's correlation with the truth and its OOF score, and the
comparison of duplicates (a hash of a few rows first, then every row within a group).

The thresholds were set on ``benchmarks/bench_doctor.py``: no finding but ``calibration:`` and
``near-duplicate:`` on the 17 cases of the real-data benchmark, with their fold-mean test files
or with every model refitted on all training rows, while planted faults are named.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from blender import layout
from blender.io.predictions import Kind, Target

#: The checks, most serious first: findings are printed in this order.
CHECKS = ("duplicate", "drift", "disagreement", "suspicious-oof", "folds", "near-duplicate", "calibration")
#: Checks whose findings ``--strict`` lets pass (exit 0): advice, not faults.
ADVICE = ("calibration", "near-duplicate")

#: Rows sampled (seeded) from each side for the drift statistic and the correlation matrices.
SAMPLE_ROWS = 20_000
#: Drift: the KS statistic past the files' median, in units of the larger of its noise at these row counts,
#: 1.95 sqrt((n + m) / (n m)) (p = 0.001), and the files' robust SD; or fewer units with a moved test mean.
DRIFT_UNITS = 6.0
DRIFT_UNITS_WITH_SHIFT = 0.5
SHIFT_UNITS = 4.5
#: Drift against the others: a file's test values miss the line (fitted on the OOF rows) from the other files' mean
#: by this many standard errors, and this many robust SDs more than the other files do (the benchmark's clean
#: files and refits reach 5.2 and 3.9).
CONSENSUS_SHIFT = 6.5
CONSENSUS_UNITS = 5.0
#: Disagreement: past the files' median by this many robust SDs (the benchmark's refits reach 6.5) ...
DISAGREEMENT_Z = 7.0
#: ... and by this mean change of the file's Fisher-z correlations with the others, in units of their noise.
DISAGREEMENT_NOISE_UNITS = 3.0
#: Suspicious OOF score: a file's correlation with the truth ahead of every other file's by this much (Fisher z).
SCORE_LEAD = 0.4
#: Suspicious OOF fold spread: a file's per-fold standard deviation this many times above or below the others' median.
FOLD_SPREAD_RATIO = 8.0
#: Near-duplicates: files whose OOF correlation reaches this (and are not identical).
NEAR_DUPLICATE_CORR = 0.999
#: Calibration: an expected calibration error above this (10 equal-count bins).
CALIBRATION_ECE = 0.05
#: Values are compared for duplicates after rounding to this many decimals (CSV round trips).
DUPLICATE_DECIMALS = 9


@dataclass(frozen=True)
class Finding:
    """One thing wrong with one or more files.

    Attributes
    ----------
    check : str
        One of :data:`CHECKS`.
    files : tuple of str
        The files it names, most to blame first.
    severity : float
        How far out it is (robust standard deviations, or a ratio); larger is worse within a check.
    message : str
        The line to print, starting with ``check:``, with the numbers behind it and what to do.
    """

    check: str
    files: tuple[str, ...]
    severity: float
    message: str

    @property
    def advice(self) -> bool:
        """Whether ``--strict`` lets it pass (calibration, near-duplicates)."""
        return self.check in ADVICE


@dataclass
class Diagnosis:
    """What :func:`diagnose` found: the findings (most serious first), the checks skipped and why, per-file numbers.

    ``table`` maps a column name to one value per file (``nan`` where a check did not run), for ``--verbose``.
    """

    findings: list[Finding]
    skipped: dict[str, str]
    names: list[str]
    table: dict[str, NDArray[np.float64]] = field(default_factory=dict)
    thresholds: dict[str, float] = field(default_factory=dict)


# ---------------------------------------------------------------------------- helpers


def robust_z(statistic: NDArray[np.float64], *, floor: float = 0.0) -> NDArray[np.float64]:
    """Each value's distance above the median of all, in robust standard deviations (1.4826 MAD, at least ``floor``).

    >>> robust_z(np.array([1.0, 1.1, 0.9, 1.0, 5.0])).round(1)
    array([ 0. ,  0.7, -0.7,  0. , 27. ])
    """
    statistic = np.asarray(statistic, dtype=np.float64)
    median = np.nanmedian(statistic)
    spread = max(1.4826 * float(np.nanmedian(np.abs(statistic - median))), floor, 1e-12)
    return (statistic - median) / spread


def _sample(n_rows: int, size: int, rng: np.random.Generator) -> NDArray[np.int64]:
    """Sorted seeded rows, all of them when there are no more than ``size``."""
    if n_rows <= size:
        return np.arange(n_rows)
    return np.sort(rng.choice(n_rows, size, replace=False))


def ks_statistics(oof: NDArray[np.float64], test: NDArray[np.float64]) -> NDArray[np.float64]:
    """The two-sample Kolmogorov-Smirnov statistic between each file's OOF and test values (largest over columns).

    Parameters
    ----------
    oof : ndarray of shape (n_models, n_oof_rows, n_cols)
    test : ndarray of shape (n_models, n_test_rows, n_cols)

    Returns
    -------
    ndarray of shape (n_models,)

    >>> oof = np.array([[[0.1], [0.2], [0.3], [0.4]]])
    >>> ks_statistics(oof, oof + 0.15)
    array([0.5])
    """
    oof, test = np.asarray(oof, dtype=np.float64), np.asarray(test, dtype=np.float64)
    statistics = np.zeros(oof.shape[0])
    for model in range(oof.shape[0]):
        for column in range(oof.shape[2]):
            left, right = np.sort(oof[model, :, column]), np.sort(test[model, :, column])
            pooled = np.concatenate([left, right])
            gap = np.abs(
                np.searchsorted(left, pooled, side="right") / left.shape[0]
                - np.searchsorted(right, pooled, side="right") / right.shape[0]
            )
            statistics[model] = max(statistics[model], float(gap.max()))
    return statistics


def _fisher(matrix: NDArray[np.float64]) -> NDArray[np.float64]:
    """Correlations on Fisher's z scale, where their noise is the same at every level (NaN as 0)."""
    return np.arctanh(np.clip(np.nan_to_num(matrix), -0.9999, 0.9999))


def _pearson(values: NDArray[np.float64]) -> NDArray[np.float64]:
    from blender.correlation import correlation_matrix

    return correlation_matrix(values, method="pearson")


def _scores(
    values: NDArray[np.float64], y: Target, *, metric: str, kind: Kind, rows: NDArray[np.int64] | None = None
) -> NDArray[np.float64]:
    """Each file's score on ``rows`` (all by default)."""
    from blender.metrics import resolve

    if rows is not None:
        values, y = values[:, rows], y[rows]
    resolved = resolve(metric, kind)
    return np.array([layout.score(y, model, metric=resolved, kind=kind) for model in values])


# ---------------------------------------------------------------------------- the checks


def _same_values(left: NDArray[np.float64], right: NDArray[np.float64]) -> bool:
    """Whether two files' values agree on every cell after rounding to :data:`DUPLICATE_DECIMALS` decimals."""
    return bool(np.array_equal(np.round(left, DUPLICATE_DECIMALS), np.round(right, DUPLICATE_DECIMALS)))


def check_duplicates(oof: NDArray[np.float64], test: NDArray[np.float64], names: list[str]) -> list[Finding]:
    """Files whose OOF and test values are identical (after rounding to :data:`DUPLICATE_DECIMALS` decimals).

    >>> oof = np.array([[[0.1], [0.2]], [[0.1], [0.2]], [[0.3], [0.2]]])
    >>> [f.files for f in check_duplicates(oof, oof, ["a", "b", "c"])]
    [('a', 'b')]
    """
    # Files are grouped by a hash of a few rows first; only files that share it are compared on every row.
    probe_oof = np.linspace(0, oof.shape[1] - 1, min(oof.shape[1], 256)).astype(np.int64)
    probe_test = np.linspace(0, test.shape[1] - 1, min(test.shape[1], 256)).astype(np.int64)
    groups: dict[str, list[int]] = {}
    for model in range(oof.shape[0]):
        digest = hashlib.sha256()
        for values in (oof[model, probe_oof], test[model, probe_test]):
            digest.update(np.ascontiguousarray(np.round(values, DUPLICATE_DECIMALS) + 0.0).tobytes())
        groups.setdefault(digest.hexdigest(), []).append(model)
    identical = []
    for candidates in groups.values():
        while len(candidates) > 1:
            first, rest = candidates[0], candidates[1:]
            same = [
                model
                for model in rest
                if _same_values(oof[first], oof[model]) and _same_values(test[first], test[model])
            ]
            if same:
                identical.append([first, *same])
            candidates = [model for model in rest if model not in same]
    findings = []
    for members in identical:
        if len(members) > 1:
            files = tuple(names[m] for m in members)
            findings.append(
                Finding(
                    "duplicate",
                    files,
                    float(len(members)),
                    (
                        f"duplicate: {' and '.join(files) if len(files) == 2 else ', '.join(files)} hold the same "
                        f"values on every OOF and test row: one model under {len(files)} names; keep one, or a blend "
                        f"counts it {len(files)} times."
                    ),
                )
            )
    return findings


def mean_shift(oof: NDArray[np.float64], test: NDArray[np.float64]) -> NDArray[np.float64]:
    """How far each file's test mean lies from its OOF mean, in standard errors of that difference (largest column).

    >>> oof = np.array([[[0.0], [1.0], [0.0], [1.0]]])
    >>> mean_shift(oof, oof + 1.0).round(2)
    array([2.45])
    """
    oof, test = np.asarray(oof, dtype=np.float64), np.asarray(test, dtype=np.float64)
    spread = np.maximum(oof.std(axis=1, ddof=1), 1e-12)
    standard_error = spread * np.sqrt(1 / oof.shape[1] + 1 / test.shape[1])
    return (np.abs(oof.mean(axis=1) - test.mean(axis=1)) / standard_error).max(axis=1)


def consensus_shift(oof: NDArray[np.float64], test: NDArray[np.float64]) -> NDArray[np.float64]:
    """How far each file's test values moved against the mean of the other files, in standard errors (largest column).

    On the OOF rows each file is regressed (a line) on the others' mean; the same line predicts
    its test values from the others' test mean. A file whose test predictions were squared,
    rescaled or made by another run misses that line on the test rows by the same sign, row
    after row; the mean miss, over its standard error, is the statistic. A whole set refitted
    together keeps its line.

    Parameters
    ----------
    oof : ndarray of shape (n_models, n_oof_rows, n_cols)
    test : ndarray of shape (n_models, n_test_rows, n_cols)

    Returns
    -------
    ndarray of shape (n_models,)

    >>> rng = np.random.default_rng(0)
    >>> oof, test = rng.random((4, 200, 1)), rng.random((4, 100, 1))
    >>> oof[:, :, 0] += rng.random(200); test[:, :, 0] += rng.random(100)
    >>> test[3] = test[3] + 0.5
    >>> int(np.argmax(consensus_shift(oof, test)))
    3
    """
    oof, test = np.asarray(oof, dtype=np.float64), np.asarray(test, dtype=np.float64)
    n_models = oof.shape[0]
    others_oof = (oof.sum(axis=0, keepdims=True) - oof) / (n_models - 1)
    others_test = (test.sum(axis=0, keepdims=True) - test) / (n_models - 1)
    mean_x, mean_y = others_oof.mean(axis=1, keepdims=True), oof.mean(axis=1, keepdims=True)
    covariance = ((others_oof - mean_x) * (oof - mean_y)).mean(axis=1, keepdims=True)
    variance = others_oof.var(axis=1, keepdims=True)
    slope = np.where(variance > 0, covariance / np.where(variance > 0, variance, 1.0), 0.0)
    intercept = mean_y - slope * mean_x
    residual_oof = oof - (intercept + slope * others_oof)
    miss = (test - (intercept + slope * others_test)).mean(axis=1)
    spread = np.maximum(residual_oof.std(axis=1), 1e-12)
    return (np.abs(miss) / (spread * np.sqrt(1 / oof.shape[1] + 1 / test.shape[1]))).max(axis=1)


def check_drift(
    oof: NDArray[np.float64], test: NDArray[np.float64], names: list[str]
) -> tuple[list[Finding], NDArray[np.float64], float]:
    """Files whose test predictions are distributed unlike their own OOF predictions.

    The statistic is the two-sample KS statistic per file (:func:`ks_statistics`), measured
    from the median of all files in units of the larger of its noise at these row counts,
    ``1.95 sqrt((n + m) / (n m))``, and the files' robust SD. A file is flagged at
    :data:`DRIFT_UNITS` units, or at :data:`DRIFT_UNITS_WITH_SHIFT` units when its test mean
    also moved :data:`SHIFT_UNITS` robust units more than the other files' did
    (:func:`mean_shift`), or when its test values left the line that relates them to the other
    files' mean on the OOF rows (:func:`consensus_shift`, :data:`CONSENSUS_SHIFT` standard errors
    and :data:`CONSENSUS_UNITS` robust SDs past the others). A whole set that shifts together
    moves the median, not one file. A
    file refitted on all rows (``--refit``) is sharper than its OOF file and drifts by a few
    units; the thresholds sit above the refits of the real-data benchmark.

    Returns
    -------
    findings : list of Finding
    statistic : ndarray of shape (n_models,)
        The KS statistics.
    noise : float
        The KS statistic's noise at these row counts.
    """
    n_oof, n_test = oof.shape[1], test.shape[1]
    statistic = ks_statistics(oof, test)
    if oof.shape[0] < 3:
        return [], statistic, float(1.95 * np.sqrt((n_oof + n_test) / (n_oof * n_test)))
    noise = float(1.95 * np.sqrt((n_oof + n_test) / (n_oof * n_test)))
    median = float(np.median(statistic))
    units = robust_z(statistic, floor=noise)
    shift = mean_shift(oof, test)
    shift_units = robust_z(shift, floor=1.0)
    against = consensus_shift(oof, test)
    against_units = robust_z(against, floor=1.0)
    findings = []
    for model in np.argsort(-units):
        moved = units[model] >= DRIFT_UNITS_WITH_SHIFT and shift_units[model] >= SHIFT_UNITS
        strayed = against[model] >= CONSENSUS_SHIFT and against_units[model] >= CONSENSUS_UNITS
        if units[model] >= DRIFT_UNITS or moved or strayed:
            also = f"; its test mean moved {shift[model]:.1f} standard errors" if moved else ""
            also += (
                f"; against the other files' mean it moved {against[model]:.1f} standard errors from its OOF line"
                if strayed
                else ""
            )
            findings.append(
                Finding(
                    "drift",
                    (names[model],),
                    float(units[model]),
                    (
                        f"drift: {names[model]}: its test predictions are distributed unlike its OOF predictions (KS "
                        f"{statistic[model]:.3f}, the files' median {median:.3f}: {units[model]:.1f} units of "
                        f"{max(noise, (statistic[model] - median) / max(units[model], 1e-12)):.3f}{also}): a test file "
                        "from another run, or transformed; make the test file with the same model and run as its OOF "
                        "file."
                    ),
                )
            )
    return findings, statistic, noise


def check_disagreement(
    oof_corr: NDArray[np.float64],
    test_corr: NDArray[np.float64],
    names: list[str],
    *,
    n_oof: int,
    n_test: int,
    test: NDArray[np.float64] | None = None,
) -> tuple[list[Finding], NDArray[np.float64]]:
    """Files whose correlations with the other files on the OOF rows differ from those on the test rows.

    The statistic is the mean absolute change of the file's Fisher-z correlations with every
    other file, in units of that change's noise, ``sqrt(1 / (n_oof - 3) + 1 / (n_test - 3))``;
    a file is flagged :data:`DISAGREEMENT_Z` robust SDs and :data:`DISAGREEMENT_NOISE_UNITS` noise
    units past the files' median. The worst file is flagged first and left out, and the rest
    are judged again without it, so that a file swapped into another's place does not also
    flag the file it copies.

    Parameters
    ----------
    oof_corr, test_corr : ndarray of shape (n_models, n_models)
    test : ndarray of shape (n_models, n_test_rows, n_cols), default=None
        When given, a flagged file whose test values equal another file's says so.

    Returns
    -------
    findings : list of Finding
    statistic : ndarray of shape (n_models,)
        Each file's statistic among all files.
    """
    n_models = oof_corr.shape[0]
    noise = np.sqrt(1 / max(n_oof - 3, 1) + 1 / max(n_test - 3, 1))
    change = np.abs(_fisher(oof_corr) - _fisher(test_corr))
    np.fill_diagonal(change, 0.0)
    kept = list(range(n_models))
    findings = []
    first = np.full(n_models, np.nan)
    while len(kept) >= 4:
        inside = change[np.ix_(kept, kept)]
        statistic = inside.sum(axis=1) / (len(kept) - 1) / noise
        if len(kept) == n_models:
            first = statistic
        median = float(np.median(statistic))
        z = robust_z(statistic, floor=0.5)
        position = int(np.argmax(statistic))
        if not (z[position] > DISAGREEMENT_Z and statistic[position] - median > DISAGREEMENT_NOISE_UNITS):
            break
        model = kept[position]
        others = [j for j in kept if j != model]
        worst = max(others, key=lambda j: change[model, j])
        same = ""
        if test is not None:
            twins = [names[j] for j in range(n_models) if j != model and np.array_equal(test[j], test[model])]
            same = f"; its test values equal {twins[0]}'s" if twins else ""
        findings.append(
            Finding(
                "disagreement",
                (names[model],),
                float(z[position]),
                (
                    f"disagreement: {names[model]}: its correlation with the other files on the OOF rows differs from "
                    f"that on the test rows ({statistic[position]:.1f} noise units on average, the files' median "
                    f"{median:.1f}; most with {names[worst]}: {oof_corr[model, worst]:.3f} OOF, "
                    f"{test_corr[model, worst]:.3f} test{same}): a leak in its OOF file or a test file from another "
                    "model; check that both files come from one run."
                ),
            )
        )
        kept.remove(model)
    return findings, first


def truth_correlation(values: NDArray[np.float64], y: Target, *, kind: Kind) -> NDArray[np.float64]:
    """Each file's Pearson correlation with the truth (one-hot for classes, cells flattened): a score that no
    calibration, scale or heavy tail moves, so that files of any quality can be set on one line.

    Parameters
    ----------
    values : ndarray of shape (n_models, n_rows, n_cols)
    y : ndarray of shape (n_rows,)

    Returns
    -------
    ndarray of shape (n_models,)

    >>> truth_correlation(np.array([[[0.1], [0.9]], [[0.9], [0.1]]]), np.array([0, 1]), kind="binary")
    array([ 1., -1.])
    """
    values = np.asarray(values, dtype=np.float64)
    if kind in ("binary", "regression"):
        target = np.asarray(y, dtype=np.float64)[:, None]
    else:
        target = np.eye(values.shape[2])[np.asarray(y, dtype=np.int64)]
    target = (target - target.mean()).ravel()
    flat = values.reshape(values.shape[0], -1)
    # No centred copy of the files (300 x 100,000 cells is 240 MB): the target is centred, so the product with
    # the raw values is the covariance, and the variance is the mean square less the squared mean.
    mean = flat.mean(axis=1)
    variance = np.maximum(np.einsum("ij,ij->i", flat, flat) / flat.shape[1] - mean**2, 0.0)
    spread = np.sqrt(variance * flat.shape[1] * (target**2).sum())
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(spread > 0, flat @ target / spread, 0.0)


def theil_sen_slope(x: NDArray[np.float64], y: NDArray[np.float64]) -> float:
    """The median of the slopes between every pair of points with different x (0 when there is none).

    >>> theil_sen_slope(np.array([0.0, 1, 2, 3, 4]), np.array([0.0, 1, 2, 3, 40]))
    1.0
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    first, second = np.triu_indices(x.shape[0], k=1)
    run = x[second] - x[first]
    usable = run != 0
    return float(np.median((y[second] - y[first])[usable] / run[usable])) if usable.any() else 0.0


def check_suspicious_oof(
    oof: NDArray[np.float64],
    y: Target,
    oof_corr: NDArray[np.float64],
    names: list[str],
    *,
    metric: str,
    kind: Kind,
    folds: NDArray[np.int64] | None = None,
    fold_values: NDArray[np.float64] | None = None,
    fold_y: Target | None = None,
) -> tuple[list[Finding], dict[str, NDArray[np.float64]]]:
    """OOF scores far from what a file's agreement with the others suggests, and per-fold spreads unlike the others'.

    The score is each file's correlation with the truth (:func:`truth_correlation`); a file ahead
    of every other by :data:`SCORE_LEAD` on Fisher's z scale is flagged, with the score its
    agreement with the others suggests (a Theil-Sen line of the score on the mean correlation
    with the other files, which one outlier does not pull). With ``folds``, each file's standard
    deviation of per-fold truth correlations is set against the median of all files'; one
    :data:`FOLD_SPREAD_RATIO` times above or below it is flagged, on ``fold_values`` and ``fold_y``
    (a row sample, for speed; ``folds`` is then the sample's folds) where given. Messages give the
    metric's score too.

    Returns
    -------
    findings : list of Finding
    columns : dict of str to ndarray of shape (n_models,)
        ``score`` (the metric), ``truth corr``, ``expected`` (from the line), ``fold_sd``.
    """
    n_models = oof.shape[0]
    scores = _scores(oof, y, metric=metric, kind=kind)
    skill = truth_correlation(oof, y, kind=kind)
    columns = {
        "score": scores,
        "truth corr": skill,
        "expected": np.full(n_models, np.nan),
        "fold_sd": np.full(n_models, np.nan),
    }
    findings: list[Finding] = []
    if n_models < 4:
        return findings, columns
    agreement = (np.nan_to_num(oof_corr).sum(axis=1) - 1.0) / (n_models - 1)
    slope = theil_sen_slope(agreement, skill)
    expected = float(np.median(skill - slope * agreement)) + slope * agreement
    columns["expected"] = expected
    # A leak shows as a file far ahead of every other in agreeing with the truth: on Fisher's z scale, where
    # 0.99 against 0.97 is as far as 0.60 against 0.40, the best clean file of the benchmark leads the next by
    # at most 0.34 (157 rows), a leaky one by at least 0.42.
    strength = np.arctanh(np.clip(skill, -0.9999, 0.9999))
    for model in np.argsort(-strength):
        others = np.delete(strength, model)
        lead = float(strength[model] - others.max())
        if lead < SCORE_LEAD:
            break
        runner_up = names[int(np.delete(np.arange(n_models), model)[others.argmax()])]
        findings.append(
            Finding(
                "suspicious-oof",
                (names[model],),
                lead,
                (
                    f"suspicious-oof: {names[model]}: its OOF predictions agree with the truth far better than any "
                    f"other file's (correlation {skill[model]:.3f} against {np.tanh(others.max()):.3f} for "
                    f"{runner_up}, a lead of {lead:.2f} on Fisher's z scale, above {SCORE_LEAD:g}; "
                    f"{expected[model]:.3f} expected from its agreement with the others, a Theil-Sen line over the "
                    f"files; OOF {metric} {scores[model]:.4f}): a leak (a model that saw these rows?); check how its "
                    "OOF file was made."
                ),
            )
        )
    if folds is not None:
        from blender.evaluation import assignment_splits

        splits = assignment_splits(folds)
        if len(splits) >= 3:
            values, truth = (oof, y) if fold_values is None or fold_y is None else (fold_values, fold_y)
            per_fold = np.array([truth_correlation(values[:, held], truth[held], kind=kind) for _, held in splits]).T
            spread = per_fold.std(axis=1, ddof=1)
            columns["fold_sd"] = spread
            median = float(np.median(spread))
            if median > 0:
                ratio = np.maximum(spread, 1e-12) / median
                for model in np.argsort(-np.abs(np.log(ratio))):
                    if ratio[model] > FOLD_SPREAD_RATIO or ratio[model] < 1 / FOLD_SPREAD_RATIO:
                        words, times = ("more", ratio[model]) if ratio[model] > 1 else ("less", 1 / ratio[model])
                        findings.append(
                            Finding(
                                "suspicious-oof",
                                (names[model],),
                                float(times),
                                (
                                    f"suspicious-oof: {names[model]}: its per-fold scores vary far {words} than the "
                                    f"others' (SD of the per-fold correlation with the truth {spread[model]:.4f} over "
                                    f"{len(splits)} folds, the files' median {median:.4f}, {times:.1f}x): a leak in "
                                    "some folds, or OOF predictions made on other folds; re-run it on the shared "
                                    "folds."
                                ),
                            )
                        )
    return findings, columns


def partition_mismatch(shared: NDArray[np.int64], own: NDArray[np.int64]) -> float:
    """The share of rows that are not where the same partition would put them, fold numbers aside.

    Each of ``own``'s folds is matched with the shared fold most of its rows are in (and each
    shared fold with one of ``own``'s); the share of rows outside those matches. 0 for the same
    partition renumbered.

    >>> partition_mismatch(np.array([0, 0, 1, 1]), np.array([5, 5, 3, 3]))
    0.0
    >>> partition_mismatch(np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1]))
    0.5
    """
    _, shared_codes = np.unique(shared, return_inverse=True)
    _, own_codes = np.unique(own, return_inverse=True)
    table = np.zeros((shared_codes.max() + 1, own_codes.max() + 1), dtype=np.int64)
    np.add.at(table, (shared_codes, own_codes), 1)
    agreeing = min(table.max(axis=0).sum(), table.max(axis=1).sum())
    return float(1.0 - agreeing / shared.shape[0])


def check_folds(
    shared: NDArray[np.int64] | None, file_folds: dict[str, NDArray[np.int64]], *, shared_name: str
) -> tuple[list[Finding], str | None]:
    """Per-file folds files that split the OOF rows unlike the shared folds file.

    Returns the findings and, when there is no shared folds file, why the check was skipped.
    """
    if shared is None:
        return [], (
            f"no shared folds file {shared_name}: give --folds FILE (make oof writes data/folds.csv) to check "
            "per-file folds files"
        )
    findings = []
    for name, own in file_folds.items():
        mismatch = partition_mismatch(shared, own)
        if mismatch > 0:
            findings.append(
                Finding(
                    "folds",
                    (name,),
                    mismatch,
                    (
                        f"folds: {name}: its OOF predictions were made on other folds than {shared_name} "
                        f"({mismatch:.1%} of the rows in another fold, fold numbers aside): averages, vote and Caruana "
                        "are fine; stack, holdout-free levels and any --oof-out fitted on these folds are not (their "
                        "meta-learner sees rows this model trained on); re-run it on the shared folds."
                    ),
                )
            )
    return findings, None


def expected_calibration_error(probabilities: NDArray[np.float64], y: Target, *, kind: Kind, bins: int = 10) -> float:
    """The expected calibration error of one file: binary, the mean |p - y| gap over equal-count bins of p;
    class probabilities, the same for the top class's probability against being right.

    >>> y = np.array([0, 1] * 50)
    >>> round(expected_calibration_error(np.full((100, 1), 0.5), y, kind="binary"), 6)
    0.0
    >>> round(expected_calibration_error(np.full((100, 1), 0.9), y, kind="binary"), 6)
    0.4
    """
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if kind == "binary":
        confidence, outcome = probabilities[:, 0], (np.asarray(y) == 1).astype(np.float64)
    else:
        confidence = probabilities.max(axis=1)
        outcome = (probabilities.argmax(axis=1) == np.asarray(y)).astype(np.float64)
    order = np.argsort(confidence)
    gaps = 0.0
    for chunk in np.array_split(order, min(bins, order.shape[0])):
        if chunk.size:
            gaps += abs(confidence[chunk].mean() - outcome[chunk].mean()) * chunk.size
    return float(gaps / order.shape[0])


def check_calibration(
    oof: NDArray[np.float64], y: Target, names: list[str], *, kind: Kind
) -> tuple[list[Finding], NDArray[np.float64], str | None]:
    """Files whose OOF probabilities are badly calibrated (expected calibration error above :data:`CALIBRATION_ECE`)."""
    if kind not in ("binary", "multiclass"):
        return [], np.full(oof.shape[0], np.nan), f"{kind} files hold no probabilities to calibrate"
    errors = np.array([expected_calibration_error(model, y, kind=kind) for model in oof])
    findings = []
    for model in np.argsort(-errors):
        if errors[model] > CALIBRATION_ECE:
            findings.append(
                Finding(
                    "calibration",
                    (names[model],),
                    float(errors[model]),
                    (
                        f"calibration: {names[model]}: its OOF probabilities are badly calibrated (expected "
                        f"calibration error {errors[model]:.3f} over 10 equal-count bins, above {CALIBRATION_ECE:g}); "
                        "blends that average probabilities take --calibrate to temperature-scale each file first."
                    ),
                )
            )
    return findings, errors, None


def near_duplicates(oof_corr: NDArray[np.float64], names: list[str], *, exact: list[Finding]) -> list[Finding]:
    """Clusters of files joined by OOF correlations of :data:`NEAR_DUPLICATE_CORR` or more, exact duplicates aside."""
    n_models = oof_corr.shape[0]
    linked = np.nan_to_num(oof_corr) >= NEAR_DUPLICATE_CORR
    np.fill_diagonal(linked, False)
    # Connected components by repeated label spreading: each file takes the smallest label of its neighbours.
    labels = np.arange(n_models)
    while True:
        spread = np.where(linked, labels[None, :], n_models).min(axis=1)
        updated = np.minimum(labels, spread)
        if np.array_equal(updated, labels):
            break
        labels = updated
    identical = {frozenset(finding.files) for finding in exact}
    findings = []
    for label in np.unique(labels):
        members = np.flatnonzero(labels == label)
        if members.size < 2 or frozenset(names[m] for m in members) in identical:
            continue
        inside = oof_corr[np.ix_(members, members)][~np.eye(members.size, dtype=bool)]
        files = tuple(names[m] for m in members)
        findings.append(
            Finding(
                "near-duplicate",
                files,
                float(np.nanmin(inside)),
                (
                    f"near-duplicate: {', '.join(files)}: OOF correlations of {np.nanmin(inside):.5f} or more (above "
                    f"{NEAR_DUPLICATE_CORR:g}): nearly one model; a blend gains little from more than one of them."
                ),
            )
        )
    return findings


# ---------------------------------------------------------------------------- all of them


def diagnose(
    oof: NDArray[np.float64],
    test: NDArray[np.float64],
    y: Target,
    *,
    names: list[str],
    kind: Kind,
    metric: str,
    folds: NDArray[np.int64] | None = None,
    file_folds: dict[str, NDArray[np.int64]] | None = None,
    shared_folds_name: str = "data/folds.csv",
    random_state: int | None = 0,
    sample_rows: int = SAMPLE_ROWS,
) -> Diagnosis:
    """Run every check on one set of files.

    Parameters
    ----------
    oof : ndarray of shape (n_models, n_oof_rows, n_cols)
        The OOF predictions (rows aligned with ``y``).
    test : ndarray of shape (n_models, n_test_rows, n_cols)
        The same models' test predictions.
    y : ndarray of shape (n_oof_rows,)
    names : list of str
        How each file is named in the messages.
    kind : {"binary", "multiclass", "regression", "labels"}
    metric : str
        The metric of the OOF scores (a name :func:`blender.metrics.score` takes).
    folds : ndarray of shape (n_oof_rows,), default=None
        The shared folds; None skips the folds check and the per-fold spread.
    file_folds : dict of str to ndarray of shape (n_oof_rows,), default=None
        Per-file folds files, by the name used in ``names`` (or any name to print).
    random_state : int, default=0
        Seeds the row samples (at most ``sample_rows`` of each side).

    Returns
    -------
    Diagnosis

    Examples
    --------
    Three files, the third's test file squared:

    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 400)
    >>> oof = np.clip(y * 0.4 + 0.3 + rng.normal(0, 0.15, (4, 400)), 0.01, 0.99)[:, :, None]
    >>> test = np.clip(rng.integers(0, 2, 300) * 0.4 + 0.3 + rng.normal(0, 0.15, (4, 300)), 0.01, 0.99)[:, :, None]
    >>> test[2] = test[2] ** 3
    >>> found = diagnose(oof, test, y, names=["a", "b", "c", "d"], kind="binary", metric="logloss")
    >>> [(f.check, f.files) for f in found.findings if not f.advice]
    [('drift', ('c',))]
    """
    oof, test = np.asarray(oof, dtype=np.float64), np.asarray(test, dtype=np.float64)
    rng = np.random.default_rng(random_state)
    oof_rows, test_rows = _sample(oof.shape[1], sample_rows, rng), _sample(test.shape[1], sample_rows, rng)
    oof_sample, test_sample = oof[:, oof_rows], test[:, test_rows]
    skipped: dict[str, str] = {}
    duplicates = check_duplicates(oof, test, names)
    drift, ks, ks_noise = check_drift(oof_sample, test_sample, names)
    oof_corr, test_corr = _pearson(oof_sample), _pearson(test_sample)
    disagreement, moved = check_disagreement(
        oof_corr, test_corr, names, n_oof=oof_rows.shape[0], n_test=test_rows.shape[0], test=test
    )
    # The leak's lead uses every OOF row; the per-fold spread and the calibration use the sampled rows.
    suspicious, columns = check_suspicious_oof(
        oof,
        y,
        oof_corr,
        names,
        metric=metric,
        kind=kind,
        folds=None if folds is None else np.asarray(folds)[oof_rows],
        fold_values=oof_sample,
        fold_y=y[oof_rows],
    )
    n_models = oof.shape[0]
    if n_models < 3:
        skipped["drift"] = f"{n_models} file{'s' if n_models != 1 else ''}: judging one against the others needs 3"
    if n_models < 4:
        skipped["disagreement"] = f"{n_models} files: judging one against the others needs 4"
        skipped["suspicious-oof"] = f"{n_models} files: judging one against the others needs 4"
    elif folds is None:
        skipped["suspicious-oof"] = "the per-fold spread needs the shared folds (--folds FILE)"
    fold_findings, why = check_folds(folds, file_folds or {}, shared_name=shared_folds_name)
    if why:
        skipped["folds"] = why
    near = near_duplicates(oof_corr, names, exact=duplicates)
    calibration, ece, why = check_calibration(oof_sample, y[oof_rows], names, kind=kind)
    if why:
        skipped["calibration"] = why
    # A duplicate pair shares every statistic: its drift or disagreement is reported once, under the duplicate.
    findings = [*duplicates, *drift, *disagreement, *suspicious, *fold_findings, *near, *calibration]
    findings.sort(key=lambda finding: (CHECKS.index(finding.check), -finding.severity))
    table = {
        "drift KS": ks,
        "disagreement": moved,
        f"OOF {metric}": columns["score"],
        "truth corr": columns["truth corr"],
        "expected": columns["expected"],
        "fold SD": columns["fold_sd"],
        "ECE": ece,
    }
    thresholds = {
        "drift units": DRIFT_UNITS,
        "KS noise": ks_noise,
        "near-duplicate corr": NEAR_DUPLICATE_CORR,
        "ECE": CALIBRATION_ECE,
    }
    return Diagnosis(findings, skipped, list(names), table, thresholds)
