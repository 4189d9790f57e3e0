"""Accuracy of an artifact's integer reference, and its agreement with the torch model."""

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from ebnn import reference
from ebnn.artifact import Artifact
from ebnn.data import Dataset, DatasetError, relabel_by_names, split_digest, split_train_val
from ebnn.datafiles import has_test_split, load_source, splits_of
from ebnn.quantize import QuantError


class EvalError(Exception):
    """Evaluation cannot run as asked; ``str()`` is one line for the user."""


def eval_dataset(art: Artifact, dataset: str | None, data_dir: Path | None,
                 split: str | None, data: Path | None = None) -> tuple[Dataset, str]:
    """The samples to evaluate on, and the split's name.

    Without a source given, the built-in set the artifact was trained on; a model trained on
    files must be given them (``data``): a path in an artifact's metadata is never read, as an
    artifact from elsewhere could name any file. Default split: ``test`` where the source has
    one; a file given with ``--data`` that has none is used whole (``all``), unless it is the
    file the model was trained on (or a copy: its validation split drawn again is the one the
    model records): then, as for the built-in sets without one (the bundled
    MNIST subset), the validation split held out in training (same seed and fraction, from
    the artifact's metadata). ``val`` is ``validation``.
    """
    meta = art.metadata
    cfg: dict[str, Any] = meta["config"] if isinstance(meta.get("config"), dict) else {}
    trained_on = meta.get("data_path") if isinstance(meta.get("data_path"), str) else None
    if dataset is None and data is None and data_dir is None:
        if trained_on is not None:
            raise EvalError(f"the model was trained on {trained_on[:200]!r} (its metadata "
                            "says): name the data with --data PATH (data is read only from "
                            "files you name)")
        recorded = meta.get("dataset")
        dataset = recorded if isinstance(recorded, str) and recorded else "mnist"
    # the path recorded is resolved (ebnn train): a relative --data naming the same file is it
    explicit = data is not None and not _same_path(data, trained_on)
    if split == "val":
        split = "validation"
    if split is None:
        if has_test_split(dataset, data, data_dir):
            split = "test"
        elif explicit and not _holds_training_split(art, dataset, data, data_dir):
            split = "all"
        else:  # the file trained on (a copy of it too: its validation split is the one)
            split = "validation"
    if split == "validation":
        train_cfg: dict[str, Any] = cfg["train"] if isinstance(cfg.get("train"), dict) else {}
        frac, seed = train_cfg.get("val_fraction", 0.1), train_cfg.get("seed", 0)
        if isinstance(frac, bool) or not isinstance(frac, int | float) or not 0 <= frac < 1:
            raise EvalError(f"the model's metadata records val_fraction {frac!r:.40}, not a "
                            "fraction in [0, 1): name a split with --split")
        if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
            raise EvalError(f"the model's metadata records seed {seed!r:.40}, not one training "
                            "takes: name a split with --split")
        if not frac:
            raise EvalError("the model was trained without a validation split (val_fraction "
                            "0), so every sample of this data was a training one: --split all "
                            "scores them all (training accuracy, not a test), or give held-out "
                            "data with --data")
        ds = with_model_input(art, load_source(dataset, data, data_dir, "train"))
        ds = split_train_val(ds.fit_to(art.input_shape), frac, seed)[1]
        return with_model_classes(art, ds), split
    # "all" was the train split of data that has a test split (an IDX folder: its t10k files)
    if split == "all" and ("test" in splits_of(data_dir) if data_dir is not None
                           else has_test_split(dataset, data, None)):
        raise EvalError(f"{data or data_dir or dataset} has a train and a test split: name one "
                        "(--split all is a file without a test split, used whole)")
    ds = with_model_input(art, load_source(dataset, data, data_dir,
                                           "train" if split == "all" else split))
    return with_model_classes(art, ds.fit_to(art.input_shape)), split


def _holds_training_split(art: Artifact, dataset: str | None, data: Path | None,
                          data_dir: Path | None) -> bool:
    """Whether the data, drawn as training drew its validation split (the artifact's seed
    and fraction), gives the very split the model was held out on (``val_digest``): the file
    it was trained on under another path (a copy, another checkout), used whole its accuracy
    would count the samples the model trained on."""
    recorded = art.metadata.get("val_digest")
    cfg = art.metadata.get("config")
    train_cfg = cfg.get("train") if isinstance(cfg, dict) else None
    if not isinstance(recorded, str) or not isinstance(train_cfg, dict):
        return False
    frac, seed = train_cfg.get("val_fraction", 0.1), train_cfg.get("seed", 0)
    if (isinstance(frac, bool) or not isinstance(frac, int | float) or not 0 < frac < 1
            or isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32):
        return False
    try:
        ds = with_model_input(art, load_source(dataset, data, data_dir, "train"))
        val = split_train_val(ds.fit_to(art.input_shape), frac, seed)[1]
        val = with_model_classes(art, val)
        images = reference.quantize_input(art, val.images)
    except (DatasetError, EvalError, QuantError, ValueError):
        return False  # (refused, if at all, when the data is evaluated)
    return split_digest(replace(val, images=images)) == recorded


def with_model_input(art: Artifact, ds: Dataset) -> Dataset:
    """``ds`` when its samples are what the model was trained on: a model of WAV clips
    records their sample format and rate (``input_clips``), and clips of another would be
    quantised on another scale; EvalError for those."""
    recorded = art.metadata.get("input_clips")
    if ds.clips is None or not isinstance(recorded, dict):
        return ds
    fmt, rate = recorded.get("format"), recorded.get("rate")
    if (fmt, rate) != (ds.clips.kind, ds.clips.rate):
        raise EvalError(f"{ds.source}: {ds.clips.describe()}; the model was trained on "
                        f"{str(fmt)[:40]} clips at {str(rate)[:20]} Hz: convert them")
    return ds


def _same_path(data: Path, recorded: str | None) -> bool:
    """Whether ``data`` names the file the metadata records (a hostile record: not it)."""
    if recorded is None:
        return False
    try:
        return data.resolve() == Path(recorded).resolve()
    except (OSError, ValueError, RuntimeError):  # a NUL byte, a name too long, a link loop
        return False


def with_model_classes(art: Artifact, ds: Dataset) -> Dataset:
    """``ds`` with its labels in the model's numbering: data that names its classes (image
    folders, CSV class names) numbers them by the names it holds, so a test split without one
    of the training classes would shift every later one; the artifact records the training
    data's names, and the labels are mapped by name (a name the model does not know is
    refused). EvalError for labels the model cannot output."""
    names = art.metadata.get("class_names")
    if not (isinstance(names, list) and len(names) <= art.classes
            and all(isinstance(n, str) for n in names) and len(set(names)) == len(names)):
        names = None  # none recorded (an older artifact, numbered labels) or not names
    if ds.class_names is not None and names is None:
        # the model was trained on numbered labels (or its artifact predates the names): a
        # name that is a number is that label; any other name matches no number by itself
        # (numbering them in sorted order scored a model on the wrong classes)
        if not all(re.fullmatch(r"[0-9]{1,9}", n) for n in ds.class_names):
            raise EvalError(f"{ds.source}: the data names its classes, the model records "
                            "no class names (it was trained on numbered labels, or before "
                            "models recorded them: train it again to record them): which name "
                            f"is which of its classes 0..{art.classes - 1} cannot be told; give "
                            "the labels as those numbers")
        remap = np.array([int(n) for n in ds.class_names], np.int64)
        ds = replace(ds, labels=remap[ds.labels], classes=art.classes, class_names=None)
    elif names is not None:
        # numbered data for a model that names its classes: the numbers say nothing about the
        # names (an .npz of an image folder numbered its own way scored 0% without a word),
        # unless the names are numbers themselves (folders 0/, 1/, ...)
        if ds.class_names is None and not all(re.fullmatch(r"[0-9]{1,9}", n) for n in names):
            shown = ", ".join(f"{i} {n}" for i, n in enumerate(names))
            raise EvalError(f"{ds.source}: the data numbers its classes, the model names them "
                            f"({shown[:200]}): which number is which name cannot be told; give "
                            "the labels as names (class folders, a CSV of class names)")
        ds = relabel_by_names(ds, tuple(names), art.classes,
                              f"the {len(names)} the model was trained on", EvalError)
    if len(ds.labels) and ds.labels.max() >= art.classes:
        raise EvalError(f"{ds.source}: labels up to {int(ds.labels.max())}; the model has "
                        f"{art.classes} classes (0..{art.classes - 1})")
    return ds


def exported_from(art: Artifact, payload: dict[str, Any]) -> bool:
    """Whether exporting the checkpoint ``payload`` gives ``art``'s model: the same layers,
    weights, thresholds, scores' fixed point and input quantisation (metadata aside). Export
    is deterministic, so this holds for the checkpoint ``ebnn export`` read and, short of a
    collision of every bit, for no other."""
    from ebnn.export import export_checkpoint

    other = export_checkpoint(payload)
    if (other.input_shape, other.classes, other.input_quant) != (
            tuple(art.input_shape), art.classes, art.input_quant):
        return False
    if len(other.layers) != len(art.layers):
        return False
    for a, b in zip(art.layers, other.layers, strict=True):
        if a.header() != b.header() or not np.array_equal(a.weights, b.weights):
            return False
        for name in ("threshold", "direction", "scale", "offset"):
            x, y = getattr(a, name), getattr(b, name)
            if (x is None) != (y is None) or (x is not None and not np.array_equal(x, y)):
                return False
    return True


def validation_warning(art: Artifact, ds: Dataset) -> str | None:
    """A warning when ``ds``, the validation split drawn again from the data (same seed and
    fraction), is not the one the model was held out on (``val_digest``, recorded since
    training kept it): the data changed since training, or is another file, and its
    "validation" accuracy may count samples the model trained on."""
    recorded = art.metadata.get("val_digest")
    if not isinstance(recorded, str):
        return None
    if art.metadata.get("val_accuracy") is None:  # trained on every image (search --refit)
        return (f"warning: {ds.source}: the model was trained with no validation split held "
                "out (on every labelled image): this split's accuracy counts samples it "
                "trained on")
    try:
        images = reference.quantize_input(art, ds.images)
    except QuantError:
        return None  # refused when the split is evaluated
    if split_digest(replace(ds, images=images)) == recorded:
        return None
    return (f"warning: {ds.source}: this validation split is not the one held out when the "
            "model was trained (the data changed since, or is another file): its accuracy "
            "may count samples the model trained on")


def range_warning(art: Artifact, samples: np.ndarray, where: str) -> str | None:
    """A warning when many of float ``samples`` lie beyond the range of the model's training
    data, which quantisation clamps to 0 or 255 without a word: data on another scale (a
    test split left in 0..255 beside training data in 0..1) reads as a bad model."""
    from ebnn.quantize import BEYOND_WARN, beyond_range

    if art.input_quant is None:
        return None
    share = beyond_range(samples, art.input_quant)
    if share <= BEYOND_WARN:
        return None
    return (f"warning: {where}: {100 * share:.1f}% of the input values lie far beyond the "
            "range of the model's training data and are clamped to 0 or 255: data on another "
            "scale? (docs/data.md)")


def data_warnings(art: Artifact, ds: Dataset, split: str, limit: int | None) -> list[str]:
    """What ``eval`` and ``verify`` warn of on the split ``ds`` (its first ``limit``)
    before scoring it: values far beyond the training range, a validation split that is not
    the one held out."""
    found = (range_warning(art, ds.images[:limit], ds.source),
             validation_warning(art, ds) if split == "validation" else None,
             trained_on_all_warning(art, ds) if split == "all" else None)
    return [w for w in found if w is not None]


def trained_on_all_warning(art: Artifact, ds: Dataset) -> str | None:
    """A warning when a model trained on every labelled sample of its data (``search
    --refit``: no validation split held out) is scored on a whole file: if it is that data,
    the accuracy is a training one, not a test."""
    meta = art.metadata
    if meta.get("val_accuracy") is not None or not meta.get("search_refit"):
        return None
    return (f"warning: {ds.source}: the model was trained on every labelled sample of "
            f"{str(meta.get('dataset_source', 'its data'))[:200]} (search --refit, nothing "
            "held out): if this is that data, its accuracy counts samples it trained on; "
            "score it on held-out data")


def eval_inputs(art: Artifact, samples: np.ndarray, where: str) -> np.ndarray:
    """The uint8 inputs of ``samples`` (quantised as the artifact says), or EvalError naming
    ``where`` they came from."""
    try:
        return reference.quantize_input(art, samples)
    except QuantError as exc:
        raise EvalError(f"{where}: {exc}") from None


def evaluate(art: Artifact, dataset: str | None = None, data_dir: Path | None = None,
             split: str | None = None, torch_model: Path | None = None,
             limit: int | None = None, data: Path | None = None) -> dict[str, Any]:
    ds, split_name = eval_dataset(art, dataset, data_dir, split, data)
    images = eval_inputs(art, ds.images[:limit], ds.source)
    labels = ds.labels[:limit]
    ref = reference.run(art, images)
    warnings = data_warnings(art, ds, split_name, limit)
    result: dict[str, Any] = {
        "dataset": ds.name, "source": ds.source, "split": split_name, "images": len(labels),
        "accuracy": float(np.mean(ref.classes == labels)) if len(labels) else 0.0,
        "torch_accuracy": None, "torch_agreement": None,
        "warnings": warnings,
    }
    if torch_model is not None:
        import torch

        from ebnn.export import ExportError
        from ebnn.train import TrainError, load_checkpoint, model_from_checkpoint

        try:
            payload = load_checkpoint(torch_model)
            net = model_from_checkpoint(payload)
            if not exported_from(art, payload):
                raise EvalError(f"{torch_model} is not the checkpoint this artifact was exported "
                                "from (its export differs); pass the MODEL.pt that `ebnn "
                                "export` read")
        except (TrainError, ExportError) as exc:
            raise EvalError(str(exc)) from None
        batch = net.inference_batch()
        with torch.no_grad():
            pred = np.concatenate([
                net(torch.from_numpy(images[s : s + batch])).argmax(1).numpy()
                for s in range(0, len(images), batch)])
        result["torch_accuracy"] = float(np.mean(pred == labels))
        result["torch_agreement"] = float(np.mean(pred == ref.classes))
        result["torch_disagreements"] = int(np.sum(pred != ref.classes))
    return result
