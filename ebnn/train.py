"""Training: Adam with cosine decay, straight-through sign, latent weights clipped to [-1, 1].

Deterministic for a given seed: one torch.Generator drives shuffling and augmentation, and its
state is checkpointed with the model and optimizer after every epoch, so ``--resume`` continues
exactly where an interrupted run stopped. Checkpoints load with ``weights_only=True``.
"""

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from ebnn.config import ModelSpec, parse_config
from ebnn.data import Dataset
from ebnn.model import EBNN

CHECKPOINT_FORMAT = "ebnn-checkpoint"


class TrainError(Exception):
    """Training cannot start or continue; ``str()`` is one line for the user."""


@dataclass
class History:
    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)


def spec_to_config(spec: ModelSpec) -> dict[str, Any]:
    """The TOML-shaped dict that ``parse_config`` turns back into ``spec``."""
    layers = []
    for layer in spec.layers:
        if layer.type == "linear":
            layers.append({"type": "linear", "units": layer.out})
        else:
            layers.append({"type": "conv", "filters": layer.out, "kernel": list(layer.kernel),
                           "stride": layer.stride, "padding": layer.padding,
                           "pool": layer.pool, "pool_stride": layer.pool_stride})
    train = {k: getattr(spec.train, k) for k in spec.train.__dataclass_fields__}
    return {"model": {"name": spec.name, "input": list(spec.input), "classes": spec.classes,
                      "layers": layers}, "train": train}


def shift_batch(images: torch.Tensor, shift: int, gen: torch.Generator) -> torch.Tensor:
    """Random translations of up to ``shift`` pixels (zero fill), one per image."""
    if shift <= 0:
        return images
    n, h, w, _ = images.shape
    padded = F.pad(images.permute(0, 3, 1, 2), (shift, shift, shift, shift)).permute(0, 2, 3, 1)
    offsets = torch.randint(0, 2 * shift + 1, (n, 2), generator=gen)
    out = torch.empty_like(images)
    for i in range(n):
        dy, dx = int(offsets[i, 0]), int(offsets[i, 1])
        out[i] = padded[i, dy : dy + h, dx : dx + w]
    return out


@torch.no_grad()
def accuracy(model: EBNN, images: np.ndarray, labels: np.ndarray, batch: int = 1000) -> float:
    model.eval()
    correct = 0
    for s in range(0, len(images), batch):
        scores = model(torch.from_numpy(images[s : s + batch]))
        correct += int((scores.argmax(1).numpy() == labels[s : s + batch]).sum())
    return correct / max(len(images), 1)


def save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    torch.save(payload, tmp)
    tmp.replace(path)  # an interrupted save never corrupts the previous checkpoint


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    if not p.is_file():
        raise TrainError(f"{p}: no such file")
    try:
        payload = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for a bad file
        raise TrainError(f"{p}: not a readable model checkpoint ({type(exc).__name__})") from None
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise TrainError(f"{p}: not an ebnn model checkpoint")
    return payload


def model_from_checkpoint(payload: dict[str, Any]) -> EBNN:
    model = EBNN(parse_config(payload["config"], "checkpoint"))
    model.load_state_dict(payload["state_dict"])
    model.eval()
    return model


def train(
    spec: ModelSpec,
    train_set: Dataset,
    val_set: Dataset,
    output: Path,
    *,
    epochs: int | None = None,
    resume: bool = False,
    progress: Callable[[int, int, str], None] | None = None,
) -> tuple[EBNN, History]:
    """Train and write ``output`` (final model) and ``output.ckpt`` (after every epoch).

    ``progress(step, total_steps, text)`` is called after every batch.
    """
    cfg = spec.train
    epochs = epochs or cfg.epochs
    torch.manual_seed(cfg.seed)
    model = EBNN(spec)
    gen = torch.Generator().manual_seed(cfg.seed)
    steps_per_epoch = math.ceil(len(train_set.images) / cfg.batch_size)
    total = epochs * steps_per_epoch
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda step: 0.5 * (1 + math.cos(math.pi * min(step, total) / total)))
    history = History()
    start_epoch = 0
    ckpt = output.with_name(output.name + ".ckpt")
    config = spec_to_config(spec)
    if resume:
        if not ckpt.is_file():
            raise TrainError(f"--resume: no checkpoint {ckpt} to resume from")
        payload = load_checkpoint(ckpt)
        if payload["config"] != config or payload["epochs"] != epochs:
            raise TrainError(f"--resume: {ckpt} was made with another config or epoch count")
        model.load_state_dict(payload["state_dict"])
        opt.load_state_dict(payload["optimizer"])
        sched.load_state_dict(payload["scheduler"])
        gen.set_state(payload["generator"])
        history = History(**payload["history"])
        start_epoch = payload["epoch"]

    images = torch.from_numpy(train_set.images)
    labels = torch.from_numpy(train_set.labels)
    for epoch in range(start_epoch, epochs):
        model.train()
        order = torch.randperm(len(images), generator=gen)
        loss_sum, correct = 0.0, 0
        for b in range(steps_per_epoch):
            idx = order[b * cfg.batch_size : (b + 1) * cfg.batch_size]
            x = shift_batch(images[idx], cfg.shift, gen)
            y = labels[idx]
            scores = model(x)
            loss = F.cross_entropy(scores, y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            model.clip_weights()
            loss_sum += loss.item() * len(idx)
            correct += int((scores.argmax(1) == y).sum())
            if progress is not None:
                progress(epoch * steps_per_epoch + b + 1, total,
                         f"epoch {epoch + 1}/{epochs} loss {loss.item():.3f}")
        history.train_loss.append(loss_sum / len(images))
        history.train_acc.append(correct / len(images))
        history.val_acc.append(accuracy(model, val_set.images, val_set.labels)
                               if len(val_set.images) else float("nan"))
        save_checkpoint(ckpt, {
            "format": CHECKPOINT_FORMAT, "config": config, "epochs": epochs, "epoch": epoch + 1,
            "state_dict": model.state_dict(), "optimizer": opt.state_dict(),
            "scheduler": sched.state_dict(), "generator": gen.get_state(),
            "history": vars(history),
        })
    model.eval()
    sample = val_set.images[0] if len(val_set.images) else train_set.images[0]
    sample_label = int(val_set.labels[0] if len(val_set.labels) else train_set.labels[0])
    save_checkpoint(output, {
        "format": CHECKPOINT_FORMAT, "config": config, "epochs": epochs, "epoch": epochs,
        "state_dict": model.state_dict(), "history": vars(history),
        "dataset": train_set.name, "dataset_source": train_set.source,
        "sample": torch.from_numpy(np.ascontiguousarray(sample)), "sample_label": sample_label,
    })
    return model, history


def plot_history(history: History, path: Path, title: str) -> None:
    """Train/validation curves as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = range(1, len(history.train_loss) + 1)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.5))
    ax1.plot(epochs, history.train_loss, label="train loss")
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("cross-entropy")
    ax1.legend()
    ax2.plot(epochs, [100 * a for a in history.train_acc], label="train")
    ax2.plot(epochs, [100 * a for a in history.val_acc], label="validation")
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("accuracy (%)")
    ax2.legend()
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
