"""WAV files as sample values: ``ebnn-sim run --input clip.wav`` and ``ebnn``'s folders of
clips read them with :func:`read_wav` (scipy's reader, imported on first use: it comes with
the ``ml`` extra), after :func:`read_header` has walked the file's chunks itself: their sizes
are checked against the file's before scipy reads anything (a damaged header could otherwise
make it allocate gigabytes, or take a cut-off recording for a shorter one), and the bits per
sample come from the fmt chunk wherever it lies.

Samples keep the values they are stored as: 8-bit PCM as unsigned bytes (128 is silence, as the
format defines), 16- and 32-bit PCM as signed integers, 24-bit PCM as signed integers of 24 bits
(scipy returns them shifted into 32), IEEE float as floats. Shape (frames, channels).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

MAX_CHUNKS = 4096  # chunks walked before the data chunk: a real file has a handful
UNWRITTEN = 0xFFFFFFFF  # a data size a recorder writes before it knows it (and RF64's)


class WavError(ValueError):
    """A WAV file that cannot be read; ``str()`` is one line for the user."""


@dataclass(frozen=True)
class WavHeader:
    """What a WAV file's chunks say, checked against its size."""

    rate: int  # frames per second
    channels: int
    bits: int  # per sample, as the fmt chunk says
    frames: int  # the data chunk's bytes over the frame size

    @property
    def width(self) -> int:
        """Bytes per stored sample."""
        return (self.bits + 7) // 8

    def describe(self) -> str:
        """``16-bit samples at 16000 Hz, 1 channel``."""
        return (f"{self.bits}-bit samples at {self.rate} Hz, {self.channels} "
                f"channel{'s' * (self.channels != 1)}")


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

    def describe(self) -> str:
        """``16-bit PCM at 16000 Hz, 1 channel``."""
        channels = self.samples.shape[1]
        return f"{self.kind} at {self.rate} Hz, {channels} channel{'s' * (channels != 1)}"

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


def _regular(path: Path) -> int:
    """``path``'s size; WavError unless it is a readable regular file."""
    try:
        if not path.exists():
            raise WavError(f"{path}: no such file")
        if not path.is_file():
            raise WavError(f"{path}: not a regular file")
        return path.stat().st_size
    except OSError as exc:
        raise WavError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def read_header(path: Path) -> WavHeader:
    """Walk ``path``'s RIFF chunks (RIFX: big-endian), without reading the samples; WavError
    (one line) for a file that is not a WAV file, a chunk larger than the file, a data chunk
    cut short or whose size was never written."""
    size = _regular(path)
    try:
        with path.open("rb") as fh:
            head = fh.read(12)
            if head[:4] == b"RF64":
                raise WavError(f"{path}: an RF64 file (for recordings over 4 GiB): not read; "
                               "convert it to WAV")
            if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX") or head[8:12] != b"WAVE":
                raise WavError(f"{path}: not a WAV file (no RIFF/WAVE header)")
            order: Literal["big", "little"] = "big" if head[:4] == b"RIFX" else "little"
            fmt: tuple[int, int, int, int] | None = None  # rate, channels, bits, frame bytes
            data: int | None = None  # the last data chunk's bytes (scipy reads the last)
            at = 12
            for _ in range(MAX_CHUNKS):
                fh.seek(at)
                chunk = fh.read(8)
                if len(chunk) < 8:
                    break
                name, length = chunk[:4], int.from_bytes(chunk[4:8], order)
                left = size - at - 8
                if name == b"data":
                    if fmt is None:
                        raise WavError(f"{path}: damaged: its data chunk comes before the fmt "
                                       "chunk")
                    if length == UNWRITTEN:
                        raise WavError(f"{path}: its data size was never written (a recording "
                                       "that did not finish): rewrite the file, e.g. sox in.wav "
                                       "out.wav")
                    if length > left:
                        raise WavError(f"{path}: cut short: its data chunk says {length:,} "
                                       f"bytes, the file holds {left:,}")
                    data = length
                if length > left:
                    raise WavError(f"{path}: damaged: its {name.decode('latin-1')!r} chunk says "
                                   f"{length:,} bytes, the file holds {left:,}")
                if name == b"fmt ":
                    body = fh.read(min(length, 40))
                    if len(body) < 16:
                        raise WavError(f"{path}: damaged: a fmt chunk of {length} bytes")
                    channels, rate = (int.from_bytes(body[a:b], order) for a, b in ((2, 4),
                                                                                   (4, 8)))
                    frame, bits = (int.from_bytes(body[a:b], order) for a, b in ((12, 14),
                                                                                 (14, 16)))
                    if channels == 0 or frame == 0 or rate == 0:
                        raise WavError(f"{path}: damaged: its fmt chunk says {channels} "
                                       f"channels, {frame}-byte frames at {rate} Hz")
                    fmt = (rate, channels, bits, frame)
                at += 8 + length + (length & 1)
            else:
                raise WavError(f"{path}: damaged: more than {MAX_CHUNKS} chunks")
    except OSError as exc:
        raise WavError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    if fmt is None or data is None:
        raise WavError(f"{path}: not a WAV file with samples (no "
                       f"{'data' if fmt is not None else 'fmt'} chunk)")
    rate, channels, bits, frame = fmt
    return WavHeader(rate, channels, bits, data // frame)


def read_wav(path: Path, max_bytes: int) -> Wav:
    """``path``'s samples; WavError (one line) for anything not a readable WAV file of at most
    ``max_bytes`` (checked on the file's size before it is read)."""
    size = _regular(path)
    if size > max_bytes:
        raise WavError(f"{path}: the file is larger than {max_bytes >> 20} MiB")
    header = read_header(path)
    from scipy.io import wavfile

    try:
        with warnings.catch_warnings():  # chunks it skips (LIST, cue): not the user's problem
            warnings.simplefilter("ignore", wavfile.WavFileWarning)
            rate, data = wavfile.read(path)
    # the header walk refuses what makes scipy allocate or misread; what remains (a format it
    # does not read: A-law, ADPCM, 12-bit) raises ValueError and others
    except Exception as exc:
        what = " ".join(str(exc).split()) or type(exc).__name__
        raise WavError(f"{path}: not a WAV file scipy reads ({what[:160]})") from None
    if data.size == 0:
        raise WavError(f"{path}: a WAV file without samples")
    samples = data if data.ndim == 2 else data.reshape(-1, 1)
    if (len(samples), samples.shape[1], int(rate)) != (header.frames, header.channels,
                                                       header.rate):
        # two data chunks (scipy reads the last), a frame size that is not the samples', a fmt
        # chunk after the data: which is meant cannot be told
        raise WavError(f"{path}: damaged: its header says {header.frames:,} frames of "
                       f"{header.channels} channel(s) at {header.rate} Hz, its samples read as "
                       f"{len(samples):,} of {samples.shape[1]} at {int(rate)} Hz")
    samples = samples.astype(samples.dtype.newbyteorder("="), copy=False)  # RIFX's big-endian
    width = header.width if header.width == 3 and samples.dtype == np.int32 else (
        samples.dtype.itemsize)
    if width == 3:
        samples = samples >> 8  # 24-bit values, scipy's left-justified int32 shifted back
    return Wav(int(rate), samples, width)
