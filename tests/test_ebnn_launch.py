"""``python -m ebnn.launch`` and ``python -m sim.launch``, the console scripts' modules, run
``ebnn`` and ``ebnn-sim`` as the scripts do."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def launch(*args: str, module: str = "ebnn.launch") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", module, *args], capture_output=True,
                          text=True, env=env, cwd=ROOT, timeout=300)


def test_python_m_ebnn_launch_runs_the_cli() -> None:
    ran = launch("search", "--bogus")  # printed nothing and exited 0
    assert ran.returncode == 2 and "No such option '--bogus'" in ran.stderr, ran.stderr
    helped = launch("--help")
    assert helped.returncode == 0 and "search" in helped.stdout, helped.stderr


def test_python_m_sim_launch_runs_the_cli() -> None:
    ran = launch("run", "--bogus", module="sim.launch")  # printed nothing and exited 0
    assert ran.returncode == 2 and "No such option '--bogus'" in ran.stderr, ran.stderr
    helped = launch("--help", module="sim.launch")
    assert helped.returncode == 0 and "verify" in helped.stdout, helped.stderr
