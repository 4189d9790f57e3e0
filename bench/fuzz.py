"""``python -m bench.fuzz [--runs N] [--time S] [TARGET ...]``: the fuzzing campaign (`make fuzz`).

Every entry point that reads an untrusted file (``bench/fuzz_targets.py``: the ELF loader, the
DWARF source map, the model artifact, the model config, the budgets file, diff's report reader,
``--input`` PNG and ``.npy``) is fuzzed by Atheris, a coverage-guided libFuzzer for Python, in its
own process, starting from the seeds the project makes or ships. libFuzzer's limits turn each
failure mode into a finding:

- an exception other than the loader's documented one-line error: ``crash``;
- one input running longer than ``--input-timeout`` seconds (default 10): ``hang``;
- the process growing past ``--rss-mb`` (default 1024 MiB): ``oom``.

A target stops at its first finding (the input is kept in the output folder as
``crash-*``/``timeout-*``/``oom-*``); otherwise it runs ``--runs`` inputs or ``--time`` seconds,
whichever comes first. The counts go to ``bench/results/fuzz.json`` and the results page.
Exit status 0 when no target had a finding, 1 otherwise, 2 when Atheris is not installed.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import common
from bench.fuzz_targets import TARGETS, seeds

DEFAULT_RUNS = 100_000
DEFAULT_TIME = 1800  # seconds per target, an upper bound on the campaign's length

_DONE = re.compile(r"Done (\d+) runs in (\d+) second")
_STATUS = re.compile(r"#(\d+)\s+\w+\s+cov: (\d+)")
_FINDINGS = (
    ("hang", re.compile(r"ERROR: libFuzzer: timeout")),
    ("oom", re.compile(r"ERROR: libFuzzer: out-of-memory")),
    ("crash", re.compile(r"Uncaught Python exception"
                         r"|ERROR: libFuzzer: (deadly signal|fuzz target exited)")),
)
_ARTIFACT = re.compile(r"Test unit written to (\S+)")
_EXCEPTION = re.compile(r"^(\w+(?:\.\w+)*(?:Error|Exception|Exit|Interrupt)\b.*)$", re.M)


def parse_log(log: str) -> dict[str, Any]:
    """libFuzzer's stderr → runs, coverage, the finding (if any) and its saved input."""
    runs = seconds = cov = None
    if m := _DONE.search(log):
        runs, seconds = int(m.group(1)), int(m.group(2))
    statuses = _STATUS.findall(log)
    if statuses:
        cov = int(statuses[-1][1])
        if runs is None:
            runs = int(statuses[-1][0])
    finding = next((kind for kind, pattern in _FINDINGS if pattern.search(log)), None)
    art = _ARTIFACT.search(log)
    exc = _EXCEPTION.findall(log) if finding == "crash" else []
    return {
        "runs": runs or 0,
        "seconds": seconds,
        "coverage": cov,
        "finding": finding,
        "input": art.group(1) if art else None,
        "exception": exc[-1][:300] if exc else None,
    }


def fuzz_target(name: str, runs: int, max_time: int, input_timeout: int, rss_mb: int,
                findings: Path) -> dict[str, Any]:
    """Run one target to ``runs`` inputs, ``max_time`` seconds or its first finding."""
    with tempfile.TemporaryDirectory(prefix=f"ebnn-fuzz-{name}-") as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        for i, seed in enumerate(seeds(name, Path(tmp))):
            (corpus / f"seed-{i}").write_bytes(seed)
        findings.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, "-m", "bench.fuzz_worker", name, str(corpus),
               f"-runs={runs}", f"-max_total_time={max_time}", f"-timeout={input_timeout}",
               f"-rss_limit_mb={rss_mb}", f"-artifact_prefix={findings}/{name}-",
               "-print_final_stats=1"]
        env = {**os.environ, "PYTHONPATH": str(common.REPO)}
        start = time.monotonic()
        proc = subprocess.run(cmd, cwd=common.REPO, env=env, stdin=subprocess.DEVNULL,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                              errors="replace", check=False)
        wall = time.monotonic() - start
    result = parse_log(proc.stderr)
    result.update(target=name, what=TARGETS[name].what, exit=proc.returncode,
                  wall_seconds=round(wall, 1))
    if result["finding"] is None and proc.returncode != 0:
        result["finding"] = "error"  # the worker itself failed: keep its last lines
        result["exception"] = "\n".join(proc.stderr.strip().splitlines()[-5:])[:600]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fuzz", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("targets", nargs="*", metavar="TARGET",
                        help=f"targets to fuzz (default: all of {', '.join(TARGETS)})")
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS,
                        help=f"inputs per target (default {DEFAULT_RUNS:,})")
    parser.add_argument("--time", type=int, default=DEFAULT_TIME,
                        help=f"seconds per target at most (default {DEFAULT_TIME})")
    parser.add_argument("--input-timeout", type=int, default=10,
                        help="seconds one input may take before it counts as a hang (default 10)")
    parser.add_argument("--rss-mb", type=int, default=1024,
                        help="memory limit of a fuzzing process in MiB (default 1024)")
    parser.add_argument("--out", type=Path, default=common.RESULTS,
                        help="folder for fuzz.json (default bench/results/)")
    args = parser.parse_args(argv)
    unknown = [t for t in args.targets if t not in TARGETS]
    if unknown:
        parser.error(f"unknown target {unknown[0]!r}; choose from {', '.join(TARGETS)}")
    if args.runs < 1 or args.time < 1 or args.input_timeout < 1 or args.rss_mb < 64:
        parser.error("--runs, --time and --input-timeout must be ≥ 1, --rss-mb ≥ 64")
    try:
        import atheris  # noqa: F401
    except ImportError:
        print("python -m bench.fuzz: Atheris is not installed (pip install '.[fuzz]')",
              file=sys.stderr)
        return 2

    names = args.targets or list(TARGETS)
    findings = args.out / "fuzz-findings"
    results = []
    for name in names:
        print(f"fuzzing {name}: up to {args.runs:,} inputs or {args.time} s …", flush=True)
        res = fuzz_target(name, args.runs, args.time, args.input_timeout, args.rss_mb, findings)
        results.append(res)
        tail = f", {res['finding']}: {res['input'] or ''} {res['exception'] or ''}".rstrip() \
            if res["finding"] else ""
        print(f"  {res['runs']:,} inputs in {res['wall_seconds']} s, coverage "
              f"{res['coverage']}{tail}", flush=True)
    data = {**common.result_header("fuzz", quick=False),
            "command": "python -m bench.fuzz "
                       + " ".join(argv if argv is not None else sys.argv[1:]),
            "findings": common.rel(findings) or str(findings),
            "limits": {"runs": args.runs, "seconds_per_target": args.time,
                       "input_timeout": args.input_timeout, "rss_mb": args.rss_mb},
            "targets": results}
    data["runs"] = [{"command": data["command"], "date": data["date"], "targets": names}]
    previous = common.read_json(args.out / "fuzz.json")
    if previous and args.targets:  # a partial campaign updates its targets, keeps the others
        kept = [t for t in previous.get("targets", []) if t.get("target") not in names]
        data["targets"] = kept + results
        data["runs"] = [*previous.get("runs", []), *data["runs"]]
    common.write_json(args.out / "fuzz.json", data)
    bad = [r["target"] for r in results if r["finding"]]
    print(f"{len(results) - len(bad)} of {len(results)} targets without findings"
          + (f"; findings in {', '.join(bad)} (inputs in {findings})" if bad else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
