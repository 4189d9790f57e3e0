"""Artifact -> C: ``model.h`` and ``model.c`` for the kernels in ``firmware/ebnn.h``.

Weights, thresholds and scales become ``const`` arrays (flash); every dimension is a literal, so
the always-inline kernels are specialised per layer. Each layer is its own ``noinline`` function
``ebnn_layerN`` (profiles attribute cycles per layer by symbol). Activations live in two
ping-pong bit buffers ``ebnn_buf_a``/``ebnn_buf_b``: layer 0 writes a, layer 1 b, layer 2 a, ...
"""

from dataclasses import dataclass

import numpy as np

from ebnn.artifact import Artifact, Layer


@dataclass(frozen=True)
class GeneratedC:
    header: str
    source: str
    buffers: dict[str, int]  # buffer symbol -> words
    layer_buffers: list[str]  # per hidden layer: the buffer its output bits are written to


def words(bits: int) -> int:
    return (bits + 31) // 32


def pack_words(bits: np.ndarray) -> np.ndarray:
    """bool (rows, n) -> uint32 (rows, ceil(n / 32)); bit i of a row in word i // 32."""
    rows, n = bits.shape
    padded = np.zeros((rows, words(n) * 32), np.uint8)
    padded[:, :n] = bits
    packed = np.packbits(padded.reshape(rows, -1, 8), axis=2, bitorder="little")
    return packed.reshape(rows, -1).view("<u4").astype(np.uint32)


def chunk_size(taps: int, filters: int) -> int:
    """Taps per chunk for the first layer that minimises additions per window: a chunk of
    ``ch`` taps costs ``2**ch - 2`` additions for its signed sums, then one per filter."""
    def cost(ch: int) -> int:
        full, rest = divmod(taps, ch)
        chunks = full + (rest > 0)
        return full * (2**ch - 2) + (2**rest - 2 if rest else 0) + filters * chunks
    return min(range(1, 6), key=cost)


def _first_window_code(layer: Layer, indent: str) -> list[str]:
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


def _first_layer_function(i: int, layer: Layer, dst: str) -> str:
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
        f"__attribute__((noinline)) void ebnn_layer{i}(const uint8_t *in, uint32_t *out)",
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
        *_first_window_code(layer, " " * 16),
        "            }",
    ]
    for k in range(f):
        bit = _bit_expr(f"m[{k}]", int(layer.threshold[k]), int(layer.direction[k]))
        body.append(f"            ebnn_put_bit(&bw, {bit});")
    body += ["        }", "    }", "    ebnn_flush(&bw);", "}", ""]
    return "\n".join(body)


def _array(ctype: str, name: str, values: np.ndarray, per_line: int = 8, hexa: bool = False) -> str:
    flat = [int(v) for v in np.asarray(values).ravel()]
    fmt = (lambda v: f"0x{v:08x}u") if hexa else str
    lines = [
        "    " + ", ".join(fmt(v) for v in flat[i : i + per_line])
        for i in range(0, len(flat), per_line)
    ]
    body = ",\n".join(lines) if lines else "    0"
    return f"static const {ctype} {name}[{max(len(flat), 1)}] = {{\n{body}\n}};\n"


def _layer_code(i: int, layer: Layer, src: str, dst: str) -> tuple[str, str]:
    """(constant arrays, layer function) for hidden layer i."""
    p = f"l{i}"
    if layer.first:
        return "", _first_layer_function(i, layer, dst)
    consts = _array("int32_t", f"{p}_thr", layer.threshold) + _array(
        "int8_t", f"{p}_dir", layer.direction, per_line=16)
    if layer.kind == "conv":
        h, w, c = layer.in_shape
        kh, kw = layer.kernel
        ho, wo, f = layer.out_shape
        dims = (f"{h}, {w}, {c}, {kh}, {kw}, {layer.stride}, {layer.padding}, {layer.pool}, "
                f"{layer.pool_stride}, {ho}, {wo}, {f}")
        nw = words(kh * kw * c)
        consts += _array("uint32_t", f"{p}_w", pack_words(layer.weights.reshape(f, -1)),
                         hexa=True)
        np_ = layer.pool * layer.pool
        body = (f"    uint32_t win[{np_ * nw}], mask[{np_ * nw}];\n"
                f"    int32_t valid[{np_}];\n"
                f"    ebnn_conv_bin(in, out, {p}_w, {p}_thr, {p}_dir, {dims}, {nw}, "
                "win, mask, valid);\n")
        cost = "conv"
    else:
        units, n = layer.weights.shape
        nw = words(n)
        consts += _array("uint32_t", f"{p}_w", pack_words(layer.weights), hexa=True)
        body = f"    ebnn_linear_bin(in, out, {p}_w, {p}_thr, {p}_dir, {n}, {units}, {nw});\n"
        cost = "linear"
    func = (f"/* layer {i}: {cost} {layer.in_shape} -> {layer.out_shape}, reads {src}, "
            f"writes {dst} */\n"
            f"__attribute__((noinline)) void ebnn_layer{i}(const uint32_t *in, uint32_t *out)\n"
            f"{{\n{body}}}\n")
    return consts, func


def generate(art: Artifact, sample: np.ndarray | None = None) -> GeneratedC:
    """C sources for ``art``. ``sample`` is the image embedded for argument-less runs."""
    hidden, out = art.hidden, art.output
    bits = [int(np.prod(layer.out_shape)) for layer in hidden]
    buffers = {"ebnn_buf_a": max((words(b) for b in bits[0::2]), default=1),
               "ebnn_buf_b": max((words(b) for b in bits[1::2]), default=1)}
    layer_buffers = ["ebnn_buf_a" if i % 2 == 0 else "ebnn_buf_b" for i in range(len(hidden))]
    size = int(np.prod(art.input_shape))
    if sample is None:
        sample = art.sample
    sample_arr = np.zeros(size, np.uint8) if sample is None else np.asarray(
        sample, np.uint8).ravel()
    if sample_arr.size != size:
        raise ValueError(f"sample image has {sample_arr.size} values, the model takes {size}")

    header = (
        "/* Generated by `ebnn build` from the model artifact: do not edit. */\n"
        "#ifndef EBNN_MODEL_H\n#define EBNN_MODEL_H\n\n#include <stdint.h>\n\n"
        f'#define EBNN_MODEL_NAME "{art.name}"\n'
        f"#define EBNN_INPUT_SIZE {size}\n#define EBNN_CLASSES {art.classes}\n"
        f"#define EBNN_LAYERS {len(art.layers)}\n\n"
        "extern const uint8_t ebnn_sample[EBNN_INPUT_SIZE];\n"
        + "".join(f"extern uint32_t {name}[{n}];\n" for name, n in buffers.items())
        + "/* Runs the network on a uint8 HWC image; fills scores, returns the class. */\n"
        "int ebnn_infer(const uint8_t *input, int32_t *scores);\n\n#endif\n"
    )
    parts = ["/* Generated by `ebnn build` from the model artifact: do not edit. */\n",
             '#include "model.h"\n#include "ebnn.h"\n\n']
    parts += [f"uint32_t {name}[{n}];\n" for name, n in buffers.items()]
    parts.append("\n" + _array("uint8_t", "ebnn_sample_data", sample_arr, per_line=28)
                 .replace("static const uint8_t ebnn_sample_data", "const uint8_t ebnn_sample"))
    calls = []
    src = "input"
    for i, layer in enumerate(hidden):
        dst = layer_buffers[i]
        consts, func = _layer_code(i, layer, src, dst)
        parts += ["\n", consts, func]
        calls.append(f"    ebnn_layer{i}({src}, {dst});\n")
        src = dst
    units, n = out.weights.shape
    nw = words(n)
    parts += ["\n", _array("uint32_t", "out_w", pack_words(out.weights), hexa=True),
              _array("int32_t", "out_scale", out.scale),
              _array("int32_t", "out_offset", out.offset),
              f"\n/* output: {n} bits -> {units} scores (fixed point, shift {out.shift}) */\n"
              "__attribute__((noinline)) int ebnn_output_layer(const uint32_t *in, "
              "int32_t *scores)\n{\n"
              f"    return ebnn_output(in, scores, out_w, out_scale, out_offset, {n}, {units}, "
              f"{nw});\n}}\n\n",
              "int ebnn_infer(const uint8_t *input, int32_t *scores)\n{\n", *calls,
              f"    return ebnn_output_layer({src}, scores);\n}}\n"]
    return GeneratedC(header, "".join(parts), buffers, layer_buffers)
