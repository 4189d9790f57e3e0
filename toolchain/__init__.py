"""Cortex-M targets: profiles, memory sizes, linker scripts and the cross compiler."""

from toolchain.build import BuildResult, ToolchainError, build
from toolchain.profiles import TARGETS, Target, get_target
from toolchain.sizes import format_size, parse_size

__all__ = [
    "TARGETS",
    "BuildResult",
    "Target",
    "ToolchainError",
    "build",
    "format_size",
    "get_target",
    "parse_size",
]
