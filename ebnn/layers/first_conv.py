"""The first layer's C: a conv on the input pixels as straight-line code, weights and
thresholds as literals (the hidden layers call the generic kernels of
``firmware/ebnn_kernels.h``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ebnn.artifact import Layer


def chunk_size(taps: int, filters: int) -> int:
    """Taps per chunk for the first layer that minimises additions per window: a chunk of
    ``ch`` taps costs ``2**ch - 2`` additions for its signed sums, then one per filter."""
    def cost(ch: int) -> int:
        full, rest = divmod(taps, ch)
        chunks = full + (rest > 0)
        return full * ((1 << ch) - 2) + ((1 << rest) - 2 if rest else 0) + filters * chunks
    return min(range(1, 6), key=cost)


def _window_code(layer: Layer, indent: str) -> list[str]:
    """Statements that fold one window's taps ``s[]`` into the running maxima ``m[]``.

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
    for g, (start, n) in enumerate(chunks):
        # only the combinations some filter uses, and the prefixes they are built from
        used = {terms[f][g][1] for f in range(filters)}
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
        (first_sign, first), *rest = terms[f]
        expr = ("-" if first_sign == "-" else "") + f"c0_{first}" + "".join(
            f" {sign} c{g}_{q}" for g, (sign, q) in enumerate(rest, start=1))
        lines.append(f"{indent}a = {expr};")
        lines.append(f"{indent}if (a > m[{f}])")
        lines.append(f"{indent}    m[{f}] = a;")
    return lines


def _bit_expr(acc: str, threshold: int, direction: int) -> str:
    if direction > 0:
        return f"{acc} >= {threshold}"
    if direction < 0:
        return f"{acc} <= {threshold}"
    return "1u" if threshold else "0u"


def first_layer_function(function: str, i: int, layer: Layer, dst: str) -> str:
    """The first layer as straight-line code: weights and thresholds are literals.

    Cost per conv window: ~5 per tap, ~2**ch - 2 per chunk of ch taps, ~4 per filter and chunk;
    per output bit ~4 (compare with its threshold).
    """
    h, w, c = layer.in_shape
    kh, kw = layer.kernel
    ho, wo, f = layer.out_shape
    taps = kh * kw * c
    body = [
        f"/* layer {i}: first conv {layer.in_shape} -> {layer.out_shape}, kernel {kh}x{kw}, "
        f"stride {layer.stride}, padding {layer.padding}, pool {layer.pool}/{layer.pool_stride}; "
        f"writes {dst}. */",
        f"EBNN_NOINLINE void {function}(const uint8_t *in, uint32_t *out)",
        "{",
        "    ebnn_bitwriter bw = {out, 0, 0};",
        f"    for (int py = 0; py < {ho}; py++) {{",
        f"        for (int px = 0; px < {wo}; px++) {{",
        f"            int32_t m[{f}], s[{taps}], a;",
        f"            for (int k = 0; k < {f}; k++)",
        "                m[k] = INT32_MIN;",
        f"            for (int p = 0; p < {layer.pool * layer.pool}; p++) {{",
        f"                int y0 = (py * {layer.pool_stride} + p / {layer.pool}) * {layer.stride} "
        f"- {layer.padding};",
        f"                int x0 = (px * {layer.pool_stride} + p % {layer.pool}) * {layer.stride} "
        f"- {layer.padding};",
        f"                ebnn_first_taps(in, s, {h}, {w}, {c}, {kh}, {kw}, y0, x0);",
        *_window_code(layer, " " * 16),
        "            }",
    ]
    assert layer.threshold is not None and layer.direction is not None  # validated layer
    for k in range(f):
        bit = _bit_expr(f"m[{k}]", int(layer.threshold[k]), int(layer.direction[k]))
        body.append(f"            ebnn_put_bit(&bw, {bit});")
    body += ["        }", "    }", "    ebnn_flush(&bw);", "}", ""]
    return "\n".join(body)
