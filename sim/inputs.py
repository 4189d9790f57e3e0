"""Input files for the firmware's console: raw bytes, or arrays converted to raw bytes.

The simulator does not know what the firmware expects; it only turns common array formats into
the bytes a C program would read: ``.npy`` arrays (integer values 0..255) in C order, and
``.png`` images as uint8 pixels, row by row, one byte per pixel when the image is grey
(all colour channels equal), else RGB. Any other file is passed through unchanged.
"""

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


def console_bytes(path: Path) -> bytes:
    """What the firmware reads from its console when ``path`` is its first ``--input``."""
    suffix = path.suffix.lower()
    if suffix == ".npy":
        try:
            arr = np.load(path, allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise InputError(f"{path}: not a readable .npy file ({exc})") from None
        return _uint8(np.asarray(arr), path).tobytes()
    if suffix == ".png":
        from matplotlib import image

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
    return path.read_bytes()
