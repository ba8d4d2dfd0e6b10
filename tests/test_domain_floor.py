"""The floor in the domain: who is where, today's decisions against authority, the longest waits, missed
deadlines, escalations by age, promises by owner; the same in lines and in JSON."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from agentdesk.authority_file import demo_matrix
from agentdesk.domain.floor import build_floor, floor_json, floor_lines
from agentdesk.domain.model import Agent, Channel, Decision, Promise
from agentdesk.domain.money import Money
from agentdesk.domain.presence import Seen
from agentdesk.domain.queue import Waiting, order_queue

NOW = datetime(2026, 12, 7, 15, 0, tzinfo=timezone.utc)
DAY = NOW.replace(hour=0)
AGENTS = [Agent("a-7", "Jonas Weber", "agent"), Agent("a-8", "Dennis Yilmaz", "agent"),
          Agent("a-2", "Markus Brandt", "lead"), Agent("a-1", "Katrin Hoffmann", "supervisor"),
          Agent("admin", "admin", "admin")]


def decision(ident: str, agent: str, kind: str, amount: str | None, at: datetime, state: str = "confirmed",
             **more: object) -> Decision:
    return Decision(ident, "c-1", kind, agent, at, state, amount=Money.parse(amount, "EUR") if amount else None,
                    **more)  # type: ignore[arg-type]


def floor():  # noqa: ANN201
    places = order_queue([
        Waiting("c-1", "Petra Lindner", NOW - timedelta(minutes=30), (Channel.EMAIL,),
                deadline=NOW - timedelta(minutes=5), deadline_what="reply promised"),
        Waiting("c-2", "Ole Brandt", NOW - timedelta(minutes=10), (Channel.CHAT,))], NOW)
    return build_floor(
        now=NOW, day_start=DAY, agents=AGENTS, matrix=demo_matrix(),
        presence=[Seen("a-7", "Jonas Weber", "c-2", True), Seen("a-8", "Dennis Yilmaz", None, False)],
        places=places,
        decisions_today=[decision("d-1", "a-7", "refund", "39.90", NOW - timedelta(hours=2)),
                         decision("d-2", "a-7", "voucher", "15.00", NOW - timedelta(hours=1), state="pending"),
                         decision("d-3", "a-7", "refund", "10.00", NOW - timedelta(hours=1), state="refused"),
                         decision("d-4", "a-7", "refund", "5.00", DAY - timedelta(minutes=1))],
        replies_today={"a-8": 2},
        escalations=[decision("d-5", "a-8", "escalate", "80.00", NOW - timedelta(minutes=40), state="queued",
                              escalate_to="lead", proposal_kind="refund", approval="waiting"),
                     decision("d-6", "a-8", "escalate", "90.00", NOW - timedelta(hours=3), state="queued",
                              escalate_to="lead", proposal_kind="refund", approval="approved")],
        open_promises=[(Promise("p-1", "c-1", "callback", NOW - timedelta(hours=1), "open", "d-1"), "a-7"),
                       (Promise("p-2", "c-1", "credit", NOW + timedelta(hours=2), "open", "d-2"), "a-7"),
                       (Promise("p-3", "c-2", "letter", NOW + timedelta(days=2), "open"), None)],
        names={"c-1": "Petra Lindner", "c-2": "Ole Brandt"})


def test_agents_in_words_with_presence_decisions_against_authority_and_replies() -> None:
    lines = floor_lines(floor())
    assert lines[0] == "Agents (2 of 3 at a workstation)"  # the supervisor and the admin are not on the floor
    assert lines[1] == ("  Jonas Weber · agent · online on Ole Brandt, typing a reply · 2 decisions today · "
                        "refunds 39.90 EUR, each up to 50.00 · vouchers 15.00 EUR, each up to 25.00 · 0 replies sent")
    assert lines[2] == "  Dennis Yilmaz · agent · idle · 0 decisions today · 2 replies sent"
    assert lines[3] == "  Markus Brandt · lead · offline · 0 decisions today · 0 replies sent"


def test_queue_missed_deadlines_escalations_and_promises() -> None:
    text = "\n".join(floor_lines(floor()))
    assert "Queue: 2 waiting, longest effective waits:\n  1. Petra Lindner · waited 30 min" in text
    assert "Missed deadlines: 1\n  1. Petra Lindner" in text
    assert ("Escalations waiting for approval: 1\n  refund 80.00 EUR for Petra Lindner · by Dennis Yilmaz to lead · "
            "waiting 40 min") in text
    assert ("Promises by owner:\n  Jonas Weber · 1 overdue · 1 due today · oldest overdue by 1 h 00 min: "
            "callback") in text
    assert "nobody named" not in text  # due in two days: neither due today nor overdue


def test_the_json_says_the_same() -> None:
    data = floor_json(floor())
    jonas = data["agents"][0]
    assert (jonas["state"], jonas["customer"], jonas["typing"], jonas["decisions_today"]) == ("online", "c-2", True, 2)
    assert jonas["spent_today"] == {"refund": "39.90", "voucher": "15.00"}
    assert data["queue"]["waiting"] == 2 and data["escalations_waiting"][0]["age_s"] == 2400
    assert data["promises"] == [{"owner": "a-7", "name": "Jonas Weber", "due_today": 1, "overdue": 1}]


def test_without_presence_every_agent_reads_unknown() -> None:
    built = build_floor(now=NOW, day_start=DAY, agents=AGENTS[:1], matrix=None, presence=None, places=[],
                        decisions_today=[], replies_today={}, escalations=[], open_promises=[], names={})
    assert floor_lines(built)[:2] == ["Agents (1; presence unknown)",
                                      "  Jonas Weber · agent · unknown · 0 decisions today · 0 replies sent"]
