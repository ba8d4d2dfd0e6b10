"""``agentdesk --plain``: the line-oriented session, driven through stdin as a user (or a screen reader) drives it.

Real processes on real stores, no mocks: each test writes a script of commands to
``agentdesk --plain``'s stdin and reads what it says.
"""

from __future__ import annotations

import os
import pty
import re
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime.now(timezone.utc).replace(microsecond=0)
TIMEOUT = 15
"""Seconds per session; the machine has two slow cores."""

HOSTILE_NAME = "Mallory \x1b[31mO'Hostile\u202e [bold]Boss[/]"
HOSTILE_BODY = ("\x1b[2J\x1b[31mred\x1b[0m \x9b31mcsi [bold]not bold[/bold] [link=http://x]click[/link] "
                "\u202eevil\u202c zero\u200bwidth\nsecond line")
PROMPTS = ("queue> ", "approvals> ", "Petra Lindner> ", "Ole Brandt> ")
CHANNELS = ("email", "phone", "chat", "sms", "social", "letter", "shop", "app", "portal")


def at(**ago: float) -> str:
    return (NOW - timedelta(**ago)).isoformat()


def records(*, bulk: int = 0, callback: bool = False, long: bool = False) -> list[dict]:
    """Petra (40 entries, 120.00 EUR disputed), Ole (39.90 disputed), a hostile customer, and ``bulk`` more.

    The queue's fair order: Petra (waiting 3 h 30), Ole (1 h), Mallory (30 min), then the bulk (5 min).
    """
    rows: list[dict] = [
        {"type": "agent", "id": "a-7", "name": "Jonas Weber", "role": "agent",
         "email": "jonas.weber@example.com", "phone": "+49 911 555 0107"},
        {"type": "agent", "id": "a-9", "name": "Mira Scholz", "role": "lead"},
        {"type": "agent", "id": "a-3", "name": "Sabine Roth", "role": "supervisor"},
        {"type": "customer", "id": "c-1", "name": "Petra Lindner", "email": "p.lindner@example.net",
         "phone": "+49 170 555 0199", "preferred_channel": "email", "language": "de",
         "timezone": "Europe/Berlin", "location": "Nürnberg, DE", "owner": "a-7"},
        {"type": "case", "id": "k-1", "customer": "c-1", "subject": "Technician fee for our own fault",
         "status": "open", "opened_at": at(days=2), "disputed_amount": "120.00", "currency": "EUR"},
        {"type": "customer", "id": "c-2", "name": "Ole Brandt", "email": "ole@example.org",
         "phone": "+49 40 555 0123", "preferred_channel": "phone", "timezone": "Europe/Berlin",
         "location": "Hamburg, DE", "owner": "a-9"},
        {"type": "case", "id": "k-2", "customer": "c-2", "subject": "Double charge", "status": "open",
         "opened_at": at(days=1), "disputed_amount": "39.90", "currency": "EUR"},
        {"type": "interaction", "id": "i-2", "customer": "c-2", "case": "k-2", "channel": "phone",
         "direction": "in", "at": at(hours=1), "author": "Ole Brandt", "body": "Line is dead."},
        {"type": "customer", "id": "c-666", "name": HOSTILE_NAME, "email": "mallory@example.com",
         "timezone": "Europe/Berlin", "location": "[link=http://x]Nowhere[/link]", "owner": "a-7"},
        {"type": "interaction", "id": "h-1", "customer": "c-666", "channel": "chat", "direction": "in",
         "at": at(minutes=30), "author": "[i]Mallory[/i]\x1b[0m", "body": HOSTILE_BODY},
    ]
    start = NOW - timedelta(hours=10)
    for n in range(40):
        inbound = n % 2 == 1 or n == 39
        rows.append({"type": "interaction", "id": f"i-1-{n:02d}", "customer": "c-1", "case": "k-1",
                     "channel": CHANNELS[n % len(CHANNELS)], "direction": "in" if inbound else "out",
                     "at": (start + timedelta(minutes=10 * n)).isoformat(),
                     "author": "Petra Lindner" if inbound else "a-7", "body": f"entry number {n + 1}"})
    for n in range(bulk):
        rows += [
            {"type": "customer", "id": f"c-b{n:02d}", "name": f"Bulk Kunde {n:02d}", "timezone": "Europe/Berlin"},
            {"type": "interaction", "id": f"i-b{n:02d}", "customer": f"c-b{n:02d}", "channel": "email",
             "direction": "in", "at": at(minutes=5, seconds=n), "author": "Kunde", "body": "Hallo"},
        ]
    if long:
        body = "\n".join(f"line {n}" for n in range(1, 151)) + "\n" + "word " * 100
        rows += [
            {"type": "customer", "id": "c-long", "name": "Lang Textreich", "timezone": "Europe/Berlin"},
            {"type": "interaction", "id": "i-long", "customer": "c-long", "channel": "letter", "direction": "in",
             "at": at(days=3), "author": "Lang Textreich", "body": body},
        ]
    if callback:
        rows += [
            {"type": "decision", "id": "d-cb", "customer": "c-2", "case": "k-2", "kind": "callback", "agent": "a-7",
             "at": at(hours=2), "state": "queued", "scheduled": at(minutes=5), "phone": "+49 40 555 0123"},
            {"type": "promise", "id": "p-cb", "decision": "d-cb", "customer": "c-2",
             "what": "callback on +49 40 555 0123", "due": at(minutes=5), "state": "open"},
        ]
    return rows


@pytest.fixture(autouse=True)
def fresh_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """Times are relative to when each test starts, not to when the module was imported minutes earlier."""
    monkeypatch.setattr(sys.modules[__name__], "NOW", datetime.now(timezone.utc).replace(microsecond=0))


@pytest.fixture
def settings(tmp_path: Path) -> Path:
    """An empty settings file, so the user's own settings never take part."""
    path = tmp_path / "config.toml"
    path.write_text("")
    return path


@pytest.fixture
async def store(make_store) -> Path:
    return await make_store(records())


def environment(settings: Path) -> dict[str, str]:
    return {**os.environ, "TZ": "UTC", "AGENTDESK_CONFIG": str(settings), "NO_COLOR": "", "FORCE_COLOR": "1",
            "TERM": "xterm-256color"}


def plain(store: Path, settings: Path, script: str, *args: str, agent: str | None = "a-7") -> str:
    """Run one session with ``script`` on stdin; it must end with exit 0 and say nothing on stderr."""
    who = ["--as", agent] if agent else []
    result = subprocess.run([sys.executable, "-m", "agentdesk", "--plain", "--db", str(store), *who, *args],
                            input=script, capture_output=True, text=True, timeout=TIMEOUT,
                            env=environment(settings), cwd=ROOT)
    assert result.returncode == 0, (result.stdout, result.stderr)
    assert result.stderr == ""
    out = result.stdout
    assert "\x1b" not in out and "\x9b" not in out  # never an escape sequence, whatever was shown
    return out


def answers(out: str, prompts: tuple[str, ...] = PROMPTS) -> list[tuple[str, list[str]]]:
    """The transcript as (command typed, the lines it answered) in order; input is echoed after the prompt."""
    found: list[tuple[str, list[str]]] = []
    for line in out.splitlines():
        prompt = next((p for p in prompts if line.startswith(p)), None)
        if prompt is not None:
            found.append((line[len(prompt):], []))
        elif found:
            found[-1][1].append(line)
    return found


def answer(out: str, command: str, prompts: tuple[str, ...] = PROMPTS) -> list[str]:
    """What the (first) ``command`` answered."""
    for typed, lines in answers(out, prompts):
        if typed == command:
            return lines
    raise AssertionError(f"{command!r} not in the transcript:\n{out}")


def rows(store: Path, sql: str, *params: object) -> list[sqlite3.Row]:
    con = sqlite3.connect(store)
    con.row_factory = sqlite3.Row
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def counts(store: Path) -> dict[str, int]:
    return {table: rows(store, f"SELECT count(*) AS n FROM {table}")[0]["n"]
            for table in ("decision", "promise", "audit", "timeline_entry")}


# --- getting around -------------------------------------------------------------------


def test_greeting_help_and_eof(store: Path, settings: Path) -> None:
    out = plain(store, settings, "")
    lines = out.splitlines()
    assert lines[0] == f"Jonas Weber · agent · agentdesk plain session on {store}"
    assert "Decisions stay pending for 10 s: undo takes one back, send queues it at once." in lines
    assert "Queue: 3 waiting; queue lists them, open 1 opens the first, Petra Lindner." in lines
    assert "Type help for the commands; quit or ctrl+d leaves." in lines
    assert out.endswith("queue> \n")  # end of input at the first prompt: a clean line end, exit 0


def test_help_lists_the_commands_in_force_with_their_tui_ids(store: Path, settings: Path) -> None:
    out = plain(store, settings, "help\nopen c-1\nhelp\nhelp refund\nHELP Show\nhelp frobnicate\n")
    on_queue = answer(out, "help")
    assert on_queue[0] == "Commands (help COMMAND names the workstation key it mirrors):"
    assert "open N|CUSTOMER — open customer N of the last list, or a customer by id, e-mail or phone" in on_queue
    assert "search TEXT — customers whose name, e-mail or phone contains TEXT, numbered" in on_queue
    assert not any(line.startswith("refund") for line in on_queue)  # not in force on the queue
    assert not any(line.startswith("approvals") for line in on_queue)  # an agent approves nothing
    customer = answers(out)[2][1]
    assert "Here, with Petra Lindner open:" in customer
    for expected in ("refund [AMOUNT] [because REASON] — refund: the disputed amount still open, or AMOUNT",
                     "undo — take back your last pending decision on this customer",
                     "previous — the 10 older entries before this page",
                     "show N — entry N in full: every field and the whole text",
                     "quit — leave the session (ctrl+d too)"):
        assert expected in customer
    detail = answer(out, "help refund", PROMPTS)
    assert detail[0] == "refund [AMOUNT] [because REASON]: refund: the disputed amount still open, or AMOUNT"
    assert "Examples: refund · refund 19.90 · refund 20 because fee for our own fault" in detail
    assert "TUI binding: customer.refund, customer.adjust_refund" in detail
    assert "Works with a customer open." in detail
    assert answer(out, "HELP Show")[0].startswith("show N: entry N in full")  # commands are case-insensitive
    assert answer(out, "help frobnicate") == ["no command 'frobnicate'; type help for the commands"]


def test_queue_is_numbered_in_fair_order_and_open_1_opens_the_first(store: Path, settings: Path) -> None:
    out = plain(store, settings, "queue\nopen 1\n")
    queue = answer(out, "queue")
    assert queue[0] == "Queue: 3 waiting, in fair order:"
    # (a minute more when the clock turned between building the store and the session)
    assert re.fullmatch(r"1\. Petra Lindner · sms · waited 3 h 3[01] min · why: SMS 3 h 3[01] min; "
                        r"longest wait first", queue[1]), queue[1]
    assert re.match(r"2\. Ole Brandt · phone · waited 1 h 0[01] min", queue[2]), queue[2]
    assert queue[3].startswith("3. Mallory ␛[31mO'Hostile‹U+202E› [bold]Bo… · chat")  # cut, inert
    opened = answer(out, "open 1")
    assert opened[:2] == ["Petra Lindner (c-1)", "owner Jonas Weber · prefers email · language de · Nürnberg, DE"]
    assert re.fullmatch(r"their time \w{3} \d\d:\d\d Europe/Berlin \(CES?T\) · your time \w{3} \d\d:\d\d UTC",
                        opened[2])
    assert opened[3:5] == ["Open cases: 1", "case k-1: Technician fee for our own fault · open · "
                                            "opened 2 d ago · disputed 120.00 EUR"]
    assert "Open promises: none" in opened
    # the decision bar, each line starting with what to type
    decisions = opened[opened.index("Decisions:") + 1:]
    assert decisions[0] == "refund 120.00 EUR: over your limit of 50.00 EUR · escalate refund 120.00 asks lead"
    assert decisions[1] == "voucher 15.00 EUR (limit 25.00)"
    assert re.fullmatch(r"callback \w{3} \d\d:\d\d their time \(.*yours\)", decisions[2])
    assert decisions[3] == "escalate refund 120.00 asks lead"
    assert decisions[4] == "note TEXT"
    # the newest ten entries, oldest of them first
    assert "Timeline: entries 31 to 40 of 40, newest last" in opened
    assert opened[-1].startswith("40. ") and opened[-1].endswith("Petra Lindner  entry number 40")
    assert opened[-10].startswith("31. ") and opened[-10].endswith("entry number 31")
    assert "Petra Lindner> " in out  # the prompt says where you are


def test_a_long_queue_comes_twenty_at_a_time(make_store, settings: Path) -> None:
    import asyncio

    store = asyncio.run(make_store(records(bulk=23)))
    out = plain(store, settings, "queue\nmore\nmore\nopen 26\n")
    queue = answer(out, "queue")
    assert len(queue) == 1 + 20 + 1 and queue[-1] == "20 of 26; more shows the next 6"
    more = answer(out, "more")
    assert [line.split(".")[0] for line in more[:-1]] == ["21", "22", "23", "24", "25", "26"]
    assert more[-1] == "That was the last of 26."
    assert answers(out)[2][1] == ["nothing more to show"]
    assert answer(out, "open 26")[0] == "Bulk Kunde 00 (c-b00)"  # the least waiting of them


def test_paging_the_timeline(store: Path, settings: Path) -> None:
    script = "open c-1\ntop\nnext\nnext\nprevious\nend\nnext\ntimeline\nshow 3\nshow 41\nshow x\ntop\nprevious\nmore\n"
    out = plain(store, settings, script)
    said = answers(out)
    headings = [lines[0] for _, lines in said[1:6]]
    assert headings[:5] == ["Timeline: entries 1 to 10 of 40, newest last",
                            "Timeline: entries 11 to 20 of 40, newest last",
                            "Timeline: entries 21 to 30 of 40, newest last",
                            "Timeline: entries 11 to 20 of 40, newest last",
                            "Timeline: entries 31 to 40 of 40, newest last"]
    assert said[1][1][1].startswith("1. ") and said[1][1][1].endswith("entry number 1")
    assert said[6][1] == ["already at the newest entry; previous goes back, top to the oldest"]
    assert said[7][1][0] == "Timeline: entries 31 to 40 of 40, newest last"  # the current page again
    shown = answer(out, "show 3")
    assert shown[0] == "Entry 3 of 40: chat, outbound, to the customer"
    assert shown[1] == "by Jonas Weber"
    assert re.fullmatch(r"at \w{3} \d\d \w{3} \d{4} \d\d:\d\d UTC · customer's time \d\d:\d\d CES?T", shown[2])
    assert "case k-1" in shown and "id i-1-02" in shown
    assert shown[-2:] == ["Text:", "entry number 3"]
    assert answer(out, "show 41") == ["no entry 41: entries are 1 to 40"]
    assert answer(out, "show x") == ["show: 'x' is not an entry number"]
    assert said[12][1] == ["already at the first entry; next goes forward, end to the newest"]
    assert said[13][1][0] == "Timeline: entries 11 to 20 of 40, newest last"  # more: the next page forward


async def test_a_long_entry_is_read_sixty_lines_at_a_time(make_store, settings: Path) -> None:
    store = await make_store(records(long=True))
    out = plain(store, settings, "open c-long\nshow 1\nmore\nmore\nmore\n")
    said = answers(out, (*PROMPTS, "Lang Textreich> "))
    entry = said[0][1][-1]  # on the timeline: cut short, on one line
    assert entry.startswith("1. ") and "line 1 ⏎ line 2 ⏎ line 3" in entry and entry.endswith(" … (show 1 for all)")
    first = said[1][1]
    more = "more shows more of entry 1's text"
    assert first[first.index("Text:") + 1:] == [f"line {n}" for n in range(1, 61)] + [more]
    assert said[2][1] == [f"line {n}" for n in range(61, 121)] + [more]
    last = said[3][1]
    assert last[:30] == [f"line {n}" for n in range(121, 151)]
    assert len(last) == 30 + 7 and all(len(line) <= 80 for line in last)  # 500 characters wrapped at 80
    assert said[4][1] == ["nothing more to show"]


def test_ctrl_c_discards_the_line_and_the_session_goes_on(store: Path, settings: Path) -> None:
    import signal

    session = Live(store, settings, "--as", "a-7")
    try:
        session.until("queue> ")
        session.proc.send_signal(signal.SIGINT)
        assert "ctrl+c: line discarded; quit or ctrl+d leaves\n" in session.until("queue> ")
        assert "Petra Lindner (c-1)" in session.type("open 1", "Petra Lindner> ")
    finally:
        code, err = session.close()
    assert (code, err) == (0, "")


# --- deciding -------------------------------------------------------------------------


def test_a_refund_is_pending_then_undone_and_gone(store: Path, settings: Path) -> None:
    before = counts(store)
    out = plain(store, settings, "open c-2\nrefund\nundo\nundo\n")
    assert answer(out, "refund") == ["PENDING refund 39.90 EUR for Ole Brandt · queued in 10 s unless you type undo "
                                     "(or send to queue it now)"]
    said = answers(out)
    assert said[2][1] == ["UNDONE refund 39.90 EUR: taken back, nothing was sent"]
    assert said[3][1] == ["nothing to undo: none of your decisions for Ole Brandt is pending"]
    (decision,) = rows(store, "SELECT * FROM decision WHERE customer_id = 'c-2'")
    assert decision["state"] == "undone"
    after = counts(store)
    assert after["timeline_entry"] == before["timeline_entry"]  # its line left the timeline
    assert after["promise"] == before["promise"]  # nothing was promised
    assert [r["action"] for r in rows(store, "SELECT action FROM audit ORDER BY rowid")] == ["taken", "undone"]
    export = subprocess.run([sys.executable, "-m", "agentdesk", "export", "--db", str(store)],
                            capture_output=True, text=True, timeout=TIMEOUT, cwd=ROOT)
    assert '"state":"undone"' in export.stdout.replace(" ", "") and '"promise"' not in export.stdout


def test_a_voucher_with_no_undo_window_is_queued_at_once_and_promised(store: Path, settings: Path) -> None:
    out = plain(store, settings, "open c-2\nvoucher because three calls for nothing\npromises\nopen c-1\n"
                "promises\npromises all\nopen 1\n", "--undo-window", "0")
    assert "Decisions are queued at once (no undo window)." in out
    taken = answer(out, "voucher because three calls for nothing")
    assert len(taken) == 1
    assert re.fullmatch(r"TAKEN voucher 15\.00 EUR for Ole Brandt · queued for the backend · "
                        r"promise due \w{3} \d+ \w{3} \d\d:\d\d UTC", taken[0])
    promises = answer(out, "promises")
    assert promises[0] == "Promises to Ole Brandt (promises all lists everyone's): 1 open, due first:"
    assert answers(out)[4][1] == ["No open promises to Petra Lindner; promises all lists everyone's."]
    everyone = answers(out)[5]
    assert everyone[0] == "promises all" and everyone[1][0] == "Promises: 1 open, due first:"
    assert re.fullmatch(r"1\. due in 2[34] h \d\d min · Ole Brandt \(c-2\) · goodwill voucher 15\.00 EUR · "
                        r"due \w{3} \d+ \w{3} \d\d:\d\d UTC", promises[1])
    assert answer(out, "open 1")[0] == "Ole Brandt (c-2)"  # open N counts in the promises listed
    (decision,) = rows(store, "SELECT * FROM decision WHERE customer_id = 'c-2'")
    assert (decision["kind"], decision["amount"], decision["state"], decision["reason"]) == \
        ("voucher", "15.00", "queued", "three calls for nothing")


def test_the_settings_file_sets_the_undo_window(store: Path, tmp_path: Path) -> None:
    unlimited = tmp_path / "unlimited.toml"
    unlimited.write_text('undo_window_seconds = "unlimited"\n')
    out = plain(store, unlimited, "open c-2\nvoucher 5\nsend\n")
    assert "Decisions stay pending until you type send or undo." in out
    assert answer(out, "voucher 5") == ["PENDING voucher 5.00 EUR for Ole Brandt · stays pending until you type "
                                        "send or undo"]
    sent = answer(out, "send")
    assert sent[0].startswith("QUEUED voucher 5.00 EUR for Ole Brandt · promise due ")
    out = plain(store, unlimited, "open c-2\nvoucher 5\n", "--undo-window", "30")  # the command line wins
    assert answer(out, "voucher 5")[0].endswith("queued in 30 s unless you type undo (or send to queue it now)")
    assert "Still pending: voucher 5.00 EUR for Ole Brandt; it is queued when its undo window has ended" in out


def test_a_refusal_names_the_limit_and_the_escalation_is_approved_by_the_lead(store: Path, settings: Path) -> None:
    out = plain(store, settings, "open c-1\nrefund 80\nescalate refund 80.00\nescalate refund 80.00\n",
                "--undo-window", "0")
    refused = answer(out, "refund 80")
    assert refused == ["REFUSED refund 80.00 EUR: over your limit of 50.00 EUR (rule agent.refund.max). "
                       "To ask lead, type: escalate refund 80.00"]
    said = answers(out)
    assert said[2][1] == ["ESCALATED to lead: refund 80.00 EUR for Petra Lindner · waits for approval by lead"]
    assert said[3][1] == ["refund 80.00 EUR already waits for lead's approval; nobody is asked twice"]
    (escalation,) = rows(store, "SELECT * FROM decision WHERE kind = 'escalate'")
    assert escalation["reason"] == "refund 80.00 EUR is over the agent limit of 50.00 EUR"  # the refusal says why

    # the agent may not approve
    out = plain(store, settings, "approvals\napprove 1\n")
    assert answer(out, "approvals") == ["approvals: the agent role approves nothing; your escalations go to lead"]
    assert answer(out, "approve 1") == ["approve works in the approvals list: type approvals first"]

    lead = plain(store, settings, "approvals\napprove 1\napprove 1\n", agent="a-9")
    assert "Approvals: 1 escalation waits for you; approvals lists them." in lead
    listed = answer(lead, "approvals")
    assert listed[0] == "Approvals: 1 waiting for you, oldest first:"
    assert re.fullmatch(r"1\. refund 80\.00 EUR for Petra Lindner · by Jonas Weber · waiting \d+ s · "
                        r"case k-1: Technician fee for our own fault · "
                        r"why: “refund 80\.00 EUR is over the agent limit of 50\.00 EUR”", listed[1])
    approved = answers(lead)[1][1]
    assert len(approved) == 1 and approved[0].startswith("APPROVED refund 80.00 EUR for Petra Lindner: queued, "
                                                         "promise due ")
    assert approved[0].endswith("; Jonas Weber is told.")
    assert answers(lead)[2][1] == ["NOT APPROVED refund 80.00 EUR for Petra Lindner: this escalation is already "
                                   "approved"]
    (taken,) = rows(store, "SELECT * FROM decision WHERE approves IS NOT NULL")
    assert (taken["agent_id"], taken["amount"], taken["state"]) == ("a-9", "80.00", "queued")

    # the agent's next session is told
    out = plain(store, settings, "")
    assert "APPROVED: Mira Scholz approved your refund 80.00 EUR for Petra Lindner " \
           "(since your last decision)" in out


class Live:
    """A session kept running, to interleave it with another one."""

    def __init__(self, store: Path, settings: Path, *args: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "agentdesk", "--plain", "--db", str(store), *args],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     env={**environment(settings), **(env or {})}, cwd=ROOT)
        self.out = bytearray()
        self.seen = 0
        self._pump = threading.Thread(target=self._read, daemon=True)
        self._pump.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        while chunk := self.proc.stdout.read1(4096):
            self.out += chunk

    def until(self, marker: str) -> str:
        """Everything said since the last call, up to and including ``marker``."""
        deadline = time.monotonic() + TIMEOUT
        wanted = marker.encode()
        while (found := self.out.find(wanted, self.seen)) < 0:
            assert time.monotonic() < deadline, f"no {marker!r} in {bytes(self.out[self.seen:])!r}"
            assert self.proc.poll() is None or self._pump.is_alive(), bytes(self.out).decode()
            time.sleep(0.02)
        end = found + len(wanted)
        text = bytes(self.out[self.seen:end]).decode()
        self.seen = end
        return text

    def type(self, line: str, prompt: str) -> str:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()
        return self.until(prompt)

    def close(self) -> tuple[int, str]:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        code = self.proc.wait(TIMEOUT)
        self._pump.join(TIMEOUT)
        assert self.proc.stderr is not None
        return code, self.proc.stderr.read().decode()


def test_a_declined_escalation_is_told_at_the_agents_next_prompt(store: Path, settings: Path) -> None:
    agent = Live(store, settings, "--as", "a-7", "--undo-window", "0")
    try:
        agent.until("queue> ")
        agent.type("open c-2", "Ole Brandt> ")
        refused = agent.type("voucher 40", "Ole Brandt> ")
        assert "REFUSED voucher 40.00 EUR: over your limit of 25.00 EUR (rule agent.voucher.max). " \
               "To ask lead, type: escalate voucher 40.00\n" in refused
        escalated = agent.type("escalate because three calls for nothing", "Ole Brandt> ")
        assert "ESCALATED to lead: voucher 40.00 EUR for Ole Brandt · waits for approval by lead\n" in escalated

        lead = plain(store, settings, "approvals\ndecline 1 because no proof of the calls\n", agent="a-9")
        assert answer(lead, "decline 1 because no proof of the calls") == [
            "DECLINED voucher 40.00 EUR for Ole Brandt (no proof of the calls); Jonas Weber is told."]

        told = agent.type("", "Ole Brandt> ")  # the next prompt says it
        assert "DECLINED: Mira Scholz declined your voucher 40.00 EUR for Ole Brandt: no proof of the calls\n" \
            in told
        assert "DECLINED" not in agent.type("", "Ole Brandt> ")  # once
    finally:
        code, err = agent.close()
    assert (code, err) == (0, "")
    assert b"\x1b" not in agent.out


def offline_backend(store: Path, settings: Path, agent: str) -> Live:
    """A session with a backend that cannot be reached: what it queues waits for the backend's answer."""
    from tests.backend import refused_url

    return Live(store, settings, "--server", refused_url(), "--as", agent, "--undo-window", "0",
                env={"AGENTDESK_TOKEN": "adk_nobody"})


def backend_answers(store: Path, state: str, refusal: str | None = None) -> list[str]:
    """The backend's answer to what waits in the outbox, stored as the sync loop stores it."""
    import asyncio

    from tests.test_tui_decisions import backend_answers as answer_all

    return asyncio.run(answer_all(store, state, refusal))


def test_with_a_backend_nothing_is_confirmed_before_it_answered(store: Path, settings: Path) -> None:
    agent = offline_backend(store, settings, "a-7")
    try:
        agent.until("queue> ")
        agent.type("open c-2", "Ole Brandt> ")
        taken = agent.type("voucher 5", "Ole Brandt> ")
        assert re.search(r"TAKEN voucher 5\.00 EUR for Ole Brandt · waiting for the backend · promise due ", taken)
        assert "queued for the backend" not in taken
        assert backend_answers(store, "confirmed")
        assert "CONFIRMED voucher 5.00 EUR for Ole Brandt · by the backend\n" in agent.type("", "Ole Brandt> ")

        agent.type("refund", "Ole Brandt> ")
        assert backend_answers(store, "refused", "case k-2 is closed")
        told = agent.type("", "Ole Brandt> ")
        assert "REFUSED: refund 39.90 EUR for Ole Brandt was not carried out: case k-2 is closed\n" in told
        assert "REFUSED" not in agent.type("", "Ole Brandt> ")  # once

        escalated = agent.type("escalate voucher 40", "Ole Brandt> ")
        assert ("ESCALATED to lead: voucher 40.00 EUR for Ole Brandt · waiting for the backend, then goes to lead\n"
                in escalated)
        assert backend_answers(store, "confirmed")
        assert ("SENT escalation to lead: voucher 40.00 EUR for Ole Brandt · waiting for lead's approval\n"
                in agent.type("", "Ole Brandt> "))
    finally:
        code, err = agent.close()
    assert (code, err) == (0, "")

    lead = offline_backend(store, settings, "a-9")
    try:
        lead.until("queue> ")
        lead.type("approvals", "approvals> ")
        sent = lead.type("approve 1", "approvals> ")
        assert re.search(r"APPROVAL SENT voucher 40\.00 EUR for Ole Brandt: waiting for the backend, promise due "
                         r".*; Jonas Weber is told once the backend has taken it\.\n", sent)
        assert "APPROVED" not in sent
        assert backend_answers(store, "refused", "declined meanwhile")
        told = lead.type("", "approvals> ")
        assert ("NOT APPROVED voucher 40.00 EUR for Ole Brandt: approval refused by the backend: declined meanwhile\n"
                in told)
        assert "approval refused by the backend: declined meanwhile" in lead.type("notices", "approvals> ")
    finally:
        code, err = lead.close()
    assert (code, err) == (0, "")


def test_an_ended_undo_window_is_queued_and_said_before_the_prompt(store: Path, settings: Path) -> None:
    out = plain(store, settings, "open c-2\nnote remember the storm\n", "--undo-window", "1")
    assert answer(out, "note remember the storm") == [
        "PENDING note “remember the storm” for Ole Brandt · queued in 1 s unless you type undo "
        "(or send to queue it now)"]
    time.sleep(1.2)
    plain(store, settings, "open c-2\n", "--read-only")  # read-only opens no ledger: nothing is released
    (note,) = rows(store, "SELECT state FROM decision WHERE kind = 'note'")
    assert note["state"] == "pending"
    out = plain(store, settings, "")
    assert "QUEUED note “remember the storm” for Ole Brandt · its undo window ended\n" in out
    (note,) = rows(store, "SELECT state FROM decision WHERE kind = 'note'")
    assert note["state"] == "queued"


async def test_a_callback_falling_due_is_said_once(make_store, settings: Path) -> None:
    store = await make_store(records(callback=True))
    out = plain(store, settings, "queue\n\nqueue\nnotices\n")
    told = [line for line in out.splitlines() if line.startswith("Callback")]
    assert len(told) == 1  # before the first prompt, and only then
    notices = answer(out, "notices")
    assert notices[0] == "Notices of this session: 1, newest first:"
    assert re.fullmatch(r"\d\d:\d\d " + re.escape(told[0]), notices[1])  # notices says it again
    assert re.fullmatch(r"Callback overdue by [56] min: Ole Brandt on \+49 40 555 0123 — "
                        r"\d\d:\d\d their time \(\d\d:\d\d yours\)", told[0])
    assert answer(out, "queue")[1].startswith("1. Ole Brandt · phone")  # a due callback heads the queue


def test_read_only_refuses_every_decision_in_one_line_and_writes_nothing(store: Path, settings: Path) -> None:
    before = counts(store)
    script = "open c-1\nrefund\nvoucher 5\ncallback 15:30\nescalate refund 80\nnote hello\nundo\nsend\nadjust\n" \
             "approvals\ncases\n"
    out = plain(store, settings, script, "--read-only")
    assert out.splitlines()[1] == "READ-ONLY: you can read everything and change nothing."
    assert "Decisions: read-only: decisions are not available" in answer(out, "open c-1")
    for command in script.splitlines()[1:-1]:
        assert answer(out, command) == ["read-only: decisions are not available"], command
    assert answer(out, "cases")[-2:] == ["Your authority: read-only: decisions are not available",
                                          "Articles: none fits the open cases; k WORDS searches them all."]
    assert counts(store) == before


def test_without_an_agent_nothing_is_decided(store: Path, settings: Path) -> None:
    out = plain(store, settings, "open c-2\nrefund\n", agent=None)
    assert out.splitlines()[0].startswith("no agent selected · agentdesk plain session on ")
    assert answer(out, "refund") == ["no agent selected: decisions are not available (start with --as AGENT)"]
    out = plain(store, settings, "open c-2\nrefund\n", agent="a-3")  # a supervisor
    assert answer(out, "refund") == ["read-only: the supervisor role decides nothing"]
    assert counts(store)["decision"] == 0


def test_bad_input_is_one_line_and_loses_nothing(store: Path, settings: Path) -> None:
    script = ("frobnicate\n\x1b[2Jboom\nopen\nopen 99\nopen nobody@example.com\nrefund\nopen c-2\n"
              "refund 12,5x\nrefund -3\nvoucher 99999999999999\ncallback 25:99\nescalate lunch\n"
              "refund because\napprove 1\nvoucher 9,50\nback\nback\nopen c-2\nvoucher 9.50\n")
    out = plain(store, settings, script)
    expected = {
        "frobnicate": "unknown command 'frobnicate'; type help for the commands",
        "␛[2Jboom": "unknown command '␛[2Jboom'; type help for the commands",
        "open": "open what? a number from the last list, or a customer id, e-mail or phone",
        "open 99": "no number 99 in the last list (1 to 3)",
        "open nobody@example.com": "no customer with id, e-mail or phone 'nobody@example.com'; "
                                   "search TEXT finds them by name",
        "refund": "refund works with a customer open: open one first (open N or open CUSTOMER)",
        "refund 12,5x": "refund: '12,5x' is not an amount such as 39.90; for example: refund 19.90",
        "refund -3": "refund: the amount must be more than zero; for example: refund 19.90",
        "voucher 99999999999999": "voucher: '99999999999999' is not an amount such as 39.90; "
                                  "for example: voucher 19.90",
        "callback 25:99": "callback: '25:99' is not a time of day (00:00 to 23:59)",
        "escalate lunch": "escalate what? refund, voucher or callback, not 'lunch'; "
                          "e.g. escalate refund 80.00 because fee for our own fault",
        "refund because": "say why after 'because', or leave 'because' out",
        "approve 1": "approve works in the approvals list: type approvals first",
        "voucher 9,50": "voucher: '9,50' has a comma: write 9.50 (a point before the cents); "
                        "for example: voucher 19.90",
    }
    for command, line in expected.items():
        assert answer(out, command) == [line], command
    said = answers(out)
    assert [typed for typed, _ in said[-5:-3]] == ["back", "back"]
    assert said[-5][1] == ["Back on the queue: 3 waiting; queue lists them."]
    assert said[-4][1] == ["you are on the queue already"]
    assert answer(out, "voucher 9.50") == ["PENDING voucher 9.50 EUR for Ole Brandt · queued in 10 s unless you "
                                           "type undo (or send to queue it now)"]  # the session went on
    assert counts(store)["decision"] == 1


def test_customer_text_is_shown_inert(store: Path, settings: Path) -> None:
    out = plain(store, settings, "search mallory\nopen 1\nshow 1\n")
    hostile_prompt = "Mallory ␛[31mO'Hostile‹U+202E› [bold]Bo…> "  # cut to 40 characters, inert
    assert hostile_prompt in out
    for raw in ("\x1b", "\x9b", "\u202e", "\u202c", "\u200b"):
        assert raw not in out
    found = answer(out, "search mallory", (*PROMPTS, hostile_prompt))
    assert found == ["Search 'mallory': 1 customer:",
                     "1. Mallory ␛[31mO'Hostile‹U+202E› [bold]Boss[/] (c-666) · mallory@example.com · "
                     "[link=http://x]Nowhere[/link]"]
    shown = answer(out, "show 1", (*PROMPTS, hostile_prompt))
    assert shown[1] == "by [i]Mallory[/i]␛[0m"
    text = shown[shown.index("Text:") + 1:]
    assert all(len(line) <= 80 for line in text)  # wrapped at 80 columns
    assert " ".join(text[:-1]) == ("␛[2J␛[31mred␛[0m ‹U+009B›31mcsi [bold]not bold[/bold] [link=http://x]click[/link] "
                                   "‹U+202E›evil‹U+202C› zero‹U+200B›width")
    assert text[-1] == "second line"


def test_no_escape_sequence_reaches_a_terminal(store: Path, settings: Path) -> None:
    """Even when stdout is a terminal (where colour would usually be switched on)."""
    main, child = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "agentdesk", "--plain", "--db", str(store), "--as", "a-7"],
                            stdin=subprocess.PIPE, stdout=child, stderr=subprocess.PIPE,
                            env=environment(settings), cwd=ROOT)
    os.close(child)
    assert proc.stdin is not None
    proc.stdin.write(b"queue\nopen 3\nshow 1\nhelp\nopen 1\nrefund 80\n")
    proc.stdin.close()
    out = bytearray()
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:  # the other end closed
            break
        if not chunk:
            break
        out += chunk
    os.close(main)
    assert proc.wait(TIMEOUT) == 0
    text = out.decode()
    assert "REFUSED refund 80.00 EUR" in text and "␛[31mred" in text
    assert b"\x1b" not in out and "\x9b" not in text


def test_quit_ends_the_session_with_exit_0(store: Path, settings: Path) -> None:
    out = plain(store, settings, "notices\nQUIT\nqueue\n")
    assert [typed for typed, _ in answers(out)] == ["notices", "QUIT"]
    assert answer(out, "notices") == ["No notices yet in this session."]


# --- the shape of it ------------------------------------------------------------------


def test_the_session_never_imports_textual(store: Path, settings: Path) -> None:
    code = ("import sys\nfrom agentdesk.cli import main\n"
            f"code = main(['--plain', '--db', {str(store)!r}, '--as', 'a-7'])\n"
            "print('TEXTUAL' if 'textual' in sys.modules else 'NO TEXTUAL', code)\n")
    result = subprocess.run([sys.executable, "-c", code], input="open c-1\nrefund\nshow 1\nundo\n",
                            capture_output=True, text=True, timeout=TIMEOUT, env=environment(settings), cwd=ROOT)
    assert result.stdout.splitlines()[-1] == "NO TEXTUAL 0", result.stdout + result.stderr


def test_plain_goes_with_the_workstation_and_the_demo_only() -> None:
    from agentdesk.cli.parser import build_parser

    parser = build_parser()
    assert parser.parse_args(["--plain"]).plain is True
    demo = parser.parse_args(["demo", "--plain", "--db", "x.sqlite3"])
    assert demo.command == "demo" and demo.plain is True
    assert parser.parse_args(["demo"]).plain is False
    result = subprocess.run([sys.executable, "-m", "agentdesk", "--plain", "queue"], capture_output=True,
                            text=True, timeout=TIMEOUT, cwd=ROOT)
    assert result.returncode == 2 and "--plain goes with the workstation (no command) or demo" in result.stderr


def _tui_binding_ids() -> set[str]:
    """Every binding id in agentdesk.tui, found by walking the package (as test_tui_app does)."""
    import importlib
    import inspect
    import pkgutil

    from textual.binding import Binding
    from textual.dom import DOMNode

    import agentdesk.tui

    ids = set()
    for module_info in pkgutil.walk_packages(agentdesk.tui.__path__, "agentdesk.tui."):
        module = importlib.import_module(module_info.name)
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, DOMNode) and cls.__module__ == module.__name__:
                ids |= {b.id for b in Binding.make_bindings(cls.__dict__.get("BINDINGS", [])) if b.id}
    return ids


def test_every_tui_action_is_mirrored_or_says_why_not() -> None:
    from agentdesk.plain.session import COMMANDS, NOT_IN_PLAIN

    tui = _tui_binding_ids()
    mirrored = {binding for command in COMMANDS for binding in command.mirrors}
    assert tui - mirrored - set(NOT_IN_PLAIN) == set(), "TUI bindings neither mirrored nor in NOT_IN_PLAIN"
    assert mirrored - tui == set(), "commands name TUI bindings that do not exist"
    assert set(NOT_IN_PLAIN) - tui == set(), "NOT_IN_PLAIN names TUI bindings that do not exist"
    assert mirrored & set(NOT_IN_PLAIN) == set()
    assert all(reason.strip() for reason in NOT_IN_PLAIN.values())
    for decisive in ("customer.refund", "customer.voucher", "customer.callback", "customer.escalate",
                     "customer.note", "customer.undo", "customer.send_now", "approvals.approve",
                     "approvals.decline", "queue.open", "customer.page_up", "customer.jump_end"):
        assert decisive in mirrored


def test_an_unknown_agent_is_told_whom_as_can_name(store: Path, settings: Path) -> None:
    out = plain(store, settings, "quit\n", agent="lead")
    assert "no agent 'lead' in this store" in out
    (known,) = [line for line in out.splitlines() if line.startswith("--as takes one of: ")]
    assert "a-7 Jonas Weber (agent)" in known, known
