"""Cortex-M targets: profiles, memory sizes, linker scripts and the cross compiler.

The names below are imported on first use (PEP 562), so that importing one submodule (the
simulator needs only ``toolchain.memory_map`` and ``toolchain.profiles``) does not load the
compiler driver.
"""

from importlib import import_module
from typing import Any

_HOMES = {
    "BuildResult": "toolchain.build", "ToolchainError": "toolchain.build",
    "build": "toolchain.build",
    "TARGETS": "toolchain.profiles", "Target": "toolchain.profiles",
    "get_target": "toolchain.profiles",
    "format_size": "toolchain.sizes", "parse_size": "toolchain.sizes",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'toolchain' has no attribute {name!r}")
    return getattr(import_module(home), name)
