"""``python -m bench [all|sim|models|cores|throughput|embench|freertos|search|report] [--quick]``:
the benchmarks.

  all         everything below, then the results page (the default; what `make bench` runs)
  sim         ebnn-sim run vs bare Unicorn on a CPU-bound loop: wall-time ratio, exact counts
  models      accuracy vs peak SRAM vs latency of every example model on curie; verify
              (--only NAME,...: just these, updating their entries in models.json)
  cores       every example model on every target profile (M0+, M3, M4F, M7, M33)
  throughput  bare Unicorn vs run vs profile vs verify on the eBNN firmware
  embench     third-party firmware: Embench-IoT (../shared/thirdparty) on every target, M4
              cycle estimate vs Embench's measured STM32F407 (bench/embench.py; skipped with
              one line when the folder is missing)
  freertos    FreeRTOS (../shared/thirdparty) on curie, nrf52832, stm32l031: console against
              QEMU, exceptions, sleep share, task stack peaks, cost per exception
              (bench/freertos.py)
  search      `ebnn search` on curie under 1, 2 and 15 KiB of SRAM (MNIST) and 2 KiB (digits),
              against the hand-made models (bench/search.py; NOT part of all: many hours;
              docs/results.md gives the total)
  report      only render docs/results.md, the plots and headline.md from the JSON results

Every benchmark writes its JSON to bench/results/ and then renders docs/results.md, the PNG
plots in docs/img/ and bench/results/headline.md from all the JSON there, so a part can be
re-measured alone. ``--quick`` is a CI-sized smoke run (small image counts, the quick sim
benchmark): its JSON, page, plots and headline go to bench/results/quick/ and the real results
are left alone; it asserts nothing about timings.

Exit status 0 when every benchmark met its checks (bit-exact verification, exact counts,
the speed targets of a full run), 1 otherwise.
"""

import argparse
import sys
import time
from pathlib import Path

from bench import common

PARTS = ("sim", "models", "cores", "throughput", "embench", "freertos")


def _common(parser: argparse.ArgumentParser, suppress: bool) -> None:
    """Options accepted both before and after the subcommand."""
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument("--quick", action="store_true",
                        default=default if suppress else False,
                        help="CI-sized smoke run: small image counts and the quick sim "
                             "benchmark; results go to bench/results/quick/")
    parser.add_argument("--out", type=Path, default=default,
                        help="directory for the JSON results (default: bench/results/, "
                             "--quick: bench/results/quick/)")
    parser.add_argument("--repeats", type=int, default=default,
                        help="runs of each timed command; medians are reported (default: "
                             "sim 5, throughput 7, embench 5; --quick: sim 3, throughput 1, "
                             "embench 1)")
    parser.add_argument("--examples", type=Path, default=default,
                        help="folder of example models (default: examples/)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    _common(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="BENCHMARK")
    subs = {
        "all": "every benchmark, then the results page (default)",
        "sim": "ebnn-sim run vs bare Unicorn: wall-time ratio, exact counts, torch never "
               "imported",
        "models": "accuracy vs peak SRAM vs latency on curie; firmware verified bit for bit",
        "cores": "every model on every target profile: instructions, cycles, ms, memory",
        "throughput": "bare Unicorn vs run vs profile vs verify on the eBNN firmware",
        "embench": "Embench-IoT on every target: verification, counts, QEMU, M4 cycles vs "
                   "hardware",
        "freertos": "FreeRTOS demo on three ports vs QEMU; exceptions, sleep, task stacks",
        "search": "ebnn search: MNIST under 1, 2 (also taught by a 15 KiB model) and 15 KiB, "
                  "digits under 2 KiB; not in all",
        "report": "render docs/results.md, plots and headline.md from the JSON results",
    }
    parsers = {}
    for name, help_text in subs.items():
        parsers[name] = p = sub.add_parser(name, help=help_text)
        _common(p, suppress=True)
    for name in ("all", "sim"):
        p = parsers[name]
        p.add_argument("--iterations", type=int, default=None,
                       help="sim: firmware loop count (default 10,000,000; --quick 80,000)")
        p.add_argument("--no-qemu", action="store_true",
                       help="sim, embench: skip the QEMU instruction-count cross-checks")
        p.add_argument("--qemu-trace", action="store_true",
                       help="sim: also count the benchmark build with QEMU's single-step trace "
                            "(slow: about a minute per 50 M instructions; meant for --quick)")
    parsers["models"].add_argument(
        "--only", metavar="NAME[,NAME]",
        help="re-measure only these examples and update their entries in models.json (the "
             "others keep theirs; the page says which were measured when)")
    parsers["search"].add_argument(
        "--only", metavar="NAME[,NAME]",
        help="run or re-render only these searches (the names in bench/search.py SEARCHES: "
             "mnist-1k, mnist-2k, mnist-2k-start, mnist-15k, mnist-15k-cold, digits-2k, ...)")
    parsers["embench"].add_argument("--no-qemu", action="store_true",
                                    help="skip QEMU's instruction counts of the Embench builds")
    parsers["freertos"].add_argument("--no-qemu", action="store_true",
                                     help="skip the QEMU runs of the FreeRTOS demo")
    args = parser.parse_args(argv)
    command = args.command or "all"
    quick = args.quick
    out = args.out or (common.QUICK_RESULTS if quick else common.RESULTS)
    if args.repeats is not None and args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if args.examples is not None:
        common.EXAMPLES = args.examples.resolve()

    parts = PARTS if command == "all" else () if command == "report" else (command,)
    con = common.console()
    status = 0
    seconds: dict[str, float] = {}
    t_all = time.perf_counter()
    for part in parts:
        t0 = time.perf_counter()
        con.rule(f"[bold]{part}[/]")
        if part == "sim":
            from bench import sim_speed

            status |= sim_speed.main(
                quick=quick, out=out,
                repeats=args.repeats or (3 if quick else 5),
                iterations=getattr(args, "iterations", None),
                use_qemu=not getattr(args, "no_qemu", False),
                trace_main=getattr(args, "qemu_trace", False),
            )
        elif part == "models":
            from bench import models

            only = getattr(args, "only", None)
            status |= models.main(quick=quick, out=out,
                                  only=only.split(",") if only else None)
        elif part == "cores":
            from bench import cores

            status |= cores.main(quick=quick, out=out)
        elif part == "throughput":
            from bench import throughput

            status |= throughput.main(quick=quick, out=out, repeats=args.repeats)
        elif part == "embench":
            from bench import embench

            status |= embench.main(quick=quick, out=out,
                                   use_qemu=not getattr(args, "no_qemu", False),
                                   repeats=args.repeats)
        elif part == "search":
            from bench import search

            only = getattr(args, "only", None)
            status |= search.main(quick=quick, out=out, only=only.split(",") if only else None)
        elif part == "freertos":
            from bench import freertos

            status |= freertos.main(quick=quick, out=out, repeats=args.repeats,
                                    use_qemu=not getattr(args, "no_qemu", False))
        seconds[part] = time.perf_counter() - t0
        con.print(f"[dim]{part}: {seconds[part]:.0f} s[/]")

    from bench import report

    page = report.main(quick=quick, out=out, run_seconds=seconds if command == "all" else None,
                       total_seconds=time.perf_counter() - t_all if command == "all" else None)
    con.print(f"wrote {common.rel(page)} (and plots, {common.rel(out / 'headline.md')}); "
              f"{time.perf_counter() - t_all:.0f} s in all; exit status {status}")
    return status


if __name__ == "__main__":
    sys.exit(main())
