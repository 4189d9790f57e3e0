"""Model inputs from files, without labels (``ebnn eval --input``, ``ebnn-sim verify --input``).

Each file is read as ``ebnn-sim run --input`` reads it (``sim.inputs``: ``.png``, ``.wav``,
``.npy``, ``.csv`` or raw bytes, one or more whole inputs), with the model's own input format:
checked against its shape (a WAV clip against its sample format and rate too) and quantised as
its data, so the bytes are those the data set's samples would be.
"""

import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ebnn.artifact import Artifact


class InputFilesError(Exception):
    """An input file or folder that cannot be read as the model's inputs; ``str()`` is one
    line for the user."""


@dataclass
class InputFiles:
    """Inputs read from files: no labels, only the model's inputs."""

    images: np.ndarray  # uint8, (N, *input shape), quantised as the model's data would be
    sources: list[tuple[Path, int]]  # per input: the file it came from, its index in that file
    files: int


def input_file_paths(paths: list[Path]) -> list[Path]:
    """``paths`` with every folder replaced by the files in it and its sub-folders, by name
    (hidden files and folders skipped, symbolic links to folders not followed); InputFilesError
    for a folder without any, or for more than MAX_FILES in all (a folder named by mistake)."""
    from ebnn.datafiles import MAX_FILES

    found: list[Path] = []
    for path in paths:
        if not path.is_dir():
            found.append(path)
            continue
        inside: list[Path] = []
        for root, dirs, names in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            inside += [Path(root) / n for n in sorted(names) if not n.startswith(".")]
            if len(found) + len(inside) > MAX_FILES:
                raise InputFilesError(f"{path}: more than {MAX_FILES:,} files")
        if not inside:
            raise InputFilesError(f"{path}: a folder without input files")
        found += inside
    return found


def load_input_files(art: Artifact, paths: list[Path], limit: int | None = None,
                     reader: str = "this firmware") -> InputFiles:
    """The inputs in ``paths`` (files, or folders of them) as ``ebnn-sim run --input`` gives
    them to this model's firmware: each file one or more whole inputs, quantised as the
    model's data (``sim.inputs``, from the model's own input format); the first ``limit`` of
    them. InputFilesError (one line) for a file that is not; ``reader`` names what reads
    them in it."""
    from ebnn.build import input_metadata
    from ebnn.data import MAX_DATA_BYTES
    from sim.inputs import InputError, InputFormat, console_bytes

    try:
        fmt = InputFormat.from_metadata(input_metadata(art))
    except InputError as exc:
        raise InputFilesError(f"the model's input: {exc}") from None
    assert fmt is not None
    fmt = replace(fmt, reader=reader)
    chunks: list[np.ndarray] = []
    sources: list[tuple[Path, int]] = []
    size = 0
    files = input_file_paths(paths)
    for path in files:
        if limit is not None and len(sources) >= limit:
            break
        try:
            data = console_bytes(path, fmt)
        except InputError as exc:
            raise InputFilesError(str(exc)) from None
        except OSError as exc:
            raise InputFilesError(f"{path}: {exc.strerror or exc}") from None
        size += len(data)
        if size > MAX_DATA_BYTES:
            raise InputFilesError(f"{path}: the inputs so far are more than "
                                  f"{MAX_DATA_BYTES >> 20} MiB; give fewer at a time")
        arr = np.frombuffer(data, np.uint8).reshape(-1, *art.input_shape)
        chunks.append(arr)
        sources += [(path, k) for k in range(len(arr))]
    images = np.concatenate(chunks)
    if limit is not None:
        images, sources = images[:limit], sources[:limit]
    return InputFiles(images, sources, len({p for p, _ in sources}))
