"""Caruana selection: blender against AutoGluon's EnsembleSelection, timed in one run.

AutoGluon cannot be installed beside this project's pinned versions, so the reference is a
**faithful re-implementation of AutoGluon's loop**: ``EnsembleSelection._fit`` of
``core/src/autogluon/core/models/greedy_ensemble/ensemble_selection.py`` (autogluon/autogluon
at f34ebb4, August 2026) with its defaults (``ensemble_size=25`` as GreedyWeightedEnsembleModel
sets it, no sorted initialisation, ``tie_breaker="random"``, ``RandomState(0)``, no subsampling
below 1,000,000 rows). Copied as they are: the running ensemble update, the per-candidate
``fant_ensemble_prediction``, the regret (``optimum - score``), scores rounded to 6 decimals
after the first iteration when the first best regret exceeds 1e-4, ``np.isclose`` ties, the
preference for models already chosen, the random choice among ties, ``use_best`` (keep the
first best point of the trajectory) and the weights ``count / ensemble_size``. Only logging
and the time limit are left out.

The scorers are AutoGluon's own, copied from ``core/src/autogluon/core/metrics``: for binary
AUC ``customized_binary_roc_auc_score`` (a streamlined ``roc_auc_score``: a mergesort argsort,
cumulative counts, trapezoids), for log loss ``customized_log_loss`` (clip, two logs, mean).
AutoGluon does not call scikit-learn here; ``--sklearn`` adds a run of the same loop with
scikit-learn's ``roc_auc_score`` and ``log_loss`` for comparison.

blender's ``caruana_select(init=0, iters=25)`` runs on the same 50 binary models x 100,000
rows. Times are process CPU time (``time.process_time``), which a busy shared machine
disturbs less than wall time; wall time is printed too. Each is the fastest of ``--repeat``
calls (default 3), for blender and the reference alike. Targets: AUC at least 20x, log loss
at least 10x; the two must choose the same weights.

    .venv/bin/python benchmarks/bench_caruana.py [--rows 100000] [--models 50] [--iters 25] [--repeat 3] [--sklearn]
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

import numpy as np

from blender.caruana import caruana_select

TARGETS = {"auc": 20.0, "logloss": 10.0}
_OPTIMIZE_INDICES_THRESHOLD = 100000  # classification_metrics.py


def synthetic_oof(n_rows: int, n_models: int, seed: int = 0):
    """Models of varied skill sharing some noise, as real OOF columns do: y (n_rows,), oof (n_rows, n_models)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n_rows)
    signal = (2 * y - 1)[:, None] * rng.uniform(0.2, 1.5, n_models)
    shared = rng.normal(size=(n_rows, 1)) * 0.8
    logits = signal + shared + rng.normal(size=(n_rows, n_models))
    return y, 1.0 / (1.0 + np.exp(-logits))


# ---------------------------------------------------------------------------- AutoGluon's scorers


def customized_binary_roc_auc_score(y_true, y_score):
    """AutoGluon's binary AUC (classification_metrics.py), without the pandas and kwargs branches."""
    if y_true.size == 0 or y_score.size == 0:
        raise ValueError("Found array with 0 sample(s) (shape=(0,)) while a minimum of 1 is required.")
    desc_score_indices = np.argsort(y_score, kind="mergesort")[::-1]
    y_score = y_score[desc_score_indices]
    y_true = y_true[desc_score_indices]
    distinct_value_indices = np.where(np.diff(y_score))[0]
    threshold_idxs = np.r_[distinct_value_indices, y_true.size - 1]
    tps = np.cumsum(y_true)[threshold_idxs]
    fps = 1 + threshold_idxs - tps
    if tps.size > _OPTIMIZE_INDICES_THRESHOLD:
        optimal_idxs = np.where(np.r_[True, np.logical_or(np.diff(fps, 2), np.diff(tps, 2)), True])[0]
        fps = fps[optimal_idxs]
        tps = tps[optimal_idxs]
    tps = np.r_[0, tps]
    fps = np.r_[0, fps]
    if fps[-1] <= 0 or tps[-1] <= 0:
        raise ValueError("Only one class present in y_true. ROC AUC score is not defined in that case.")
    fpr = fps / fps[-1]
    tpr = tps / tps[-1]
    return np.trapezoid(tpr, fpr)


def customized_log_loss(y_true, y_pred, eps=1e-15):
    """AutoGluon's log loss (metrics/__init__.py), binary branch."""
    assert y_true.ndim == 1
    y_pred = np.clip(y_pred.astype(float), eps, 1 - eps)
    return -(y_true * np.log(y_pred) + (1 - y_true) * np.log(1 - y_pred)).mean()


def _regret_functions(use_sklearn: bool):
    """metric -> error in lower-is-better form, as Scorer.error computes it (optimum - sign * score)."""
    if use_sklearn:
        from sklearn.metrics import log_loss, roc_auc_score

        return {"auc": lambda y, p: 1.0 - roc_auc_score(y, p), "logloss": lambda y, p: 0.0 - (-log_loss(y, p))}
    return {
        "auc": lambda y, p: 1.0 - customized_binary_roc_auc_score(y, p),
        "logloss": lambda y, p: 0.0 - (-customized_log_loss(y, p)),
    }


# ---------------------------------------------------------------------------- AutoGluon's loop


def autogluon_ensemble_selection(predictions, labels, regret, ensemble_size=25, random_state=None):
    """``EnsembleSelection._fit`` + ``_calculate_weights`` for a binary problem (tie_breaker="random").

    Returns (weights, order, trajectory, first_index_of_best).
    """
    random_state = random_state if random_state is not None else np.random.RandomState(seed=0)
    ensemble = []
    trajectory = []
    order = []
    used_models = set()
    round_scores = False
    epsilon = 1e-4
    round_decimals = 6
    ensemble_prediction = np.zeros(predictions[0].shape)
    weighted_ensemble_prediction = np.zeros(predictions[0].shape)
    fant_ensemble_prediction = np.zeros(predictions[0].shape)
    for i in range(ensemble_size):
        scores = np.zeros((len(predictions)))
        s = len(ensemble)
        if s != 0:
            ensemble_prediction *= (s - 1) / s
            ensemble_prediction += ensemble[-1] / s
            weighted_ensemble_prediction[:] = (s / float(s + 1)) * ensemble_prediction
        for j, pred in enumerate(predictions):
            fant_ensemble_prediction[:] = weighted_ensemble_prediction + (1.0 / float(s + 1)) * pred
            scores[j] = regret(labels, fant_ensemble_prediction)
            if round_scores:
                scores[j] = scores[j].round(round_decimals)
        all_best = np.argwhere(np.isclose(scores, np.nanmin(scores), atol=0, rtol=1e-12)).flatten()
        if (len(all_best) > 1) and used_models:
            new_all_best = [m for m in all_best if m in used_models]
            if new_all_best:
                all_best = new_all_best
        best = random_state.choice(all_best)
        best_score = scores[best]
        if i == 0:
            if np.abs(best_score) > epsilon:
                round_scores = True
                best_score = best_score.round(round_decimals)
        ensemble.append(predictions[best])
        trajectory.append(best_score)
        order.append(best)
        used_models.add(best)
        if len(predictions) == 1:
            break
    min_score = np.min(trajectory)
    first_index_of_best = trajectory.index(min_score)
    indices = order[: first_index_of_best + 1]
    size = first_index_of_best + 1
    weights = np.zeros(len(predictions))
    for model, count in Counter(indices).most_common():
        weights[model] = float(count) / size
    return weights, order, trajectory, first_index_of_best


# ---------------------------------------------------------------------------- the run


def _blender_selection(values, y, metric, iters):
    """caruana_select on blender's layout, (n_models, n_rows, 1)."""
    return caruana_select(values, y, kind="binary", metric=metric, init=0, iters=iters)


def _timed(function, repeat: int):
    """The result and the fastest CPU and wall seconds of ``repeat`` calls (the first pays for page faults)."""
    cpus, walls = [], []
    for _ in range(repeat):
        cpu, wall = time.process_time(), time.perf_counter()
        result = function()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return result, min(cpus), min(walls)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--models", type=int, default=50)
    parser.add_argument("--iters", type=int, default=25)
    parser.add_argument("--sklearn", action="store_true", help="also time the loop with scikit-learn's scorers")
    parser.add_argument("--repeat", type=int, default=3, help="time each run this many times and keep the fastest")
    args = parser.parse_args()

    y, oof = synthetic_oof(args.rows, args.models)
    predictions = [np.ascontiguousarray(oof[:, j]) for j in range(args.models)]
    values = np.ascontiguousarray(oof.T)[:, :, None]  # blender's layout, as blender.io reads it
    print(
        f"Caruana selection: {args.models} binary models x {args.rows:,} rows, {args.iters} iterations, "
        "no initialisation"
    )
    print("reference: a faithful re-implementation of AutoGluon's EnsembleSelection loop (AutoGluon itself is not")
    print(
        "installable beside our pins) with AutoGluon's own scorers; CPU seconds of this process, same run, "
        f"fastest of {args.repeat}\n"
    )
    references = {"autogluon": _regret_functions(False)}
    if args.sklearn:
        references["autogluon+sklearn"] = _regret_functions(True)
    header = [
        "metric",
        "reference",
        "blender CPU s",
        "reference CPU s",
        "speed-up",
        "wall speed-up",
        "target",
        "same weights",
    ]
    rows = []
    for metric in ("auc", "logloss"):
        _blender_selection(values[:, :2000], y[:2000], metric, 2)  # warm up
        ours, ours_cpu, ours_wall = _timed(lambda: _blender_selection(values, y, metric, args.iters), args.repeat)
        for name, regrets in references.items():
            (weights, order, trajectory, best), ref_cpu, ref_wall = _timed(
                lambda: autogluon_ensemble_selection(predictions, y, regrets[metric], ensemble_size=args.iters),
                args.repeat,
            )
            same = np.allclose(weights, ours.weights, rtol=0, atol=1e-12)
            agree = "yes" if same else _difference(order, ours.selection, best, ours.best_iteration)
            speed = ref_cpu / ours_cpu
            rows.append(
                [
                    metric,
                    name,
                    f"{ours_cpu:.2f}",
                    f"{ref_cpu:.1f}",
                    f"{speed:.1f}x",
                    f"{ref_wall / ours_wall:.1f}x",
                    f"{TARGETS[metric]:.0f}x {'met' if speed >= TARGETS[metric] else 'MISSED'}",
                    agree,
                ]
            )
    widths = [max(len(str(row[i])) for row in rows + [header]) for i in range(len(header))]
    for row in [header] + rows:
        print("  ".join(str(text).rjust(width) for text, width in zip(row, widths)))


def _difference(autogluon_order, blender_order, autogluon_best, blender_best) -> str:
    """Where the two selections part (AutoGluon rounds its scores to 6 decimals after the first step)."""
    for step, (a, b) in enumerate(zip(autogluon_order, blender_order)):
        if a != b:
            return f"NO: first differs at step {step + 1} (AutoGluon {a}, blender {b})"
    return f"NO: same picks, best step AutoGluon {autogluon_best + 1}, blender {blender_best}"


if __name__ == "__main__":
    main()
