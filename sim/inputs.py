"""Input files for the firmware's console: raw bytes, or arrays converted to raw bytes.

The simulator does not know what a firmware computes; it turns common formats into the bytes a
C program would read: ``.npy`` arrays in C order, ``.csv`` tables of numbers (a header row is
skipped) and ``.png`` images as uint8 pixels, row by row, one byte per pixel when the image is
grey (all colour channels equal), else RGB; ``.wav`` clips as their samples are stored
(little-endian, frames interleaved). Any other file is passed through unchanged.

When the ELF records its input format (:class:`InputFormat`, the ``input.*`` keys of its
``.ebnn_sim.meta`` section: "the firmware reads N bytes of shape [..] per input"), the input is
checked against it and refused with one line unless it is one or more whole inputs of that
shape (a WAV clip shorter than one input gets silence appended, as ``ebnn``'s folders of clips
are padded); with a recorded quantisation every value (``.npy``, ``.csv``, a PNG's pixels, a
WAV's samples as ``sim.wav`` reads them) is
quantised with its per-channel scale and zero point, ``q = clamp(round_half_even(x / scale)
+ zero_point, 0, 255)``, computed in float64 from the value's float32 (as the data files load
for training and the reference). Without one, values must be whole numbers 0..255.
"""

import io
import math
import re
import tokenize
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import numpy as np


class InputError(Exception):
    """An input file that cannot be converted; ``str()`` is one line for the user."""


# More than this share of an input file's values quantised far beyond 0..255 (by more than
# half that range, before the clamp) says the file is likely on another scale than the data
# the recorded quantisation was made for (a CSV in millivolts beside training data in volts).
FAR_SHARE = 0.01


def far_beyond(q: np.ndarray) -> float:
    """The share of unclamped quantised values ``q`` beyond 0..255 by more than half of it: a
    value a little outside (a test sample a little wider than the training data) does not
    count; one on another scale does."""
    q = np.asarray(q)
    return float(np.count_nonzero((q < -128) | (q > 383))) / q.size if q.size else 0.0


def _uint8(arr: np.ndarray, path: Path) -> np.ndarray:
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype.kind not in "iuf" or arr.size == 0:
        raise InputError(f"{path}: array of {arr.dtype} cannot be pixel bytes")
    if not np.all(np.isfinite(arr)) or arr.min() < 0 or arr.max() > 255 or np.any(
            arr != np.round(arr)):
        raise InputError(f"{path}: values must be whole numbers 0..255")
    return arr.astype(np.uint8)


def _unformatted(arr: np.ndarray, path: Path) -> np.ndarray:
    """``_uint8`` for an ELF that records no input format (one of your own): values that are
    not bytes are refused saying what to give instead."""
    if arr.dtype != np.uint8 and arr.dtype.kind in "iuf" and arr.size:
        finite = bool(np.all(np.isfinite(arr)))
        if finite and np.all(arr == np.round(arr)) and (arr.min() < 0 or arr.max() > 255):
            raise InputError(f"{path}: values must be bytes 0..255, and these whole numbers "
                             f"run from {arr.min():g} to {arr.max():g}: for wider samples (int16 "
                             "PCM, ADC counts) give the raw bytes your firmware reads, a .bin")
        if not finite or np.any(arr != np.round(arr)):
            raise InputError(f"{path}: values must be whole numbers 0..255, and the ELF records "
                             "no input format (an `ebnn build` firmware does) to quantise these "
                             "with: for an eBNN model's input write them as bytes with `ebnn "
                             "eval MODEL.ebnn --input FILE --save-bytes FILE.bin` and give that")
    return _uint8(arr, path)


MAX_INPUT_BYTES = 64 << 20  # what a console input may hold, converted: far more than any MCU


def _too_large(path: Path, what: str) -> InputError:
    return InputError(f"{path}: {what} is larger than {MAX_INPUT_BYTES >> 20} MiB; a "
                      "microcontroller's console input is never that large")


def _check_npy_size(path: Path) -> None:
    """Refuse, from its header alone, an array whose data would exceed the limit."""
    try:
        with path.open("rb") as fh:
            major, _ = np.lib.format.read_magic(fh)
            read_header = (np.lib.format.read_array_header_1_0 if major == 1
                           else np.lib.format.read_array_header_2_0)
            shape, _, dtype = read_header(fh)
    except (ValueError, OSError, SyntaxError, TypeError, tokenize.TokenError, RecursionError,
            MemoryError) as exc:  # numpy tokenizes and literal_evals the header text
        raise InputError(f"{path}: not a readable .npy file ({exc})") from None
    count = 1
    for n in shape:
        count *= int(n)
    # each dimension on its own too: (0, 10**30) holds nothing, and numpy overflows on it
    if count * dtype.itemsize > MAX_INPUT_BYTES or any(int(n) > MAX_INPUT_BYTES for n in shape):
        raise _too_large(path, f"the array {tuple(shape)} of {dtype}")


def load_npy(path: Path) -> np.ndarray:
    """The array in a .npy file, refused (InputError, one line) when larger than
    MAX_INPUT_BYTES by its header, unreadable, or of pickled objects."""
    _check_npy_size(path)
    try:
        return np.asarray(np.load(path, allow_pickle=False))
    except (ValueError, OSError) as exc:
        raise InputError(f"{path}: not a readable .npy file ({exc})") from None


def _png_pixels(path: Path) -> np.ndarray:
    """A PNG's pixels, 0..255 (16-bit ones scaled), grey (H, W) or with channels."""
    try:
        from matplotlib import image
    except ImportError:
        raise InputError(_needs(path, "matplotlib")) from None
    _check_png_size(path)
    try:
        pixels = image.imread(path)
    except (ValueError, OSError, SyntaxError) as exc:
        raise InputError(f"{path}: not a readable PNG ({exc})") from None
    return np.round(pixels * 255.0) if pixels.dtype.kind == "f" else pixels


# Pillow's grey modes, and its 16-bit grey ones (scaled 65535 -> 255, as a 16-bit PNG's pixels
# are): how --input and ebnn's image folders (ebnn/datafiles.py) both read an image
GREY_MODES, WIDE_MODES = ("1", "L", "F", "LA"), ("I", "I;16", "I;16B", "I;16L", "I;16N")


def _image_pixels(path: Path) -> np.ndarray:
    """The pixels of a JPEG, BMP, GIF, TIFF, WebP or PGM/PPM image, decoded by Pillow as
    ``ebnn``'s image folders decode them for training: a grey mode as grey, a palette or any
    other mode as RGB; its size checked from its header before decoding."""
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        raise InputError(_needs(path, "pillow")) from None
    what = path.suffix.lower()[1:].upper()
    try:
        with warnings.catch_warnings():
            # (a bomb's size is checked below; a damaged file's EXIF warning says no more
            # than the error line)
            warnings.simplefilter("ignore")
            with Image.open(path) as im:
                width, height = im.size
                if width * height * 4 * 4 > MAX_INPUT_BYTES:  # as a PNG's
                    raise _too_large(path, f"the {width}x{height} image")
                if im.mode in WIDE_MODES:
                    wide = np.asarray(im, np.float64)
                    return np.clip(np.round(wide * (255 / 65535)), 0, 255).astype(np.uint8)
                mode = "L" if im.mode in GREY_MODES else "RGB"
                return np.asarray(im.convert(mode), np.uint8)
    except (OSError, UnidentifiedImageError, Image.DecompressionBombError, ValueError) as exc:
        raise InputError(f"{path}: not a readable {what} image ({type(exc).__name__})") from None


def _check_png_size(path: Path) -> None:
    """Refuse, from its IHDR chunk, an image whose pixels would exceed the limit (a PNG of a
    few hundred KiB can inflate to gigabytes)."""
    with path.open("rb") as fh:
        head = fh.read(24)
    if len(head) < 24 or head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        raise InputError(f"{path}: not a readable PNG (no PNG header)")
    width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    if width * height * 4 * 4 > MAX_INPUT_BYTES:  # up to 4 channels, decoded as float32
        raise _too_large(path, f"the {width}x{height} image")


@dataclass(frozen=True)
class InputFormat:
    """What one console input of a firmware is, as its build recorded it."""

    shape: tuple[int, ...]
    size: int  # bytes per input
    scale: tuple[float, ...] | None = None  # per channel (last axis), for float values
    zero_point: tuple[int, ...] | None = None
    wav: tuple[str, int] | None = None  # a WAV clip's sample format and rate, when recorded
    reader: str = "this firmware"  # what reads the inputs, in messages ("this model": eval's)

    def describe(self) -> str:
        return (f"inputs of shape [{', '.join(map(str, self.shape))}] ({self.size:,} bytes "
                "each)")

    @staticmethod
    def from_metadata(meta: dict[str, str]) -> "InputFormat | None":
        """The format the ``input.*`` keys describe; None without ``input.shape``."""
        if "input.shape" not in meta:
            return None

        def numbers(key: str, kind: type[int] | type[float]) -> tuple[float, ...] | None:
            text = meta.get(key)
            if text is None:
                return None
            try:
                values = tuple(kind(v) for v in text.split(",")[:4097])
            except ValueError:
                raise InputError(f"the ELF's metadata {key}={text[:60]!r} is not a list of "
                                 "numbers") from None
            if not values or not all(math.isfinite(v) for v in values):
                raise InputError(f"the ELF's metadata {key} is not a list of finite numbers")
            return values

        shape = numbers("input.shape", int)
        assert shape is not None
        if not all(1 <= n <= 1 << 24 for n in shape) or len(shape) > 8:
            raise InputError(f"the ELF's metadata input.shape={meta['input.shape'][:60]} is "
                             "not a shape")
        size = math.prod(int(n) for n in shape)
        if "input.bytes" in meta and meta["input.bytes"] != str(size):
            raise InputError(f"the ELF's metadata input.bytes={meta['input.bytes'][:20]} does "
                             f"not match input.shape ({size})")
        scale, zero = numbers("input.scale", float), numbers("input.zero_point", int)
        if (scale is None) != (zero is None) or (scale is not None and zero is not None and (
                len(scale) != shape[-1] or len(zero) != shape[-1]
                or not all(s > 0 for s in scale))):
            raise InputError("the ELF's metadata input.scale and input.zero_point must give "
                             "one positive scale and one zero point per channel")
        wav = None
        if "input.wav.format" in meta or "input.wav.rate" in meta:
            rate = meta.get("input.wav.rate", "")
            if "input.wav.format" not in meta or not (rate.isdigit() and len(rate) <= 10) or (
                    not 0 < int(rate) < 2**32):
                raise InputError("the ELF's metadata input.wav.format and input.wav.rate must "
                                 "give a sample format and a rate in Hz")
            wav = (meta["input.wav.format"][:40], int(rate))
        return InputFormat(tuple(int(n) for n in shape), size, scale,
                           None if zero is None else tuple(int(z) for z in zero), wav)

    def quantise(self, values: np.ndarray, path: Path,
                 notes: list[str] | None = None) -> np.ndarray:
        """uint8 inputs of ``values`` (..., C): quantised when the format has a scale (whatever
        their type, uint8 too, as ``ebnn eval`` and ``verify`` quantise them), else whole
        numbers 0..255. Quantised from their float32 values: data files load as float32 for
        training and the reference, so a value within float32 rounding of a .5 step becomes
        the same byte here. A warning for values far beyond the scale goes to ``notes``."""
        if self.scale is None or self.zero_point is None:
            return _uint8(values, path)
        if values.dtype.kind not in "iuf" or not np.all(np.isfinite(values)):
            raise InputError(f"{path}: values must be finite numbers")
        f32 = np.finfo(np.float32).max
        single = np.clip(values.astype(np.float64), -f32, f32).astype(np.float32)
        flat = single.astype(np.float64).reshape(-1, len(self.scale))
        q = np.rint(flat / np.asarray(self.scale)) + np.asarray(self.zero_point, np.float64)
        share = far_beyond(q)
        if notes is not None and share > FAR_SHARE:
            notes.append(f"{path}: {100 * share:.1f}% of its values lie far beyond the range "
                         "the model's input quantisation covers (its training data's) and are "
                         "clamped to 0 or 255: data on another scale?")
        out: np.ndarray = np.clip(q, 0, 255).astype(np.uint8)
        return out

    def inputs(self, arr: np.ndarray, path: Path, what: str) -> np.ndarray:
        """``arr`` as (k, *shape) when it is one input of the shape (a channel axis of 1 may
        be left out; a flat one of the size), or k of them; InputError otherwise."""
        squeeze = self.shape[:-1] if self.shape[-1] == 1 and len(self.shape) > 1 else None
        for shape in (self.shape, squeeze):
            if shape is None:
                continue
            if arr.shape == shape or arr.shape == (self.size,):
                return arr.reshape(1, *self.shape)
            if arr.ndim == len(shape) + 1 and arr.shape[1:] == shape and arr.shape[0] >= 1:
                return arr.reshape(-1, *self.shape)
        raise InputError(f"{path}: {what} of shape [{', '.join(map(str, arr.shape))}]; "
                         f"{self.reader} reads {self.describe()}")


def pandas_column_names(cells: list[str]) -> bool:
    """Whether a CSV row is the header pandas writes for a DataFrame made from an array
    (``to_csv(index=False)``): the column names 0, 1, 2, ..."""
    return [c.strip() for c in cells] == [str(i) for i in range(len(cells))]


# bytes of a CSV file (inputs, pin and analog levels, register series): numpy's parser takes
# some 20 times a file of one long line, so a CSV of more than a few thousand inputs (or a
# recording of more than about a million rows) is given as .npy, which is read as it is
MAX_CSV_BYTES = 16 << 20
# a cell numpy reads as a number (a blank cell is not one); others are checked with float()
_NUMBER = r"[ \t]*[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|nan|inf(?:inity)?)[ \t\r]*"
_ODD_CELL = re.compile(rf"(?:^|(?<=,))(?!{_NUMBER}(?:,|$))([^,\n]*)", re.M | re.I)
MAX_ODD_CELLS = 1000  # cells the regex doubts that float() reads, before giving up on saying where
PANDAS_HEADER_CHARS = 1 << 20  # a first line longer than this is not compared with pandas' names


def read_csv(path: Path) -> np.ndarray:
    """The numbers of a CSV file as float64 rows (a first row that is not numbers, or is
    pandas' column names 0, 1, 2, ..., N-1, is a header and skipped; a UTF-8 byte-order mark,
    as spreadsheets write one, is not a value); bounded by MAX_CSV_BYTES, parsed by numpy (a
    few bytes a value, where Python lists of strings would take hundreds), and no cell of it
    made a Python string but a header's."""
    with path.open("rb") as fh:
        data = fh.read(MAX_CSV_BYTES + 1)
    if len(data) > MAX_CSV_BYTES:
        raise InputError(f"{path}: a CSV of more than {MAX_CSV_BYTES >> 20} MiB (give the "
                         "values as .npy)")
    text = data.decode("utf-8-sig", "replace")
    first = _filled_line(text, 0)
    if first is None:
        raise InputError(f"{path}: a CSV input needs rows of numbers of equal length")
    second = _filled_line(text, first[2])
    header = _odd_cell(text, first[1], first[2]) is not None or (
        second is not None and first[2] - first[1] <= PANDAS_HEADER_CHARS
        and pandas_column_names(cells := text[first[1]:first[2]].rstrip("\r\n").split(","))
        and len(cells) >= 4)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "input contained no data": said below
            lines = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", errors="replace")
            table: np.ndarray = np.loadtxt(lines, delimiter=",", comments=None,
                                           skiprows=first[0] + 1 if header else 0, ndmin=2,
                                           dtype=np.float64)
    except ValueError as exc:
        if "columns" in str(exc):
            raise InputError(f"{path}: a CSV input needs rows of numbers of equal length"
                             ) from None
        raise InputError(f"{path}: a CSV input must hold only numbers"
                         f"{_first_word(text, first[2])}") from None
    if not table.size:
        raise InputError(f"{path}: a CSV input needs rows of numbers of equal length")
    return table


def _filled_line(text: str, at: int) -> tuple[int, int, int] | None:
    """The first line from ``at`` on that is not blank: (its index in the text, where it
    starts, where the next begins), None when there is none; no copy of the text is made."""
    while at < len(text):
        end = text.find("\n", at)
        end = len(text) if end < 0 else end + 1
        if not text[at:end].isspace():
            return text.count("\n", 0, at), at, end
        at = end
    return None


def _odd_cell(text: str, start: int, end: int | None = None) -> tuple[int, str] | None:
    """Where the first cell that is not a number lies between ``start`` (a line's start) and
    ``end``, and the cell; blank lines are not such cells. None when there is none, or when
    MAX_ODD_CELLS cells the pattern doubts are numbers after all (underscores, say)."""
    doubted = 0
    stop = len(text) if end is None else end
    for found in _ODD_CELL.finditer(text, start, stop):
        cell = found.group(1)
        at = found.start(1)
        whole_line = (at == 0 or text[at - 1] == "\n") and (
            found.end(1) == stop or text[found.end(1)] == "\n")
        if whole_line and not cell.strip():  # a blank line: numpy skips it
            continue
        try:
            float(cell)
        except ValueError:
            return at, cell
        doubted += 1
        if doubted >= MAX_ODD_CELLS:
            return None
    return None


QUOTED_CHARS = 12  # of a cell an error quotes: the file may be one the user never meant to show


def quote_cell(cell: str) -> str:
    """``cell`` for an error message: its first QUOTED_CHARS characters, ASCII-escaped."""
    cell = cell.strip()
    return ascii(cell[:QUOTED_CHARS]) + ("..." if len(cell) > QUOTED_CHARS else "")


def _first_word(text: str, after: int) -> str:
    """Where a CSV of inputs first holds something that is not a number after its first row
    (which ends at ``after``), and, when a row starts with it, that a label column is not an
    input's."""
    found = _odd_cell(text, after)
    if found is None:
        return ""
    at, cell = found
    line_start = text.rfind("\n", 0, at) + 1
    line, column = text.count("\n", 0, at) + 1, text.count(",", line_start, at) + 1
    label = (" (a label column? --input takes unlabelled inputs; labelled data: "
             "ebnn-sim verify --data FILE, ebnn eval --data FILE)" if column == 1 else "")
    return f": line {line}, column {column} is {quote_cell(cell)}{label}"


def _needs(path: Path, package: str) -> str:
    """The one line for an input whose reader is not installed (the simulator's own
    dependencies do not include the ``ml`` extra's)."""
    return (f"{path}: reading a {path.suffix.lower()[1:].upper()} input needs {package} (pip "
            f"install {package}, or the package's ml extra: pip install 'ebnn-sim[ml]')")


def _wav_bytes(path: Path, fmt: InputFormat | None, notes: list[str] | None) -> bytes:
    """A WAV clip's console bytes: without ``fmt``, its samples as stored; with one, a clip
    shorter than one input gets silence appended (as ``ebnn``'s folders of clips pad theirs)
    and a longer one must be whole inputs; then its values are bytes as ``quantise`` says."""
    from sim.wav import WavError, read_wav

    try:
        wav = read_wav(path, MAX_INPUT_BYTES)
    except WavError as exc:
        raise InputError(str(exc)) from None
    except ImportError:
        raise InputError(_needs(path, "scipy")) from None
    if fmt is None:
        return wav.stored_bytes()
    model = "this firmware's model" if fmt.reader == "this firmware" else fmt.reader
    if fmt.wav is None and len(fmt.shape) == 3 and fmt.shape[0] > 1:
        # an image model: a clip's samples would be read as pixels (a sequence model trained
        # on an array of clips' samples, with no clip format recorded, may take them)
        raise InputError(f"{path}: a WAV clip; {model} reads images ({fmt.describe()})")
    if fmt.wav is not None and (wav.kind, wav.rate) != fmt.wav:
        raise InputError(f"{path}: {wav.kind} at {wav.rate} Hz; {model} was trained on "
                         f"{fmt.wav[0]} clips at {fmt.wav[1]} Hz: convert the clip "
                         "(its samples would be quantised on another scale)")
    steps, channels = math.prod(fmt.shape[:-1]), fmt.shape[-1]
    frames = len(wav.samples)
    if wav.samples.shape[1] != channels:
        raise InputError(f"{path}: {wav.describe()}; {model} takes clips of {channels} "
                         "channel(s): convert the clip")
    if frames > steps and frames % steps:
        raise InputError(f"{path}: {frames:,} frames of {wav.describe()}; {fmt.reader} reads "
                         f"{fmt.describe()}: {steps:,} frames of {channels} channel(s) an input, "
                         "so a clip of at most that (padded with silence) or of whole inputs "
                         "back to back; trim it")
    samples = wav.padded(steps) if frames < steps else wav.samples
    return fmt.quantise(samples.reshape(-1, *fmt.shape), path, notes).tobytes()


OTHER_IMAGES = (".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm", ".ppm")


def console_bytes(path: Path, fmt: InputFormat | None = None,
                  notes: list[str] | None = None) -> bytes:
    """What the firmware reads from its console when ``path`` is its first ``--input``. Every
    read is bounded (MAX_INPUT_BYTES), whatever the file claims or is (/dev/zero included).
    With ``fmt`` (the ELF's recorded input format) the input must be whole inputs of its
    shape, and float values are quantised as it says; ``notes`` gets a warning when many lie
    far beyond its scale."""
    suffix = path.suffix.lower()
    if suffix == ".npy":
        arr = load_npy(path)
        if fmt is None:
            return _unformatted(arr, path).tobytes()
        return fmt.quantise(fmt.inputs(arr, path, "an array"), path, notes).tobytes()
    if suffix == ".csv":
        table = read_csv(path)
        if fmt is None:
            return _unformatted(table, path).tobytes()
        rows = (fmt.shape[0], math.prod(fmt.shape[1:]))  # one input as rows: T x C, H x WC
        per_pixel = (math.prod(fmt.shape[:-1]), fmt.shape[-1])  # a pixel a row: HW x C
        if table.shape[1] == fmt.size:
            table = table.reshape(-1, *fmt.shape)  # one input a row
        elif table.shape in (rows, per_pixel, (fmt.size, 1)):  # or a column (a vector's savetxt)
            table = table.reshape(fmt.shape)
        else:  # a transposed (channel-major) sensor log has the size but not the layout
            raise InputError(f"{path}: a CSV of {table.shape[0]} row"
                             f"{'' if table.shape[0] == 1 else 's'} of {table.shape[1]} "
                             f"values; {fmt.reader} reads {fmt.describe()}: give one input "
                             f"a row ({fmt.size} values in C order), one input as {rows[0]} "
                             f"rows of {rows[1]}"
                             + (f" or {per_pixel[0]} rows of {per_pixel[1]}"
                                if per_pixel != rows else "")
                             + ", or a column")
        return fmt.quantise(table, path, notes).tobytes()
    if suffix == ".png" or (suffix in OTHER_IMAGES and fmt is not None):
        # (a raw harness, no format recorded, gets other image files' bytes unchanged)
        pixels = _png_pixels(path) if suffix == ".png" else _image_pixels(path)
        if pixels.ndim == 3:
            rgb = pixels[..., :3]
            colour = fmt is not None and len(fmt.shape) == 3 and fmt.shape[2] == 3
            pixels = rgb[..., 0] if not colour and np.all(rgb == rgb[..., :1]) else rgb
        if fmt is not None:
            h, w = pixels.shape[:2]
            c = pixels.shape[2] if pixels.ndim == 3 else 1
            if (h, w, c) != fmt.shape:
                # its shape in the order of the firmware's (a transposed image read as
                # "12x20 ... [12, 20, 1]" looked like a match)
                raise InputError(f"{path}: a {'grey' if c == 1 else 'colour'} image {w} wide "
                                 f"and {h} high, of shape [{h}, {w}, {c}] ([height, width, "
                                 f"channels]); {fmt.reader} reads {fmt.describe()}")
        if fmt is not None:  # a float model's pixels are values like any other (as eval's)
            return fmt.quantise(_uint8(pixels, path).reshape(1, *fmt.shape), path,
                                notes).tobytes()
        return _uint8(pixels, path).tobytes()
    if suffix == ".wav":
        return _wav_bytes(path, fmt, notes)
    with path.open("rb") as fh:
        data = fh.read(MAX_INPUT_BYTES + 1)
    if len(data) > MAX_INPUT_BYTES:
        raise _too_large(path, "the file")
    if not data and fmt is not None:  # the harness would classify its embedded sample
        raise InputError(f"{path}: empty; {fmt.reader} reads {fmt.describe()}")
    if fmt is not None and len(data) % fmt.size:
        raise InputError(f"{path}: {len(data):,} bytes, not a whole number of inputs; "
                         f"{fmt.reader} reads {fmt.describe()}")
    return data


def file_problem(path: Path) -> str | None:
    """Why ``path`` is not a regular file that can be opened ("no such file", "not a file", or
    the system's reason: a name too long, say); None when it is one."""
    try:
        if path.is_file():
            return None
        return "not a file" if path.exists() else "no such file"
    except OSError as exc:
        return exc.strerror or str(exc)


def read_table(path: Path, what: str, of: str) -> np.ndarray:
    """The numbers of a ``.csv`` (read_csv) or ``.npy`` (load_npy) file, ``what`` it is (``"a
    pin input"``) and ``of`` what (``"volts"``) saying in an InputError with one line why
    not."""
    problem = file_problem(path)
    if problem is not None:
        raise InputError(f"{path}: {problem} ({what})")
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".npy"):
        raise InputError(f"{path}: {what} is a .csv or .npy file of {of}")
    try:
        return read_csv(path) if suffix == ".csv" else load_npy(path)
    except OSError as exc:  # (a file that stat calls regular but that cannot be read)
        raise InputError(f"{path}: cannot read {what}: {exc.strerror or exc}") from None


class SpecParam(click.ParamType):  # type: ignore[type-arg]
    """A ``--analog`` or ``--pin`` value on a command line: ``parse`` makes it a spec
    (ValueError: one line), whose file (its ``path``, when it names one) must exist; a spec
    already made (a default, a caller's) is taken as it is."""

    def __init__(self, name: str, parse: Callable[[str], Any], kind: type) -> None:
        self.name, self._parse, self._kind = name, parse, kind

    def convert(self, value: object, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        if isinstance(value, self._kind):
            return value
        try:
            spec = self._parse(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)
        path = getattr(spec, "path", None)
        problem = None if path is None else file_problem(path)
        if problem is not None:
            self.fail(f"{path}: {problem}", param, ctx)
        return spec
