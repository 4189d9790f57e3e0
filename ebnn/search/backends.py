"""Where candidates run: in this process (one job), a local process pool, or Ray tasks.

A backend runs one batch of tasks (``run(task, data)`` each: a candidate's whole life by default,
or one fold of a cross-validation) and hands each outcome to ``done`` as soon as it arrives, in
the driver's process (which records it at once). The images go to every worker once per
search: as the pool's initializer arguments, or as one object in Ray's object store. Workers
ignore Ctrl-C; the driver ends them on an interrupt (their trials stay unfinished in the study
and run again on ``--resume``).
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol

from ebnn.search.datasets import SearchData
from ebnn.search.measure import run_task
from ebnn.workers import WAKE_SECONDS, ignore_sigint, sigint_blocked, stop_pool

Done = Callable[[Any], None]
Work = Callable[[Any, SearchData], Any]  # a picklable module-level function


class BackendError(Exception):
    """The backend cannot start; ``str()`` is one line for the user."""


class WorkerLost(Exception):
    """A worker died while it ran a task (killed, out of memory, a Ray node lost): the batch
    cannot finish; ``str()`` is one line for the user. The tasks in flight stay unfinished
    (``--resume`` runs them again)."""


class Backend(Protocol):
    name: str
    jobs: int

    def run_batch(self, tasks: Sequence[Any], done: Done, run: Work = run_task) -> None: ...

    def close(self) -> None: ...


class InProcess:
    """One job: the candidates run one after another in this process."""

    name = "local"
    jobs = 1

    def __init__(self, data: SearchData) -> None:
        self._data = data

    def run_batch(self, tasks: Sequence[Any], done: Done, run: Work = run_task) -> None:
        for task in tasks:
            done(run(task, self._data))

    def close(self) -> None:
        pass


_worker_data: SearchData | None = None


def _init_worker(data: SearchData) -> None:
    global _worker_data
    ignore_sigint()  # the driver decides what an interrupt ends
    _worker_data = data
    parent = os.getppid()

    def orphaned() -> None:  # the driver died (killed, crashed): stop, do not train on
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=orphaned, daemon=True).start()


def _pool_task(run: Work, task: Any) -> Any:
    assert _worker_data is not None  # set by the pool's initializer
    return run(task, _worker_data)


class LocalPool:
    """``jobs`` worker processes on this machine (spawned: no state shared with the driver),
    in concurrent.futures' pool: a worker that dies breaks the batch at once (WorkerLost);
    why not multiprocessing.Pool: :func:`ebnn.workers.stop_pool`."""

    name = "local"

    def __init__(self, data: SearchData, jobs: int) -> None:
        self.jobs = jobs
        self._pool = ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("spawn"),
                                         initializer=_init_worker, initargs=(data,))

    def run_batch(self, tasks: Sequence[Any], done: Done, run: Work = run_task) -> None:
        try:
            try:
                # the workers start on these submits, SIGINT blocked: none sees a Ctrl-C while
                # it imports
                with sigint_blocked():
                    pending = {self._pool.submit(_pool_task, run, t) for t in tasks}
            except BrokenProcessPool:  # a worker died idle, between batches
                raise WorkerLost("a worker process died (killed, or out of memory?)") from None
            while pending:
                finished, pending = wait(pending, timeout=WAKE_SECONDS,
                                         return_when=FIRST_COMPLETED)
                lost = False
                for f in finished:  # what finished is recorded first
                    if isinstance(f.exception(), BrokenProcessPool):
                        lost = True
                    else:
                        done(f.result())
                if lost:
                    raise WorkerLost("a worker process died while it trained (killed, or out "
                                     "of memory?)")
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        # an interrupted batch's candidates run again on --resume; a finished one's workers
        # are idle
        stop_pool(self._pool)


class RayTasks:
    """Each candidate is a Ray task of one CPU. ``address`` (or ``RAY_ADDRESS``) names a
    cluster; without either, a local Ray with ``jobs`` CPUs is started and stopped again."""

    name = "ray"

    def __init__(self, data: SearchData, jobs: int, address: str | None) -> None:
        try:
            import ray
        except ImportError:
            raise BackendError("--backend ray needs the ray package: pip install "
                               "'ebnn-sim[ml]'") from None
        self._ray = ray
        self._started = False
        if not ray.is_initialized():
            cluster = address or os.environ.get("RAY_ADDRESS")
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                      "configure_logging": False}
            if cluster is None:
                kwargs["num_cpus"] = jobs
            else:
                _reachable(cluster)
            try:
                ray.init(address=cluster, **kwargs)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                where = cluster or "a local Ray"
                raise BackendError(f"cannot start or reach {where}: "
                                   f"{str(exc).splitlines()[0] if str(exc) else exc}") from None
            self._started = True
        self.jobs = jobs
        self._data = ray.put(data)
        self._remote: dict[Work, Any] = {}

    def run_batch(self, tasks: Sequence[Any], done: Done, run: Work = run_task) -> None:
        ray = self._ray
        remote = self._remote.get(run)
        if remote is None:
            remote = self._remote[run] = ray.remote(num_cpus=1, max_retries=0)(run)
        pending = [remote.remote(t, self._data) for t in tasks]
        try:
            while pending:
                ready, pending = ray.wait(pending, num_returns=1, timeout=0.5)
                for ref in ready:
                    try:
                        result = ray.get(ref)
                    except ray.exceptions.RayError as exc:  # a task raises nothing itself
                        first = str(exc).strip().splitlines()
                        raise WorkerLost(f"a Ray task was lost ({type(exc).__name__}"
                                         + (f": {first[0][:120]}" if first else "") + ")"
                                         ) from None
                    done(result)
        except BaseException:
            for ref in pending:
                ray.cancel(ref, force=True)
            raise

    def close(self) -> None:
        if self._started:
            self._ray.shutdown()


def _reachable(address: str, seconds: float = 10.0) -> None:
    """BackendError unless a HOST:PORT (or ray://HOST:PORT) address accepts a connection:
    ray.init retries an unreachable cluster for ever, deaf to Ctrl-C and SIGTERM. Other forms
    ("auto", a local socket) are left to Ray."""
    import re
    import socket

    m = re.fullmatch(r"(?:ray://)?\[?([^\[\]/]+?)\]?:(\d{1,5})", address.strip())
    if m is None:
        return
    try:
        socket.create_connection((m.group(1), int(m.group(2))), timeout=seconds).close()
    except (OSError, ValueError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or \
            type(exc).__name__
        raise BackendError(f"cannot start or reach {address}: nothing answers there "
                           f"({why})") from None


def make_backend(name: str, data: SearchData, jobs: int, address: str | None) -> Backend:
    if name == "ray":
        return RayTasks(data, jobs, address)
    if address is not None:
        raise BackendError("--address is for --backend ray")
    return InProcess(data) if jobs == 1 else LocalPool(data, jobs)
