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
    MAX_VALUES,
    MAX_WINDOW_VALUES,
    LayerError,
    LayerKind,
    LayerSpec,
    check,
    int_key,
    pair_key,
)
from ebnn.layers.first_conv import axes, first_layer_function, input_alias_offset
from ebnn.layers.threshold import ThresholdHead

if TYPE_CHECKING:
    from torch import nn

    from ebnn.artifact import Layer


def conv_size(h: int, w: int, kernel: tuple[int, int], stride: tuple[int, int],
              padding: tuple[int, int]) -> tuple[int, int]:
    """(Hc, Wc) of the convolution's output before pooling."""
    kh, kw = kernel
    return ((h + 2 * padding[0] - kh) // stride[0] + 1,
            (w + 2 * padding[1] - kw) // stride[1] + 1)


def _windows(x: np.ndarray, layer: Layer) -> np.ndarray:
    """(N, Hc, Wc, kh*kw*C) windows of zero-padded x (N, H, W, C)."""
    py, px = layer.padding
    if py or px:
        x = np.pad(x, ((0, 0), (py, py), (px, px), (0, 0)))
    kh, kw = layer.kernel
    win = sliding_window_view(x, (kh, kw), axis=(1, 2))  # (N, H', W', C, kh, kw)
    win = win[:, :: layer.stride[0], :: layer.stride[1]]
    hc, wc = conv_size(layer.in_shape[0], layer.in_shape[1], layer.kernel, layer.stride,
                       layer.padding)
    win = win[:, :hc, :wc]
    return win.transpose(0, 1, 2, 4, 5, 3).reshape(x.shape[0], hc, wc, -1)


def _pool(acc: np.ndarray, layer: Layer) -> np.ndarray:
    if layer.pool == (1, 1):
        return acc
    win = sliding_window_view(acc, layer.pool, axis=(1, 2))
    win = win[:, :: layer.pool_stride[0], :: layer.pool_stride[1]]
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


def pair_value(pair: tuple[int, int]) -> int | list[int]:
    """A per-axis size as a config or an artifact header stores it: an integer when both axes
    agree (what every version wrote), else ``[y, x]``."""
    return pair[0] if pair[0] == pair[1] else [pair[0], pair[1]]


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
    if any(layer.padding):  # windows over the padding count tap by tap
        consts += c_array("uint32_t", f"{p}_tw", tw, hexa=True)
    return consts


def sliced_rows_function(name: str, index: int, layer: Layer,
                         ring: tuple[str, str, str] | None = None, pixel: bool = False) -> str:
    """``name``: hidden conv layer ``index`` (its arrays from ``sliced_consts``) by rows:
    output rows py0..py1-1 into bw from the whole input map, ``name(in, bw, py0, py1)``; or,
    for a stream, ``name(s, bw, py)``: output row py (``pixel``: ``name(s, bw, py, px)``, its
    pixel px) from a ring of input rows, ``ring`` = (the parameter s, C for the ring and for
    its first row's index). Specialisations of the one kernel (``ebnn_conv_sliced_hw``; the
    whole map of a square geometry calls its short form ``ebnn_conv_sliced``): each caller's
    constants reach it, and a build links only the one it calls."""
    p = f"l{index}"
    h, w, c = layer.in_shape
    kh, kw = layer.kernel
    _, wo, f = layer.out_shape
    (sy, sx), (py, px) = layer.stride, layer.padding
    (qy, qx), (ty, tx) = layer.pool, layer.pool_stride
    square = (sy, py, qy, ty) == (sx, px, qx, tx)
    hw_dims = (f"{h}, {w}, {c}, {kh}, {kw}, {sy}, {sx}, {py}, {px}, {qy}, {qx}, {ty}, {tx}, "
               f"{f}")
    nw = words(kh * kw * c)
    nb = count_planes(kh * kw * c)
    padded = (py, px) != (0, 0)
    # a stream's loop order keeps one window (ebnn_conv_sliced_hw's ONE): less stack; so does
    # a whole map's pool of more than 2x2 windows, whose windows kept at once (and the loops
    # gcc unrolls over them) would grow stack and code with the pool's area
    one = bool(ring) or qy * qx > 4
    nwin = nw if one else qy * qx * nw
    if padded:  # mask: written by ebnn_gather before each use; zeroed once so that compilers
        # see it written (gcc's -Wmaybe-uninitialized), by a loop (= {0} became a memset call)
        scratch = f"    uint32_t win[{nwin}], mask[{nwin}], n[{nb}];\n"
    else:  # no window over the padding: no mask
        scratch = f"    uint32_t win[{nwin}], n[{nb}], *mask = win;\n"
    scratch += (f"    uint32_t bits[{(f + 31) // 32}];\n" if one
                else f"    int32_t pad[{qy * qx}];\n")
    if padded:  # after the declarations (C90-style -Wdeclaration-after-statement)
        scratch += f"    EBNN_UNROLL\n    for (int i = 0; i < {nwin}; i++)\n        mask[i] = 0;\n"
    tw_name = f"{p}_tw" if padded else "0"
    consts = f"{p}_tab, {tw_name}, {p}_cpl, {p}_inv"
    if ring:
        param, src, base = ring
        what = "pixel (py, px)" if pixel else "row py"
        head = (f"/* layer {index}, output {what} of a stream into bw */\n"
                f"static EBNN_NOINLINE void {name}({param}, ebnn_bitwriter *bw, int py"
                + (", int px" if pixel else "") + ")\n{\n")
        cols = "px, px + 1" if pixel else f"0, {wo}"
        call = (f"ebnn_conv_sliced_hw({src}, {base}, bw, py, py + 1, {cols}, {consts}, "
                f"{hw_dims}, {nw}, {nb}, 1, win, mask, 0, bits, n);")
    else:
        head = (f"/* layer {index}, output rows py0..py1-1 into bw */\n"
                f"static EBNN_NOINLINE void {name}(const uint32_t *in, "
                "ebnn_bitwriter *bw, int py0, int py1)\n{\n")
        if one:
            call = (f"ebnn_conv_sliced_hw(in, 0, bw, py0, py1, 0, {wo}, {consts}, {hw_dims}, "
                    f"{nw}, {nb}, 1, win, mask, 0, bits, n);")
        elif square:  # the short form: the same C as before per-axis geometry
            call = (f"ebnn_conv_sliced(in, bw, py0, py1, {consts}, {h}, {w}, {c}, {kh}, {kw}, "
                    f"{sy}, {py}, {qy}, {ty}, {wo}, {f}, {nw}, {nb}, win, mask, pad, n);")
        else:
            call = (f"ebnn_conv_sliced_hw(in, 0, bw, py0, py1, 0, {wo}, {consts}, {hw_dims}, "
                    f"{nw}, {nb}, 0, win, mask, pad, 0, n);")
    return head + scratch + f"    {call}\n}}\n\n"


class Conv(ThresholdHead, LayerKind):
    name = "conv"
    keys = ("filters", "kernel", "stride", "padding", "pool", "pool_stride")

    def parse(self, table: dict[str, Any], where: str) -> LayerSpec:
        kernel = pair_key(table, "kernel", 3, where)
        pool = pair_key(table, "pool", 1, where)
        pool_stride = pair_key(table, "pool_stride", pool, where)
        self._check_pool(pool, pool_stride, where)
        return LayerSpec(self.name, int_key(table, "filters", None, where), kernel,
                         pair_key(table, "stride", 1, where),
                         pair_key(table, "padding", 0, where, lo=0), pool, pool_stride)

    @staticmethod
    def _check_pool(pool: tuple[int, int], pool_stride: tuple[int, int], where: str,
                    shown: object = None) -> None:
        """``shown``: the pool stride as the user wrote it (default: as ``pair_value``)."""
        if any(p == 1 and s != 1 for p, s in zip(pool, pool_stride, strict=True)):
            shown = pair_value(pool_stride) if shown is None else shown
            raise LayerError(f"{where}: 'pool_stride' = {shown} needs a "
                             "'pool' > 1 on that axis (without a pool there is nothing to "
                             "stride over; use 'stride')")

    def to_config(self, spec: LayerSpec) -> dict[str, Any]:
        return {"type": self.name, "filters": spec.out, "kernel": list(spec.kernel),
                "stride": pair_value(spec.stride), "padding": pair_value(spec.padding),
                "pool": pair_value(spec.pool), "pool_stride": pair_value(spec.pool_stride)}

    def may_follow(self, previous: LayerKind | None) -> bool:
        return previous is None or isinstance(previous, Conv)  # it needs an H x W x C input

    def output_shape(self, in_shape: tuple[int, ...], spec: LayerSpec,
                     where: str) -> tuple[int, ...]:
        h, w, _ = in_shape
        kh, kw = spec.kernel
        hc, wc = conv_size(h, w, spec.kernel, spec.stride, spec.padding)
        if hc < 1 or wc < 1:
            raise LayerError(f"{where}: kernel {kh}x{kw} does not fit a {h}x{w} input")
        hp = (hc - spec.pool[0]) // spec.pool_stride[0] + 1
        wp = (wc - spec.pool[1]) // spec.pool_stride[1] + 1
        if hp < 1 or wp < 1:
            raise LayerError(f"{where}: pool {axes(spec.pool)} does not fit a {hc}x{wc} "
                             "conv output")
        if hc * wc * spec.out > MAX_VALUES:
            raise LayerError(f"{where}: a {hc}x{wc}x{spec.out} conv output is over the limit of "
                             f"{MAX_VALUES:,} values")
        if hc * wc * kh * kw * in_shape[2] > MAX_WINDOW_VALUES:
            raise LayerError(f"{where}: {hc}x{wc} windows of {kh}x{kw}x{in_shape[2]} values are "
                             f"over the limit of {MAX_WINDOW_VALUES:,} values per image")
        return (hp, wp, spec.out)

    def build(self, spec: LayerSpec, in_shape: tuple[int, ...]
              ) -> tuple[nn.Conv2d | nn.Linear, nn.Module, nn.BatchNorm1d | nn.BatchNorm2d]:
        from torch import nn

        from ebnn.model import BinaryConv2d

        op = BinaryConv2d(in_shape[2], spec.out, spec.kernel, spec.stride, spec.padding,
                          bias=False)
        pool = (nn.MaxPool2d(spec.pool, spec.pool_stride) if spec.pool != (1, 1)
                else nn.Identity())
        return op, pool, nn.BatchNorm2d(spec.out)

    def export_weights(self, bits: np.ndarray, in_shape: tuple[int, ...]) -> np.ndarray:
        return np.ascontiguousarray(bits.transpose(0, 2, 3, 1))  # (F, C, kh, kw) -> (F, kh, kw, C)

    def geometry(self, spec: LayerSpec) -> dict[str, Any]:
        return {"kernel": tuple(spec.kernel), "stride": tuple(spec.stride),
                "padding": tuple(spec.padding), "pool": tuple(spec.pool),
                "pool_stride": tuple(spec.pool_stride)}

    def validate(self, layer: Layer, where: str) -> None:
        check(layer.weights.ndim == 4 and len(layer.in_shape) == 3, f"{where}: weight shape")
        f, kh, kw, c = layer.weights.shape
        check((kh, kw) == tuple(layer.kernel) and c == layer.in_shape[2],
              f"{where}: weight shape")
        try:
            self._check_pool(layer.pool, layer.pool_stride, where)
        except LayerError:
            raise LayerError(f"{where}: bad stride/padding/pool") from None
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
        if layer.stride != (1, 1):
            s += f"/s{axes(layer.stride)}"
        if layer.pool != (1, 1):
            s += f" pool{axes(layer.pool)}" + (f"/s{axes(layer.pool_stride)}"
                                              if layer.pool_stride != layer.pool else "")
        return s


class Conv1d(Conv):
    """conv1d: a binary convolution along time over a ``[T, C]`` sequence (C channels, e.g. the
    six axes of an IMU), max-pool along time. The sequence is a 1 x T image with C channels and
    this kind is a conv whose kernel, stride, padding and pool are 1 (0 for padding) along the
    image's height: the artifact holds it as that conv (kind ``conv1d``, ``kernel = [1, k]``),
    the reference, torch and the firmware run it as one, and only the config keys (one integer
    each, along time) and the names in reports are its own."""

    name = "conv1d"

    def parse(self, table: dict[str, Any], where: str) -> LayerSpec:
        k = int_key(table, "kernel", 3, where)
        pool = int_key(table, "pool", 1, where)
        pool_stride = int_key(table, "pool_stride", pool, where)
        self._check_pool((1, pool), (1, pool_stride), where, pool_stride)
        return LayerSpec(self.name, int_key(table, "filters", None, where), (1, k),
                         (1, int_key(table, "stride", 1, where)),
                         (0, int_key(table, "padding", 0, where, lo=0)), (1, pool),
                         (1, pool_stride))

    def to_config(self, spec: LayerSpec) -> dict[str, Any]:
        return {"type": self.name, "filters": spec.out, "kernel": spec.kernel[1],
                "stride": spec.stride[1], "padding": spec.padding[1], "pool": spec.pool[1],
                "pool_stride": spec.pool_stride[1]}

    def output_shape(self, in_shape: tuple[int, ...], spec: LayerSpec,
                     where: str) -> tuple[int, ...]:
        h, w, c = in_shape
        if h != 1:
            raise LayerError(f"{where}: a conv1d layer reads a sequence [T, C]; its input is "
                             f"{h}x{w}x{c} (set [model] input = [T, C])")
        if spec.kernel[1] > w + 2 * spec.padding[1]:
            raise LayerError(f"{where}: kernel {spec.kernel[1]} does not fit a sequence of "
                             f"{w} steps")
        return super().output_shape(in_shape, spec, where)

    def validate(self, layer: Layer, where: str) -> None:
        check(layer.kernel[0] == 1 and layer.stride[0] == 1 and layer.padding[0] == 0
              and layer.pool[0] == 1 and layer.pool_stride[0] == 1,
              f"{where}: a conv1d is 1 along the height (kernel, stride, pool) and unpadded")
        super().validate(layer, where)

    def describe(self, element: Sequence[int]) -> str:
        return f"t={element[1]}, channel={element[2]}"

    def summary(self, layer: Layer) -> str:
        s = f"conv1d{layer.weights.shape[0]} k{layer.kernel[1]}"
        if layer.stride[1] > 1:
            s += f"/s{layer.stride[1]}"
        if layer.pool[1] > 1:
            s += f" pool{layer.pool[1]}" + (f"/s{layer.pool_stride[1]}"
                                           if layer.pool_stride[1] != layer.pool[1] else "")
        return s
