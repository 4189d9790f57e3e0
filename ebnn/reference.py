"""The numpy reference: runs an artifact with exactly the firmware's integer semantics.

Accumulators are computed as BLAS matrix products of small integers, which are exact as long
as every partial sum is an integer the float type represents: float32 when a layer's largest
possible |sum| is below 2**24 (every model that fits a microcontroller), float64 otherwise.
Batched over images. BLAS runs on one thread: verification computes the reference beside the
emulator, and a second BLAS thread would only compete with it.
"""

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from threadpoolctl import threadpool_limits

from ebnn.artifact import Artifact, Layer


@dataclass
class ReferenceResult:
    scores: np.ndarray  # int64 (N, classes)
    classes: np.ndarray  # int64 (N,)
    bits: list[np.ndarray]  # per hidden layer: bool (N, *out_shape)


def _windows(x: np.ndarray, layer: Layer) -> np.ndarray:
    """(N, Hc, Wc, kh*kw*C) windows of zero-padded x (N, H, W, C)."""
    p = layer.padding
    if p:
        x = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)))
    kh, kw = layer.kernel
    win = sliding_window_view(x, (kh, kw), axis=(1, 2))  # (N, H', W', C, kh, kw)
    win = win[:, :: layer.stride, :: layer.stride]
    hc, wc = layer.conv_shape
    win = win[:, :hc, :wc]
    return win.transpose(0, 1, 2, 4, 5, 3).reshape(x.shape[0], hc, wc, -1)


def _pool(acc: np.ndarray, layer: Layer) -> np.ndarray:
    if layer.pool == 1:
        return acc
    win = sliding_window_view(acc, (layer.pool, layer.pool), axis=(1, 2))
    win = win[:, :: layer.pool_stride, :: layer.pool_stride]
    hp, wp = layer.out_shape[0], layer.out_shape[1]
    return win[:, :hp, :wp].max(axis=(-2, -1))


EXACT_FLOAT32 = 2**24  # every integer of smaller magnitude is a float32


def accumulate(layer: Layer, x: np.ndarray) -> np.ndarray:
    """Integer accumulators (after pooling) of ``layer`` for inputs x: exact integers in x's float
    type (pixels as 2x - 255, bits as ±1), shape (N, H, W, C) or (N, features)."""
    signs = np.where(layer.weights, 1.0, -1.0).astype(x.dtype)
    if layer.kind == "conv":
        acc = _windows(x, layer) @ signs.reshape(signs.shape[0], -1).T
        return _pool(acc, layer)
    return x.reshape(x.shape[0], -1) @ signs.T


def threshold(layer: Layer, acc: np.ndarray) -> np.ndarray:
    """Output bits: acc >= t (direction 1), acc <= t (-1), or the constant t != 0 (0).

    ``acc`` holds exact integers and so does ``t`` in the same float type, so comparing the
    floats is comparing the integers."""
    t, d = layer.threshold.astype(acc.dtype), layer.direction
    bits = np.where(d == 1, acc >= t, acc <= t)
    const = d == 0
    if const.any():
        bits[..., const] = (layer.threshold != 0)[const]
    return bits


def _float_type(art: Artifact) -> type:
    """float32 when no accumulator of any layer can reach 2**24 in magnitude, else float64."""
    first = art.layers[0]
    largest = max(255 * first.fan_in, *(layer.fan_in for layer in art.layers[1:]))
    return np.float32 if largest < EXACT_FLOAT32 else np.float64


def run(art: Artifact, images: np.ndarray, batch: int = 256) -> ReferenceResult:
    """Run uint8 images (N, H, W, C) through the artifact."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[None]
    if images.shape[1:] != tuple(art.input_shape) or images.dtype != np.uint8:
        raise ValueError(f"expected uint8 images of shape {tuple(art.input_shape)}, got "
                         f"{images.dtype} {images.shape[1:]}")
    ftype = _float_type(art)
    scores, bits = [], [[] for _ in art.hidden]
    with threadpool_limits(limits=1, user_api="blas"):
        for start in range(0, len(images), batch):
            x = images[start : start + batch].astype(ftype) * 2 - 255
            for i, layer in enumerate(art.hidden):
                b = threshold(layer, accumulate(layer, x))
                bits[i].append(b)
                x = (b.astype(ftype) * 2 - 1)
            out = art.output
            dot = accumulate(out, x).astype(np.int64)
            scores.append(dot * out.scale.astype(np.int64) + out.offset.astype(np.int64))
    s = np.concatenate(scores) if scores else np.zeros((0, art.classes), np.int64)
    return ReferenceResult(s, np.argmax(s, axis=1), [np.concatenate(b) for b in bits])
