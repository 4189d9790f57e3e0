"""Training: Adam with cosine decay, straight-through sign, latent weights clipped to [-1, 1].

Deterministic for a given seed on one machine: one torch.Generator drives shuffling and
augmentation, and one thread does the arithmetic. Across CPUs it is not: torch's and MKL's kernels
round differently from one instruction set to another, and binary training amplifies the last-bit
differences into other weights (examples/mnist/mnist.toml trains to 98.0% validation accuracy on
the machine that made the shipped artifact, 96.4% on an AMD EPYC). The generator's
state is checkpointed with the model and optimizer after every epoch, so ``--resume`` continues
exactly where an interrupted run stopped. Checkpoints load with ``weights_only=True``.
"""

import io
import math
import warnings
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ebnn.config import ConfigError, ModelSpec, TrainSpec, parse_config
from ebnn.data import Dataset, split_digest
from ebnn.layers import HIDDEN_KINDS, kind
from ebnn.model import EBNN
from sim.formats import write_bytes

CHECKPOINT_FORMAT = "ebnn-checkpoint"


class TrainError(Exception):
    """Training cannot start or continue; ``str()`` is one line for the user."""


@dataclass
class History:
    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    val_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)  # absent from older checkpoints


@torch.no_grad()
def calibrated_accuracy(model: EBNN, train_images: np.ndarray, val_set: Dataset,
                        cfg: TrainSpec) -> float:
    """The validation accuracy ``model`` would have if its training ended now: its BNs
    calibrated as :func:`_train` does at the end (``[train] bn_calibrate`` passes, at least one),
    then their running statistics and the model's train/eval mode put back, so the training
    goes on exactly as without the call (the calibration draws from its own generator).
    Mid-training, the running statistics are too far from the weights' for the plain
    validation accuracy to rank models: in a 15 KiB search its rank correlation with the final
    accuracy was 0.43 a quarter of the way."""
    saved = {k: v.clone() for k, v in model.state_dict().items() if "running_" in k}
    mode = model.training
    try:
        calibrate_bn(model, train_images, cfg, max(cfg.bn_calibrate, 1))
        return evaluate(model, val_set.images, val_set.labels)[0]
    finally:
        model.load_state_dict(saved, strict=False)
        model.train(mode)


def spec_to_config(spec: ModelSpec) -> dict[str, Any]:
    """The TOML-shaped dict that ``parse_config`` turns back into ``spec``."""
    layers = [kind(layer.type, f"layer {i + 1}", ConfigError, HIDDEN_KINDS).to_config(layer)
              for i, layer in enumerate(spec.layers)]
    train = {k: getattr(spec.train, k) for k in spec.train.__dataclass_fields__}
    return {"model": {"name": spec.name, "input": list(spec.input), "classes": spec.classes,
                      "layers": layers}, "train": train}


def _smooth(field: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian blur of (N, C, H, W) with zero padding."""
    radius = max(1, math.ceil(2 * sigma))
    k = torch.exp(-0.5 * (torch.arange(-radius, radius + 1, dtype=torch.float32) / sigma) ** 2)
    k = k / k.sum()
    c = field.shape[1]
    field = F.conv2d(field, k.view(1, 1, 1, -1).expand(c, 1, 1, -1), padding=(0, radius),
                     groups=c)
    return F.conv2d(field, k.view(1, 1, -1, 1).expand(c, 1, -1, 1), padding=(radius, 0),
                    groups=c)


def warp_batch(images: torch.Tensor, rotate: float, scale: float, elastic: float,
               sigma: float, gen: torch.Generator) -> torch.Tensor:
    """Random rotation (degrees), zoom and elastic distortion, bilinear, zero fill, uint8."""
    if rotate <= 0 and scale <= 0 and elastic <= 0:
        return images
    n, h, w, c = images.shape
    angle = (torch.rand(n, generator=gen) * 2 - 1) * math.radians(rotate)
    zoom = 1 + (torch.rand(n, generator=gen) * 2 - 1) * scale
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    zero = torch.zeros(n)
    theta = torch.stack([torch.stack([cos, -sin, zero], 1), torch.stack([sin, cos, zero], 1)], 1)
    grid = F.affine_grid(theta, [n, c, h, w], align_corners=False)
    if elastic > 0:
        field = _smooth(torch.rand(n, 2, h, w, generator=gen) * 2 - 1, sigma)
        field = field / field.abs().amax(dim=(1, 2, 3), keepdim=True).clamp_min(1e-6)
        # pixels -> normalised grid units (the grid spans 2 over w or h pixels)
        field = field * elastic * torch.tensor([2.0 / w, 2.0 / h]).view(1, 2, 1, 1)
        grid = grid + field.permute(0, 2, 3, 1)
    x = images.permute(0, 3, 1, 2).to(torch.float32)
    out = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return out.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).contiguous()


def shift_batch(images: torch.Tensor, shift: int, gen: torch.Generator) -> torch.Tensor:
    """Random translations of up to ``shift`` pixels (zero fill), one per image. A sequence
    (a 1 x T image) moves along time only, its ends repeated (its zero byte is no rest value:
    float data is quantised)."""
    if shift <= 0:
        return images
    n, h, w, _ = images.shape
    if h == 1:
        padded = F.pad(images.permute(0, 3, 1, 2).to(torch.float32), (shift, shift, 0, 0),
                       mode="replicate").to(images.dtype).permute(0, 2, 3, 1)
    else:
        padded = F.pad(images.permute(0, 3, 1, 2),
                       (shift, shift, shift, shift)).permute(0, 2, 3, 1)
    offsets = torch.randint(0, 2 * shift + 1, (n, 2), generator=gen)
    out = torch.empty_like(images)
    for i in range(n):
        dy, dx = (0 if h == 1 else int(offsets[i, 0])), int(offsets[i, 1])
        out[i] = padded[i, dy : dy + h, dx : dx + w]
    return out


@torch.no_grad()
def accuracy(model: nn.Module, images: np.ndarray, labels: np.ndarray,
             batch: int | None = None) -> float:
    return evaluate(model, images, labels, batch)[0]


@torch.no_grad()
def evaluate(model: nn.Module, images: np.ndarray, labels: np.ndarray,
             batch: int | None = None) -> tuple[float, float]:
    """(accuracy, mean cross-entropy) in eval mode; no randomness is drawn. ``batch``:
    images per pass, by default up to 1000 as the model's maps allow (EBNN.inference_batch)."""
    if batch is None:
        batch = model.inference_batch() if isinstance(model, EBNN) else 1000
    model.eval()
    correct, loss = 0, 0.0
    for s in range(0, len(images), batch):
        scores = model(torch.from_numpy(images[s : s + batch]))
        y = torch.from_numpy(np.asarray(labels[s : s + batch], dtype=np.int64))
        correct += int((scores.argmax(1) == y).sum())
        loss += float(nn.functional.cross_entropy(scores, y, reduction="sum"))
    n = max(len(images), 1)
    return correct / n, loss / n


@torch.no_grad()
def calibrate_bn(model: EBNN, images: np.ndarray, cfg: TrainSpec, passes: int,
                 batch: int = 500) -> None:
    """Set every BN's running statistics to the exact mean and variance of its input over
    ``passes`` augmented copies of ``images``, layer by layer (each layer sees its inputs as
    the calibrated model in eval mode computes them).

    During training the running statistics are an exponential average of the last few
    mini-batches of a model whose weights are still flipping; they can sit far from the
    statistics of the final weights, and a BN folded into a sign threshold is sensitive to
    that (validation accuracy jumped by several points from one epoch to the next).
    """
    gen = torch.Generator().manual_seed(cfg.seed + 2)
    x_all = torch.from_numpy(images)
    inputs = [EBNN.pixels(_augment(x_all[s : s + batch], cfg, gen))
              for _ in range(passes) for s in range(0, len(x_all), batch)]
    model.eval()
    for block in model.blocks:
        accs = [block.accumulate(x) for x in inputs]
        if block.first:
            accs = [a / 255.0 for a in accs]
        dims = [0, 2, 3] if accs[0].dim() == 4 else [0]
        n = sum(a.numel() // a.shape[1] for a in accs)
        mean = sum(a.sum(dims, dtype=torch.float64) for a in accs) / n
        assert isinstance(mean, torch.Tensor)  # a sum of tensors: accs is not empty
        sq = sum(((a.double() - mean.view(1, -1, *[1] * (a.dim() - 2))) ** 2).sum(dims)
                 for a in accs)
        assert isinstance(sq, torch.Tensor)
        running_mean, running_var = block.bn.running_mean, block.bn.running_var
        assert running_mean is not None and running_var is not None  # BN tracks running stats
        running_mean.copy_(mean.float())
        running_var.copy_((sq / max(n - 1, 1)).float())
        inputs = [block(x) for x in inputs]


def save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    buf = io.BytesIO()
    torch.save(payload, buf)
    write_bytes(path, buf.getvalue())  # an interrupted save never corrupts the previous one


def _what_differs(was: Any, now: dict[str, Any], was_epochs: Any, epochs: int) -> str:
    """The first few settings a checkpoint was made with that differ from this run's."""
    changes: list[str] = []

    def walk(a: Any, b: Any, where: str) -> None:
        if isinstance(a, dict) and isinstance(b, dict):
            for key in [*a, *(k for k in b if k not in a)]:
                walk(a.get(key), b.get(key), f"{where}.{key}" if where else str(key))
        elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            for i, (x, y) in enumerate(zip(a, b, strict=True)):
                walk(x, y, f"{where}[{i}]")
        elif a != b:
            changes.append(f"{where} {a!r:.40} -> {b!r:.40}")

    if was_epochs != epochs:
        changes.append(f"epochs {was_epochs!r:.20} -> {epochs}")
    walk(was, now, "")
    return "; ".join(changes[:4]) + (f"; {len(changes) - 4} more" if len(changes) > 4 else "")


def _is_artifact(source: Path | bytes) -> bool:
    """Whether ``source`` is a zip archive holding a .ebnn header (a mistaken file name)."""
    try:
        with zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source) as zf:
            return "header.npy" in zf.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def load_checkpoint(path: str | Path, data: bytes | None = None) -> dict[str, Any]:
    """The checkpoint at ``path``, or in ``data`` (its bytes, read already: what a caller
    hashed is what it loads) named by ``path``. TrainError (one line) when it is not one."""
    p = Path(path)
    if data is None and not p.is_file():
        raise TrainError(f"{p}: " + ("not a regular file" if p.exists() else "no such file"))
    try:
        with warnings.catch_warnings():  # (torch warns of a foreign file's pickle protocol:
            warnings.simplefilter("ignore")  # the refusal below is the one line)
            payload = torch.load(p if data is None else io.BytesIO(data), map_location="cpu",
                                 weights_only=True)
    except Exception as exc:  # torch raises many types for a bad file
        what = ("a .ebnn artifact, which `ebnn export` made from a checkpoint: give the .pt "
                "that `ebnn train` wrote" if _is_artifact(p if data is None else data)
                else "a model config: train it first (ebnn train CONFIG -o MODEL.pt), then "
                "give MODEL.pt" if p.suffix.lower() == ".toml"
                else f"not a readable model checkpoint ({type(exc).__name__})")
        raise TrainError(f"{p}: {what}") from None
    if not isinstance(payload, dict) or payload.get("format") != CHECKPOINT_FORMAT:
        raise TrainError(f"{p}: not an ebnn model checkpoint")
    history = payload.get("history")
    val_acc = history.get("val_acc") if isinstance(history, dict) else None
    problem = (
        "config" if not isinstance(payload.get("config"), dict) else
        "state_dict" if not (isinstance(payload.get("state_dict"), dict) and all(
            isinstance(v, torch.Tensor) for v in payload["state_dict"].values())) else
        "history" if not (isinstance(val_acc, list) and all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in val_acc)) else
        "sample" if "sample" in payload and not isinstance(payload["sample"], torch.Tensor)
        else None)
    if problem is not None:
        raise TrainError(f"{p}: a damaged ebnn checkpoint ('{problem}' is missing or not what "
                         "ebnn train writes)")
    return payload


def model_from_checkpoint(payload: dict[str, Any]) -> EBNN:
    """The trained network of a checkpoint. Training options this version no longer has
    (e.g. the distillation settings of older checkpoints) do not shape the network: dropped."""
    config = dict(payload["config"])
    known = {f.name for f in fields(TrainSpec)}
    config["train"] = {k: v for k, v in (config.get("train") or {}).items() if k in known}
    try:
        model = EBNN(parse_config(config, "checkpoint"))
    except ConfigError as exc:
        raise TrainError(str(exc)) from None
    try:
        model.load_state_dict(payload["state_dict"])
    except RuntimeError as exc:  # missing, unexpected or misshapen tensors
        first = str(exc).splitlines()[0][:200]
        raise TrainError(f"checkpoint: its weights do not fit its config ({first})") from None
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
    extra: dict[str, Any] | None = None,
    after_epoch: Callable[[int, EBNN], None] | None = None,
) -> tuple[EBNN, History]:
    """Train and write ``output`` (final model) and ``output.ckpt`` (after every epoch).

    The data sets hold uint8 inputs (float data is quantised before: ebnn/quantize.py).
    ``progress(step, total_steps, text)`` is called after every batch; ``extra`` goes into the
    final checkpoint as it is (the input quantisation, where the data came from);
    ``after_epoch(epoch, model)`` after every epoch (1-based) and its checkpoint: an exception
    it raises ends the training (``ebnn search --prune``, with :func:`calibrated_accuracy`).
    """
    if train_set.images.dtype != np.uint8 or val_set.images.dtype != np.uint8:
        raise TrainError("training takes uint8 inputs; quantise float data first")
    threads = torch.get_num_threads()
    # These networks are far too small for intra-op parallelism: on a shared 2-core machine
    # two threads ran about 10x slower than one (spin-waiting), and one thread is also
    # reproducible whatever the machine's core count.
    torch.set_num_threads(1)
    try:
        return _train(spec, train_set, val_set, output, epochs or spec.train.epochs, resume,
                      progress, extra or {}, after_epoch)
    finally:
        torch.set_num_threads(threads)


def _augment(images: torch.Tensor, cfg: TrainSpec, gen: torch.Generator) -> torch.Tensor:
    x = warp_batch(images, cfg.rotate, cfg.scale, cfg.elastic, cfg.elastic_sigma, gen)
    return shift_batch(x, cfg.shift, gen)


def check_teacher(path: str, input_shape: tuple[int, ...], classes: int,
                  val_set: Dataset) -> EBNN:
    """The network of the teacher checkpoint ``path``, checked to fit a model of
    ``input_shape`` and ``classes`` validated on ``val_set``: the teacher must have been
    validated on the same images (same data, split and input quantisation), else it may have
    trained on them and they would not be held out. TrainError (one line) otherwise."""
    try:
        payload = load_checkpoint(path)
        net = model_from_checkpoint(payload)
    except TrainError as exc:  # names the file already
        raise TrainError(f"[train] teacher: {exc}") from None
    where = f"[train] teacher {path}"
    model = payload["config"]["model"]
    if tuple(model["input"]) != tuple(input_shape) or model["classes"] != classes:
        raise TrainError(f"{where}: takes {model['input']} inputs in {model['classes']} "
                         f"classes, this model {list(input_shape)} in {classes}")
    if payload.get("val_digest") is None:
        raise TrainError(f"{where}: made by an older version, which did not record its "
                         "validation images; train it again")
    if payload["val_digest"] != split_digest(val_set):
        raise TrainError(f"{where}: validated on other images (other data, another "
                         "validation split or input quantisation), so it may have trained on "
                         "this model's validation images")
    for p in net.parameters():
        p.requires_grad_(False)
    return net


def _distilled(loss: torch.Tensor, scores: torch.Tensor, teacher: EBNN, x: torch.Tensor,
               cfg: TrainSpec) -> torch.Tensor:
    """``loss`` mixed with the KL divergence from the teacher's softened scores on the same
    (augmented) batch, scaled by T² so its gradients keep their size as T changes."""
    t = cfg.teacher_temperature
    with torch.no_grad():
        target = F.softmax(teacher(x) / t, dim=1)
    kd = F.kl_div(F.log_softmax(scores / t, dim=1), target, reduction="batchmean") * t * t
    return (1 - cfg.teacher_weight) * loss + cfg.teacher_weight * kd


def _steps(samples: int, batch: int) -> int:
    """Steps per epoch of ``batch`` samples: a last step of one sample joins the one before
    (batch norm cannot train on one sample: 81 samples in batches of 16 were a traceback)."""
    steps = math.ceil(samples / batch)
    return steps - 1 if steps > 1 and samples % batch == 1 else steps


def _lr_factor(step: int, total: int, warmup: int) -> float:
    if step < warmup:
        return (step + 1) / warmup
    t = min(step - warmup, total - warmup) / max(total - warmup, 1)
    return 0.5 * (1 + math.cos(math.pi * t))


def _train(spec: ModelSpec, train_set: Dataset, val_set: Dataset, output: Path, epochs: int,
           resume: bool, progress: Callable[[int, int, str], None] | None,
           extra: dict[str, Any],
           after_epoch: Callable[[int, EBNN], None] | None = None) -> tuple[EBNN, History]:
    cfg = spec.train
    torch.manual_seed(cfg.seed)
    model = EBNN(spec)
    if cfg.init != 1.0:
        with torch.no_grad():
            for block in model.blocks:
                block.op.weight.uniform_(-cfg.init, cfg.init)
    for block in model.blocks:
        block.bn.momentum = cfg.bn_momentum
    teacher = (check_teacher(cfg.teacher, spec.input, spec.classes, val_set) if cfg.teacher
               else None)
    gen = torch.Generator().manual_seed(cfg.seed)
    steps_per_epoch = _steps(len(train_set.images), cfg.batch_size)
    total = epochs * steps_per_epoch
    warmup = min(round(cfg.warmup * steps_per_epoch), total)
    latent = [block.op.weight for block in model.blocks]
    bn = [p for block in model.blocks for p in block.bn.parameters()]
    groups: list[dict[str, Any]] = [{"params": latent},
                                     {"params": bn, "lr": cfg.bn_lr or cfg.lr}]
    opt = torch.optim.Adam(groups, lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda step: _lr_factor(step, total, warmup))
    history = History()
    start_epoch = 0
    ckpt = output.with_name(output.name + ".ckpt")
    config = spec_to_config(spec)
    data_digest = split_digest(train_set) + split_digest(val_set)
    if resume:
        if not ckpt.is_file():
            raise TrainError(f"--resume: no checkpoint {ckpt} to resume from")
        payload = load_checkpoint(ckpt)
        if payload["config"] != config or payload["epochs"] != epochs:
            raise TrainError(f"--resume: {ckpt} was made with another config or epoch count: "
                             + _what_differs(payload["config"], config, payload["epochs"],
                                             epochs))
        if payload.get("data_digest", data_digest) != data_digest:  # older ones lack it
            raise TrainError(f"--resume: {ckpt} was trained on other data (other images or "
                             "labels, another split or input quantisation); train it anew")
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
            last = b == steps_per_epoch - 1  # the rest: up to batch_size + 1 (see _steps)
            idx = order[b * cfg.batch_size : len(images) if last else (b + 1) * cfg.batch_size]
            x = _augment(images[idx], cfg, gen)
            y = labels[idx]
            scores = model(x)
            ce = F.cross_entropy(scores, y, label_smoothing=cfg.label_smoothing)
            loss = ce if teacher is None else _distilled(ce, scores, teacher, x, cfg)
            opt.zero_grad()
            loss.backward()  # type: ignore[no-untyped-call]  # torch leaves it unannotated
            opt.step()
            sched.step()
            model.clip_weights()
            loss_sum += ce.item() * len(idx)  # the curve stays cross-entropy
            correct += int((scores.argmax(1) == y).sum())
            if progress is not None:
                progress(epoch * steps_per_epoch + b + 1, total,
                         f"epoch {epoch + 1}/{epochs} loss {loss.item():.3f}")
        history.train_loss.append(loss_sum / len(images))
        history.train_acc.append(correct / len(images))
        val = (evaluate(model, val_set.images, val_set.labels) if len(val_set.images)
               else (float("nan"), float("nan")))
        history.val_acc.append(val[0])
        history.val_loss.append(val[1])
        save_checkpoint(ckpt, {
            "format": CHECKPOINT_FORMAT, "config": config, "epochs": epochs, "epoch": epoch + 1,
            "state_dict": model.state_dict(), "optimizer": opt.state_dict(),
            "scheduler": sched.state_dict(), "generator": gen.get_state(),
            "history": vars(history), "data_digest": data_digest,
        })
        if after_epoch is not None:
            after_epoch(epoch + 1, model)
    if cfg.bn_calibrate:
        calibrate_bn(model, train_set.images, cfg, cfg.bn_calibrate)
        if len(val_set.images):  # the last entry describes the model saved
            val = evaluate(model, val_set.images, val_set.labels)
            history.val_acc[-1] = val[0]
            if history.val_loss:
                history.val_loss[-1] = val[1]
    model.eval()
    sample = val_set.images[0] if len(val_set.images) else train_set.images[0]
    sample_label = int(val_set.labels[0] if len(val_set.labels) else train_set.labels[0])
    save_checkpoint(output, {
        "format": CHECKPOINT_FORMAT, "config": config, "epochs": epochs, "epoch": epochs,
        "state_dict": model.state_dict(), "history": vars(history),
        "dataset": train_set.name, "dataset_source": train_set.source,
        "val_digest": split_digest(val_set),
        "sample": torch.from_numpy(np.ascontiguousarray(sample)), "sample_label": sample_label,
        **extra,
    })
    return model, history


def plot_history(history: History, path: Path, title: str) -> None:
    """Train/validation curves as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(history.train_loss)
    epochs = range(1, n + 1)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.8))
    ax1.plot(epochs, history.train_loss, label="train")
    if len(history.val_loss) == n:  # checkpoints older than the validation loss lack it
        ax1.plot(epochs, history.val_loss, label="validation")
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("cross-entropy loss")
    ax2.plot(epochs, [100 * a for a in history.train_acc], label="train")
    ax2.plot(epochs, [100 * a for a in history.val_acc], label="validation")
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("accuracy (%)")
    from matplotlib.ticker import MaxNLocator

    for ax in (ax1, ax2):  # the weights written (and exported) are the last epoch's
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.axvline(n, color="grey", linestyle=":", linewidth=1,
                   label=f"exported: epoch {n}" if ax is ax2 else None)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, dpi=100, format="png")
    plt.close(fig)
    write_bytes(path, buffer.getvalue())  # whole or not at all
