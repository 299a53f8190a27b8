"""Tables and charts: how results the user compares are shown (stderr tables, PNG pictures).

``models/`` and the benchmarks use the same table formatter. Figures are returned, not
saved: :mod:`blender.io` writes them with every other output of a command.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from blender.doctor import Diagnosis
    from blender.entries import Run
    from blender.evaluation import Leaderboard
    from blender.metrics import Metric
    from blender.picking import Estimate


def format_table(header: list[str], rows: list[list]) -> str:
    """An aligned plain-text table; columns of numbers right-aligned.

    >>> print(format_table(["name", "score"], [["lr", 0.5], ["knn", 0.25]]))
    name     score
    ----  --------
    lr    0.500000
    knn   0.250000
    """
    cells = [[_cell(value) for value in row] for row in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in cells)) if cells else len(str(h)) for i, h in enumerate(header)]
    numeric = [
        bool(rows) and all(isinstance(row[i], (int, float, np.number)) and not isinstance(row[i], bool) for row in rows)
        for i in range(len(header))
    ]

    def line(values: Sequence[str]) -> str:
        return "  ".join(v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric)).rstrip()

    separator = "  ".join("-" * w for w in widths)
    return "\n".join([line([str(h) for h in header]), separator, *(line(r) for r in cells)])


def show_table(header: list[str], rows: list[list], *, stream: TextIO | None = None) -> None:
    """Print a table for a person: a rich table on a terminal, :func:`format_table`'s plain text
    elsewhere (a file, a pipe, CI), where scripts may parse it.

    >>> import io
    >>> out = io.StringIO()
    >>> show_table(["name", "score"], [["lr", 0.5]], stream=out)
    >>> out.getvalue() == format_table(["name", "score"], [["lr", 0.5]]) + chr(10)
    True
    """
    import sys

    stream = sys.stdout if stream is None else stream
    if not getattr(stream, "isatty", lambda: False)():
        stream.write(format_table(header, rows) + "\n")
        return
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(*[str(h) for h in header], header_style="bold", box=box.SIMPLE_HEAD)
    for column, name in zip(table.columns, header):
        column.no_wrap = True
        column.justify = (
            "right"
            if rows
            and all(
                isinstance(r[header.index(name)], (int, float, np.number))
                and not isinstance(r[header.index(name)], bool)
                for r in rows
            )
            else "left"
        )
    for row in rows:
        table.add_row(*[_cell(value) for value in row])
    # As wide as the table needs: a leaderboard is read whole, not cut to the window.
    Console(file=stream, width=max(500, Console(file=stream).width)).print(table)


def _cell(value: object) -> str:
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return "-" if value != value else f"{value:.6f}" if abs(value) < 1e4 else f"{value:.6g}"
    return str(value)


def weights_table(names: list[str], weights: Iterable[float]) -> str:
    """Each file's weight and its share of the total weight (zero weights shown too)."""
    weights = np.asarray(weights, dtype=np.float64)
    total = float(weights.sum())
    rows = [[name, float(w), float(w) / total] for name, w in zip(names, weights)]
    return format_table(["file", "weight", "share"], rows)


def leaderboard_rows(board: Leaderboard, *, pick: tuple[str, ...] = ()) -> tuple[list[str], list[list]]:
    """The honest leaderboard as a table: mean ± standard error, gain over the best file, folds won.

    Entries in ``pick`` (what ``blend auto`` submits, or averages) are marked with ``*``.
    """
    header = [
        "rank",
        "",
        "name",
        "type",
        f"{board.metric} (CV)",
        "± se",
        "vs best file",
        "± se",
        "folds won",
        "all OOF rows",
    ]
    rows = []
    for rank, entry in enumerate(board.entries, start=1):
        mark = "*" if entry.name in pick else ""
        is_baseline = entry.type == "model" and entry.name == board.best_single
        won = "best file" if is_baseline else f"{entry.wins}/{entry.n_folds}"
        rows.append(
            [
                rank,
                mark,
                entry.name,
                entry.type,
                entry.mean,
                entry.se,
                float("nan") if is_baseline else entry.gain,
                float("nan") if is_baseline else entry.gain_se,
                won,
                entry.oof,
            ]
        )
    return header, rows


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    return pyplot


def leaderboard_chart(board: Leaderboard, *, pick: tuple[str, ...] = (), estimate: Estimate | None = None) -> Figure:
    """Two panels: each entry's CV mean ± standard error, and its per-fold gain over the best
    single file ± standard error (what the pick rule looks at). Files blue, blends orange, the
    pick red."""
    plt = _pyplot()
    entries = board.entries[::-1]
    names = [entry.name for entry in entries]
    colours = [
        "tab:red" if entry.name in pick else "tab:orange" if entry.type == "blend" else "tab:blue" for entry in entries
    ]
    figure, (left, right) = plt.subplots(1, 2, figsize=(11, 0.32 * len(entries) + 1.8), sharey=True)
    means = np.array([entry.mean for entry in entries])
    errors = np.nan_to_num(np.array([entry.se for entry in entries]))
    left.barh(names, means, xerr=errors, color=colours, ecolor="gray", capsize=2)
    low, high = float((means - errors).min()), float((means + errors).max())
    pad = (high - low) * 0.1 or abs(high) * 0.05 or 0.05
    left.set_xlim(low - pad, high + pad)
    left.axvline(board.entry(board.best_single).mean, color="tab:blue", linestyle="--", linewidth=1)
    if estimate is not None:
        left.axvline(estimate.mean, color="tab:red", linestyle=":", linewidth=1, label="pick, nested estimate")
        left.legend(loc="lower right", fontsize=8)
    better = "higher" if board.metric in ("accuracy", "auc") else "lower"
    left.set_xlabel(f"{board.metric}, {board.repeats}x{board.folds}-fold CV ({better} is better)")
    gains = np.array([0.0 if entry.name == board.best_single else entry.gain for entry in entries])
    gain_errors = np.nan_to_num(
        np.array([0.0 if entry.name == board.best_single else entry.gain_se for entry in entries])
    )
    right.barh(names, gains, xerr=gain_errors, color=colours, ecolor="gray", capsize=2)
    right.axvline(0.0, color="black", linewidth=1)
    # Zoom on the entries that matter: the best eight (worse ones run off the left edge).
    top = slice(max(0, len(entries) - 8), None)
    spread = float(np.max(np.abs(gains[top]) + gain_errors[top])) or 1.0
    right.set_xlim(-spread * 1.2, spread * 1.2)
    right.set_xlabel(f"gain over the best file {board.best_single} per fold (right is better)")
    figure.suptitle("honest leaderboard (blue: files, orange: blends, red: what auto submits)")
    figure.tight_layout()
    return figure


def heatmap(matrix: NDArray, names: list[str], title: str) -> Figure:
    """The correlation matrix as a heatmap, colours stretched over the range present."""
    plt = _pyplot()
    size = max(4.0, 0.55 * len(names) + 2.5)
    figure, axes = plt.subplots(figsize=(size + 1.2, size))
    # Stretch the colours over the range actually present: blends care about 0.90 versus 0.99.
    off_diagonal = matrix[~np.eye(len(names), dtype=bool)]
    off_diagonal = off_diagonal[np.isfinite(off_diagonal)]
    low = float(np.floor(off_diagonal.min() * 20) / 20) if off_diagonal.size else 0.0
    low = min(low, 0.95)
    image = axes.imshow(matrix, cmap="viridis", vmin=low, vmax=1.0)
    axes.set_xticks(range(len(names)), names, rotation=60, ha="right")
    axes.set_yticks(range(len(names)), names)
    if len(names) <= 20:
        for i in range(len(names)):
            for j in range(len(names)):
                value = matrix[i, j]
                axes.text(
                    j,
                    i,
                    "" if value != value else f"{value:.2f}",
                    ha="center",
                    va="center",
                    color="white" if value < (low + 1.0) / 2 else "black",
                    fontsize=8,
                )
    axes.set_title(title)
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04)
    return figure


def trajectory_chart(
    trajectory: list[tuple[int, float]],
    *,
    metric: str,
    best_single_score: float,
    kept: int | None = None,
    title: str = "Caruana ensemble selection",
) -> Figure:
    """The OOF score along a greedy selection, against the best single file."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(7, 4))
    axes.plot(
        [point[0] for point in trajectory], [point[1] for point in trajectory], marker=".", label="ensemble (OOF)"
    )
    axes.axhline(best_single_score, color="tab:red", linestyle="--", label="best single file")
    if kept is not None:
        axes.axvline(kept, color="tab:gray", linestyle=":", label="kept")
    axes.set_xlabel("iteration")
    axes.set_ylabel(f"OOF {metric}")
    axes.set_title(title)
    axes.legend()
    return figure


def finite_or_none(value: Any) -> Any:
    """A JSON-ready copy of ``value``: JSON has no NaN or inf, so they become None (null), in nested dicts and lists
    too; NumPy numbers become Python numbers.

    >>> finite_or_none({"se": float("nan"), "folds": [0.5, float("inf")], "n": np.int64(3)})
    {'se': None, 'folds': [0.5, None], 'n': 3}
    """
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if np.isfinite(value) else None
    if isinstance(value, dict):
        return {key: finite_or_none(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_none(item) for item in value]
    return value


def leaderboard_document(board: Leaderboard) -> list[dict]:
    """A leaderboard's entries as JSON rows, best first (``blend auto --report`` and ``--json``)."""
    return [
        {
            "name": e.name,
            "type": e.type,
            "mean": e.mean,
            "se": e.se,
            "gain": e.gain,
            "gain_se": e.gain_se,
            "wins": e.wins,
            "folds": e.n_folds,
            "fold_scores": e.fold_scores.tolist(),
            "oof": e.oof,
        }
        for e in board.entries
    ]


# ---------------------------------------------------------------------------- what each method says after its run
#
# Each takes the run (blender.entries.Run), the model names and the metric, and returns the lines its
# command prints after the CV lines; the registry line names them (blender.methods.Method.lines, .chart).


def select_lines(run: Run, names: list[str], metric: str) -> list[str]:
    """The chosen files with their OOF scores and their largest correlation with the files chosen before them."""
    chosen, scores, corr = (run.details[key] for key in ("chosen", "scores", "corr"))
    rows = [
        [names[j], float(scores[j]), float(max((corr[j, k] for k in chosen[:position]), default=float("nan")))]
        for position, j in enumerate(chosen)
    ]
    lines = [format_table(["chosen", f"OOF {metric}", "max corr with earlier"], rows)]
    left_out = [name for j, name in enumerate(names) if j not in chosen]
    return lines + (["left out: " + ", ".join(left_out)] if left_out else [])


def caruana_lines(run: Run, names: list[str], metric: str) -> list[str]:
    """How the selection ran: its options, the start it kept, and whether it fell back to the best file."""
    result, options = run.details["result"], run.method.options
    lines = [
        f"caruana: init {options.get('init', 5)}, {options.get('iters', 50)} iterations, "
        f"{options.get('bags', 1)} bag(s), {'with' if options.get('replacement', True) else 'without'} "
        f"replacement, kept the {result.start} start ({run.seconds:.1f} s)"
    ]
    if result.fell_back:
        lines.append(
            "the bagged blend scored worse than the best single file on the OOF rows, so the best file alone is kept"
        )
    return lines


def caruana_chart(run: Run, metric: Metric) -> Figure:
    """The OOF score along the selection, the kept iteration marked, the best single file as a line."""
    from blender import layout

    result = run.details["result"]
    best = float(result.model_scores[layout.best_model(result.model_scores, metric)])
    return trajectory_chart(result.trajectory, metric=metric, best_single_score=best, kept=result.best_iteration)


def hill_climb_lines(run: Run, names: list[str], metric: str) -> list[str]:
    """Where the climb started and how many steps it took."""
    result = run.details["result"]
    negative = run.method.options.get("negative_weights", False)
    return [
        f"hill climbing from {names[result.start_model]}: {len(result.trajectory) - 1} step(s)"
        f"{' with negative weights allowed' if negative else ''} ({run.seconds:.1f} s)"
    ]


def hill_climb_chart(run: Run, metric: Metric) -> Figure:
    """The OOF score along the climb."""
    result = run.details["result"]
    trajectory = [(step[0], float(step[3])) for step in result.trajectory]
    return trajectory_chart(
        trajectory, metric=metric, best_single_score=float(result.trajectory[0][3]), title="hill climbing"
    )


def weights_lines(run: Run, names: list[str], metric: str) -> list[str]:
    """Which optimiser found the weights, and how long it took."""
    return [f"{run.method.options.get('method', 'slsqp')} weights ({run.seconds:.1f} s)"]


def doctor_chart(diagnosis: Diagnosis, names: list[str]) -> Figure:
    """Each file's drift (KS statistic) against its disagreement (noise units), the flagged files in red."""
    import numpy as np

    plt = _pyplot()
    drift = np.nan_to_num(diagnosis.table["drift KS"])
    disagreement = np.nan_to_num(diagnosis.table["disagreement"])
    flagged = {
        name for finding in diagnosis.findings if finding.check in ("drift", "disagreement") for name in finding.files
    }
    colours = ["tab:red" if path in flagged else "tab:blue" for path in diagnosis.names]
    figure, axes = plt.subplots(figsize=(7, 5))
    axes.scatter(drift, disagreement, c=colours)
    for x, y, name in zip(drift, disagreement, names):
        axes.annotate(name, (x, y), fontsize=7, xytext=(3, 3), textcoords="offset points")
    axes.axvline(float(np.median(drift)), color="gray", linestyle=":", linewidth=1)
    axes.axhline(float(np.median(disagreement)), color="gray", linestyle=":", linewidth=1)
    axes.set_xlabel("drift: KS statistic between the file's OOF and test predictions")
    axes.set_ylabel("disagreement: change of its correlations, OOF to test (noise units)")
    axes.set_title("blend doctor (red: flagged; dotted: the files' medians)")
    figure.tight_layout()
    return figure
