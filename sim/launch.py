"""The console scripts' entry point: a Ctrl-C or SIGTERM that comes while a command's modules
are still being imported (numpy, click, rich: the first tenth of a second or so) ends with
"interrupted" and exit 130, as one later does, not with a traceback or a bare kill."""

import importlib
import signal
import sys

from sim.interrupts import raise_interrupt


def launch(module: str) -> None:
    """Import ``module`` and run its click ``main``; an interrupt during the import ends here."""
    signal.signal(signal.SIGTERM, raise_interrupt)  # the commands install their own for the run
    try:
        main = importlib.import_module(module).main
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    main()


def ebnn_sim() -> None:
    launch("sim.cli")


if __name__ == "__main__":
    ebnn_sim()
