"""Layer kinds: one record per kind (a module each) holding everything that differs between
kinds, from config keys to C code; the rest of ``ebnn`` looks a layer's kind up here.

A new kind is a ``LayerKind`` subclass implementing every hook (``base.py``) in its own module,
registered in ``KINDS`` below.
"""

from collections.abc import Mapping

from ebnn.layers.base import LayerError, LayerKind, LayerSpec
from ebnn.layers.conv import Conv, Conv1d
from ebnn.layers.linear import Linear
from ebnn.layers.output import Output

KINDS: dict[str, LayerKind] = {k.name: k for k in (Conv(), Conv1d(), Linear(), Output())}
# the kinds a config may list as hidden blocks ([[model.layers]] "type")
HIDDEN_KINDS: dict[str, LayerKind] = {n: k for n, k in KINDS.items() if not k.is_output}


def kind(name: object, where: str, error: type[Exception] = LayerError,
         kinds: Mapping[str, LayerKind] = KINDS) -> LayerKind:
    """The kind called ``name`` among ``kinds``; else ``error`` (the caller's domain error),
    one line naming the known kinds."""
    found = kinds.get(name) if isinstance(name, str) else None
    if found is None:
        raise error(f"{where}: unknown layer type {name!r} (known: {', '.join(kinds)})")
    return found


def check_follows(k: LayerKind, previous: LayerKind | None, where: str) -> None:
    """LayerError unless ``k`` may come right after ``previous`` (None: the input pixels)."""
    if k.may_follow(previous):
        return
    if previous is None:
        first = " or ".join(n for n, c in KINDS.items() if c.may_follow(None))
        raise LayerError(f"{where}: the first layer must be a {first} on the input pixels, "
                         f"not a {k.name}")
    raise LayerError(f"{where}: a {k.name} cannot follow a {previous.name} layer")


__all__ = ["HIDDEN_KINDS", "KINDS", "LayerError", "LayerKind", "LayerSpec", "check_follows",
           "kind"]
