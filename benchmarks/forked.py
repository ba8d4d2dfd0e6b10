"""``agentdesk serve`` processes forked from one that has already imported the backend.

A new interpreter spends about a second of CPU importing SQLAlchemy, FastAPI and uvicorn
before it serves anything; the test suite starts well over a hundred backends, so those
imports were a fifth of its CPU. multiprocessing's fork server imports them once per
process that asks (:data:`PRELOAD`) and forks a child per start: each child is a real process of
its own (own PID, own signals, killable, restartable) that runs the command line's
``main(["serve", …])`` with the environment given, writing to the files given.

:class:`Forked` answers the part of :class:`subprocess.Popen` that :class:`benchmarks.backend.Server`
uses, so the two are interchangeable.
"""

from __future__ import annotations

import multiprocessing
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

PRELOAD = ["agentdesk.cli", "agentdesk.cli.commands", "agentdesk.cli.serve", "agentdesk.server.app",
           "agentdesk.server.migrate", "uvicorn", "aiosqlite", "asyncpg"]

_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(PRELOAD)


def _agentdesk(argv: list[str], env: dict[str, str], stdout: str, stderr: str) -> None:
    """The child: the given environment and output files, then the command line's own entry point."""
    os.environ.clear()
    os.environ.update(env)
    for fd, path in ((1, stdout), (2, stderr)):
        opened = os.open(path, os.O_WRONLY | os.O_APPEND)
        os.dup2(opened, fd)
        os.close(opened)
    sys.stdout = open(1, "w", encoding="utf-8", buffering=1, closefd=False)  # noqa: SIM115 - the process's own
    sys.stderr = open(2, "w", encoding="utf-8", buffering=1, closefd=False)  # noqa: SIM115
    sys.argv = ["agentdesk", *argv]
    from agentdesk.cli import main

    raise SystemExit(main(argv))


class Forked:
    """One forked ``agentdesk`` process, answering like a :class:`subprocess.Popen`."""

    def __init__(self, argv: Sequence[str], env: Mapping[str, str], stdout: Path, stderr: Path) -> None:
        self._process = _context.Process(target=_agentdesk, args=(list(argv), dict(env), str(stdout), str(stderr)),
                                         name="agentdesk", daemon=False)
        self._process.start()
        self.args = list(argv)

    @property
    def pid(self) -> int:
        assert self._process.pid is not None
        return self._process.pid

    @property
    def returncode(self) -> int | None:
        """The exit status; ``-N`` when signal N ended it (as Popen says it)."""
        return self._process.exitcode

    def poll(self) -> int | None:
        return self._process.exitcode

    def send_signal(self, signal: int) -> None:
        if self._process.exitcode is None:
            os.kill(self.pid, signal)

    def kill(self) -> None:
        self._process.kill()

    def wait(self, timeout: float | None = None) -> int:
        self._process.join(timeout)
        if self._process.exitcode is None:
            raise subprocess.TimeoutExpired(self.args, timeout or 0)
        return self._process.exitcode
