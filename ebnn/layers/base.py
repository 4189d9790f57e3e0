"""The record of a layer kind: every hook by which kinds differ, and the config record they parse.

One instance of each ``LayerKind`` subclass is registered in ``ebnn.layers.KINDS``; config,
model, export, artifact, reference, codegen and verify look a layer's kind up there and call its
hooks, and keep only what all kinds share.

Hooks report an invalid layer with ``LayerError``, one line for the user; the config and the
artifact code re-raise it as their own error (``ConfigError``, ``ArtifactError``). Torch is
imported inside the torch-side hooks only (``build``, ``fold``), so loading an artifact,
running the reference or generating C never loads it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from ebnn.toml_value import toml_value

if TYPE_CHECKING:
    from torch import nn

    from ebnn.artifact import Layer
    from ebnn.model import Block


# Resource limits on what a config or an artifact may describe (docs/config.md, docs/security.md):
# no single size beyond MAX_DIM (a map's side: MAX_SIZE), no map of more than MAX_VALUES values,
# no model of more than MAX_WEIGHT_BITS weights, so no hostile input can ask for an absurd
# allocation or training run.
MAX_DIM = 4096  # filters, units, classes, kernel, stride, padding, pool
# each dimension of a map: the input's H, W or T (1 s of 16 kHz audio is 16,000 steps) and a
# layer's output; MAX_VALUES bounds their product
MAX_SIZE = 65_536
MAX_VALUES = 1 << 24  # values in the input image and in any layer's output (pre-pool, too)
MAX_WEIGHT_BITS = 64 << 20  # weights of the whole model
MAX_NAME = 256  # characters of a model's name (it becomes C identifiers and file names)
# values of a conv layer's windows for one image (Hc x Wc x kh*kw*C), which the numpy
# reference holds: a large kernel over a padded small input is few weights and outputs but
# a huge window matrix
MAX_WINDOW_VALUES = 1 << 27
# export folds the first layer's BN over every accumulator value it can reach, for each
# filter: (2 * 255 * fan_in + 1) x filters values at once
MAX_FOLD_VALUES = 1 << 28


class LayerError(Exception):
    """A layer that cannot be used; ``str()`` is one line for the user."""


def check(cond: bool, message: str) -> None:
    if not cond:
        raise LayerError(message)


@dataclass(frozen=True)
class LayerSpec:
    """One hidden block of a config (a ``[[model.layers]]`` table), or the output layer."""

    type: str  # a name in ebnn.layers.KINDS
    out: int  # filters or units
    kernel: tuple[int, int] = (1, 1)  # (kh, kw); every geometry field is per axis (y, x)
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    pool: tuple[int, int] = (1, 1)
    pool_stride: tuple[int, int] = (1, 1)


def int_key(table: dict[str, Any], key: str, default: int | None, where: str,
            lo: int = 1, hi: int = MAX_DIM) -> int:
    """``table[key]`` (or ``default``), an integer in ``lo..hi``; None as default: required."""
    value = table.get(key, default)
    if value is None:
        raise LayerError(f"{where}: '{key}' is required")
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise LayerError(f"{where}: '{key}' must be an integer in {lo}..{hi}, got "
                         f"{toml_value(value):.40}")
    return value


def pair_key(table: dict[str, Any], key: str, default: int | tuple[int, int] | None, where: str,
             lo: int = 1, hi: int = MAX_DIM) -> tuple[int, int]:
    """``table[key]`` (or ``default``): an integer (the same on both axes) or ``[y, x]``, each
    in ``lo..hi``; None as default: required."""
    value = given = table.get(key, default)
    if value is None:
        raise LayerError(f"{where}: '{key}' is required")
    if isinstance(value, tuple):
        value = list(value)
    if isinstance(value, int) and not isinstance(value, bool):
        value = [value, value]
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi
                       for v in value)):
        raise LayerError(f"{where}: '{key}' must be an integer or [{key[0]}h, {key[0]}w] in "
                         f"{lo}..{hi}, got {toml_value(given):.40}")
    return value[0], value[1]


class LayerKind(ABC):
    """What one kind of layer is, in every part of the tool chain.

    ``where`` arguments name the layer in messages ("layer 2"); shapes are (H, W, C) maps or
    (N,) vectors.
    """

    name: ClassVar[str]  # its "type" in configs and "kind" in artifacts
    is_output: ClassVar[bool] = False  # the network's last layer: class scores, not bits
    keys: ClassVar[tuple[str, ...]]  # its [[model.layers]] keys besides "type"
    # per-output-channel arrays stored beside the weights (artifact Layer fields), with dtypes
    params: ClassVar[dict[str, type[np.integer]]]

    # config

    @abstractmethod
    def parse(self, table: dict[str, Any], where: str) -> LayerSpec:
        """A ``[[model.layers]]`` table, whose keys are known to be in ``keys``, as a spec:
        defaults filled in, values checked."""

    @abstractmethod
    def to_config(self, spec: LayerSpec) -> dict[str, Any]:
        """The table ``parse`` turns back into ``spec``."""

    @abstractmethod
    def may_follow(self, previous: LayerKind | None) -> bool:
        """Whether this kind may come right after ``previous`` (None: it reads the pixels)."""

    # shape

    @abstractmethod
    def output_shape(self, in_shape: tuple[int, ...], spec: LayerSpec,
                     where: str) -> tuple[int, ...]:
        """The block's output shape for an input of ``in_shape``."""

    # torch

    @abstractmethod
    def build(self, spec: LayerSpec, in_shape: tuple[int, ...]
              ) -> tuple[nn.Conv2d | nn.Linear, nn.Module, nn.BatchNorm1d | nn.BatchNorm2d]:
        """The (op, pool, bn) modules of ``ebnn.model.Block``; op has binary weights."""

    # export

    @abstractmethod
    def export_weights(self, bits: np.ndarray, in_shape: tuple[int, ...]) -> np.ndarray:
        """Weight bits in torch's layout -> the artifact's (channels first, inputs in HWC)."""

    @abstractmethod
    def geometry(self, spec: LayerSpec) -> dict[str, Any]:
        """The artifact ``Layer`` fields it takes from the spec besides shapes and weights."""

    @abstractmethod
    def fold(self, block: Block, layer: Layer) -> None:
        """Set ``layer``'s ``params`` from ``block``'s BN (``layer.weights`` is set)."""

    # artifact

    @abstractmethod
    def validate(self, layer: Layer, where: str) -> None:
        """Weights, geometry, output shape and parameter values of a loaded layer. The caller
        has checked its position, input shape, weight dtype and each param's dtype and length
        (one value per output channel)."""

    # reference

    @abstractmethod
    def accumulate(self, layer: Layer, x: np.ndarray) -> np.ndarray:
        """Integer accumulators (after pooling) for inputs ``x`` (N, *in_shape), exact
        integers in x's float type (pixels as 2x - 255, bits as ±1)."""

    # codegen

    @abstractmethod
    def code(self, function: str, index: int, layer: Layer, src: str,
             dst: str) -> tuple[str, str]:
        """(constant arrays, function) in C for layer ``index``: the function is called
        ``function`` (``<prefix>_layer<index>``, ``<prefix>_output_layer`` for the output:
        ``ebnn.codegen`` names them) and takes (in, out); ``src`` and ``dst`` name what it
        reads and writes, for its comment. Arrays are ``static const``, named ``l<index>_*``.
        """

    def input_alias_offset(self, layer: Layer) -> int | None:
        """For a first layer: the least byte offset (a multiple of 4) at which the image may
        start after the start of the layer's output so that its code, writing the output as it
        goes, never overwrites pixels it has still to read (the image and the output then share
        memory, ``ebnn.codegen.plan_buffers``); None: they must not overlap."""
        return None

    # verify and reports

    @abstractmethod
    def describe(self, element: Sequence[int]) -> str:
        """An element of its output (an index into ``out_shape``) in words."""

    @abstractmethod
    def summary(self, layer: Layer) -> str:
        """A short label for architecture tables: ``conv16 3x3 pool2``, ``fc64``."""
