"""conv: binary 2-D convolution over an H x W x C map (or, as the first layer, over the pixels),
max-pool over the integer accumulators, BN + sign folded into a threshold per filter.

Artifact weights are (F, kh, kw, C); a window's taps are in (kh, kw, C) order, zero padding
contributes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ebnn.ctext import c_array, hidden_layer_function, pack_words, words
from ebnn.layers.base import (
    MAX_DIM,
    MAX_VALUES,
    LayerError,
    LayerKind,
    LayerSpec,
    check,
    int_key,
)
from ebnn.layers.first_conv import first_layer_function, input_alias_offset
from ebnn.layers.threshold import ThresholdHead

if TYPE_CHECKING:
    from torch import nn

    from ebnn.artifact import Layer


def conv_size(h: int, w: int, kernel: tuple[int, int], stride: int,
              padding: int) -> tuple[int, int]:
    """(Hc, Wc) of the convolution's output before pooling."""
    kh, kw = kernel
    return (h + 2 * padding - kh) // stride + 1, (w + 2 * padding - kw) // stride + 1


def _windows(x: np.ndarray, layer: Layer) -> np.ndarray:
    """(N, Hc, Wc, kh*kw*C) windows of zero-padded x (N, H, W, C)."""
    p = layer.padding
    if p:
        x = np.pad(x, ((0, 0), (p, p), (p, p), (0, 0)))
    kh, kw = layer.kernel
    win = sliding_window_view(x, (kh, kw), axis=(1, 2))  # (N, H', W', C, kh, kw)
    win = win[:, :: layer.stride, :: layer.stride]
    hc, wc = conv_size(layer.in_shape[0], layer.in_shape[1], layer.kernel, layer.stride, p)
    win = win[:, :hc, :wc]
    return win.transpose(0, 1, 2, 4, 5, 3).reshape(x.shape[0], hc, wc, -1)


def _pool(acc: np.ndarray, layer: Layer) -> np.ndarray:
    if layer.pool == 1:
        return acc
    win = sliding_window_view(acc, (layer.pool, layer.pool), axis=(1, 2))
    win = win[:, :: layer.pool_stride, :: layer.pool_stride]
    hp, wp = layer.out_shape[0], layer.out_shape[1]
    pooled: np.ndarray = win[:, :hp, :wp].max(axis=(-2, -1))
    return pooled


def sign_constants(layer: Layer) -> tuple[np.ndarray, np.ndarray]:
    """Per filter ``c`` (int64, F) and the inversion words (uint32, ceil(F / 32)) of
    ``ebnn_conv_sliced``: with ``q = K - acc`` (twice the window's popcount plus its padded
    bits), the filter's bit is the sign bit of ``q + c`` ORed over its pool windows, XORed
    with its inversion bit. dir +1: some ``q <= K - T``; dir -1: NOT (some ``q < K - T``);
    dir 0: never (``c = 0``), then the constant ``T != 0``. Thresholds beyond the reachable
    ``[-K, K]`` are clamped first, which decides no bit differently."""
    assert layer.threshold is not None and layer.direction is not None  # validated layer
    k = int(np.prod(layer.weights.shape[1:]))
    t = np.clip(layer.threshold.astype(np.int64), -k - 1, k + 1)
    d = layer.direction.astype(np.int64)
    c = np.where(d > 0, t - k - 1, np.where(d < 0, t - k, 0))
    inv = (d < 0) | ((d == 0) & (t != 0))
    return c, pack_words(inv[None, :])[0]


TRIPLE_WORDS = 168  # EBNN_TRIPLE_WORDS of firmware/ebnn_kernels.h


def _triple_table(tw: np.ndarray) -> np.ndarray:
    """``ebnn_count_triples``' table for one window word: ``tw`` (32,) the transposed weight
    words of its taps. Per triple t (taps 3t..3t+2) and value v of their window bits: the sum
    and carry words of the full adder of the lanes' XORs; then the pair 30..31 (4 values)."""
    out = []
    for t in range(10):
        for v in range(8):
            x = [int(tw[3 * t + j]) ^ (0xFFFFFFFF if v >> j & 1 else 0) for j in range(3)]
            out += [x[0] ^ x[1] ^ x[2], (x[0] & x[1]) | (x[2] & (x[0] ^ x[1]))]
    for v in range(4):
        x = [int(tw[30 + j]) ^ (0xFFFFFFFF if v >> j & 1 else 0) for j in range(2)]
        out += [x[0] ^ x[1], x[0] & x[1]]
    assert len(out) == TRIPLE_WORDS
    return np.array(out, np.uint32)


def count_planes(taps: int) -> int:
    """NB of ``ebnn_conv_sliced``: the bit planes of a count of up to ``taps``."""
    return max(taps.bit_length(), 4)


def sliced_records(layer: Layer) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """(triple tables, transposed weights, c planes, NB) of ``ebnn_conv_sliced``, per group of
    32 filters: transposed weights are NW * 32 words (word k has bit j = filter j's weight at
    tap k, zero above the K taps); c (``sign_constants``) as B = NB + 4 two's-complement
    bit planes."""
    c, _ = sign_constants(layer)
    f = layer.weights.shape[0]
    k = int(np.prod(layer.weights.shape[1:]))
    nw = words(k)
    nb = count_planes(k)
    tabs, tws, planes = [], [], []
    for g in range(0, f, 32):
        lanes = np.zeros((32, nw * 32), bool)
        wb = layer.weights.reshape(f, -1)[g : g + 32].astype(bool)
        lanes[: len(wb), :k] = wb
        tw = pack_words(lanes.T)[:, 0]  # (taps,) words: bit j = lane j
        tws.append(tw)
        tabs += [_triple_table(tw[32 * i : 32 * i + 32]) for i in range(nw)]
        cl = np.zeros(32, np.int64)
        cl[: len(wb)] = c[g : g + 32]
        planes.append(pack_words(((cl[None, :] >> np.arange(nb + 4)[:, None]) & 1)
                                 .astype(bool))[:, 0])
    return (np.concatenate(tabs).astype(np.uint32), np.concatenate(tws).astype(np.uint32),
            np.concatenate(planes).astype(np.uint32), nb)



def sliced_consts(index: int, layer: Layer) -> str:
    """The constant arrays of hidden conv layer ``index`` (``l<index>_*``, ebnn_conv_sliced)."""
    p = f"l{index}"
    kh, kw = layer.kernel
    nw = words(kh * kw * layer.in_shape[2])
    _, inv = sign_constants(layer)
    tab, tw, planes, nb = sliced_records(layer)
    consts = (f"/* per 32 filters: the triple tables of {nw} window words, c as {nb + 4} bit "
              "planes (ebnn_conv_sliced) */\n"
              + c_array("uint32_t", f"{p}_tab", tab, hexa=True)
              + c_array("uint32_t", f"{p}_cpl", planes, hexa=True)
              + c_array("uint32_t", f"{p}_inv", inv, hexa=True))
    if layer.padding:  # windows over the padding count tap by tap
        consts += c_array("uint32_t", f"{p}_tw", tw, hexa=True)
    return consts


def sliced_rows_function(name: str, index: int, layer: Layer,
                         ring: tuple[str, str, str] | None = None, pixel: bool = False) -> str:
    """``name``: hidden conv layer ``index`` (its arrays from ``sliced_consts``) by rows:
    output rows py0..py1-1 into bw from the whole input map, ``name(in, bw, py0, py1)``; or,
    for a stream, ``name(s, bw, py)``: output row py (``pixel``: ``name(s, bw, py, px)``, its
    pixel px) from a ring of input rows, ``ring`` = (the parameter s, C for the ring and for
    its first row's index). Specialisations of the one kernel: each caller's constants reach
    it, and a build links only the one it calls."""
    p = f"l{index}"
    h, w, c = layer.in_shape
    kh, kw = layer.kernel
    _, wo, f = layer.out_shape
    dims = (f"{h}, {w}, {c}, {kh}, {kw}, {layer.stride}, {layer.padding}, {layer.pool}, "
            f"{layer.pool_stride}, {f}")
    nw = words(kh * kw * c)
    nb = count_planes(kh * kw * c)
    # a stream's loop order keeps one window (ebnn_conv_sliced's ONE): less stack
    nwin = nw if ring else layer.pool * layer.pool * nw
    if layer.padding:  # mask = {0}: written before use, the compiler cannot always see it
        scratch = f"    uint32_t win[{nwin}], mask[{nwin}] = {{0}}, n[{nb}];\n"
    else:  # no window over the padding: no mask
        scratch = f"    uint32_t win[{nwin}], n[{nb}], *mask = win;\n"
    scratch += (f"    uint32_t bits[{(f + 31) // 32}];\n" if ring
                else f"    int32_t pad[{layer.pool * layer.pool}];\n")
    tw_name = f"{p}_tw" if layer.padding else "0"
    if ring:
        param, src, base = ring
        what = "pixel (py, px)" if pixel else "row py"
        head = (f"/* layer {index}, output {what} of a stream into bw */\n"
                f"static EBNN_NOINLINE void {name}({param}, ebnn_bitwriter *bw, int py"
                + (", int px" if pixel else "") + ")\n{\n")
        cols = "px, px + 1" if pixel else f"0, {wo}"
        call = f"{src}, {base}, bw, py, py + 1, {cols}"
    else:
        head = (f"/* layer {index}, output rows py0..py1-1 into bw */\n"
                f"static EBNN_NOINLINE void {name}(const uint32_t *in, "
                "ebnn_bitwriter *bw, int py0, int py1)\n{\n")
        call = f"in, 0, bw, py0, py1, 0, {wo}"
    return (head + scratch
            + f"    ebnn_conv_sliced({call}, {p}_tab, {tw_name}, {p}_cpl, {p}_inv, "
            f"{dims}, {nw}, {nb}, "
            + ("1, win, mask, 0, bits, n);\n}\n\n" if ring else "0, win, mask, pad, 0, n);\n}\n\n"))


class Conv(ThresholdHead, LayerKind):
    name = "conv"
    keys = ("filters", "kernel", "stride", "padding", "pool", "pool_stride")

    def parse(self, table: dict[str, Any], where: str) -> LayerSpec:
        k = table.get("kernel", 3)
        if isinstance(k, int) and not isinstance(k, bool):
            k = [k, k]
        if (not isinstance(k, list) or len(k) != 2
                or not all(isinstance(v, int) and not isinstance(v, bool) and 1 <= v <= MAX_DIM
                           for v in k)):
            raise LayerError(f"{where}: 'kernel' must be an integer or [kh, kw] in 1..{MAX_DIM}, "
                             f"got {k!r}")
        pool = int_key(table, "pool", 1, where)
        pool_stride = int_key(table, "pool_stride", pool, where)
        if pool == 1 and pool_stride != 1:
            raise LayerError(f"{where}: 'pool_stride' = {pool_stride} needs a 'pool' > 1 "
                             "(without a pool there is nothing to stride over; use 'stride')")
        return LayerSpec(
            self.name, int_key(table, "filters", None, where), (k[0], k[1]),
            int_key(table, "stride", 1, where), int_key(table, "padding", 0, where, lo=0),
            pool, pool_stride,
        )

    def to_config(self, spec: LayerSpec) -> dict[str, Any]:
        return {"type": self.name, "filters": spec.out, "kernel": list(spec.kernel),
                "stride": spec.stride, "padding": spec.padding, "pool": spec.pool,
                "pool_stride": spec.pool_stride}

    def may_follow(self, previous: LayerKind | None) -> bool:
        return previous is None or isinstance(previous, Conv)  # it needs an H x W x C input

    def output_shape(self, in_shape: tuple[int, ...], spec: LayerSpec,
                     where: str) -> tuple[int, ...]:
        h, w, _ = in_shape
        kh, kw = spec.kernel
        hc, wc = conv_size(h, w, spec.kernel, spec.stride, spec.padding)
        if hc < 1 or wc < 1:
            raise LayerError(f"{where}: kernel {kh}x{kw} does not fit a {h}x{w} input")
        hp = (hc - spec.pool) // spec.pool_stride + 1
        wp = (wc - spec.pool) // spec.pool_stride + 1
        if hp < 1 or wp < 1:
            raise LayerError(f"{where}: pool {spec.pool} does not fit a {hc}x{wc} conv output")
        if hc * wc * spec.out > MAX_VALUES:
            raise LayerError(f"{where}: a {hc}x{wc}x{spec.out} conv output is over the limit of "
                             f"{MAX_VALUES:,} values")
        return (hp, wp, spec.out)

    def build(self, spec: LayerSpec, in_shape: tuple[int, ...]
              ) -> tuple[nn.Conv2d | nn.Linear, nn.Module, nn.BatchNorm1d | nn.BatchNorm2d]:
        from torch import nn

        from ebnn.model import BinaryConv2d

        op = BinaryConv2d(in_shape[2], spec.out, spec.kernel, spec.stride, spec.padding,
                          bias=False)
        pool = nn.MaxPool2d(spec.pool, spec.pool_stride) if spec.pool > 1 else nn.Identity()
        return op, pool, nn.BatchNorm2d(spec.out)

    def export_weights(self, bits: np.ndarray, in_shape: tuple[int, ...]) -> np.ndarray:
        return np.ascontiguousarray(bits.transpose(0, 2, 3, 1))  # (F, C, kh, kw) -> (F, kh, kw, C)

    def geometry(self, spec: LayerSpec) -> dict[str, Any]:
        return {"kernel": tuple(spec.kernel), "stride": spec.stride, "padding": spec.padding,
                "pool": spec.pool, "pool_stride": spec.pool_stride}

    def validate(self, layer: Layer, where: str) -> None:
        check(layer.weights.ndim == 4, f"{where}: weight shape")
        f, kh, kw, c = layer.weights.shape
        check((kh, kw) == tuple(layer.kernel) and c == layer.in_shape[2],
              f"{where}: weight shape")
        check(layer.stride >= 1 and layer.padding >= 0 and layer.pool >= 1
              and layer.pool_stride >= 1 and (layer.pool > 1 or layer.pool_stride == 1)
              and max(layer.stride, layer.padding, layer.pool, layer.pool_stride) <= MAX_DIM,
              f"{where}: bad stride/padding/pool")
        spec = LayerSpec(self.name, f, (kh, kw), layer.stride, layer.padding, layer.pool,
                         layer.pool_stride)
        check(tuple(layer.out_shape) == self.output_shape(tuple(layer.in_shape), spec, where),
              f"{where}: output shape")
        self.check_directions(layer, where)

    def accumulate(self, layer: Layer, x: np.ndarray) -> np.ndarray:
        signs = np.where(layer.weights, 1.0, -1.0).astype(x.dtype)
        acc = _windows(x, layer) @ signs.reshape(signs.shape[0], -1).T
        return _pool(acc, layer)

    def code(self, function: str, index: int, layer: Layer, src: str,
             dst: str) -> tuple[str, str]:
        if layer.first:
            return first_layer_function(function, index, layer, dst)
        consts = sliced_consts(index, layer)
        consts += sliced_rows_function(f"{function}_rows", index, layer)
        body = ("    ebnn_bitwriter bw = {out, 0, 0};\n"
                f"    {function}_rows(in, &bw, 0, {layer.out_shape[0]});\n"
                "    ebnn_flush(&bw);\n")
        return consts, hidden_layer_function(function, index, self.name, layer.in_shape,
                                             layer.out_shape, src, dst, body)

    def input_alias_offset(self, layer: Layer) -> int | None:
        return input_alias_offset(layer) if layer.first else None

    def describe(self, element: Sequence[int]) -> str:
        return f"y={element[0]}, x={element[1]}, channel={element[2]}"

    def summary(self, layer: Layer) -> str:
        s = f"conv{layer.weights.shape[0]} {layer.kernel[0]}x{layer.kernel[1]}"
        if layer.stride > 1:
            s += f"/s{layer.stride}"
        if layer.pool > 1:
            s += f" pool{layer.pool}" + (f"/s{layer.pool_stride}"
                                        if layer.pool_stride != layer.pool else "")
        return s
