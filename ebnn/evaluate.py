"""Accuracy of an artifact's integer reference, and its agreement with the torch model."""

from pathlib import Path
from typing import Any

import numpy as np

from ebnn import reference
from ebnn.artifact import Artifact
from ebnn.data import Dataset, load_dataset, split_train_val


class EvalError(Exception):
    """Evaluation cannot run as asked; ``str()`` is one line for the user."""


def eval_dataset(art: Artifact, dataset: str | None, data_dir: Path | None,
                 split: str | None) -> tuple[Dataset, str]:
    """The images to evaluate on, and the split's name.

    The bundled MNIST subset has no test split: by default the validation split held out in
    training (same seed and fraction, from the artifact's metadata) is used.
    """
    cfg = art.metadata.get("config") or {}
    name = dataset or art.metadata.get("dataset") or "mnist"
    if split is None:
        split = "validation" if data_dir is None and name == "mnist" else "test"
    if split == "validation":
        train_cfg = cfg.get("train", {})
        ds = load_dataset(name, data_dir=data_dir, split="train")
        frac, seed = train_cfg.get("val_fraction", 0.1), train_cfg.get("seed", 0)
        if not frac:
            raise EvalError("the model was trained without a validation split; use --split")
        return split_train_val(ds, frac, seed)[1], split
    return load_dataset(name, data_dir=data_dir, split=split), split


def evaluate(art: Artifact, dataset: str | None = None, data_dir: Path | None = None,
             split: str | None = None, torch_model: Path | None = None,
             limit: int | None = None) -> dict[str, Any]:
    ds, split_name = eval_dataset(art, dataset, data_dir, split)
    if ds.image_shape != tuple(art.input_shape):
        raise EvalError(f"{ds.name} images are {ds.image_shape}, the model takes "
                        f"{tuple(art.input_shape)}")
    images, labels = ds.images[:limit], ds.labels[:limit]
    ref = reference.run(art, images)
    result: dict[str, Any] = {
        "dataset": ds.name, "source": ds.source, "split": split_name, "images": len(labels),
        "accuracy": float(np.mean(ref.classes == labels)) if len(labels) else 0.0,
        "torch_accuracy": None, "torch_agreement": None,
    }
    if torch_model is not None:
        import torch

        from ebnn.train import TrainError, load_checkpoint, model_from_checkpoint

        try:
            net = model_from_checkpoint(load_checkpoint(torch_model))
        except TrainError as exc:
            raise EvalError(str(exc)) from None
        with torch.no_grad():
            pred = np.concatenate([
                net(torch.from_numpy(images[s : s + 1000])).argmax(1).numpy()
                for s in range(0, len(images), 1000)])
        result["torch_accuracy"] = float(np.mean(pred == labels))
        result["torch_agreement"] = float(np.mean(pred == ref.classes))
        result["torch_disagreements"] = int(np.sum(pred != ref.classes))
    return result
