"""Input files for the firmware's console: raw bytes, or arrays converted to raw bytes.

The simulator does not know what the firmware expects; it only turns common array formats into
the bytes a C program would read: ``.npy`` arrays (integer values 0..255) in C order, and
``.png`` images as uint8 pixels, row by row, one byte per pixel when the image is grey
(all colour channels equal), else RGB. Any other file is passed through unchanged.
"""

import tokenize
from pathlib import Path

import numpy as np


class InputError(Exception):
    """An input file that cannot be converted; ``str()`` is one line for the user."""


def _uint8(arr: np.ndarray, path: Path) -> np.ndarray:
    if arr.dtype == np.uint8:
        return arr
    if arr.dtype.kind not in "iuf" or arr.size == 0:
        raise InputError(f"{path}: array of {arr.dtype} cannot be pixel bytes")
    if not np.all(np.isfinite(arr)) or arr.min() < 0 or arr.max() > 255 or np.any(
            arr != np.round(arr)):
        raise InputError(f"{path}: values must be whole numbers 0..255")
    return arr.astype(np.uint8)


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
    if count * dtype.itemsize > MAX_INPUT_BYTES:
        raise _too_large(path, f"the array {tuple(shape)} of {dtype}")


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


def console_bytes(path: Path) -> bytes:
    """What the firmware reads from its console when ``path`` is its first ``--input``. Every
    read is bounded (MAX_INPUT_BYTES), whatever the file claims or is (/dev/zero included)."""
    suffix = path.suffix.lower()
    if suffix == ".npy":
        _check_npy_size(path)
        try:
            arr = np.load(path, allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise InputError(f"{path}: not a readable .npy file ({exc})") from None
        return _uint8(np.asarray(arr), path).tobytes()
    if suffix == ".png":
        from matplotlib import image

        _check_png_size(path)
        try:
            pixels = image.imread(path)
        except (ValueError, OSError, SyntaxError) as exc:
            raise InputError(f"{path}: not a readable PNG ({exc})") from None
        if pixels.dtype.kind == "f":
            pixels = np.round(pixels * 255.0)
        if pixels.ndim == 3:
            rgb = pixels[..., :3]
            pixels = rgb[..., 0] if np.all(rgb == rgb[..., :1]) else rgb
        return _uint8(pixels, path).tobytes()
    with path.open("rb") as fh:
        data = fh.read(MAX_INPUT_BYTES + 1)
    if len(data) > MAX_INPUT_BYTES:
        raise _too_large(path, "the file")
    return data
