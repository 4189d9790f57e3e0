"""Plugins of ``ebnn-sim`` (entry-point group ``ebnn_sim.plugins``): the ``ebnn`` package adds
``verify`` and the profiler's layer groups; ``sim`` itself imports nothing from ``ebnn``; a
plugin that cannot be loaded costs one warning line, never a command."""

import json
import re
from importlib.metadata import entry_points
from pathlib import Path

import click
import pytest

import sim
import sim.cli
from ebnn.sim_plugin import OUTPUT_LAYER, layer_groups, layer_of, verify_cmd
from sim import plugins
from sim.plugins import ENTRY_POINT_GROUP, Plugin, PluginError

SIM = Path(sim.__file__).parent

# An eBNN-shaped firmware without a model: ebnn_infer calls the layers in order.
LAYERED_C = r"""
#include "semihost.h"
#define LAYER(n) __attribute__((noinline)) int ebnn_layer##n(int x) \
    { for (int i = 0; i < 10 * (n + 1); i++) x = x * 3 + i; return x; }
LAYER(0)
LAYER(1)
LAYER(2)
__attribute__((noinline)) int ebnn_output_layer(int x) { return x & 1; }
__attribute__((noinline)) int ebnn_infer(int x)
{ return ebnn_output_layer(ebnn_layer2(ebnn_layer1(ebnn_layer0(x)))); }
int main(void) { sh_write_int(ebnn_infer(7)); sh_write0("\n"); return 0; }
"""


def fake_distribution(root: Path, entry: str, name: str = "broken") -> Path:
    """A directory that, on PYTHONPATH, installs a distribution declaring ``entry`` as an
    ebnn-sim plugin."""
    info = root / f"{name}_plugin-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[{ENTRY_POINT_GROUP}]\n{name} = {entry}\n")
    return root


def warnings_in(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("warning:")]


# --- sim knows firmware, not networks ----------------------------------------------------------


def test_sim_imports_nothing_from_ebnn():
    pattern = re.compile(r"^\s*(from|import) ebnn", re.MULTILINE)
    offenders = [str(p.relative_to(SIM)) for p in SIM.rglob("*.py")
                 if pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


# --- the ebnn plugin ---------------------------------------------------------------------------


def test_the_ebnn_plugin_is_installed_and_loads():
    found = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    assert found["ebnn"].value == "ebnn.sim_plugin:plugin"
    plugin = plugins.load(found["ebnn"])
    assert [c.name for c in plugin.commands] == ["verify"]
    assert plugin.commands[0] is verify_cmd
    assert plugin.function_groups is layer_groups


@pytest.mark.parametrize("process", [False, True])
def test_help_lists_verify(cli, process):
    result = cli("--help", process=process)
    assert result.returncode == 0
    commands = result.stdout.split("Commands:", 1)[1].split()
    for name in ("build", "check", "diff", "profile", "run", "targets", "verify"):
        assert name in commands
    assert warnings_in(result.stderr) == []


def test_verify_help(cli):
    result = cli("verify", "--help", process=True)
    assert result.returncode == 0, result
    assert result.stdout.startswith("Usage: ebnn-sim verify [OPTIONS] ELF")
    for option in ("--model", "--dataset", "--data-dir", "--split", "--limit", "--jobs",
                   "--target", "--json"):
        assert option in result.stdout


def test_verify_usage_errors_come_from_click(cli, tmp_path):
    result = cli("verify", tmp_path / "fw.elf")  # no --model
    assert result.returncode == 2
    assert "Missing option '--model'" in result.stderr


def test_verify_bad_model_is_one_error_line(cli, firmware, tmp_path):
    model = tmp_path / "m.ebnn"
    model.write_text("not a model")
    result = cli("verify", firmware("hello.c"), "--model", model)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    [line] = [line for line in result.stderr.splitlines() if line.strip()]
    assert line.startswith(f"error: {model}")


def test_layer_groups():
    assert layer_of("ebnn_layer0") == ("ebnn_layer0", 0)
    assert layer_of("ebnn_layer12") == ("ebnn_layer12", 12)
    assert layer_of(OUTPUT_LAYER) == (OUTPUT_LAYER, None)
    for other in ("main", "ebnn_infer", "ebnn_layer", "ebnn_layerX", "my_ebnn_layer1"):
        assert layer_of(other) is None


def test_layer_groups_only_for_ebnn_firmware(firmware):
    assert layer_groups(firmware.image("hello.c")) is None


def test_profile_lists_the_layers_the_plugin_names(cli, tmp_path):
    src = tmp_path / "layered.c"
    src.write_text(LAYERED_C)
    elf = tmp_path / "layered.elf"
    assert cli("build", src, "-o", elf).returncode == 0
    assert layer_groups(sim.load_elf(elf)) is layer_of
    out = tmp_path / "p.json"
    result = cli("profile", elf, "--json", out, json=False)
    assert result.returncode == 0, result
    assert "layers (inclusive)" in result.stdout
    doc = json.loads(out.read_text())
    assert [(layer["name"], layer["index"]) for layer in doc["layers"]] == [
        ("ebnn_layer0", 0), ("ebnn_layer1", 1), ("ebnn_layer2", 2), (OUTPUT_LAYER, None)]
    cycles = [layer["cycles"] for layer in doc["layers"]]
    assert cycles[0] < cycles[1] < cycles[2]  # 10, 20, 30 iterations
    assert all(layer["calls"] == 1 for layer in doc["layers"])


def test_a_group_of_several_functions_is_one_layer(cli, tmp_path):
    from sim.profile import Profiler
    src = tmp_path / "layered.c"
    src.write_text(LAYERED_C)
    elf = tmp_path / "layered.elf"
    assert cli("build", src, "-o", elf).returncode == 0
    groups = {"ebnn_layer1": ("middle", 1), "ebnn_layer2": ("middle", 2),  # siblings
              "ebnn_infer": ("outer", 0), "ebnn_layer0": ("outer", 0)}  # one inside the other
    profile = Profiler(sim.Simulator(sim.load_elf(elf), sim.RunOptions()),
                       groups=groups.get).run()
    by_name = {f.name: f.inclusive for f in profile.functions}
    assert [(layer.name, layer.index, layer.calls) for layer in profile.layers] == [
        ("outer", 0, 1), ("middle", 1, 2)]
    outer, middle = profile.layers
    assert outer.inclusive == by_name["ebnn_infer"]  # not added to ebnn_layer0's again
    assert middle.inclusive.cycles == (by_name["ebnn_layer1"].cycles
                                       + by_name["ebnn_layer2"].cycles)


# --- plugins that go wrong ---------------------------------------------------------------------


def test_a_plugin_that_fails_to_load_costs_one_warning_line(cli, firmware, tmp_path):
    env = {"PYTHONPATH": str(fake_distribution(tmp_path / "site", "no_such_module_xyz:plugin"))}
    top = cli("--help", process=True, env=env)
    assert top.returncode == 0
    assert "verify" in top.stdout and "run" in top.stdout  # the other plugins and commands
    assert top.stderr.splitlines() == [
        "warning: plugin 'broken' (no_such_module_xyz:plugin) not loaded: "
        "ModuleNotFoundError: No module named 'no_such_module_xyz'"]

    verify = cli("verify", "--help", process=True, env=env)
    assert verify.returncode == 0 and "--model" in verify.stdout
    assert len(warnings_in(verify.stderr)) == 1

    elf = firmware("hello.c")
    run = cli("run", elf, process=True, env=env)
    assert (run.returncode, run.stdout) == (0, "hello, world\n")
    assert warnings_in(run.stderr) == []  # run needs no plugin: none is loaded

    profile = cli("profile", elf, process=True, env=env, json=False)
    assert profile.returncode == 0 and "functions" in profile.stdout
    assert len(warnings_in(profile.stderr)) == 1
    assert "Traceback" not in top.stderr + verify.stderr + profile.stderr


def test_a_plugin_that_raises_on_import(cli, tmp_path):
    site = fake_distribution(tmp_path / "site", "exploding:plugin")
    (site / "exploding.py").write_text("raise RuntimeError('boom\\nsecond line')\n")
    result = cli("--help", process=True, env={"PYTHONPATH": str(site)})
    assert result.returncode == 0 and "verify" in result.stdout
    assert result.stderr.splitlines() == [
        "warning: plugin 'broken' (exploding:plugin) not loaded: RuntimeError: boom second line"]


def test_a_command_name_taken_by_a_built_in_is_not_replaced(cli, firmware, tmp_path):
    site = fake_distribution(tmp_path / "site", "shadow:plugin")
    (site / "shadow.py").write_text(
        "import click\nfrom sim.plugins import Plugin\n"
        "@click.command('run')\ndef run():\n    print('shadowed')\n"
        "plugin = Plugin(commands=[run])\n")
    result = cli("--help", process=True, env={"PYTHONPATH": str(site)})
    assert result.stderr.splitlines() == [
        "warning: plugin 'broken': command 'run' exists; not added"]
    run = cli("run", firmware("hello.c"), process=True, env={"PYTHONPATH": str(site)})
    assert run.stdout == "hello, world\n"


class _EntryPoint:
    """Stands in for importlib.metadata.EntryPoint."""

    def __init__(self, obj: object, value: str = "pkg:plugin") -> None:
        self.obj, self.value = obj, value

    def load(self) -> object:
        return self.obj


@pytest.mark.parametrize(("obj", "message"), [
    (Plugin(commands=[print]), "holds <built-in function print>, not a named click command"),
    (Plugin(commands=click.command("x")(lambda: None)), "must be a sequence of click commands"),
    (Plugin(function_groups=3), "function_groups is not callable"),
])
def test_objects_that_are_not_plugins(obj, message):
    with pytest.raises(PluginError, match=re.escape(message)):
        plugins.load(_EntryPoint(obj))


def test_any_object_with_the_attributes_is_a_plugin():
    class Mine:
        commands = (click.command("hello")(lambda: None),)

    plugin = plugins.load(_EntryPoint(Mine()))
    assert [c.name for c in plugin.commands] == ["hello"]
    assert plugin.function_groups is None


def test_function_groups_of_several_plugins(firmware):
    image = firmware.image("hello.c")
    warned: list[str] = []

    def first(image):
        return lambda f: ("A", 1) if f.startswith("a") else None

    def second(image):
        return lambda f: ("B", 2) if f.startswith(("a", "b")) else None

    def broken(image):
        raise KeyError("symbols")

    found = {"none": Plugin(), "first": Plugin(function_groups=first),
             "broken": Plugin(function_groups=broken), "second": Plugin(function_groups=second),
             "other": Plugin(function_groups=lambda image: None)}
    groups = plugins.function_groups(found, image, warned.append)
    assert groups is not None
    assert [groups(f) for f in ("alpha", "beta", "main")] == [("A", 1), ("B", 2), None]
    assert warned == ["plugin 'broken': function groups failed: KeyError: 'symbols'"]
    assert plugins.function_groups({"none": Plugin()}, image, warned.append) is None


def test_function_groups_that_go_wrong_are_left_out_whole(firmware):
    image = firmware.image("hello.c")
    warned: list[str] = []

    def part_way(image):  # answers for some functions, then raises
        return lambda f: ("A", 1) if f.startswith("a") else {}["boom"] if f == "boom" else None

    found = {"p": Plugin(function_groups=part_way),
             "dict": Plugin(function_groups=lambda image: {"main": ("M", 0)}),
             "str": Plugin(function_groups=lambda image: lambda f: "M" if f == "main" else None)}
    groups = plugins.function_groups(found, image, warned.append)
    assert groups is not None
    assert groups("alpha") == ("A", 1) and groups("main") is None and groups("boom") is None
    assert groups("alpha") is None  # the failed plugin answers nothing more
    assert warned == [
        "plugin 'dict': function groups failed: function_groups returned a dict, not a function",
        "plugin 'str': function groups failed: 'main' -> 'M' is not (group name, index or "
        "None); groups left out",
        "plugin 'p': function groups failed: KeyError: 'boom'; groups left out"]


def test_the_cli_loads_plugins_once(monkeypatch):
    group = sim.cli.PluginGroup(name="t")
    calls = []

    def load_all(warn):
        calls.append(warn)
        return {"ebnn": Plugin(commands=[verify_cmd])}

    monkeypatch.setattr(plugins, "load_all", load_all)
    ctx = click.Context(group)
    assert group.list_commands(ctx) == ["verify"]
    assert group.get_command(ctx, "verify") is verify_cmd
    assert group.get_command(ctx, "nope") is None
    assert len(calls) == 1

