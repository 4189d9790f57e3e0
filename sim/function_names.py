"""How the profile names functions, and which functions a budget's ``function = "..."`` means.

A firmware may hold two ``static`` functions of one name in different files (``helper`` in
``a.c`` and in ``b.c``: two symbols at two addresses). The profile keeps them apart: a name
that more than one function symbol has is shown with the source file it was compiled in
(the translation unit, from the ELF's DWARF: ``helper (a.c)``), or, when that does not tell
them apart (no debug information, or two files of one name), with its address
(``helper (0x50)``). Every other function keeps its symbol's name.

GCC renames the copies it makes of a function: ``dig.isra.0`` (a parameter replaced by what
it pointed to), ``checksum.constprop.0`` (a constant argument folded in), ``f.part.0`` (a
part split out), ``f.cold`` (its unlikely code), ``f.lto_priv.0`` (a static made global by
LTO). A budget naming ``dig`` covers ``dig`` and every such copy of it (:func:`base_name`).

C++ functions are shown demangled (``dsp::total(dsp::Shape const* const*, int)``, by the
toolchain's ``arm-none-eabi-c++filt``; without it, mangled), and a budget may name one so,
or without its parameters when it has no overload (``dsp::total``), or by its symbol.
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import subprocess
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

# GCC's suffixes for the copies it makes of a function, possibly several (f.constprop.0.isra.0)
_CLONE = re.compile(r"(?:\.(?:isra|constprop|part|cold|lto_priv|localalias)(?:\.\d+)?)+$")
# "helper (a.c)", "helper (0x50)": a name as the profile shows one of several
_QUALIFIED = re.compile(
    r"^(?P<name>.+?) \((?P<where>0x[0-9a-fA-F]+|[^()\s]+\.[A-Za-z0-9+]+)\)$")
# "a.c:helper": a file (with a suffix), a colon, a name (not "::": C++'s dsp::total)
_FILE_PREFIX = re.compile(r"^(?P<where>[^:()\s]+\.[A-Za-z0-9+]+):(?P<name>[^:].*)$")


def base_name(symbol: str) -> str:
    """``symbol`` without GCC's suffixes for a copy of a function: ``dig.isra.0`` -> ``dig``."""
    return _CLONE.sub("", symbol) or symbol


def demangle(symbols: Iterable[str]) -> dict[str, str]:
    """C++ symbols (``_Z...``) -> their demangled names, by the toolchain's c++filt in one
    call; {} when there is none to demangle or no c++filt (names then stay mangled)."""
    mangled = sorted({s for s in symbols if s.startswith("_Z")})
    tool = shutil.which("arm-none-eabi-c++filt") or shutil.which("c++filt")
    if not mangled or tool is None:
        return {}
    try:
        out = subprocess.run([tool], input="\n".join(mangled) + "\n", capture_output=True,
                             text=True, timeout=60, check=True).stdout.splitlines()
    except (OSError, subprocess.SubprocessError, UnicodeDecodeError):
        return {}
    if len(out) != len(mangled):
        return {}
    return {m: d for m, d in zip(mangled, out, strict=True) if d and d != m}


def without_parameters(name: str) -> str:
    """A demangled name without its parameter list and qualifiers:
    ``dsp::Filter<long, 8>::step(long) const`` -> ``dsp::Filter<long, 8>::step``."""
    text = re.sub(r"(?:\s*(?:const|volatile|&&|&))+$", "", name.strip())
    if not text.endswith(")"):
        return name
    depth = 0
    for i in range(len(text) - 1, -1, -1):
        depth += {")": 1, "(": -1}.get(text[i], 0)
        if depth == 0:
            return text[:i] if i > 0 else name
    return name


class AmbiguousFunction(ValueError):
    """A name more than one function in different files has; ``str()`` says which, one line."""


@dataclass(frozen=True)
class NamedFunction:
    start: int
    symbol: str  # the ELF symbol's name
    name: str  # as the profile shows it
    unit: str | None  # the source file it was compiled in (DWARF), None: not known


class FunctionNames:
    """The profile's names for the function symbols of an image (``FirmwareImage.functions``:
    sorted (start, size, name)). ``unit_of(address)`` is the source file (translation unit)
    the code at an address was compiled in, or None; it is asked only about functions whose
    names collide, and about those a budget names."""

    def __init__(self, functions: Iterable[tuple[int, int, str]],
                 unit_of: Callable[[int], str | None]) -> None:
        self._unit_of = unit_of
        self._units: dict[int, str | None] = {}
        starts: dict[str, set[int]] = defaultdict(set)
        for start, _, symbol in functions:
            starts[symbol].add(start)
        self._starts = {symbol: sorted(s) for symbol, s in starts.items()}
        self._readable = demangle([*self._starts, *map(base_name, self._starts)])
        shown: dict[str, list[tuple[int, str]]] = defaultdict(list)  # readable name -> functions
        for symbol, where in self._starts.items():
            shown[self.readable(symbol)] += [(start, symbol) for start in where]
        self._names: dict[tuple[int, str], str] = {}
        for readable, functions_of in shown.items():
            if len(functions_of) > 1:
                self._names.update(self._qualified(readable, functions_of))

    def unit(self, start: int) -> str | None:
        if start not in self._units:
            self._units[start] = self._unit_of(start)
        return self._units[start]

    def readable(self, symbol: str) -> str:
        """``symbol`` demangled (C++), else as it is."""
        return self._readable.get(symbol, symbol)

    def _qualified(self, name: str, functions: list[tuple[int, str]]
                   ) -> dict[tuple[int, str], str]:
        """Names for ``functions`` ((start, symbol) pairs) that would all be shown ``name``."""
        files = {f: os.path.basename(u) if (u := self.unit(f[0])) else None for f in functions}
        seen = [f for f in files.values() if f is not None]
        return {f: f"{name} ({file})" if file is not None and seen.count(file) == 1
                else f"{name} (0x{f[0]:x})" for f, file in files.items()}

    def name(self, start: int, symbol: str) -> str:
        """How the profile shows the function ``symbol`` that starts at ``start``."""
        return self._names.get((start, symbol), self.readable(symbol))

    def _names_of(self, symbol: str) -> set[str]:
        """What a budget may call ``symbol``: itself, without GCC's copy suffix, demangled (with
        or without its parameters)."""
        base = base_name(symbol)
        readable = self.readable(base)
        return {symbol, base, self.readable(symbol), readable, without_parameters(readable)}

    def _function(self, start: int, symbol: str) -> NamedFunction:
        return NamedFunction(start, symbol, self.name(start, symbol), self.unit(start))

    def resolve(self, query: str) -> list[NamedFunction]:
        """The functions a budget's ``function = query`` means: the function of that name and
        GCC's copies of it (``dig`` is also ``dig.isra.0``); ``name (file.c)`` or
        ``file.c:name`` only those compiled in that file, ``name (0x50)`` the one at that
        address. [] when none; AmbiguousFunction when the name is in two or more files."""
        name, where = query.strip(), None
        for pattern in (_QUALIFIED, _FILE_PREFIX):
            m = pattern.match(name)
            if m is not None:
                name, where = m["name"].strip(), m["where"].strip()
                break
        found = [self._function(start, symbol)
                 for symbol, starts in self._starts.items()
                 if name in self._names_of(symbol) for start in starts]
        if where is not None:
            found = [f for f in found if _at(f, where)]
        overloads = sorted({self.readable(base_name(f.symbol)) for f in found})
        if len(overloads) > 1:
            raise AmbiguousFunction(
                f"{query!r} names {len(overloads)} overloads ({', '.join(overloads)}): name one "
                f'with its parameters, e.g. "{overloads[0]}"')
        symbols = [f.symbol for f in found]
        units = {f.unit for f in found if f.unit is not None}
        if len(units) > 1 or len(set(symbols)) < len(symbols):
            shown = ", ".join(sorted({f.name for f in found}))
            example = next(iter(sorted(units)), None)
            hint = (f'"{name} ({os.path.basename(example)})" or '
                    f'"{os.path.basename(example)}:{name}"' if example is not None
                    else f'"{name} (0x{found[0].start:x})"')
            raise AmbiguousFunction(
                f"{query!r} names {len(found)} functions in different files ({shown}): name "
                f"one as the profile does, e.g. {hint}")
        return sorted(found, key=lambda f: (base_name(f.symbol) != f.symbol, f.start))

    def suggest(self, query: str) -> str | None:
        """The function name closest to ``query`` (a typo's), or None."""
        names = sorted({n for s in self._starts for n in self._names_of(s)})
        close = difflib.get_close_matches(query, names, n=1, cutoff=0.75)
        return close[0] if close else None


def _at(f: NamedFunction, where: str) -> bool:
    """Whether ``f`` was compiled in the file ``where`` (a name or the end of a path), or
    starts at the address ``where`` (0x...)."""
    if where.lower().startswith("0x"):
        try:
            return f.start == int(where, 16)
        except ValueError:
            return False
    if f.unit is None:
        return False
    unit = os.path.normpath(f.unit)
    want = os.path.normpath(where)
    return unit == want or unit.endswith(os.sep + want)
