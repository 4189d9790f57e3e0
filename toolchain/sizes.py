"""Memory sizes as users write them: ``15k``, ``15KiB``, ``15360``, ``1M``, ``1G``; and ``SIZE``,
the click parameter type both command lines (``ebnn``, ``ebnn-sim``) read them with.

Every size is at most :data:`MAX_SIZE`, the 32-bit address space (4 GiB): a larger one is no
memory any Cortex-M could address, and is refused here, in one line. Sizes of memory to map or
link for (``--sram``, ``--flash`` of ``ebnn build``, ``ebnn search``, ``ebnn-sim run``,
``profile``, ``build``) are held to the memory map's 512 MiB region by the commands
(``toolchain.build.check_memory_sizes``, ``sim.runner``); a budget on a measured peak
(``--max-sram``, ``--max-stack``, ``ebnn-sim check``'s ``sram``) may be anything up to 4 GiB:
it is only compared with the peak.
"""

import re

import click

_UNITS = {
    "": 1, "b": 1, "k": 1024, "kb": 1024, "kib": 1024, "m": 1 << 20, "mb": 1 << 20, "mib": 1 << 20,
    "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30,
}
_SIZE = re.compile(r"^\s*(\d+)\s*([a-z]*)\s*$", re.IGNORECASE)
MAX_SIZE = 1 << 32  # the 32-bit address space: no Cortex-M memory or peak can be larger


def parse_size(text: str | int) -> int:
    """Bytes in ``text``. Binary units only: ``k``/``KB``/``KiB`` all mean 1024 bytes.

    Raises ValueError with a one-line message for anything else, and for a size beyond the
    32-bit address space (:data:`MAX_SIZE`).
    """
    if isinstance(text, int):
        if text < 0:
            raise ValueError(f"size must not be negative: {text}")
        if text > MAX_SIZE:
            shown = (f"{text:,}" if text.bit_length() <= 64
                     else f"a {text.bit_length()}-bit number of")
            raise ValueError(f"size {shown} bytes is more than a 32-bit address space holds "
                             "(4 GiB)")
        return text
    m = _SIZE.match(text)
    unit = m.group(2).lower() if m else None
    if m is None or unit not in _UNITS:
        raise ValueError(f"not a size: {text[:40]!r} (examples: 15k, 15KiB, 15360, 1M)")
    digits = m.group(1).lstrip("0") or "0"
    # the digits counted first: int() of 5,000 of them is refused by Python in words about
    # its own limit
    if len(digits) > len(str(MAX_SIZE)) or int(digits) * _UNITS[unit] > MAX_SIZE:
        shown = text.strip() if len(text.strip()) <= 40 else f"{text.strip()[:20]}..."
        raise ValueError(f"size {shown!r} is more than a 32-bit address space holds (4 GiB)")
    return int(digits) * _UNITS[unit]


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
