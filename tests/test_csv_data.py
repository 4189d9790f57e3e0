"""A ``--data`` CSV read in one pass under bounded memory (ebnn/csv_table.py): the same rows,
labels and line numbers whatever the chunks the file comes in, and hostile files (one giant
line, too many columns, a quoted field over many lines, a file of newlines, more than a file
may be) refused in one line naming the line."""

import tracemalloc

import numpy as np
import pytest

import ebnn.csv_table as csv_table
from ebnn.data import DatasetError
from ebnn.datafiles import load_csv, load_path

# every way a line may end, blank lines (with spaces) between rows, a quoted label holding a
# comma and a line end, a BOM-less UTF-8 name and a final row without a line end
TEXTS = {
    "lf": "label,a,b\n0,1,2\n1,3,4\n",
    "crlf": "label,a,b\r\n0,1,2\r\n\r\n  \r\n1,3,4\r\n",
    "cr": "label,a,b\r0,1,2\r\r1,3,4",
    "mixed": "label,a,b\n\n\r\n \t \r0,1,2\r\n\n\n1,3.5,4\n\n",
    "quoted": 'label,a,b\n"cat, big",1,2\n"dog\nline",3,4\n\n"cat, big",0,0\n',
    "names": "label,a,b\n\u00e9t\u00e9,1,2\nhiver,3,4\n\n\n",
}


@pytest.mark.parametrize("name", sorted(TEXTS))
def test_the_chunks_a_file_comes_in_change_nothing(tmp_path, monkeypatch, name):
    """Lines, line ends split between chunks (\\r | \\n), runs of blank lines skipped in bulk:
    the same table at a chunk of 1, 2, 3, 5 or 7 bytes as in one chunk."""
    p = tmp_path / "d.csv"
    p.write_bytes(TEXTS[name].encode())
    whole = load_csv(p)
    for chunk in (1, 2, 3, 5, 7):
        monkeypatch.setattr(csv_table, "CHUNK", chunk)
        part = load_csv(p)
        np.testing.assert_array_equal(part.images, whole.images)
        np.testing.assert_array_equal(part.labels, whole.labels)
        assert part.images.dtype == whole.images.dtype
        assert part.class_names == whole.class_names


def test_what_the_rows_hold(tmp_path):
    p = tmp_path / "d.csv"
    p.write_bytes(TEXTS["mixed"].encode())
    ds = load_csv(p)
    assert ds.images.dtype == np.float32 and ds.images.tolist() == [[1, 2], [3.5, 4]]
    p.write_bytes(TEXTS["quoted"].encode())
    ds = load_csv(p)
    assert ds.class_names == ("cat, big", "dog\nline") and ds.labels.tolist() == [0, 1, 0]
    assert ds.images.dtype == np.uint8 and ds.images.tolist() == [[1, 2], [3, 4], [0, 0]]


@pytest.mark.parametrize("chunk", [1, 3, 1 << 20])
@pytest.mark.parametrize("text, words", [
    # line numbers count the blank lines skipped in bulk, \r\n once, a quoted line end too
    ("label,a\r\n0,1\r\n\r\n\r\n \r\n1,x\r\n", "d.csv:6: column 2 ('a') holds 'x'"),
    ("label,a\r0,1\r\r\r1,2,3\r", "d.csv:5: 3 columns, the header has 2"),
    ('label,a\n"a\nb",1\n\n\nc,nan\n', "d.csv:6: a feature is nan"),
    ("label,a\n0,1\n" + "\n" * 5000 + "?,2\n", "d.csv:5003: label '?' is not a class number"),
    ("label,a\n0,1\n1,2\n" + "\n" * 100 + "2,1e40\n", "d.csv:104: a feature is nan, infinite or "
     "beyond float32"),
])
def test_errors_name_the_line_whatever_the_chunks(tmp_path, monkeypatch, chunk, text, words):
    monkeypatch.setattr(csv_table, "CHUNK", chunk)
    p = tmp_path / "d.csv"
    p.write_bytes(text.encode())
    with pytest.raises(DatasetError) as e:
        load_csv(p)
    assert words in str(e.value) and "\n" not in str(e.value)


def test_a_bad_value_is_found_in_its_block(tmp_path):
    """Values are converted a block of rows at a time: the error still names the first bad
    row, and a nan before a word in the same block is the one named."""
    rows = [f"{i % 3},{i},{i + 1}" for i in range(500)]
    rows[300] = "0,nan,1"
    rows[400] = "0,1,x"
    p = tmp_path / "d.csv"
    p.write_text("label,a,b\n" + "\n".join(rows) + "\n")
    with pytest.raises(DatasetError, match=r"d\.csv:302: a feature is nan"):
        load_csv(p)


def test_one_giant_line_is_refused_at_its_line(tmp_path):
    p = tmp_path / "d.csv"
    with p.open("w") as fh:
        fh.write("label,a\n0,1\n1,")
        fh.write("1" * (csv_table.MAX_LINE_BYTES + 10))
        fh.write("\n")
    with pytest.raises(DatasetError) as e:
        load_csv(p)
    assert str(e.value).endswith("d.csv:3: a row longer than 4 MiB (at most 131,072 columns)")


def test_too_many_columns_are_refused_at_the_header(tmp_path):
    p = tmp_path / "d.csv"
    cols = csv_table.MAX_COLUMNS + 1
    p.write_text("label" + ",c" * (cols - 1) + "\n0" + ",1" * (cols - 1) + "\n")
    with pytest.raises(DatasetError) as e:
        load_csv(p)
    assert str(e.value).endswith("d.csv: 131,073 columns, more than 131,072")


def test_a_quoted_field_over_many_lines_is_refused(tmp_path):
    """The csv module's field limit (128 KiB) for one field; a row's bound for many short
    quoted fields, each over a line end (the row's cells would all be held)."""
    p = tmp_path / "d.csv"
    p.write_text('label,a\n0,"' + ("x" * 99 + "\n") * 2000 + '"\n')
    with pytest.raises(DatasetError, match=r"d.csv:\d+: not a readable CSV row \(field larger"):
        load_csv(p)
    p.write_text('label,a\n0,1\n1,' + '"\n",' * (csv_table.MAX_LINE_BYTES // 4 + 1) + "\n")
    with pytest.raises(DatasetError, match=r"d.csv:\d+: a row longer than 4 MiB"):
        load_csv(p)


def test_a_file_of_newlines_is_skipped_in_bulk(tmp_path):
    """A million blank lines between two rows are no rows, and the line numbers count them."""
    p = tmp_path / "d.csv"
    p.write_text("label,a\n0,1\n" + "\n" * 1_000_000 + "1,2\n2,x\n")
    with pytest.raises(DatasetError, match=r"d\.csv:1000004: column 2"):
        load_csv(p)


def test_a_file_over_the_cap_is_refused_by_its_size(tmp_path):
    """A 10 GB file (sparse here: it holds nothing) is refused from its size, unread."""
    p = tmp_path / "d.csv"
    with p.open("wb") as fh:
        fh.write(b"label,a\n0,1\n")
        fh.truncate(10 << 30)
    with pytest.raises(DatasetError) as e:
        load_path(p)
    assert str(e.value) == f"{p}: larger than 512 MiB"


def test_rows_and_values_are_bounded(tmp_path, monkeypatch):
    p = tmp_path / "d.csv"
    p.write_text("label,a,b\n" + "0,1,2\n" * 11)
    monkeypatch.setattr(csv_table, "MAX_ROWS", 10)
    with pytest.raises(DatasetError, match=r"d\.csv: more than 10 rows"):
        load_csv(p)
    monkeypatch.setattr(csv_table, "MAX_ROWS", 100)
    monkeypatch.setattr(csv_table, "MAX_DATA_BYTES", 8 * 10)  # 10 rows of 2 float32 values
    with pytest.raises(DatasetError, match=r"d\.csv: more than 0 MiB of values"):
        load_csv(p)
    monkeypatch.setattr(csv_table, "MAX_DATA_BYTES", 8 * 11)
    assert load_csv(p).images.shape == (11, 2)


def test_each_value_is_held_once(tmp_path):
    """The file is never held whole (as bytes, then as str, then in a StringIO), nor its values
    twice: a 5.5 MB file of 1.5 MB of pixels peaks (Python and numpy allocations,
    tracemalloc) at those and 3 MiB more. Before, its bytes and text alone were 11 MB."""
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (6_000, 256))
    p = tmp_path / "d.csv"
    with p.open("w") as fh:
        fh.write("label," + ",".join(f"p{i}" for i in range(256)) + "\n")
        for i, row in enumerate(x.tolist()):
            fh.write(f"{i % 10}," + ",".join(map(str, row)) + "\n")
    size = p.stat().st_size
    tracemalloc.start()
    try:
        ds = load_csv(p)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert ds.images.dtype == np.uint8 and ds.images.shape == (6_000, 256)
    np.testing.assert_array_equal(ds.images, x)
    assert size > 5 << 20 and peak < ds.images.nbytes + (3 << 20) < size


def test_a_file_not_in_utf8_is_refused_not_merged(tmp_path):
    """Excel's Latin-1 export: "café" and "cafè" were both read "caf\\ufffd", one class of the
    two (review s55 datarev M2); a UTF-8 file with a byte-order mark still reads."""
    latin = tmp_path / "latin.csv"
    latin.write_bytes("label,a,b\ncafé,1,2\ncafè,3,4\ntea,5,6\n".encode("latin-1"))
    with pytest.raises(DatasetError, match=r"latin\.csv:2: not UTF-8 text \(byte 0xe9\): save "
                                           r"the file as UTF-8, e\.g\. `iconv -f latin1"):
        load_csv(latin)
    bom = tmp_path / "bom.csv"
    bom.write_bytes("\ufefflabel,a,b\ncafé,1,2\ncafè,3,4\ntea,5,6\n".encode())
    assert load_csv(bom).class_names == ("cafè", "café", "tea")


def test_utf16_and_a_comment_before_the_header_say_so(tmp_path):
    """Review s55 datarev: a UTF-16 CSV read '1 columns, the header has 14' at some line, and
    a logger's comment line before the header only 'needs a label column'."""
    wide = tmp_path / "u16.csv"
    wide.write_bytes("label,a,b\ncat,1,2\ndog,3,4\n".encode("utf-16"))
    with pytest.raises(DatasetError, match=r"u16\.csv:1: UTF-16 text: save the file as UTF-8, "
                                           r"e\.g\. `iconv -f utf-16 -t utf-8"):
        load_csv(wide)
    logged = tmp_path / "logged.csv"
    logged.write_text("# exported by logger v2\nlabel,a,b\ncat,1,2\ndog,3,4\n")
    with pytest.raises(DatasetError, match=r"its first line, '# exported by logger v2', is one "
                                           r"column: a comment\? The header"):
        load_csv(logged)
