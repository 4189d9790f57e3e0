"""The first layer's C: a conv on the input pixels as straight-line code, weights and
thresholds as literals (the hidden layers call the generic kernels of
``firmware/ebnn_kernels.h``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ebnn.ctext import c_array, pack_words

if TYPE_CHECKING:
    from ebnn.artifact import Layer


def axes(pair: tuple[int, int]) -> str:
    """A per-axis size as people write it: ``3`` when both axes agree, else ``2x3``."""
    return str(pair[0]) if pair[0] == pair[1] else f"{pair[0]}x{pair[1]}"


def chunk_size(taps: int, filters: int) -> int:
    """Taps per chunk for the first layer that minimises additions per window: a chunk of
    ``ch`` taps costs ``2**ch - 2`` additions for its signed sums, then one per filter."""
    def cost(ch: int) -> int:
        full, rest = divmod(taps, ch)
        chunks = full + (rest > 0)
        return full * ((1 << ch) - 2) + ((1 << rest) - 2 if rest else 0) + filters * chunks
    return min(range(1, 6), key=cost)


def _window_code(layer: Layer, indent: str, thresholds: list[int | None]) -> list[str]:
    """Statements that set, for one window's taps ``s[]``, bit f of the pixel's mask words
    ``m0, m1, ...`` where filter f's sum reaches ``thresholds[f]`` (None: never).

    Taps are split into chunks; for each chunk the signed sums with its first tap positive
    are built incrementally (``c{g}_{q}``: bit j of q set means tap j + 1 is added). Filter f
    adds, per chunk, the sum matching its weight signs, negated when its first weight is -1.
    """
    w = layer.weights.reshape(layer.weights.shape[0], -1)
    filters, taps = w.shape
    ch = chunk_size(taps, filters)
    lines: list[str] = []
    chunks = [(start, min(ch, taps - start)) for start in range(0, taps, ch)]
    terms: list[list[tuple[str, int]]] = []  # per filter: (sign, combination) per chunk
    for f in range(filters):
        row = []
        for start, n in chunks:
            bits = [int(b) for b in w[f, start : start + n]]
            q = sum(b << (j - 1) for j, b in enumerate(bits) if j > 0)
            row.append(("+", q) if bits[0] else ("-", q ^ ((1 << (n - 1)) - 1)))
        terms.append(row)
    if all(t is None for t in thresholds):  # every bit constant: no sums
        return [f"{indent}(void)s;", f"{indent}(void)a;"]
    for g, (start, n) in enumerate(chunks):
        # only the combinations some filter uses, and the prefixes they are built from
        used = {terms[f][g][1] for f in range(filters) if thresholds[f] is not None}
        names = {(0, 0): f"s[{start}]"}
        for k in range(1, n):
            for q in sorted({u & ((1 << k) - 1) for u in used}):
                parent = names[(k - 1, q & ((1 << (k - 1)) - 1))]
                sign = "+" if q >> (k - 1) & 1 else "-"
                name = f"c{g}_{q}" if k == n - 1 else f"p{g}_{k}_{q}"
                lines.append(f"{indent}const int32_t {name} = {parent} {sign} s[{start + k}];")
                names[(k, q)] = name
        if n == 1:
            lines.append(f"{indent}const int32_t c{g}_0 = s[{start}];")
    for f in range(filters):
        if thresholds[f] is None:
            continue  # a constant bit: set by the pixel's inversion mask alone
        (first_sign, first), *rest = terms[f]
        expr = ("-" if first_sign == "-" else "") + f"c0_{first}" + "".join(
            f" {sign} c{g}_{q}" for g, (sign, q) in enumerate(rest, start=1))
        lines.append(f"{indent}a = {expr};")
        bit = f"(uint32_t)(a >= {thresholds[f]})"
        lines.append(f"{indent}m{f // 32} |= {bit}" + (f" << {f % 32};" if f % 32 else ";"))
    return lines


# straight-line code longer than this (characters of C per window) makes the layer a loop
# instead: a whole-image kernel of 28x28 taps and 64 filters was 283 KB a window (105 KB of
# code, minutes to build: 8 s as a loop, 7 KB of flash, but 11x the cycles); every shipped
# model's first layer is under 4 KB
LOOP_CHARS = 64_000
NEVER = 0x7FFFFFFF  # a threshold no sum reaches: a constant bit (the inversion mask sets it)


def _loop_code(i: int, layer: Layer, indent: str, which: str) -> list[str]:
    """The loop form of ``_window_code``: each filter's sum over the taps ``s[]`` with its
    weight bits from ``l<i>_w`` (``ebnn_first_dot``), compared with ``l<i>_t<which>``."""
    f = layer.out_shape[-1]
    taps = int(np.prod(layer.weights.shape[1:]))
    nwt = (taps + 31) // 32
    lines = [f"{indent}a = ebnn_first_total(s, {taps});"]
    for k in range((f + 31) // 32):
        lines += [f"{indent}for (int f = 0; f < {min(32, f - 32 * k)}; f++) {{",
                  f"{indent}    int32_t sum = ebnn_first_dot(s, l{i}_w + ({32 * k} + f) * {nwt}, "
                  f"{taps}, a);",
                  f"{indent}    m{k} |= (uint32_t)(sum >= l{i}_t{which}[{32 * k} + f]) << f;",
                  f"{indent}}}"]
    return lines


def _loop_consts(i: int, layer: Layer, raw: list[int | None],
                 exact: list[int | None] | None) -> str:
    """``l<i>_w`` (each filter's weight bits, tap t at bit t % 32 of word t / 32) and the
    thresholds ``l<i>_traw`` and (a padded layer's) ``l<i>_texact`` (NEVER for a constant
    bit) of the loop form."""
    w = layer.weights.reshape(layer.weights.shape[0], -1).astype(bool)
    out = c_array("uint32_t", f"l{i}_w", pack_words(w).reshape(-1), hexa=True)
    for name, values in (("raw", raw), ("exact", exact or [])):
        if not values:
            continue
        out += c_array("int32_t", f"l{i}_t{name}",
                       np.array([NEVER if t is None else t for t in values], np.int64))
    return out


def _thresholds(layer: Layer) -> tuple[list[int | None], list[int | None], list[int]]:
    """Per filter: the threshold of the raw-pixel sum ``R = sum w * x`` of a window inside the
    image, of the exact accumulator ``A = sum w * (2x - 255)`` of a window over the padding
    (None for a constant bit), and the bit that inverts the pooled OR.

    The pooled bit is ``OR over windows (sum >= threshold)``, then XOR the inversion bit:
    dir +1: ``A >= T``; dir -1: NOT ``A > T``, i.e. ``A >= T + 1`` inverted; dir 0: the
    constant ``T != 0`` (no test, inversion bit = the constant). Inside the image ``A = 2R -
    255 * sum(w)``, so ``A >= t`` is ``R >= ceil((t + 255 * sum(w)) / 2)``.
    """
    assert layer.threshold is not None and layer.direction is not None  # validated layer
    w = layer.weights.reshape(layer.weights.shape[0], -1)
    taps = w.shape[1]
    raw: list[int | None] = []
    exact: list[int | None] = []
    inv = []
    for f in range(w.shape[0]):
        d = int(layer.direction[f])
        t = max(-255 * taps - 1, min(255 * taps + 1, int(layer.threshold[f])))
        if d == 0:
            raw.append(None)
            exact.append(None)
            inv.append(int(t != 0))
            continue
        a = t if d > 0 else t + 1
        wsum = int(np.where(w[f], 1, -1).sum())
        raw.append(-((-(a + 255 * wsum)) // 2))
        exact.append(a)
        inv.append(int(d < 0))
    return raw, exact, inv


def rows_function(function: str) -> str:
    """The first layer's function for a range of output rows (``first_layer_function``)."""
    return f"{function}_rows"


def streams_by_rows(layer: Layer) -> bool:
    """Whether the first layer's code has a rows function: each conv window in at most one
    output pixel (pool stride >= pool). Otherwise a stream holds the whole image."""
    return all(s >= p for s, p in zip(layer.pool_stride, layer.pool, strict=True))


def first_layer_function(function: str, i: int, layer: Layer, dst: str,
                         whole: bool = True) -> tuple[str, str]:
    """(constant arrays, function): the first layer. Per conv window, its taps (raw pixels
    inside the image: one load each; ``2x - 255``, 0 in the padding, at the border) are folded
    into every filter's sum by straight-line code with literal weights and thresholds, each
    sum compared with its threshold into a bit of the pixel's mask; max-pool is the OR of its
    windows' masks, direction -1 an XOR at the end.

    Geometry is per axis (stride, padding, pool, pool stride as (y, x)); a window's taps are
    its kh x kw pixels times all C channels (an RGB image, the six axes of an IMU sequence,
    which is a 1 x T image: ``conv1d``). Invariants: the taps are read in (ky, kx, c) order,
    the artifact's weight order; a window inside the image reads no padding, so its raw-pixel
    threshold applies; each output pixel's bits are finished before the next one's.

    Cost per conv window: 1 load per tap inside the image (~5 at the border), ~2**ch - 2
    additions per chunk of ch taps, per filter one addition per chunk and ~3 for its test;
    per output pixel ~10 (bits out). Windows in no pool window are never computed; with
    overlapping pools (pool stride < pool on either axis) every window is computed once and
    ORed into each output pixel that pools it. No division or modulo.

    A layer whose straight-line code would pass ``LOOP_CHARS`` characters per window (many
    taps times many filters: a whole-image kernel) is a loop instead, the weights as bits in flash
    (``ebnn_first_raw``, ``ebnn_first_total``, ``ebnn_first_dot``): ~3 per tap to load, ~2 per
    tap for the window's total, then ~6 per tap and filter; its code does not grow with the
    layer.

    ``whole`` False (a layer that ``streams_by_rows``): the rows function alone, without the
    function for the whole image, and ``EBNN_NO_THREADING`` (a sequence's stream runs it one
    output row at a time, whose pool rows GCC's jump threading would copy the window code for).
    """
    h, w, c = layer.in_shape
    kh, kw = layer.kernel
    ho, wo, f = layer.out_shape
    (sy, sx), (pdy, pdx) = layer.stride, layer.padding
    (pooly, poolx), (psy, psx) = layer.pool, layer.pool_stride
    geometry = (f"kernel {kh}x{kw}, stride {axes(layer.stride)}, padding {axes(layer.padding)}, "
                f"pool {axes(layer.pool)}/{axes(layer.pool_stride)}")
    taps = kh * kw * c
    nm = (f + 31) // 32
    raw, exact, inv = _thresholds(layer)
    masks = [sum(b << j for j, b in enumerate(inv[k * 32 : k * 32 + 32])) for k in range(nm)]
    sizes = [min(32, f - 32 * k) for k in range(nm)]
    offsets = [(ky * w + kx) * c + ch for ky in range(kh) for kx in range(kw) for ch in range(c)]
    loop = len("\n".join(_window_code(layer, "", raw))) > LOOP_CHARS

    def sums(ind: str, which: str, thresholds: list[int | None]) -> list[str]:
        return (_loop_code(i, layer, ind, which) if loop
                else _window_code(layer, ind, thresholds))

    def window(ind: str) -> list[str]:
        load = ([f"{ind}    ebnn_first_raw(q, s, {w}, {c}, {kh}, {kw});"] if loop
                else [f"{ind}    s[{j}] = q[{o}];" for j, o in enumerate(offsets)])
        inside = [f"{ind}    const uint8_t *q = in + ((y0 - base) * {w} + x0) * {c};",
                  f"{ind}    int32_t s[{taps}], a;", *load, *sums(ind + "    ", "raw", raw)]
        code = [f"{ind}int y0 = cy * {sy} - {pdy}, x0 = cx * {sx} - {pdx};"]
        if pdy == 0 and pdx == 0:
            return [*code, f"{ind}{{", *inside, f"{ind}}}"]
        border = [f"{ind}    int32_t s[{taps}], a;",
                  f"{ind}    ebnn_first_taps(in, base, s, {h}, {w}, {c}, {kh}, {kw}, y0, x0);",
                  *sums(ind + "    ", "exact", exact), f"{ind}}}"]
        if h < kh or w < kw:  # no window lies inside the image: no dead test (clang -Wall
            return [*code, f"{ind}{{", *border]  # warns that it is always false)
        return [
            *code, f"{ind}if (y0 >= 0 && y0 <= {h - kh} && x0 >= 0 && x0 <= {w - kw}) {{",
            *inside, f"{ind}}} else {{", *border]

    clear = "uint32_t " + ", ".join(f"m{k} = 0" for k in range(nm)) + ";"
    head = [
        f"/* layer {i}: first conv {layer.in_shape} -> {layer.out_shape}, {geometry}; "
        f"writes {dst}. */",
        f"EBNN_NOINLINE void {function}(const uint8_t *in, uint32_t *out)",
        "{",
    ]
    if streams_by_rows(layer):  # each conv window in at most one output pixel: in registers
        head = [
            f"/* layer {i}, output rows py0..py1-1 into bw: first conv {layer.in_shape} -> "
            f"{layer.out_shape}, {geometry}."
            "\n * in holds the image from row base on (0: the whole image; a stream's rows). */",
            f"{'' if whole else 'EBNN_NO_THREADING '}EBNN_INLINE void "
            f"{rows_function(function)}(const uint8_t *in, int base, "
            "ebnn_bitwriter *bw, int py0, int py1)",
            "{",
            "    for (int py = py0; py < py1; py++) {",
            f"        for (int px = 0; px < {wo}; px++) {{",
            f"            {clear}",
            f"            for (int cy = py * {psy}; cy < py * {psy} + {pooly}; cy++) {{",
            f"                for (int cx = px * {psx}; cx < px * {psx} + {poolx}; cx++) {{",
            *window(" " * 20),
            "                }",
            "            }",
            *(f"            ebnn_put_bits(bw, m{k} ^ 0x{masks[k]:08x}u, {sizes[k]}u);"
              for k in range(nm)),
            "        }",
            "    }",
            "}",
            "",
        ]
        if not whole:
            return "", "\n".join(head)
        head += [
            f"/* layer {i}: the whole image; writes {dst}. */",
            f"EBNN_NOINLINE void {function}(const uint8_t *in, uint32_t *out)",
            "{",
        ]
        body = [
            "    ebnn_bitwriter bw = {out, 0, 0};",
            f"    {rows_function(function)}(in, 0, &bw, 0, {ho});",
            "    ebnn_flush(&bw);",
        ]
    else:  # overlapping pools: each conv window once, ORed into every output pixel it is in
        nwords = (ho * wo * f + 31) // 32
        rows, cols = (ho - 1) * psy + pooly, (wo - 1) * psx + poolx
        body = [
            f"    for (int k = 0; k < {nwords}; k++)",
            "        out[k] = 0;",
            "    /* the output rows (cols) pooling conv row cy (col cx): lo..hi, by counting */",
            "    int ylo = 0, yhi = 0;",
            f"    for (int cy = 0; cy < {rows}; cy++) {{",
            f"        if (cy >= ylo * {psy} + {pooly})",
            "            ylo++;",
            f"        if (yhi + 1 < {ho} && (yhi + 1) * {psy} <= cy)",
            "            yhi++;",
            "        int xlo = 0, xhi = 0, base = 0;",
            f"        for (int cx = 0; cx < {cols}; cx++) {{",
            f"            if (cx >= xlo * {psx} + {poolx})",
            "                xlo++;",
            f"            if (xhi + 1 < {wo} && (xhi + 1) * {psx} <= cx)",
            "                xhi++;",
            f"            {clear}",
            *window(" " * 12),
            "            for (int py = ylo; py <= yhi; py++)",
            "                for (int px = xlo; px <= xhi; px++) {",
            f"                    uint32_t pos = (uint32_t)((py * {wo} + px) * {f});",
            *(f"                    ebnn_or_bits(out, pos + {32 * k}u, m{k}, {sizes[k]}u);"
              for k in range(nm)),
            "                }",
            "        }",
            "    }",
        ]
        if any(masks):  # each pixel's filters XORed with their inversion bits (~7 per word)
            body += [f"    for (uint32_t pos = 0; pos < {ho * wo * f}u; pos += {f}u) {{",
                     *(f"        ebnn_xor_bits(out, pos + {32 * k}u, 0x{masks[k]:08x}u, "
                       f"{sizes[k]}u);" for k in range(nm) if masks[k]),
                     "    }"]
    padded = (pdy, pdx) != (0, 0)
    consts = _loop_consts(i, layer, raw, exact if padded else None) if loop else ""
    return consts, "\n".join(head + body + ["}", ""])


def input_alias_offset(layer: Layer) -> int | None:
    """The least byte offset (a multiple of 4) at which the image may start after the start of
    this layer's output buffer so that the output, stored word by word as output pixels are
    finished (``first_layer_function``), never overwrites a pixel a later output pixel reads.
    None with overlapping pools: that code clears its whole output first."""
    _, w, c = layer.in_shape
    ho, wo, f = layer.out_shape
    (sy, sx), (pdy, pdx), (psy, psx) = layer.stride, layer.padding, layer.pool_stride
    if not streams_by_rows(layer):
        return None
    # the lowest image byte each output pixel reads (its first window's top-left valid tap)
    first = np.array([(max(0, py * psy * sy - pdy) * w + max(0, px * psx * sx - pdx)) * c
                      for py in range(ho) for px in range(wo)], np.int64)
    later = np.minimum.accumulate(first[::-1])[::-1]  # the lowest read by pixel i or after
    # after pixel i, the words holding its finished bits may be stored
    written = 4 * ((np.arange(1, len(first)) * f) // 32)
    gap = max(0, int(np.max(written - later[1:], initial=0)))
    return (gap + 3) // 4 * 4
