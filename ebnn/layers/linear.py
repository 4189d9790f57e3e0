"""linear: binary fully connected layer over all the input bits, BN + sign folded into a
threshold per unit.

Artifact weights are (units, N) with the N inputs in HWC order: after a conv, export re-orders
torch's CHW flattening so that a unit reads the activation bit stream as it lies in memory.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ebnn.ctext import c_array, hidden_layer_function, pack_words, words
from ebnn.layers.base import LayerKind, LayerSpec, check, int_key
from ebnn.layers.threshold import ThresholdHead

if TYPE_CHECKING:
    from torch import nn

    from ebnn.artifact import Layer


class LinearOp(LayerKind):
    """The binary fully connected op: what ``linear`` and ``output`` share."""

    keys = ("units",)

    def parse(self, table: dict[str, Any], where: str) -> LayerSpec:
        return LayerSpec(self.name, int_key(table, "units", None, where))

    def to_config(self, spec: LayerSpec) -> dict[str, Any]:
        return {"type": self.name, "units": spec.out}

    def may_follow(self, previous: LayerKind | None) -> bool:
        return previous is not None  # it reads bits; pixels are a conv's

    def output_shape(self, in_shape: tuple[int, ...], spec: LayerSpec,
                     where: str) -> tuple[int, ...]:
        return (spec.out,)

    def build(self, spec: LayerSpec, in_shape: tuple[int, ...]
              ) -> tuple[nn.Conv2d | nn.Linear, nn.Module, nn.BatchNorm1d | nn.BatchNorm2d]:
        from torch import nn

        from ebnn.model import BinaryLinear

        op = BinaryLinear(math.prod(in_shape), spec.out, bias=False)
        return op, nn.Identity(), nn.BatchNorm1d(spec.out)

    def export_weights(self, bits: np.ndarray, in_shape: tuple[int, ...]) -> np.ndarray:
        if len(in_shape) == 3:  # after a conv: torch flattens (C, H, W); we keep HWC
            h, w, c = in_shape
            return np.ascontiguousarray(
                bits.reshape(bits.shape[0], c, h, w).transpose(0, 2, 3, 1)
                .reshape(bits.shape[0], -1))
        return np.ascontiguousarray(bits)

    def geometry(self, spec: LayerSpec) -> dict[str, Any]:
        return {}

    def check_weights(self, layer: Layer, where: str) -> None:
        """(units, N) weights over all N inputs, and out_shape (units,)."""
        check(layer.weights.ndim == 2, f"{where}: weight shape")
        units, n = layer.weights.shape
        inputs = math.prod(layer.in_shape)
        check(n == inputs, f"{where}: weights expect {n} inputs, not {inputs}")
        check(tuple(layer.out_shape) == (units,), f"{where}: output shape")

    def accumulate(self, layer: Layer, x: np.ndarray) -> np.ndarray:
        signs = np.where(layer.weights, 1.0, -1.0).astype(x.dtype)
        acc: np.ndarray = x.reshape(x.shape[0], -1) @ signs.T
        return acc

    def describe(self, element: Sequence[int]) -> str:
        return f"unit {element[0]}"


class Linear(ThresholdHead, LinearOp):
    name = "linear"

    def validate(self, layer: Layer, where: str) -> None:
        self.check_weights(layer, where)
        self.check_directions(layer, where)

    def code(self, function: str, index: int, layer: Layer, src: str,
             dst: str) -> tuple[str, str]:
        p = f"l{index}"
        units, n = layer.weights.shape
        nw = words(n)
        consts = self.threshold_arrays(p, layer) + c_array(
            "uint32_t", f"{p}_w", pack_words(layer.weights), hexa=True)
        body = f"    ebnn_linear_bin(in, out, {p}_w, {p}_thr, {p}_dir, {n}, {units}, {nw});\n"
        return consts, hidden_layer_function(function, index, self.name, layer.in_shape,
                                             layer.out_shape, src, dst, body)

    def summary(self, layer: Layer) -> str:
        return f"fc{layer.weights.shape[0]}"
