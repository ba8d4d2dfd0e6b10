"""Peak memory of the real ``agentdesk`` command with the demo store open, vs a bare Textual app.

The session types into a real terminal what an agent would: ``/`` and the
e-mail address of the customer with the most entries, Enter (the search opens
its first hit), ``end`` unless the newest entry is in view already, ``home``,
``end``, ``ctrl+q``. After each key the screen must show the expected rows *with
data* (the text of the oldest or the newest entry), and before the next key it
must have gone quiet.
The peak resident set size is the child's ``VmHWM``, read just before ``ctrl+q``.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from agentdesk.domain.text import one_line
from benchmarks import cold_start, pty_run
from benchmarks.stats import Result, Target, alternate
from benchmarks.workspace import Workspace

HOME, END, ENTER, CTRL_Q = b"\x1b[H", b"\x1b[F", b"\r", b"\x11"
TIMELINE_TITLE = "Timeline · ".encode()
READY_TIMEOUT = 30.0
"""Seconds the screen may take to show what a step waits for."""


@dataclass(frozen=True)
class Biggest:
    search: str
    """What to type into the search to find the customer (their e-mail, else their name)."""
    first: bytes
    """Screen text of their oldest entry's body."""
    last: bytes
    """Screen text of their newest entry's body."""


def _screen_text(body: str) -> bytes:
    """The longest plain-ASCII run near the start of the body as the timeline draws it (up to 12 characters).

    Plain ASCII reaches the terminal byte for byte; the start of the body is in view at any width.
    """
    runs = re.findall(r"[ -~]+", one_line(body)[:30])
    text = max(runs, key=len, default="").strip()[:12]
    if len(text) < 4:
        raise ValueError(f"no plain text to wait for at the start of {body[:40]!r}")
    return text.encode()


def biggest_customer(store: Path) -> Biggest:
    con = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    try:
        (customer_id,) = con.execute(
            "SELECT customer_id FROM timeline_entry GROUP BY customer_id ORDER BY count(*) DESC LIMIT 1"
        ).fetchone()
        name, email = con.execute("SELECT name, email FROM customer WHERE id = ?", (customer_id,)).fetchone()
        body = ("SELECT body FROM timeline_entry WHERE customer_id = ? "
                "ORDER BY at_us {0}, id {0} LIMIT 1")
        (first,) = con.execute(body.format("ASC"), (customer_id,)).fetchone()
        (last,) = con.execute(body.format("DESC"), (customer_id,)).fetchone()
    finally:
        con.close()
    return Biggest(email or name, _screen_text(first), _screen_text(last))


def session(store: Path, customer: Biggest) -> float:
    """Open the customer, jump to the start and back to the end, quit; the child's peak memory in MB."""
    agent = pty_run.PtySession(cold_start.agentdesk_command(store), pty_run.terminal_env())
    agent.expect(b" waiting", READY_TIMEOUT)  # the queue's title, drawn with its rows
    agent.settle()
    agent.send(b"/")
    agent.settle()
    opened = agent.drawn
    agent.send(customer.search.encode() + ENTER)
    agent.expect(TIMELINE_TITLE, READY_TIMEOUT)  # the customer screen knows how many entries there are
    agent.settle()
    if not agent.shown_since(customer.last, opened):  # the newest entry is not in view yet
        agent.send(END)
        agent.expect(customer.last, READY_TIMEOUT)
        agent.settle()
    agent.send(HOME)
    agent.expect(customer.first, READY_TIMEOUT)
    agent.settle()
    agent.send(END)
    agent.expect(customer.last, READY_TIMEOUT)
    agent.settle()
    return _peak_then_quit(agent, "agentdesk")


def bare_session() -> float:
    """The bare app, painted and idle, like the workstation above before it quits."""
    bare = pty_run.PtySession(cold_start.bare_command("--stay"), pty_run.terminal_env())
    bare.expect(b"bare Textual app", READY_TIMEOUT)
    bare.settle()
    return _peak_then_quit(bare, "bare app")


def _peak_then_quit(child: pty_run.PtySession, what: str) -> float:
    peak = child.peak_rss_mb()
    child.send(CTRL_Q)
    child.finish().succeeded(what)
    return peak


def bench(workspace: Workspace) -> list[Result]:
    store = workspace.demo_store()
    customer = biggest_customer(store)

    samples, bare = alternate(lambda: session(store, customer), bare_session, workspace.repeat("peak_rss"))
    return [Result("peak_rss", "MB", samples, bare, Target.at_most(150, "MB"))]
