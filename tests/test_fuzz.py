"""Fuzzing the readers and the command line (issue 10): every outcome is accepted or a clean refusal.

Generated prediction sets (every kind, one to three files) get one mutation each: cells
(NaN, inf, empty, ``abc``, ``#N/A``, ``--0.5``, NUL bytes, values outside [0, 1], huge fields),
rows (duplicated, missing, extra ids, reordered), columns (renamed, missing, extra, reordered),
bytes (truncated lines and files, BOM, CRLF, quoted cells, invalid UTF-8, gzip truncated or
fake, empty and header-only files), weights (1e308, subnormal, wrong length, NaN) and outputs
(``-o`` naming a folder, a ``--plot`` suffix matplotlib cannot write). The contract then says:

- reading (``blender.io.read_predictions``) either accepts, with the first file's ids, finite
  values and probabilities in [0, 1], or raises :class:`~blender.errors.BlendInputError`; an
  item of the "Bad input" list is refused, a benign change (order, encoding) reads the same;
- a command exits 0 with a sane output, or exits 1 with exactly one ``Error:`` line, no
  traceback, the hidden exception a ``BlendInputError``, and every existing output untouched.

The cases are fixed by ``SEED`` and bounded (about a minute in all); ``make fuzz`` runs many more
through ``benchmarks/fuzz.py``. A failure prints each kind of problem once with its files.
"""

from __future__ import annotations

import shutil

import fuzzing
import numpy as np
import pytest
from fuzzing import BAD, VALID, invoke

SEED = 20261124
READ_CASES = 600
CLI_CASES = 120


def test_reading_generated_and_mutated_files_accepts_or_refuses_cleanly(tmp_path):
    parquet = fuzzing.parquet_supported(tmp_path / "probe")
    failures = []
    for index in range(READ_CASES):
        folder = tmp_path / f"case{index}"
        case = fuzzing.read_case(SEED, index, folder, parquet=parquet)
        if case.problems:
            failures.append(case)
        shutil.rmtree(folder, ignore_errors=True)
    assert not failures, fuzzing.summary(failures)


def test_commands_on_mutated_files_exit_0_or_1_with_one_error_line_and_untouched_outputs(tmp_path):
    failures = []
    for index in range(CLI_CASES):
        folder = tmp_path / f"case{index}"
        case = fuzzing.cli_case(SEED, index, folder)
        if case.problems:
            failures.append(case)
        shutil.rmtree(folder, ignore_errors=True)
    assert not failures, fuzzing.summary(failures)


# ---------------------------------------------------------------------------- every weight, every weighted command


@pytest.fixture(scope="module")
def weighted_sets(tmp_path_factory):
    """Five binary probability files and five label files whose votes split 3 to 2 on some rows."""
    folder = tmp_path_factory.mktemp("weighted")
    sets = {}
    for kind in ("binary", "labels"):
        competition = fuzzing.make_competition(np.random.default_rng(5), kind, n_models=5, n_test=20)
        paths = fuzzing.write_files(folder / kind, {f"{n}.csv": competition.test[n] for n in competition.names})
        sets[kind] = (list(paths.values()), competition.test[competition.names[0]])
    return sets


@pytest.mark.parametrize("command", ["vote", "average", "rank-average"])
@pytest.mark.parametrize("case", list(fuzzing.WEIGHTS))
def test_weights_give_the_unweighted_blend_when_equal_and_are_refused_when_bad(command, case, weighted_sets, tmp_path):
    kind = "labels" if command == "vote" else "binary"
    paths, first = weighted_sets[kind]
    weights, expect = fuzzing.weights_text(case, len(paths))
    out = tmp_path / "out" / "blend.csv"
    out.parent.mkdir()
    out.write_bytes(fuzzing.PREVIOUS)
    before = fuzzing.snapshot([out])
    result = invoke([command, *paths, "--weights", weights, "-o", out])
    if expect == BAD:
        assert not fuzzing.failure_problems(result, before), (result.stderr, fuzzing.failure_problems(result, before))
        return
    assert result.exit_code == 0, result.stderr
    assert not fuzzing.output_problems(out, kind, first)
    if expect == VALID:
        return
    plain = tmp_path / "plain.csv"
    assert invoke([command, *paths, "-o", plain]).exit_code == 0
    weighted, unweighted = fuzzing.read_outputs([out]), fuzzing.read_outputs([plain])
    assert fuzzing.close(weighted["blend.csv"], unweighted["plain.csv"]), (
        f"--weights {weights} is not the plain {command}"
    )


# ---------------------------------------------------------------------------- outputs: a folder, a plot that fails

COMMANDS = ["vote", "average", "rank-average", "corr", "score", "select", "caruana", "weights", "stack", "holdout"]


@pytest.fixture
def competition_folder(tmp_path):
    competition = fuzzing.make_competition(np.random.default_rng(9), "binary")
    fuzzing.write_files(tmp_path, competition.tables())
    return tmp_path, competition


def learning_args(command, folder):
    if command == "holdout":
        return ["--holdout-dir", folder / "submissions/holdout", "--truth", folder / "data/train_labels.csv"]
    if command in ("score", "select", "caruana", "weights", "stack"):
        return ["--oof-dir", folder / "submissions/oof", "--truth", folder / "data/train_labels.csv"]
    return []


@pytest.mark.parametrize("command", COMMANDS)
def test_out_naming_a_folder_is_refused_and_the_folder_left_alone(command, competition_folder):
    folder, competition = competition_folder
    out = folder / "blends" / "blend.csv"
    out.mkdir(parents=True)
    (out / "keep.txt").write_bytes(b"keep")
    before = fuzzing.snapshot([out, out / "keep.txt"])
    files = [folder / f"submissions/{n}.csv" for n in competition.names]
    result = invoke([command, *files, *learning_args(command, folder), "-o", out])
    assert not fuzzing.failure_problems(result, before), (result.stderr, fuzzing.failure_problems(result, before))


@pytest.mark.parametrize("command", ["corr", "caruana", "score"])
def test_a_plot_that_cannot_be_written_leaves_every_output_untouched(command, competition_folder):
    folder, competition = competition_folder
    out, weights_out = folder / "blends" / "blend.csv", folder / "blends" / "weights.json"
    out.parent.mkdir()
    out.write_bytes(fuzzing.PREVIOUS)
    weights_out.write_bytes(b"{}\n")
    extra = ["--weights-out", weights_out] if command == "caruana" else []
    files = [folder / f"submissions/{n}.csv" for n in competition.names]
    before = fuzzing.snapshot([out, weights_out, folder / "blends" / "plot.xyz"])
    result = invoke(
        [command, *files, *learning_args(command, folder), "-o", out, *extra, "--plot", folder / "blends" / "plot.xyz"]
    )
    assert not fuzzing.failure_problems(result, before), (result.stderr, fuzzing.failure_problems(result, before))


# ---------------------------------------------------------------------------- scores against a naive loop over ids


def naive_score(kind: str, oof: fuzzing.Table, truth: fuzzing.Table) -> float:
    """The default metric by hand, matching rows by id and class columns by name; labels compared as text."""
    target = {row[0]: row[1] for row in truth.rows}
    if kind == "labels":  # accuracy
        return float(np.mean([row[1] == target[row[0]] for row in oof.rows]))
    if kind == "regression":  # rmse
        return float(np.sqrt(np.mean([(float(row[1]) - float(target[row[0]])) ** 2 for row in oof.rows])))
    if kind == "binary":  # log loss
        return float(
            -np.mean([np.log(float(row[1]) if target[row[0]] == "1" else 1 - float(row[1])) for row in oof.rows])
        )
    column = {name: k for k, name in enumerate(oof.header)}
    return float(-np.mean([np.log(float(row[column[target[row[0]]]])) for row in oof.rows]))


@pytest.mark.parametrize(
    ("kind", "classes"),
    [
        ("binary", None),
        ("multiclass", ["Class_2", "Class_10", "007"]),
        ("labels", ["007", "7", "cat"]),
        ("labels", ["007", "010", "10"]),
        ("regression", None),
    ],
)
def test_each_files_score_is_a_naive_loop_over_ids_with_rows_and_columns_shuffled(kind, classes, tmp_path):
    rng = np.random.default_rng(23)
    competition = fuzzing.make_competition(rng, kind, classes=classes)
    files = {f"submissions/{n}.csv": competition.test[n] for n in competition.names}
    for n in competition.names:  # each OOF file in its own row and class-column order, the truth too
        files[f"submissions/oof/{n}.csv"] = fuzzing.permute(competition.oof[n], rng, rows=True, columns=True)
    files["data/train_labels.csv"] = fuzzing.permute(competition.truth, rng, rows=True, columns=False)
    fuzzing.write_files(tmp_path, files)
    out = tmp_path / "leaderboard.csv"
    args = [
        "score",
        "--models-only",
        *(tmp_path / f"submissions/{n}.csv" for n in competition.names),
        "--oof-dir",
        tmp_path / "submissions/oof",
        "--truth",
        tmp_path / "data/train_labels.csv",
        "-o",
        out,
    ]
    result = invoke([*args, *(["--task", "regression"] if kind == "regression" else [])])
    assert result.exit_code == 0, result.stderr
    header, rows = fuzzing.read_csv_cells(out)
    # "oof" is each file's score on all its OOF rows ("score" is the mean over CV folds).
    scores = {row[header.index("name")]: float(row[header.index("oof")]) for row in rows}
    expected = {n: naive_score(kind, files[f"submissions/oof/{n}.csv"], competition.truth) for n in competition.names}
    assert scores == pytest.approx(expected, rel=1e-9)


# ---------------------------------------------------------------------------- file names with glob characters


def test_existing_names_with_glob_characters_are_taken_literally_and_an_empty_glob_is_refused(tmp_path):
    from blender import io
    from blender.errors import BlendInputError

    if not hasattr(io, "resolve_paths"):
        pytest.skip("io.resolve_paths does not exist on this code yet")
    names = ["nn[2].csv", "nn2.csv", "a*b.csv", "m?.csv", "lgbm_lr=0.05,d=6.csv", "x y.csv"]
    for name in names:
        (tmp_path / name).write_text("id,target\n1,0.5\n")
    for name in names:
        assert io.resolve_paths([str(tmp_path / name)]) == [tmp_path / name]
    assert io.resolve_paths([str(tmp_path / "*.csv")]) == sorted(tmp_path / name for name in names)
    with pytest.raises(BlendInputError):
        io.resolve_paths([str(tmp_path / "none*.csv")])
