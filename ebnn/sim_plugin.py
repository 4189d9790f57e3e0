"""The ``ebnn`` plugin of ``ebnn-sim`` (entry point ``ebnn_sim.plugins``, see sim/plugins.py):
where the model world meets the firmware world.

- ``ebnn-sim verify``: the firmware against the model it was built from, bit for bit
  (``--native``: also the model's C library compiled for the host);
- function groups for ``ebnn-sim profile``: in firmware built by ``ebnn build`` (it has
  ``ebnn_infer``), each hidden layer is a function ``ebnn_layer<N>`` and the output layer is
  ``ebnn_output_layer``, so their inclusive counts are the layers' costs.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.markup import escape

from ebnn.data_options import input_files_option
from sim import cli
from sim.counts import CountParam
from sim.elf import InvalidFirmware
from sim.formats.json import write_json
from sim.output_guard import GuardedCommand
from sim.plugins import Plugin
from sim.runner import (
    MAX_INSTRUCTIONS,
    MAX_TIMEOUT,
    MIN_TIMEOUT,
    ImageError,
    resolve_target,
)
from toolchain.profiles import TARGETS

if TYPE_CHECKING:
    import numpy as np

    from ebnn.artifact import Artifact
    from sim.elf import FirmwareImage
    from sim.profile import FunctionGroups

_LAYER = re.compile(r"ebnn_layer(\d+)$")
# a streaming build's functions of a layer (GCC's clones too): layer 0's rows, a later conv's
# rows from its ring, the output layer's count of bits as they come
_STREAM_LAYER = re.compile(r"ebnn_(?:stream_rows(0)|layer(\d+)_stream_rows)(?:\.[\w.]+)?$")
_STREAM_COUNT = re.compile(r"ebnn_stream_count(?:\.[\w.]+)?$")
OUTPUT_LAYER = "ebnn_output_layer"
MAX_JOBS = 64  # verify -j: emulator processes at most (docs/security.md)


def layer_of(function: str) -> tuple[str, int | None] | None:
    """``ebnn_layerN`` -> (its name, N); the output layer -> (its name, None): listed last.
    A streaming build's rows functions are their layer's (``ebnn_stream_rows0`` layer 0,
    ``ebnn_layerN_stream_rows`` layer N), its output count the output layer's; the stream's
    own bookkeeping (rings, ``ebnn_stream_row``) belongs to none."""
    m = _LAYER.match(function)
    if m:
        return function, int(m.group(1))
    m = _STREAM_LAYER.match(function)
    if m:
        n = int(m.group(1) or m.group(2))
        return f"ebnn_layer{n}", n
    if function == OUTPUT_LAYER or _STREAM_COUNT.match(function):
        return OUTPUT_LAYER, None
    return None


def layer_groups(image: FirmwareImage) -> FunctionGroups | None:
    """The layers of an eBNN firmware (whole-input or streaming); None for any other image."""
    from ebnn.verify import INFER_SYMBOL, STREAM_SYMBOL

    ebnn = INFER_SYMBOL in image.symbols or STREAM_SYMBOL in image.symbols
    return layer_of if ebnn else None


def check_model_input(image: FirmwareImage, art: Artifact, elf: Path, model: Path) -> None:
    """VerifyError when the ELF's recorded input is not the model's (another model's firmware):
    it would fail at its first image with no more than an exit status."""
    from ebnn.verify import VerifyError

    shape = image.metadata.get("input.shape")
    ours = ",".join(map(str, art.input_dims()))
    if shape is not None and shape != ours:
        raise VerifyError(f"{elf} reads inputs of shape [{shape.replace(',', ', ')}], the model "
                          f"{model} takes [{ours.replace(',', ', ')}]: not its firmware")


@click.command("verify", cls=GuardedCommand)
@click.argument("elf", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--model", "model_path", type=click.Path(path_type=Path, dir_okay=False),
              required=True, help="The .ebnn artifact the firmware was built from.")
@click.option("--dataset",
              type=click.Choice(["mnist", "fashion-mnist", "digits", "mnist1d", "basicmotions"]),
              default=None, help="Images to verify on (default: the artifact's data set).")
@click.option("--data", type=click.Path(path_type=Path), default=None, metavar="PATH",
              help="Data from a path: .npz, .csv, a folder of images or WAV clips in class "
                   "sub-folders, or of IDX files (docs/data.md).")
@click.option("--data-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Directory of IDX files (e.g. the official MNIST test set).")
@click.option("--split", type=click.Choice(["train", "val", "test", "validation", "all"]),
              default=None,
              help="Default: test where the data has one; a --data file without one is used "
                   "whole (all); else the validation split held out in training (val).")
@input_files_option("Verify on these files instead of a data set, without an accuracy")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="First N images only.")
@click.option("--jobs", "-j", type=click.IntRange(min=1, max=MAX_JOBS), default=1,
              show_default=True,
              help=f"Emulator processes to spread the images over (at most {MAX_JOBS}).")
@click.option("--target", "-t", type=click.Choice(list(TARGETS)), default=None,
              help="Target profile (default: recorded in the ELF).")
@click.option("--max-instructions", type=CountParam(1, MAX_INSTRUCTIONS),
              default=None, metavar="N",
              help="Stop (exit 5) when the firmware runs more than N instructions per image "
                   "on average (a firmware that never answers): each job's session may run N "
                   "times its images plus one (start-up), so one slow image may use others' "
                   "share.")
@click.option("--timeout", type=click.FloatRange(min=MIN_TIMEOUT, max=MAX_TIMEOUT), default=None,
              metavar="SECONDS",
              help=f"Stop (exit 5) after this many seconds of wall time per emulator process "
                   f"({MIN_TIMEOUT:g} to {MAX_TIMEOUT:g}).")
@click.option("--native", is_flag=True,
              help="Also build the model's C library (what `ebnn export-c` ships) with the "
                   "host's C compiler and run the same images natively: a fast second check "
                   "of the C on another CPU and compiler.")
@click.option("--cc", default="cc", show_default=True, envvar="CC",
              help="The host C compiler for --native (or $CC).")
@click.option("--json", "json_path", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="Write the result as JSON.")
def verify_cmd(elf: Path, model_path: Path, dataset: str | None, data: Path | None,
               data_dir: Path | None, split: str | None, inputs: tuple[Path, ...],
               limit: int | None, jobs: int,
               target: str | None, max_instructions: int | None, timeout: float | None,
               native: bool, cc: str, json_path: Path | None) -> None:
    """Check that an eBNN firmware computes exactly what its model computes.

    Every image goes through the firmware (in one emulator session per job) and through the
    artifact's integer reference; every score and the class must agree bit for bit. The
    images are a data set's (its test split by default), or files of inputs without labels
    (--input: recordings from the device, say). With --native the same images also go
    through the model's C built for this machine. Exit 0
    when all agree, 1 on any mismatch, 2 on bad input, 5 when the firmware ran past
    --max-instructions or --timeout, 130 on Ctrl-C or SIGTERM (the images answered until
    then are still compared and reported).
    """
    # The model world is imported only when a verification runs.
    from ebnn.artifact import ArtifactError, load, model_digest
    from ebnn.data import DatasetError
    from ebnn.evaluate import (
        EvalError,
        data_warnings,
        eval_dataset,
        eval_inputs,
    )
    from ebnn.input_files import (
        InputFiles,
        InputFilesError,
        display,
        load_input_files,
        skipped_note,
    )
    from ebnn.library import LibraryError, host_compiler
    from ebnn.verify import (
        Limits,
        NativeResult,
        VerifyError,
        VerifyInterrupted,
        VerifyLimit,
        load_firmware,
        verify,
        verify_native,
    )
    from sim.progress import ProgressLine

    if inputs and (dataset or data or data_dir or split):
        cli.fail("--input verifies files instead of a data set: give it without --dataset, "
                 "--data, --data-dir and --split")
    bar: ProgressLine | None = None
    total, interrupted = 0, False
    files: InputFiles | None = None
    try:
        art = load(model_path)
        # a bad ELF, another model's or a --target contradicting the one it was built for
        # fails here, before the inputs are read and the progress bar starts
        image = load_firmware(elf)
        resolve_target(image, target)
        check_model_input(image, art, elf, model_path)
        labels: np.ndarray | None
        if inputs:
            files = load_input_files(art, list(inputs), limit)
            if files.skipped:
                cli.err.print(skipped_note(files.skipped), markup=False, soft_wrap=True)
            for warning in files.warnings:
                cli.err.print(warning, markup=False, soft_wrap=True)
            images, labels = files.images, None
            where = f"{files.files:,} input file{'s' if files.files != 1 else ''}, no labels"
        else:
            ds, split_name = eval_dataset(art, dataset, data_dir, split, data)
            images, labels = eval_inputs(art, ds.images[:limit], ds.source), ds.labels[:limit]
            where = f"{ds.name}, {split_name}"
            for warning in data_warnings(art, ds, split_name, limit):
                cli.err.print(warning, markup=False, soft_wrap=True)
        total = len(images)
        compiler = host_compiler(cc) if native else None  # so does a missing compiler
        # transient: the summary below replaces the bar, and an error is left on its own line
        with ProgressLine(cli.err, "verifying", total, transient=True) as bar:
            result = verify(art, elf, images, labels, target=target, jobs=jobs,
                            progress=lambda n: bar.update(advance=n) if bar is not None else None,
                            limits=Limits(timeout, max_instructions))
        native_result: NativeResult | None = (
            verify_native(art, images, compiler) if compiler else None)
    except VerifyLimit as exc:  # the firmware never answered within the limits: as `run`, 5
        cli.err.print(f"error: {exc}", markup=False, soft_wrap=True)
        sys.exit(5)
    except (ArtifactError, DatasetError, EvalError, VerifyError, InvalidFirmware, ImageError,
            LibraryError, InputFilesError) as exc:
        cli.fail(str(exc))
    except KeyboardInterrupt as exc:  # VerifyInterrupted too
        # Ctrl-C or SIGTERM: the emulator (or the worker processes) stopped; what the firmware
        # answered until then is compared, and reported as a finished run's is (one line)
        partial = exc.result if isinstance(exc, VerifyInterrupted) else None
        done = bar.completed if bar is not None else 0
        if partial is None:
            cli.err.print(f"interrupted: {done:,} of {total:,} images run, none compared",
                          markup=False)
            if json_path is not None:
                write_json(json_path, {"compared": 0, "status": "interrupted",
                                       "images": total, "run": done})
            sys.exit(130)
        result, interrupted = partial, True
    if result.first_mismatch and files is not None:  # which file, and which of its inputs
        path, k = files.sources[result.first_mismatch["image"]]
        result.first_mismatch.update(file=display(path), file_index=k)
    report = result.to_dict()
    recorded, ours = image.metadata.get("model.digest"), model_digest(art)
    report["model_digest"] = {"model": ours, "elf": recorded}
    if interrupted:
        run = max(bar.completed if bar is not None else 0, result.compared)
        m = result.first_mismatch
        first = ("" if m is None else f", the first at image {m['image']}"
                 + (f" ({m['file']}, input {m['file_index']})" if "file" in m else ""))
        accuracy = ("" if result.accuracy is None
                    else f"; firmware accuracy {100 * result.accuracy:.2f}%")
        cli.err.print(f"interrupted: {run:,} of {total:,} images run; {result.mismatches:,} "
                      f"mismatches in the {result.compared:,} compared{first}{accuracy}",
                      markup=False, soft_wrap=True)
        if json_path is not None:
            write_json(json_path, {**report, "status": "interrupted", "images": total,
                                   "run": run})
        sys.exit(130)
    err = cli.err
    style = "green" if result.mismatches == 0 else "red"
    samples = ("sequence" if art.sequence else "image") + ("" if result.compared == 1 else "s")
    accuracy = ("" if result.accuracy is None
                else f"; firmware accuracy {100 * result.accuracy:.2f}%")
    err.print(f"[bold {style}]{result.mismatches} mismatches[/] in {result.compared} {samples} "
              f"({escape(where)}){accuracy}")
    for key in ("instructions", "cycles"):
        st = report[key]
        err.print(f"{key} per inference: min {st['min']:,}  median {st['median']:,.0f}  "
                  f"max {st['max']:,}")
    if result.first_mismatch:
        m = result.first_mismatch
        err.print(f"first mismatch: image {m['image']}"
                  + (f" ({m['file']}, input {m['file_index']})" if "file" in m else "")
                  + f", score {m['score_index']}: firmware "
                  f"{m['firmware']} != reference {m['reference']}; first differing bit: "
                  f"{m.get('where', 'unknown')}", markup=False, soft_wrap=True)
    if result.mismatches and recorded is not None and recorded != ours:
        err.print(f"note: {elf} was built from another model than {model_path} (model digest "
                  f"{recorded[:16]} in the ELF, {ours[:16]} for the model): rebuild it with "
                  "ebnn build, or give the model it was built from", markup=False,
                  soft_wrap=True)
    mismatches = result.mismatches
    if native_result is not None:
        report["native"] = native_result.to_dict()
        mismatches += native_result.mismatches
        style = "green" if native_result.mismatches == 0 else "red"
        first = (f"; first at image {native_result.mismatch_indices[0]}"
                 if native_result.mismatches else "")
        if files is not None and native_result.mismatches:
            path, k = files.sources[native_result.mismatch_indices[0]]
            first += f" ({escape(display(path))}, input {k})"
        err.print(f"native ({escape(native_result.compiler)}): [bold {style}]"
                  f"{native_result.mismatches} mismatches[/] in {native_result.compared} {samples}"
                  f"{first}")
    if json_path is not None:
        write_json(json_path, report)
    sys.exit(0 if mismatches == 0 else 1)


plugin = Plugin(commands=(verify_cmd,), function_groups=layer_groups)
