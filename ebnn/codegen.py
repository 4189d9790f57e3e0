"""Artifact -> C: the model as a portable C99 library, ``<prefix>.h`` and ``<prefix>.c``, for the
kernels in ``firmware/ebnn_kernels.h``. The one generator: ``ebnn export-c`` writes its output
as a library (``ebnn/library.py``), ``ebnn build`` compiles it with prefix ``ebnn`` and the
harness (``ebnn/build.py``), so what is measured is what is shipped.

Weights, thresholds and scales become ``static const`` arrays (flash); every dimension is a
literal, so the always-inline kernels are specialised per layer. Each layer is its own
``noinline`` function ``<prefix>_layer<N>`` (``<prefix>_output_layer`` for the output), so
profiles attribute cycles per layer by symbol; its arrays and function are its kind's code
(``ebnn/layers/``). Activations ping-pong between two bit buffers: layer 0 writes a, layer 1 b,
layer 2 a, ... ``<prefix>_infer`` uses the static ``<prefix>_buf_a``/``<prefix>_buf_b``,
``<prefix>_infer_with`` the caller's scratch (a, then b). Every global symbol carries the
prefix; the kernels are static inline. The public API is documented in the header itself
(``header_comment``) and in docs/deploy.md.
"""

import itertools
import re
import textwrap
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

import firmware
from ebnn import reference
from ebnn.artifact import Artifact, Layer, layer_kind
from ebnn.ctext import c_array, words
from ebnn.layers.conv import Conv, sliced_rows_function
from ebnn.layers.first_conv import first_layer_function, rows_function, streams_by_rows
from ebnn.layers.output import OFFSET as OUT_OFFSET
from ebnn.layers.output import SCALE as OUT_SCALE
from ebnn.layers.output import WEIGHTS as OUT_WEIGHTS
from ebnn.quantize import InputQuant
from ebnn.quantize_int import INT16, INT32, INT_TYPES, STEPS, IntType, table

KERNELS = "ebnn_kernels.h"  # the kernel header, copied beside the model's source


def kernels_path() -> Path:
    return Path(firmware.__file__).parent / KERNELS


def label(text: str) -> str:
    """``text`` (a model's or data set's name) as generated text can hold it (C strings and
    comments, CMake, Kconfig, YAML, properties files): characters other than letters, digits,
    space and ``._+-`` as ``_``, so that no name can end a comment or a string early."""
    return re.sub(r"[^A-Za-z0-9 ._+-]", "_", text)


def c_string(text: str, limit: int = 64) -> str:
    """``text`` as a C string literal of its UTF-8 bytes (at most ``limit``, whole
    characters): letters, digits, space and ``._+-`` as they are, every other byte as an octal
    escape (three digits, so no escape runs into the next character), so names in any script
    print as the data gave them and no two names become one."""
    data = text.encode()[:limit].decode(errors="ignore").encode()  # a cut character dropped
    return '"' + "".join(chr(b) if re.fullmatch(r"[A-Za-z0-9 ._+-]", chr(b)) else f"\\{b:03o}"
                         for b in data) + '"'


def _class_names_macro(art: Artifact, up: str) -> str:
    """``NAME_CLASS_NAMES``: an initializer of the class names the training data gave, when
    the artifact records one for every class (as UTF-8, :func:`c_string`); nothing
    otherwise."""
    names = art.metadata.get("class_names")
    if not (isinstance(names, list) and len(names) == art.classes
            and all(isinstance(n, str) for n in names)):
        return ""
    return ("/* The classes' names, score i's first: static const char *const names[] =\n"
            f" * {up}_CLASS_NAMES; */\n#define {up}_CLASS_NAMES {{"
            + ", ".join(c_string(n) for n in names) + "}\n")


def _quant_macros(art: Artifact, up: str) -> str:
    """Initializers of the input quantisation's per-channel scale (doubles) and zero point, for
    the firmware's own conversion of its readings; nothing for a model on uint8 data."""
    if art.input_quant is None:
        return ""
    q = art.input_quant
    return ("/* Quantise channel c's reading x as clamp(round_half_even(x / scale[c]) +\n"
            f" * zero_point[c], 0, 255), in double: {{ static const double scale[] =\n"
            f" * {up}_INPUT_SCALE; static const int32_t zero_point[] = {up}_INPUT_ZERO_POINT; }} "
            "*/\n"
            f"#define {up}_INPUT_SCALE {{" + ", ".join(repr(float(v)) for v in q.scale) + "}\n"
            f"#define {up}_INPUT_ZERO_POINT {{" + ", ".join(str(int(v)) for v in q.zero_point)
            + "}\n")


def model_label(art: Artifact) -> str:
    return label(art.name)


def layer_function(i: int, prefix: str = "ebnn") -> str:
    """The function of hidden layer ``i``."""
    return f"{prefix}_layer{i}"


def output_function(prefix: str = "ebnn") -> str:
    return f"{prefix}_output_layer"


def scratch_buffer(prefix: str = "ebnn") -> str:
    """The static scratch of ``<prefix>_infer``: every layer's output bits (``plan_buffers``)."""
    return f"{prefix}_buf"


def work_buffer(prefix: str = "ebnn") -> str:
    """The static scratch when ``<PREFIX>_IMAGE_IN_SCRATCH`` is defined: the same, with room for
    the image (``ebnn build``'s harness). Its own name: code compiled with the define and a
    ``<prefix>.c`` compiled without it do not link, instead of writing an image over the end
    of the smaller scratch."""
    return f"{prefix}_work"


@dataclass(frozen=True)
class BufferPlan:
    """Where the activations live in the one scratch area of ``uint32_t`` words.

    Hidden layer i writes its bits at word ``outputs[i]``: the even layers at 0, the odd ones
    at the end of the area, which is as long as the largest two consecutive outputs together
    (``scratch_words``). The image may also sit in the area, at byte ``input_offset`` (a word
    boundary): the first layer writes its output below it and never overtakes its reads
    (``LayerKind.input_alias_offset``), and the later layers overwrite the dead image; the area
    is then ``work_words`` long.
    """

    outputs: tuple[int, ...]
    scratch_words: int
    input_offset: int
    work_words: int


@dataclass(frozen=True)
class RowGeometry:
    """How a conv layer's output rows depend on its input rows: output row p reads input rows
    ``p * step - padding`` .. ``+ span - 1`` (clipped to the map), and no output reads a row
    after ``last``."""

    step: int
    span: int
    padding: int
    in_rows: int
    out_rows: int

    @property
    def last(self) -> int:
        return min((self.out_rows - 1) * self.step - self.padding + self.span, self.in_rows) - 1

    @property
    def ring_rows(self) -> int:
        """Input rows a stream keeps for it: those of one output row at most."""
        return min(self.span, self.in_rows)


def row_geometry(layer: Layer) -> RowGeometry:
    """Along y (the rows a stream brings): the y components of a conv layer's per-axis
    stride, padding, pool and kernel (the x ones act inside a row)."""
    return RowGeometry(layer.pool_stride[0] * layer.stride[0],
                       (layer.pool[0] - 1) * layer.stride[0] + layer.kernel[0],
                       layer.padding[0], layer.in_shape[0], layer.out_shape[0])


def _is_conv(layer: Layer, where: str) -> bool:
    """A conv layer of any kind (conv, conv1d): a stream can run it by rows."""
    return isinstance(layer_kind(layer, where), Conv)


@dataclass(frozen=True)
class StreamPlan:
    """A stream's memory (``<prefix>_stream``'s ``buf``, in words) and how its layers run.

    ``chain`` > 0 (the first layer has a rows function, ``streams_by_rows``): hidden conv
    layers 0..chain-1 run by rows as their input rows arrive. The image's last ``rows`` rows
    are a ring of bytes at word 0; layer j >= 1 reads a ring at word ``ring_at[j]`` of the
    ``row_geometry(layer j).ring_rows`` rows of layer j - 1's output it still needs (each
    row ``row_bits[j]`` bits, in stream order: the ring drops its first rows as later ones
    come). When every hidden layer is in the chain, the last one's rows (a first layer's) or
    pixels (a later one's) of ``tail_bits`` each go to a buffer of ``words(tail_bits)`` at
    ``tail_at``, whose complete words the output layer counts at once
    (``ebnn_output_count``): no layer's whole output is ever stored. Otherwise (a linear layer
    follows) the last chain layer writes its whole output at ``outputs[0]`` and layers
    chain-1.. keep their outputs at ``outputs`` once the image is complete. The image's ring
    holds ``cap`` rows: ``rows`` for an image (each row moves the ring up one row once it is
    full), more for a sequence, whose rows (steps) are a few bytes and come by thousands: the
    ring moves its last ``rows - 1`` rows to its start only when full (``s->fill`` rows in).
    ``chain`` == 0 (overlapping pools in the first layer, or a one-row image, which arrives
    whole; a sequence streams turned, ``stream_artifact``): ``rows`` is the whole image, after
    the first layer's output of ``BufferPlan``, and the layers run after the last row.
    """

    chain: int
    rows: int
    ring_at: tuple[int, ...]
    row_bits: tuple[int, ...]
    tail_at: int
    tail_bits: int
    outputs: tuple[int, ...]
    words: int
    cap: int = 0


def stream_artifact(art: Artifact) -> Artifact:
    """The model a stream runs: ``art`` itself for an image; for a sequence (a 1 x T image of C
    channels), the same model turned on its side, a T x 1 image, so that it streams step by
    step. Every map keeps its bytes and bits (HWC order is the same with H = 1 or W = 1), and so
    do the weights (taps in (ky, kx, c) order) and every constant: only the geometry swaps
    axes, and the stream's rows are the sequence's steps."""
    if not art.sequence:
        return art

    def turn(layer: Layer) -> Layer:
        if layer.kind != "conv1d":  # linear and output layers read the flattened map
            return layer
        (h, w, c), (ho, wo, f) = layer.in_shape, layer.out_shape
        def swap(pair: tuple[int, int]) -> tuple[int, int]:
            return pair[1], pair[0]

        return replace(layer, kind="conv", in_shape=(w, h, c), out_shape=(wo, ho, f),
                       weights=layer.weights.transpose(0, 2, 1, 3),
                       kernel=swap(layer.kernel), stride=swap(layer.stride),
                       padding=swap(layer.padding), pool=swap(layer.pool),
                       pool_stride=swap(layer.pool_stride))

    h, w, c = art.input_shape
    return replace(art, input_shape=(w, h, c), layers=[turn(layer) for layer in art.layers],
                   sample=None if art.sample is None else np.asarray(art.sample).reshape(w, h, c))


def plan_stream(art: Artifact, plan: BufferPlan) -> StreamPlan:
    """The stream of ``art`` (a ``stream_artifact``) with ``plan``, the buffers of the model's
    whole-image functions."""
    first = art.hidden[0]
    h, w, c = art.input_shape
    # a single row arrives whole: rings would only add to its buffers
    if h == 1 or not (_is_conv(first, "layer 0") and streams_by_rows(first)):
        image_at = plan.outputs[0] + words(int(np.prod(first.out_shape)))
        return StreamPlan(0, h, (image_at,), (), 0, 0, plan.outputs,
                          max(plan.scratch_words, image_at + words(8 * h * w * c)))
    chain = 1
    while chain < len(art.hidden) and _is_conv(art.hidden[chain], f"layer {chain}"):
        chain += 1
    rows = row_geometry(first).ring_rows
    # a sequence's ring moves rows - 1 steps every rows steps: ~1 step's bytes per step (an
    # image's moves rows - 1 rows per row: few rows of many bytes, and its SRAM is the budget)
    cap = 2 * rows - 1 if w == 1 else rows
    at = words(8 * cap * w * c)
    ring_at, row_bits = [0], [8 * w * c]
    for layer in art.hidden[1:chain]:
        bits = layer.in_shape[1] * layer.in_shape[2]
        ring_at.append(at)
        row_bits.append(bits)
        at += words(row_geometry(layer).ring_rows * bits)
    last = art.hidden[chain - 1]
    if chain == len(art.hidden):  # a row of the first layer, a pixel of a later one
        tail = last.out_shape[2] * (last.out_shape[1] if chain == 1 else 1)
        return StreamPlan(chain, rows, tuple(ring_at), tuple(row_bits), at, tail, (),
                          at + words(tail), cap)
    sizes = [words(int(np.prod(layer.out_shape))) for layer in art.hidden[chain - 1:]]
    outputs = [at]  # after the rings, which are live while it is written
    for i in range(1, len(sizes)):  # the rings are dead once the image is complete
        prev = outputs[-1]
        outputs.append(0 if sizes[i] <= prev else prev + sizes[i - 1])
    return StreamPlan(chain, rows, tuple(ring_at), tuple(row_bits), 0, 0, tuple(outputs),
                      max(o + n for o, n in zip(outputs, sizes, strict=True)), cap)


def stream_rows_function(i: int, prefix: str = "ebnn") -> str:
    """Hidden conv layer ``i``'s function for one output row of a stream."""
    return f"{layer_function(i, prefix)}_stream_rows"


def _ready(g: RowGeometry, py: str, have: str) -> str:
    """C: output row ``py`` of a layer of geometry ``g`` has its input rows when ``have``
    input rows are there."""
    return (f"{py} < {g.out_rows} && ({py} * {g.step} + {g.span - g.padding} <= {have} || "
            f"{have} >= {g.in_rows})")


def _stream_levels(art: Artifact, prefix: str, sp: StreamPlan, j: int, have: str,
                   ind: str) -> list[str]:
    """C (in ``<prefix>_stream_row``): while layer ``j``'s next row has its input rows
    (``have`` of them are in), compute it into what reads it: the next layer's ring, then the
    rows of that layer this makes computable (nested), or the last layer's output. One frame
    for the whole chain: only the rows functions' frames come on top of it."""
    g = row_geometry(art.hidden[j])
    lines = [f"{ind}while ({_ready(g, f's->py[{j}]', have)}) {{ /* layer {j}'s next row */",
             f"{ind}    int r{j} = s->py[{j}]++;"]
    i = ind + "    "
    if j + 1 < sp.chain:
        k = j + 1
        lines += [f"{i}{prefix}_stream_store{k}(s, r{j});",
                  *_stream_levels(art, prefix, sp, k, f"r{j} + 1", i)]
    else:
        lines.append(f"{i}{prefix}_stream_last(s, r{j});")
    return [*lines, f"{ind}}}"]


def _stream_last(art: Artifact, prefix: str, sp: StreamPlan) -> list[str]:
    """``<prefix>_stream_last``: row r of the last layer run by rows, into the row buffer
    whose complete words the output layer then counts, or into the whole output map. Inlined
    into ``<prefix>_stream_row`` (out of line, its frame would add to that one's)."""
    j = sp.chain - 1
    rows = _rows_call(prefix, sp, j)
    lines = [f"static void {prefix}_stream_last({prefix}_stream *s, int r)", "{"]
    if not sp.outputs and j > 0:  # the output layer counts each pixel's complete words
        tail = f"s->buf + {sp.tail_at}"
        lines += [f"    for (int x = 0; x < {art.hidden[j].out_shape[1]}; x++) {{",
                  f"        ebnn_bitwriter bw = {{{tail}, s->word, s->n}};",
                  "        " + rows.replace("&bw, r);", "&bw, r, x);"),
                  "        s->word = bw.word;", "        s->n = bw.n;",
                  f"        {prefix}_stream_count(s, (uint32_t)(bw.p - ({tail})));", "    }"]
    elif not sp.outputs:  # the output layer counts the row's complete words
        tail = f"s->buf + {sp.tail_at}"
        lines += [f"    ebnn_bitwriter bw = {{{tail}, s->word, s->n}};", f"    {rows}",
                  "    s->word = bw.word;", "    s->n = bw.n;",
                  f"    {prefix}_stream_count(s, (uint32_t)(bw.p - ({tail})));"]
    else:  # the whole output, for the layers after the chain
        lines += [f"    ebnn_bitwriter bw = {{s->buf + {sp.outputs[0]} + s->at, s->word, s->n}};",
                  f"    {rows}", f"    s->at = (uint32_t)(bw.p - (s->buf + {sp.outputs[0]}));",
                  "    s->word = bw.word;", "    s->n = bw.n;"]
    return [*lines, "}", ""]


def _rows_call(prefix: str, sp: StreamPlan, j: int) -> str:
    """C: layer j's output row r into bw, from its ring (the image's, for layer 0)."""
    if j == 0 and sp.cap > sp.rows:
        return f"{prefix}_stream_rows0((const uint8_t *)s->buf, s->row - s->fill, &bw, r);"
    if j == 0:
        return (f"{prefix}_stream_rows0((const uint8_t *)s->buf, s->row <= {sp.rows} ? 0 : "
                f"s->row - {sp.rows}, &bw, r);")
    return f"{stream_rows_function(j, prefix)}(s, &bw, r);"


def _stream_store(art: Artifact, prefix: str, sp: StreamPlan, k: int) -> list[str]:
    """``<prefix>_stream_store<k>``: row r of layer k - 1 into layer k's ring (unless layer k
    never reads it), after dropping the rows layer k no longer reads. Out of line, so that its
    frame is not under layer k's."""
    rows = _rows_call(prefix, sp, k - 1)
    gn = row_geometry(art.hidden[k])
    ring, bits = f"s->buf + {sp.ring_at[k]}", sp.row_bits[k]
    lines = [f"static EBNN_NOINLINE void {prefix}_stream_store{k}({prefix}_stream *s, int r)",
             "{", f"    int start = s->py[{k}] * {gn.step}"
             + (f" - {gn.padding};" if gn.padding else ";")]
    if gn.padding:
        lines += ["    if (start < 0)", "        start = 0;"]
    return [*lines, f"    if (r < start || r > {gn.last})",
            f"        return; /* layer {k} reads no such row */",
            f"    if (start > s->lo[{k}]) {{ /* it no longer reads rows lo..start-1 */",
            f"        ebnn_drop_bits({ring}, (uint32_t)(start - s->lo[{k}]) * {bits}u, "
            f"(uint32_t)(r - start) * {bits}u);",
            f"        s->lo[{k}] = start;", "    }",
            f"    ebnn_bitwriter bw = ebnn_writer_at({ring}, "
            f"(uint32_t)(r - s->lo[{k}]) * {bits}u);",
            f"    {rows}", "    ebnn_flush(&bw);", "}", ""]


def _stream_source(art: Artifact, prefix: str, plan: BufferPlan, sp: StreamPlan,
                   turned: bool) -> str:
    """``<prefix>_stream_begin``, ``<prefix>_stream_row`` and the functions a stream's layers
    run by (``<prefix>_stream_rows0``, ``<prefix>_layer<J>_stream_rows``,
    ``<prefix>_stream_count``) for ``art``, a ``stream_artifact`` (``turned``: a sequence's,
    whose first layer needs its own rows function)."""
    h, w, c = art.input_shape
    row = w * c
    out = art.output
    units, n_in = out.weights.shape
    lines: list[str] = []
    # the state's reset, inlined where a sequence begins and where one ends (not a call of
    # <prefix>_stream_begin there: its entry is where verify counts a sequence begun, also in
    # code built without inlining, -O0 or -Os)
    begin = ["/* A stream ready for its next sequence. */",
             f"EBNN_INLINE void {prefix}_stream_reset({prefix}_stream *s)", "{",
             "    s->row = 0;"]
    if sp.chain:
        begin += [f"    for (int j = 0; j < {sp.chain}; j++)", "        s->py[j] = s->lo[j] = 0;",
                  "    s->at = s->word = s->n = 0;"]
        if sp.cap > sp.rows:
            begin.append("    s->fill = 0;")
        if not sp.outputs:
            begin += [f"    for (int k = 0; k < {units}; k++)", "        s->acc[k] = 0;"]
    lines += [*begin, "}", "", f"EBNN_ENTRY void {prefix}_stream_begin({prefix}_stream *s)", "{",
              f"    {prefix}_stream_reset(s);", "}", ""]
    for j in range(1, sp.chain):  # the last one, before the output layer, pixel by pixel
        ring = (f"const {prefix}_stream *s", f"s->buf + {sp.ring_at[j]}", f"s->lo[{j}]")
        lines.append(sliced_rows_function(stream_rows_function(j, prefix), j, art.hidden[j],
                                          ring, pixel=j == sp.chain - 1 and not sp.outputs))
    if sp.chain and not sp.outputs:  # out of line: not on the stack beside a layer's frame
        tail = f"s->buf + {sp.tail_at}"
        lines += ["/* The output layer counts the m words of the row buffer that are complete. */",
                  f"static EBNN_NOINLINE void {prefix}_stream_count({prefix}_stream *s, "
                  "uint32_t m)", "{"]
        if sp.tail_bits % 32 == 0:  # whole words every time: the count's loops know m
            lines += ["    (void)m;", f"    ebnn_output_count({tail}, s->acc, {OUT_WEIGHTS}, "
                      f"{units}, {words(n_in)}, s->at, {sp.tail_bits // 32}u);",
                      f"    s->at += {sp.tail_bits // 32}u;", "}", ""]
        else:
            lines += [f"    ebnn_output_count({tail}, s->acc, {OUT_WEIGHTS}, {units}, "
                      f"{words(n_in)}, s->at, m);", "    s->at += m;", "}", ""]
    if sp.chain:  # out of line: its frame is gone when the later layers run
        layer0 = layer_function(0, prefix)
        if turned:  # the first layer along the steps (its constants are the model's)
            layer0 = f"{prefix}_stream_layer0"
            lines.append(first_layer_function(layer0, 0, art.hidden[0], "the stream",
                                              whole=False)[1])
        lines += [f"static {'EBNN_NO_THREADING ' if turned else ''}EBNN_NOINLINE void "
                  f"{prefix}_stream_rows0(const uint8_t *in, int base, ebnn_bitwriter *bw, "
                  "int py)", "{",
                  f"    {rows_function(layer0)}(in, base, bw, py, py + 1);",
                  "}", ""]
        for k in range(1, sp.chain):
            lines += _stream_store(art, prefix, sp, k)
        lines += _stream_last(art, prefix, sp)
    head = [f"EBNN_ENTRY int {prefix}_stream_row({prefix}_stream *s, const uint8_t *row, "
            "int32_t *scores)",
            "{", f"    uint8_t *ring = (uint8_t *)(s->buf + {sp.ring_at[0]}), *slot;",
            "    int y = s->row++, cls;"]
    spare = sp.cap > sp.rows
    if spare:  # a sequence's step: most steps only store their bytes, without the frame of
        # the layers' loops (out of line: ~45 cycles a step on the M3 instead of ~80)
        head[-1] = "    int y = s->row++;"
        lines += [f"static EBNN_NOINLINE int {prefix}_stream_step({prefix}_stream *s, int y, "
                  "int32_t *scores)", "{", "    int cls;"]
        body = lines
        lines = head
    else:
        lines += head
    if spare:  # spare rows: the last rows - 1 move to the start when it is full
        lines += [f"    if (s->fill == {sp.cap}) {{",
                  f"        for (int k = 0; k < {(sp.rows - 1) * row}; k++)",
                  f"            ring[k] = ring[k + {(sp.cap - sp.rows + 1) * row}];",
                  f"        s->fill = {sp.rows - 1};",
                  "    }",
                  f"    slot = ring + s->fill++ * {row};"]
    else:
        lines += [
              f"    if (y < {sp.rows}) {{",
              f"        slot = ring + y * {row};",
              "    } else { /* the ring keeps the last rows in order: move them up one */",
              *([f"        for (int k = 0; k < {(sp.rows - 1) * row // 4}; k++) /* by words */",
                 f"            s->buf[{sp.ring_at[0]} + k] = s->buf[{sp.ring_at[0]} + k + "
                 f"{row // 4}];"] if row % 4 == 0 else
                [f"        for (int k = 0; k < {(sp.rows - 1) * row}; k++)",
                 f"            ring[k] = ring[k + {row}];"]),
              f"        slot = ring + {(sp.rows - 1) * row};",
              "    }"]
    lines += [f"    for (int k = 0; k < {row}; k++)",
              "        slot[k] = row[k];"]
    if spare:
        ready = _ready(row_geometry(art.hidden[0]), "s->py[0]", "y + 1")
        lines += [f"    if (y < {h - 1} && !({ready}))", "        return -1;",
                  f"    return {prefix}_stream_step(s, y, scores);", "}", ""]
        step, lines = lines, body
    if sp.chain:
        lines += _stream_levels(art, prefix, sp, 0, "y + 1", "    ")
        lines += [f"    if (y < {h - 1})", "        return -1;"]
        if sp.outputs:
            lines += [f"    ebnn_bitwriter bw = {{s->buf + {sp.outputs[0]} + s->at, s->word, "
                      "s->n};", "    ebnn_flush(&bw);"]
            first, outputs = sp.chain, sp.outputs
        else:
            tail = f"s->buf + {sp.tail_at}"
            lines += ["    if (s->n) { /* the last partial word */",
                      f"        *({tail}) = s->word;",
                      f"        {prefix}_stream_count(s, 1);", "    }",
                      f"    cls = ebnn_output_scores(s->acc, scores, {OUT_SCALE}, {OUT_OFFSET}, "
                      f"{n_in}, {units});"]
    else:
        lines += [f"    if (y < {h - 1})", "        return -1;",
                  f"    {layer_function(0, prefix)}(ring, s->buf + {sp.outputs[0]});"]
        first, outputs = 1, sp.outputs
    if not sp.chain or sp.outputs:
        for i in range(first, len(art.hidden)):
            a, b = outputs[i - first], outputs[i - first + 1]
            lines.append(f"    {layer_function(i, prefix)}(s->buf + {a}, s->buf + {b});")
        lines.append(f"    cls = {output_function(prefix)}(s->buf + {outputs[-1]}, scores);")
    lines += [f"    {prefix}_stream_reset(s); /* ready for the next "
              f"{'sequence' if turned else 'image'} */", "    return cls;",
              "}", ""]
    if spare:
        lines += step
    return "\n".join(lines)


def ping_pong(sizes: list[int]) -> tuple[list[int], int]:
    """(offsets, length) of consecutive outputs of ``sizes`` words in one area: layer i reads
    layer i - 1's output while it writes its own and nothing older is alive, so the area needs
    the largest pair of neighbours, with the outputs at its two ends by turns."""
    length = max([sizes[0], *(a + b for a, b in itertools.pairwise(sizes))])
    return [0 if i % 2 == 0 else length - n for i, n in enumerate(sizes)], length


def plan_buffers(art: Artifact) -> BufferPlan:
    sizes = [words(int(np.prod(layer.out_shape))) for layer in art.hidden]
    offsets, scratch = ping_pong(sizes)
    first = art.hidden[0]
    gap = layer_kind(first, "layer 0").input_alias_offset(first)
    if gap is None:  # the image after the first layer's output
        gap = 4 * sizes[0]
    image = int(np.prod(art.input_shape))
    return BufferPlan(tuple(offsets), scratch, gap, max(scratch, (gap + image + 3) // 4))


@dataclass(frozen=True)
class GeneratedC:
    prefix: str
    header: str  # <prefix>.h
    source: str  # <prefix>.c
    scratch_words: int  # <PREFIX>_SCRATCH_WORDS
    plan: BufferPlan  # where the layers' outputs (and, in place, the image) lie
    const_bytes: int  # flash taken by the const arrays (weights, thresholds, sample, ...)
    stack_bytes: int  # local arrays of the layer with the most
    sample_scores: tuple[int, ...]  # what the model computes for <prefix>_sample
    sample_class: int
    sequence: bool = False  # the input is a sequence [T, C], not an image
    stream_whole: bool = False  # the stream keeps the whole input (its first layer's pools
    # overlap, or it is one row, or not a conv): no memory saved over the whole-input calls
    quantize_source: str | None = None  # <prefix>_input.c: a float model's quantisation

    @property
    def files(self) -> dict[str, str]:
        """File name -> text: the model's header and source, the kernel header, and for a
        model of float data its input quantisation (``<prefix>_input.c``)."""
        files = {f"{self.prefix}.h": self.header, f"{self.prefix}.c": self.source,
                 KERNELS: kernels_path().read_text()}
        if self.quantize_source is not None:
            files[f"{self.prefix}_input.c"] = self.quantize_source
        return files


def generated_names(prefix: str) -> list[str]:
    """Every identifier the library defines at file scope or as a macro outside the kernel
    header (layer functions stand for all ``<prefix>_layer<N>``)."""
    up = prefix.upper()
    return [f"{prefix}_{n}" for n in ("infer", "infer_with", "quantize", "quantize_i16",
                                      "quantize_i32", "layer0", "layer0_rows", "output_layer",
                                      "buf", "work", "sample", "stream",
                                      "stream_begin", "stream_row", "stream_rows0",
                                      "stream_layer0_rows", "stream_step",
                                      "stream_count",
                                      "stream_store1", "stream_last",
                                      "layer1_stream_rows")] + [
        f"{up}_{n}" for n in ("H", "MODEL_NAME", "INPUT_HEIGHT", "INPUT_WIDTH",
                              "INPUT_CHANNELS", "INPUT_SIZE", "CLASSES", "LAYERS",
                              "SCRATCH_WORDS", "SCRATCH_SIZE", "WORK_WORDS", "WORK_SIZE",
                              "WORK_INPUT_OFFSET", "INPUT_BUFFER", "IMAGE_IN_SCRATCH",
                              "ROW_SIZE", "STREAM_ROWS", "STREAM_WORDS",
                              "SAMPLE_CLASS", "NO_STATIC_SCRATCH", "NO_QUANTIZE_I16",
                              "NO_QUANTIZE_I32")]


_ARRAY = re.compile(r"static const (u?int(?:8|32))_t \w+\[(\d+)\]")


def _const_bytes(source: str) -> int:
    return sum(int(n) * (1 if t.endswith("8") else 4) for t, n in _ARRAY.findall(source))


_LOCALS = re.compile(r"^\s+(u?int(?:8|32))_t ([^;]*);", re.M)


def _local_array_bytes(function: str) -> int:
    """Bytes of the local arrays a layer's C function declares (``int32_t m[7], s[16], a;``,
    initialisers allowed: ``uint32_t win[8], mask[8] = {0}, *p = win;``)."""
    return sum(int(n) * (1 if t.endswith("8") else 4) for t, decl in _LOCALS.findall(function)
               for n in re.findall(r"\w+\[(\d+)\]", decl))


def c_comment(*blocks: str, width: int = 96) -> str:
    """A ``/* ... */`` block: each block a paragraph wrapped to ``width``; a block starting
    with a space keeps its lines as they are (tables)."""
    lines: list[str] = []
    for block in blocks:
        if lines:
            lines.append(" *")
        if block.startswith(" "):
            lines += [f" *{line}" for line in block.splitlines()]
        else:
            lines += textwrap.wrap(block, width, initial_indent=" * ", subsequent_indent=" * ",
                                   break_long_words=False, break_on_hyphens=False)
    return "/*\n" + "\n".join(lines) + "\n */\n"


def header_comment(art: Artifact, prefix: str, scratch: int, const_bytes: int,
                   stack_bytes: int) -> str:
    up = prefix.upper()
    h, w, c = art.input_shape
    network = " -> ".join(layer_kind(layer, f"layer {i}").summary(layer)
                          for i, layer in enumerate(art.layers))
    dataset = art.metadata.get("dataset")
    seen = f" (data set: {label(str(dataset))})" if dataset else ""
    return c_comment(
        f'{prefix}.h: the eBNN model "{model_label(art)}" as a portable C99 library: '
        "integer-only, no heap, no floating point, const weights. Generated by `ebnn export-c` "
        "(ebnn-sim) from the model's .ebnn artifact: do not edit, export again. How to use "
        "it: docs/deploy.md of ebnn-sim.",
        f"Network: {network}.",
        (f"Input: {up}_INPUT_SIZE = {h * w * c} bytes, one uint8 sequence of {w} steps x "
         f"{c} channels in time-major order ({up}_INPUT_HEIGHT = 1): byte "
         f"t * {up}_INPUT_CHANNELS + c is channel c at step t (0 = first). A byte is the "
         "sample's value 0..255 as in the " if art.sequence else
         f"Input: {up}_INPUT_SIZE = {h * w * c} bytes, one uint8 image of {h} x {w} x {c} "
         "(height x width x channels) in row-major HWC order: byte "
         f"(y * {up}_INPUT_WIDTH + x) * {up}_INPUT_CHANNELS + c is channel c of the pixel in "
         "row y (0 = top), column x (0 = left). A byte is the pixel's value 0..255 as in the ")
        + (f"training images{seen}; the network reads a byte v as 2v/255 - 1: 0 is -1.0, 255 "
           "is +1.0. Scale sensor data to 0..255 yourself before the call."
           if art.input_quant is None else
           f"training data{seen}, quantised: the model was trained on float values x, and "
           "the byte of channel c is clamp(round_half_even(x / scale[c]) + zero_point[c], 0, "
           "255) with, per channel, scale = {"
           + ", ".join(f"{v!r}" for v in art.input_quant.scale)
           + "} and zero_point = {" + ", ".join(map(str, art.input_quant.zero_point)) + "} "
           "(fitted on the training split). Quantise sensor data so before the call."),
        f"Output: {up}_CLASSES int32 scores, the float model's class scores times "
        f"2^{art.output.shift} (fixed point); the return value is the class: the index of the "
        "largest score, the lowest index on ties. Scores and class equal the model's integer "
        "reference (ebnn-sim's numpy reference) bit for bit.",
        f" Memory:\n"
        f"   flash    {const_bytes} bytes of const arrays (weights, thresholds, scales, the\n"
        f"            sample {'sequence' if art.sequence else 'image'}; a few bytes less where the "
        "compiler folds\n            a small one into the code), plus the code.\n"
        f"   scratch  {up}_SCRATCH_SIZE = {4 * scratch} bytes of activation bits: static (.bss)"
        f" for\n            {prefix}_infer, the caller's for {prefix}_infer_with.\n"
        f"   stack    {stack_bytes} bytes of local arrays in the largest layer: a floor. Spills,\n"
        "            saved registers and calls make the deepest frame 1.0 to 3.6 times this\n"
        "            for the shipped models at -O2, more for a small model (whose frame is\n"
        "            mostly saved registers): size a task's stack from `ebnn-sim run`'s\n"
        "            stack peak on the target or from gcc -fstack-usage, not from this.\n"
        "   no heap, no other state: nothing is kept between calls.",
        f"Define {up}_NO_STATIC_SCRATCH for {prefix}.c and its users alike to compile out the "
        f"static scratch and {prefix}_infer when every caller brings its own scratch (with "
        "--gc-sections, the default of most embedded builds, unused buffers take no RAM "
        "anyway).",
    )


def generate(art: Artifact, prefix: str = "ebnn") -> GeneratedC:
    """The library for ``art`` with every global symbol prefixed ``prefix`` (a C identifier
    the caller has checked, see ``ebnn.library.check_prefix``); its sample image is
    embedded for self-tests and argument-less runs."""
    up = prefix.upper()
    hidden, out = art.hidden, art.output
    plan = plan_buffers(art)
    sart = stream_artifact(art)
    sp = plan_stream(sart, plan)
    scratch = plan.scratch_words
    buf = scratch_buffer(prefix)
    h, w, c = art.input_shape
    size = h * w * c
    sample_arr = np.zeros(size, np.uint8) if art.sample is None else np.asarray(
        art.sample, np.uint8).ravel()
    if sample_arr.size != size:
        raise ValueError(f"sample image has {sample_arr.size} values, the model takes {size}")
    ref = reference.run(art, sample_arr.reshape(1, h, w, c))
    sample_scores = tuple(int(v) for v in ref.scores[0])
    sample_class = int(ref.classes[0])

    one = "sequence" if art.sequence else "image"  # what the model reads, in comments
    a_one = f"a {one}" if art.sequence else f"an {one}"
    guard = f"#ifndef {up}_NO_STATIC_SCRATCH\n"
    parts = [f"/* {prefix}.c: the eBNN model \"{model_label(art)}\" (API and memory: {prefix}.h). "
             "Generated by\n * `ebnn export-c` from the model artifact: do not edit. */\n",
             f'#include "{prefix}.h"\n#include "{KERNELS}"\n\n',
             "/* Global (not static) so that profilers and `ebnn-sim verify` find each layer by "
             "name. */\n"]
    functions = [layer_function(i, prefix) for i in range(len(hidden))]
    parts += [f"EBNN_NOINLINE void {f}(const {'uint8_t' if i == 0 else 'uint32_t'} *in, "
              "uint32_t *out);\n" for i, f in enumerate(functions)]
    parts.append(f"EBNN_NOINLINE int {output_function(prefix)}(const uint32_t *in, "
                 "int32_t *scores);\n\n")
    parts.append(guard + f"/* The static scratch of {prefix}_infer (layer outputs: "
                 f"{prefix}.h). With {up}_IMAGE_IN_SCRATCH it\n * has room for the {one} and "
                 f"is named {work_buffer(prefix)}, as {prefix}.h declares it then: your code "
                 f"and {prefix}.c\n * compiled one with the define and one without do not "
                 f"link (instead of writing {a_one}\n * over the end of the smaller scratch). */"
                 f"\n#ifdef {up}_IMAGE_IN_SCRATCH\n#define {buf} {work_buffer(prefix)}\n"
                 f"uint32_t {buf}[{up}_WORK_WORDS];\n#else\n"
                 f"extern uint32_t {buf}[{up}_SCRATCH_WORDS];\n"
                 f"uint32_t {buf}[{up}_SCRATCH_WORDS];\n#endif\n#endif\n")
    parts.append("\n" + c_array("uint8_t", "sample", sample_arr, per_line=28)
                 .replace("static const uint8_t sample", f"const uint8_t {prefix}_sample"))
    calls, calls_with = [], []
    stack_bytes = 0
    src, src_with = "input", "input"
    for i, layer in enumerate(hidden):
        at = plan.outputs[i]
        dst, dst_with = f"{buf} + {at}", f"scratch + {at}"
        consts, func = layer_kind(layer, f"layer {i}").code(functions[i], i, layer, src,
                                                             f"{buf}[{at}..]")
        parts += ["\n", consts, func]
        stack_bytes = max(stack_bytes, _local_array_bytes(consts + func))  # rows functions too
        calls.append(f"    {functions[i]}({src}, {dst});\n")
        calls_with.append(f"    {functions[i]}({src_with}, {dst_with});\n")
        src, src_with = dst, dst_with
    consts, func = layer_kind(out, f"layer {len(hidden)}").code(
        output_function(prefix), len(hidden), out, f"{buf}[{plan.outputs[-1]}..]", "scores")
    parts += ["\n", consts, func, "\n", guard,
              f"EBNN_ENTRY int {prefix}_infer(const uint8_t *input, int32_t *scores)\n{{\n", *calls,
              f"    return {output_function(prefix)}({src}, scores);\n}}\n#endif\n\n",
              f"EBNN_ENTRY int {prefix}_infer_with(const uint8_t *input, int32_t *scores, "
              "uint32_t *scratch)\n{\n", *calls_with,
              f"    return {output_function(prefix)}({src_with}, scores);\n}}\n\n",
              _stream_source(sart, prefix, plan, sp, sart is not art)]
    source = "".join(parts)
    const_bytes = _const_bytes(source) + size

    label = art.metadata.get("sample_label")
    sample_text = (f"An all-zero {one} (the artifact carries no sample)" if art.sample is None
                   else f"{a_one.capitalize()} from the training data" + (
                       f" (labelled {label} in its data set)" if isinstance(label, int) else ""))
    rows, row_size = sart.input_shape[0], sart.input_shape[1] * c
    if not sp.chain:
        why = ("the input is one row" if rows == 1 else
               "its first layer's\n * pools overlap" if _is_conv(art.hidden[0], "layer 0") else
               "its first layer is not a conv")
        how = f"The layers run after the last row: the stream keeps the whole {one} ({why})"
    else:
        held = (f"the sequence: {sp.cap} steps" if art.sequence
                else f"the image: {sp.rows} rows")
        how = (f"The first {sp.chain} layer{'s' if sp.chain > 1 else ''} run as their rows "
               f"become computable, each on a ring of the\n * rows it still reads ({held})"
               + ("; the output layer counts their last bits as they come"
                  if not sp.outputs else ""))
    if art.sequence:
        rows_text = (f"/* Streaming: the sequence step by step, as a sensor delivers it (step 0 "
                     f"first; a \"row\" is one\n * step, {up}_ROW_SIZE bytes: its "
                     f"{up}_INPUT_CHANNELS channels). {prefix}_stream_begin starts a sequence; "
                     f"\n * {prefix}_stream_row takes the next of its {up}_STREAM_ROWS steps")
    else:
        rows_text = (f"/* Streaming: the image row by row, as a sensor delivers it (top row "
                     f"first, each row\n * {up}_ROW_SIZE bytes, HWC). {prefix}_stream_begin "
                     f"starts an image; {prefix}_stream_row\n * takes the next of its "
                     f"{up}_STREAM_ROWS rows")
    header = (
        header_comment(art, prefix, scratch, const_bytes, stack_bytes)
        + f"#ifndef {up}_H\n#define {up}_H\n\n#include <stdint.h>\n\n"
        "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n"
        f'#define {up}_MODEL_NAME "{model_label(art)}"\n'
        f"#define {up}_INPUT_HEIGHT {h}\n#define {up}_INPUT_WIDTH {w}\n"
        f"#define {up}_INPUT_CHANNELS {c}\n#define {up}_INPUT_SIZE {size}\n"
        f"#define {up}_CLASSES {art.classes}\n#define {up}_LAYERS {len(art.layers)}\n"
        + _class_names_macro(art, up) + _quant_macros(art, up) +
        f"#define {up}_SCRATCH_WORDS {scratch}\n"
        f"#define {up}_SCRATCH_SIZE (4 * {up}_SCRATCH_WORDS)\n"
        f"/* The scratch with room for the {one} inside it, at byte {up}_WORK_INPUT_OFFSET\n"
        f" * (a word boundary): {a_one} placed there is overwritten by the activations once\n"
        f" * the first layer has read it, so no separate {one} buffer is needed. */\n"
        f"#define {up}_WORK_WORDS {plan.work_words}\n"
        f"#define {up}_WORK_SIZE (4 * {up}_WORK_WORDS)\n"
        f"#define {up}_WORK_INPUT_OFFSET {plan.input_offset}\n"
        f"#define {up}_SAMPLE_CLASS {sample_class}\n\n"
        f"/* {sample_text}, for self-tests:\n"
        f" * the model answers {up}_SAMPLE_CLASS for it. In flash; unused, it is dropped by\n"
        " * --gc-sections. */\n"
        f"extern const uint8_t {prefix}_sample[{up}_INPUT_SIZE];\n\n"
        f"#ifndef {up}_NO_STATIC_SCRATCH\n"
        f"/* Classifies one {one} (input[{up}_INPUT_SIZE]): fills scores[{up}_CLASSES] and "
        "returns the\n * class. Uses the static scratch: not reentrant, one call at a time "
        "(from several\n * threads or interrupts at once, use "
        f"{prefix}_infer_with with a scratch each). */\n"
        f"int {prefix}_infer(const uint8_t *input, int32_t *scores);\n"
        f"/* With {up}_IMAGE_IN_SCRATCH defined for {prefix}.c and its users alike, the static "
        f"scratch\n * is {up}_WORK_SIZE bytes and {up}_INPUT_BUFFER is the place in it for the "
        f"{one}:\n * {prefix}_infer({up}_INPUT_BUFFER, scores) needs no other buffer (the {one} "
        "is destroyed). */\n"
        f"#ifdef {up}_IMAGE_IN_SCRATCH\nextern uint32_t {work_buffer(prefix)}[{up}_WORK_WORDS];\n"
        f"#define {up}_INPUT_BUFFER ((uint8_t *){work_buffer(prefix)} + {up}_WORK_INPUT_OFFSET)"
        "\n#endif\n"
        "#endif\n\n"
        f"/* The same with the caller's scratch[{up}_SCRATCH_WORDS] (uint32_t: word-aligned; "
        "no need to\n * initialise it; its contents are garbage afterwards). Reentrant: the "
        f"scratch is the only\n * memory it writes besides scores and its stack. The {one} "
        "must not overlap the scratch,\n * except at (uint8_t *)scratch + "
        f"{up}_WORK_INPUT_OFFSET in a scratch of {up}_WORK_WORDS words. */\n"
        f"int {prefix}_infer_with(const uint8_t *input, int32_t *scores, uint32_t *scratch);\n\n"
        + rows_text + " (copied: row may be reused at once) and returns -1, or after"
        "\n * the last the class, scores filled (the stream is then ready for the next "
        "input).\n * " + how + ". Its state is all the memory it needs. Reentrant per stream. */\n"
        f"#define {up}_STREAM_ROWS {rows}\n#define {up}_ROW_SIZE {row_size}\n"
        f"#define {up}_STREAM_WORDS {sp.words}\n"
        "typedef struct {\n"
        f"    uint32_t buf[{up}_STREAM_WORDS]; /* the rows the layers still read, activations */\n"
        + ("    int row; /* steps received */\n" if art.sequence
           else "    int row; /* image rows received */\n")
        + (f"    int py[{sp.chain}], lo[{sp.chain}]; /* per layer run by rows: output rows done, "
           "first row in its ring */\n"
           "    uint32_t at, word, n; /* where the last of them writes: word, partial word, "
           "bits */\n"
           if sp.chain else "")
        + ("    int fill; /* rows (steps) in the input's ring */\n" if sp.cap > sp.rows else "")
        + (f"    uint32_t acc[{art.classes}]; /* the output layer's counts so far */\n"
           if sp.chain and not sp.outputs else "")
        + f"}} {prefix}_stream;\n"
        f"void {prefix}_stream_begin({prefix}_stream *s);\n"
        f"int {prefix}_stream_row({prefix}_stream *s, const uint8_t *row, int32_t *scores);\n\n"
        + _quantize_declaration(art, prefix) +
        "#ifdef __cplusplus\n}\n#endif\n\n#endif\n"
    )
    return GeneratedC(prefix, header, source, scratch, plan, const_bytes, stack_bytes,
                      sample_scores, sample_class, art.sequence, not sp.chain,
                      _quantize_source(art, prefix))


def _quantize_declaration(art: Artifact, prefix: str) -> str:
    """``<prefix>_quantize``'s declaration, for a model of float data (none otherwise)."""
    if art.input_quant is None:
        return ""
    up = prefix.upper()
    return (f"/* In {prefix}_input.c: n float readings x as the model's input bytes, out[i] =\n"
            " * clamp(round_half_even(x[i] / scale[c]) + zero_point[c], 0, 255) with c = i mod\n"
            f" * {up}_INPUT_CHANNELS (x begins with channel 0: a whole input, or whole rows or "
            "steps\n * of a stream), in double precision: bit for bit the bytes ebnn's reference "
            "reads for\n * the same floats (`ebnn eval --input`); a NaN reads 0. No C library: "
            "double arithmetic\n * is the compiler's runtime (libgcc) on cores without a "
            "double-precision FPU. */\n"
            f"void {prefix}_quantize(const float *x, uint8_t *out, uint32_t n);\n\n"
            + _quantize_int_declaration(art.input_quant.channels, prefix))


# cycles per value of <prefix>_quantize_i16 and _i32 at -O2, measured with `ebnn-sim profile`
# on 600 readings of basicmotions (tests/test_quantize_int.py): stm32l031 (M0+, one flash wait
# state) 82 and 71, curie (M3) 58 and 58; <prefix>_quantize there: 3,470 and 1,460
CYCLES = {"m0plus": 80, "m3": 60}
FLOAT_CYCLES = {"m0plus": "3,500", "m3": "1,500"}


def _quantize_int_declaration(channels: int, prefix: str) -> str:
    """The integer quantisers' declarations, with their cost in cycles and flash."""
    up = prefix.upper()
    i16, i32 = (f"{k.bytes_per_channel()} bytes of flash per channel "
                f"({k.bytes_per_channel() * channels} here)" for k in (INT16, INT32))
    text = (f"Also in {prefix}_input.c: the same bytes for integer readings (an ADC's counts, "
            "16-bit PCM) with integer arithmetic alone, for cores without an FPU: out[i] is "
            f"{prefix}_quantize's byte for (float)x[i], bit for bit, for every value of the "
            "type: the formula above for the reading itself up to |x[i]| = 2^24 (every int16), "
            "for its nearest float beyond, as training data and `ebnn eval` read integers. Each "
            "counts the reading's place among 255 limits of its channel (computed and checked "
            "against the reference by `ebnn export-c`), an 8-step binary search: about "
            f"{CYCLES['m0plus']} cycles per value on a Cortex-M0+ and {CYCLES['m3']} on an M3 "
            f"(-O2), where {prefix}_quantize's soft double arithmetic costs about "
            f"{FLOAT_CYCLES['m0plus']} and {FLOAT_CYCLES['m3']}. Tables: "
            f"{prefix}_quantize_i16 {i16}, {prefix}_quantize_i32 {i32}; a function unused is "
            "dropped with its table by --gc-sections (with -ffunction-sections "
            f"-fdata-sections), or compiled out by defining {up}_NO_QUANTIZE_I16 or "
            f"{up}_NO_QUANTIZE_I32 for {prefix}_input.c.")
    lines = textwrap.wrap(text, 88, break_long_words=False, break_on_hyphens=False)
    return ("/* " + "\n * ".join(lines) + " */\n"
            f"void {prefix}_quantize_i16(const int16_t *x, uint8_t *out, uint32_t n);\n"
            f"void {prefix}_quantize_i32(const int32_t *x, uint8_t *out, uint32_t n);\n\n")


def _quantize_source(art: Artifact, prefix: str) -> str | None:
    """``<prefix>_input.c``: the model's input quantisation in C (docs/semantics.md), apart
    from ``<prefix>.c``, which uses no compiler runtime; None for a model of uint8 data.
    Cost per value: one double division (a few hundred cycles in software on an FPU-less
    core), a truncation and a few compares."""
    if art.input_quant is None:
        return None
    up = prefix.upper()
    return (f"/* {prefix}_input.c: the input quantisation of the eBNN model \"{model_label(art)}\" "
            f"({prefix}.h).\n * Generated by `ebnn export-c` from the model artifact: do not "
            "edit. */\n"
            f'#include "{prefix}.h"\n\n'
            f"void {prefix}_quantize(const float *x, uint8_t *out, uint32_t n)\n{{\n"
            f"    static const double scale[{up}_INPUT_CHANNELS] = {up}_INPUT_SCALE;\n"
            f"    static const int32_t zero_point[{up}_INPUT_CHANNELS] = {up}_INPUT_ZERO_POINT;\n"
            "    uint32_t c = 0;\n"
            "    for (uint32_t i = 0; i < n; i++) {\n"
            "        double v = (double)x[i] / scale[c];\n"
            "        int64_t t, q;\n"
            "        double f;\n"
            "        int odd;\n"
            "        /* beyond any byte for every zero point (|zero point| < 2^31): exact in\n"
            "         * a double and an int64_t; a NaN reads 0 */\n"
            "        if (!(v > -1e10))\n"
            "            v = -1e10;\n"
            "        else if (v > 1e10)\n"
            "            v = 1e10;\n"
            "        t = (int64_t)v; /* toward zero; then to the nearest, a tie to even */\n"
            "        f = v - (double)t;\n"
            "        odd = (int)(t & 1);\n"
            "        if (f > 0.5 || (f >= 0.5 && odd))\n"
            "            t++;\n"
            "        else if (f < -0.5 || (f <= -0.5 && odd))\n"
            "            t--;\n"
            "        q = t + zero_point[c];\n"
            "        out[i] = (uint8_t)(q < 0 ? 0 : q > 255 ? 255 : q);\n"
            f"        if (++c == {up}_INPUT_CHANNELS)\n"
            "            c = 0;\n"
            "    }\n}\n"
            + "".join(_quantize_int_source(art.input_quant, prefix, kind) for kind in INT_TYPES))


def _quantize_int_source(quant: InputQuant, prefix: str, kind: IntType) -> str:
    """``<prefix>_quantize_<i16|i32>``: integer readings to the model's bytes by counting the
    channel's limits below the reading (ebnn/quantize_int.py), an 8-step binary search in
    integers; compiled out by ``<PREFIX>_NO_QUANTIZE_<I16|I32>``."""
    up = prefix.upper()
    tab = table(quant, kind)
    guard = f"{up}_NO_QUANTIZE_{kind.suffix.upper()}"
    limits = ",\n".join(
        "        " + ", ".join(kind.lo_text if int(v) == kind.lo else str(int(v))
                          for v in row[i:i + 12])
        for row in tab.limits for i in range(0, STEPS, 12))
    search = "".join(f"        if (v > p[{step - 1}])\n            p += {step};\n"
                     for step in (128, 64, 32, 16, 8, 4, 2, 1))
    return (f"\n#ifndef {guard}\n"
            f"void {prefix}_quantize_{kind.suffix}(const {kind.ctype} *x, uint8_t *out, "
            "uint32_t n)\n{\n"
            "    /* per channel: the byte of the lowest reading, and the largest readings whose\n"
            "     * bytes are below it + 1, + 2, ..., + 255 (the type's largest past the last) */\n"
            f"    static const uint8_t base[{up}_INPUT_CHANNELS] = {{"
            + ", ".join(str(int(b)) for b in tab.base) + "};\n"
            f"    static const {kind.ctype} limit[{up}_INPUT_CHANNELS * {STEPS}] = {{\n"
            f"{limits}\n    }};\n"
            f"    const {kind.ctype} *t = limit;\n"
            "    uint32_t c = 0;\n"
            "    for (uint32_t i = 0; i < n; i++) {\n"
            f"        {kind.ctype} v = x[i];\n"
            f"        const {kind.ctype} *p = t;\n"
            "        /* p - t = how many of the channel's 255 sorted limits v exceeds */\n"
            + search +
            "        out[i] = (uint8_t)(base[c] + (uint32_t)(p - t));\n"
            f"        t += {STEPS};\n"
            f"        if (++c == {up}_INPUT_CHANNELS) {{\n"
            "            c = 0;\n"
            "            t = limit;\n"
            "        }\n"
            "    }\n}\n"
            "#endif\n")
