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


def first_layer_chunk(layer: Layer) -> tuple[int, int]:
    """(CH, G): taps per lookup table and number of tables per window."""
    taps = layer.kernel[0] * layer.kernel[1] * layer.in_shape[2]
    row = layer.kernel[1] * layer.in_shape[2]
    ch = row if row <= 4 else 4
    return ch, (taps + ch - 1) // ch


def first_layer_offsets(layer: Layer) -> np.ndarray:
    """uint16 (F, G): per filter and chunk of taps, the table entry ``(g << CH) + pattern``
    where bit k of the pattern is the filter's weight bit for tap ``g * CH + k``."""
    ch, g = first_layer_chunk(layer)
    w = layer.weights.reshape(layer.weights.shape[0], -1)
    padded = np.zeros((w.shape[0], g * ch), np.int64)
    padded[:, : w.shape[1]] = w
    pattern = (padded.reshape(w.shape[0], g, ch) << np.arange(ch)).sum(axis=2)
    return (pattern + (np.arange(g) << ch)).astype(np.uint16)


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
    consts = _array("int32_t", f"{p}_thr", layer.threshold) + _array(
        "int8_t", f"{p}_dir", layer.direction, per_line=16)
    if layer.kind == "conv":
        h, w, c = layer.in_shape
        kh, kw = layer.kernel
        ho, wo, f = layer.out_shape
        dims = (f"{h}, {w}, {c}, {kh}, {kw}, {layer.stride}, {layer.padding}, {layer.pool}, "
                f"{layer.pool_stride}, {ho}, {wo}, {f}")
        if layer.first:
            ch, g = first_layer_chunk(layer)
            consts += _array("uint16_t", f"{p}_off", first_layer_offsets(layer), per_line=16)
            np_ = layer.pool * layer.pool
            body = (f"    int16_t taps[{g * ch}], tab[{np_ * (g << ch)}];\n"
                    f"    ebnn_conv_first(in, out, {p}_off, {p}_thr, {p}_dir, {dims}, {ch}, {g}, "
                    "taps, tab);\n")
            sig = "const uint8_t *in"
        else:
            nw = words(kh * kw * c)
            consts += _array("uint32_t", f"{p}_w", pack_words(layer.weights.reshape(f, -1)),
                             hexa=True)
            np_ = layer.pool * layer.pool
            body = (f"    uint32_t win[{np_ * nw}], mask[{np_ * nw}];\n"
                    f"    int32_t valid[{np_}];\n"
                    f"    ebnn_conv_bin(in, out, {p}_w, {p}_thr, {p}_dir, {dims}, {nw}, "
                    "win, mask, valid);\n")
            sig = "const uint32_t *in"
        cost = "conv"
    else:
        units, n = layer.weights.shape
        nw = words(n)
        consts += _array("uint32_t", f"{p}_w", pack_words(layer.weights), hexa=True)
        body = f"    ebnn_linear_bin(in, out, {p}_w, {p}_thr, {p}_dir, {n}, {units}, {nw});\n"
        sig = "const uint32_t *in"
        cost = "linear"
    func = (f"/* layer {i}: {cost} {layer.in_shape} -> {layer.out_shape}, reads {src}, "
            f"writes {dst} */\n"
            f"__attribute__((noinline)) void ebnn_layer{i}({sig}, uint32_t *out)\n{{\n{body}}}\n")
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
