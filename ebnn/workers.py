"""Worker processes that leave Ctrl-C to their parent (``ebnn-sim verify -j``, the search's
local pool).

A terminal sends SIGINT to the whole process group. A worker that takes it raises
KeyboardInterrupt wherever it is, and multiprocessing prints "Process ...PoolWorker-N:" and a
traceback beside the parent's one-line message. Workers therefore ignore SIGINT; and because a
worker could take the signal between its birth and its initializer, SIGINT is blocked in the
parent while the pool (and a fork server started for it) is created: the block is inherited
through fork and exec, and the initializer lifts it after ignoring the signal. A Ctrl-C pressed
meanwhile reaches the parent when the block ends.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def sigint_blocked() -> Iterator[None]:
    """SIGINT blocked in this thread (and the processes it starts) for the block's duration."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def ignore_sigint() -> None:
    """In a worker's initializer: interrupts are the parent's to handle."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
