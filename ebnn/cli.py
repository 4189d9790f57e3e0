"""``ebnn``: train, export, evaluate and build embedded binarized neural networks.

    ebnn train examples/mnist/mnist.toml -o out/mnist.pt
    ebnn export out/mnist.pt -o out/mnist.ebnn
    ebnn eval out/mnist.ebnn --pt out/mnist.pt
    ebnn build out/mnist.ebnn --target curie -o out/mnist.elf
    ebnn-sim run out/mnist.elf --sram 2k
    ebnn export-c out/mnist.ebnn -o out/mnist-lib --layout cmake
"""

import json
import math
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click
from rich.markup import escape
from rich.table import Table

from ebnn.data_options import (
    FolderPath,
    data_dir_option,
    data_option,
    dataset_option,
    input_files_option,
)
from ebnn.search.command import search_cmd
from sim.output_guard import GuardedGroup, PipeConsole
from toolchain.profiles import DEFAULT_TARGET, TARGETS
from toolchain.sizes import SIZE, format_size

if TYPE_CHECKING:
    from ebnn.artifact import Artifact

err = PipeConsole(stderr=True, highlight=False, soft_wrap=True)  # (a path is never split)


def _fail(message: str) -> NoReturn:
    err.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)
    sys.exit(2)


def _os_error(path: Path, exc: OSError) -> str:
    """One line for a file the command could not write."""
    where = exc.filename if exc.filename is not None else path
    return f"{where}: cannot write ({exc.strerror or exc})"


def _make_parent(output: Path) -> None:
    """Create the folder ``output`` goes to, or fail with one line."""
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        _fail(f"{output}: cannot create its folder ({exc.strerror or exc})")



@click.group(cls=GuardedGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="ebnn-sim")
def main() -> None:
    """Embedded binarized neural networks: train in PyTorch, export integer-exact, build
    Cortex-M firmware that computes exactly what the model computes.

    \b
    ebnn train CONFIG.toml -o MODEL.pt        train (progress, checkpoints, --resume)
    ebnn export MODEL.pt -o MODEL.ebnn        fold BN+sign into integer thresholds
    ebnn eval MODEL.ebnn [--pt MODEL.pt]      accuracy of the integer reference
    ebnn build MODEL.ebnn -o MODEL.elf        generate C and build firmware
    ebnn export-c MODEL.ebnn -o DIR           the model as a C library for your firmware
    ebnn summary MODEL.ebnn|CONFIG.toml       per layer: shape, weights, operations, memory
    ebnn datasets                             the built-in data sets
    ebnn search SPACE.toml --sram 2k -o DIR   find the models that fit a device
    """


def _train_outputs(params: Mapping[str, Any]) -> dict[str, Path]:
    out = params["output"]
    return {"the checkpoint": out.with_name(out.name + ".ckpt"),
            "the curves": out.with_suffix(".png")}


@main.command("train", derived=_train_outputs)
@click.argument("config", type=click.Path(path_type=Path, dir_okay=False))
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="Model checkpoint to write (MODEL.pt); MODEL.pt.ckpt and MODEL.png beside it.")
@dataset_option
@data_option
@data_dir_option
@click.option("--epochs", type=click.IntRange(min=1, max=10_000), default=None,
              help="Override the config's [train] epochs.")
@click.option("--train-images", type=click.IntRange(min=1), default=None, metavar="N",
              help="Train on N images of the training part only, every class in "
                   "proportion (a quick trial of a config; the validation split stays whole).")
@click.option("--resume", is_flag=True,
              help="Continue from MODEL.pt.ckpt, written after every epoch.")
def train_cmd(config: Path, output: Path, dataset: str | None, data: Path | None,
              data_dir: Path | None, epochs: int | None, train_images: int | None,
              resume: bool) -> None:
    """Train the eBNN described by CONFIG (TOML) on the training split.

    A validation split ([train] val_fraction) is held out, stratified and fixed by the seed.
    Training is deterministic for a seed on one machine (another CPU rounds differently, and
    the weights come out different); a PNG of the train/validation curves is written
    beside the model. Float data is quantised to 8 bits per channel, with a scale and zero
    point fitted on the training split and stored in the model.
    """
    from dataclasses import replace

    import numpy as np

    from ebnn.config import ConfigError, load_config
    from ebnn.data import DatasetError, split_train_val, training_extra
    from ebnn.datafiles import load_source
    from ebnn.quantize import QuantError, collapsed_positions, fit

    extra: dict[str, object] = {}
    try:
        spec = load_config(config)
        ds = load_source(dataset, data, data_dir, "train").fit_to(spec.input, f"{config}")
        if data is not None:
            _check_test_split(data, spec.input, spec.classes, f"{config}")
        present = np.unique(ds.labels)
        if len(present) < 2:
            _fail(f"{ds.source}: every sample is of one class; a classifier needs two or more")
        if ds.class_names is None and ds.classes < spec.classes:
            # numbered from the labels it holds: the top classes without samples are a gap in
            # the labels as one in the middle is (warned of below), not fewer classes
            ds = replace(ds, classes=spec.classes)
        if ds.classes != spec.classes:
            # labels 1..K (numbered from 1) read as K + 1 classes of which 0 is empty
            from_one = (ds.class_names is None and ds.classes == spec.classes + 1
                        and int(present[0]) == 1)
            absent = [n for i, n in enumerate(ds.class_names or ()) if i not in set(
                present.tolist())]  # a class only the test split has counts too
            counts = np.bincount(ds.labels, minlength=ds.classes)
            # more classes than the model's: a misspelt name may be one of them
            named = ("" if ds.class_names is None or absent else " (" + ", ".join(
                f"{n} ({c:,})" for n, c in zip(ds.class_names, counts, strict=False))[:300]
                + (": a misspelt name is a class of its own)" if ds.classes > spec.classes
                   else ")"))
            _fail(f"{config}: the model has {spec.classes} classes; {ds.name} has "
                  f"{ds.classes}" + named
                  + (f" (its labels run 1..{spec.classes}: number them from 0)"
                     if from_one else "")
                  + (f" ({', '.join(absent)[:200]} without training samples: a class only its "
                     "test split has counts too)" if absent else "")
                  + ("" if data_dir is None else f" (--data-dir reads {ds.name}'s own IDX "
                     "files; IDX files of your own task: --data DIR)"))
        empty = sorted(set(range(ds.classes)) - set(present.tolist()))
        if empty:  # an empty class folder, a gap in the labels: the model never learns them
            names = ds.class_names or ()
            shown = ", ".join(names[c] if c < len(names) else str(c) for c in empty[:20])
            verb = "has" if len(empty) == 1 else "have"
            err.print(f"warning: {len(empty)} of the {ds.classes} classes {verb} no samples "
                      f"({shown}{', ...' if len(empty) > 20 else ''})", markup=False,
                      soft_wrap=True)
        train_set, val_set = split_train_val(ds, spec.train.val_fraction, spec.train.seed)
        pool = len(train_set)
        train_set = train_set.sample(train_images)
        if ds.images.dtype != np.uint8:
            quant = fit(train_set.images)
            extra["input_quant"] = quant.to_dict()
            quantised = quant.apply(train_set.images)
            lost, positions = collapsed_positions(train_set.images, quantised)
            if lost:  # one scale per channel (the last axis): small features next to large
                err.print(f"warning: {lost} of the input's {positions} values become one "
                          "constant byte in 8 bits though they vary: they share a channel's "
                          "scale with values of a far larger range (tabular features: input = "
                          "[1, 1, F] gives each its own scale; or standardise them: "
                          "docs/data.md)",
                          markup=False, soft_wrap=True)
            train_set = replace(train_set, images=quantised)
            val_set = replace(val_set, images=quant.apply(val_set.images))
        if data is not None:
            extra["data_path"] = str(data.resolve())
        extra.update(training_extra(ds))
    except (ConfigError, DatasetError, QuantError) as exc:
        _fail(str(exc))
    from ebnn.train import TrainError, plot_history, train  # torch: once the config is good

    ckpt = output.with_name(output.name + ".ckpt")
    if resume and not ckpt.is_file():
        _fail(f"--resume: no checkpoint {ckpt} to resume from")
    if not resume and ckpt.is_file():  # an interrupted run's epochs, about to be replaced
        err.print(f"warning: {ckpt} (an earlier run's last finished epoch) will be replaced "
                  "when this run's first epoch ends: it starts again from epoch 1; --resume "
                  "goes on from it instead",
                  markup=False, soft_wrap=True)
    _make_parent(output)
    first = ("" if not train_images else
             f" (--train-images {train_images}: all {pool} there are)" if train_images >= pool
             else f" (--train-images: {train_images} of them, every class in proportion)")
    samples = "sequences" if spec.layers[0].type == "conv1d" else "images"
    err.print(f"training {spec.name} on {len(train_set)} {samples} of {ds.source}{first}; "
              f"{len(val_set)} held out for validation")
    failure: TrainError | None = None
    interrupted = False
    from sim.progress import ProgressLine  # here: importing sim costs `ebnn --help` 0.3 s

    with ProgressLine(err, "training") as progress:

        def update(step: int, total: int, text: str) -> None:
            progress.update(step, total=total, description=text)

        try:
            _, history = train(spec, train_set, val_set, output, epochs=epochs, resume=resume,
                               progress=update, extra=extra)
        except TrainError as exc:
            failure = exc
        except OSError as exc:  # a checkpoint that cannot be written
            failure = TrainError(_os_error(output, exc))
        except KeyboardInterrupt:  # Ctrl-C: the checkpoint of the last whole epoch stays
            interrupted = True
    if interrupted:
        kept = (f"{ckpt} holds the last finished epoch: continue with --resume"
                if ckpt.is_file() else "no epoch finished, nothing was kept")
        err.print(f"interrupted: {kept}", markup=False, soft_wrap=True)
        sys.exit(130)
    if failure is not None:
        _fail(str(failure))
    plot = output.with_suffix(".png")
    try:
        plot_history(history, plot,
                     spec.name if spec.name == ds.name else f"{spec.name} on {ds.name}")
    except OSError as exc:
        _fail(_os_error(plot, exc))
    acc = history.val_acc[-1]
    said = "no validation split" if np.isnan(acc) else f"validation accuracy {100 * acc:.2f}%"
    err.print(f"wrote {output} ({said}), curves in {plot}")


def _check_test_split(data: Path, shape: tuple[int, ...], classes: int, what: str) -> None:
    """An .npz's own test split (x_test, y_test) that the model being trained cannot score:
    without labels a warning; of another shape, or with labels beyond the model's ``classes``,
    refused, as ``ebnn search`` and a folder's or
    IDX files' splits of two shapes are (training does not read it, but ``eval`` would refuse
    it after the training). (A folder's test split is checked as it loads, from its first
    image.)"""
    from dataclasses import replace

    from ebnn.data import DatasetError
    from ebnn.datafiles import load_path, splits_of, unlabelled_test

    if data.suffix.lower() != ".npz" or "test" not in splits_of(data):
        return
    if unlabelled_test(data):
        err.print(f"warning: {data}: has x_test but not y_test: its test split cannot be "
                  "scored", markup=False, soft_wrap=True)
        return
    try:
        test = load_path(data, "test")
        test = replace(test, name=f"its test split, {test.source},")
        test.fit_to(shape, what)
        if len(test.labels) and int(test.labels.max()) >= classes:
            raise DatasetError(f"{data}: y_test holds labels up to {int(test.labels.max())}; "
                               f"{what}'s model has {classes} classes (0..{classes - 1})")
    except DatasetError as exc:
        _fail(f"{exc} (training does not read it, but eval could not score it)")


@main.command("export")
@click.argument("model", type=click.Path(path_type=Path, dir_okay=False))
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="Artifact to write (MODEL.ebnn).")
def export_cmd(model: Path, output: Path) -> None:
    """Export a trained MODEL.pt as an integer-exact artifact (.ebnn).

    BN + sign become per-channel integer thresholds chosen from torch's own float32 BN on every
    reachable accumulator; the output BN becomes int32 fixed-point scores.
    """
    from ebnn.artifact import ArtifactError, save
    from ebnn.export import ExportError, export_checkpoint
    from ebnn.train import TrainError, load_checkpoint

    try:
        art = export_checkpoint(load_checkpoint(model))
    except (TrainError, ExportError) as exc:
        _fail(str(exc))
    try:
        save(art, output)
    except ArtifactError as exc:
        _fail(str(exc))
    kb = art.weight_bits() / 8 / 1024
    err.print(f"wrote {output}: {len(art.layers)} layers, {art.weight_bits():,} weight bits "
              f"({kb:.2f} KiB)")


@main.command("eval")
@click.argument("artifact", type=click.Path(path_type=Path, dir_okay=False))
@dataset_option
@data_option
@data_dir_option
@click.option("--split", type=click.Choice(["train", "test", "validation", "val", "all"]),
              default=None,
              help="Default: test where the data has one; a --data file without one is used "
                   "whole (all); the bundled MNIST subset: the validation split held out in "
                   "training.")
@click.option("--pt", "torch_model", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="Also report agreement between this torch model and the "
                                 "integer reference.")
@input_files_option("Instead of a data set's accuracy, the reference's class and scores for "
                    "each input in these files, what the firmware must print for them")
@click.option("--save-bytes", "bytes_path", type=click.Path(path_type=Path, dir_okay=False),
              default=None, metavar="FILE",
              help="With --input: also write those inputs as the bytes the model's C reads "
                   "(uint8, quantised as the model's data, one input after another), to give "
                   "your own firmware: `ebnn-sim run YOUR.elf --input FILE` cannot quantise "
                   "float recordings itself (your ELF does not record the model's scale).")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="First N images only.")
@click.option("--json", "json_path", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="Write the results as JSON.")
def eval_cmd(artifact: Path, dataset: str | None, data: Path | None, data_dir: Path | None,
             split: str | None, torch_model: Path | None, inputs: tuple[Path, ...],
             bytes_path: Path | None, limit: int | None, json_path: Path | None) -> None:
    """Accuracy of the integer reference of ARTIFACT on a dataset.

    With --input, the reference's class and scores for each input of those files instead,
    one line each on stdout: what a firmware of this model (yours, built from `ebnn export-c`)
    must print for them; --save-bytes writes those inputs as your firmware reads them.
    """
    from ebnn.artifact import ArtifactError, load
    from ebnn.data import DatasetError
    from ebnn.evaluate import EvalError, evaluate
    from ebnn.input_files import InputFilesError

    if inputs and (dataset or data or data_dir or split or torch_model):
        _fail("--input evaluates files instead of a data set: give it without --dataset, "
              "--data, --data-dir, --split and --pt")
    if bytes_path is not None and not inputs:
        _fail("--save-bytes writes the --input files as bytes: give --input too")
    for folder in (p for p in inputs if p.is_dir()):
        if bytes_path is not None and bytes_path.resolve().is_relative_to(folder.resolve()):
            _fail(f"--save-bytes {bytes_path} lies in the --input folder {folder}, whose files "
                  "are the inputs (read back next time): write it elsewhere")
    try:
        art = load(artifact)
        if inputs:
            _eval_inputs(art, list(inputs), limit, json_path, bytes_path)
            return
        result = evaluate(art, dataset=dataset, data_dir=data_dir, split=split,
                          torch_model=torch_model, limit=limit, data=data)
    except (ArtifactError, DatasetError, EvalError, InputFilesError) as exc:
        _fail(str(exc))
    samples = "sequences" if art.sequence else "images"
    err.print(f"{result['dataset']} ({result['split']}, {result['images']} {samples}): "
              f"reference accuracy {100 * result['accuracy']:.2f}%")
    for warning in result["warnings"]:
        err.print(warning, markup=False, soft_wrap=True)
    if result.get("torch_agreement") is not None:
        err.print(f"torch accuracy {100 * result['torch_accuracy']:.2f}%, identical predictions "
                  f"torch vs reference {100 * result['torch_agreement']:.3f}%")
    if json_path is not None:
        _write_json(json_path, result)


def _eval_inputs(art: "Artifact", paths: list[Path], limit: int | None,
                 json_path: Path | None, bytes_path: Path | None = None) -> None:
    """``eval --input``: the reference's class and scores for each input of ``paths`` (and
    with ``bytes_path`` those inputs written as the bytes the model's C reads)."""
    from ebnn import reference
    from ebnn.input_files import display, load_input_files, skipped_note
    from sim.formats import write_bytes

    files = load_input_files(art, paths, limit, reader="this model")
    if files.skipped:
        err.print(skipped_note(files.skipped), markup=False, soft_wrap=True)
    for warning in files.warnings:
        err.print(warning, markup=False, soft_wrap=True)
    if bytes_path is not None:
        data = files.images.astype("uint8", copy=False).tobytes()
        try:
            write_bytes(bytes_path, data)
        except OSError as exc:
            _fail(_os_error(bytes_path, exc))
        size = data and len(data) // len(files.images)
        err.print(f"wrote {bytes_path}: {len(files.images):,} input"
                  f"{'s' if len(files.images) != 1 else ''} of {size:,} bytes",
                  markup=False, soft_wrap=True)
    ref = reference.run(art, files.images)
    names = art.metadata.get("class_names")
    if not (isinstance(names, list) and len(names) == art.classes):
        names = None
    several = {p for p, k in files.sources if k > 0}  # files of more than one input
    rows = []
    for (path, k), cls, scores in zip(files.sources, ref.classes, ref.scores, strict=True):
        name = f" ({names[cls]})" if names else ""
        click.echo(f"{display(path)}{f' [{k}]' if path in several else ''}: class {int(cls)}"
                   f"{name}  scores: " + " ".join(str(int(v)) for v in scores))
        rows.append({"file": display(path), "index": k, "class": int(cls),
                     **({"name": str(names[cls])} if names else {}),
                     "scores": [int(v) for v in scores]})
    if json_path is not None:
        _write_json(json_path, {"inputs": rows, "images": len(rows), "warnings": files.warnings})


def _write_json(path: Path, value: object) -> None:
    """``value`` as indented JSON in ``path``, whole or not at all; one line when it cannot."""
    from sim.formats import write_bytes

    try:
        write_bytes(path, (json.dumps(value, indent=2) + "\n").encode())
    except OSError as exc:
        _fail(_os_error(path, exc))


@main.command("datasets")
@click.option("--json", "json_path", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="Write the list as JSON.")
def datasets_cmd(json_path: Path | None) -> None:
    """List the built-in data sets: sizes per split, sample shape, classes and source.

    Each is loaded to count it (a few seconds); one that is not installed here says how to get
    it. Any other data: --data PATH (docs/data.md).
    """
    from dataclasses import asdict

    from ebnn.datasets import BUILTINS, describe

    rows = [describe(name) for name in BUILTINS]
    out = PipeConsole(highlight=False)  # wrapped at the terminal's width (80 in a pipe)
    for r in rows:
        if r.problem is not None:
            out.print(f"[bold]{r.name}[/]: {escape(r.description)}; not available: "
                      f"{escape(r.problem)}")
            continue
        kind = "sequences [T, C]" if len(r.shape) == 2 else "images [H, W, C]"
        splits = ", ".join(f"{split} {n:,}" for split, n in r.sizes.items())
        out.print(f"[bold]{r.name}[/]: {escape(r.description)}; {kind} = {list(r.shape)} "
                  f"{r.dtype}, {r.classes} classes; {splits}; source: {escape(r.source)}")
    if json_path is not None:
        _write_json(json_path, [asdict(r) for r in rows])


@main.command("summary")
@click.argument("model", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--target", "-t", type=click.Choice(list(TARGETS)), default=DEFAULT_TARGET,
              show_default=True, help="Target to build and measure the firmware for.")
@click.option("--static", "static_only", is_flag=True,
              help="Only the artifact's figures: no firmware build (no cross toolchain needed).")
@click.option("--json", "json_path", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="Write the summary as JSON.")
@click.option("--stream", is_flag=True,
              help="Measure the streaming firmware (`ebnn build --stream`): each layer's rows "
                   "functions, the stack from each ebnn_stream_row call.")
def summary_cmd(model: Path, target: str, static_only: bool, json_path: Path | None,
                stream: bool) -> None:
    """Per layer: shape, weight bits, operations, flash, SRAM and stack of the firmware.

    MODEL is a .ebnn artifact or a config (.toml: its untrained model, seeded random weights;
    the first layer's code depends on the weights, so a trained model's flash, stack and
    cycles differ by a few percent, either way). The firmware is built for the target as
    `ebnn build` builds it and run once in the simulator: flash is read from the ELF's
    symbols, cycles from the profiler's per-layer groups, stack and SRAM measured
    (docs/data.md).
    """
    from ebnn.summary import summarise

    art = _artifact_or_config(model)
    from toolchain.build import MemoryOverflow, ToolchainError

    try:
        s = summarise(art, None if static_only else target, stream)
    except MemoryOverflow as exc:  # as `ebnn build` says it
        _fail(f"{exc}" + (" (--stream keeps only a few rows of each map)"
                          if "sram" in exc.needed and not stream else ""))
    except ToolchainError as exc:
        _fail(str(exc))
    except RuntimeError as exc:
        _fail(f"{model}: {exc}")
    # the terminal's width (80 in a pipe); headers wrap, numbers and names are never cut
    out = PipeConsole(highlight=False)
    out.print(f"{escape(s.name)}: input {s.input_format}, {s.classes} classes"
              + (f"; {'streaming ' if s.stream else ''}firmware for {s.target}"
                 if s.target else ""))  # wraps at spaces

    def num(v: int | None) -> str:
        return "" if v is None else f"{v:,}"

    rows = [[str(r.index), escape(r.label),  # a conv1d's output is a sequence: T x F
             "x".join(map(str, r.out_shape[1:] if r.kind == "conv1d" else r.out_shape)),
             num(r.weight_bits), num(r.binary_macs), num(r.int8_macs), num(r.flash_code),
             num(r.flash_const), num(r.output_bytes), num(r.stack), num(r.cycles)]
            for r in s.layers]
    rows.append(["", "total", "", num(sum(r.weight_bits for r in s.layers)),
                 num(sum(r.binary_macs for r in s.layers)),
                 num(sum(r.int8_macs for r in s.layers)), "", "", "", num(s.stack_peak),
                 num(s.cycles)])
    headers = ["#", "layer", "output", "weight bits", "binary MACs", "8-bit MACs",
               "flash code", "flash const", "out buffer", "stack", "cycles"]
    table = Table(box=None, padding=(0, 0, 0, 1), pad_edge=False)
    for i, head in enumerate(headers):
        widest = max(len(row[i]) for row in rows)
        if i == 1:  # a long layer label wraps at its spaces, never inside a word (conv1d16)
            widest = max(len(word) for row in rows for word in row[1].split())
        # numbers and header words keep their width; a header wraps at its spaces
        fit = max(widest, *(len(word) for word in head.split()))
        table.add_column(head, justify="left" if i in (1, 2) else "right",
                         min_width=fit, max_width=None if i == 1 else fit, overflow="fold")
    for row in rows:
        table.add_row(*row)
    from sim.formats.text import print_fitted

    print_fitted(out, table)  # wider than the terminal rather than a figure cut
    out.print("total: stack is the whole run's peak, cycles the whole run's (start-up "
              "included)")
    if s.target is not None:
        out.print(f"flash {num(s.flash_total)} B; SRAM peak {num(s.sram_peak)} B = static "
                  f"{num(s.sram_static)} B ("
                  + ", ".join(f"{escape(k)} {v:,}" for k, v in s.buffers.items())
                  + f") + stack peak {num(s.stack_peak)} B")
    if json_path is not None:
        _write_json(json_path, s.to_dict())


def _artifact_or_config(path: Path) -> "Artifact":
    """The artifact at ``path``, or the untrained model of a config (.toml)."""
    from ebnn.artifact import ArtifactError, load

    if path.suffix.lower() != ".toml":
        try:
            return load(path)
        except ArtifactError as exc:
            _fail(str(exc))
    from ebnn.config import ConfigError, load_config

    try:
        spec = load_config(path)
    except ConfigError as exc:
        _fail(str(exc))
    import torch

    from ebnn.export import ExportError, export_model
    from ebnn.model import EBNN

    torch.manual_seed(spec.train.seed)
    try:
        art = export_model(EBNN(spec), metadata={"config_file": str(path)})
    except ExportError as exc:
        _fail(f"{path}: {exc}")
    return art


@main.command("build")
@click.argument("artifact", type=click.Path(path_type=Path, dir_okay=False))
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="ELF to write; the generated C (the library `ebnn export-c --prefix ebnn` "
                   "writes) goes to NAME-src/ beside it.")
@click.option("--target", "-t", type=click.Choice(list(TARGETS)), default=DEFAULT_TARGET,
              show_default=True, help="Target profile (see `ebnn-sim targets`).")
@click.option("--sram", type=SIZE, default=None,
              help="Link for this much SRAM instead of the target's (e.g. 2k), so the stack "
                   "starts at its top and `ebnn-sim run --sram 2k` runs the ELF in exactly that.")
@click.option("--flash", type=SIZE, default=None, help="Link for this much flash.")
@click.option("--stream", is_flag=True,
              help="The streaming harness: each image is fed row by row (a sequence step by "
                   "step), as a sensor delivers it, to ebnn_stream_row (no image buffer, unless "
                   "the first layer's pools overlap: then the build says so).")
@click.option("--no-sample", "no_sample", is_flag=True,
              help="Link no sample input (a long sequence's fills flash: its size is "
                   "INPUT_SIZE bytes); the firmware then needs --input to run.")
@click.option("-O", "opt", type=click.Choice(["0", "1", "2", "3", "s", "z", "g"]), default="2",
              show_default=True,
              help="Optimisation level of the build (-Os as a product ships; the model's C is "
                   "exact at every level: `ebnn-sim verify` checks the ELF you build).")
def build_cmd(artifact: Path, output: Path, target: str, sram: int | None,
              flash: int | None, stream: bool, no_sample: bool, opt: str) -> None:
    """Generate C for ARTIFACT and build firmware for a target.

    The model's C is the library `ebnn export-c` ships (prefix ebnn: ebnn_infer), compiled with
    a harness and the project's start-up code. The firmware reads images from the semihosting
    console and prints all scores and the class; with no input it classifies the sample image
    embedded from the artifact: `ebnn-sim run MODEL.elf` or
    `ebnn-sim run MODEL.elf --input image.png`. The build runs the sample once: a stack that
    does not fit the SRAM is an error (exit 3, as an over-budget run; the ELF is kept).
    """
    from ebnn.artifact import ArtifactError, load
    from ebnn.build import build_firmware, source_dir
    from toolchain.build import MemoryOverflow, ToolchainError, check_memory_sizes

    try:
        check_memory_sizes(sram, flash, whole_kib=True)  # an ELF `ebnn-sim run` can map
        art = load(artifact)
        _make_parent(output)
        result, gen = build_firmware(art, output, target, opt=f"-O{opt}", sram=sram,
                                     flash=flash, stream=stream, sample=not no_sample)
    except MemoryOverflow as exc:
        size = math.prod(art.input_shape)
        sample = (f"; the sample input embedded for runs without input takes {size:,} B of "
                  "it: --no-sample leaves it out" if not no_sample and size >= 1024 else "")
        hint = (f" (`ebnn summary` shows each layer's share; a hidden conv layer's flash is "
                f"about 6x its weight bytes, docs/config.md{sample})"
                if "flash" in exc.needed else "")
        if "sram" in exc.needed and not stream:
            hint += " (--stream keeps only a few rows of each map)"
        _fail(f"{exc}{hint}")
    except (ArtifactError, ToolchainError) as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(_os_error(output, exc))
    warnings = result.target.beyond_part(result.sram, result.flash)
    if stream and gen.stream_whole:
        warnings.append("--stream keeps the whole input of this model (its first layer's "
                        "pools overlap, pool stride < pool; or it is not a conv; or the image is "
                        "one row): no SRAM is saved (docs/deploy.md)")
    overflow = _stack_fit(result.elf, stream) if not no_sample else None
    for warning in warnings:
        err.print(f"warning: {warning}", markup=False)
    err.print(f"built {result.elf} for {target} ({format_size(result.sram)} SRAM); generated C "
              f"in {source_dir(result.elf)}", markup=False, soft_wrap=True)
    if overflow is not None:  # (the ELF stays: `ebnn-sim run` shows where it overflows)
        err.print(f"error: {overflow}", markup=False, soft_wrap=True)
        raise SystemExit(3)


def _stack_fit(elf: Path, stream: bool) -> str | None:
    """The link checks static data only: run the firmware once on its sample (a few ms for
    most models); what to say when its stack does not fit the SRAM it was linked for."""
    import sim

    report = sim.run(sim.load_elf(elf), max_instructions=2_000_000_000, timeout=120.0)
    if report.fault is None or report.fault.kind != "stack_overflow":
        return None
    return (f"on its sample the firmware overflows its stack: static data {report.static:,} B "
            f"leaves {report.sram_size - report.static:,} B of the {report.sram_size:,} B it "
            "was linked for, not enough"
            + ("" if stream else " (--stream keeps only a few rows of each map)"))


@main.command("export-c")
@click.argument("artifact", type=click.Path(path_type=Path, dir_okay=False))
@click.option("-o", "--output", type=FolderPath(), required=True,
              help="Folder to write the library to (created; files of the same names are "
                   "replaced, others left alone).")
@click.option("--prefix", default=None, metavar="NAME",
              help="C identifier that starts every global symbol, macro and file name: "
                   "NAME_infer, NAME_INPUT_SIZE (upper-cased), NAME.h, NAME.c. Give each model "
                   "of one firmware its own. Default: the model's name, with every character "
                   "other than letters, digits and _ as _.")
@click.option("--layout", default="plain", show_default=True,
              metavar="[plain|cmake|arduino|zephyr]",
              help="plain: NAME.h, NAME.c and the kernel header ebnn_kernels.h. cmake: the same "
                   "with a CMakeLists.txt (add_library(NAME)) and an example main. arduino: an "
                   "Arduino library (library.properties, src/, an example sketch). zephyr: a "
                   "Zephyr module (zephyr/module.yml, CMakeLists.txt, Kconfig, a sample).")
def export_c_cmd(artifact: Path, output: Path, prefix: str | None, layout: str) -> None:
    """Export ARTIFACT as a self-contained C99 library for any firmware.

    \b
    int NAME_infer(const uint8_t *input, int32_t *scores)
        classifies one uint8 image (H x W x C, row-major) with a static
        scratch, fills NAME_CLASSES scores and returns the class;
    int NAME_infer_with(const uint8_t *input, int32_t *scores, uint32_t *scratch)
        the same with the caller's scratch[NAME_SCRATCH_WORDS] (reentrant).
    void NAME_stream_begin(NAME_stream *s)
    int NAME_stream_row(NAME_stream *s, const uint8_t *row, int32_t *scores)
        the input row by row (a sequence step by step) as a sensor delivers it,
        NAME_STREAM_ROWS rows of NAME_ROW_SIZE bytes: -1 until the last, then the
        class; the stream's state is all the memory it needs.

    No start-up code, semihosting or heap; weights are const (flash). The C is the one
    `ebnn build` measures (there with prefix ebnn), bit for bit the model's reference.
    NAME.h documents the input, the scores and the memory; docs/deploy.md how to put it on a
    board (Arduino, Zephyr, FreeRTOS, bare metal).
    """
    from ebnn.artifact import ArtifactError, load
    from ebnn.library import LAYOUTS, LibraryError, check_prefix, default_prefix, export_library

    if layout not in LAYOUTS:
        _fail(f"--layout {layout!r}: choose one of {', '.join(LAYOUTS)}")
    try:
        if prefix is not None:
            check_prefix(prefix)
        if output.exists() and not output.is_dir():
            _fail(f"{output}: exists and is not a directory")
        art = load(artifact)
        name = default_prefix(art) if prefix is None else prefix
        if prefix is None:
            try:
                check_prefix(name)
            except LibraryError as exc:
                _fail(f"{exc}; this default comes from the model's name {art.name!r}, give "
                      "--prefix")
        written = export_library(art, output, name, layout)
    except (ArtifactError, LibraryError) as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(_os_error(output, exc))
    quantize = (f"; {name}_quantize, _quantize_i16 and _quantize_i32 ({name}_input.c) turn "
                "float or integer readings into its input" if art.input_quant is not None else "")
    err.print(f"wrote {len(written)} files of the {layout} library {name} to {output}: "
              f"{name}.h declares {name}_infer and {name}_stream_row{quantize}", markup=False,
              soft_wrap=True)


main.add_command(search_cmd)

if __name__ == "__main__":
    main()
