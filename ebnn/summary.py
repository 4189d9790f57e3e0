"""``ebnn summary``: per layer the shape, weight bits, operations, and the flash, SRAM and stack of
the generated firmware, measured.

The static columns come from the artifact (a config is first made into an untrained artifact;
the first layer's straight-line code depends on the weights, so the firmware figures of a
config are an untrained model's, a few percent from a trained one's, either way). The memory
and cycle columns are not estimated from the C: the firmware is built for the target exactly
as ``ebnn build`` builds it and run once on its embedded sample in the simulator, and

- flash per layer: the size of the layer's function (``ebnn_layer<N>``, ``ebnn_output_layer``,
  the profiler's layer groups of the ebnn plugin) and of the functions named for it and their
  GCC clones (``_layer_of_function``), plus the const arrays named for it
  (``l<N>_*``, ``out_*``: the code generator's convention, ``ebnn/layers/base.py``), from the
  ELF's symbol table;
- SRAM buffers: every object the ELF places in SRAM (.data/.bss), with its size;
- cycles and instructions per layer: the profiler's inclusive counts of the layer's group;
- stack per layer: the lowest SP seen at the start of any block while the layer runs,
  measured from SP at the entry of ``ebnn_infer``; the whole run's stack peak is the
  simulator's exact figure.
"""

from __future__ import annotations

import math
import re
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from elftools.elf.elffile import ELFFile
from elftools.elf.sections import SymbolTableSection

from ebnn.artifact import Artifact, Layer
from ebnn.layers.conv import Conv, conv_size
from toolchain.memory_map import SRAM_BASE

INFER = "ebnn_infer"
STREAM_ROW = "ebnn_stream_row"  # a streaming build's entry, once per row (step)


@dataclass
class LayerRow:
    index: int
    kind: str  # conv, linear, output
    label: str  # conv16 3x3 pool2 ...
    in_shape: list[int]
    out_shape: list[int]
    weight_bits: int
    binary_macs: int  # XNOR-popcount multiply-accumulates of +-1 values
    int8_macs: int  # multiply-accumulates of 8-bit inputs with +-1 weights (first layer)
    output_bytes: int  # the layer's output as packed bits (word-aligned) or int32 scores
    flash_code: int | None = None
    flash_const: int | None = None
    instructions: int | None = None
    cycles: int | None = None
    stack: int | None = None


@dataclass
class Summary:
    name: str
    input_shape: list[int]
    input_format: str
    classes: int
    layers: list[LayerRow]
    target: str | None = None
    stream: bool = False  # the streaming firmware (`ebnn build --stream`) was measured
    flash_total: int | None = None
    sram_static: int | None = None
    stack_peak: int | None = None
    sram_peak: int | None = None
    buffers: dict[str, int] = field(default_factory=dict)  # SRAM object -> bytes
    instructions: int | None = None
    cycles: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _conv_positions(layer: Layer) -> int:
    hc, wc = conv_size(layer.in_shape[0], layer.in_shape[1], layer.kernel, layer.stride,
                       layer.padding)
    return hc * wc


def static_rows(art: Artifact) -> list[LayerRow]:
    from ebnn.artifact import layer_kind

    rows = []
    for i, layer in enumerate(art.layers):
        k = layer_kind(layer, f"layer {i}")
        units = layer.weights.shape[0]
        positions = _conv_positions(layer) if isinstance(k, Conv) else 1
        macs = positions * units * layer.fan_in
        bits = math.prod(layer.out_shape)
        out_bytes = 4 * bits if k.is_output else 4 * -(-bits // 32)
        rows.append(LayerRow(i, layer.kind, k.summary(layer), list(layer.in_shape),
                             list(layer.out_shape), int(layer.weights.size),
                             0 if layer.first else macs, macs if layer.first else 0,
                             out_bytes))
    return rows


def input_format(art: Artifact) -> str:
    shape = "x".join(map(str, art.input_dims()))
    if art.sequence:
        shape = f"sequence {shape} (T x C)"
    if art.input_quant is None:
        return f"uint8 {shape}"
    return f"uint8 {shape}, quantised from float32 (per-channel scale and zero point)"


def _symbols(elf: Path) -> list[tuple[str, int, int, str]]:
    """(name, address, size, type) of every sized function and object."""
    out = []
    with elf.open("rb") as fh:
        for sec in ELFFile(fh).iter_sections():
            if isinstance(sec, SymbolTableSection):
                for sym in sec.iter_symbols():
                    kind = sym["st_info"]["type"]
                    if kind in ("STT_FUNC", "STT_OBJECT") and sym["st_size"] > 0 and sym.name:
                        out.append((sym.name, sym["st_value"] & ~1, sym["st_size"], kind))
    return out


def _layer_of_function(name: str, functions: list[str]) -> int | None:
    """The layer whose code ``name`` is: its function (``ebnn_layer<N>``,
    ``ebnn_output_layer``), the functions named for it (``ebnn_layer<N>_rows``) and the clones
    GCC makes of them (``ebnn_layer1_rows.constprop.0``, ``.isra``, ``.part``), which hold
    most of a hidden conv layer's code."""
    for i, function in enumerate(functions):
        if name == function or name.startswith((function + "_", function + ".")):
            return i
    return None


def _layer_of_const(name: str, hidden: int) -> int | None:
    m = re.match(r"l(\d+)_", name)
    if m and int(m.group(1)) < hidden:
        return int(m.group(1))
    return hidden if name.startswith("out_") else None


def summarise(art: Artifact, target: str | None = "curie", stream: bool = False) -> Summary:
    """The summary of ``art``; with a target, built and measured on it (needs the cross
    toolchain: ToolchainError otherwise); with ``stream``, its streaming firmware."""
    s = Summary(art.name, list(art.input_shape), input_format(art), art.classes,
                static_rows(art))
    if target is None:
        return s
    with tempfile.TemporaryDirectory(prefix="ebnn-summary-") as tmp:
        _measure(art, s, Path(tmp) / "model.elf", target, stream)
    return s


def _layer_index(name: str, functions: list[str], hidden: int) -> int | None:
    """The layer (0.., the output layer ``hidden``) whose code the function ``name`` is, in a
    whole-input or a streaming build (``ebnn.sim_plugin.layer_of``'s groups)."""
    from ebnn.sim_plugin import layer_of

    i = _layer_of_function(name, functions)
    if i is not None:
        return i
    group = layer_of(name)
    if group is None:
        return None
    return hidden if group[1] is None else group[1]


def _measure(art: Artifact, s: Summary, elf: Path, target: str, stream: bool = False) -> None:
    from ebnn.build import build_firmware
    from ebnn.codegen import layer_function, output_function
    from ebnn.sim_plugin import layer_groups
    from sim import Simulator, load_elf
    from sim.profile import Profiler
    from sim.runner import RunOptions

    build_firmware(art, elf, target, stream=stream)
    image = load_elf(elf)
    s.target, s.stream = target, stream
    hidden = len(art.hidden)
    functions = [layer_function(i) for i in range(hidden)] + [output_function()]
    symbols = _symbols(elf)
    code = {name: _layer_index(name, functions, hidden)
            for name, _, _, kind in symbols if kind == "STT_FUNC"}
    for i, row in enumerate(s.layers):
        row.flash_code = sum(size for name, _, size, kind in symbols
                             if kind == "STT_FUNC" and code[name] == i)
        row.flash_const = sum(size for name, addr, size, kind in symbols
                              if kind == "STT_OBJECT" and addr < SRAM_BASE
                              and _layer_of_const(name, hidden) == i)
    s.buffers = {name: size for name, addr, size, kind in sorted(symbols, key=lambda t: t[1])
                 if kind == "STT_OBJECT" and addr >= SRAM_BASE}
    s.flash_total = image.flash_used
    s.sram_static = image.static_ram

    sim = Simulator(image, RunOptions(target=target))
    profiler = Profiler(sim, groups=layer_groups(image))
    current: list[int | None] = [None]
    base: list[int] = []
    lowest = [0] * len(functions)

    def enter(i: int) -> Any:
        def hook() -> None:
            current[0] = i
        return hook

    def at_infer() -> None:
        base[:] = [sim.read_register("sp")]  # a stream enters once per step
        current[0] = None

    # stack from SP at the call into the library: ebnn_infer, or each step's ebnn_stream_row
    sim.on_entry(image.symbols[STREAM_ROW if stream else INFER], at_infer)
    for name, layer in code.items():
        if layer is not None and name in image.symbols:
            sim.on_entry(image.symbols[name], enter(layer))

    def block(address: int, size: int) -> None:
        i = current[0]
        if i is not None and base:
            lowest[i] = max(lowest[i], base[-1] - sim.read_register("sp"))

    sim.on_block(block)
    profile = profiler.run()
    report = profile.report
    if report.status != "ok":
        raise RuntimeError(f"the firmware did not run: {report.status}: {report.problem}")
    by_index = {lp.index: lp for lp in profile.layers}
    for i, row in enumerate(s.layers):
        lp = by_index.get(i if i < hidden else None)
        if lp is not None:
            row.instructions, row.cycles = lp.inclusive.instructions, lp.inclusive.cycles
        row.stack = lowest[i]
    s.stack_peak = report.stack_peak
    s.sram_peak = s.sram_static + report.stack_peak
    s.instructions = report.instructions
    s.cycles = report.cycles
