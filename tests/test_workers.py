"""Worker pools leave Ctrl-C to their parent: no "Process ...PoolWorker-N:" traceback beside
the parent's one-line message, even for a signal that arrives while a worker is being born."""

import multiprocessing
import signal

from ebnn.workers import ignore_sigint, sigint_blocked


def _sigint_state() -> tuple[bool, bool]:
    """(SIGINT ignored, SIGINT blocked) in this process."""
    blocked = signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, [])
    return signal.getsignal(signal.SIGINT) == signal.SIG_IGN, blocked


def _report(queue) -> None:
    queue.put(_sigint_state())


def test_pool_workers_ignore_sigint_and_the_parent_gets_it_back():
    ctx = multiprocessing.get_context("forkserver")
    with sigint_blocked():
        pool = ctx.Pool(1, initializer=ignore_sigint)
    with pool:
        assert pool.apply(_sigint_state) == (True, False)
    assert _sigint_state() == (False, False)


def test_a_process_started_in_the_window_is_born_with_sigint_blocked():
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    with sigint_blocked():
        proc = ctx.Process(target=_report, args=(queue,))
        proc.start()
    # blocked from its first instruction: a Ctrl-C before its initializer cannot reach it
    assert queue.get(timeout=120) == (False, True)
    proc.join(60)


def _square(x: int) -> int:
    return x * x


def test_a_pool_stops_when_a_worker_died_halfway_through_sending_its_result():
    """A worker killed (SIGTERM to the process group) while it wrote a result larger than a
    pipe holds: the pool's manager thread waited for the rest for ever, this process holding
    the pipe's write end too, and stop_pool's shutdown waited on that thread (the search's
    SIGTERM test hung once under load). Here the half-written result is written by hand."""
    import os
    import struct
    import threading
    from concurrent.futures import ProcessPoolExecutor

    from ebnn.workers import stop_pool

    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"))
    assert pool.submit(_square, 3).result(timeout=120) == 9  # the manager thread is running
    hung = pool.submit(_square, 4)  # the worker's answer, or not: the header says 1 MB more
    writer = pool._result_queue._writer  # type: ignore[attr-defined]
    os.write(writer.fileno(), struct.pack("!i", 1 << 20) + b"\x80")
    stopper = threading.Thread(target=stop_pool, args=(pool,), daemon=True)
    stopper.start()
    stopper.join(60)
    assert not stopper.is_alive(), "stop_pool waited for the rest of a half-sent result"
    assert hung.done()
