"""Memory sizes as users write them: ``15k``, ``15KiB``, ``15360``, ``1M``; and ``SIZE``, the
click parameter type both command lines (``ebnn``, ``ebnn-sim``) read them with."""

import re

import click

_UNITS = {
    "": 1, "b": 1, "k": 1024, "kb": 1024, "kib": 1024, "m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20,
}
_SIZE = re.compile(r"^\s*(\d+)\s*([a-z]*)\s*$", re.IGNORECASE)


def parse_size(text: str | int) -> int:
    """Bytes in ``text``. Binary units only: ``k``/``KB``/``KiB`` all mean 1024 bytes.

    Raises ValueError with a one-line message for anything else.
    """
    if isinstance(text, int):
        if text < 0:
            raise ValueError(f"size must not be negative: {text}")
        return text
    m = _SIZE.match(text)
    unit = m.group(2).lower() if m else None
    if m is None or unit not in _UNITS:
        raise ValueError(f"not a size: {text!r} (examples: 15k, 15KiB, 15360, 1M)")
    return int(m.group(1)) * _UNITS[unit]


def format_size(n: int) -> str:
    """``15360`` -> ``15 KiB``; sizes that are not whole KiB stay in bytes."""
    if n >= 1 << 20 and n % (1 << 20) == 0:
        return f"{n >> 20} MiB"
    if n >= 1024 and n % 1024 == 0:
        return f"{n >> 10} KiB"
    return f"{n} B"


# Recent clicks type ParamType by its value type, but ParamType[int] fails at run time on the
# older clicks the project supports (click>=8.1): the base stays unsubscripted.
class SizeParam(click.ParamType):  # type: ignore[type-arg]
    """A memory size on a command line: ``15k``, ``15KiB``, ``15360``, ``1M``."""

    name = "size"

    def convert(self, value: object, param: click.Parameter | None,
                ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        try:
            return parse_size(str(value))
        except ValueError as exc:
            self.fail(str(exc), param, ctx)


SIZE = SizeParam()
