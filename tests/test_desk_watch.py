"""The store watcher every front end uses (``agentdesk.desk.watch.StoreWatch``), on a real store file.

A commit by another connection is noticed at the next look, and a lead's answer to the followed
agent's escalation is told once; what was decided before the watch followed the agent is not news.
"""

from __future__ import annotations

from pathlib import Path

from agentdesk.desk.watch import StoreWatch
from agentdesk.domain.authority import Proposal
from agentdesk.store.ledger import Ledger
from tests.test_ledger import MATRIX, Clock, eur, store  # noqa: F401 - the store fixture


async def escalate_voucher(ledger: Ledger, clock: Clock) -> str:
    refused = await ledger.take("a-7", "c-1", Proposal("voucher", eur("40.00")))
    escalation = (await ledger.take("a-7", "c-1", Proposal("escalate", escalates=refused.verdict.proposal,
                                                           reason="fee for our fault"))).decision
    assert escalation is not None
    clock.advance(seconds=11)
    await ledger.release_due()
    return escalation.id


async def test_a_lead_s_answer_is_told_once_and_only_after_a_commit(store: Path) -> None:
    clock = Clock()
    async with StoreWatch.open(store) as watch, Ledger.open(store, MATRIX, clock) as ledger:
        assert await watch.look() is None  # nobody committed since the watch opened
        earlier = await escalate_voucher(ledger, clock)
        await ledger.decline("a-2", earlier, "no proof")  # before the watch follows a-7: not news
        await watch.follow("a-7")
        news = await watch.look()
        assert news is not None and news.outcomes == ()

        escalation = await escalate_voucher(ledger, clock)
        approved = await ledger.approve("a-2", escalation)
        news = await watch.look()
        assert news is not None
        (outcome,) = news.outcomes
        assert (outcome.escalation.id, outcome.escalation.approval, outcome.escalation.approval_by) == (
            escalation, "approved", "a-2")
        assert outcome.decision is not None and outcome.decision.id == approved.decision.id
        assert outcome.customer_name == "Petra Lindner"
        assert await watch.look() is None  # told once: nothing committed since

        await ledger.take("a-7", "c-1", Proposal("note", reason="called back"))
        news = await watch.look()
        assert news is not None and news.outcomes == ()  # a commit, but no new answer


async def test_at_the_start_the_answers_since_the_agent_s_last_decision_are_news(store: Path) -> None:
    clock = Clock()
    async with Ledger.open(store, MATRIX, clock) as ledger:
        escalation = await escalate_voucher(ledger, clock)
        clock.advance(minutes=5)
        await ledger.decline("a-2", escalation, "no proof")
    async with StoreWatch.open(store) as watch:
        (outcome,) = await watch.since_last_decision("a-7")
        assert (outcome.escalation.id, outcome.escalation.approval_reason) == (escalation, "no proof")
        assert await watch.since_last_decision("a-2") == []  # the lead escalated nothing
