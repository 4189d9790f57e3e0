"""The head conv and linear share: BN + sign folded into an integer threshold and a direction
per output channel, so the layer outputs bits (docs/semantics.md)."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from ebnn.ctext import c_array
from ebnn.layers.base import check

if TYPE_CHECKING:
    from ebnn.artifact import Layer
    from ebnn.model import Block


class ThresholdHead:
    """Mixin of a ``LayerKind`` whose output bit is ``acc >= threshold`` (direction +1),
    ``acc <= threshold`` (-1) or the constant ``threshold != 0`` (0)."""

    params: ClassVar[dict[str, type[np.integer]]] = {"threshold": np.int32,
                                                     "direction": np.int8}

    def fold(self, block: Block, layer: Layer) -> None:
        from ebnn.export import accumulator_bound, fold_threshold  # torch: exporting only

        layer.threshold, layer.direction = fold_threshold(
            block, accumulator_bound(block, layer.fan_in))

    @staticmethod
    def check_directions(layer: Layer, where: str) -> None:
        assert layer.direction is not None  # the caller checked the params are there
        check(bool(np.all(np.isin(layer.direction, (-1, 0, 1)))),
              f"{where}: direction must be -1, 0 or 1")

    @staticmethod
    def threshold_arrays(prefix: str, layer: Layer) -> str:
        """C arrays ``<prefix>_thr`` and ``<prefix>_dir``."""
        assert layer.threshold is not None and layer.direction is not None  # validated layer
        return c_array("int32_t", f"{prefix}_thr", layer.threshold) + c_array(
            "int8_t", f"{prefix}_dir", layer.direction, per_line=16)
