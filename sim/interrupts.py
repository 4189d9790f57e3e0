"""Ctrl-C for long runs: SIGINT, and SIGTERM (what `timeout`, a CI job's cancellation and
`docker stop` send), stop the emulator at the next block boundary, and the command still
writes its (partial) report.

While the emulator runs, the main thread is inside Unicorn's C code and Python cannot run a
signal handler until it returns, which a spinning firmware never does. So the C-level handler
Python installs writes the signal number to a pipe (``signal.set_wakeup_fd``), a watcher
thread reading that pipe calls the given ``stop`` (``Simulator.interrupt``: a flag and
``uc_emu_stop``, which is safe from another thread), and the run returns with the status
``interrupted``.
"""

import contextlib
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, Iterator

_QUIT = b"\x00"  # written by the main thread to end the watcher


@contextlib.contextmanager
def stop_on_sigint(stop: Callable[[], None]) -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM call ``stop()`` instead of raising
    KeyboardInterrupt or ending the process. Only in the main thread (where signals are
    delivered) of a process that is not a multiprocessing worker; elsewhere it changes
    nothing."""
    if (threading.current_thread() is not threading.main_thread()
            or multiprocessing.parent_process() is not None):
        # a worker process (verify -j): the command's own process decides what a signal ends
        yield
        return
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)

    def watch() -> None:
        while True:
            data = os.read(read_fd, 64)
            if not data or _QUIT in data:
                return
            if bytes([signal.SIGINT]) in data or bytes([signal.SIGTERM]) in data:
                stop()

    watcher = threading.Thread(target=watch, name="sigint-watcher", daemon=True)
    previous = signal.signal(signal.SIGINT, lambda signum, frame: None)
    previous_term = signal.signal(signal.SIGTERM, lambda signum, frame: None)
    old_fd = signal.set_wakeup_fd(write_fd)
    watcher.start()
    try:
        yield
    finally:
        signal.set_wakeup_fd(old_fd)
        signal.signal(signal.SIGINT, previous)
        signal.signal(signal.SIGTERM, previous_term)
        os.write(write_fd, _QUIT)
        watcher.join()
        os.close(read_fd)
        os.close(write_fd)
