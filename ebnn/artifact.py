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

import hashlib
import io
import json
import math
import tokenize
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ebnn.layers import LayerError, LayerKind, check_follows, kind
from ebnn.layers.base import MAX_DIM, MAX_NAME, MAX_SIZE, MAX_VALUES, MAX_WEIGHT_BITS
from ebnn.layers.conv import pair_value
from ebnn.quantize import InputQuant, QuantError
from sim.formats import write_bytes

FORMAT = "ebnn"
# Version 1: uint8 input. Version 2 adds the header key "input_quant" (float input quantised
# to 8 bits, ebnn/quantize.py). Version 3 adds per-axis geometry (a layer's "stride",
# "padding", "pool" or "pool_stride" as [y, x] when the axes differ) and the layer kind
# "conv1d". A model is written with the lowest version that holds it, so older tools read it
# and its bytes do not change; this version reads all three.
VERSION = 3
VERSIONS = (1, 2, 3)


class ArtifactError(Exception):
    """A ``.ebnn`` file that cannot be used; ``str()`` is one line for the user."""


@dataclass
class Layer:
    kind: str  # a name in ebnn.layers.KINDS: "conv", "linear" or "output"
    first: bool  # reads uint8 pixels rather than bits
    in_shape: tuple[int, ...]  # (H, W, C) or (N,)
    out_shape: tuple[int, ...]  # (H, W, F) after pooling, or (units,)
    weights: np.ndarray  # bool; conv (F, kh, kw, C); linear/output (units, N), N in HWC order
    kernel: tuple[int, int] = (1, 1)  # (kh, kw); the geometry is per axis (y, x)
    stride: tuple[int, int] = (1, 1)
    padding: tuple[int, int] = (0, 0)
    pool: tuple[int, int] = (1, 1)
    pool_stride: tuple[int, int] = (1, 1)
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
            "kernel": list(self.kernel), "stride": pair_value(self.stride),
            "padding": pair_value(self.padding), "pool": pair_value(self.pool),
            "pool_stride": pair_value(self.pool_stride), "shift": self.shift,
        }

    def needs_version_3(self) -> bool:
        """Whether its header uses what version 3 added (per-axis geometry, conv1d)."""
        return self.kind == "conv1d" or any(
            a != b for a, b in (self.stride, self.padding, self.pool, self.pool_stride))


@dataclass
class Artifact:
    name: str
    input_shape: tuple[int, int, int]
    classes: int
    layers: list[Layer]
    metadata: dict[str, Any]
    sample: np.ndarray | None = None  # uint8 image of input_shape, embedded in firmware
    input_quant: InputQuant | None = None  # float input -> uint8; None: the input is uint8

    @property
    def sequence(self) -> bool:
        """Whether the input is a sequence [T, C] (a conv1d first layer; ``input_shape`` is then
        (1, T, C)) rather than an image [H, W, C]."""
        return self.layers[0].kind == "conv1d"

    def input_dims(self) -> tuple[int, ...]:
        """The input's shape as users give it: (T, C) for a sequence, else (H, W, C)."""
        return tuple(self.input_shape[1:]) if self.sequence else tuple(self.input_shape)

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


def version_of(art: Artifact) -> int:
    """The lowest format version that holds ``art``."""
    if any(layer.needs_version_3() for layer in art.layers):
        return 3
    return 1 if art.input_quant is None else 2


def _layer_arrays(art: Artifact) -> dict[str, np.ndarray]:
    """Each layer's arrays as the archive stores them (weights as packed bits)."""
    arrays: dict[str, np.ndarray] = {}
    for i, layer in enumerate(art.layers):
        arrays[f"l{i}_weights"] = np.packbits(layer.weights.astype(np.uint8).ravel(),
                                              bitorder="little")
        for name, dtype in layer_kind(layer, f"layer {i}").params.items():
            arrays[f"l{i}_{name}"] = getattr(layer, name).astype(dtype)
    return arrays


def model_digest(art: Artifact) -> str:
    """SHA-256 (hex) of what the model computes: input shape and quantisation, classes, every
    layer's kind, geometry and arrays; not its name, metadata or sample, so a re-export with
    other metadata (or a retraining that ends in the same weights) keeps it. ``ebnn build``
    records it in the ELF, and ``ebnn-sim verify`` names another model's firmware by it."""
    h = hashlib.sha256()
    structure = {"input_shape": list(art.input_shape), "classes": art.classes,
                 "layers": [layer.header() for layer in art.layers],
                 "input_quant": None if art.input_quant is None else art.input_quant.to_dict()}
    h.update(json.dumps(structure, sort_keys=True).encode())
    for name, arr in _layer_arrays(art).items():
        h.update(f"{name}:{arr.dtype.str}:{arr.shape}".encode())
        h.update(np.ascontiguousarray(arr).tobytes())
    return h.hexdigest()


def save(art: Artifact, path: str | Path) -> None:
    validate(art)
    header: dict[str, Any] = {
        "format": FORMAT, "version": version_of(art), "name": art.name,
        "input_shape": list(art.input_shape), "classes": art.classes,
        "layers": [layer.header() for layer in art.layers], "metadata": art.metadata,
    }
    if art.input_quant is not None:
        header["input_quant"] = art.input_quant.to_dict()
    try:  # the loader rejects NaN and infinities: refused here, not when it is read back
        text = json.dumps(header, allow_nan=False)
    except ValueError:
        raise ArtifactError("the model's header holds NaN or an infinity (in its metadata?), "
                            "which a .ebnn cannot hold") from None
    if len(text.encode()) > MAX_HEADER_BYTES:  # the loader would refuse it
        raise ArtifactError(f"the model's header takes over {MAX_HEADER_BYTES:,} bytes (its "
                            "metadata?), more than a .ebnn may hold")
    arrays: dict[str, np.ndarray] = {"header": np.frombuffer(text.encode(), dtype=np.uint8),
                                     **_layer_arrays(art)}
    if art.sample is not None:
        arrays["sample"] = np.asarray(art.sample, np.uint8).reshape(art.input_shape)
    p = Path(path)
    buf = io.BytesIO()
    # mypy matches **arrays against savez's allow_pickle: bool too; no array is named that
    np.savez(buf, **arrays)  # type: ignore[arg-type]
    try:
        write_bytes(p, buf.getvalue())  # never leave a half-written artifact behind
    except OSError as exc:
        raise ArtifactError(f"{p}: cannot write ({exc.strerror or exc})") from None


# What an archive may hold: its members' total uncompressed size, and compressions we read.
MAX_ARCHIVE_BYTES = 256 << 20
# members an archive may hold: the header, the sample and a few arrays per layer (<= 256
# layers); more only cost time to open
MAX_MEMBERS = 4096
# bytes of the JSON header (real ones hold about 2 KB; 4,096 class names of 255 characters fit):
# json.loads spends some 20 times the text on a document of empty lists or objects, so the
# archive's cap alone would let a 200 KB file take gigabytes
MAX_HEADER_BYTES = 2 << 20
_COMPRESSIONS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)


def _read_arrays(p: Path) -> dict[str, np.ndarray]:
    """The ``.npy`` members of the archive at ``p``, each size checked before it is read: no
    member (zip bomb) or array header (huge shape) may ask for more than MAX_ARCHIVE_BYTES."""
    try:
        with zipfile.ZipFile(p) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_MEMBERS:
                raise ArtifactError(f"not a .ebnn file ({len(infos):,} members, at most "
                                    f"{MAX_MEMBERS:,})")
            if sum(info.file_size for info in infos) > MAX_ARCHIVE_BYTES:
                raise ArtifactError(f"not a .ebnn file (members over {MAX_ARCHIVE_BYTES:,} "
                                    "bytes uncompressed)")
            arrays: dict[str, np.ndarray] = {}
            for info in infos:
                if info.compress_type not in _COMPRESSIONS:
                    raise ArtifactError(f"not a .ebnn file (member {info.filename!r} uses "
                                        f"compression method {info.compress_type})")
                if info.filename.endswith("/data.pkl"):  # torch.save's archive
                    raise ArtifactError("a PyTorch checkpoint (what `ebnn train` writes), not "
                                        "a .ebnn artifact: make one with `ebnn export`")
                if not info.filename.endswith(".npy"):
                    raise ArtifactError(f"not a .ebnn file (member {info.filename!r})")
                with zf.open(info) as f:
                    version = np.lib.format.read_magic(f)
                    if version == (1, 0):
                        shape, _, dtype = np.lib.format.read_array_header_1_0(f)
                    elif version == (2, 0):
                        shape, _, dtype = np.lib.format.read_array_header_2_0(f)
                    else:
                        raise ArtifactError(f"not a .ebnn file (member {info.filename!r}: "
                                            f".npy version {version})")
                    if dtype.hasobject or dtype.itemsize == 0:
                        raise ArtifactError(f"not a .ebnn file (member {info.filename!r}: "
                                            f"dtype {dtype})")
                    # each dimension on its own too: (0, 10**30) holds nothing, and numpy
                    # overflows on it
                    if min(shape, default=0) < 0 or max(shape, default=0) > info.file_size or (
                            math.prod(shape) * dtype.itemsize > info.file_size):
                        raise ArtifactError(f"member {info.filename!r}: its header claims "
                                            f"shape {shape}, more than the member holds")
                    _check_header_size(info.filename, math.prod(shape) * dtype.itemsize)
                with zf.open(info) as f:
                    arrays[info.filename[:-4]] = np.lib.format.read_array(f, allow_pickle=False)
            return arrays
    except zipfile.BadZipFile:
        raise ArtifactError("not a .ebnn file (not a readable zip archive)") from None
    except (ValueError, EOFError, KeyError, RuntimeError, NotImplementedError, SyntaxError,
            tokenize.TokenError, RecursionError, MemoryError,
            zipfile.LargeZipFile) as exc:  # numpy: bad .npy header; zipfile: CRC, encryption
        raise ArtifactError(f"not a readable .ebnn file ({type(exc).__name__}: {exc})"
                            ) from None


def _check_header_size(member: str, size: int) -> None:
    """ArtifactError when ``member`` is the JSON header and ``size`` is over MAX_HEADER_BYTES
    (before it is read or parsed)."""
    if member == "header.npy" and size > MAX_HEADER_BYTES:
        raise ArtifactError(f"not a .ebnn file (a header of {size:,} bytes, at most "
                            f"{MAX_HEADER_BYTES:,})")


def load(path: str | Path) -> Artifact:
    p = Path(path)
    if not p.is_file():
        raise ArtifactError(f"{p}: " + ("not a regular file (a .ebnn artifact is one)"
                                        if p.exists() else "no such file"))
    try:
        arrays = _read_arrays(p)
    except ArtifactError as exc:
        raise ArtifactError(f"{p}: {exc}") from None
    except OSError as exc:
        raise ArtifactError(f"{p}: cannot read ({exc.strerror or exc})") from None
    try:
        art = _from_arrays(arrays)
        validate(art)
    except ArtifactError as exc:
        raise ArtifactError(f"{p}: {exc}") from None
    except (KeyError, ValueError, TypeError, IndexError, OverflowError, RecursionError,
            MemoryError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{p}: corrupted .ebnn file ({type(exc).__name__}: {exc})") from None
    return art


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number a .ebnn header may hold")


def _finite(text: str) -> float:
    """A JSON float of the header: 1e400 would be an infinity, as Infinity is refused."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text[:40]} is not a number a .ebnn header may hold")
    return value


def _int(value: Any, what: str, lo: int = 1, hi: int = MAX_DIM) -> int:
    """``value`` if it is a (JSON) integer in ``lo..hi``; floats, booleans, huge ints are not."""
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise ArtifactError(f"{what} must be an integer in {lo}..{hi}, got {value!r:.40}")
    return value


def _ints(value: Any, what: str, length: int | None = None, lo: int = 1,
          hi: int = MAX_DIM) -> tuple[int, ...]:
    if not isinstance(value, list) or not value or len(value) > 8 or (
            length is not None and len(value) != length):
        raise ArtifactError(f"{what} must be a list of {length or 'a few'} integers")
    return tuple(_int(v, what, lo, hi) for v in value)


def _shape(value: Any, what: str) -> tuple[int, ...]:
    """A map's shape: (H, W, C) with sides up to MAX_SIZE and channels (filters) up to
    MAX_DIM, or (N,) units up to MAX_DIM."""
    if isinstance(value, list) and len(value) == 3:
        h, w = _ints(value[:2], what, 2, hi=MAX_SIZE)
        return h, w, _int(value[2], what)
    return _ints(value, what, 1)


def _pair(value: Any, what: str, version: int, lo: int = 1) -> tuple[int, int]:
    """A per-axis size: an integer (both axes), or from version 3 on ``[y, x]``."""
    if isinstance(value, list) and version >= 3:
        y, x = _ints(value, what, 2, lo)
        return y, x
    v = _int(value, what, lo)
    return v, v


def _header(arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    if "header" not in arrays:
        raise ArtifactError("not a .ebnn file (no header)")
    try:
        header = json.loads(arrays["header"].tobytes().decode(), parse_constant=_no_constant,
                            parse_float=_finite)
    except RecursionError:
        raise ArtifactError("corrupted .ebnn header (nested too deeply)") from None
    except (UnicodeDecodeError, ValueError) as exc:  # json.JSONDecodeError is a ValueError
        raise ArtifactError(f"corrupted .ebnn header ({exc})") from None
    if not isinstance(header, dict):
        raise ArtifactError("not a .ebnn file (its header is not a JSON object)")
    return header


def _from_arrays(arrays: dict[str, np.ndarray]) -> Artifact:
    header = _header(arrays)
    if header.get("format") != FORMAT:
        raise ArtifactError("not a .ebnn file (wrong format name)")
    version = header.get("version")
    if isinstance(version, bool) or version not in VERSIONS:
        raise ArtifactError(
            f"format version {version!r:.40} is not supported (this tool reads "
            f"{', '.join(map(str, VERSIONS))})")
    input_quant = None
    if version >= 2 and "input_quant" in header:
        try:
            input_quant = InputQuant.from_dict(header["input_quant"])
        except QuantError as exc:
            raise ArtifactError(str(exc)) from None
    raw_layers = header.get("layers")
    if not isinstance(raw_layers, list) or len(raw_layers) > 256:
        raise ArtifactError("header 'layers' must be a list of at most 256 layers")
    metadata = header.get("metadata", {})
    if not isinstance(metadata, dict):
        raise ArtifactError("header 'metadata' must be a JSON object")
    model_name = header.get("name")
    if not isinstance(model_name, str) or not 0 < len(model_name) <= MAX_NAME:
        raise ArtifactError(f"header 'name' must be a string of 1..{MAX_NAME} characters")
    raw_input = header.get("input_shape")
    if not isinstance(raw_input, list) or len(raw_input) != 3:
        raise ArtifactError("input_shape must be a list of 3 integers")
    input_shape = _shape(raw_input, "input_shape")
    if math.prod(input_shape) > MAX_VALUES:
        raise ArtifactError(f"input shape {input_shape} is over {MAX_VALUES:,} values")
    classes = _int(header.get("classes"), "classes", 2)
    layers = []
    total_bits = 0
    for i, h in enumerate(raw_layers):
        where = f"layer {i}"
        if not isinstance(h, dict):
            raise ArtifactError(f"{where}: not a JSON object")
        k = kind(h.get("kind"), where, ArtifactError)
        if k.name == "conv1d" and version < 3:
            raise ArtifactError(f"{where}: a conv1d layer needs format version 3")
        # a linear layer's weights are (units, inputs): its inputs are a whole flattened map
        shape = _ints(h.get("weights_shape"), f"{where}: weights_shape", hi=MAX_VALUES)
        n = math.prod(shape)
        total_bits += n
        if total_bits > MAX_WEIGHT_BITS:
            raise ArtifactError(f"{where}: the weights are over the limit of "
                                f"{MAX_WEIGHT_BITS:,} bits")
        packed = arrays[f"l{i}_weights"]
        if packed.dtype != np.uint8 or packed.size != (n + 7) // 8:
            raise ArtifactError(f"{where}: weight array has the wrong size")
        if not isinstance(h.get("first"), bool):
            raise ArtifactError(f"{where}: 'first' must be true or false")
        bits = np.unpackbits(packed.ravel(), count=n, bitorder="little").astype(bool)
        layer = Layer(
            kind=k.name, first=h["first"],
            in_shape=_shape(h.get("in_shape"), f"{where}: in_shape"),
            out_shape=_shape(h.get("out_shape"), f"{where}: out_shape"),
            weights=bits.reshape(shape),
            kernel=_ints(h.get("kernel"), f"{where}: kernel", 2),  # type: ignore[arg-type]
            stride=_pair(h.get("stride"), f"{where}: stride", version),
            padding=_pair(h.get("padding"), f"{where}: padding", version, 0),
            pool=_pair(h.get("pool"), f"{where}: pool", version),
            pool_stride=_pair(h.get("pool_stride"), f"{where}: pool_stride", version),
            shift=_int(h.get("shift"), f"{where}: shift", -64, 64),
        )
        for name in k.params:
            setattr(layer, name, arrays[f"l{i}_{name}"])
        layers.append(layer)
    return Artifact(model_name, input_shape,  # type: ignore[arg-type]
                    classes, layers, metadata, arrays.get("sample"), input_quant)


def _check(cond: bool, message: str) -> None:
    if not cond:
        raise ArtifactError(message)


def validate(art: Artifact) -> None:
    """Every shape and value range the reference and the code generator rely on."""
    _check(len(art.input_shape) == 3 and min(art.input_shape) >= 1, "bad input shape")
    _check(len(art.layers) >= 2, "needs at least one hidden layer and the output layer")
    _check(art.input_quant is None or art.input_quant.channels == art.input_shape[-1],
           "input quantisation needs one scale and zero point per input channel")
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
