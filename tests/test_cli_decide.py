"""``agentdesk decide`` and ``agentdesk promises``, run as a user runs them: a real process on a real store."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.sample_records import records

BERLIN = ZoneInfo("Europe/Berlin")
DECISION_ID = re.compile(r"d-[0-9A-HJKMNP-TV-Z]{26}")

HOSTILE_NAME = "Eve \x1b[2J\u202eEvil\u202c [bold]Boss[/]"


def agentdesk(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentdesk", *args],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "TZ": "UTC", **(env or {})},
    )


@pytest.fixture
async def store(make_store) -> Path:
    hostile = {"type": "customer", "id": "c-666", "name": HOSTILE_NAME, "phone": "+49 30 555 0666",
               "timezone": "Europe/Berlin"}
    return await make_store([*records(), hostile])


def decide(store: Path, *args: str, **kw) -> subprocess.CompletedProcess[str]:
    return agentdesk("decide", *args, "--db", str(store), **kw)


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


def one_line_out(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    (line,) = result.stdout.splitlines()
    return line


def one_line_err(result: subprocess.CompletedProcess[str], code: int = 1) -> str:
    assert result.returncode == code, (result.stdout, result.stderr)
    assert result.stdout == ""
    (line,) = result.stderr.splitlines()
    return line


# --- allowed ---------------------------------------------------------------------------


def test_an_allowed_refund_is_one_line_and_a_decision_a_promise_and_an_audit(store: Path) -> None:
    before = datetime.now(timezone.utc)
    line = one_line_out(decide(store, "refund", "c-1001", "--as", "a-7", "--reason", "double charge"))
    assert line.startswith("queued: refund 39.90 EUR for Petra Lindner (c-1001), case k-55 · "
                           "promise: refund 39.90 EUR due ")
    decision_id = line.rsplit(" · ", 1)[1]
    assert DECISION_ID.fullmatch(decision_id)

    (decision,) = rows(store, "SELECT * FROM decision WHERE id = ?", decision_id)
    assert (decision["kind"], decision["amount"], decision["currency"], decision["state"], decision["agent_id"],
            decision["case_id"], decision["reason"]) == ("refund", "39.90", "EUR", "queued", "a-7", "k-55",
                                                         "double charge")
    assert decision["undo_until_us"] is None  # a script has no undo key: queued at once
    (promise,) = rows(store, "SELECT * FROM promise WHERE decision_id = ?", decision_id)
    assert promise["what"] == "refund 39.90 EUR" and promise["state"] == "open"
    due = datetime.fromtimestamp(promise["due_us"] / 1e6, timezone.utc)
    three_days = timedelta(hours=72)
    assert before + three_days - timedelta(seconds=1) <= due <= datetime.now(timezone.utc) + three_days
    shown_due = due.strftime("%a %-d %b %H:%M UTC")  # the test runs the command with TZ=UTC
    assert f"due {shown_due} · " in line
    actions = [r["action"] for r in rows(store, "SELECT action FROM audit WHERE decision_id = ? ORDER BY rowid",
                                         decision_id)]
    assert actions == ["taken", "queued"]
    (entry,) = rows(store, "SELECT * FROM timeline_entry WHERE decision_id = ?", decision_id)
    assert entry["kind"] == "decision" and entry["body"] == "refund 39.90 EUR · double charge"


@pytest.mark.parametrize("reference", ["p.lindner@example.net", "+49 (170) 555-0199"])
def test_the_customer_may_be_named_by_email_or_phone(store: Path, reference: str) -> None:
    line = one_line_out(decide(store, "voucher", reference, "--as", "a-7"))
    assert line.startswith("queued: voucher 15.00 EUR for Petra Lindner (c-1001)")  # the default goodwill amount
    assert "promise: goodwill voucher 15.00 EUR due " in line


def test_a_callback_takes_the_next_free_slot_in_the_customers_hours(store: Path) -> None:
    from agentdesk.authority_file import demo_matrix
    from agentdesk.domain.authority import next_callback_slot
    from agentdesk.domain.model import Customer

    petra = Customer("c-1001", "Petra Lindner", phone="+49 170 555 0199", timezone="Europe/Berlin")
    matrix = demo_matrix()
    expected = {next_callback_slot(matrix, petra, datetime.now(timezone.utc))}
    line = one_line_out(decide(store, "callback", "c-1001", "--as", "a-7"))
    expected.add(next_callback_slot(matrix, petra, datetime.now(timezone.utc)))
    decision_id = line.rsplit(" · ", 1)[1]
    (decision,) = rows(store, "SELECT * FROM decision WHERE id = ?", decision_id)
    scheduled = datetime.fromtimestamp(decision["scheduled_us"] / 1e6, timezone.utc)
    assert scheduled in expected
    assert decision["phone"] == "+49 170 555 0199"
    local = scheduled.astimezone(BERLIN)
    assert f"queued: callback {local:%a} {local.day} {local:%b %H:%M} (Europe/Berlin) on +49 170 555 0199" in line
    (promise,) = rows(store, "SELECT * FROM promise WHERE decision_id = ?", decision_id)
    assert promise["due_us"] == decision["scheduled_us"]
    # The next callback goes to the slot after it: that one is taken now.
    second = one_line_out(decide(store, "callback", "c-1002", "--as", "a-7"))
    (other,) = rows(store, "SELECT scheduled_us FROM decision WHERE id = ?", second.rsplit(" · ", 1)[1])
    assert other["scheduled_us"] != decision["scheduled_us"]


def test_a_callback_at_a_time_on_the_customers_clock(store: Path) -> None:
    line = one_line_out(decide(store, "callback", "c-1001", "--as", "a-7", "--at", "2099-03-02 10:30"))
    (decision,) = rows(store, "SELECT * FROM decision WHERE id = ?", line.rsplit(" · ", 1)[1])
    scheduled = datetime.fromtimestamp(decision["scheduled_us"] / 1e6, timezone.utc)
    assert scheduled == datetime(2099, 3, 2, 10, 30, tzinfo=BERLIN)
    iso = one_line_out(decide(store, "callback", "c-1001", "--as", "a-7", "--at", "2099-03-02T11:00:00+01:00"))
    assert "Mon 2 Mar 11:00 (Europe/Berlin)" in iso


def test_a_callback_outside_the_customers_hours_is_refused(store: Path) -> None:
    line = one_line_err(decide(store, "callback", "c-1001", "--as", "a-7", "--at", "2099-03-02 22:00"))
    assert line == ("agentdesk: refused: Mon 22:00 is outside callback hours (Mon–Sat 08:00–20:00 customer's time) "
                    "(rule callbacks.hours)")


def test_escalate_carries_the_proposal_to_the_lead(store: Path) -> None:
    line = one_line_out(decide(store, "escalate", "c-1001", "--as", "a-7", "--propose", "voucher",
                               "--amount", "40.00", "--reason", "fee for our own fault"))
    assert line.startswith("queued: escalate to lead: voucher 40.00 EUR for Petra Lindner (c-1001), case k-55 · "
                           "waiting for approval by lead · d-")
    (decision,) = rows(store, "SELECT * FROM decision WHERE id = ?", line.rsplit(" · ", 1)[1])
    assert (decision["kind"], decision["proposal_kind"], decision["amount"], decision["escalate_to"],
            decision["approval"], decision["state"]) == ("escalate", "voucher", "40.00", "lead", "waiting", "queued")
    assert rows(store, "SELECT count(*) AS n FROM promise WHERE decision_id = ?", decision["id"])[0]["n"] == 0
    actions = [r["action"] for r in rows(store, "SELECT action FROM audit WHERE decision_id = ? ORDER BY rowid",
                                         decision["id"])]
    assert actions == ["escalated", "queued"]


def test_a_note_is_its_reason(store: Path) -> None:
    line = one_line_out(decide(store, "note", "c-1001", "--as", "a-7", "--reason", "wants paper\ninvoices"))
    assert line.startswith("queued: note: wants paper ⏎ invoices for Petra Lindner (c-1001)")


# --- refused ---------------------------------------------------------------------------


def test_over_the_limit_is_refused_naming_rule_and_limit_and_only_audited(store: Path) -> None:
    before = counts(store)
    line = one_line_err(decide(store, "refund", "c-1002", "--as", "a-7", "--amount", "80.00"))
    assert line == ("agentdesk: refused: refund 80.00 EUR is over the agent limit of 50.00 EUR "
                    "(rule agent.refund.max); escalate to lead with: "
                    "agentdesk decide escalate c-1002 --propose refund --amount 80.00 --as a-7")
    after = counts(store)
    assert after == {**before, "audit": before["audit"] + 1}
    (audit,) = rows(store, "SELECT * FROM audit")
    assert (audit["action"], audit["actor"], audit["customer_id"], audit["decision_id"], audit["kind"],
            audit["amount"], audit["currency"], audit["rule"], audit["limit_amount"]) == \
           ("refused", "a-7", "c-1002", None, "refund", "80.00", "EUR", "agent.refund.max", "50.00")


def test_more_than_is_disputed_is_refused_without_offering_an_escalation(store: Path) -> None:
    line = one_line_err(decide(store, "refund", "c-1001", "--as", "a-7", "--amount", "45.00"))
    assert line == ("agentdesk: refused: refund 45.00 EUR is more than the 39.90 EUR still disputed on case k-55 "
                    "(rule case.disputed_amount)")


def test_the_printed_escalation_command_works(store: Path) -> None:
    line = one_line_err(decide(store, "voucher", "c-1001", "--as", "a-7", "--amount", "40", "--reason", "sorry"))
    command = line.split(" with: ", 1)[1]
    assert command == "agentdesk decide escalate c-1001 --propose voucher --amount 40.00 --reason sorry --as a-7"
    import shlex

    words = shlex.split(command)
    escalated = one_line_out(decide(store, *words[2:]))
    assert escalated.startswith("queued: escalate to lead: voucher 40.00 EUR for Petra Lindner (c-1001)")


def test_a_read_only_role_decides_nothing(store: Path, tmp_path: Path) -> None:
    result = agentdesk("--read-only", "decide", "note", "c-1001", "--as", "a-7", "--reason", "x", "--db", str(store))
    assert one_line_err(result) == "agentdesk: read-only: no decisions"
    assert counts(store)["audit"] == 0


def test_a_refund_without_an_amount_to_suggest_asks_for_one(store: Path) -> None:
    before = counts(store)
    line = one_line_err(decide(store, "refund", "c-1002", "--as", "a-7"))
    assert line == "agentdesk: refund needs --amount (no disputed amount on case k-56)"
    assert counts(store) == before


def test_the_ledgers_own_checks_are_one_line(store: Path) -> None:
    assert one_line_err(decide(store, "refund", "c-1001", "--as", "a-404")) == \
        "agentdesk: no agent 'a-404' in this store"
    assert one_line_err(decide(store, "refund", "c-1001", "--as", "a-7", "--case", "k-56")) == \
        "agentdesk: no case 'k-56' for customer c-1001"
    assert one_line_err(decide(store, "callback", "c-1003", "--as", "a-7")) == \
        "agentdesk: refused: the customer has no phone number to call (rule customer.phone)"


# --- bad input -------------------------------------------------------------------------


@pytest.mark.parametrize("amount", ["12,50", "1e3", "1.000,00", "€12", "12.505"])
def test_a_bad_amount_is_one_line_and_writes_nothing(store: Path, amount: str) -> None:
    before = counts(store)
    line = one_line_err(decide(store, "refund", "c-1001", "--as", "a-7", "--amount", amount), code=2)
    assert line.startswith(f"agentdesk: --amount {amount!r}")
    assert counts(store) == before


def test_a_comma_is_refused_in_the_words_of_the_adjust_dialog(store: Path) -> None:
    line = one_line_err(decide(store, "refund", "c-1001", "--as", "a-7", "--amount", "12,50"), code=2)
    assert line == "agentdesk: --amount '12,50' has a comma: write 12.50 (a point before the cents)"


def test_a_bad_time_is_one_line(store: Path) -> None:
    line = one_line_err(decide(store, "callback", "c-1001", "--as", "a-7", "--at", "tomorrow"), code=2)
    assert line == ("agentdesk: --at 'tomorrow' is not a time of day such as 15:30 "
                    "(try 15:30, tomorrow 09:00, Mon 10:15 or 2026-07-15 10:00)")


def test_unknown_customer_is_one_line(store: Path) -> None:
    assert one_line_err(decide(store, "refund", "nobody@example.com", "--as", "a-7")) == \
        "agentdesk: no customer with id, e-mail or phone 'nobody@example.com'"


@pytest.mark.parametrize(("args", "message"), [
    (("refund", "c-1001"), "--as AGENT is required"),
    (("escalate", "c-1001", "--as", "a-7"), "escalate needs --propose KIND"),
    (("note", "c-1001", "--as", "a-7"), "a note needs --reason TEXT"),
    (("callback", "c-1001", "--as", "a-7", "--amount", "5"), "--amount does not go with callback"),
    (("refund", "c-1001", "--as", "a-7", "--propose", "refund"), "--propose only goes with escalate"),
    (("gift", "c-1001", "--as", "a-7"), "invalid choice: 'gift'"),
])
def test_bad_usage_exits_2_with_the_usage(store: Path, args: tuple[str, ...], message: str) -> None:
    result = decide(store, *args)
    assert result.returncode == 2
    assert result.stderr.startswith("usage: agentdesk decide")
    assert message in result.stderr.splitlines()[-1]


def test_a_bad_authority_file_names_file_and_key(store: Path, tmp_path: Path) -> None:
    matrix = tmp_path / "matrix.toml"
    matrix.write_text('home_country = "DE"\n[roles.agent]\nrefund = { max = "fifty", per_customer_30d = "100.00" }\n')
    line = one_line_err(decide(store, "refund", "c-1001", "--as", "a-7", "--authority", str(matrix)))
    assert line.startswith(f"agentdesk: {matrix}: roles.agent.refund.max: ")
    missing = one_line_err(agentdesk("--authority", str(tmp_path / "none.toml"), "decide", "refund", "c-1001",
                                     "--as", "a-7", "--db", str(store)))
    assert missing.startswith(f"agentdesk: {tmp_path / 'none.toml'}: cannot read the authority matrix")
    assert counts(store)["audit"] == 0


def test_the_authority_file_decides_the_limits(store: Path, tmp_path: Path) -> None:
    matrix = tmp_path / "tight.toml"
    matrix.write_text('home_country = "DE"\ncurrency = "EUR"\n'
                      '[roles.agent]\nrefund = { max = "20.00", per_customer_30d = "40.00" }\nescalate_to = "lead"\n'
                      '[roles.lead]\nrefund = { max = "200.00", per_customer_30d = "400.00" }\napproves = ["agent"]\n')
    line = one_line_err(decide(store, "refund", "c-1001", "--as", "a-7", "--authority", str(matrix)))
    assert "refund 39.90 EUR is over the agent limit of 20.00 EUR (rule agent.refund.max)" in line
    # The same matrix named in the settings file.
    config = tmp_path / "config.toml"
    config.write_text('authority = "tight.toml"\n')
    via_settings = one_line_err(decide(store, "refund", "c-1001", "--as", "a-7",
                                       env={"AGENTDESK_CONFIG": str(config)}))
    assert via_settings == line


def test_customer_text_in_the_line_is_made_safe(store: Path) -> None:
    line = one_line_out(decide(store, "note", "c-666", "--as", "a-7", "--reason", "\x1b[31mred\u202e"))
    assert "\x1b" not in line and "\u202e" not in line
    assert "for Eve ␛[2J‹U+202E›Evil‹U+202C› [bold]Boss[/] (c-666)" in line
    assert "note: ␛[31mred‹U+202E›" in line


# --- JSON ------------------------------------------------------------------------------


def test_json_of_a_queued_decision(store: Path) -> None:
    result = decide(store, "refund", "c-1001", "--as", "a-7", "--json")
    assert result.returncode == 0, result.stderr
    (obj,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert obj["outcome"] == "queued"
    assert obj["customer"] == {"id": "c-1001", "name": "Petra Lindner"}
    decision = obj["decision"]
    assert decision["type"] == "decision" and DECISION_ID.fullmatch(decision["id"])
    assert (decision["kind"], decision["amount"], decision["currency"], decision["state"], decision["case"]) == \
           ("refund", "39.90", "EUR", "queued", "k-55")
    assert obj["promise"]["type"] == "promise" and obj["promise"]["decision"] == decision["id"]
    assert obj["promise"]["what"] == "refund 39.90 EUR"
    assert obj["verdict"] == {"allowed": True, "rule": "agent.refund.max", "reason": None, "limit": "50.00",
                              "budget_left": "100.00", "currency": "EUR", "escalate_to": None}


def test_json_of_a_refusal(store: Path) -> None:
    result = decide(store, "refund", "c-1002", "--as", "a-7", "--amount", "80", "--json")
    assert result.returncode == 1
    assert result.stderr.startswith("agentdesk: refused: refund 80.00 EUR is over the agent limit of 50.00 EUR")
    (obj,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert obj["outcome"] == "refused" and obj["decision"] is None and obj["promise"] is None
    assert obj["proposal"] == {"kind": "refund", "amount": "80.00", "currency": "EUR", "at": None, "reason": None,
                               "proposes": None}
    assert obj["verdict"]["rule"] == "agent.refund.max" and obj["verdict"]["limit"] == "50.00"
    assert obj["verdict"]["escalate_to"] == "lead"
    assert obj["escalate_command"] == ["agentdesk", "decide", "escalate", "c-1002", "--propose", "refund",
                                       "--amount", "80.00", "--as", "a-7"]


# --- promises --------------------------------------------------------------------------


def test_promises_due_first_with_overdue_in_words(store: Path) -> None:
    one_line_out(decide(store, "refund", "c-1001", "--as", "a-7"))                      # due in 72 h
    one_line_out(decide(store, "voucher", "c-1002", "--as", "a-7"))                     # due in 24 h
    one_line_out(decide(store, "callback", "c-1001", "--as", "a-7", "--at", "2099-03-02 10:30"))
    result = agentdesk("promises", "--db", str(store))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 4
    # The sample's callback was due 20 minutes ago: first, and overdue in words (not only in colour).
    assert re.search(r"  OVERDUE by (19|20|21) min  +Petra Lindner \(c-1001\)  +callback  +d-1$", lines[0])
    assert "due in 23 h" in lines[1] and "Ole Brandt (c-1002)" in lines[1] and "goodwill voucher 15.00 EUR" in lines[1]
    assert "due in 2 d 23 h" in lines[2] and "refund 39.90 EUR" in lines[2]
    assert lines[3].startswith("Mon 2 Mar 2099 09:30 UTC  due in ")
    assert all(DECISION_ID.search(line) for line in lines[1:])
    assert "\x1b" not in result.stdout

    as_json = [json.loads(line) for line in agentdesk("promises", "--json", "--db", str(store)).stdout.splitlines()]
    assert [p["overdue"] for p in as_json] == [True, False, False, False]
    assert [p["due"] for p in as_json] == sorted((p["due"] for p in as_json),
                                                 key=lambda due: datetime.fromisoformat(due))
    assert as_json[0]["id"] == "p-1" and as_json[0]["customer_name"] == "Petra Lindner"
    assert as_json[0]["due_in_s"] < 0 < as_json[1]["due_in_s"]


def test_no_promises(tmp_path: Path, make_store) -> None:
    import asyncio

    store = asyncio.run(make_store([r for r in records() if r["type"] not in ("promise", "decision")]))
    result = agentdesk("promises", "--db", str(store))
    assert result.returncode == 0 and result.stdout == "No open promises.\n"


# --- the timeline ----------------------------------------------------------------------


def test_decisions_show_on_the_timeline_with_their_state(store: Path) -> None:
    refund = one_line_out(decide(store, "refund", "c-1001", "--as", "a-7", "--reason", "double charge"))
    escalation = one_line_out(decide(store, "escalate", "c-1001", "--as", "a-7", "--propose", "voucher",
                                     "--amount", "40.00"))
    result = agentdesk("timeline", "c-1001", "--db", str(store))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[-2].endswith("decision  internal  Jonas Weber  refund 39.90 EUR · double charge [queued]")
    assert lines[-1].endswith("decision  internal  Jonas Weber  escalate to lead: voucher 40.00 EUR "
                              "[waiting for approval]")
    as_json = [json.loads(line) for line in agentdesk("timeline", "c-1001", "--json", "--db", str(store)).stdout
               .splitlines()]
    # A decision's line is derived from it: --json prints the decision record itself.
    assert [(r["type"], r["id"], r["state"]) for r in as_json[-2:]] == [
        ("decision", refund.rsplit(" · ", 1)[1], "queued"), ("decision", escalation.rsplit(" · ", 1)[1], "queued")]
