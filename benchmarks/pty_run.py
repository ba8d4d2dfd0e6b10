"""Run a command in a real pseudo-terminal, as a user's terminal would, and time it.

The parent drains the terminal all the time, so the child never blocks on
output; it can also wait for text to appear on the screen and type keys.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import struct
import termios
import time
from dataclasses import dataclass

SIZE = (140, 40)
"""Columns and rows of the terminal."""


class PtyError(RuntimeError):
    """The child did not do what was expected in time; the message says what."""


@dataclass(frozen=True)
class Finished:
    wall_s: float
    """From spawn to exit."""
    status: int
    output: bytes

    def succeeded(self, what: str) -> Finished:
        """``self``, or :class:`PtyError` with the end of the screen when the exit status is not 0."""
        if self.status != 0:
            raise PtyError(f"{what} exited with {self.status}; the screen ended with {self.output[-600:]!r}")
        return self


def terminal_env(**extra: str) -> dict[str, str]:
    """This environment as a user's terminal has it: no Textual dev settings, and byte-code caches
    written (as an installed package has them; ``PYTHONDONTWRITEBYTECODE`` would recompile every start)."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("TEXTUAL") and key != "PYTHONDONTWRITEBYTECODE"}
    env.update(TERM="xterm-256color", COLORTERM="truecolor", **extra)
    return env


class PtySession:
    """One child process on its own terminal of :data:`SIZE`."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        master, slave = pty.openpty()
        columns, rows = SIZE
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self._started = time.perf_counter()
        pid = os.fork()
        if pid == 0:  # the child: make the slave its controlling terminal and become the command
            try:
                os.close(master)
                os.login_tty(slave)
                os.execve(argv[0], argv, env)
            finally:
                os._exit(127)
        os.close(slave)
        self._pid = pid
        self._fd = master
        self._output = bytearray()
        self._seen = 0
        self._eof = False
        self.argv = argv

    def _read(self, timeout: float) -> None:
        ready, _, _ = select.select([self._fd], [], [], timeout)
        if not ready:
            return
        try:
            chunk = os.read(self._fd, 65536)
        except OSError:  # EIO: every copy of the slave is closed, the child is gone
            chunk = b""
        if chunk:
            self._output += chunk
        else:
            self._eof = True

    @property
    def drawn(self) -> int:
        """How many bytes were drawn so far: a mark for :meth:`shown_since`."""
        return len(self._output)

    def shown_since(self, text: bytes, mark: int) -> bool:
        return self._output.find(text, mark) >= 0

    def expect(self, text: bytes, timeout: float) -> None:
        """Wait until ``text`` appears in the output after the previous match."""
        deadline = time.perf_counter() + timeout
        while (found := self._output.find(text, self._seen)) < 0:
            remaining = deadline - time.perf_counter()
            if self._eof or remaining <= 0:
                self.kill()
                raise PtyError(f"{text!r} never appeared on the screen of {self.argv}; {self._tail()}")
            self._read(remaining)
        self._seen = found + len(text)

    def settle(self, quiet: float = 0.3, timeout: float = 10.0) -> None:
        """Drain until nothing was drawn for ``quiet`` seconds; all output so far counts as seen."""
        deadline = time.perf_counter() + timeout
        while not self._eof:
            if time.perf_counter() > deadline:
                self.kill()
                raise PtyError(f"the screen of {self.argv} never went quiet; {self._tail()}")
            drawn = len(self._output)
            self._read(quiet)
            if len(self._output) == drawn:
                break
        self._seen = len(self._output)

    def peak_rss_mb(self) -> float:
        """The child's peak resident set size so far (``VmHWM``).

        Not ``wait4``'s ``ru_maxrss``: a child forked from this process starts
        that count at this process's own size, and it survives ``exec``.
        """
        with open(f"/proc/{self._pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        raise PtyError(f"no VmHWM for {self.argv}")

    def send(self, keys: bytes) -> None:
        os.write(self._fd, keys)

    def finish(self, timeout: float = 60.0) -> Finished:
        """Drain until the child has closed the terminal, then reap it."""
        deadline = time.perf_counter() + timeout
        while not self._eof:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                self.kill()
                raise PtyError(f"{self.argv} did not exit within {timeout:g} s; {self._tail()}")
            self._read(remaining)
        _, status = os.waitpid(self._pid, 0)
        wall = time.perf_counter() - self._started
        os.close(self._fd)
        return Finished(wall, os.waitstatus_to_exitcode(status), bytes(self._output))

    def _tail(self) -> str:
        return f"the screen ended with {bytes(self._output[-600:])!r}"

    def kill(self) -> None:
        try:
            os.kill(self._pid, signal.SIGKILL)
            os.waitpid(self._pid, 0)
        except ChildProcessError:
            pass
        os.close(self._fd)


def run(argv: list[str], env: dict[str, str], timeout: float = 60.0) -> Finished:
    """Run ``argv`` to its end on a fresh terminal."""
    return PtySession(argv, env).finish(timeout)
