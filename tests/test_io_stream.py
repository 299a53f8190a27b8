"""io's streaming reader for large files: the same values and the same messages as the full reader.

Files read one by one (large ones) have every file after the first streamed block by block
straight into ``values`` (``blender.io.streaming.stream_into``), and read in full only when something is off.
Here the blocks are made tiny, so that a few rows make many blocks, and every result is
compared with the full reader's (``stream_into`` switched off).
"""

import gzip

import numpy as np
import pytest
from conftest import csv_text, write_text

from blender import io
from blender.errors import BlendInputError
from blender.io import ids as id_lookup
from blender.io import reading, streaming


@pytest.fixture
def tiny_blocks(monkeypatch):
    """Blocks of 64 bytes (a few rows each); every file counts as large (no read-ahead threads)."""
    monkeypatch.setattr(streaming, "STREAM_BLOCK", 64)
    monkeypatch.setattr(reading, "READ_AHEAD_BYTES", 0)


def read_both_ways(paths, monkeypatch, **options):
    """(streamed result or error text, how many files were streamed, full reader's result or error text)."""
    streamed = []
    stream_into = streaming.stream_into

    def spy(*args):
        done = stream_into(*args)
        streamed.append(done)
        return done

    def attempt():
        try:
            return io.read_predictions(paths, **options)
        except BlendInputError as error:
            return str(error)

    with monkeypatch.context() as patch:
        patch.setattr(streaming, "stream_into", spy)
        fast = attempt()
    with monkeypatch.context() as patch:
        patch.setattr(streaming, "stream_into", lambda *args: False)
        full = attempt()
    return fast, sum(streamed), full


def same(fast, full):
    if isinstance(full, str):
        return fast == full
    return (
        not isinstance(fast, str)
        and fast.id_array().tolist() == full.id_array().tolist()
        and fast.columns == full.columns
        and fast.kind == full.kind
        and fast.values.tobytes() == full.values.tobytes()
    )


ROWS = 60
STYLES = {
    "dense integers": [str(k + 100) for k in range(ROWS)],
    "sparse integers": [str(k * 10**12 - 7) for k in range(ROWS)],
    "text": [f"row{k}" for k in range(ROWS)],
    "text of many lengths": [f"{'x' * (k % 7)}{k:x}-{k}" for k in range(ROWS)],
    "not ASCII": [f"{'é' * (k % 3)}{'ab' * (k % 2)}{k}" for k in range(ROWS)],
}


@pytest.mark.parametrize("shuffled", [False, True], ids=["same order", "shuffled"])
@pytest.mark.parametrize("style", sorted(STYLES))
def test_streamed_files_read_the_same_values_as_the_full_reader(tmp_path, monkeypatch, tiny_blocks, style, shuffled):
    rng = np.random.default_rng(1)
    ids = STYLES[style]
    truth = rng.random(ROWS)
    paths = []
    for m in range(4):
        order = rng.permutation(ROWS) if shuffled and m else np.arange(ROWS)
        cells = np.clip(truth + rng.normal(0, 0.2, ROWS), 0, 1)
        rows = [[ids[k], float(cells[k])] for k in order]
        paths.append(write_text(tmp_path / f"m{m}.csv", csv_text(["id", "target"], rows)))
    fast, streamed, full = read_both_ways(paths, monkeypatch)
    assert same(fast, full)
    # Plain integers and ASCII text stream in any order; other text only in the first file's order.
    assert streamed == (0 if style == "not ASCII" and shuffled else 3)
    # And the values are the files' own, by id.
    first_order = [ids.index(i) for i in fast.id_array()]
    for m, path in enumerate(paths):
        by_id = dict(line.split(",") for line in path.read_text().splitlines()[1:])
        assert fast.values[m, :, 0].tolist() == [float(by_id[ids[k]]) for k in first_order]


def test_class_columns_in_another_order_gzip_and_regression_stream_too(tmp_path, monkeypatch, tiny_blocks):
    rng = np.random.default_rng(2)
    ids = [str(k) for k in range(ROWS)]
    cells = rng.dirichlet(np.ones(3), size=(3, ROWS))
    a = write_text(
        tmp_path / "a.csv", csv_text(["id", "A", "B", "C"], [[i, *map(float, c)] for i, c in zip(ids, cells[0])])
    )
    order = rng.permutation(ROWS)
    b = write_text(
        tmp_path / "b.csv",
        csv_text(["id", "C", "A", "B"], [[ids[k], *map(float, cells[1][k, [2, 0, 1]])] for k in order]),
    )
    c = tmp_path / "c.csv.gz"
    c.write_bytes(
        gzip.compress(
            csv_text(
                ["id", "B", "C", "A"], [[ids[k], *map(float, cells[2][k, [1, 2, 0]])] for k in order[::-1]]
            ).encode()
        )
    )
    fast, streamed, full = read_both_ways([a, b, c], monkeypatch)
    assert streamed == 2 and same(fast, full)
    np.testing.assert_array_equal(fast.values, cells)  # columns A, B, C and rows 0..59 in every file
    # Regression: any finite number; a whole-number column with -0 is left to the full reader (-0 reads as 0).
    d = write_text(tmp_path / "d.csv", csv_text(["id", "y"], [[i, float(k) * 3.5 - 90] for k, i in enumerate(ids)]))
    e = write_text(tmp_path / "e.csv", csv_text(["id", "y"], [[ids[k], float(k) * -2.0 - 1.0] for k in order]))
    f = write_text(tmp_path / "f.csv", "id,y\n" + "".join(f"{ids[k]},{'-0' if k == 0 else k}\n" for k in order))
    fast, streamed, full = read_both_ways([d, e, f], monkeypatch)
    assert same(fast, full) and streamed == 1
    assert fast.values[2, 0, 0] == 0.0 and not np.signbit(fast.values[2, 0, 0])


# A bad cell or id near the end of a file: the streamed blocks before it were fine.
GOOD_ROWS = [[str(k), round(0.01 * (k % 90) + 0.05, 2)] for k in range(ROWS)]
LATE = ROWS - 3


def with_row(index, row):
    rows = [list(r) for r in GOOD_ROWS]
    rows[index] = row
    return rows


BAD_LATE = {
    "NaN cell": (with_row(LATE, [str(LATE), "nan"]), "1 NaN or empty cells in column 'target' (first at id 57)"),
    "empty cell": (with_row(LATE, [str(LATE), ""]), "1 NaN or empty cells in column 'target' (first at id 57)"),
    "inf cell": (with_row(LATE, [str(LATE), "-inf"]), "1 inf cells in column 'target' (first at id 57)"),
    "text cell": (with_row(LATE, [str(LATE), "high"]), "non-numeric text 'high' in column 'target' at id 57"),
    "outside [0, 1]": (with_row(LATE, [str(LATE), "1.5"]), "1.5 at id 57 (column 'target') is outside [0, 1]"),
    "unknown id": (with_row(LATE, ["999", 0.5]), "1 ids are not in"),
    "leading zeros": (with_row(LATE, ["057", 0.5]), "1 ids are not in"),
    "id twice": (with_row(LATE, ["3", 0.5]), "id 3 appears twice (rows "),
    "empty id": (with_row(LATE, ["", 0.5]), "empty id in row 60"),
    "missing row": (GOOD_ROWS[:-1], "1 ids of"),
    "extra row": (GOOD_ROWS + [["60", 0.5]], "1 ids are not in"),
    "short row": (with_row(LATE, ["57"]), "not a readable CSV"),
}


@pytest.mark.parametrize("case", sorted(BAD_LATE))
def test_a_bad_row_late_in_a_streamed_file_gives_the_full_readers_message(tmp_path, monkeypatch, tiny_blocks, case):
    rows, fragment = BAD_LATE[case]
    a = write_text(tmp_path / "a.csv", csv_text(["id", "target"], GOOD_ROWS))
    order = np.random.default_rng(3).permutation(len(rows))
    order = np.concatenate([order[order != LATE], [LATE]]) if len(rows) > LATE else order  # the bad row last
    b = write_text(tmp_path / "b.csv", csv_text(["id", "target"], [rows[k] for k in order]))
    fast, streamed, full = read_both_ways([a, b], monkeypatch)
    assert streamed == 0
    assert isinstance(fast, str) and fast == full
    assert fast.startswith(f"{b}: ") and fragment in fast


def test_a_header_pyarrow_reads_otherwise_or_a_row_longer_than_a_block_falls_back(tmp_path, monkeypatch, tiny_blocks):
    a = write_text(tmp_path / "a.csv", csv_text(["id", "target"], GOOD_ROWS))
    bom = tmp_path / "b.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + csv_text(["id", "target"], GOOD_ROWS[::-1]).encode())
    long_cell = write_text(
        tmp_path / "c.csv", csv_text(["id", "target"], GOOD_ROWS[:5] + [["5", "0." + "1" * 100]] + GOOD_ROWS[6:])
    )
    fast, streamed, full = read_both_ways([a, bom, long_cell], monkeypatch)
    assert same(fast, full)
    assert fast.values[1, :, 0].tolist() == [row[1] for row in GOOD_ROWS]
    assert fast.values[2, 5, 0] == float("0." + "1" * 100)


def test_written_text_is_quoted_only_when_some_cell_needs_it(tmp_path):
    path = tmp_path / "out.csv"
    io.write_predictions(path, np.array(["1", "2"]), np.array([0.5, 0.25]), columns=["target"])
    assert path.read_text() == "id,target\n1,0.5\n2,0.25\n"
    io.write_predictions(path, np.array(["a,b", 'say "hi"', "c"]), np.array([0.5, 0.25, 1.0]), columns=["target"])
    assert path.read_text() == 'id,target\n"a,b",0.5\n"say ""hi""",0.25\n"c",1\n'
    assert io.read_predictions([path]).id_array().tolist() == ["a,b", 'say "hi"', "c"]
    gz = tmp_path / "out.csv.gz"
    io.write_predictions(gz, np.array(["a\nb", "c"]), np.array(["x", "y,z"], dtype=object), columns=["label"])
    assert gzip.decompress(gz.read_bytes()) == b'id,label\n"a\nb","x"\n"c","y,z"\n'


BROKEN = {
    "short row": (
        "1999\n",
        "not a readable CSV (CSV parse error: Expected 2 columns, got 1: 1999); every row needs the header's columns.",
    ),
    "bad UTF-8 id": (
        "\udcff\udcfe,0.5\n",
        "not a readable CSV (In CSV column #0: CSV conversion error to string: invalid UTF8 data); "
        "every row needs the header's columns.",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_row_gives_the_same_message_read_one_by_one_or_ahead_in_threads(tmp_path, monkeypatch, case):
    # pyarrow's one-thread reader names the row in its error, the threaded one cannot.
    line, expected = BROKEN[case]
    rows = [[str(k), 0.5] for k in range(2000)]  # past the first 8 KB, which the header check decodes
    paths = [write_text(tmp_path / f"m{m}.csv", csv_text(["id", "target"], rows)) for m in range(4)]
    text = csv_text(["id", "target"], rows[:-1]) + line
    paths[2].write_bytes(text.encode("utf-8", "surrogateescape"))
    messages = []
    for read_ahead_bytes in (0, 1 << 30):
        monkeypatch.setattr(reading, "READ_AHEAD_BYTES", read_ahead_bytes)
        with pytest.raises(BlendInputError) as error:
            io.read_predictions(paths)
        messages.append(str(error.value))
    assert messages[0] == messages[1] == f"{paths[2]}: {expected}"


def test_text_ids_sharing_a_hash_key_are_told_apart(tmp_path, monkeypatch, tiny_blocks):
    """Text ids are looked up by a 64-bit key, then compared: a key shared by two ids never aligns them."""
    last_byte = lambda fixed: fixed.view(np.uint8).reshape(len(fixed), -1)[:, -1].astype(np.uint64)
    monkeypatch.setattr(id_lookup, "hash_keys", last_byte)  # a weak key: "xa" and "ya" share one
    ids = [f"x{chr(97 + k)}" for k in range(26)]
    a = write_text(tmp_path / "a.csv", csv_text(["id", "target"], [[i, 0.5] for i in ids]))
    b = write_text(tmp_path / "b.csv", csv_text(["id", "target"], [[i, 0.25] for i in ids[::-1]]))
    c = write_text(tmp_path / "c.csv", csv_text(["id", "target"], [[i.replace("xa", "ya"), 0.75] for i in ids[::-1]]))
    fast, streamed, full = read_both_ways([a, b], monkeypatch)
    assert streamed == 1 and same(fast, full) and fast.values[1, :, 0].tolist() == [0.25] * 26
    fast, streamed, full = read_both_ways([a, c], monkeypatch)
    assert streamed == 0 and fast == full == f"{c}: 1 ids are not in {a} (e.g. ya); every file needs the same ids."
    # Two ids of the first file sharing a key: no lookup by key at all, the full reader aligns them.
    monkeypatch.setattr(id_lookup, "hash_keys", lambda fixed: np.zeros(len(fixed), dtype=np.uint64))
    fast, streamed, full = read_both_ways([a, b], monkeypatch)
    assert streamed == 0 and same(fast, full) and fast.values[1, :, 0].tolist() == [0.25] * 26
