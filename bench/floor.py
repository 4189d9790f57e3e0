"""The estimated floor of each layer's cycles on the Cortex-M3: what the layer must do at
least, priced per operation, from the model's geometry alone. Not a measurement: a yardstick
for the per-layer cycles the results page shows beside it.

The prices are those of ../shared/facts.md ("eBNN kernels: where the cycles go and the floor"),
which sums them to ≈ 176k cycles for mnist (≈ 9.6k + 158k + 7.4k):

- first conv layer, two windows per 32-bit register (the taps' signed sums of two windows in
  the halves of one register): per conv window some later layer reads, one load per tap, the
  additions of the chunked sums (``ebnn.layers.first_conv.chunk_size``: ``2**ch - 2`` per
  chunk of ch taps, one per filter and chunk) and ~3 per filter for its test, all halved;
  plus ~10 per output pixel (its bits written);
- hidden conv layer, bit-sliced with carry-save adders (Harley-Seal, ``ebnn_count_lanes``):
  per conv window read and group of 32 filters, ~8 per tap (a load, the window bit as a lane
  mask and an XOR, ~5 in the adders) and ~4 per bit plane of the signed count (the sign's
  carry chain over NB + 4 planes, ``ebnn_conv_sliced``);
- linear and output layers, Harley-Seal popcount with ARMv7-M's shifted operands: ~10 per
  input word and unit (class); a linear layer on the pixels, one addition per pixel and unit,
  halved as above.

Windows "read" are those of output pixels the next layer reads (a conv layer may skip the last
rows and columns of its input), each pool window once. Geometry is per axis (y, x): kernel,
stride, padding and pool of a conv (conv1d: a 1 x T map) on each axis their own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ebnn.artifact import Artifact, Layer

FIRST_LOAD = 1  # per tap: one ldrb
FIRST_TEST = 3  # per filter and window: compare, set bit, OR into the mask
FIRST_PIXEL = 10  # per output pixel: its bits to the output stream
LANES = 32  # filters counted at once, one per bit lane
SLICED_TAP = 8  # per tap and 32 filters: load, lane mask, XOR, carry-save adders
SLICED_PLANE = 4  # per bit plane of the signed count and 32 filters: the sign's carry chain
POPCOUNT_WORD = 10  # per input word and unit: Harley-Seal popcount with shifted operands


def _read_extent(n_out: int, kernel: int, stride: int, padding: int, pool: int,
                 pool_stride: int, n_in: int) -> int:
    """Input rows (or columns) 0..k-1 a conv layer reads: k."""
    span = (pool - 1) * stride + kernel
    return min((n_out - 1) * pool_stride * stride - padding + span, n_in)


def _is_conv(layer: Layer, where: str) -> bool:
    """A conv layer of any kind (conv, conv1d)."""
    from ebnn.artifact import layer_kind
    from ebnn.layers.conv import Conv

    return isinstance(layer_kind(layer, where), Conv)


def _used(art: Artifact, i: int) -> tuple[int, int]:
    """Output rows and columns of hidden layer ``i`` that the next layer reads."""
    layer = art.hidden[i]
    rows, cols = layer.out_shape[0], layer.out_shape[1]
    if i + 1 < len(art.hidden) and _is_conv(art.hidden[i + 1], f"layer {i + 1}"):
        nxt = art.hidden[i + 1]
        rows = _read_extent(nxt.out_shape[0], nxt.kernel[0], nxt.stride[0], nxt.padding[0],
                            nxt.pool[0], nxt.pool_stride[0], rows)
        cols = _read_extent(nxt.out_shape[1], nxt.kernel[1], nxt.stride[1], nxt.padding[1],
                            nxt.pool[1], nxt.pool_stride[1], cols)
    return rows, cols


def _axis_windows(n: int, pool: int, pool_stride: int) -> int:
    """Conv windows along one axis that n pooled outputs read (each once)."""
    return n * pool if pool_stride >= pool else (n - 1) * pool_stride + pool


def _windows(layer: Layer, rows: int, cols: int) -> int:
    """Conv windows that the output pixels rows x cols pool (each once)."""
    return (_axis_windows(rows, layer.pool[0], layer.pool_stride[0])
            * _axis_windows(cols, layer.pool[1], layer.pool_stride[1]))


def _first(layer: Layer, rows: int, cols: int) -> float:
    from ebnn.layers.first_conv import chunk_size

    filters = layer.weights.shape[0]
    taps = layer.kernel[0] * layer.kernel[1] * layer.in_shape[2]
    ch = chunk_size(taps, filters)
    full, rest = divmod(taps, ch)
    adds = full * ((1 << ch) - 2) + ((1 << rest) - 2 if rest else 0) + filters * (full + (rest > 0))
    per_window = (FIRST_LOAD * taps + adds + FIRST_TEST * filters) / 2
    return _windows(layer, rows, cols) * per_window + rows * cols * FIRST_PIXEL


def _sliced(layer: Layer, rows: int, cols: int) -> float:
    taps = layer.kernel[0] * layer.kernel[1] * layer.in_shape[2]
    groups = -(-layer.weights.shape[0] // LANES)
    planes = max(taps.bit_length(), 4) + 4
    return _windows(layer, rows, cols) * groups * (SLICED_TAP * taps + SLICED_PLANE * planes)


def _popcount(layer: Layer) -> float:
    units, n = layer.weights.shape
    return units * -(-n // 32) * POPCOUNT_WORD


def layer_floors(art: Artifact) -> list[int]:
    """The estimated floor of each layer (hidden layers, then the output layer), in cycles."""
    floors = []
    for i, layer in enumerate(art.hidden):
        conv = _is_conv(layer, f"layer {i}")
        rows, cols = _used(art, i) if conv else (0, 0)
        if not conv and i == 0:  # a linear layer on the pixels
            floors.append(layer.weights.shape[0] * layer.weights.shape[1] / 2)
        elif not conv:
            floors.append(_popcount(layer))
        elif i == 0:
            floors.append(_first(layer, rows, cols))
        else:
            floors.append(_sliced(layer, rows, cols))
    floors.append(_popcount(art.output))
    return [round(f) for f in floors]
