"""Ctrl-C for long runs: SIGINT, and SIGTERM (what `timeout`, a CI job's cancellation and
`docker stop` send), stop the emulator at the next block boundary, and the command still
writes its (partial) report.

While the emulator runs, the main thread is inside Unicorn's C code and Python cannot run a
signal handler until it returns, which a spinning firmware never does. So the C-level handler
Python installs writes the signal number to a pipe (``signal.set_wakeup_fd``), a watcher
thread reading that pipe calls the given ``stop`` (``Simulator.interrupt``: a flag and
``uc_emu_stop``, which is safe from another thread), and the run returns with the status
``interrupted``.

A signal that stops no run (it came after the run ended, or the block runs none) is not lost:
when the block ends it is raised again, for the handler that was there before (Python's
KeyboardInterrupt for SIGINT, a command's own handler for SIGTERM, or the default action). A
search's probe ran its firmware inside this block while a SIGTERM to the process group killed
the workers; the signal was swallowed and the search stopped as if a worker had died (exit 1).
"""

import contextlib
import multiprocessing
import os
import signal
import threading
from collections.abc import Iterator
from types import FrameType
from typing import Protocol

_QUIT = b"\x00"  # written by the main thread to end the watcher
_AGAIN_SECONDS = 0.05  # a signal that came inside a finalizer is sent again this much later


def _in_finalizer(frame: FrameType | None) -> bool:
    """Whether ``frame`` runs in a finalizer (a ``weakref.finalize`` callback, a ``__del__``),
    where an exception is printed and dropped: the garbage collector runs them anywhere, e.g.
    Unicorn's engine release while a plot is drawn."""
    while frame is not None:
        code = frame.f_code
        if code.co_name == "__del__" or (code.co_name == "__call__"
                                         and code.co_filename.endswith("weakref.py")):
            return True
        frame = frame.f_back
    return False


def raise_interrupt(signum: int, frame: FrameType | None) -> None:
    """The handler of SIGINT and SIGTERM in a command: KeyboardInterrupt, or the signal again
    soon when it came inside a finalizer."""
    if _in_finalizer(frame):  # raised here it would be lost: the same signal once it is done
        threading.Timer(_AGAIN_SECONDS, os.kill, (os.getpid(), signum)).start()
        return
    raise KeyboardInterrupt


@contextlib.contextmanager
def signals_interrupt() -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM (a job's time limit, ``kill``, ``timeout``) raise
    KeyboardInterrupt in the main thread, so a command stops as on Ctrl-C wherever it is (SIGTERM
    killed it outright, with no report), and one that comes while a finalizer runs is not lost.
    Elsewhere than in the main thread it changes nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, raise_interrupt)
    previous_term = signal.signal(signal.SIGTERM, raise_interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        signal.signal(signal.SIGTERM, previous_term)


class Interruptible(Protocol):
    """What the block stops: ``sim.runner.Simulator``."""

    interrupted_runs: int  # runs that ended with the status "interrupted"

    def interrupt(self) -> None: ...

    def cancel_interrupt(self) -> None:
        """Forget an interrupt() that stopped no run (its next run is not stopped by it)."""


@contextlib.contextmanager
def stop_on_sigint(sim: Interruptible) -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM call ``sim.interrupt()`` instead of raising
    KeyboardInterrupt or ending the process; one that stopped no run of ``sim`` is raised
    again when the block ends. Only in the main thread (where signals are delivered) of a
    process that is not a multiprocessing worker; elsewhere it changes nothing."""
    if (threading.current_thread() is not threading.main_thread()
            or multiprocessing.parent_process() is not None):
        # a worker process (verify -j): the command's own process decides what a signal ends
        yield
        return
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)
    received: list[int] = []  # the signals, in the order they came
    runs = sim.interrupted_runs

    def watch() -> None:
        while True:
            data = os.read(read_fd, 64)
            for signum in (signal.SIGINT, signal.SIGTERM):
                if bytes([signum]) in data:
                    received.append(signum)
                    sim.interrupt()
            if not data or _QUIT in data:
                return

    watcher = threading.Thread(target=watch, name="sigint-watcher", daemon=True)
    previous = signal.signal(signal.SIGINT, lambda signum, frame: None)
    previous_term = signal.signal(signal.SIGTERM, lambda signum, frame: None)
    old_fd = signal.set_wakeup_fd(write_fd)
    watcher.start()
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)  # then the wakeup fd: none is lost between
        signal.signal(signal.SIGTERM, previous_term)
        signal.set_wakeup_fd(old_fd)
        os.write(write_fd, _QUIT)
        watcher.join()  # it has read every signal that came before the handlers went back
        os.close(read_fd)
        os.close(write_fd)
        if received and sim.interrupted_runs == runs:  # it stopped no run: not swallowed
            sim.cancel_interrupt()
            signal.raise_signal(received[0])
