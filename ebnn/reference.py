"""The numpy reference: runs an artifact with exactly the firmware's integer semantics.

Accumulators are computed as float64 matrix products of small integers, which are exact (every
partial sum stays far below 2**53), then compared as integers. Batched over images.
"""

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

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


def accumulate(layer: Layer, x: np.ndarray) -> np.ndarray:
    """Integer accumulators (after pooling) of ``layer`` for inputs x: float64 of exact integers
    (pixels as 2x - 255, bits as ±1), shape (N, H, W, C) or (N, features)."""
    signs = np.where(layer.weights, 1.0, -1.0)
    if layer.kind == "conv":
        acc = _windows(x, layer) @ signs.reshape(signs.shape[0], -1).T
        return _pool(acc, layer)
    return x.reshape(x.shape[0], -1) @ signs.T


def threshold(layer: Layer, acc: np.ndarray) -> np.ndarray:
    t, d = layer.threshold.astype(np.int64), layer.direction
    a = np.rint(acc).astype(np.int64)
    return np.where(d == 1, a >= t, np.where(d == -1, a <= t, t != 0))


def run(art: Artifact, images: np.ndarray, batch: int = 256) -> ReferenceResult:
    """Run uint8 images (N, H, W, C) through the artifact."""
    images = np.asarray(images)
    if images.ndim == 3:
        images = images[None]
    if images.shape[1:] != tuple(art.input_shape) or images.dtype != np.uint8:
        raise ValueError(f"expected uint8 images of shape {tuple(art.input_shape)}, got "
                         f"{images.dtype} {images.shape[1:]}")
    scores, bits = [], [[] for _ in art.hidden]
    for start in range(0, len(images), batch):
        x = images[start : start + batch].astype(np.float64) * 2.0 - 255.0
        for i, layer in enumerate(art.hidden):
            b = threshold(layer, accumulate(layer, x))
            bits[i].append(b)
            x = np.where(b, 1.0, -1.0)
        out = art.output
        dot = np.rint(accumulate(out, x)).astype(np.int64)
        scores.append(dot * out.scale.astype(np.int64) + out.offset.astype(np.int64))
    s = np.concatenate(scores) if scores else np.zeros((0, art.classes), np.int64)
    return ReferenceResult(s, np.argmax(s, axis=1), [np.concatenate(b) for b in bits])
