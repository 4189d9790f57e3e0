"""The numpy reference: runs an artifact with exactly the firmware's integer semantics.

Accumulators are computed as BLAS matrix products of small integers, which are exact as long
as every partial sum is an integer the float type represents: float32 when a layer's largest
possible |sum| is below 2**24 (every model that fits a microcontroller), float64 otherwise.
Batched over images. BLAS runs on one thread: verification computes the reference beside the
emulator, and a second BLAS thread would only compete with it. How a layer accumulates is its
kind's (``ebnn/layers/``).
"""

import math
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from ebnn.artifact import Artifact, Layer, layer_kind
from ebnn.quantize import to_uint8


@dataclass
class ReferenceResult:
    scores: np.ndarray  # int64 (N, classes)
    classes: np.ndarray  # int64 (N,)
    bits: list[np.ndarray]  # per hidden layer: bool (N, *out_shape); [] unless asked for


EXACT_FLOAT32 = 2**24  # every integer of smaller magnitude is a float32


def threshold(layer: Layer, acc: np.ndarray) -> np.ndarray:
    """Output bits: acc >= t (direction 1), acc <= t (-1), or the constant t != 0 (0).

    ``acc`` holds exact integers and so does ``t`` in the same float type, so comparing the
    floats is comparing the integers."""
    assert layer.threshold is not None and layer.direction is not None  # a validated layer
    t, d = layer.threshold.astype(acc.dtype), layer.direction
    bits = np.where(d == 1, acc >= t, acc <= t)
    const = d == 0
    if const.any():
        bits[..., const] = (layer.threshold != 0)[const]
    return bits


def _float_type(art: Artifact) -> type[np.float32] | type[np.float64]:
    """float32 when no accumulator of any layer can reach 2**24 in magnitude, else float64."""
    first = art.layers[0]
    largest = max(255 * first.fan_in, *(layer.fan_in for layer in art.layers[1:]))
    return np.float32 if largest < EXACT_FLOAT32 else np.float64


def quantize_input(art: Artifact, samples: np.ndarray) -> np.ndarray:
    """The uint8 input the firmware reads for ``samples``: float data through the artifact's
    input quantisation (ebnn/quantize.py); a model trained on uint8 data takes uint8 as it is.
    Torch (training, ``ebnn eval --pt``) is given exactly these bytes too."""
    return to_uint8(np.asarray(samples), art.input_quant)


WORK_BYTES = 256 << 20  # the windows of one batch of images


def _conv_outputs(layer: Layer) -> int:
    """Hc x Wc: the windows of a conv layer (before pooling) per image."""
    from ebnn.layers.conv import conv_size

    hc, wc = conv_size(layer.in_shape[0], layer.in_shape[1], layer.kernel, layer.stride,
                       layer.padding)
    return hc * wc


def run(art: Artifact, images: np.ndarray, batch: int = 256,
        keep_bits: bool = False) -> ReferenceResult:
    """Run uint8 inputs (N, H, W, C) through the artifact (float samples: quantize_input
    first). ``keep_bits``: every hidden layer's bits of every image too (memory grows with
    the images times the maps: ask for a few images)."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[None]
    if images.shape[1:] != tuple(art.input_shape) or images.dtype != np.uint8:
        raise ValueError(f"expected uint8 images of shape {tuple(art.input_shape)}, got "
                         f"{images.dtype} {images.shape[1:]}")
    ftype = _float_type(art)
    kinds = [layer_kind(layer, f"layer {i}") for i, layer in enumerate(art.layers)]
    # a conv layer's windows of a batch: at most WORK_BYTES (ebnn.layers.base bounds them
    # per image), so a model of big windows runs a few images at a time
    window = max((math.prod(layer.weights.shape[1:]) * _conv_outputs(layer)
                  for layer in art.hidden if layer.kind in ("conv", "conv1d")), default=0)
    batch = max(1, min(batch, WORK_BYTES // max(1, window * np.dtype(ftype).itemsize)))
    scores: list[np.ndarray] = []
    bits: list[list[np.ndarray]] = [[] for _ in art.hidden]
    with threadpool_limits(limits=1, user_api="blas"):
        for start in range(0, len(images), batch):
            x = images[start : start + batch].astype(ftype) * 2 - 255
            for i, layer in enumerate(art.hidden):
                b = threshold(layer, kinds[i].accumulate(layer, x))
                if keep_bits:
                    bits[i].append(b)
                x = (b.astype(ftype) * 2 - 1)
            out = art.output
            assert out.scale is not None and out.offset is not None  # a validated layer
            dot = kinds[-1].accumulate(out, x).astype(np.int64)
            scores.append(dot * out.scale.astype(np.int64) + out.offset.astype(np.int64))
    s = np.concatenate(scores) if scores else np.zeros((0, art.classes), np.int64)
    return ReferenceResult(s, np.argmax(s, axis=1),
                           [np.concatenate(b) for b in bits] if keep_bits else [])
