"""Model descriptions: a TOML file names the input, the hidden blocks and the training settings.

    [model]
    name = "mnist"
    input = [28, 28, 1]        # H, W, C of uint8 pixels; a sequence: [T, C]
    classes = 10

    [[model.layers]]           # the first layer is a conv on pixels
    type = "conv"
    filters = 16
    kernel = 3                 # or [kh, kw]
    stride = 1
    padding = 1
    pool = 2                   # max-pool size; 1 = no pool
    pool_stride = 2            # default: pool

    [[model.layers]]
    type = "linear"            # binary linear + BN + sign
    units = 64

    [train]
    epochs = 15

Every hidden block is followed by BN and sign; a final binary linear layer with BN giving the
class scores is always appended. What a layer type accepts (keys, defaults, checks, which type
may follow which) is its kind's, in ``ebnn/layers/``.
"""

import difflib
import math
import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from ebnn.layers import HIDDEN_KINDS, LayerError, LayerKind, LayerSpec, check_follows, kind
from ebnn.layers.base import (
    MAX_DIM,
    MAX_FOLD_VALUES,
    MAX_NAME,
    MAX_SIZE,
    MAX_VALUES,
    MAX_WEIGHT_BITS,
    int_key,
)
from ebnn.toml_value import toml_value
from sim import toml_guard

# [train] integer keys: the upper bounds (documented in docs/config.md)
TRAIN_INT_MAX = {"epochs": 10_000, "batch_size": 65_536, "seed": 2**32 - 1, "shift": MAX_DIM,
                 "bn_calibrate": 10_000}
# [train] float keys: besides being finite, at most this (lr, weight_decay, warmup, ...)
TRAIN_FLOAT_MAX = 1e6
MAX_PATH = 4096  # characters of [train] teacher


class ConfigError(Exception):
    """A config that cannot describe an eBNN; ``str()`` is one line for the user."""


@dataclass(frozen=True)
class TrainSpec:
    epochs: int = 15
    batch_size: int = 64
    lr: float = 1e-2
    seed: int = 0
    shift: int = 2  # random translation of up to this many pixels
    val_fraction: float = 0.1
    weight_decay: float = 0.0  # Adam L2 penalty on all parameters
    rotate: float = 0.0  # random rotation of up to this many degrees
    scale: float = 0.0  # random zoom by a factor in [1 - scale, 1 + scale]
    elastic: float = 0.0  # elastic distortion: displacement amplitude in pixels
    elastic_sigma: float = 3.0  # smoothness (Gaussian sigma, pixels) of the distortion field
    label_smoothing: float = 0.0
    warmup: float = 0.0  # epochs of linear lr warm-up before the cosine decay
    init: float = 1.0  # latent weights start uniform in [-init, init]
    bn_lr: float = 0.0  # learning rate of the BN parameters; 0: the same as lr
    bn_momentum: float = 0.1  # running-statistics momentum of every BN
    bn_calibrate: int = 0  # > 0: finally set BN statistics from this many augmented passes
    teacher: str = ""  # a trained eBNN's checkpoint (.pt) whose scores this model also learns
    teacher_weight: float = 0.5  # with a teacher: the weight of its term in the loss, (0, 1]
    teacher_temperature: float = 4.0  # with a teacher: softmax temperature of both score sets


@dataclass(frozen=True)
class ModelSpec:
    name: str
    input: tuple[int, int, int]  # H, W, C; a sequence [T, C] is (1, T, C)
    classes: int
    layers: tuple[LayerSpec, ...]
    train: TrainSpec = field(default_factory=TrainSpec)

    def shapes(self) -> list[tuple[int, ...]]:
        """Output shape of every hidden block: (H, W, C) for conv, (N,) for linear."""
        out: list[tuple[int, ...]] = []
        shape: tuple[int, ...] = self.input
        for i, layer in enumerate(self.layers):
            where = f"layer {i + 1}"
            k = kind(layer.type, where, ConfigError, HIDDEN_KINDS)
            try:
                shape = k.output_shape(shape, layer, where)
            except LayerError as exc:
                raise ConfigError(str(exc)) from None
            out.append(shape)
        return out

    def weight_bits(self) -> int:
        """Binary weights of the whole model, the output layer's included."""
        total = 0
        shape: tuple[int, ...] = self.input
        for layer, out in zip(self.layers, self.shapes(), strict=True):
            fan_in = (layer.kernel[0] * layer.kernel[1] * shape[2] if len(out) == 3
                      else math.prod(shape))
            total += layer.out * fan_in
            shape = out
        return total + self.classes * math.prod(shape)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _layer(raw: Any, where: str) -> tuple[LayerSpec, LayerKind]:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a table")
    k = kind(raw.get("type"), where, ConfigError, HIDDEN_KINDS)
    unknown = set(raw) - {"type", *k.keys}
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} "
                          f"(a {k.name} layer takes {', '.join(k.keys)})")
    return k.parse(raw, where), k


def _train_of(data: dict[str, Any], source: str) -> TrainSpec:
    """The [train] table of a config from ``source``, its errors naming the file."""
    try:
        return _train(data.get("train"))
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None


def _train(raw: Any) -> TrainSpec:
    if raw is None:
        return TrainSpec()
    if not isinstance(raw, dict):
        raise ConfigError("[train] must be a table")
    names = {f.name: f for f in fields(TrainSpec)}
    unknown = set(raw) - set(names)
    if unknown:
        near = [m for key in sorted(unknown) for m in difflib.get_close_matches(key, names, 1)]
        raise ConfigError(f"[train]: unknown key(s) {', '.join(sorted(unknown))}"
                          + (f" (did you mean {', '.join(near)}?)" if near else "")
                          + f"; it takes {', '.join(names)}")
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key == "teacher":
            if not isinstance(value, str) or len(value) > MAX_PATH or "\0" in value:
                raise ConfigError(f"[train]: 'teacher' must be the path of a model checkpoint "
                                  f"(a string of at most {MAX_PATH} characters)")
            values[key] = value
            continue
        want = float if names[key].type in (float, "float") else int
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                want is int and not isinstance(value, int)):
            raise ConfigError(f"[train]: '{key}' must be a number, got {toml_value(value):.40}")
        if want is float and not abs(value) <= TRAIN_FLOAT_MAX:  # False for nan; no float(10**400)
            raise ConfigError(f"[train]: '{key}' must be a finite number of at most "
                              f"{TRAIN_FLOAT_MAX:g}, got {toml_value(value):.40}")
        if want is int and not 0 <= value <= TRAIN_INT_MAX.get(key, MAX_DIM):
            raise ConfigError(f"[train]: '{key}' must be an integer in "
                              f"0..{TRAIN_INT_MAX.get(key, MAX_DIM)}, got "
                              f"{toml_value(value):.40}")
        values[key] = want(value)
    spec = TrainSpec(**values)
    if spec.epochs < 1:
        raise ConfigError(f"[train]: epochs must be >= 1, got {spec.epochs}")
    if spec.lr <= 0:
        raise ConfigError(f"[train]: lr must be > 0, got {spec.lr:g}")
    if spec.batch_size < 2:  # the output's batch norm has one value per class and sample
        raise ConfigError(f"[train]: batch_size must be >= 2 (batch norm needs two samples a "
                          f"step), got {spec.batch_size}")
    if not 0.0 <= spec.val_fraction < 1.0:
        raise ConfigError("[train]: val_fraction must be in [0, 1)")
    if spec.shift < 0 or spec.weight_decay < 0 or spec.warmup < 0:
        raise ConfigError("[train]: shift, weight_decay and warmup must be >= 0")
    if not 0.0 <= spec.rotate <= 90.0:
        raise ConfigError("[train]: rotate must be in [0, 90] degrees")
    if not 0.0 <= spec.scale < 1.0:
        raise ConfigError("[train]: scale must be in [0, 1)")
    if spec.elastic < 0 or spec.elastic_sigma <= 0:
        raise ConfigError("[train]: elastic must be >= 0 and elastic_sigma > 0")
    if not 0.0 <= spec.label_smoothing < 1.0:
        raise ConfigError("[train]: label_smoothing must be in [0, 1)")
    if spec.bn_calibrate < 0:
        raise ConfigError("[train]: bn_calibrate must be >= 0")
    if spec.bn_lr < 0 or not 0.0 < spec.bn_momentum <= 1.0:
        raise ConfigError("[train]: bn_lr must be >= 0 and bn_momentum in (0, 1]")
    if not 0.0 < spec.init <= 1.0:
        raise ConfigError("[train]: init must be in (0, 1]")
    if not 0.0 < spec.teacher_weight <= 1.0 or not 0.0 < spec.teacher_temperature <= 100.0:
        raise ConfigError("[train]: teacher_weight must be in (0, 1] and teacher_temperature "
                          "in (0, 100]")
    return spec


def parse_config(data: dict[str, Any], source: str = "config") -> ModelSpec:
    try:
        return _parse_config(data, source)
    except LayerError as exc:  # from a layer kind's checks
        raise ConfigError(str(exc)) from None


def _parse_config(data: dict[str, Any], source: str) -> ModelSpec:
    unknown = set(data) - {"model", "train"}
    if unknown:
        raise ConfigError(f"{source}: unknown table(s) {', '.join(sorted(unknown))} "
                          "(expected [model], [[model.layers]] and [train])")
    model = data.get("model")
    if not isinstance(model, dict):
        raise ConfigError(f"{source}: missing [model] table")
    unknown = set(model) - {"name", "input", "classes", "layers"}
    if unknown:
        raise ConfigError(f"{source}: [model]: unknown key(s) {', '.join(sorted(unknown))}")
    inp = model.get("input")
    if (not isinstance(inp, list) or len(inp) not in (2, 3)
            or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1
                       for v in inp)
            or max(inp[:-1]) > MAX_SIZE or inp[-1] > MAX_DIM):
        raise ConfigError(f"{source}: [model] input must be [H, W, C] (an image) or [T, C] (a "
                          f"sequence): H, W and T in 1..{MAX_SIZE}, C in 1..{MAX_DIM}")
    if len(inp) == 2:  # a sequence [T, C] is a 1 x T image of C channels
        inp = [1, *inp]
    if math.prod(inp) > MAX_VALUES:
        raise ConfigError(f"{source}: [model] input {inp} is over the limit of {MAX_VALUES:,} "
                          "pixel values")
    classes = int_key(model, "classes", None, f"{source}: [model]", lo=2)
    raw_layers = model.get("layers", [])
    if not isinstance(raw_layers, list) or not raw_layers:
        raise ConfigError(f"{source}: [[model.layers]] must list at least one block")
    parsed = [_layer(r, f"{source}: layer {i + 1}") for i, r in enumerate(raw_layers)]
    previous: LayerKind | None = None
    for i, (_, k) in enumerate(parsed):
        check_follows(k, previous, f"{source}: layer {i + 1}")
        previous = k
    name = model.get("name", "model")
    if not isinstance(name, str) or not 0 < len(name) <= MAX_NAME:
        raise ConfigError(f"{source}: [model] name must be a string of 1..{MAX_NAME} "
                          "characters")
    spec = ModelSpec(name, (inp[0], inp[1], inp[2]), classes,
                     tuple(layer for layer, _ in parsed), _train_of(data, source))
    if inp[0] == 1 and (spec.train.rotate or spec.train.scale or spec.train.elastic):
        raise ConfigError(f"{source}: [train] rotate, scale and elastic distort images; a "
                          "sequence (or a 1-row input) takes only 'shift', along time")
    try:
        bits = spec.weight_bits()
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    if bits > MAX_WEIGHT_BITS:
        raise ConfigError(f"{source}: the model has {bits:,} weights, over the limit of "
                          f"{MAX_WEIGHT_BITS:,}")
    for i, shape in enumerate(spec.shapes()):  # padding can make a map longer than its input
        if len(shape) == 3 and max(shape[:2]) > MAX_SIZE:
            raise ConfigError(f"{source}: layer {i + 1}'s output map {list(shape)} has a side "
                              f"over the limit of {MAX_SIZE:,} (an artifact could not hold it)")
    first = spec.layers[0]
    fan_in = (first.kernel[0] * first.kernel[1] * inp[2] if len(spec.shapes()[0]) == 3
              else math.prod(inp))
    if (2 * 255 * fan_in + 1) * first.out > MAX_FOLD_VALUES:
        raise ConfigError(f"{source}: layer 1's {fan_in:,} inputs per output over "
                          f"{first.out:,} outputs are too many for a first layer: export "
                          f"folds its batch norm over (2 x 255 x inputs + 1) x outputs = "
                          f"{(2 * 255 * fan_in + 1) * first.out:,} values, at most "
                          f"{MAX_FOLD_VALUES:,}")
    if 255 * fan_in > MAX_EXACT_SUM:
        raise ConfigError(f"{source}: layer 1's {fan_in:,} inputs per output are too many: its "
                          f"sums reach 255 x {fan_in:,} = {255 * fan_in:,}, past 2^24, where "
                          "PyTorch's float32 convolution (training and eval --pt) is no longer "
                          f"exact; at most {MAX_EXACT_SUM // 255:,} inputs per output")
    return spec


# a first layer's sums of 255 x inputs must stay exact in float32 (PyTorch's convolution):
# every integer up to 2^24 is a float32
MAX_EXACT_SUM = 1 << 24

MAX_TOML_BYTES = 1 << 20  # a model config or search space is a few KB: more is not one


def read_toml_text(path: Path) -> str:
    """The text of a config or space file, read no further than MAX_TOML_BYTES (``/dev/zero``
    given by mistake would fill the memory). ValueError when it is longer or not UTF-8,
    OSError when it cannot be read."""
    with open(path, "rb") as f:
        raw = f.read(MAX_TOML_BYTES + 1)
    if len(raw) > MAX_TOML_BYTES:
        raise ValueError(f"over {MAX_TOML_BYTES:,} bytes, far more than a config holds")
    return raw.decode()


def loads_toml(text: str) -> dict[str, Any]:
    """``tomllib.loads``, with nesting too deep for the parser, a dotted key of absurdly many
    parts (quadratic in the parser's memory) and running out of memory refused as invalid TOML
    like any other (``sim.toml_guard``)."""
    return toml_guard.loads(text)


DATA_SUFFIXES = (".npz", ".npy", ".csv", ".png", ".wav", ".gz")  # data, not a config


def load_config(path: str | Path) -> ModelSpec:
    p = Path(path)
    if p.suffix.lower() in DATA_SUFFIXES or p.is_dir():
        raise ConfigError(f"{p}: data, not a model config: give it with --data {p.name}; "
                          "CONFIG is a model's TOML (examples/mnist/mnist.toml)")
    if p.suffix.lower() in (".ebnn", ".pt", ".ckpt", ".elf"):
        raise ConfigError(f"{p}: a trained model or its firmware, not a model config: CONFIG "
                          "is a model's TOML (examples/mnist/mnist.toml)")
    try:
        data = loads_toml(read_toml_text(p))
    except FileNotFoundError:
        raise ConfigError(f"{p}: no such file") from None
    except tomllib.TOMLDecodeError as exc:  # a ValueError: before the next line
        raise ConfigError(f"{p}: not valid TOML ({exc})") from None
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{p}: cannot read ({exc})") from None
    train = data.get("train")
    if isinstance(train, dict) and isinstance(train.get("teacher"), str) and train["teacher"]:
        # a relative teacher is relative to the config file, wherever `ebnn train` runs
        train["teacher"] = str(p.parent / train["teacher"])
    spec = parse_config(data, str(p))
    # a shift the user wrote that spans the input (not the default 2 on a tiny input, nor a
    # checkpoint's stored config, which is not judged again)
    side = max(spec.input[0], spec.input[1])
    if isinstance(train, dict) and "shift" in train and spec.train.shift >= side:
        what = "its steps" if spec.input[0] == 1 else "its rows and columns"
        raise ConfigError(f"{p}: [train] shift {spec.train.shift} moves the input by up to "
                          f"all of {what} ({side}): most training samples would be the edge "
                          "repeated; give a few (2 to 4 is usual)")
    return spec
