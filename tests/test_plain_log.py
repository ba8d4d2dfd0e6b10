"""``log CHANNEL in|out SUMMARY`` in the plain session: a contact logged by hand, as the workstation's key does."""

from __future__ import annotations

from pathlib import Path

from tests.test_plain_session import answer, fresh_now, plain, rows, settings, store  # noqa: F401 - fixtures


def test_log_puts_a_contact_on_the_timeline_and_in_the_outbox(store: Path, settings: Path) -> None:
    out = plain(store, settings, "open c-2\nlog shop out replaced the router\nlog fax in a fax\nlog letter\n"
                                 "back\nqueue\n")
    assert answer(out, "log shop out replaced the router") == [
        "LOGGED: shop out · replaced the router · counts as an answer"]
    (refused,) = answer(out, "log fax in a fax")
    assert refused.startswith("no channel 'fax'; one of email, phone")
    assert answer(out, "log letter") == [
        "log needs a channel, in or out, and a summary: log letter in cancels the contract"]
    (entry,) = rows(store, "SELECT * FROM timeline_entry WHERE customer_id = 'c-2' AND channel = 'shop'")
    assert (entry["direction"], entry["author"], entry["body"]) == ("out", "a-7", "replaced the router")
    assert [r["kind"] for r in rows(store, "SELECT kind FROM outbox")] == ["contact"]
    assert "Ole Brandt" not in "\n".join(answer(out, "queue"))  # the visit answered what he waited for


def test_read_only_logs_nothing(store: Path, settings: Path) -> None:
    out = plain(store, settings, "open c-2\nlog letter in a letter\n", "--read-only")
    (said,) = answer(out, "log letter in a letter")
    assert said.startswith("NOT POSSIBLE") or "read-only" in said, said
    assert rows(store, "SELECT count(*) AS n FROM outbox")[0]["n"] == 0
