"""A seeded fuzz test of the readers: generated and mutated files are either read into a well-formed
Predictions / LearningSet or refused with a one-line BlendInputError. Nothing else may escape.

Bounded by time: BLEND_FUZZ_SECONDS (default 15) per test; ``make fuzz`` can run it longer.
"""

import gzip
import os
import random
import time

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from blender import io
from blender.errors import BlendInputError
from blender.io import reading, streaming

SECONDS = float(os.environ.get("BLEND_FUZZ_SECONDS", "15"))
SEED = int(os.environ.get("BLEND_FUZZ_SEED", "20261124"))
ALPHABET = ['"', ",", "\n", "\r", "\x00", " ", "0", "1", ".", "e", "-", "a", "#", "_", "N", "é", "\ufeff"]


def generate(rng: random.Random) -> tuple[str, list[str]]:
    """A valid file of a random kind, as CSV text, and its ids."""
    kind = rng.choice(["binary", "multiclass", "labels", "regression"])
    n_rows = rng.randint(1, 12)
    ids = [rng.choice(["", "0", "id"]) + str(k) for k in range(n_rows)]
    rng.shuffle(ids)
    if kind == "multiclass":
        classes = rng.sample(["A", "B", "C", "Class_1", "x,y"], rng.randint(2, 4))
        header = ["id", *classes]
        rows = []
        for i in ids:
            p = np.array([rng.random() for _ in classes])
            rows.append([i, *[repr(float(v)) for v in p / p.sum()]])
    else:
        header = ["id", rng.choice(["target", "label", "y"])]
        if kind == "labels":
            rows = [[i, rng.choice(["cat", "dog", "007", "7", "NA"])] for i in ids]
        elif kind == "binary":
            rows = [[i, repr(rng.random())] for i in ids]
        else:
            rows = [[i, repr(rng.uniform(-1e3, 1e3))] for i in ids]
    text = io.csv_text([header, *rows])
    return text, ids


def mutate(rng: random.Random, text: str) -> str:
    for _ in range(rng.choice([0, 1, 1, 2, 3])):
        lines = text.split("\n")
        action = rng.randrange(9)
        position = rng.randrange(len(text) + 1)
        if action == 0:
            text = text[:position] + rng.choice(ALPHABET) + text[position:]
        elif action == 1:
            text = text[:position] + text[position + 1 :]
        elif action == 2 and len(lines) > 2:
            k = rng.randrange(1, len(lines) - 1)
            lines.insert(k, lines[k])
            text = "\n".join(lines)
        elif action == 3 and len(lines) > 2:
            del lines[rng.randrange(1, len(lines) - 1)]
            text = "\n".join(lines)
        elif action == 4:
            text = text[:position]
        elif action == 5:
            text = text.replace(rng.choice(["0.", "1", ","]), rng.choice(["", "nan", "inf", "abc", '"', "1e400"]), 1)
        elif action == 6:
            text = text[:position] + "x" * rng.choice([10, 140_000]) + text[position:]
        elif action == 7:
            text = text.replace("\n", "\r\n")
        else:
            text = text[:position] + text[position:].upper()
    return text


def write(rng: random.Random, path_stem, text: str):
    """Write as CSV, CSV.gz (sometimes cut short) or Parquet (when the text parses)."""
    form = rng.choice(["csv", "csv", "gz", "parquet"])
    if form == "gz":
        data = gzip.compress(text.encode("utf-8", "surrogatepass"))
        if rng.random() < 0.3:
            data = data[: rng.randrange(len(data) + 1)]
        path = path_stem.with_name(path_stem.name + ".csv.gz")
        path.write_bytes(data)
        return path
    if form == "parquet":
        import pyarrow.csv as pacsv

        try:
            table = pacsv.read_csv(pa.py_buffer(text.encode()), convert_options=pacsv.ConvertOptions(null_values=[""]))
        except pa.ArrowException:
            table = None
        if table is not None:
            path = path_stem.with_name(path_stem.name + ".parquet")
            pq.write_table(table, path)
            return path
    path = path_stem.with_name(path_stem.name + ".csv")
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    return path


def check_predictions(predictions, n_files):
    values = predictions.values
    assert values.dtype == np.float64 and values.ndim == 3
    assert values.shape[:2] == (n_files, len(predictions.ids))
    assert np.all(np.isfinite(values))
    assert len(set(predictions.id_array().tolist())) == len(predictions.ids)
    if predictions.kind in ("binary", "multiclass"):
        assert values.min() >= 0 and values.max() <= 1
    if predictions.kind == "labels":
        assert predictions.classes == sorted(predictions.classes)
        assert np.all(values.sum(axis=2) == 1)
    if predictions.kind == "multiclass":
        assert values.shape[2] == len(predictions.columns)


def run_for(seconds, seed, one_case):
    rng = random.Random(seed)
    deadline = time.monotonic() + seconds
    counts = {"accepted": 0, "refused": 0}
    case = 0
    while time.monotonic() < deadline:
        case += 1
        try:
            one_case(rng, case)
            counts["accepted"] += 1
        except BlendInputError as error:
            message = str(error)
            assert "\n" not in message and "\r" not in message and "\x00" not in message, (case, message)
            counts["refused"] += 1
    return counts


def test_fuzz_read_predictions(tmp_path):
    def one_case(rng, case):
        folder = tmp_path / str(case)
        folder.mkdir()
        text, _ = generate(rng)
        paths = []
        for m in range(rng.randint(1, 3)):
            mutated = mutate(rng, text) if rng.random() < 0.7 else text
            paths.append(write(rng, folder / f"m{m}", mutated))
        task = rng.choice([None, None, None, *io.KINDS])
        check_predictions(io.read_predictions(paths, task=task), len(paths))

    counts = run_for(SECONDS, SEED, one_case)
    assert counts["accepted"] > 10 and counts["refused"] > 10, counts


def test_fuzz_read_learning(tmp_path):
    def one_case(rng, case):
        folder = tmp_path / str(case)
        (folder / "oof").mkdir(parents=True)
        text, _ = generate(rng)
        oof_text, oof_ids = generate(random.Random(rng.random()))
        header = oof_text.split("\n", 1)[0]
        kind_text = text.split("\n", 1)[0]
        if rng.random() < 0.8:
            # Mostly the same columns for test and OOF, so that the truth is reached.
            oof_text = (
                kind_text
                + "\n"
                + "\n".join(",".join([i, *row.split(",")[1:]]) for i, row in zip(oof_ids, text.split("\n")[1:]) if row)
                + "\n"
            )
            header = kind_text
        labels = [c for c in header.split(",")[1:]] or ["0", "1"]
        truth_rows = [[i, rng.choice(["0", "1", "007", "7", "cat", *labels])] for i in oof_ids]
        rng.shuffle(truth_rows)
        test = write(rng, folder / "nn", mutate(rng, text) if rng.random() < 0.3 else text)
        oof = folder / "oof" / test.name
        written = write(
            random.Random(case), folder / "oof" / "tmp", mutate(rng, oof_text) if rng.random() < 0.3 else oof_text
        )
        written.rename(oof.with_name("nn" + written.name[len("tmp") :]))
        truth = write(rng, folder / "truth", io.csv_text([["id", "y"], *truth_rows]))
        try:
            learning = io.read_learning([test], train_dir=folder / "oof", truth=truth, command_name="score")
        except BlendInputError:
            raise
        check_predictions(learning.test, 1)
        check_predictions(learning.train, 1)
        assert learning.y.shape == (learning.train.n_rows,)
        if learning.train.kind == "labels":
            assert learning.train.classes == learning.test.classes
            assert learning.y.min() >= 0 and learning.y.max() < len(learning.train.classes)

    counts = run_for(SECONDS, SEED + 1, one_case)
    assert counts["accepted"] > 5 and counts["refused"] > 5, counts


def test_fuzz_streamed_reading_equals_whole_file_reading(tmp_path, monkeypatch):
    """Large files after the first are streamed block by block; forced on tiny files (64-byte blocks),
    the streamed read must give the whole-file read's values and ids, or its very message."""

    def outcome(paths, task):
        try:
            predictions = io.read_predictions(paths, task=task)
        except BlendInputError as error:
            return str(error)
        return predictions.kind, predictions.columns, predictions.id_array().tolist(), predictions.values.tobytes()

    def one_case(rng, case):
        folder = tmp_path / str(case)
        folder.mkdir()
        text, _ = generate(rng)
        paths = []
        for m in range(rng.randint(2, 4)):
            lines = text.split("\n")
            body = lines[1:-1]
            rng.shuffle(body)  # ids in another order in every file
            shuffled = "\n".join([lines[0], *body, ""])
            paths.append(write(rng, folder / f"m{m}", mutate(rng, shuffled) if rng.random() < 0.5 else shuffled))
        task = rng.choice([None, None, *io.KINDS])
        whole = outcome(paths, task)
        with monkeypatch.context() as patched:
            patched.setattr(reading, "READ_AHEAD_BYTES", 0)
            patched.setattr(streaming, "STREAM_BLOCK", 64)
            streamed = outcome(paths, task)
        assert streamed == whole, (case, paths)
        if isinstance(whole, str):
            raise BlendInputError(whole)

    counts = run_for(SECONDS, SEED + 1, one_case)
    assert counts["accepted"] > 10 and counts["refused"] > 10, counts
