"""Text from an input (an ELF's names, a report's fields, what firmware passed to semihosting)
made safe to print: control characters (C0 but newline and tab, DEL, C1: an ESC in a name
would recolour or retitle the terminal, a U+0001 make JUnit unreadable) and the Unicode
line separators and bidirectional controls (U+202E makes a name read backwards) are written as
``\\xNN``/``\\uNNNN``."""

import re

_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e"
                     "\u2066-\u2069]")
_UNSAFE_LINE = re.compile("[\n\t]|" + _UNSAFE.pattern)


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str, one_line: bool = False) -> str:
    """``text`` with its unsafe characters escaped; ``one_line``: newlines and tabs too."""
    return (_UNSAFE_LINE if one_line else _UNSAFE).sub(_escaped, text)
