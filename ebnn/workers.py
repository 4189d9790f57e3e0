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
from concurrent.futures import ProcessPoolExecutor
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


def stop_pool(pool: ProcessPoolExecutor) -> None:
    """End ``pool`` now: its workers are killed, not waited for (a batch cut short runs again,
    or not at all), then it is shut down. concurrent.futures' pool, not multiprocessing.Pool,
    in ``ebnn search`` and ``verify -j``: a worker killed while idle (SIGTERM to the process
    group) could hold Pool's task-queue lock, and Pool.terminate() waited for it for ever.

    A worker killed while it sent a result larger than a pipe holds (a trial's model files, a
    chunk's scores) leaves the pool's manager thread reading the rest for ever: this process
    holds the pipe's write end too, so no end of file comes, and shutdown waited on that
    thread. Once the workers are dead that end is closed here, so the read ends."""
    processes = list((pool._processes or {}).values())
    for process in processes:
        if process.exitcode is None:
            process.kill()
    for process in processes:
        process.join()
    results = getattr(pool, "_result_queue", None)
    writer = getattr(results, "_writer", None)
    if writer is not None:
        writer.close()
    pool.shutdown(wait=True, cancel_futures=True)


# How long a wait for workers lasts before it is made again: a signal that another thread
# took runs its Python handler only when the main thread wakes.
WAKE_SECONDS = 1.0
