"""``agentdesk decide``: one decision, checked by the same rules as the workstation, in one line.

Everything goes through :class:`agentdesk.store.ledger.Ledger` (the workstation's
write path), with no undo window: a script has no undo key, so the decision is
queued at once and its promise made in the same durable commit. A refusal is
audited by the ledger and printed with the rule, the limit and the command that
escalates it.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from dataclasses import replace
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from agentdesk.cli.commands import CommandError, UsageError
from agentdesk.desk.store import Choices, Ledger, LedgerError, StoreReader
from agentdesk.domain import entry_parse
from agentdesk.domain.authority import (
    ESCALATABLE_KINDS,
    MONEY_KINDS,
    AuthorityMatrix,
    Proposal,
    Verdict,
    customer_zone,
    decision_currency,
)
from agentdesk.domain.decision_text import nothing_to_suggest, summary
from agentdesk.domain.model import Customer, Decision, Promise
from agentdesk.domain.money import Money
from agentdesk.domain.text import one_line
from agentdesk.plain.lines import day_time, print_json

QUEUED_AT_ONCE = timedelta(0)
"""A script has no undo key: its decisions skip the undo window."""


async def decide(store: Path, args: argparse.Namespace, matrix: AuthorityMatrix) -> int:
    async with StoreReader.open(store) as reader:
        customer = await reader.find_customer(args.customer)
        if customer is None:
            raise CommandError(f"no customer with id, e-mail or phone {args.customer!r}")
        try:
            async with Ledger.open(store, matrix) as ledger:
                choices = await ledger.choices(args.agent, customer.id, args.case)
                proposal = _proposal(args, matrix, customer, choices, ledger.clock())
                taken = await ledger.take(args.agent, customer.id, proposal, case_id=args.case,
                                          undo_window=QUEUED_AT_ONCE)
        except LedgerError as exc:
            raise CommandError(str(exc)) from None
        decision = taken.decision
        if decision is None:
            return _refused(args, customer, taken.verdict)
        promise = taken.promise
    if args.json:
        print_json(_json(decision, promise, taken.verdict, customer))
    else:
        sys.stdout.write(_queued_line(decision, promise, customer) + "\n")
    sys.stdout.flush()  # the line says the decision is on disk: let it out at once
    return 0


# --- what is proposed -------------------------------------------------------------------


def _proposal(args: argparse.Namespace, matrix: AuthorityMatrix, customer: Customer, choices: Choices,
              now: datetime) -> Proposal:
    reason = args.reason.strip() if args.reason and args.reason.strip() else None
    if args.kind == "note":
        return Proposal("note", reason=reason)
    if args.kind == "escalate":
        inner = _terms(args.propose, args, matrix, customer, choices, now)
        return Proposal("escalate", reason=reason, escalates=replace(inner, reason=reason))
    return replace(_terms(args.kind, args, matrix, customer, choices, now), reason=reason)


def _terms(kind: str, args: argparse.Namespace, matrix: AuthorityMatrix, customer: Customer, choices: Choices,
           now: datetime) -> Proposal:
    """A refund, voucher or callback with what was given, or else the decision bar's suggestion."""
    option = choices.options[kind]
    if kind in MONEY_KINDS:
        if args.amount is not None:
            return Proposal(kind, parse_amount(args.amount, decision_currency(matrix, choices.situation)))
        if option.suggested is not None:
            return option.suggested
        # Nothing to suggest. When only the amount is missing, ask for one; otherwise let
        # the ledger refuse (and audit) the kind for what it is.
        if option.verdict.needs == "amount":
            raise CommandError(f"{kind} needs --amount ({nothing_to_suggest(kind, choices.case)})")
        return Proposal(kind)
    if args.at is not None:
        return Proposal(kind, at=parse_when(args.at, customer_zone(matrix, customer), now))
    if option.suggested is not None and option.suggested.at is not None:
        return option.suggested
    raise CommandError("callback needs --at (no free slot in callback hours in the next four weeks)")



def parse_amount(text: str, currency: str) -> Money:
    """``39.90`` in ``currency``, read as the workstation reads it: a comma or an exponent is refused, never guessed."""
    try:
        return entry_parse.parse_money(text, currency)
    except entry_parse.EntryError as error:
        reason = one_line(str(error), 300)
        said = reason if reason.startswith(repr(text.strip())) else f"{text!r}: {reason}"
        raise UsageError(f"--amount {said}") from None


def parse_when(text: str, zone: tzinfo, now: datetime) -> datetime:
    """The workstation's reading of a time (``14:30``, ``tomorrow 09:00``, ISO 8601…) on the customer's clock."""
    try:
        return entry_parse.parse_when(text, zone, now)
    except entry_parse.EntryError as error:
        raise UsageError(f"--at {one_line(str(error), 300)}") from None


# --- what is printed --------------------------------------------------------------------


def _who(customer: Customer) -> str:
    return f"{one_line(customer.name, 60)} ({customer.id})"


def _what(decision: Decision, customer: Customer) -> str:
    """``refund 39.90 EUR``, ``callback Mon 24 Nov 14:30 (Europe/Berlin) on …``, ``note: text``."""
    if decision.kind == "note":
        return f"note: {one_line(decision.reason or '', 200)}"
    return one_line(summary(replace(decision, reason=None), customer.timezone))


def _queued_line(decision: Decision, promise: Promise | None, customer: Customer) -> str:
    line = f"{decision.state}: {_what(decision, customer)} for {_who(customer)}"
    if decision.case:
        line += f", case {decision.case}"
    if promise is not None:
        line += f" · promise: {one_line(promise.what)} due {day_time(promise.due)}"
    elif decision.kind == "escalate":
        line += f" · waiting for approval by {decision.escalate_to}"
    return f"{line} · {decision.id}"


def _refused(args: argparse.Namespace, customer: Customer, verdict: Verdict) -> int:
    line = f"refused: {verdict.reason} (rule {verdict.rule})"
    command = _escalation_command(args, customer, verdict)
    if command is not None:
        line += f"; escalate to {verdict.escalate_to} with: {shlex.join(command)}"
    if args.json:
        print_json(_refusal_json(verdict, customer, command))
        sys.stdout.flush()
    print(f"agentdesk: {one_line(line)}", file=sys.stderr)
    return 1


def _escalation_command(args: argparse.Namespace, customer: Customer, verdict: Verdict) -> list[str] | None:
    proposal = verdict.proposal
    if verdict.escalate_to is None or proposal.kind not in ESCALATABLE_KINDS:
        return None
    command = ["agentdesk", "decide", "escalate", customer.id, "--propose", proposal.kind]
    if proposal.amount is not None:
        command += ["--amount", proposal.amount.text]
    if proposal.at is not None:
        command += ["--at", proposal.at.isoformat()]
    if args.case:
        command += ["--case", args.case]
    if proposal.reason:
        command += ["--reason", proposal.reason]
    return command + ["--as", args.agent]


def _verdict_json(verdict: Verdict) -> dict[str, Any]:
    money = verdict.limit or verdict.budget_left
    return {
        "allowed": verdict.allowed,
        "rule": verdict.rule,
        "reason": verdict.reason,
        "limit": verdict.limit.text if verdict.limit is not None else None,
        "budget_left": verdict.budget_left.text if verdict.budget_left is not None else None,
        "currency": money.currency if money is not None else None,
        "escalate_to": verdict.escalate_to,
    }


def _json(decision: Decision, promise: Promise | None, verdict: Verdict, customer: Customer) -> dict[str, Any]:
    from agentdesk.interchange.codec import to_json_obj

    return {
        "outcome": decision.state,
        "customer": {"id": customer.id, "name": customer.name},
        "decision": to_json_obj(decision),
        "promise": to_json_obj(promise) if promise is not None else None,
        "verdict": _verdict_json(verdict),
    }


def _refusal_json(verdict: Verdict, customer: Customer, command: list[str] | None) -> dict[str, Any]:
    proposal = verdict.proposal
    inner = proposal.escalates
    terms = inner if inner is not None else proposal
    return {
        "outcome": "refused",
        "customer": {"id": customer.id, "name": customer.name},
        "decision": None,
        "promise": None,
        "proposal": {
            "kind": proposal.kind,
            "amount": terms.amount.text if terms.amount is not None else None,
            "currency": terms.amount.currency if terms.amount is not None else None,
            "at": terms.at.isoformat() if terms.at is not None else None,
            "reason": proposal.reason,
            "proposes": inner.kind if inner is not None else None,
        },
        "verdict": _verdict_json(verdict),
        "escalate_command": command,
    }
