"""``agentdesk reply``, run as a script runs it: a real process on a real store, one line out."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from tests.test_cli_decide import HOSTILE_NAME, agentdesk, store  # noqa: F401 - fixture


def outbox(path: Path) -> list[dict]:
    con = sqlite3.connect(path)
    try:
        return [json.loads(body)["interaction"] for (body,) in con.execute("SELECT body FROM outbox ORDER BY seq")]
    finally:
        con.close()


def test_a_reply_is_queued_signed_and_said_in_one_line(store: Path) -> None:
    done = agentdesk("--db", str(store), "reply", "c-1001", "--as", "a-7", "--text", "Your eSIM is active now.")
    assert done.returncode == 0, done.stderr
    (line,) = done.stdout.splitlines()
    assert line.startswith("queued: e-mail reply to Petra Lindner (c-1001) to p.lindner@example.net")
    (sent,) = outbox(store)
    assert sent["body"].startswith("Your eSIM is active now.\n\n-- \n") and sent["delivery"] == "queued"
    assert line.endswith(f"· {sent['id']}")


def test_the_text_from_stdin_on_the_sms_channel_as_json(store: Path) -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "agentdesk", "--db", str(store), "reply", "+49 170 555 0199",
                           "--as", "a-7", "--channel", "SMS", "--text", "-", "--json"],
                          input="Line one\nline two\n", capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    said = json.loads(done.stdout)
    assert (said["outcome"], said["reply"]["channel"], said["reply"]["body"].split("\n\n-- \n")[0]) == (
        "queued", "sms", "Line one\nline two")


@pytest.mark.parametrize(("args", "words"), [
    (("c-1001", "--as", "a-7", "--text", "  "), "the reply is empty"),
    (("c-9999", "--as", "a-7", "--text", "hi"), "no customer with id, e-mail or phone 'c-9999'"),
    (("c-1001", "--as", "a-7", "--text", "hi", "--case", "k-404"), "no case 'k-404'"),
    (("c-666", "--as", "a-7", "--text", "hi", "--channel", "email"), "has no e-mail address for a reply by e-mail"),
])
def test_what_cannot_be_sent_is_one_line_and_nothing_is_queued(store: Path, args, words) -> None:
    done = agentdesk("--db", str(store), "reply", *args)
    assert done.returncode == 1 and words in done.stderr and len(done.stderr.splitlines()) == 1, done.stderr
    assert "\x1b" not in done.stderr and "\u202e" not in done.stderr  # the hostile name is shown as text
    assert outbox(store) == []
