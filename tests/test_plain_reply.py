"""``reply`` in the plain session: at once with its text, or written in lines and kept as a draft in between."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_plain_session import PROMPTS, answer, plain, rows, settings, store  # noqa: F401 - fixtures

WITH_REPLY = (*PROMPTS, "reply> ")


def test_reply_with_its_text_goes_on_the_preferred_channel_a_phone_person_gets_an_sms(store: Path,
                                                                                      settings: Path) -> None:
    out = plain(store, settings, "open c-2\nreply Your line works again.\nreply email The invoice is corrected.\n"
                                 "reply chat hello\n")
    (sms,) = answer(out, "reply Your line works again.")
    assert sms == ("QUEUED: reply by SMS to +49 40 555 0123 · 1 SMS part · the backend sends it; the timeline says "
                   "when it is sent")
    assert answer(out, "reply email The invoice is corrected.") == [
        "QUEUED: reply by e-mail to ole@example.org · the backend sends it; the timeline says when it is sent"]
    bodies = [json.loads(r["body"])["interaction"] for r in rows(store, "SELECT body FROM outbox ORDER BY seq")]
    # "chat" is not a channel a reply goes out on: it is the first word of the text.
    assert [(b["channel"], b["case"], b["body"].split("\n")[0]) for b in bodies] == [
        ("sms", "k-2", "Your line works again."), ("email", "k-2", "The invoice is corrected."),
        ("sms", "k-2", "chat hello")]


def test_a_reply_written_in_lines_kept_as_a_draft_then_sent(store: Path, settings: Path) -> None:
    first = plain(store, settings, "open c-2\nreply email\nDear Mr Brandt,\n\nthe double charge\n~\n")
    said = answer(first, "reply email", WITH_REPLY)
    assert said[0] == "Reply to Ole Brandt by e-mail to ole@example.org · case k-2: Double charge."
    assert "  -- " in said and "KEPT as a draft: reply opens it again" in "\n".join(first.splitlines())
    assert [(r["channel"], r["text"]) for r in rows(store, "SELECT channel, text FROM reply_draft")] == [
        ("email", "Dear Mr Brandt,\n\nthe double charge")]

    second = plain(store, settings, "open c-2\nreply\nis refunded.\n.\n")
    assert "Your draft so far:" in second
    assert "QUEUED: reply by e-mail to ole@example.org" in second
    (body,) = [json.loads(r["body"])["interaction"]["body"] for r in rows(store, "SELECT body FROM outbox")]
    assert body.startswith("Dear Mr Brandt,\n\nthe double charge\nis refunded.\n\n-- \nJonas Weber\n")
    assert rows(store, "SELECT count(*) AS n FROM reply_draft")[0]["n"] == 0


def test_read_only_replies_to_nobody(store: Path, settings: Path) -> None:
    out = plain(store, settings, "open c-2\nreply hello\n", "--read-only")
    (said,) = answer(out, "reply hello")
    assert "read-only" in said or said.startswith("NOT POSSIBLE"), said
    assert rows(store, "SELECT count(*) AS n FROM outbox")[0]["n"] == 0
