"""Deciding in the plain session: refund, voucher, callback, escalate, note, undo, send, approvals.

Every write goes through :class:`agentdesk.store.ledger.Ledger`, exactly as the
workstation's customer and approvals screens do: the same undo window (settings
or ``--undo-window``), the same checks, the same audit. Read-only opens no ledger
at all; the commands then answer in one line that decisions are not available.

Before each prompt :meth:`Deciding.announce` says what happened meanwhile, one line
each: decisions whose undo window ended (queued now), callbacks of the signed-in
agent that fell due (once each), escalations of theirs that were approved or
declined (told by :class:`agentdesk.desk.watch.StoreWatch`, as on the workstation, in the
same words), and, with a backend, its answer to what this
session queued: nothing is said to be approved or confirmed before the backend has taken it.
"""

from __future__ import annotations

import re
import sqlite3
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING

from agentdesk.desk.store import OPEN_PROMISE_STATES, Choices, Ledger, LedgerError, ReplyContext, StoreReader
from agentdesk.desk.watch import EscalationOutcome, StoreWatch
from agentdesk.domain import entry_parse, reply
from agentdesk.domain.authority import (
    ESCALATABLE_KINDS,
    MONEY_KINDS,
    AuthorityMatrix,
    Proposal,
    Role,
    Verdict,
    customer_zone,
    decision_currency,
)
from agentdesk.domain.contact_log import ContactRefused, channel_named, direction_named
from agentdesk.domain.decision_text import (
    NO_AGENT,
    WAITING_FOR_BACKEND,
    approval_refused,
    backend_refusal_sentence,
    nothing_to_suggest,
    outcome_sentence,
    terms,
    why_no_decisions,
)
from agentdesk.domain.model import Agent, Channel, Customer, Decision, Direction, Promise
from agentdesk.domain.sms import segments
from agentdesk.domain.text import one_line
from agentdesk.domain.timefmt import duration, zone
from agentdesk.plain.lines import day_time
from agentdesk.plain.text import (
    answer_line,
    countdown,
    decision_words,
    escalate_command,
    option_line,
    proposal_words,
    refused_line,
    sent_words,
)

if TYPE_CHECKING:
    from agentdesk.plain.session import Syncing

SEPARATOR = ": "
"""Between the head of a line and what it says: ``read-only: decisions are not available``."""
NO_AGENT_LINE = NO_AGENT.line(SEPARATOR)
KEPT_NOTICES = 50
"""Announcements kept for ``notices``, like the workstation's recent notices."""
MAX_CALLBACK_LINES = 2
"""More callbacks falling due at one look than this are told in one line."""

_BECAUSE = re.compile(r"(?:^|\s)because(?:\s+|$)", re.IGNORECASE)


class Bad(Exception):
    """Input the session cannot act on; the message is the one line it answers. Nothing changed."""


def split_because(text: str) -> tuple[str, str | None]:
    """``39.90 because fee`` -> (``39.90``, ``fee``): the terms, and the free-text reason after ``because``."""
    match = _BECAUSE.search(text)
    if match is None:
        return text.strip(), None
    reason = unquote(text[match.end():].strip())
    if not reason:
        raise Bad("say why after 'because', or leave 'because' out")
    return text[:match.start()].strip(), reason


def unquote(text: str) -> str:
    """``"Petra Lindner"`` -> ``Petra Lindner``: one pair of surrounding quotes is taken off."""
    text = text.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1].strip()
    return text


# --------------------------------------------------------------------------- the deciding half of the session


@dataclass
class DecideState:
    """What the deciding commands remember between prompts."""

    refused: dict[str, tuple[Proposal, Verdict]] = field(default_factory=dict)
    """Customer id -> the last refusal there that could be escalated (``escalate`` alone escalates it)."""
    escalated_refusals: dict[str, tuple[Proposal, Verdict] | None] = field(default_factory=dict)
    """Escalation id -> the refusal it settled, given back to ``escalate`` if the escalation is undone."""
    alerted_callbacks: set[str] = field(default_factory=set)
    approvals: list[Decision] = field(default_factory=list)
    """The approvals list as last shown: ``approve N`` and ``decline N`` count in it."""
    notices: deque[tuple[datetime, str]] = field(default_factory=lambda: deque(maxlen=KEPT_NOTICES))
    """What was announced in this session, oldest first (``notices`` says them again)."""
    awaited: set[str] = field(default_factory=set)
    """Decisions (approvals too) this session queued for the backend: its answer is announced once."""


class Deciding:
    """The session's decision commands; :class:`agentdesk.plain.session.Session` mixes this in."""

    reader: StoreReader
    ledger: Ledger | None
    watch: StoreWatch | None
    agent: Agent | None
    agents: dict[str, Agent]
    matrix: AuthorityMatrix | None
    undo_window: timedelta | None
    cannot_decide: str | None
    customer: Customer | None
    decide: DecideState
    syncing: Syncing
    say: Callable[..., None]
    read_line: Callable[..., str | None]

    # --- who may decide -----------------------------------------------------------------

    @staticmethod
    def why_not(read_only: bool, agent: Agent | None, matrix: AuthorityMatrix | None) -> str | None:
        """Why this session decides nothing (one line), or None when it may decide."""
        reason = why_no_decisions(read_only, agent, matrix)
        return reason.line(SEPARATOR) if reason is not None else None

    def _deciding(self) -> tuple[Ledger, Agent, Customer]:
        if self.cannot_decide is not None or self.ledger is None or self.agent is None:
            raise Bad(self.cannot_decide or NO_AGENT_LINE)
        assert self.customer is not None  # the dispatcher only runs these with a customer open
        return self.ledger, self.agent, self.customer

    @property
    def uses_backend(self) -> bool:
        """Is a backend named (syncing, or waiting for a token)? Then only its answer makes a decision final."""
        return self.syncing.sync is not None or self.syncing.note is not None

    def _await(self, decision: Decision) -> None:
        """Queued for the backend: its answer is announced before a prompt (with a backend)."""
        if self.uses_backend and decision.state == "queued":
            self.decide.awaited.add(decision.id)

    @property
    def role(self) -> Role | None:
        if self.matrix is None or self.agent is None:
            return None
        return self.matrix.role(self.agent.role)

    def person(self, agent_id: str | None) -> str:
        if not agent_id:
            return ""
        agent = self.agents.get(agent_id)
        return agent.name if agent is not None else agent_id

    def their_zone(self, customer: Customer | None = None) -> tzinfo | None:
        customer = customer or self.customer
        return zone(customer.timezone) if customer is not None else None

    @staticmethod
    def now() -> datetime:
        return datetime.now(timezone.utc)

    # --- what the customer view shows -----------------------------------------------------

    async def decision_lines(self) -> list[str]:
        """The decision bar as lines, each starting with the command that takes it."""
        if self.cannot_decide is not None or self.ledger is None or self.agent is None:
            return [f"Decisions: {self.cannot_decide or NO_AGENT_LINE}"]
        assert self.customer is not None
        customer = self.customer
        choices = await self.ledger.choices(self.agent.id, customer.id)
        waiting = await self._waiting_here(customer.id)
        their_zone = self.their_zone()
        lines = [self.pending_line(d, customer) for d in await self._pending_here(customer.id)]
        lines.append("Decisions:")
        for kind in ("refund", "voucher", "callback"):
            option = choices.options.get(kind)
            if option is None:
                continue
            is_waiting = option.suggested is not None and _same(option.suggested, waiting)
            line = option_line(option, their_zone, waiting=is_waiting)
            if line is not None:
                lines.append(line)
        target = choices.role.escalate_to if choices.role is not None else None
        if target is not None:
            pick = self._escalation(choices, waiting)
            if pick is not None:
                lines.append(f"{escalate_command(pick[0], their_zone)} asks {target}")
            else:
                lines.append(f"escalate refund|voucher|callback [AMOUNT|TIME] asks {target}")
        if "note" in choices.options:
            lines.append("note TEXT")
        return lines

    async def authority(self) -> tuple[Role | None, Choices | None]:
        if self.cannot_decide is not None or self.ledger is None or self.agent is None or self.customer is None:
            return None, None
        choices = await self.ledger.choices(self.agent.id, self.customer.id)
        return choices.role, choices

    async def _pending_here(self, customer_id: str) -> list[Decision]:
        assert self.ledger is not None and self.agent is not None
        return [d for d in await self.ledger.pending(self.agent.id) if d.customer == customer_id]

    async def _waiting_here(self, customer_id: str) -> list[Decision]:
        return [d for d in await self.reader.decisions(customer_id)
                if d.kind == "escalate" and d.approval == "waiting" and d.state in ("pending", "queued", "confirmed")]

    def _escalation(self, choices: Choices, waiting: list[Decision]) -> tuple[Proposal, str | None] | None:
        """What ``escalate`` alone escalates: the last refusal here, else the first suggestion beyond a limit.

        Never one that already waits for approval: nobody is asked twice.
        """
        assert self.customer is not None
        refused = self.decide.refused.get(self.customer.id)
        if refused is not None and not _same(refused[0], waiting):
            return refused[0], refused[1].reason
        for kind in ESCALATABLE_KINDS:
            option = choices.options.get(kind)
            if (option is not None and not option.allowed and option.suggested is not None
                    and option.verdict.escalate_to and not _same(option.suggested, waiting)):
                return option.suggested, option.verdict.reason
        return None

    # --- the words of outcomes -------------------------------------------------------------

    def _name(self, customer: Customer | None, customer_id: str) -> str:
        return one_line(customer.name, 60) if customer is not None else one_line(customer_id, 40)

    def pending_line(self, decision: Decision, customer: Customer | None) -> str:
        """``PENDING refund 39.90 EUR for Petra Lindner · queued in 10 s unless you type undo (…)``."""
        what = one_line(decision_words(decision, self.their_zone(customer)), 200)
        line = f"PENDING {what} for {self._name(customer, decision.customer)} · "
        if decision.undo_until is None:
            return line + "stays pending until you type send or undo"
        verb = "send it" if decision.kind == "escalate" else "queue it"
        return line + f"{countdown(decision, self.now())} unless you type undo (or send to {verb} now)"

    async def _promise_of(self, decision: Decision) -> Promise | None:
        for promise in await self.reader.promises(OPEN_PROMISE_STATES, decision.customer):
            if promise.decision == decision.id:
                return promise
        return None

    def _gone_line(self, badge: str, decision: Decision, customer: Customer | None,
                   promise: Promise | None, *middle: str) -> str:
        """``TAKEN voucher 15.00 EUR for Petra Lindner · queued for the backend · promise due Tue 24 Nov …``."""
        name = self._name(customer, decision.customer)
        if decision.kind == "escalate":
            inner = Proposal(decision.proposal_kind or "", decision.amount, decision.scheduled)
            head = f"ESCALATED to {decision.escalate_to}: {proposal_words(inner, self.their_zone(customer))}"
        else:
            head = f"{badge} {decision_words(decision, self.their_zone(customer))}"
        parts = [f"{one_line(head, 200)} for {name}", *middle]
        backend = self.uses_backend
        if badge != "QUEUED" or decision.kind == "escalate" or backend:  # "QUEUED … queued for the backend" twice
            parts.append(sent_words(decision, backend=backend))
        if promise is not None:
            parts.append(f"promise due {day_time(promise.due)}")
        return " · ".join(parts)

    # --- announcements before each prompt ---------------------------------------------------

    def notice(self, line: str) -> None:
        """Say an announcement, and keep it for ``notices``."""
        self.decide.notices.append((self.now(), line))
        self.say(line)

    async def cmd_notices(self, rest: str) -> None:
        notices = list(reversed(self.decide.notices))
        if not notices:
            self.say("No notices yet in this session.")
            return
        self.say(f"Notices of this session: {len(notices)}, newest first:",
                 *(f"{at.astimezone():%H:%M} {line}" for at, line in notices))

    async def greet_outcomes(self) -> None:
        """At the start: escalations decided since this agent's last decision, then none of those again."""
        if self.watch is None or self.agent is None or self.ledger is None:
            return
        await self.watch.follow(self.agent.id)
        news = await self.watch.since_last_decision(self.agent.id)
        for outcome in news:
            self.notice(self.outcome_line(outcome) + " (since your last decision)")

    async def announce(self) -> None:
        """What happened since the last prompt, one line each (nothing when read-only or without an agent)."""
        ledger, agent = self.ledger, self.agent
        if ledger is None or agent is None:
            return
        try:
            for decision in await ledger.release_due():
                if decision.agent == agent.id:
                    self._await(decision)
                    customer = await self.reader.customer(decision.customer)
                    self.notice(self._gone_line("QUEUED", decision, customer, await self._promise_of(decision),
                                                "its undo window ended"))
            await self._announce_callbacks(ledger, agent)
            if self.watch is not None:
                news = await self.watch.look()  # its refusals are told among the answers below
                for outcome in news.outcomes if news is not None else ():
                    self.notice(self.outcome_line(outcome))
                for sent in news.replies if news is not None else ():
                    line = reply.outcome_sentence(sent.channel, sent.customer_name, sent.state, sent.detail)
                    self.notice(("SENT: " if sent.state == reply.SENT else "NOT SENT: ") + line)
            await self._announce_answers()
        except (sqlite3.Error, LedgerError):
            pass  # busy or briefly unavailable: the next prompt looks again

    async def _announce_answers(self) -> None:
        """The backend's answers to what this session queued, one line each, once."""
        for ident in sorted(self.decide.awaited):
            decision = await self.reader.decision(ident)
            if decision is not None and decision.state == "queued":
                continue
            self.decide.awaited.discard(ident)
            if decision is None or decision.state not in ("confirmed", "refused"):
                continue
            customer = await self.reader.customer(decision.customer)
            name = self._name(customer, decision.customer)
            if decision.approves is None and decision.state == "refused":
                zone_name = customer.timezone if customer is not None else None
                self.notice("REFUSED: " + backend_refusal_sentence(decision, name, zone_name))
                continue
            if decision.approves is None:
                self.notice(answer_line(decision, name, self.their_zone(customer), self.person))
                continue
            what = one_line(terms(decision, customer.timezone if customer else None), 120)
            if decision.state == "refused":
                self.notice(f"NOT APPROVED {what} for {name}: {approval_refused(decision)}")
                continue
            escalation = await self.reader.decision(decision.approves)
            told = f"; {one_line(self.person(escalation.agent), 60)} is told" if escalation is not None else ""
            self.notice(f"APPROVED {what} for {name}: the backend has taken your approval{told}.")

    async def _announce_callbacks(self, ledger: Ledger, agent: Agent) -> None:
        due = await ledger.due_callbacks(agent.id, self.now())
        fresh = [(d, p) for d, p in due if p.id not in self.decide.alerted_callbacks]
        if not fresh:
            return
        self.decide.alerted_callbacks.update(p.id for _, p in fresh)
        lines = [self.callback_line(d, p, await self.reader.customer(d.customer)) for d, p in fresh]
        if len(lines) > MAX_CALLBACK_LINES:  # e.g. at start after a day away: one line, not a wall of them
            lines = [f"{len(lines)} of your callbacks are due; they head the queue, earliest first. {lines[0]}"]
        for line in lines:
            self.notice(line)

    def callback_line(self, decision: Decision, promise: Promise, customer: Customer | None) -> str:
        """``Callback due now: Petra Lindner on +49 170 555 0199 — 14:15 their time (14:15 yours)``."""
        at = decision.scheduled or promise.due
        late = self.now() - at
        head = f"Callback overdue by {duration(late)}" if late.total_seconds() >= 60 else "Callback due now"
        line = f"{head}: {self._name(customer, decision.customer)}"
        phone = decision.phone or (customer.phone if customer is not None else None)
        if phone:
            line += f" on {one_line(phone, 40)}"
        yours = at.astimezone()
        if customer is not None and self.matrix is not None:
            theirs = at.astimezone(customer_zone(self.matrix, customer))
            return line + f" — {theirs:%H:%M} their time ({yours:%H:%M} yours)"
        return line + f" — {yours:%H:%M} your time"

    def outcome_line(self, outcome: EscalationOutcome) -> str:
        """``APPROVED: Mira Scholz approved your refund 80.00 EUR for Petra Lindner`` (or DECLINED: …: reason)."""
        escalation = outcome.escalation
        badge = "APPROVED" if escalation.approval == "approved" else "DECLINED"
        sentence = outcome_sentence(escalation, outcome.customer_name,
                                    self.person(escalation.approval_by) if escalation.approval_by else None,
                                    outcome.customer_zone)
        return f"{badge}: {sentence}"

    # --- taking decisions -----------------------------------------------------------------

    async def cmd_refund(self, rest: str) -> None:
        await self._take_kind("refund", rest)

    async def cmd_voucher(self, rest: str) -> None:
        await self._take_kind("voucher", rest)

    async def cmd_callback(self, rest: str) -> None:
        await self._take_kind("callback", rest)

    async def _take_kind(self, kind: str, rest: str) -> None:
        ledger, agent, customer = self._deciding()
        given, reason = split_because(rest)
        choices = await ledger.choices(agent.id, customer.id)
        proposal = self._terms(kind, given, choices, ledger, customer)
        await self._take(replace(proposal, reason=reason))

    def _terms(self, kind: str, given: str, choices: Choices, ledger: Ledger, customer: Customer) -> Proposal:
        """A refund, voucher or callback with what was typed, or else the decision bar's suggestion."""
        assert self.matrix is not None
        option = choices.options[kind]
        if kind in MONEY_KINDS:
            if given:
                currency = decision_currency(self.matrix, choices.situation)
                try:
                    return Proposal(kind, entry_parse.parse_money(given, currency))
                except entry_parse.EntryError as error:
                    raise Bad(f"{kind}: {one_line(str(error), 200)}; for example: {kind} 19.90") from None
            if option.suggested is not None:
                return option.suggested
            if option.verdict.needs == "amount":
                raise Bad(f"{kind}: nothing to suggest here ({nothing_to_suggest(kind, choices.case)}); "
                          f"give an amount, e.g. {kind} 19.90")
            return Proposal(kind)  # the ledger refuses it for what it is, and audits that
        if given:
            try:
                at = entry_parse.parse_when(given, customer_zone(self.matrix, customer), ledger.clock())
            except entry_parse.EntryError as error:
                raise Bad(f"callback: {one_line(str(error), 200)}") from None
            return Proposal(kind, at=at)
        if option.suggested is not None and option.suggested.at is not None:
            return option.suggested
        if option.verdict.needs == "time":
            raise Bad("callback: no free slot in callback hours in the next four weeks; "
                      "give a time, e.g. callback tomorrow 09:00")
        return Proposal(kind)

    async def cmd_escalate(self, rest: str) -> None:
        ledger, agent, customer = self._deciding()
        given, reason = split_because(rest)
        choices = await ledger.choices(agent.id, customer.id)
        role = choices.role
        if role is None or role.escalate_to is None:
            name = role.name if role is not None else "your role"
            raise Bad(f"NOT POSSIBLE: there is no role above {one_line(name, 30)} to escalate to")
        waiting = await self._waiting_here(customer.id)
        if given:
            kind, _, terms_text = given.partition(" ")
            kind = kind.lower()
            if kind not in ESCALATABLE_KINDS:
                raise Bad(f"escalate what? refund, voucher or callback, not '{one_line(kind, 30)}'; "
                          "e.g. escalate refund 80.00 because fee for our own fault")
            proposal = self._terms(kind, terms_text.strip(), choices, ledger, customer)
            refused = self.decide.refused.get(customer.id)
            if reason is None and refused is not None and _same_terms(refused[0], proposal):
                reason = refused[1].reason  # the refusal says why, as the workstation's e does
        else:
            pick = self._escalation(choices, waiting)
            if pick is None:
                raise Bad("escalate what? nothing here was refused; type escalate refund|voucher|callback "
                          "[AMOUNT|TIME] [because REASON]")
            proposal, refused_reason = pick
            reason = reason or refused_reason
        if _same(proposal, waiting):
            raise Bad(f"{one_line(proposal_words(proposal, self.their_zone()), 200)} already waits for "
                      f"{role.escalate_to}'s approval; nobody is asked twice")
        await self._take(Proposal("escalate", reason=reason, escalates=replace(proposal, reason=reason)))

    async def cmd_note(self, rest: str) -> None:
        self._deciding()
        text = rest.strip()
        if not text:
            raise Bad("note needs its text: note TEXT (colleagues see it, the customer does not)")
        await self._take(Proposal("note", reason=text))

    async def cmd_log(self, rest: str) -> None:
        ledger, agent, customer = self._deciding()
        words = rest.split(maxsplit=2)
        if len(words) < 3:
            raise Bad("log needs a channel, in or out, and a summary: log letter in cancels the contract")
        try:
            channel, direction = channel_named(words[0]), direction_named(words[1])
        except ContactRefused as refused:
            raise Bad(str(refused)) from None
        entry = await ledger.log_contact(agent.id, customer.id, channel, direction, words[2])
        assert entry.channel is not None  # a logged contact always has its channel
        self.say(f"LOGGED: {entry.channel.value} {entry.direction.value} · {one_line(entry.body, 120)} · "
                 f"{'waits for an answer' if direction is Direction.IN else 'counts as an answer'}")

    async def cmd_reply(self, rest: str) -> None:
        """``reply [email|sms] [TEXT]``: TEXT is sent as it is; without it, the reply is written in lines."""
        ledger, agent, customer = self._deciding()
        first, _, text = rest.partition(" ")
        channel = reply.channel_named(first)  # any other first word is the text
        if channel is None:
            text = rest
        context = await ledger.reply_context(agent.id, customer.id)
        if channel is None and context.draft is not None and not text.strip():
            channel = context.draft.channel
        try:
            where = reply.destination(customer, channel)
        except reply.ReplyRefused as refused:
            raise Bad(str(refused)) from None
        if not text.strip():
            written = await self._compose(context, where)
            if written is None:
                return
            text = written
        entry = await ledger.reply(agent.id, customer.id, text, where.channel, context.case.id if context.case
                                   else None)
        if self.watch is not None:
            self.watch.awaiting_reply(entry.id)
        length = ""
        if where.channel is Channel.SMS:
            parts = segments(entry.body).segments
            length = f" · {parts} SMS part{'s' if parts != 1 else ''}"
        self.say(f"QUEUED: reply by {where.words()}{length} · the backend sends it; the timeline says when it is sent")

    async def _compose(self, context: ReplyContext, where: reply.Destination) -> str | None:
        """Lines of a reply until ``.`` (send), ``~`` (keep a draft) or ``!`` (throw away); None unless sent."""
        case = f" · case {context.case.id}: {one_line(context.case.subject, 60)}" if context.case else ""
        self.say(f"Reply to {one_line(context.customer.name, 60)} by {where.words()}{case}.",
                 "Type the text; a line with only . sends it, ~ keeps it as a draft, ! throws it away. "
                 "Your signature follows:", *("  " + line for line in ("-- ", *context.signature.splitlines())))
        lines: list[str] = []
        if context.draft is not None:
            lines = context.draft.text.split("\n")
            self.say("Your draft so far:", *("  " + line for line in lines))
        while True:
            line = self.read_line(prompt="reply> ")
            if line is None or line.strip() == "~":
                kept = await self._keep_draft("\n".join(lines), where.channel, context)
                self.say("KEPT as a draft: reply opens it again" if kept else "nothing written: nothing kept")
                return None
            if line.strip() == "!":
                await self._keep_draft("", where.channel, context)
                self.say("thrown away")
                return None
            if line.strip() == ".":
                return "\n".join(lines)
            lines.append(line)

    async def _keep_draft(self, text: str, channel: Channel, context: ReplyContext) -> bool:
        assert self.ledger is not None
        return await self.ledger.save_draft(context.agent.id, context.customer.id, text, channel,
                                            context.case.id if context.case else None)

    async def cmd_adjust(self, rest: str) -> None:
        self._deciding()
        if not rest.strip():
            self.say("adjust: in plain mode you adjust by giving the amount or time with the decision: "
                     "refund 20, voucher 10, callback tomorrow 09:00, escalate refund 80 "
                     "(adjust refund 20 works too)")
            return
        kind, _, given = rest.strip().partition(" ")
        kind = kind.lower()
        if kind in ESCALATABLE_KINDS:
            await self._take_kind(kind, given)
        elif kind == "escalate":
            await self.cmd_escalate(given)
        else:
            raise Bad(f"adjust what? refund, voucher or callback, not '{one_line(kind, 30)}'; e.g. adjust refund 20")

    async def _take(self, proposal: Proposal) -> None:
        ledger, agent, customer = self._deciding()
        taken = await ledger.take(agent.id, customer.id, proposal, undo_window=self.undo_window)
        decision = taken.decision
        if decision is None:
            verdict = taken.verdict
            if verdict.escalate_to and verdict.proposal.kind in ESCALATABLE_KINDS:
                self.decide.refused[customer.id] = (verdict.proposal, verdict)
            self.say(refused_line(verdict, self.their_zone()))
            return
        if decision.kind == "escalate":
            # settled; an undo of the escalation brings the refusal back for escalate
            self.decide.escalated_refusals[decision.id] = self.decide.refused.pop(customer.id, None)
        if decision.state == "pending":
            self.say(self.pending_line(decision, customer))
            return
        self._await(decision)
        badge = "ESCALATED" if decision.kind == "escalate" else "TAKEN"
        self.say(self._gone_line(badge, decision, customer, taken.promise))

    async def cmd_undo(self, rest: str) -> None:
        await self._change("undo")

    async def cmd_send(self, rest: str) -> None:
        await self._change("send")

    async def _change(self, verb: str) -> None:
        ledger, agent, customer = self._deciding()
        pending = await self._pending_here(customer.id)
        if not pending:
            raise Bad(f"nothing to {verb}: none of your decisions for {self._name(customer, customer.id)} is pending")
        newest = pending[-1]
        if verb == "undo":
            try:
                undone = await ledger.undo(agent.id, newest.id)
            except LedgerError as error:
                raise Bad(f"NOT UNDONE: {one_line(str(error), 300)}") from None
            restored = self.decide.escalated_refusals.pop(undone.id, None)
            if restored is not None:
                self.decide.refused[customer.id] = restored
            what = one_line(decision_words(undone, self.their_zone()), 200)
            self.say(f"UNDONE {what}: taken back, nothing was sent")
            return
        sent = await ledger.send_now(agent.id, newest.id)
        self._await(sent)
        self.say(self._gone_line("QUEUED", sent, customer, await self._promise_of(sent)))

    # --- approvals ------------------------------------------------------------------------

    def _approver(self) -> tuple[Ledger, Agent]:
        if self.cannot_decide is not None or self.ledger is None or self.agent is None:
            raise Bad(self.cannot_decide or NO_AGENT_LINE)
        role = self.role
        if role is None or not role.approves:
            name = one_line(role.name, 30) if role is not None else "your"
            line = f"approvals: the {name} role approves nothing"
            if role is not None and role.escalate_to:
                line += f"; your escalations go to {one_line(role.escalate_to, 30)}"
            raise Bad(line)
        return self.ledger, self.agent

    async def approval_lines(self) -> tuple[list[str], list[str]]:
        """The escalations waiting for this lead, numbered, oldest first; and their customers' ids."""
        ledger, agent = self._approver()
        waiting = await ledger.waiting_approvals(agent.id)
        self.decide.approvals = waiting
        customers: dict[str, Customer | None] = {}
        subjects: dict[str, str] = {}
        for decision in waiting:
            if decision.customer not in customers:
                customers[decision.customer] = await self.reader.customer(decision.customer)
                for case in await self.reader.open_cases(decision.customer):
                    subjects[case.id] = case.subject
        now = self.now()
        lines = []
        for number, escalation in enumerate(waiting, start=1):
            customer = customers.get(escalation.customer)
            what = one_line(terms(escalation, customer.timezone if customer else None), 120)
            parts = [f"{number}. {what} for {self._name(customer, escalation.customer)}",
                     f"by {one_line(self.person(escalation.agent), 60)}",
                     f"waiting {duration(now - escalation.at)}"]
            if escalation.case:
                case_words = f"case {one_line(escalation.case, 30)}"
                if escalation.case in subjects:
                    case_words += f": {one_line(subjects[escalation.case], 60)}"
                parts.append(case_words)
            why = f"“{one_line(escalation.reason, 200)}”" if escalation.reason else "no reason given"
            parts.append(f"why: {why}")
            lines.append(" · ".join(parts))
        return lines, [d.customer for d in waiting]

    def _picked(self, rest: str, verb: str) -> Decision:
        number_text, _, _ = rest.strip().partition(" ")
        if not number_text:
            raise Bad(f"{verb} which? give its number from the approvals list, e.g. {verb} 1")
        if not number_text.isdigit():
            raise Bad(f"{verb}: '{one_line(number_text, 30)}' is not a number from the approvals list")
        number = int(number_text)
        listed = self.decide.approvals
        if not listed:
            raise Bad(f"{verb}: no escalation was listed; type approvals to list them")
        if not 1 <= number <= len(listed):
            raise Bad(f"{verb}: no number {number} in the approvals list (1 to {len(listed)})")
        return listed[number - 1]

    async def cmd_approve(self, rest: str) -> None:
        ledger, agent = self._approver()
        escalation = self._picked(rest, "approve")
        customer = await self.reader.customer(escalation.customer)
        name = self._name(customer, escalation.customer)
        what = one_line(terms(escalation, customer.timezone if customer else None), 120)
        try:
            taken = await ledger.approve(agent.id, escalation.id)
        except LedgerError as error:
            raise Bad(f"NOT APPROVED {what} for {name}: {one_line(str(error), 300)}") from None
        decision = taken.decision
        escalated_by = one_line(self.person(escalation.agent), 60)
        if decision is None:
            verdict = taken.verdict
            higher = f"; the {verdict.escalate_to} could decide it" if verdict.escalate_to else ""
            self.say(f"NOT APPROVED {what} for {name}: your own limits refuse it: "
                     f"{one_line(verdict.reason or 'outside your authority', 300)}{higher}. It still waits.")
            return
        due = f", promise due {day_time(taken.promise.due)}" if taken.promise is not None else ""
        if self.uses_backend:  # approved once the backend has taken it: it may still refuse
            self._await(decision)
            self.say(f"APPROVAL SENT {what} for {name}: {WAITING_FOR_BACKEND}{due}; "
                     f"{escalated_by} is told once the backend has taken it.")
            return
        self.say(f"APPROVED {what} for {name}: queued{due}; {escalated_by} is told.")

    async def cmd_decline(self, rest: str) -> None:
        ledger, agent = self._approver()
        head, reason = split_because(rest)
        escalation = self._picked(head, "decline")
        reason = reason or unquote(head.strip().partition(" ")[2]) or None  # "decline 2 no proof" says why too
        customer = await self.reader.customer(escalation.customer)
        name = self._name(customer, escalation.customer)
        what = one_line(terms(escalation, customer.timezone if customer else None), 120)
        try:
            declined = await ledger.decline(agent.id, escalation.id, reason or f"declined by {agent.name}")
        except LedgerError as error:
            raise Bad(f"NOT DECLINED {what} for {name}: {one_line(str(error), 300)}") from None
        self.say(f"DECLINED {what} for {name} ({one_line(declined.approval_reason or '', 200)}); "
                 f"{one_line(self.person(escalation.agent), 60)} is told.")


def _same_terms(proposal: Proposal, other: Proposal) -> bool:
    return proposal.kind == other.kind and proposal.amount == other.amount and proposal.at == other.at


def _same(proposal: Proposal, waiting: list[Decision]) -> bool:
    """Is exactly this proposal already escalated here and waiting for approval?"""
    return any(d.proposal_kind == proposal.kind and d.amount == proposal.amount and d.scheduled == proposal.at
               for d in waiting)

