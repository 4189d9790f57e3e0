"""Plugins: what other installed packages add to ``ebnn-sim``.

``sim`` knows firmware, not what the firmware computes; a package that does (``ebnn``: neural
networks) adds its commands and its view of the firmware's functions through a plugin. It
declares one in its ``pyproject.toml``, as pytest and flask plugins are declared::

    [project.entry-points."ebnn_sim.plugins"]
    ebnn = "ebnn.sim_plugin:plugin"

The object the entry point names (a :class:`Plugin`, or any object with these attributes) has

- ``commands``: click commands that become commands of ``ebnn-sim`` (a built-in command, or
  one an earlier plugin added, keeps its name);
- ``function_groups`` (optional): ``function_groups(image) -> FunctionGroups | None``, the
  groups ``ebnn-sim profile`` lists under "layers" for this image (see
  :data:`sim.profile.FunctionGroups`), or None when the image is not the plugin's kind.

``ebnn-sim`` loads plugins on first need (``run`` needs none). A plugin that cannot be loaded
is left out with one warning line; every other command works.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

    from sim.elf import FirmwareImage
    from sim.profile import FunctionGroups

ENTRY_POINT_GROUP = "ebnn_sim.plugins"

Warn = Callable[[str], None]


@dataclass(frozen=True)
class Plugin:
    """What one plugin adds."""

    commands: Sequence[click.Command] = ()
    function_groups: Callable[[FirmwareImage], FunctionGroups | None] | None = None


class PluginError(Exception):
    """A plugin that cannot be used; ``str()`` is one line."""


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def load(entry_point: EntryPoint) -> Plugin:
    """The plugin ``entry_point`` names, checked; PluginError if it cannot be loaded or is not
    a plugin."""
    try:
        obj = entry_point.load()
    except Exception as exc:  # a third party's import: any error at all
        raise PluginError(_one_line(exc)) from None
    commands = getattr(obj, "commands", ())
    groups = getattr(obj, "function_groups", None)
    if isinstance(commands, click.Command) or not isinstance(commands, Iterable):
        raise PluginError(f"{entry_point.value}.commands must be a sequence of click commands")
    commands = tuple(commands)
    for command in commands:
        if not isinstance(command, click.Command) or not command.name:
            raise PluginError(f"{entry_point.value}.commands holds {command!r}, "
                              "not a named click command")
    if groups is not None and not callable(groups):
        raise PluginError(f"{entry_point.value}.function_groups is not callable")
    return Plugin(commands, groups)


def load_all(warn: Warn) -> dict[str, Plugin]:
    """Every installed plugin by entry-point name; ``warn`` gets one line per plugin left out."""
    from importlib.metadata import entry_points  # ~20 ms: only for commands that use plugins

    plugins: dict[str, Plugin] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            plugins[ep.name] = load(ep)
        except PluginError as exc:
            warn(f"plugin {ep.name!r} ({ep.value}) not loaded: {exc}")
    return plugins


class _Guarded:
    """A plugin's FunctionGroups that never raises nor returns anything but None or
    (str, int | None): on its first failure the plugin's groups are dropped with one warning
    line and every later call returns None (so a profile, which asks twice, drops the groups
    it already took from it)."""

    def __init__(self, name: str, groups: Callable[[str], object], warn: Warn) -> None:
        self.name, self.groups, self.warn = name, groups, warn
        self.failed = False

    def __call__(self, function: str) -> tuple[str, int | None] | None:
        if self.failed:
            return None
        try:
            found = self.groups(function)
        except Exception as exc:  # a third party's code
            problem = _one_line(exc)
        else:
            if found is None or (
                    isinstance(found, tuple) and len(found) == 2 and isinstance(found[0], str)
                    and (found[1] is None or (isinstance(found[1], int)
                                              and not isinstance(found[1], bool)))):
                return found
            problem = f"{function!r} -> {found!r} is not (group name, index or None)"
        self.failed = True
        self.warn(f"plugin {self.name!r}: function groups failed: {problem}; groups left out")
        return None


def function_groups(plugins: dict[str, Plugin], image: FirmwareImage,
                    warn: Warn) -> FunctionGroups | None:
    """The profiler's groups for ``image`` from every plugin that has some (the first plugin
    to name a group for a function wins); None when no plugin has any. A plugin whose
    ``function_groups`` fails is left out with one warning line."""
    found: list[FunctionGroups] = []
    for name, plugin in plugins.items():
        if plugin.function_groups is None:
            continue
        try:  # typed, but a third party's code: anything may come back
            groups: object = plugin.function_groups(image)
        except Exception as exc:  # a third party's code
            warn(f"plugin {name!r}: function groups failed: {_one_line(exc)}")
            continue
        if groups is None:
            continue
        if not callable(groups):
            warn(f"plugin {name!r}: function groups failed: function_groups returned a "
                 f"{type(groups).__name__}, not a function")
            continue
        found.append(_Guarded(name, groups, warn))
    if len(found) <= 1:
        return found[0] if found else None

    def first(function: str) -> tuple[str, int | None] | None:
        for groups in found:
            group = groups(function)
            if group is not None:
                return group
        return None

    return first
