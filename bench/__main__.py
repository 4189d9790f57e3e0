"""``python -m bench [--quick] [--out DIR] [sim]``: run the benchmarks (all when none is named).

Exit status 0 when every benchmark met its target, 1 otherwise.
"""

import argparse
import sys
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def _common(parser: argparse.ArgumentParser, suppress: bool) -> None:
    """Options accepted both before and after the subcommand."""
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument("--quick", action="store_true",
                        default=default if suppress else False,
                        help="CI-sized smoke run (~50 M instructions instead of ~6.4 G)")
    parser.add_argument("--out", type=Path, default=default if suppress else RESULTS,
                        help="directory for the JSON results (default: bench/results/)")
    parser.add_argument("--repeats", type=int, default=default,
                        help="runs of each command; medians are reported (default: 5, "
                             "--quick 3)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    _common(parser, suppress=False)
    sub = parser.add_subparsers(dest="command", metavar="BENCHMARK")
    sim = sub.add_parser("sim", help="ebnn-sim run vs bare Unicorn: wall-time ratio, exact "
                                     "counts, torch never imported")
    _common(sim, suppress=True)
    sim.add_argument("--iterations", type=int, default=None,
                     help="firmware loop count (default 10,000,000; --quick 80,000)")
    sim.add_argument("--no-qemu", action="store_true",
                     help="skip the QEMU instruction-count cross-checks")
    sim.add_argument("--qemu-trace", action="store_true",
                     help="also count the benchmark build with QEMU's single-step trace "
                          "(slow: about a minute per 50 M instructions; meant for --quick)")
    args = parser.parse_args(argv)
    if args.repeats is None:
        args.repeats = 3 if args.quick else 5
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")

    from bench import sim_speed

    status = 0
    if args.command in (None, "sim"):
        status |= sim_speed.main(
            quick=args.quick, out=args.out, repeats=args.repeats,
            iterations=getattr(args, "iterations", None),
            use_qemu=not getattr(args, "no_qemu", False),
            trace_main=getattr(args, "qemu_trace", False),
        )
    return status


if __name__ == "__main__":
    sys.exit(main())
