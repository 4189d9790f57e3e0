"""Model inputs from files, without labels (``ebnn eval --input``, ``ebnn-sim verify --input``).

Each file is read as ``ebnn-sim run --input`` reads it (``sim.inputs``: ``.png``, ``.wav``,
``.npy``, ``.csv`` or raw bytes, one or more whole inputs), with the model's own input format:
checked against its shape (a WAV clip against its sample format and rate too) and quantised as
its data, so the bytes are those the data set's samples would be.
"""

import math
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ebnn.artifact import Artifact


class InputFilesError(Exception):
    """An input file or folder that cannot be read as the model's inputs; ``str()`` is one
    line for the user."""


# What a folder's files must end in to be read as inputs (``sim.inputs``: images as the
# training folders' are read, raw bytes for the last two); anything else in a folder (a README,
# Thumbs.db) is skipped and reported.
INPUT_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".pgm",
                  ".ppm", ".wav", ".npy", ".csv", ".bin", ".raw")


@dataclass
class InputFiles:
    """Inputs read from files: no labels, only the model's inputs."""

    images: np.ndarray  # uint8, (N, *input shape), quantised as the model's data would be
    sources: list[tuple[Path, int]]  # per input: the file it came from, its index in that file
    files: int
    skipped: list[Path]  # files in the folders that are not inputs by their suffix
    # files whose values lie far beyond the model's input scale (sim.inputs.far_beyond)
    warnings: list[str] = field(default_factory=list)


def display(path: Path) -> str:
    """``path`` for text and JSON: a name that is not UTF-8 with its bytes as \\xNN escapes
    (strict JSON parsers refuse the lone surrogates Python keeps them as)."""
    return str(path).encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def skipped_note(skipped: list[Path]) -> str:
    """The line saying which files of the folders were not read."""
    names = ", ".join(display(p) for p in skipped[:3]) + (", ..." if len(skipped) > 3 else "")
    return (f"note: {len(skipped):,} file{'s' if len(skipped) != 1 else ''} skipped: not "
            f"inputs by their suffix ({names}); inputs end in {', '.join(INPUT_SUFFIXES)}")


def is_inside(path: Path, folder: Path) -> bool:
    """Whether ``path``, every symbolic link followed, lies inside ``folder`` (or is it)."""
    inner, outer = os.path.realpath(path), os.path.realpath(folder)
    return os.path.commonpath([inner, outer]) == outer


def _walk_error(exc: OSError) -> None:
    raise InputFilesError(f"{exc.filename}: cannot list it ({exc.strerror or exc})")


def input_file_paths(paths: list[Path]) -> tuple[list[Path], list[Path]]:
    """``paths`` with every folder replaced by the input files in it and its sub-folders, in
    name order over the tree (hidden files and folders skipped, symbolic links to folders not
    followed), and the files skipped there for their suffix (not INPUT_SUFFIXES).
    InputFilesError for a folder without inputs or that cannot be listed, a file in a folder
    that is not a regular file (a FIFO there would block for ever; one named is read as a
    pipe) or is a symbolic link leading out of the folder (a folder from elsewhere must not
    read the user's other files), or more than MAX_FILES files in all (a folder named by
    mistake)."""
    from ebnn.datafiles import MAX_FILES

    found: list[Path] = []
    skipped: list[Path] = []
    for path in paths:
        if not path.is_dir():
            found.append(path)
            continue
        inside: list[Path] = []
        for root, dirs, names in os.walk(path, onerror=_walk_error):
            dirs[:] = [d for d in dirs if not d.startswith(".")]
            for name in names:
                if name.startswith("."):
                    continue
                (inside if name.lower().endswith(INPUT_SUFFIXES) else skipped).append(
                    Path(root) / name)
            if len(found) + len(inside) + len(skipped) > MAX_FILES:
                raise InputFilesError(f"{display(path)}: more than {MAX_FILES:,} files")
        if not inside:
            raise InputFilesError(f"{display(path)}: a folder without input files (images: "
                                  ".png, .jpg, ...; .wav, .npy, .csv, .bin, .raw)")
        inside.sort(key=lambda p: p.relative_to(path).parts)
        found += inside
        for file in inside:  # named by the user, a pipe is an input; found, it may hang
            if file.is_symlink() and not is_inside(file, path):
                raise InputFilesError(f"{display(file)}: a symbolic link to a file outside "
                                      f"{display(path)} (a folder's inputs are read only "
                                      "from inside it: name such a file itself)")
            if not file.is_file():
                raise InputFilesError(f"{display(file)}: not a regular file (a FIFO or a "
                                      "device in a folder could be read for ever)")
    return found, sorted(skipped)


# what the inputs of `ebnn eval --input` and `ebnn-sim verify --input` may take in all: each
# byte is held once, and each input costs about 100 bytes more for the file it came from
MAX_INPUTS_BYTES = 256 << 20
MAX_INPUTS = 1 << 20


def _check_room(path: Path, size: int, count: int) -> None:
    """InputFilesError when the inputs so far (with ``path``'s) are over the limits."""
    if size > MAX_INPUTS_BYTES or count > MAX_INPUTS:
        raise InputFilesError(
            f"{display(path)}: the inputs so far are more than "
            + (f"{MAX_INPUTS_BYTES >> 20} MiB" if size > MAX_INPUTS_BYTES
               else f"{MAX_INPUTS:,} inputs") + "; give fewer at a time")


def load_input_files(art: Artifact, paths: list[Path], limit: int | None = None,
                     reader: str = "this firmware") -> InputFiles:
    """The inputs in ``paths`` (files, or folders of them) as ``ebnn-sim run --input`` gives
    them to this model's firmware: each file one or more whole inputs, quantised as the
    model's data (``sim.inputs``, from the model's own input format); the first ``limit`` of
    them. InputFilesError (one line) for a file that is not; ``reader`` names what reads
    them in it."""
    from ebnn.build import input_metadata
    from sim.inputs import InputError, InputFormat, console_bytes

    try:
        fmt = InputFormat.from_metadata(input_metadata(art))
    except InputError as exc:
        raise InputFilesError(f"the model's input: {exc}") from None
    assert fmt is not None
    fmt = replace(fmt, reader=reader)
    held = bytearray()  # every input once: a list of arrays joined at the end took it twice
    sources: list[tuple[Path, int]] = []
    one = math.prod(art.input_shape)
    files, skipped = input_file_paths(paths)
    notes: list[str] = []
    for path in files:
        if limit is not None and len(sources) >= limit:
            break
        try:
            data = console_bytes(path, fmt, notes)
        except InputError as exc:
            raise InputFilesError(str(exc)) from None
        except OSError as exc:
            raise InputFilesError(f"{path}: {exc.strerror or exc}") from None
        _check_room(path, len(held) + len(data), len(sources) + len(data) // one)
        held += data
        sources += [(path, k) for k in range(len(data) // one)]
        del data
    images = np.frombuffer(held, np.uint8).reshape(-1, *art.input_shape)
    if limit is not None:
        images, sources = images[:limit], sources[:limit]
    return InputFiles(images, sources, len({p for p, _ in sources}), skipped,
                      [f"warning: {note}" for note in notes])
