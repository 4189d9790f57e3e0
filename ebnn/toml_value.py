"""Python values spelled as TOML spells them, so that a message quotes a value as the user
wrote it in their config or space file (``true``, not ``True``; ``"x"``, not ``'x'``)."""

import json
from typing import Any


def toml_value(v: Any) -> str:
    """``v`` (a value read from TOML, or one to write to it) in TOML's spelling."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k} = {toml_value(x)}" for k, x in v.items()) + "}"
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, int) and v.bit_length() > MAX_SHOWN_BITS:
        return _huge_int(v)
    return repr(v)


# an integer of more bits is abbreviated: none is a valid setting, and repr() refuses one of
# over 4,300 digits (ValueError) where a message quotes it
MAX_SHOWN_BITS = 128


def _huge_int(v: int) -> str:
    """``v`` as its first hex digits and its size: ``0x1234abcd... (400,000 bits)``; hex, as
    decimal conversion of such an int is quadratic and limited."""
    digits = f"{abs(v):x}"
    return f"{'-' if v < 0 else ''}0x{digits[:8]}... ({v.bit_length():,} bits)"
