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
