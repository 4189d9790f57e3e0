"""Trained torch model -> integer-exact artifact.

BN + sign of each hidden block folds into a per-channel integer threshold and direction. The
threshold is not derived algebraically: torch's own BatchNorm (eval mode, float32) is evaluated on
every accumulator value the block can produce, and the decisions are read off. So the exported
bit equals torch's float decision for every reachable accumulator, including the rounding at the
crossing. The output block's BN becomes ``score = scale * dot + offset`` in int32 fixed point.
Each layer's kind (``ebnn/layers/``) picks its weight layout and which of the two folds it gets.
"""

import math
from typing import Any

import numpy as np
import torch

from ebnn.artifact import Artifact, Layer
from ebnn.model import EBNN, Block


class ExportError(Exception):
    """The model cannot be exported exactly; ``str()`` is one line for the user."""


def accumulator_bound(block: Block, fan_in: int) -> int:
    return fan_in * 255 if block.first else fan_in


@torch.no_grad()
def fold_threshold(block: Block, bound: int) -> tuple[np.ndarray, np.ndarray]:
    """(threshold int32, direction int8) per channel from torch's BN on all of [-bound, bound]."""
    values = torch.arange(-bound, bound + 1, dtype=torch.float32)
    x = values / 255.0 if block.first else values
    bn = block.bn
    shape = (-1, bn.num_features, 1, 1) if isinstance(bn, torch.nn.BatchNorm2d) else (
        -1, bn.num_features)
    x = x[:, None].expand(-1, bn.num_features)
    decision = (bn(x.reshape(shape)).reshape(len(values), -1) >= 0).numpy()  # (values, C)
    thresholds = np.zeros(bn.num_features, np.int32)
    directions = np.zeros(bn.num_features, np.int8)
    for c in range(bn.num_features):
        d = decision[:, c]
        steps = np.diff(d.astype(np.int8))
        if not steps.any():
            directions[c], thresholds[c] = 0, int(d[0])
        elif (steps >= 0).all():
            directions[c], thresholds[c] = 1, -bound + int(np.argmax(d))
        elif (steps <= 0).all():
            directions[c], thresholds[c] = -1, -bound + int(np.nonzero(d)[0][-1])
        else:
            raise ExportError(f"channel {c}: BN decision is not monotone in the accumulator")
    return thresholds, directions


@torch.no_grad()
def fold_scores(block: Block, fan_in: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Output BN as int32 ``scale * dot + offset`` with the largest shift that cannot overflow."""
    bn = block.bn
    assert bn.running_mean is not None and bn.running_var is not None  # BN tracks running stats
    inv = 1.0 / np.sqrt(bn.running_var.double().numpy() + bn.eps)
    gamma = bn.weight.double().numpy() if bn.affine else np.ones_like(inv)
    beta = bn.bias.double().numpy() if bn.affine else np.zeros_like(inv)
    a = gamma * inv
    b = beta - bn.running_mean.double().numpy() * a
    worst = float(np.max(np.abs(a) * fan_in + np.abs(b))) or 1.0
    shift = min(30, math.floor(math.log2((2**31 - 1) / worst / 1.01)))
    if shift < 0:
        raise ExportError("output BN too large for int32 scores")
    scale = np.round(a * 2.0**shift).astype(np.int32)
    offset = np.round(b * 2.0**shift).astype(np.int32)
    return scale, offset, shift


def export_model(model: EBNN, metadata: dict[str, Any] | None = None) -> Artifact:
    model.eval()
    spec = model.spec
    layers: list[Layer] = []
    in_shape: tuple[int, ...] = spec.input
    out_shapes = [*spec.shapes(), (spec.classes,)]
    for i, block in enumerate(model.blocks):
        kind = block.kind
        w = kind.export_weights((block.op.weight.detach() >= 0).numpy(), in_shape)
        layer = Layer(kind=kind.name, first=block.first, in_shape=tuple(in_shape),
                      out_shape=tuple(out_shapes[i]), weights=w.astype(bool),
                      **kind.geometry(block.layer))
        kind.fold(block, layer)
        layers.append(layer)
        in_shape = tuple(out_shapes[i])
    return Artifact(spec.name, spec.input, spec.classes, layers, dict(metadata or {}))


def export_checkpoint(payload: dict[str, Any]) -> Artifact:
    """The artifact of a checkpoint (``ebnn.train.load_checkpoint``): the model, its sample,
    its input quantisation, and where it was trained, in the metadata."""
    from ebnn.quantize import InputQuant, QuantError
    from ebnn.train import model_from_checkpoint

    if "optimizer" in payload:  # (ebnn train's MODEL.pt.ckpt, written after every epoch)
        raise ExportError(
            f"a training checkpoint (epoch {payload.get('epoch', '?')} of "
            f"{payload.get('epochs', '?')}: for ebnn train --resume), not a finished model: it "
            "lacks the input quantisation, the class names and the batch-norm calibration "
            "the model is exported with; finish it (ebnn train CONFIG --resume -o MODEL.pt, "
            "--epochs N to stop sooner) and give MODEL.pt")
    net = model_from_checkpoint(payload)
    val_acc = payload["history"]["val_acc"]
    metadata: dict[str, Any] = {
        "config": payload["config"], "dataset": payload.get("dataset"),
        "dataset_source": payload.get("dataset_source"),
        # NaN when it trained without validation images (`ebnn search --refit`)
        "val_accuracy": val_acc[-1] if val_acc and not math.isnan(val_acc[-1]) else None,
        "sample_label": payload.get("sample_label"),
    }
    if isinstance(payload.get("data_path"), str):
        metadata["data_path"] = payload["data_path"]
    if isinstance(payload.get("class_names"), list):
        metadata["class_names"] = payload["class_names"]
    if isinstance(payload.get("input_clips"), dict):
        metadata["input_clips"] = payload["input_clips"]
    if isinstance(payload.get("val_digest"), str):  # what --split val must draw again
        metadata["val_digest"] = payload["val_digest"]
    art = export_model(net, metadata=metadata)
    if "sample" in payload:
        art.sample = payload["sample"].numpy()
    if payload.get("input_quant") is not None:
        try:
            art.input_quant = InputQuant.from_dict(payload["input_quant"])
        except QuantError as exc:
            raise ExportError(f"checkpoint: {exc}") from None
    return art
