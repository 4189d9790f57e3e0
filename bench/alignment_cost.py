"""``python -m bench.alignment_cost``: what the v7-M alignment checks cost (docs/simulator.md).

Three designs, rotated within every repeat so that each sees the same load: checks off
(``RunOptions(check_alignment=False)``), a code hook on every checked instruction (the previous
design, emulated by turning every block-entry check back into a per-instruction one) and the
current checks at block entry. Median CPU time of ``Simulator.run`` (set-up apart) on Embench
wikisort for the M4 (8-byte structs copied with ``LDM``/``STM``/``LDRD`` in its inner loops;
needs ``../shared/thirdparty/embench-iot``) and on ``bench/programs/popcount_loop.c`` (no
checked instruction on its path); and ``verify``'s images per CPU second on the mnist example,
set-up included. Prints one line per measurement; asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import resource
import statistics
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sim.runner as runner
from bench import common
from sim import Simulator, load_elf
from sim.runner import RunOptions

MODES = ("off", "per-instruction", "block entry")
_CURRENT = runner.alignment_checks


def _per_instruction(*args: Any, **kwargs: Any) -> Any:
    return [dataclasses.replace(c, at_entry=False, reg=-1, transfers=())
            for c in _CURRENT(*args, **kwargs)]


@contextmanager
def design(mode: str) -> Iterator[bool]:
    """Install ``mode``'s checks; yields whether checks are on."""
    runner.alignment_checks = _per_instruction if mode == "per-instruction" else _CURRENT
    try:
        yield mode != "off"
    finally:
        runner.alignment_checks = _CURRENT


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _rotated(repeats: int) -> Iterator[str]:
    for r in range(repeats):
        yield from MODES[r % 3:] + MODES[:r % 3]


def run_cost(name: str, elf: Path, repeats: int, say: Callable[[str], None]) -> None:
    cpu: dict[str, list[float]] = {m: [] for m in MODES}
    counts = set()
    for mode in _rotated(repeats):
        with design(mode) as on:
            s = Simulator(load_elf(elf), RunOptions(check_alignment=on))
            c0 = _cpu()
            report = s.run()
            cpu[mode].append(_cpu() - c0)
        assert report.status == "ok", (name, mode, report.status, report.problem)
        counts.add(report.instructions)
    assert len(counts) == 1, counts  # the checks never change what runs
    off = statistics.median(cpu["off"])
    say(f"{name}: {counts.pop():,} instructions, {repeats} repeats; run CPU with checks off "
        f"{off:.3f} s; per-instruction hooks "
        f"{statistics.median(cpu['per-instruction']) / off:.2f}x; block entry "
        f"{statistics.median(cpu['block entry']) / off:.2f}x")


def verify_cost(n_images: int, repeats: int, say: Callable[[str], None]) -> None:
    import ebnn.verify as ev
    from ebnn.artifact import load

    path = common.EXAMPLES / "mnist" / "mnist.ebnn"
    art = load(path)
    data = common.test_data(art)
    elf = common.build_elf(path, common.TARGET, "mnist")
    images, labels = data.images[:n_images], data.labels[:n_images]
    plain = ev.RunOptions
    cpu: dict[str, list[float]] = {m: [] for m in MODES}
    try:
        for mode in _rotated(repeats):
            with design(mode) as on:
                ev.RunOptions = functools.partial(plain, check_alignment=on)  # type: ignore
                c0 = _cpu()
                result = ev.verify(art, elf, images, labels, jobs=1)
                cpu[mode].append(_cpu() - c0)
            assert result.mismatches == 0
    finally:
        ev.RunOptions = plain  # type: ignore
    rates = {m: n_images / statistics.median(cpu[m]) for m in MODES}
    say(f"verify mnist on curie, {n_images} images, {repeats} repeats, set-up included: "
        + "; ".join(f"checks {m} {rates[m]:,.0f} images/s CPU" for m in MODES))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.alignment_cost",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=9, help="rotations (default 9)")
    parser.add_argument("--images", type=int, default=2000, help="verify images (default 2000)")
    args = parser.parse_args(argv)
    say = common.console().print
    from bench import embench, sim_speed

    with tempfile.TemporaryDirectory() as tmp:
        root = embench.embench_root()
        if root is None:
            say(embench.missing_line())
        else:
            built = embench.build_benchmark(root, "wikisort", embench.variant("nrf52832"),
                                            build_dir=Path(tmp))
            assert built.elf is not None, built.error
            run_cost("Embench wikisort on nrf52832", built.elf, args.repeats, say)
        pop = sim_speed.build_firmware(300_000, Path(tmp) / "popcount_loop.elf")
        run_cost("popcount_loop.c (300,000 iterations) on curie", pop, args.repeats, say)
    verify_cost(args.images, max(3, args.repeats // 2), say)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
