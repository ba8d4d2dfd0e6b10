"""``agentdesk serve --workers N``: N backend processes sharing one listening socket, and their supervisor.

The socket is bound once, before the fork, so the kernel hands each new connection to
one of the processes. Every process is a whole backend (its own connection pool, live
stream, delivery worker and connectors); what they share is the database, which already
keeps several backend processes consistent (locks, the change counter, LISTEN/NOTIFY).
Written here rather than with uvicorn's own ``--workers`` because that needs an
importable app and re-imports everything per process; forking after the start-up
checks keeps the one-line errors and one start-up cost.

The supervisor passes SIGTERM/SIGINT on and waits for every process to finish its
graceful stop; a process that dies otherwise is replaced, and said so on stderr.
"""

from __future__ import annotations

import os
import select
import signal
import sys
import time
from collections.abc import Callable

MAX_WORKERS = 64
STEADY_SECONDS = 10.0
"""A process that ends sooner after its start is not started again (a database gone, say): the backend stops,
rather than starting processes that end at once, over and over."""


def supervise(count: int, worker: Callable[[Callable[[], None]], int], announce: Callable[[], None]) -> int:
    """Run ``worker`` in ``count`` forked processes until SIGTERM/SIGINT; ``announce`` once all have started.

    ``worker(started)`` serves and returns its exit status; it calls ``started()`` once it takes requests.
    Returns 1 when a process could not start, or did not stop cleanly; else 0.
    """
    ready, tell_ready = os.pipe()
    running: dict[int, float] = {}
    """Each process, and when it was started."""
    stopping = False

    def start() -> None:
        pid = os.fork()
        if pid == 0:
            for stop_signal in (signal.SIGTERM, signal.SIGINT):  # the supervisor's, not this process's
                signal.signal(stop_signal, signal.SIG_DFL)
            os.close(ready)
            status = 1
            try:
                status = worker(lambda: _tell(tell_ready))
            finally:
                os._exit(status)
        running[pid] = time.monotonic()

    def stop(signum: int, _frame: object = None) -> None:
        nonlocal stopping
        stopping = True
        for pid in running:
            try:
                os.kill(pid, signum)
            except ProcessLookupError:
                pass

    for stop_signal in (signal.SIGTERM, signal.SIGINT):
        signal.signal(stop_signal, stop)
    for _ in range(count):
        start()
    failed = False
    told = 0
    while told < count and not stopping:
        pid, _status = os.waitpid(-1, os.WNOHANG)
        if pid:  # one could not start (it has said why): no half a backend
            del running[pid]
            failed = True
            stop(signal.SIGTERM)
            break
        readable, _, _ = select.select([ready], [], [], 0.1)
        if readable:
            told += len(os.read(ready, count))
    if told == count and not stopping:
        announce()
    while running:
        pid, status = os.wait()
        code = os.waitstatus_to_exitcode(status)
        lived = time.monotonic() - running.pop(pid)
        if stopping:
            failed = failed or code != 0
        elif lived < STEADY_SECONDS:
            print(f"agentdesk: backend process {pid} ended ({_ended(code)}) {lived:.0f} s after it started; "
                  "stopping the others", file=sys.stderr, flush=True)
            failed = True
            stop(signal.SIGTERM)
        else:
            print(f"agentdesk: backend process {pid} ended ({_ended(code)}); starting another", file=sys.stderr,
                  flush=True)
            start()
    os.close(ready)
    os.close(tell_ready)
    return 1 if failed else 0


def _tell(fd: int) -> None:
    os.write(fd, b".")


def _ended(code: int) -> str:
    return f"signal {-code}" if code < 0 else f"exit status {code}"
