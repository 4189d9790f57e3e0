"""A ``--data`` CSV file read in one pass under bounded memory (docs/data.md, docs/security.md).

The file is read in chunks of :data:`CHUNK` bytes, never whole: each line is decoded on its
own (so one emoji makes one line wide, not the file), parsed by :mod:`csv` and its values put
straight into one growing array of the final type (``uint8`` while every value is a whole
0..255, ``float32`` from the first that is not), a block of rows at a time. The labels are
kept as one string per distinct label and an index per row. What a file may hold is bounded
before it is held: :data:`MAX_FILE_BYTES` of file (told from its size when it is a file),
:data:`MAX_LINE_BYTES` a row (one giant line, or a quoted field running over many lines, is
refused at that line), :data:`MAX_COLUMNS` columns, :data:`MAX_ROWS` rows and
:data:`~ebnn.data.MAX_DATA_BYTES` of values. Runs of blank lines between rows are skipped in
bulk, so a file of nothing but newlines is read at the disk's pace.
"""

from __future__ import annotations

import csv
import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ebnn.data import MAX_DATA_BYTES, DatasetError  # (MAX_DATA_BYTES read here: tests lower it)

# a CSV file (MNIST's 60,000 training images as CSV: about 110 MB); also an .npz archive's
# members uncompressed and a WAV clip (ebnn.datafiles)
MAX_FILE_BYTES = 512 << 20
MAX_LINE_BYTES = 4 << 20  # one row's text: MAX_COLUMNS cells of 32 bytes
MAX_COLUMNS = 1 << 17  # the label and 131,071 values (a 209 x 209 x 3 image)
MAX_ROWS = 1 << 23  # samples (their label and line number: 128 MiB at most)
CHUNK = 1 << 18
BLOCK_CELLS = 1 << 14  # values parsed at once: a block of rows' strings is about 1 MB
FLOAT32_MAX = float(np.finfo(np.float32).max)
_EOL = re.compile(rb"\r\n|\r|\n")


def _line_ends(data: bytes) -> int:
    return data.count(b"\n") + data.count(b"\r") - data.count(b"\r\n")


class Lines:
    """The lines of a binary file as str (decoded as UTF-8, a bad byte replaced; their
    ``\\r\\n``, ``\\r`` or ``\\n`` kept, as ``open(newline="")`` gives them to :mod:`csv`), each
    at most :data:`MAX_LINE_BYTES`; ``line`` is the number of the last line given. Blank
    lines between records (:meth:`end_record` says where one ends) are skipped in bulk."""

    def __init__(self, fh: BinaryIO, path: Path) -> None:
        self.fh, self.path = fh, path
        self.buf, self.pos, self.eof = b"", 0, False
        self.read_bytes = 0  # of the file
        self.line = 0
        self.record = 0  # bytes of the record being read
        self.boundary = True  # between records: blank lines are no part of a quoted field

    @property
    def consumed(self) -> int:
        """Bytes of the file given (or skipped) so far."""
        return self.read_bytes - (len(self.buf) - self.pos)

    def end_record(self) -> None:
        self.boundary, self.record = True, 0

    def _more(self) -> bool:
        if self.eof:
            return False
        chunk = self.fh.read(CHUNK)
        if not chunk:
            self.eof = True
            return False
        self.read_bytes += len(chunk)
        if self.read_bytes > MAX_FILE_BYTES:  # not a regular file (a pipe, /dev/zero)
            raise DatasetError(f"{self.path}: larger than {MAX_FILE_BYTES >> 20} MiB")
        self.buf = self.buf[self.pos:] + chunk
        self.pos = 0
        return True

    def _too_long(self) -> DatasetError:
        return DatasetError(f"{self.path}:{self.line + 1}: a row longer than "
                            f"{MAX_LINE_BYTES >> 20} MiB (at most {MAX_COLUMNS:,} columns)")

    def _skip_blank(self) -> None:
        """Past whole blank lines (spaces and tabs, then a line end), a window of them at a
        time at C speed: a file of nothing but newlines is not read line by line."""
        while True:
            if self.pos == len(self.buf) and not self._more():
                return
            if self.buf[self.pos] not in b" \t\r\n":  # a row starts here: the usual case
                return
            window = self.buf[self.pos:self.pos + CHUNK]
            content = len(window.lstrip(b" \t\r\n"))
            stop = self.pos + len(window) - content  # the first byte that is not blank
            # back to the start of its line: its leading spaces are the row's
            cut = max(self.buf.rfind(b"\n", self.pos, stop),
                      self.buf.rfind(b"\r", self.pos, stop))
            end = cut + 1 if cut >= 0 else self.pos
            if end == len(self.buf) and self.buf.endswith(b"\r") and not self.eof:
                end -= 1  # its \n may come in the next chunk: one line end, not two
            if end == self.pos:  # no whole blank line: spaces before a row, or a \r held
                return
            self.line += _line_ends(self.buf[self.pos:end])
            self.pos = end

    def __iter__(self) -> Lines:
        return self

    def __next__(self) -> str:
        if self.boundary:
            self._skip_blank()
        while True:
            m = _EOL.search(self.buf, self.pos)
            if m is not None and m.end() - self.pos > MAX_LINE_BYTES:
                raise self._too_long()
            if m is not None and (m.end() < len(self.buf) or self.eof or m.group() == b"\r\n"
                                  or self.buf[m.start()] != 0x0D):
                end = m.end()
                break
            if m is None and len(self.buf) - self.pos > MAX_LINE_BYTES:
                raise self._too_long()
            if not self._more():
                end = len(self.buf) if m is None else m.end()
                if end == self.pos:
                    raise StopIteration
                break
        raw = self.buf[self.pos:end]
        self.pos = end
        self.line += 1
        self.record += len(raw)
        if self.record > MAX_LINE_BYTES:  # a quoted field over many short lines
            raise self._too_long()
        self.boundary = False
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as e:
            # (replacing the bytes would merge class names that differ only there: Excel's
            # Latin-1 "café" and "cafè" both read "caf\ufffd")
            utf16 = self.line == 1 and raw[:2] in (b"\xff\xfe", b"\xfe\xff")
            what = "UTF-16 text" if utf16 else f"not UTF-8 text (byte 0x{raw[e.start]:02x})"
            raise DatasetError(
                f"{self.path}:{self.line}: {what}: save the file as UTF-8, e.g. `iconv -f "
                f"{'utf-16' if utf16 else 'latin1'} -t utf-8 {self.path} > new.csv`"
            ) from None


@dataclass
class Table:
    """A CSV read whole: its header cells, the values (N, F) as uint8 (every value a whole
    0..255) or float32, the labels (each row's index into ``names``, the distinct label cells
    stripped, in order of appearance) and each row's line number (its last line)."""

    header: list[str]
    values: np.ndarray
    names: list[str]
    label_index: np.ndarray
    lines: np.ndarray


class _Growing:
    """Rows of ``width`` values in one array, uint8 until a value is not a whole 0..255, and
    grown as rows come: ``estimate(rows)`` says how many rows the file holds in all."""

    def __init__(self, width: int, path: Path) -> None:
        self.width, self.path = width, path
        self.values: np.ndarray = np.empty((16, width), np.uint8)
        self.n = 0

    def reserve(self, rows: int) -> None:
        rows = min(rows, MAX_DATA_BYTES // (4 * self.width))  # add() refuses more
        if rows <= len(self.values):
            return
        grown = np.empty((rows, self.width), self.values.dtype)
        grown[: self.n] = self.values[: self.n]
        self.values = grown

    def add(self, block: np.ndarray, estimate: Callable[[int], int]) -> None:
        if self.values.dtype == np.uint8 and not (
                np.all(block == np.round(block)) and block.min() >= 0 and block.max() <= 255):
            floats = np.empty(self.values.shape, np.float32)
            floats[: self.n] = self.values[: self.n]
            self.values = floats
        need = self.n + len(block)
        if need * self.width * 4 > MAX_DATA_BYTES:  # as float32, whatever they are
            raise DatasetError(f"{self.path}: more than {MAX_DATA_BYTES >> 20} MiB of values")
        if need > len(self.values):
            self.reserve(max(need, estimate(need), len(self.values) * 5 // 4))
        self.values[self.n: need] = block
        self.n = need

    def result(self) -> np.ndarray:
        if len(self.values) > self.n:  # in place: the estimate was over
            self.values.resize((self.n, self.width), refcheck=False)
        return self.values


def read_table(path: Path, check_header: Callable[[list[str]], None]) -> Table:
    """The CSV at ``path``; ``check_header`` sees the header before any row is read (and
    raises DatasetError for one that is not). DatasetError (one line, naming the line) for a
    file that is not a table of numbers after its label column, or beyond the bounds."""
    try:
        fh = path.open("rb")  # bounded whatever the file is (a link to /dev/zero)
    except OSError as exc:
        raise DatasetError(f"{path}: cannot read ({exc.strerror or exc})") from None
    with fh:
        try:
            st = os.fstat(fh.fileno())
            size = st.st_size if stat.S_ISREG(st.st_mode) else 0
            if size > MAX_FILE_BYTES:
                raise DatasetError(f"{path}: larger than {MAX_FILE_BYTES >> 20} MiB")
            return _read(fh, path, size, check_header)
        except OSError as exc:
            raise DatasetError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _read(fh: BinaryIO, path: Path, size: int, check_header: Callable[[list[str]], None]
          ) -> Table:
    lines = Lines(fh, path)
    reader = csv.reader(lines)

    def next_row() -> list[str] | None:
        """The next row that is not blank (None at the end)."""
        try:
            for row in reader:
                lines.end_record()
                if row and any(c.strip() for c in row):
                    return row
        except csv.Error as exc:  # e.g. a NUL byte, a broken quote, a field over 128 KiB
            raise DatasetError(f"{path}:{lines.line}: not a readable CSV row ({exc})"
                               ) from None
        return None

    header = next_row()
    if header is None:
        raise DatasetError(f"{path}: needs a header row and at least one sample row")
    if len(header) > MAX_COLUMNS:
        raise DatasetError(f"{path}: {len(header):,} columns, more than {MAX_COLUMNS:,}")
    check_header(header)
    width = len(header)
    start = lines.consumed
    table = _Growing(width - 1, path)
    names: dict[str, int] = {}
    label_index = np.empty(1024, np.int32)
    line_of = np.empty(1024, np.int64)
    rows = 0
    per_block = max(1, BLOCK_CELLS // width)

    def estimate(rows_so_far: int) -> int:
        """Rows in the whole file, from its size and the bytes per row so far."""
        if not size or rows_so_far == 0:
            return 0
        per_row = max(1.0, (lines.consumed - start) / rows_so_far)
        return min(MAX_ROWS, int((size - start) / per_row * 1.02) + 16)

    cells: list[list[str]] = []
    where: list[int] = []
    while True:
        row = next_row()
        if row is not None:
            if len(row) != width:
                raise DatasetError(f"{path}:{lines.line}: {len(row)} columns, the header has "
                                   f"{width}")
            if rows == MAX_ROWS:
                raise DatasetError(f"{path}: more than {MAX_ROWS:,} rows")
            if rows == len(label_index):
                grow = max(2 * rows, estimate(rows))
                label_index = np.resize(label_index, grow)
                line_of = np.resize(line_of, grow)
            label = row[0].strip()
            label_index[rows] = names.setdefault(label, len(names))
            line_of[rows] = lines.line
            rows += 1
            cells.append(row[1:])
            where.append(lines.line)
        if cells and (row is None or len(cells) == per_block):
            table.add(_block(path, header, cells, where), estimate)
            cells, where = [], []
        if row is None:
            break
    if rows == 0:
        raise DatasetError(f"{path}: needs a header row and at least one sample row")
    return Table(header, table.result(), list(names), label_index[:rows].copy(),
                 line_of[:rows].copy())


def number(text: str) -> bool:
    """Whether ``text`` reads as a float (a header cell that is a value, not a name)."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def _block(path: Path, header: list[str], cells: list[list[str]], where: list[int]
           ) -> np.ndarray:
    """The rows' values as float64 (N, F); DatasetError naming the first bad row's line."""
    try:
        v = np.array(cells, np.float64)
    except ValueError:
        v = None
    if v is not None and np.all(np.abs(v) <= FLOAT32_MAX):
        return v
    for row, line in zip(cells, where, strict=True):  # the first bad row, in file order
        try:
            r = np.array(row, np.float64)
        except ValueError:
            j = next((j for j, c in enumerate(row, 1) if not number(c)), None)
            if j is None:
                raise DatasetError(f"{path}:{line}: a feature is not a number") from None
            c = row[j - 1]
            what = "is empty" if not c.strip() else f"holds {c.strip()[:40]!r}, not a number"
            raise DatasetError(f"{path}:{line}: column {j + 1} ({header[j].strip()[:40]!r}) "
                               f"{what}; features must be numbers") from None
        if not np.all(np.abs(r) <= FLOAT32_MAX):  # nan, inf, or beyond float32
            raise DatasetError(f"{path}:{line}: a feature is nan, infinite or beyond float32 "
                               "(values must be finite)")
    raise AssertionError("a block with a bad value has a bad row")  # pragma: no cover
