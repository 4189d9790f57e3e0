"""Model descriptions: a TOML file names the input, the hidden blocks and the training settings.

    [model]
    name = "mnist"
    input = [28, 28, 1]        # H, W, C of uint8 pixels
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
class scores is always appended.
"""

import tomllib
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any


class ConfigError(Exception):
    """A config that cannot describe an eBNN; ``str()`` is one line for the user."""


@dataclass(frozen=True)
class LayerSpec:
    type: str  # "conv" or "linear"
    out: int  # filters or units
    kernel: tuple[int, int] = (1, 1)
    stride: int = 1
    padding: int = 0
    pool: int = 1
    pool_stride: int = 1


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


@dataclass(frozen=True)
class ModelSpec:
    name: str
    input: tuple[int, int, int]  # H, W, C
    classes: int
    layers: tuple[LayerSpec, ...]
    train: TrainSpec = field(default_factory=TrainSpec)

    def shapes(self) -> list[tuple[int, ...]]:
        """Output shape of every hidden block: (H, W, C) for conv, (N,) for linear."""
        out: list[tuple[int, ...]] = []
        shape: tuple[int, ...] = self.input
        for layer in self.layers:
            shape = block_output_shape(shape, layer)
            out.append(shape)
        return out

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def conv_output(size: int, kernel: int, stride: int, padding: int) -> int:
    return (size + 2 * padding - kernel) // stride + 1


def block_output_shape(shape: tuple[int, ...], layer: LayerSpec) -> tuple[int, ...]:
    if layer.type == "linear":
        return (layer.out,)
    h, w, _ = shape
    kh, kw = layer.kernel
    hc, wc = conv_output(h, kh, layer.stride, layer.padding), conv_output(
        w, kw, layer.stride, layer.padding)
    if hc < 1 or wc < 1:
        raise ConfigError(f"kernel {kh}x{kw} does not fit a {h}x{w} input")
    hp, wp = (hc - layer.pool) // layer.pool_stride + 1, (wc - layer.pool) // layer.pool_stride + 1
    if hp < 1 or wp < 1:
        raise ConfigError(f"pool {layer.pool} does not fit a {hc}x{wc} conv output")
    return (hp, wp, layer.out)


def _int(table: dict[str, Any], key: str, default: int | None, where: str, lo: int = 1) -> int:
    value = table.get(key, default)
    if value is None:
        raise ConfigError(f"{where}: '{key}' is required")
    if isinstance(value, bool) or not isinstance(value, int) or value < lo:
        raise ConfigError(f"{where}: '{key}' must be an integer >= {lo}, got {value!r}")
    return value


def _layer(raw: Any, index: int) -> LayerSpec:
    where = f"layer {index + 1}"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a table")
    kind = raw.get("type")
    if kind not in ("conv", "linear"):
        raise ConfigError(f"{where}: 'type' must be \"conv\" or \"linear\", got {kind!r}")
    known = {"type", "filters", "units", "kernel", "stride", "padding", "pool", "pool_stride"}
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    if kind == "linear":
        extra = {"filters", "kernel", "stride", "padding", "pool", "pool_stride"} & set(raw)
        if extra:
            raise ConfigError(f"{where}: a linear layer takes only 'units', not {sorted(extra)}")
        return LayerSpec("linear", _int(raw, "units", None, where))
    k = raw.get("kernel", 3)
    if isinstance(k, int) and not isinstance(k, bool):
        k = [k, k]
    if (not isinstance(k, list) or len(k) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in k)):
        raise ConfigError(f"{where}: 'kernel' must be an integer or [kh, kw], got {k!r}")
    pool = _int(raw, "pool", 1, where)
    return LayerSpec(
        "conv", _int(raw, "filters", None, where), (k[0], k[1]),
        _int(raw, "stride", 1, where), _int(raw, "padding", 0, where, lo=0),
        pool, _int(raw, "pool_stride", pool, where),
    )


def _train(raw: Any) -> TrainSpec:
    if raw is None:
        return TrainSpec()
    if not isinstance(raw, dict):
        raise ConfigError("[train] must be a table")
    names = {f.name: f for f in fields(TrainSpec)}
    unknown = set(raw) - set(names)
    if unknown:
        raise ConfigError(f"[train]: unknown key(s) {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for key, value in raw.items():
        want = float if names[key].type in (float, "float") else int
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (
                want is int and not isinstance(value, int)):
            raise ConfigError(f"[train]: '{key}' must be a number, got {value!r}")
        values[key] = want(value)
    spec = TrainSpec(**values)
    if spec.epochs < 1 or spec.batch_size < 1 or spec.lr <= 0:
        raise ConfigError("[train]: epochs and batch_size must be >= 1 and lr > 0")
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
    return spec


def parse_config(data: dict[str, Any], source: str = "config") -> ModelSpec:
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
    if (not isinstance(inp, list) or len(inp) != 3
            or not all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in inp)):
        raise ConfigError(f"{source}: [model] input must be [H, W, C] positive integers")
    classes = _int(model, "classes", None, f"{source}: [model]", lo=2)
    raw_layers = model.get("layers", [])
    if not isinstance(raw_layers, list) or not raw_layers:
        raise ConfigError(f"{source}: [[model.layers]] must list at least one block")
    layers = tuple(_layer(r, i) for i, r in enumerate(raw_layers))
    if layers[0].type != "conv":
        raise ConfigError(f"{source}: the first layer must be a conv on the input pixels")
    for i, layer in enumerate(layers[1:], start=2):
        if layer.type == "conv" and layers[i - 2].type == "linear":
            raise ConfigError(f"{source}: layer {i}: a conv cannot follow a linear layer")
    spec = ModelSpec(str(model.get("name", "model")), (inp[0], inp[1], inp[2]), classes, layers,
                     _train(data.get("train")))
    try:
        spec.shapes()
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None
    return spec


def load_config(path: str | Path) -> ModelSpec:
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{p}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: cannot read ({exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML ({exc})") from None
    return parse_config(data, str(p))
