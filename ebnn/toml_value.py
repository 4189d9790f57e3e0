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
    return repr(v)
