"""The registry: every blend method defined once, as a fit/apply pair on the one layout.

``fit(values, y, *, kind, metric, random_state, **options)`` learns from out-of-fold
predictions ``values`` (n_models, n_rows, n_cols) and truth ``y`` (a method that does not
learn ignores both) and returns a fitted blend whose ``apply(values)`` maps any prediction
set of the same models to one blend (n_rows, n_cols). The ``blend`` commands, the honest
leaderboard (:mod:`blender.evaluation`) and ``blend auto`` (:mod:`blender.picking`) all go
through these entries, so "fit on the OOF rows, apply to the test rows" is written once.

A new blend method is its module, one :class:`Method` line in :data:`METHODS`, and its test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Literal, Protocol

import numpy as np
from numpy.typing import NDArray

from blender import layout, metrics, report
from blender.correlation import CORRELATION_METHODS
from blender.median import fit_median
from blender.stacking import META_LEARNERS
from blender.weights import OPTIMIZERS

if TYPE_CHECKING:
    from blender.averaging import MeanKind
    from blender.correlation import CorrelationMethod
    from blender.metrics import Kind
    from blender.stacking import MetaLearner

PROBABILITIES = ("binary", "multiclass")
NUMBERS = ("binary", "multiclass", "regression")
ALL_KINDS = ("binary", "multiclass", "regression", "labels")


# ---------------------------------------------------------------------------- the interface


class Fitted(Protocol):
    """A blend fitted on OOF rows: it blends any prediction set of the same models.

    ``apply(values)`` takes ``values`` of shape (n_models, n_rows, n_cols) and returns the blend,
    shape (n_rows, n_cols), in the same layout (:mod:`blender.layout`).
    """

    def apply(self, values: NDArray) -> NDArray[np.float64]: ...


#: A registry entry's fit: ``fit(values, y, *, kind, metric, random_state=None, **options) -> Fitted``, which
#: learns from OOF predictions ``values`` (n_models, n_rows, n_cols) and their truth ``y`` (n_rows,) (None, and
#: unused, for an entry that does not learn); ``kind`` is the layout's kind, ``metric`` the resolved metric (or a
#: name) it optimises, ``random_state`` seeds what is random, and ``options`` are the entry's own keywords (which
#: differ per entry, so the type names only the arguments every fit takes and what it returns).
Fit = Callable[..., Fitted]


# ---------------------------------------------------------------------------- fitted blends


@dataclass(frozen=True, eq=False)
class Weighted:
    """A weighted mean of the models (a weighted vote share for labels)."""

    weights: NDArray[np.float64]
    kind: Kind
    details: dict = field(default_factory=dict)

    def apply(self, values: NDArray) -> NDArray[np.float64]:
        return layout.weighted_blend(values, self.weights, kind=self.kind)


@dataclass(frozen=True, eq=False)
class Mean:
    """A fixed mean of the models (arithmetic, geometric, harmonic, power or logit)."""

    mean: MeanKind = "arithmetic"
    power: float | None = None
    weights: NDArray[np.float64] | None = None

    def apply(self, values: NDArray) -> NDArray[np.float64]:
        from blender.averaging import average

        return average(values, kind=self.mean, power=self.power, weights=self.weights)


@dataclass(frozen=True, eq=False)
class Ranked:
    """The rank average of the models."""

    weights: NDArray[np.float64] | None = None

    def apply(self, values: NDArray) -> NDArray[np.float64]:
        from blender.rank import rank_average

        return rank_average(values, weights=self.weights)


@dataclass(frozen=True, eq=False)
class Voted:
    """The (weighted) majority vote, as one-hot rows; probabilities vote by argmax / 0.5."""

    weights: NDArray[np.float64] | None = None
    kind: Kind = "labels"

    def apply(self, values: NDArray) -> NDArray[np.float64]:
        from blender.voting import probabilities_to_votes, vote

        values = np.asarray(values)
        n_classes = 2 if self.kind != "labels" and values.shape[2] == 1 else values.shape[2]
        winners = np.empty(values.shape[1], dtype=np.int64)
        # Rows vote independently: a block of rows at a time keeps the votes, tallies and each
        # model's choice ((n_models, n_rows) int64) a few MB instead of twice ``values``.
        for start in range(0, values.shape[1], 1 << 16):
            block = values[:, start : start + (1 << 16)]
            votes = block if self.kind == "labels" else probabilities_to_votes(block)
            winners[start : start + (1 << 16)] = vote(votes, weights=self.weights)
        return np.eye(n_classes)[winners]


@dataclass(frozen=True, eq=False)
class Calibrated:
    """Per-model temperatures applied before an inner fitted blend."""

    temperatures: NDArray[np.float64]
    kind: Kind
    inner: Fitted

    @property
    def weights(self) -> NDArray[np.float64] | None:
        return getattr(self.inner, "weights", None)

    def apply(self, values: NDArray) -> NDArray[np.float64]:
        from blender.calibrate import apply_temperatures

        return self.inner.apply(apply_temperatures(values, self.temperatures, kind=self.kind))


# ---------------------------------------------------------------------------- fit functions


def fit_best(values: NDArray, y: NDArray, *, kind: Kind, metric: Any, random_state: int | None = None) -> Weighted:
    """The single model with the best score on these rows."""
    scores = layout.model_scores(values, y, metric=metric, kind=kind)
    weights = np.zeros(layout.n_models(values))
    weights[layout.best_model(scores, metric)] = 1.0
    return Weighted(weights, kind)


def fit_mean(
    values: NDArray,
    y: NDArray | None,
    *,
    kind: Kind,
    metric: Any,
    random_state: int | None = None,
    mean: MeanKind = "arithmetic",
    power: float | None = None,
    weights: NDArray[np.float64] | None = None,
) -> Mean:
    return Mean(mean, power, weights)


def fit_rank(
    values: NDArray,
    y: NDArray | None,
    *,
    kind: Kind,
    metric: Any,
    random_state: int | None = None,
    weights: NDArray[np.float64] | None = None,
) -> Ranked:
    return Ranked(weights)


def fit_vote(
    values: NDArray,
    y: NDArray | None,
    *,
    kind: Kind,
    metric: Any,
    random_state: int | None = None,
    weights: NDArray[np.float64] | None = None,
) -> Voted:
    return Voted(weights, kind)


def fit_select(
    values: NDArray,
    y: NDArray,
    *,
    kind: Kind,
    metric: Any,
    random_state: int | None = None,
    max_corr: float = 0.95,
    top: int | None = None,
    method: CorrelationMethod = "pearson",
) -> Weighted | Voted:
    """The best model, then each next-best one whose correlation with all chosen stays under ``max_corr``."""
    from blender.correlation import correlation_matrix, label_agreement
    from blender.selection import select_uncorrelated

    scores = layout.model_scores(values, y, metric=metric, kind=kind)
    corr = label_agreement(values) if kind == "labels" else correlation_matrix(values, method=method)
    chosen = select_uncorrelated(
        scores, corr, greater_is_better=metrics.greater_is_better(metric), max_corr=max_corr, top=top
    )
    weights = np.zeros(layout.n_models(values))
    weights[chosen] = 1.0
    details = {"chosen": chosen, "scores": scores, "corr": corr}
    if kind == "labels":
        return _VotedSubset(weights, kind, details)
    return Weighted(weights, kind, details)


@dataclass(frozen=True, eq=False)
class _VotedSubset(Voted):
    details: dict = field(default_factory=dict)


def fit_caruana(
    values: NDArray,
    y: NDArray,
    *,
    kind: Kind,
    metric: Any,
    random_state: int | None = None,
    init: int = 5,
    iters: int = 50,
    bags: int = 1,
    bag_fraction: float = 0.5,
    replacement: bool = True,
) -> Weighted:
    from blender.caruana import caruana_select

    result = caruana_select(
        values,
        y,
        kind=kind,
        metric=metric,
        init=init,
        iters=iters,
        bags=bags,
        bag_fraction=bag_fraction,
        replacement=replacement,
        random_state=random_state,
    )
    return Weighted(result.weights, kind, {"result": result})


def fit_weights(
    values: NDArray,
    y: NDArray,
    *,
    kind: Kind,
    metric: Any,
    random_state: int | None = None,
    method: Literal["slsqp", "nelder-mead"] = "slsqp",
) -> Weighted:
    from blender.weights import optimize_weights

    return Weighted(optimize_weights(values, y, kind=kind, metric=metric, method=method), kind)


def fit_hill_climb(
    values: NDArray,
    y: NDArray,
    *,
    kind: Kind,
    metric: Any,
    random_state: int | None = None,
    negative_weights: bool = False,
    **options: Any,
) -> Weighted:
    from blender.hillclimb import hill_climb

    result = hill_climb(
        values, y, kind=kind, metric=metric, negative_weights=negative_weights, random_state=random_state, **options
    )
    return Weighted(result.weights, kind, {"result": result})


def fit_stack(
    values: NDArray,
    y: NDArray,
    *,
    kind: Kind,
    metric: Any,
    random_state: int | None = None,
    meta: MetaLearner = "logreg",
    **options: Any,
) -> Fitted:
    from blender.stacking import fit_stacker

    return fit_stacker(values, y, kind=kind, meta=meta, random_state=random_state, **options)


def fit_level2(
    values: NDArray,
    y: NDArray,
    *,
    kind: Kind,
    metric: Any,
    random_state: int | None = None,
    combiner: str = "hill-climb",
) -> Fitted:
    """The level-2 entries (``blender.levels.level2_members``) cross-fitted, then ``combiner`` over them."""
    from blender.levels import fit_level2 as fit_two_levels
    from blender.levels import level2_members

    return fit_two_levels(
        values,
        y,
        {name: BY_NAME[name] for name in level2_members(kind)},
        BY_NAME[combiner],
        kind=kind,
        metric=metric,
        random_state=random_state,
    )


def calibrated(fit: Fit) -> Fit:
    """``fit`` preceded by per-model temperature scaling, fitted on the same rows."""

    def fit_calibrated(
        values: NDArray, y: NDArray, *, kind: Kind, metric: Any, random_state: int | None = None, **options: Any
    ) -> Calibrated:
        from blender.calibrate import apply_temperatures, fit_temperatures

        temperatures = fit_temperatures(values, y, kind=kind)
        scaled = apply_temperatures(values, temperatures, kind=kind)
        inner = fit(scaled, y, kind=kind, metric=metric, random_state=random_state, **options)
        return Calibrated(temperatures, kind, inner)

    return fit_calibrated


# ---------------------------------------------------------------------------- the registry


@dataclass(frozen=True)
class Option:
    """One option of a registry entry, declared once: the command's ``--flag``, ``--help``, the Python
    face's keyword, and the rule its values keep (:meth:`check`).

    ``type`` is int, float, bool or str; ``low`` and ``high`` bound a number (inclusive; ``above``: a
    bound it must exceed), ``choices`` a string; ``fix`` words the refusal's advice where the bounds'
    words would not do. The keyword is ``name``; the command's flag is ``--name`` with dashes
    (``cli_flag`` names another).

    >>> Option("shrink", float, 0.5, "How far to shrink.", low=0.0, high=1.0).check(1.5)
    '--shrink 1.5: give a number from 0 to 1.'
    """

    name: str
    type: type
    default: object
    help: str
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] | None = None
    above: float | None = None
    fix: str | None = None
    cli_flag: str | None = None
    short: str | None = None
    negated: bool = False  # a bool whose command flag turns it off (--no-replacement), the default on

    @property
    def flag(self) -> str:
        """The command's flag: ``--name`` with dashes, unless ``cli_flag`` names another (``--iters``)."""
        return self.cli_flag or "--" + self.name.replace("_", "-")

    def _span(self) -> str:
        """The allowed numbers in words: 'from 0 to 1', 'above 0 and at most 1', 'of 1 or more'."""
        if self.above is not None:
            return f"above {self.above:g}" + (f" and at most {self.high:g}" if self.high is not None else "")
        if self.low is not None:
            return f"from {self.low:g} to {self.high:g}" if self.high is not None else f"of {self.low:g} or more"
        return f"of {self.high:g} or less"

    def check(self, value: object) -> str | None:
        """The one-line refusal of ``value`` (naming the flag and the fix), or None when it keeps the rule."""
        if value is None:
            return None
        if self.type is bool:
            return None if isinstance(value, (bool, np.bool_)) else f"{self.flag} {value}: give true or false."
        if self.choices is not None:
            return None if value in self.choices else f"{self.flag} {value}: choose one of {', '.join(self.choices)}."
        if self.type in (int, float):
            if (
                not isinstance(value, (int, float, np.number))
                or isinstance(value, bool)
                or (self.type is int and float(value) != int(value))
            ):
                return f"{self.flag} {value}: give {'a whole number' if self.type is int else 'a number'}."
            if (
                (self.low is not None and value < self.low)
                or (self.above is not None and value <= self.above)
                or (self.high is not None and value > self.high)
            ):
                return f"{self.flag} {value:g}: {self.fix or 'give a number ' + self._span()}."
        return None


def check_options(entry: Method, values: dict) -> None:
    """Refuse, with one line, an option ``entry`` does not declare or a value outside its rule.

    >>> check_options(BY_NAME["caruana"], {"iters": 0, "init": 0})
    Traceback (most recent call last):
    ...
    blender.errors.BlendInputError: caruana: --init 0 with --iters 0 selects nothing; give --iters 1 or more.
    """
    from blender.errors import BlendInputError

    declared = {option.name: option for option in entry.params}
    for name, value in values.items():
        if name not in declared:
            raise BlendInputError(f"{entry.name} has no option {name!r}; its options: {', '.join(declared) or 'none'}.")
        problem = declared[name].check(value)
        if problem is not None:
            raise BlendInputError(problem)
    if entry.check is not None:
        problem = entry.check({**{name: option.default for name, option in declared.items()}, **values})
        if problem is not None:
            raise BlendInputError(f"{entry.name}: {problem}")


def _caruana_check(values: dict) -> str | None:
    """Caruana selects nothing from an empty start with no step."""
    if values.get("init") == 0 and values.get("iters") == 0:
        return "--init 0 with --iters 0 selects nothing; give --iters 1 or more."
    return None


_CARUANA = (
    Option("init", int, 5, "Start from the N best files (sorted initialisation); 0 starts empty.", low=0),
    Option("iters", int, 50, "Forward-selection steps.", low=0),
    Option("bags", int, 1, "Bagged selection: run on B random subsets of the files and average the weights.", low=1),
    Option(
        "bag_fraction",
        float,
        0.5,
        "Share of the files each bag may choose from.",
        above=0.0,
        high=1.0,
        fix="give a share in (0, 1], e.g. 0.5",
    ),
    Option("replacement", bool, True, "Never add the same file twice.", cli_flag="--no-replacement", negated=True),
)
_SELECT = (
    Option("max_corr", float, 0.95, "Add a file only if its correlation with every chosen file is below this."),
    Option("top", int, None, "Choose at most K files.", low=1, fix="choose at least one file"),
    Option("method", str, "pearson", "Correlation used for the bound.", choices=CORRELATION_METHODS, short="-m"),
)
_WEIGHTS = (Option("method", str, "slsqp", "scipy.optimize method.", choices=OPTIMIZERS),)
_STACK = (
    Option("meta", str, "logreg", "The meta-learner.", choices=META_LEARNERS),
    Option("fwls", bool, False, "Feature-weighted linear stacking (Sill et al. 2009)."),
    Option("quadratic", bool, False, "Add pairwise products of the models' predictions."),
    Option("logit", bool, False, "Feed probabilities to the meta-learner as logits."),
)
_AVERAGE = (
    Option(
        "mean",
        str,
        "arithmetic",
        "Which mean (logit: the mean of the log-odds).",
        choices=("arithmetic", "geometric", "harmonic", "power", "logit"),
        cli_flag="--kind",
        short="-k",
    ),
    Option("power", float, None, "Exponent for --kind power (2 squares, 0.5 roots).", short="-p"),
)


def _average_check(values: dict) -> str | None:
    """The power mean, and only it, takes an exponent."""
    if values.get("mean") != "power" and values.get("power") is not None:
        return f"--power applies to --kind power only (got --kind {values.get('mean')}); drop one of them."
    if values.get("mean") == "power" and values.get("power") is None:
        return "the power mean needs an exponent: pass --power P (e.g. 2 or 0.5)."
    return None


_HILL_CLIMB = (
    Option("negative_weights", bool, False, "Also try negative weights (w < 0 subtracts a file)."),
    Option(
        "tolerance",
        float,
        1e-6,
        "Stop when a step gains less than this share of the score.",
        low=0.0,
        fix="give 0 or a positive number",
    ),
    Option("max_iters", int, 100, "At most this many steps.", low=1, cli_flag="--iters"),
)


@dataclass(frozen=True)
class Method:
    """One registry line.

    ``complexity`` orders entries from the simplest (a fixed mean) to the most flexible (a
    meta-learner); ``blend auto`` prefers the simpler of two entries it cannot tell apart.
    ``metrics`` limits an entry to the metrics it suits (ranks only mean something to AUC).
    ``command`` names the ``blend`` command that runs the entry with options (``average --kind
    geometric``); None gives the entry a command of its own name, generated when ``blender.cli``
    has none. ``level`` is 2 for an entry that is itself two levels of blends
    (:mod:`blender.levels`), which ``blend auto`` keeps only where its nested estimate says a
    second level pays. ``params`` declares the entry's own options (:class:`Option`): its
    generated command, its ``--help`` and the Python face take them from there, and
    :func:`check_options` refuses what breaks their rules, with ``check`` for a rule over
    several of them. The generated command's help is ``doc`` (else the summary); ``label`` names
    the blend in its lines, ``lines(run, names, metric)`` gives what it prints after its scores
    and ``chart(run, metric)`` its ``--plot``; ``calibrates`` offers ``--calibrate`` and ``weighs``
    ``--weights-out`` and the weights table. ``takes`` names the command's further option groups: ``weights``
    (``--weights``), ``memory`` (``--memory``, out of core), ``history`` (``--history``), ``vote-labels``
    (``--truth``/``--positive``: the labels binary votes are written as), ``features`` (``--features``, the
    stacking commands) and ``holdout`` (a second command, ``blend holdout``, that fits the entry on the holdout
    rows, ``--holdout-dir``; its help is :data:`HOLDOUT_DOC`). ``accepts`` is the kinds its command takes where
    they differ from ``kinds`` (:attr:`command_kinds`).
    """

    name: str
    fit: Fit
    kinds: tuple[str, ...]
    learns: bool
    complexity: int
    summary: str
    options: dict = field(default_factory=dict)
    metrics: tuple[str, ...] | None = None
    command: str | None = None
    level: int = 1
    params: tuple[Option, ...] = ()
    check: Callable[[dict], str | None] | None = None
    doc: str | None = None
    label: str | None = None
    lines: Callable | None = None
    chart: Callable | None = None
    calibrates: bool = False
    weighs: bool = False
    takes: tuple[str, ...] = ()
    accepts: tuple[str, ...] | None = None

    def suits(self, kind: str, metric: str) -> bool:
        return kind in self.kinds and (self.metrics is None or metric in self.metrics)

    @property
    def command_kinds(self) -> tuple[str, ...]:
        """The kinds of file its command takes: ``accepts`` where the command takes more than the entry is scored
        on (``blend vote`` turns probabilities into votes), else ``kinds``."""
        return self.accepts if self.accepts is not None else self.kinds


_VOTE_DOC = """Majority vote, or weighted vote, of labels (probabilities become labels: argmax, or 0.5 for binary).

    A tie goes to the tied label of the first file (in the order listed) that voted for one.
    Probability files give a file of the same columns holding the winning class as 0/1; binary
    files whose truth holds two labels (No/Yes) get those labels.

    Example:

        blend vote submissions/*.csv -o blends/vote.csv

        blend vote cnn.csv rf.csv knn.csv lr.csv xgb.csv --weights 3,1,1,1,1
    """
_AVERAGE_DOC = """The mean of the predictions, column by column: arithmetic, geometric, harmonic, power or logit.

    For class probabilities every mean but the arithmetic one is renormalised so rows sum to 1.
    With --calibrate, each file is first temperature-scaled on its OOF rows (--oof-dir, --truth),
    and the blend's own OOF predictions are written for a next level (--oof-out, cross-fitted on
    --folds).

    Example:

        blend average submissions/*.csv --kind geometric -o blends/geo.csv

        blend average submissions/*.csv --kind logit --calibrate

        blend average huge/*.parquet --memory 2GB -o blends/average.parquet
    """
_RANK_DOC = """Each column ranked (ties share the average rank), ranks averaged, scaled to [0, 1].

    With --history, each new value takes the scaled rank of the nearest value in the earlier
    predictions, so a handful of new rows land on the same scale as the full earlier set.

    Example:

        blend rank-average submissions/*.csv -o blends/rank.csv

        blend rank-average new/*.csv --history submissions/ -o blends/rank_new.csv
    """
_SELECT_DOC = """Correlation-aware selection: the best OOF file first, then each next-best file whose
    correlation with all chosen stays under --max-corr; writes the average of the chosen
    (their vote, for label files) and prints its cross-validated score (--seed seeds the folds).

    Example:

        blend select submissions/*.csv --max-corr 0.95 --top 5 -o blends/select.csv
    """
_CARUANA_DOC = """Greedy ensemble selection (Caruana et al. 2004) on the OOF rows, with replacement,
    sorted initialisation and bagging; writes the weighted blend of the test files.

    The selection also runs from an empty start and keeps the better end point, and never
    writes a blend whose OOF score is worse than the best single file's.

    Example:

        blend caruana submissions/*.csv --init 3 --iters 100 --bags 20 --metric logloss
    """
_HILL_CLIMB_DOC = """Kaggle-style hill climbing: start from the best OOF file, then repeatedly add
    (1-w)·blend + w·file for the best file and w of a grid, with replacement, until the gain
    falls below --tolerance; writes the blend and prints the weights.

    Example:

        blend hill-climb submissions/*.csv --metric auc

        blend hill-climb submissions/*.csv --negative-weights --weights-out blends/hill.json
    """
_WEIGHTS_DOC = """Weights on the simplex (non-negative, summing to 1) that optimise the metric on the
    OOF rows; writes the weighted average of the test files and prints its cross-validated
    score (--seed seeds the folds).

    Example:

        blend weights submissions/*.csv --method nelder-mead --metric logloss
    """

_STACK_DOC = """Stacking: a meta-learner fitted on the OOF predictions (optionally with the original
    features, FWLS or pairwise products) predicts the test rows; prints its honest CV score
    (the stack-* entries of blend score), with every transform fitted inside each fold.

    Example:

        blend stack submissions/*.csv --meta logreg --folds 5

        blend stack submissions/*.csv --meta xgb --features data/train.csv,data/test.csv
    """
HOLDOUT_DOC = """Blending: the meta-learner is fitted on the holdout predictions (made by models that
    never saw those rows) and the truth of those rows, then predicts the test rows.

    Example:

        blend holdout submissions/*.csv --meta logreg --holdout-dir submissions/holdout
    """
CLASSES = ("binary", "multiclass", "labels")

METHODS: tuple[Method, ...] = (
    Method(
        "average",
        fit_mean,
        NUMBERS,
        False,
        1,
        "arithmetic mean",
        params=_AVERAGE,
        check=_average_check,
        doc=_AVERAGE_DOC,
        calibrates=True,
        takes=("weights", "memory"),
    ),
    Method("geometric", fit_mean, PROBABILITIES, False, 1, "geometric mean", {"mean": "geometric"}, command="average"),
    Method("logit", fit_mean, ("binary",), False, 1, "mean of the log-odds", {"mean": "logit"}, command="average"),
    Method("median", fit_median, NUMBERS, False, 1, "median of the files"),
    Method(
        "rank-average",
        fit_rank,
        PROBABILITIES,
        False,
        1,
        "mean of the ranks",
        metrics=("auc", "auc_ovr", "gini", "average_precision"),
        doc=_RANK_DOC,
        takes=("weights", "history", "memory"),
        accepts=NUMBERS,
    ),
    Method(
        "vote",
        fit_vote,
        ("labels",),
        False,
        1,
        "majority vote",
        doc=_VOTE_DOC,
        takes=("weights", "vote-labels", "memory"),
        accepts=CLASSES,
    ),
    Method(
        "select",
        fit_select,
        ALL_KINDS,
        True,
        2,
        "average of the uncorrelated best",
        params=_SELECT,
        doc=_SELECT_DOC,
        label="average of the chosen",
        lines=report.select_lines,
    ),
    Method(
        "caruana",
        fit_caruana,
        ALL_KINDS,
        True,
        3,
        "Caruana ensemble selection",
        params=_CARUANA,
        check=_caruana_check,
        doc=_CARUANA_DOC,
        label="caruana blend",
        lines=report.caruana_lines,
        chart=report.caruana_chart,
        calibrates=True,
        weighs=True,
    ),
    Method(
        "hill-climb",
        fit_hill_climb,
        ALL_KINDS,
        True,
        3,
        "hill climbing from the best file",
        params=_HILL_CLIMB,
        doc=_HILL_CLIMB_DOC,
        label="hill-climb blend",
        lines=report.hill_climb_lines,
        chart=report.hill_climb_chart,
        calibrates=True,
        weighs=True,
    ),
    Method(
        "weights",
        fit_weights,
        ALL_KINDS,
        True,
        3,
        "optimised simplex weights",
        params=_WEIGHTS,
        doc=_WEIGHTS_DOC,
        label="weights blend",
        lines=report.weights_lines,
        calibrates=True,
        weighs=True,
    ),
    Method(
        "caruana+cal",
        calibrated(fit_caruana),
        PROBABILITIES,
        True,
        4,
        "Caruana on temperature-scaled files",
        metrics=("logloss",),
        command="caruana",
        params=_CARUANA,
        check=_caruana_check,
    ),
    Method(
        "stack-ridge",
        fit_stack,
        ALL_KINDS,
        True,
        5,
        "stacked, strongly regularised linear meta-learner",
        {"meta": "ridge"},
        command="stack",
        params=_STACK,
        doc=_STACK_DOC,
        takes=("features", "holdout"),
    ),
    # --meta logreg fits a logistic regression on class files and a linear regression on regression files: one
    # entry for each, named after what it fits (blender.stacking.stack_entry).
    Method(
        "stack-logreg",
        fit_stack,
        CLASSES,
        True,
        5,
        "stacked logistic regression",
        {"meta": "logreg"},
        command="stack",
        params=_STACK,
    ),
    Method(
        "stack-linear",
        fit_stack,
        ("regression",),
        True,
        5,
        "stacked linear regression",
        {"meta": "logreg"},
        command="stack",
        params=_STACK,
    ),
    Method(
        "level2-hill-climb",
        fit_level2,
        NUMBERS,
        True,
        6,
        "hill climbing over linear stackers cross-fitted on the rows (two levels)",
        command="auto",
        level=2,
    ),
)

BY_NAME = {method.name: method for method in METHODS}


def methods_for(kind: str, metric: str, names: list[str] | None = None, *, max_level: int = 2) -> list[Method]:
    """The registry entries that suit ``kind`` and ``metric`` (only ``names`` if given, only those
    of at most ``max_level`` levels), in registry order.

    >>> [method.name for method in methods_for("labels", "accuracy")]
    ['vote', 'select', 'caruana', 'hill-climb', 'weights', 'stack-ridge', 'stack-logreg']
    """
    chosen = [method for method in METHODS if method.suits(kind, metric) and method.level <= max_level]
    if names is not None:
        chosen = [method for method in chosen if method.name in names]
    return chosen


def fit(
    entry: Method,
    values: NDArray,
    y: NDArray | None,
    *,
    kind: str,
    metric: str | None,
    random_state: int | None = None,
    **options: object,
) -> Fitted:
    """Fit one registry entry with its default options, overridden by ``options``."""
    return entry.fit(values, y, kind=kind, metric=metric, random_state=random_state, **{**entry.options, **options})
