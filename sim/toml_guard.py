"""TOML from files we did not write, parsed in bounded memory and time.

``tomllib`` spends memory quadratic in the parts of one dotted key (``a.a.a… = 1``: 200 KB of
it takes more than 8 GB), and it recurses once per level of nesting. :func:`loads` refuses a
key (or table header) of more than :data:`MAX_KEY_PARTS` parts before parsing, by a scan that
skips strings and comments as the parser does, and turns running out of stack or memory into
the parser's own error: every caller that reports ``tomllib.TOMLDecodeError`` as one line
reports these the same way. A config, register map or budgets file needs a handful of parts.
"""

from __future__ import annotations

import re
import tomllib
from typing import Any

MAX_KEY_PARTS = 32  # dotted parts in one key or table header (`[tool.ebnn-sim.budget]`: 3)

# outside strings and comments: what starts a string or comment, a dot, or what ends a key
_SIGNIFICANT = re.compile(r"""["'#.=,\[\]{}\n]""")
_SEPARATORS = frozenset("=,[]{}\n")
# each string form from its opening quote to just past its closing one (TOML 1.0)
_BASIC = re.compile(r'"[^"\\\n]*(?:\\.[^"\\\n]*)*"')
_LITERAL = re.compile(r"'[^'\n]*'")
_ML_BASIC = re.compile(r'"""[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*""""{0,2}', re.S)
_ML_LITERAL = re.compile(r"'''[^']*(?:'(?!'')[^']*)*''''{0,2}")


def _string_end(text: str, at: int) -> int:
    """Where the string that opens at ``at`` ends (just past its closing quote), or -1 when it
    does not end as TOML says: the parser stops there with an error of its own."""
    quote = text[at]
    long = text.startswith(quote * 3, at)
    pattern = (_ML_BASIC if long else _BASIC) if quote == '"' else (
        _ML_LITERAL if long else _LITERAL)
    found = pattern.match(text, at)
    return found.end() if found else -1


def key_parts(text: str, limit: int = MAX_KEY_PARTS) -> int:
    """The most dotted parts of any key or table header in ``text`` (a float counts as 2),
    counting no further than ``limit + 1``: only dots outside strings and comments count, and a
    key ends at ``=``, ``,``, a bracket, a brace or a line's end."""
    most = parts = 1
    at = 0
    while most <= limit:
        found = _SIGNIFICANT.search(text, at)
        if found is None:
            break
        ch, at = found.group(), found.start()
        if ch == ".":
            parts += 1
            most = max(most, parts)
            at += 1
        elif ch in _SEPARATORS:
            parts = 1
            at += 1
        elif ch == "#":
            end = text.find("\n", at)
            at = len(text) if end < 0 else end
        else:
            at = _string_end(text, at)
            if at < 0:
                break
    return most


def loads(text: str) -> dict[str, Any]:
    """``tomllib.loads``, raising ``tomllib.TOMLDecodeError`` also for a key of more than
    MAX_KEY_PARTS parts, for nesting too deep for the parser and for a document that does not
    fit in memory."""
    if key_parts(text) > MAX_KEY_PARTS:
        raise tomllib.TOMLDecodeError(
            f"a dotted key or table name of more than {MAX_KEY_PARTS} parts")
    try:
        return tomllib.loads(text)
    except RecursionError:  # the parser recurses once per level of nesting
        raise tomllib.TOMLDecodeError("nested too deeply") from None
    except MemoryError:
        raise tomllib.TOMLDecodeError("too large to parse in memory") from None
