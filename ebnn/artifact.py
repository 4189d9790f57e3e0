"""The exported model (``.ebnn``): the single source of truth for the reference and the C code.

A ``.ebnn`` file is a NumPy ``.npz`` archive read with ``allow_pickle=False``: a JSON header
(format name, version, shapes) stored as bytes, and plain integer arrays. Weights are bit-packed
(``np.packbits``, little bit order). Every field is validated on load, so a corrupted or
hand-edited file is rejected with one clear line instead of producing wrong firmware.

Integer semantics of each layer (see docs/semantics.md):
- ``conv``/``linear``: accumulator ``acc`` (first layer: ``sum w * (2x - 255)``; hidden:
  ``K - 2 * popcount(a XOR w)`` over the valid positions), max-pooled, then the output bit is
  ``acc >= threshold`` (direction +1), ``acc <= threshold`` (direction -1), or the constant
  ``threshold != 0`` (direction 0).
- ``output``: ``score = scale * dot + offset`` in int32, class = argmax (lowest index on ties).

Which arrays a layer stores beside its weights, and the checks of its fields, are its kind's
(``ebnn/layers/``); a kind this version does not know is an error.
"""

import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ebnn.layers import LayerError, LayerKind, check_follows, kind

FORMAT = "ebnn"
VERSION = 1


class ArtifactError(Exception):
    """A ``.ebnn`` file that cannot be used; ``str()`` is one line for the user."""


@dataclass
class Layer:
    kind: str  # a name in ebnn.layers.KINDS: "conv", "linear" or "output"
    first: bool  # reads uint8 pixels rather than bits
    in_shape: tuple[int, ...]  # (H, W, C) or (N,)
    out_shape: tuple[int, ...]  # (H, W, F) after pooling, or (units,)
    weights: np.ndarray  # bool; conv (F, kh, kw, C); linear/output (units, N), N in HWC order
    kernel: tuple[int, int] = (1, 1)
    stride: int = 1
    padding: int = 0
    pool: int = 1
    pool_stride: int = 1
    threshold: np.ndarray | None = None  # int32 (F,)
    direction: np.ndarray | None = None  # int8 (F,)
    scale: np.ndarray | None = None  # int32 (classes,), output layer
    offset: np.ndarray | None = None  # int32 (classes,), output layer
    shift: int = 0  # scores are the float BN outputs times 2**shift

    @property
    def fan_in(self) -> int:
        """Inputs per output: K of ``K - 2 * popcount``."""
        return int(np.prod(self.weights.shape[1:]))

    def header(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "first": self.first, "in_shape": list(self.in_shape),
            "out_shape": list(self.out_shape), "weights_shape": list(self.weights.shape),
            "kernel": list(self.kernel), "stride": self.stride, "padding": self.padding,
            "pool": self.pool, "pool_stride": self.pool_stride, "shift": self.shift,
        }


@dataclass
class Artifact:
    name: str
    input_shape: tuple[int, int, int]
    classes: int
    layers: list[Layer]
    metadata: dict[str, Any]
    sample: np.ndarray | None = None  # uint8 image of input_shape, embedded in firmware

    @property
    def hidden(self) -> list[Layer]:
        return self.layers[:-1]

    @property
    def output(self) -> Layer:
        return self.layers[-1]

    def weight_bits(self) -> int:
        return sum(int(layer.weights.size) for layer in self.layers)


def layer_kind(layer: Layer, where: str) -> LayerKind:
    """The kind record of ``layer``; ArtifactError if this version knows no such kind."""
    return kind(layer.kind, where, ArtifactError)


def save(art: Artifact, path: str | Path) -> None:
    validate(art)
    header = {
        "format": FORMAT, "version": VERSION, "name": art.name,
        "input_shape": list(art.input_shape), "classes": art.classes,
        "layers": [layer.header() for layer in art.layers], "metadata": art.metadata,
    }
    arrays: dict[str, np.ndarray] = {
        "header": np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)}
    for i, layer in enumerate(art.layers):
        arrays[f"l{i}_weights"] = np.packbits(layer.weights.astype(np.uint8).ravel(),
                                              bitorder="little")
        for name, dtype in layer_kind(layer, f"layer {i}").params.items():
            arrays[f"l{i}_{name}"] = getattr(layer, name).astype(dtype)
    if art.sample is not None:
        arrays["sample"] = np.asarray(art.sample, np.uint8).reshape(art.input_shape)
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    # mypy matches **arrays against savez's allow_pickle: bool too; no array is named that
    np.savez(buf, **arrays)  # type: ignore[arg-type]
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_bytes(buf.getvalue())
    tmp.replace(p)  # never leave a half-written artifact behind


def load(path: str | Path) -> Artifact:
    p = Path(path)
    if not p.is_file():
        raise ArtifactError(f"{p}: no such file")
    try:
        with np.load(p, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as exc:
        raise ArtifactError(f"{p}: not a readable .ebnn file ({exc})") from None
    try:
        art = _from_arrays(arrays)
        validate(art)
    except ArtifactError as exc:
        raise ArtifactError(f"{p}: {exc}") from None
    except (KeyError, ValueError, TypeError, IndexError, json.JSONDecodeError) as exc:
        raise ArtifactError(f"{p}: corrupted .ebnn file ({type(exc).__name__}: {exc})") from None
    return art


def _from_arrays(arrays: dict[str, np.ndarray]) -> Artifact:
    if "header" not in arrays:
        raise ArtifactError("not a .ebnn file (no header)")
    header = json.loads(arrays["header"].tobytes().decode())
    if header.get("format") != FORMAT:
        raise ArtifactError("not a .ebnn file (wrong format name)")
    if header.get("version") != VERSION:
        raise ArtifactError(
            f"format version {header.get('version')} is not supported (this tool reads {VERSION})")
    layers = []
    for i, h in enumerate(header["layers"]):
        k = kind(h["kind"], f"layer {i}", ArtifactError)
        shape = tuple(int(v) for v in h["weights_shape"])
        n = int(np.prod(shape))
        packed = arrays[f"l{i}_weights"]
        if packed.dtype != np.uint8 or packed.size != (n + 7) // 8:
            raise ArtifactError(f"layer {i}: weight array has the wrong size")
        bits = np.unpackbits(packed, count=n, bitorder="little").astype(bool).reshape(shape)
        layer = Layer(
            kind=h["kind"], first=bool(h["first"]), in_shape=tuple(h["in_shape"]),
            out_shape=tuple(h["out_shape"]), weights=bits, kernel=tuple(h["kernel"]),
            stride=int(h["stride"]), padding=int(h["padding"]), pool=int(h["pool"]),
            pool_stride=int(h["pool_stride"]), shift=int(h["shift"]),
        )
        for name in k.params:
            setattr(layer, name, arrays[f"l{i}_{name}"])
        layers.append(layer)
    return Artifact(str(header["name"]), tuple(header["input_shape"]), int(header["classes"]),
                    layers, dict(header.get("metadata", {})), arrays.get("sample"))


def _check(cond: bool, message: str) -> None:
    if not cond:
        raise ArtifactError(message)


def validate(art: Artifact) -> None:
    """Every shape and value range the reference and the code generator rely on."""
    _check(len(art.input_shape) == 3 and min(art.input_shape) >= 1, "bad input shape")
    _check(len(art.layers) >= 2, "needs at least one hidden layer and the output layer")
    _check(art.sample is None or (art.sample.dtype == np.uint8
                                  and art.sample.shape == tuple(art.input_shape)),
           "sample image must be uint8 of the input shape")
    shape: tuple[int, ...] = tuple(art.input_shape)
    previous: LayerKind | None = None
    for i, layer in enumerate(art.layers):
        where = f"layer {i}"
        k = layer_kind(layer, where)
        if i == len(art.layers) - 1:
            _check(k.is_output, f"{where}: the last layer must be the output layer, not a "
                               f"{k.name}")
            _check(tuple(layer.out_shape) == (art.classes,),
                   f"{where}: {layer.out_shape} scores for {art.classes} classes")
        else:
            _check(not k.is_output, f"{where}: the {k.name} layer must be the last")
        try:
            check_follows(k, previous, where)
            _check(layer.first == (i == 0), f"{where}: 'first' flag inconsistent")
            _check(tuple(layer.in_shape) == shape,
                   f"{where}: input shape {layer.in_shape} != {shape}")
            _check(layer.weights.dtype == bool and layer.weights.ndim >= 2,
                   f"{where}: weights must be bits, one row per output channel")
            units = layer.weights.shape[0]
            for name, dtype in k.params.items():
                arr = getattr(layer, name)
                _check(arr is not None and arr.shape == (units,) and arr.dtype == dtype,
                       f"{where}: {name} must be {np.dtype(dtype).name} of {units}")
            k.validate(layer, where)
        except LayerError as exc:  # from the kind's checks
            raise ArtifactError(str(exc)) from None
        previous = k
        shape = tuple(layer.out_shape)
