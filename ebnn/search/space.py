"""The search space (``SPACE.toml``) and the model configs an Optuna trial draws from it.

    [model]                    # as in a model config, without layers
    name = "mnist-search"
    input = [28, 28, 1]
    classes = 10

    [space]
    blocks = [1, 3]            # hidden blocks: at least 1, at most 3
    kinds = ["conv", "linear"] # kinds a block after the first may have (the first is a conv;
                               # a conv1d when the input is a sequence [T, C])
    # or, instead of blocks and kinds, the kind sequences themselves, drawn as one parameter:
    # shapes = [["conv", "conv"], ["conv", "conv", "conv"], ["conv", "conv", "linear"]]

    [space.first]              # the first block (on the input); default: [space.conv]
    filters = [4, 8, 16]       # a list: one of these
    kernel = [3, 4]
    stride = 2                 # a value: always this

    [space.conv]               # every later conv block
    filters = [16, 32, 64]

    [space.linear]
    units = [32, 64]

    [space.train]              # [train] keys (docs/config.md)
    epochs = 15
    lr = { low = 0.005, high = 0.05, log = true }   # a range
    init = [0.1, 1.0]

A list is always a list of choices (a rectangular kernel is a choice ``[[3, 5]]``); a table
``{low, high}`` is a range (``log = true``: sampled on a log scale; ``step``: a grid), integer
when both ends are integers. A layer key the space does not give takes the layer kind's default.
``seed`` and ``val_fraction`` must be single values: every candidate is validated on the same
held-out images.

``blocks`` and ``kinds`` draw a model's kind sequence block by block (``blocks``, then
``b2.kind``, ``b3.kind``, ...: a later block's kind is a parameter only trials that reach it
have, which TPE samples on its own); ``shapes`` draws it as one categorical parameter ``shape``
(``"conv-conv-linear"``) every trial has, which TPE with one objective (or ``--multivariate``)
models jointly with the first layer and the recipe.
"""

from __future__ import annotations

import difflib
import itertools
import json
import math
import random
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ebnn.config import ConfigError, TrainSpec, loads_toml, parse_config, read_toml_text
from ebnn.layers import HIDDEN_KINDS, KINDS, LayerError, check_follows
from ebnn.toml_value import toml_value

FIXED_TRAIN_KEYS = ("seed", "val_fraction")  # one validation split for every candidate
# The model name begins every file name a search writes (pareto/NAME-tNNNNN.*): one plain name
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,63}")
MAX_BLOCKS = 16


class SpaceError(Exception):
    """A search space that cannot be used; ``str()`` is one line for the user."""


class Suggester(Protocol):
    """What a space needs from an Optuna trial."""

    def suggest_categorical(self, name: str, choices: Any) -> Any: ...

    def suggest_int(self, name: str, low: int, high: int, *, step: int = 1,
                    log: bool = False) -> int: ...

    def suggest_float(self, name: str, low: float, high: float, *, step: float | None = None,
                      log: bool = False) -> float: ...


@dataclass(frozen=True)
class Range:
    low: float
    high: float
    log: bool = False
    step: float | None = None

    @property
    def integer(self) -> bool:
        return (isinstance(self.low, int) and isinstance(self.high, int)
                and (self.step is None or isinstance(self.step, int)))

    def holds(self, value: float) -> bool:
        """``value`` is one the range draws: within it, whole for an integer range, and on
        its grid of steps from ``low``."""
        if not self.low <= value <= self.high:
            return False
        if self.integer and value != int(value):
            return False
        step = self.step or (1 if self.integer else None)
        if step is None:
            return True
        steps = (value - self.low) / step
        return abs(steps - round(steps)) < 1e-9

    def __str__(self) -> str:
        return (("integers " if self.integer else "") + f"{self.low} to {self.high}"
                + (f" in steps of {self.step}" if self.step else ""))


Choice = Any  # a fixed value, a list of choices or a Range


def _encode(value: Any) -> Any:
    """Optuna's categorical choices are scalars: a list value (a kernel [kh, kw]) is JSON."""
    return json.dumps(value) if isinstance(value, list) else value


def _draw(trial: Suggester, name: str, choice: Choice) -> Any:
    if isinstance(choice, Range):
        if choice.integer:
            return trial.suggest_int(name, int(choice.low), int(choice.high),
                                     step=int(choice.step or 1), log=choice.log)
        return trial.suggest_float(name, float(choice.low), float(choice.high),
                                   step=choice.step, log=choice.log)
    if isinstance(choice, list):
        if len(choice) == 1:
            return choice[0]
        picked = trial.suggest_categorical(name, [_encode(v) for v in choice])
        return json.loads(picked) if isinstance(picked, str) and any(
            isinstance(v, list) for v in choice) else picked
    return choice


def _choice(value: Any, where: str) -> Choice:
    if isinstance(value, dict):
        unknown = set(value) - {"low", "high", "log", "step"}
        if unknown or not {"low", "high"} <= set(value):
            raise SpaceError(f"{where}: a range is a table {{low, high[, log][, step]}}")
        low, high, step = value["low"], value["high"], value.get("step")
        numbers = [v for v in (low, high, step) if v is not None]
        if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                   for v in numbers):
            raise SpaceError(f"{where}: low, high and step must be finite numbers")
        if not low <= high or (step is not None and step <= 0):
            raise SpaceError(f"{where}: need low <= high and step > 0")
        log = value.get("log", False)
        if not isinstance(log, bool) or (log and (low <= 0 or step is not None)):
            raise SpaceError(f"{where}: log must be true or false; a log range needs low > 0 "
                             "and no step")
        return Range(low, high, log, step)
    if isinstance(value, list):
        if not value:
            raise SpaceError(f"{where}: an empty list of choices")
        return list(value)
    return value


@dataclass(frozen=True)
class Space:
    name: str
    input: tuple[int, int, int]
    classes: int
    blocks: tuple[int, int]
    kinds: tuple[str, ...]
    first: dict[str, Choice]
    layer: dict[str, dict[str, Choice]]  # kind -> key -> choice
    train: dict[str, Choice] = field(default_factory=dict)
    shapes: tuple[tuple[str, ...], ...] = ()  # the kind sequences, when drawn as one parameter
    first_kind: str = "conv"  # the first block's: conv1d when the input is a sequence [T, C]

    @property
    def val_fraction(self) -> float:
        return float(self.train.get("val_fraction", TrainSpec.val_fraction))

    @property
    def shape_names(self) -> tuple[str, ...]:
        """The ``shape`` parameter's choices: ``conv-conv-linear``, ..."""
        return tuple(shape_name(s) for s in self.shapes)

    @property
    def seed(self) -> int:
        return int(self.train.get("seed", TrainSpec.seed))

    def suggest(self, trial: Suggester, epochs: int | None = None) -> dict[str, Any]:
        """The model config (the TOML shape ``ebnn train`` reads) the trial picks.

        Parameter names say where they belong: ``blocks``, ``b2.kind`` (or ``shape``),
        ``b1.filters``, ``train.lr``. ``epochs`` overrides the space's.
        """
        if self.shapes:
            picked = _draw(trial, "shape", list(self.shape_names))  # one shape: not drawn
            kinds = list(self.shapes[self.shape_names.index(picked)])
            n = len(kinds)
        else:
            lo, hi = self.blocks
            n = trial.suggest_int("blocks", lo, hi) if hi > lo else lo
            kinds = [self.first_kind]
        layers: list[dict[str, Any]] = []
        for i in range(1, n + 1):
            # block by block, each kind is drawn just before its block's keys: the order the
            # sampler is asked in fixes a seeded search's proposals
            if i > len(kinds):
                kinds.append(_draw(trial, f"b{i}.kind", self._kinds_after(kinds[-1])))
            kind = kinds[i - 1]
            table = self.first if i == 1 else self.layer.get(kind, {})
            layer: dict[str, Any] = {"type": kind}
            for key, choice in table.items():
                layer[key] = _draw(trial, f"b{i}.{key}", choice)
            layers.append(layer)
        train = {key: _draw(trial, f"train.{key}", choice) for key, choice in self.train.items()}
        if epochs is not None:
            train["epochs"] = epochs
        # a sequence's input as its config says it, [T, C] (held as the 1 x T image [1, T, C])
        shape = list(self.input[1:] if self.first_kind == "conv1d" else self.input)
        return {"model": {"name": self.name, "input": shape,
                          "classes": self.classes, "layers": layers}, "train": train}

    def _kinds_after(self, previous: str) -> list[str]:
        """The kinds a block after a ``previous`` block may have (block by block)."""
        return [k for k in self.kinds if KINDS[k].may_follow(KINDS[previous])]

    def params_of(self, config: dict[str, Any], where: str) -> dict[str, Any]:
        """The trial parameters under which :meth:`suggest` proposes ``config`` (a model
        config in the TOML shape), for Optuna's ``enqueue_trial``: its layers must lie in the
        space; its [train] values are taken where the space draws them (and must lie in the
        ranges), the space's fixed values apply otherwise. SpaceError when it does not fit."""
        try:
            spec = parse_config(config, where)
        except ConfigError as exc:
            raise SpaceError(str(exc)) from None
        if tuple(spec.input) != self.input or spec.classes != self.classes:
            raise SpaceError(f"{where}: takes {list(spec.input)} in {spec.classes} classes; the "
                             f"space's models take {list(self.input)} in {self.classes}")
        params: dict[str, Any] = {}
        kinds = tuple(layer.type for layer in spec.layers)
        if self.shapes:
            if kinds not in self.shapes:
                raise SpaceError(f"{where}: its layers are {shape_name(kinds)}, not among the "
                                 f"space's shapes ({', '.join(self.shape_names)})")
            if len(self.shapes) > 1:
                params["shape"] = shape_name(kinds)
        else:
            lo, hi = self.blocks
            if not lo <= len(kinds) <= hi:
                raise SpaceError(f"{where}: {len(kinds)} hidden layers; the space has {lo} to "
                                 f"{hi}")
            if hi > lo:
                params["blocks"] = len(kinds)
        previous = self.first_kind
        for i, layer in enumerate(spec.layers, 1):
            if not self.shapes:
                allowed = [self.first_kind] if i == 1 else self._kinds_after(previous)
                if layer.type not in allowed:
                    raise SpaceError(f"{where}: layer {i} is a {layer.type}; the space's layer "
                                     f"{i} is a {' or '.join(allowed)}")
                if len(allowed) > 1:
                    params[f"b{i}.kind"] = layer.type
            table = self.first if i == 1 else self.layer.get(layer.type, {})
            for key in HIDDEN_KINDS[layer.type].keys:
                have = self._spec_field(layer, key)
                choice = table.get(key)
                if choice is None:  # the kind's default: checked on the whole model below
                    continue
                options = choice if isinstance(choice, list) else [choice]
                if isinstance(choice, Range):
                    value = have[0] if isinstance(have, tuple) else have
                    if have != self._layer_value(layer.type, key, value) or not (
                            choice.holds(value)):
                        raise SpaceError(f"{where}: layer {i} {key} = {_show(have)} is not "
                                         f"in the space's range {choice}")
                    params[f"b{i}.{key}"] = value
                    continue
                match = [v for v in options if self._layer_value(layer.type, key, v) == have]
                if not match:
                    raise SpaceError(f"{where}: layer {i} {key} is not among the space's "
                                     "choices")
                if isinstance(choice, list) and len(choice) > 1:
                    params[f"b{i}.{key}"] = _encode(match[0])
            previous = layer.type
        for key, choice in self.train.items():
            value = getattr(spec.train, key)
            if isinstance(choice, Range):
                if not choice.holds(value):
                    raise SpaceError(f"{where}: [train] {key} = {_show(value)} is not in the "
                                     f"space's range {choice}")
                params[f"train.{key}"] = value
            elif isinstance(choice, list) and len(choice) > 1:
                if value not in choice:
                    raise SpaceError(f"{where}: [train] {key} = {value} is not among the "
                                     "space's choices")
                params[f"train.{key}"] = _encode(value)
        import optuna

        made = parse_config(self.suggest(optuna.trial.FixedTrial(params)), where)
        for i, (a, b) in enumerate(zip(made.layers, spec.layers, strict=True), 1):
            if a != b:
                diff = "; ".join(f"{f} {_show(getattr(b, f))} (the space makes "
                                 f"{_show(getattr(a, f))})" for f in a.__dataclass_fields__
                                 if getattr(a, f) != getattr(b, f))
                raise SpaceError(f"{where}: the space cannot make layer {i}: {diff}")
        return params

    def train_not_taken(self, config: dict[str, Any], params: dict[str, Any],
                        epochs: int | None = None) -> list[tuple[str, Any, Any]]:
        """The [train] values ``config`` (which :meth:`params_of` took) sets that its trial,
        ``params``, trains otherwise: (key, the config's value, the trial's), the trial's
        being the space's fixed value or the default (``epochs``: --epochs, left out)."""
        import optuna

        given = config.get("train")
        if not isinstance(given, dict):
            return []
        made = parse_config(self.suggest(optuna.trial.FixedTrial(params)), "space").train
        wanted = parse_config(config, "--start").train
        return [(key, getattr(wanted, key), getattr(made, key)) for key in given
                if hasattr(wanted, key) and getattr(made, key) != getattr(wanted, key)
                and not (key == "epochs" and epochs is not None)]

    def _layer_value(self, kind: str, key: str, value: Any) -> Any:
        """A layer key's value as the config parser normalises it (None: the default)."""
        layer: dict[str, Any] = {"type": kind}
        if kind != "linear":
            layer["filters"] = 1
            if key != "kernel":  # a kernel of 1 fits any input (a 1-row [1, T, C] too)
                layer["kernel"] = 1
        else:
            layer["units"] = 1
        if value is not None:
            layer[key] = value
        try:
            spec = parse_config({"model": {"name": "x", "input": list(self.input),
                                           "classes": self.classes,
                                           "layers": [_probe_layer(self.first_kind), layer]
                                           if kind == "linear" else [layer]}})
        except ConfigError:
            return None  # not a value this layer can take
        return self._spec_field(spec.layers[-1], key)

    @staticmethod
    def _spec_field(layer: Any, key: str) -> Any:
        return layer.out if key in ("filters", "units") else getattr(layer, key)


def shape_name(kinds: tuple[str, ...] | list[str]) -> str:
    """A kind sequence as the ``shape`` parameter's value: ``conv-conv-linear``."""
    return "-".join(kinds)


def _shapes(raw: Any, where: str, first_kind: str) -> tuple[tuple[str, ...], ...]:
    """``[space] shapes``: distinct kind sequences a model may have, each a valid model."""
    if not isinstance(raw, list) or not raw or not all(
            isinstance(s, list) and s and all(isinstance(k, str) for k in s) for s in raw):
        raise SpaceError(f"{where}: shapes must be a list of kind sequences, such as "
                         '[["conv", "conv"], ["conv", "linear"]]')
    shapes: list[tuple[str, ...]] = []
    for shape in raw:
        name = shape_name(shape)
        unknown = [k for k in shape if k not in HIDDEN_KINDS]
        if unknown:
            raise SpaceError(f"{where}: shape {name}: {unknown[0]} is not a layer type (one of "
                             f"{', '.join(HIDDEN_KINDS)})")
        if shape[0] != first_kind:
            raise SpaceError(f"{where}: shape {name}: the first block must be a {first_kind}"
                             + (" (the input is a sequence [T, C])" if first_kind != "conv"
                                else ""))
        if len(shape) > MAX_BLOCKS:
            raise SpaceError(f"{where}: shape {name}: more than {MAX_BLOCKS} blocks")
        for a, b in itertools.pairwise(shape):
            try:
                check_follows(KINDS[b], KINDS[a], f"{where}: shape {name}")
            except LayerError as exc:
                raise SpaceError(str(exc)) from None
        if tuple(shape) in shapes:
            raise SpaceError(f"{where}: shape {name} is listed twice")
        shapes.append(tuple(shape))
    return tuple(shapes)


def _show(v: Any) -> str:
    return "x".join(map(str, v)) if isinstance(v, tuple) else str(v)


def _kind_table(raw: Any, kind: str, where: str) -> dict[str, Choice]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise SpaceError(f"{where}: expected a table")
    keys = HIDDEN_KINDS[kind].keys
    unknown = set(raw) - set(keys)
    if unknown:
        raise SpaceError(f"{where}: unknown key(s) {', '.join(sorted(unknown))} "
                         f"(a {kind} layer takes {', '.join(keys)})")
    return {k: _choice(v, f"{where}: {k}") for k, v in raw.items()}


def _values(choice: Choice) -> list[Any]:
    """Values a choice gives that can be checked alone: a value, a list's, a range's ends as
    drawn (floats unless the range is of integers; a continuous range's a hair inside, as an
    open end such as init's 0 is never drawn)."""
    if isinstance(choice, Range):
        if choice.integer:
            return [int(choice.low), int(choice.high)]
        low, high = float(choice.low), float(choice.high)
        if choice.step is None and high > low:
            return [low + (high - low) * 1e-6, high - (high - low) * 1e-6]
        return [low, high]
    return list(choice) if isinstance(choice, list) else [choice]


def _unusable(key: str, choice: Choice, value: Any, why: str) -> str:
    """The message for a ``value`` of ``choice`` that no candidate can take."""
    if isinstance(choice, Range):
        return (f"{key} = {{low = {choice.low!r}, high = {choice.high!r}}} holds values no "
                f"candidate can take ({key} = {value:g}: {why})")
    return f"{key} = {toml_value(value):.40} can never be used ({why})"


def _check_layer_values(kind: str, table: dict[str, Choice], where: str) -> None:
    """SpaceError for a value no layer of ``kind`` can take (a wrong type, out of its range),
    which would otherwise fail every trial that draws it. A value that fits some layers and
    not others (a kernel over a pooled map) stays the trial's to reject."""
    k = HIDDEN_KINDS[kind]
    needed: dict[str, Any] = {key: 1 for key in ("filters", "units") if key in k.keys}
    for key, choice in table.items():
        for value in _values(choice):
            extra: dict[str, Any] = {}
            if key == "pool_stride":  # its type and range, with a pool it may stride over
                def over(v: Any) -> Any:
                    return v if isinstance(v, int) and not isinstance(v, bool) and v > 1 else 2
                extra["pool"] = [over(v) for v in value] if isinstance(value, list) else over(
                    value)
            try:
                k.parse({"type": kind, **needed, **extra, key: value}, where)
            except (LayerError, ConfigError) as exc:
                raise SpaceError(f"{where}: " + _unusable(
                    key, choice, value, str(exc).removeprefix(where + ": "))) from None


def _probe_layer(kind: str) -> dict[str, Any]:
    """A first layer that fits any input of its kind (a 1-row [1, T, C] too): to check the
    rest of a model against."""
    return {"type": kind, "filters": 1, "kernel": 1}


def _check_required(kind: str, table: dict[str, Choice], where: str) -> None:
    """SpaceError when a block of ``kind`` could be drawn without a key it has no default for
    (a conv's filters, a linear's units): every trial drawing it would fail."""
    for key in ("filters", "units"):
        if key in HIDDEN_KINDS[kind].keys and key not in table:
            raise SpaceError(f"{where}: needs {key} (a {kind} block has no default)")


def _check_train_values(model: dict[str, Any], train: dict[str, Choice], source: str,
                        first_kind: str) -> None:
    """SpaceError for a [space.train] value no training takes (each key is checked alone by
    the config parser, as every [train] limit is one key's)."""
    for key, choice in train.items():
        for value in _values(choice):
            try:
                parse_config({"model": {**model, "layers": [_probe_layer(first_kind)]},
                              "train": {key: value}}, source)
            except ConfigError as exc:
                raise SpaceError(f"{source}: [space.train] " + _unusable(
                    key, choice, value, str(exc).removeprefix("[train]: "))) from None


def _near(unknown: set[str], known: Any) -> str:
    """`` (did you mean X?)`` for the unknown names close to a known one, else ""."""
    near = [m for key in sorted(unknown)
            for m in difflib.get_close_matches(key, list(known), 1, cutoff=0.75)]
    return f" (did you mean {', '.join(near)}?)" if near else ""


def parse_space(data: dict[str, Any], source: str = "space", strict: bool = True) -> Space:
    """The space in ``data``. ``strict`` (a new search's space): also the rules that came
    after searches were begun (the plain model name, every value usable), which a space kept
    by such a search, read again to resume or report it, is not held to."""
    unknown = set(data) - {"model", "space"}
    if unknown:
        model_config = (isinstance(data.get("model"), dict) and "layers" in data["model"]
                        and "space" not in data)
        raise SpaceError(f"{source}: unknown table(s) {', '.join(sorted(unknown))} "
                         "(expected [model] and [space])"
                         + ("; this is a model config (ebnn train CONFIG), not a search space: "
                            "docs/search.md" if model_config else ""))
    model, space = data.get("model"), data.get("space")
    if not isinstance(model, dict) or not isinstance(space, dict):
        raise SpaceError(f"{source}: needs a [model] table (name, input, classes) and a "
                         "[space] table")
    if "layers" in model:
        raise SpaceError(f"{source}: [model] takes no layers in a search space: [space] "
                         "describes them")
    name = model.get("name", "model")
    if strict and (not isinstance(name, str) or not _NAME.fullmatch(name)):
        raise SpaceError(f"{source}: [model] name {name!r:.40} must be a plain name for the "
                         "search's file names: up to 64 letters, digits, '.', '_', '+' or '-', "
                         "starting with a letter or digit")
    space_keys = ("blocks", "kinds", "shapes", "first", "train", *HIDDEN_KINDS)
    unknown = set(space) - set(space_keys)
    if unknown:  # a table ([space.dense]) named as one, the known names listed
        names = [f"[space.{k}]" if isinstance(space[k], dict) else k for k in sorted(unknown)]
        tables = ", ".join(f"[space.{k}]" for k in space_keys[3:])
        raise SpaceError(f"{source}: [space]: unknown {', '.join(names)}"
                         f"{_near(unknown, space_keys)}; it takes blocks, kinds, shapes and the "
                         f"tables {tables}")
    # a sequence [T, C] begins with a conv along time; an image (or a 1-row [1, W, C]) with a conv
    raw_input = model.get("input")
    first_kind = "conv1d" if isinstance(raw_input, list) and len(raw_input) == 2 else "conv"
    shapes: tuple[tuple[str, ...], ...] = ()
    if "shapes" in space:
        if {"blocks", "kinds"} & set(space):
            raise SpaceError(f"{source}: [space] shapes replaces blocks and kinds: give one or "
                             "the other")
        shapes = _shapes(space["shapes"], f"{source}: [space]", first_kind)
        lengths = [len(s) for s in shapes]
        space = {**space, "blocks": [min(lengths), max(lengths)],
                 "kinds": sorted({k for s in shapes for k in s[1:]}) or [first_kind]}
    blocks = space.get("blocks", 1)
    if isinstance(blocks, int) and not isinstance(blocks, bool):
        blocks = [blocks, blocks]
    if (not isinstance(blocks, list) or len(blocks) != 2
            or not all(isinstance(b, int) and not isinstance(b, bool) for b in blocks)
            or not 1 <= blocks[0] <= blocks[1] <= MAX_BLOCKS):
        raise SpaceError(f"{source}: [space] blocks must be N or [min, max] with "
                         f"1 <= min <= max <= {MAX_BLOCKS}")
    kinds = space.get("kinds", [first_kind])
    if (not isinstance(kinds, list) or not kinds
            or not all(isinstance(k, str) and k in HIDDEN_KINDS for k in kinds)):
        raise SpaceError(f"{source}: [space] kinds must list layer types among "
                         f"{', '.join(HIDDEN_KINDS)}")
    layer = {k: _kind_table(space.get(k), k, f"{source}: [space.{k}]") for k in HIDDEN_KINDS}
    first = (_kind_table(space["first"], first_kind, f"{source}: [space.first]")
             if "first" in space else layer[first_kind])
    raw_train = space.get("train", {})
    if not isinstance(raw_train, dict):
        raise SpaceError(f"{source}: [space.train] must be a table")
    train_keys = set(TrainSpec.__dataclass_fields__)
    unknown = set(raw_train) - train_keys
    if unknown:
        raise SpaceError(f"{source}: [space.train]: unknown key(s) "
                         f"{', '.join(sorted(unknown))}{_near(unknown, train_keys)}; it takes "
                         f"{', '.join(TrainSpec.__dataclass_fields__)}")
    train = {k: _choice(v, f"{source}: [space.train] {k}") for k, v in raw_train.items()}
    for key in FIXED_TRAIN_KEYS:
        if key in train and isinstance(train[key], (list, Range)):
            raise SpaceError(f"{source}: [space.train] {key} must be one value: every "
                             "candidate is validated on the same held-out images")
    teacher = train.get("teacher")
    if teacher is not None and not (isinstance(teacher, str) and Path(teacher).is_absolute()):
        # candidates train in other processes or machines, and a search is resumed from
        # anywhere: a relative path would name another file there
        raise SpaceError(f"{source}: [space.train] teacher must be one absolute path")
    try:
        # the model table and the fixed parts are checked by the config parser itself
        probe = parse_config({"model": {**model, "layers": [_probe_layer(first_kind)]}}, source)
    except ConfigError as exc:
        raise SpaceError(str(exc)) from None
    if strict:  # after the model's own checks, which these rely on
        for k, table in layer.items():
            _check_layer_values(k, table, f"{source}: [space.{k}]")
        _check_layer_values(first_kind, first, f"{source}: [space.first]")
        _check_train_values(model, train, source, first_kind)
    result = Space(probe.name, probe.input, probe.classes, (blocks[0], blocks[1]),
                   tuple(kinds), first, layer, train, shapes, first_kind)
    if result.val_fraction <= 0:
        raise SpaceError(f"{source}: [space.train] val_fraction must be > 0: a search "
                         "validates every candidate")
    if strict:
        _check_required(first_kind, first, f"{source}: [space.first]"
                        if "first" in space else f"{source}: [space.{first_kind}]")
        if blocks[1] > 1:  # the kinds later blocks may have
            later = {k for shape in shapes for k in shape[1:]} if shapes else set(kinds)
            for kind in sorted(later):
                _check_required(kind, layer[kind], f"{source}: [space.{kind}]")
        _check_kinds_used(kinds if blocks[1] > 1 else [], shapes, set(space), first_kind,
                          source)
        _check_some_model(result, source)
    return result


def _check_kinds_used(kinds: list[str], shapes: tuple[tuple[str, ...], ...], tables: set[str],
                      first_kind: str, source: str) -> None:
    """SpaceError for a kind listed twice (drawn twice as often: not what a list of kinds
    says) and for a [space.KIND] table no block of the space can use. ``kinds``: those of the
    blocks after the first (none when the space has one block)."""
    twice = sorted({k for k in kinds if kinds.count(k) > 1})
    if twice:
        raise SpaceError(f"{source}: [space] kinds lists {twice[0]} more than once")
    used = set(kinds) | ({first_kind} if "first" not in tables else set())
    unused = sorted(k for k in HIDDEN_KINDS if k in tables and k not in used)
    if unused:
        raise SpaceError(f"{source}: [space.{unused[0]}] is never used: no block of the "
                         f"space is a {unused[0]} (" + (
                             f"shapes {', '.join(shape_name(x) for x in shapes)}" if shapes
                             else f"kinds {', '.join(kinds)}" if kinds
                             else "one block, a " + first_kind) + ")")


class _RandomDraw:
    """A Suggester drawing each value uniformly at random (log and step ignored: only
    whether a config is a model matters here)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def suggest_categorical(self, name: str, choices: Any) -> Any:
        return self.rng.choice(list(choices))

    def suggest_int(self, name: str, low: int, high: int, *, step: int = 1,
                    log: bool = False) -> int:
        return low + step * self.rng.randrange((high - low) // step + 1)

    def suggest_float(self, name: str, low: float, high: float, *, step: float | None = None,
                      log: bool = False) -> float:
        return self.rng.uniform(low, high)


SOME_MODEL_DRAWS = 1000


def _check_some_model(space: Space, source: str) -> None:
    """SpaceError when no candidate the space draws is a model (every first-block kernel
    larger than the input, a conv1d block after a 2-D map in every shape): every trial of the
    search would be rejected as invalid. Judged on candidates drawn at random (seeded): one
    that is a model ends the check, usually the first."""
    rng = random.Random(0)
    first = None
    for _ in range(SOME_MODEL_DRAWS):
        try:
            parse_config(space.suggest(_RandomDraw(rng)), "candidate")
            return
        except ConfigError as exc:
            first = first or str(exc).removeprefix("candidate: ")
    raise SpaceError(f"{source}: none of {SOME_MODEL_DRAWS:,} candidates drawn at random from "
                     f"the space is a model (the first: {first}): its trials would be rejected "
                     "as invalid, all or almost all")


def load_space(path: str | Path) -> Space:
    p = Path(path)
    try:
        data = loads_toml(read_toml_text(p))
    except FileNotFoundError:
        raise SpaceError(f"{p}: no such file") from None
    except tomllib.TOMLDecodeError as exc:  # a ValueError: before the next line
        raise SpaceError(f"{p}: not valid TOML ({exc})") from None
    except (OSError, ValueError) as exc:
        raise SpaceError(f"{p}: cannot read ({exc})") from None
    return parse_space(data, str(p))


def config_toml(config: dict[str, Any]) -> str:
    """A candidate's config as a model config file (``ebnn train`` reads it back)."""
    value = toml_value
    model = config["model"]
    lines = ["[model]", f"name = {value(model['name'])}", f"input = {value(model['input'])}",
             f"classes = {value(model['classes'])}"]
    for layer in model["layers"]:
        lines += ["", "[[model.layers]]", *(f"{k} = {value(v)}" for k, v in layer.items())]
    lines += ["", "[train]", *(f"{k} = {value(v)}" for k, v in config.get("train", {}).items())]
    return "\n".join(lines) + "\n"
