"""WAV files as sample values: ``ebnn-sim run --input clip.wav`` and ``ebnn``'s folders of
clips read them with :func:`read_wav` (scipy's reader, imported on first use: it comes with
the ``ml`` extra).

Samples keep the values they are stored as: 8-bit PCM as unsigned bytes (128 is silence, as the
format defines), 16- and 32-bit PCM as signed integers, 24-bit PCM as signed integers of 24 bits
(scipy returns them shifted into 32), IEEE float as floats. Shape (frames, channels).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np


class WavError(ValueError):
    """A WAV file that cannot be read; ``str()`` is one line for the user."""


@dataclass(frozen=True, eq=False)
class Wav:
    rate: int  # frames per second
    samples: np.ndarray  # (frames, channels): uint8, int16, int32 or float32/float64
    width: int  # bytes per stored sample (3 for 24-bit PCM, whose samples are int32 here)

    @property
    def silence(self) -> int:
        """The stored value of silence: 128 for 8-bit PCM, else 0."""
        return 128 if self.samples.dtype == np.uint8 else 0

    @property
    def kind(self) -> str:
        """The sample format as people name it: ``16-bit PCM``, ``32-bit float``."""
        what = "float" if self.samples.dtype.kind == "f" else "PCM"
        return f"{8 * self.width}-bit {what}"

    def stored_bytes(self) -> bytes:
        """The samples as the file stores them: little-endian, frames interleaved."""
        if self.width == 3:
            four = self.samples.astype("<i4").view(np.uint8).reshape(-1, 4)
            return four[:, :3].tobytes()
        return self.samples.astype(self.samples.dtype.newbyteorder("<")).tobytes()

    def padded(self, frames: int) -> np.ndarray:
        """The samples with silence appended up to ``frames`` (at least as many as held)."""
        pad = frames - len(self.samples)
        return np.pad(self.samples, ((0, pad), (0, 0)), constant_values=self.silence)


def read_wav(path: Path, max_bytes: int) -> Wav:
    """``path``'s samples; WavError (one line) for anything not a readable WAV file of at most
    ``max_bytes`` (checked on the file's size before it is read)."""
    try:
        if not path.exists():
            raise WavError(f"{path}: no such file")
        if not path.is_file():
            raise WavError(f"{path}: not a regular file")
        size = path.stat().st_size
    except OSError as exc:
        raise WavError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if size > max_bytes:
        raise WavError(f"{path}: the file is larger than {max_bytes >> 20} MiB")
    from scipy.io import wavfile

    try:
        with warnings.catch_warnings():  # chunks it skips (LIST, cue): not the user's problem
            warnings.simplefilter("ignore", wavfile.WavFileWarning)
            rate, data = wavfile.read(path)
            with path.open("rb") as fh:  # scipy reads 24-bit samples into int32: tell them
                head = fh.read(4096)
    # scipy's parser raises ValueError, struct.error, TypeError, ZeroDivisionError and
    # UnboundLocalError on damaged files (20,000 mutated files, session 34): all one line here
    except Exception as exc:
        what = (str(exc).splitlines() or [type(exc).__name__])[0][:80]
        raise WavError(f"{path}: not a readable WAV file ({what})") from None
    if data.size == 0:
        raise WavError(f"{path}: a WAV file without samples")
    samples = data if data.ndim == 2 else data.reshape(-1, 1)
    width = _width(head, samples.dtype.itemsize)
    if width == 3:
        samples = samples >> 8  # 24-bit values, scipy's left-justified int32 shifted back
    return Wav(int(rate), samples, width)


def _width(head: bytes, itemsize: int) -> int:
    """Bytes per stored sample: 3 when the fmt chunk (found by walking the chunks in the file's
    first 4 KiB) says 24 bits per sample and scipy returned int32, else the array's item
    size."""
    at = 12  # after "RIFF", the size and "WAVE"
    while at + 8 <= len(head):
        size = int.from_bytes(head[at + 4 : at + 8], "little")
        if head[at : at + 4] == b"fmt ":
            bits = int.from_bytes(head[at + 22 : at + 24], "little")
            return 3 if bits == 24 and itemsize == 4 else itemsize
        at += 8 + size + (size & 1)
    return itemsize
