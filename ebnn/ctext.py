"""C source text shared by the code generator (``ebnn.codegen``) and the layer kinds
(``ebnn.layers``): bit-packed words and ``const`` arrays."""

import numpy as np


def words(bits: int) -> int:
    return (bits + 31) // 32


def pack_words(bits: np.ndarray) -> np.ndarray:
    """bool (rows, n) -> uint32 (rows, ceil(n / 32)); bit i of a row in word i // 32."""
    rows, n = bits.shape
    padded = np.zeros((rows, words(n) * 32), np.uint8)
    padded[:, :n] = bits
    packed = np.packbits(padded.reshape(rows, -1, 8), axis=2, bitorder="little")
    return packed.reshape(rows, -1).view("<u4").astype(np.uint32)


def c_array(ctype: str, name: str, values: np.ndarray, per_line: int = 8,
            hexa: bool = False) -> str:
    """``static const`` C array of the integers ``values`` (flattened)."""
    flat = [int(v) for v in np.asarray(values).ravel()]
    fmt = (lambda v: f"0x{v:08x}u") if hexa else str
    lines = [
        "    " + ", ".join(fmt(v) for v in flat[i : i + per_line])
        for i in range(0, len(flat), per_line)
    ]
    body = ",\n".join(lines) if lines else "    0"
    return f"static const {ctype} {name}[{max(len(flat), 1)}] = {{\n{body}\n}};\n"


def hidden_layer_function(function: str, index: int, label: str, in_shape: tuple[int, ...],
                          out_shape: tuple[int, ...], src: str, dst: str, body: str) -> str:
    """``function``: hidden layer ``index``, which reads bits from ``in`` and writes bits."""
    return (f"/* layer {index}: {label} {in_shape} -> {out_shape}, reads {src}, "
            f"writes {dst} */\n"
            f"EBNN_NOINLINE void {function}(const uint32_t *in, uint32_t *out)\n"
            f"{{\n{body}}}\n")
