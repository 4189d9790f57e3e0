"""output: the network's last layer, a binary linear op whose BN becomes class scores in int32
fixed point, ``score = scale * dot + offset``; class = argmax, lowest index on ties.

It is appended to every model (not a ``[[model.layers]]`` type) and reads the last hidden
layer's bits.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from ebnn.ctext import c_array, pack_words, words
from ebnn.layers.base import check
from ebnn.layers.linear import LinearOp

if TYPE_CHECKING:
    from ebnn.artifact import Layer
    from ebnn.model import Block

# the names of its constant arrays (a stream counts its input's words against them as they come)
WEIGHTS, SCALE, OFFSET = "out_w", "out_scale", "out_offset"


class Output(LinearOp):
    name = "output"
    is_output = True
    params: ClassVar[dict[str, type[np.integer]]] = {"scale": np.int32, "offset": np.int32}

    def fold(self, block: Block, layer: Layer) -> None:
        from ebnn.export import fold_scores  # torch: exporting only

        layer.scale, layer.offset, layer.shift = fold_scores(block, layer.fan_in)

    def validate(self, layer: Layer, where: str) -> None:
        self.check_weights(layer, where)
        assert layer.scale is not None and layer.offset is not None  # the caller checked them
        bound = np.abs(layer.scale.astype(np.int64)) * layer.fan_in + np.abs(
            layer.offset.astype(np.int64))
        check(bool(np.all(bound < 2**31)), f"{where}: scores could overflow int32")

    def code(self, function: str, index: int, layer: Layer, src: str,
             dst: str) -> tuple[str, str]:
        assert layer.scale is not None and layer.offset is not None  # validated layer
        units, n = layer.weights.shape
        nw = words(n)
        consts = (c_array("uint32_t", WEIGHTS, pack_words(layer.weights), hexa=True)
                  + c_array("int32_t", SCALE, layer.scale)
                  + c_array("int32_t", OFFSET, layer.offset))
        func = (f"\n/* output: {n} bits -> {units} scores (fixed point, shift {layer.shift}) */\n"
                f"EBNN_NOINLINE int {function}(const uint32_t *in, int32_t *scores)\n{{\n"
                f"    return ebnn_output(in, scores, {WEIGHTS}, {SCALE}, {OFFSET}, {n}, {units}, "
                f"{nw});\n}}\n")
        return consts, func

    def summary(self, layer: Layer) -> str:
        return f"out{layer.weights.shape[0]}"
