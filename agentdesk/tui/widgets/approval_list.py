"""Escalations waiting for a lead's approval, as a line list: one row each, nothing else per row.

With a backend, an escalation the lead approved stays on the list until the backend has taken the
approval (``approval sent, waiting for the backend``), and for a day when it refused it
(``approval refused by the backend: <why>``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import ClassVar

from rich.text import Text
from textual.binding import BindingType

from agentdesk.domain.decision_text import APPROVAL_SENT, approval_refused, terms
from agentdesk.domain.model import Case, Customer, Decision
from agentdesk.domain.text import one_line
from agentdesk.domain.timefmt import duration
from agentdesk.tui.widgets.columns import fit
from agentdesk.tui.widgets.line_list import LineList, list_bindings

GAP = "  "


@dataclass(frozen=True, slots=True)
class ApprovalItem:
    """One waiting escalation with what is shown beside it."""

    escalation: Decision
    customer: Customer | None
    case: Case | None
    approval: Decision | None = None
    """The signed-in lead's approval of it, sent but not taken by the backend (queued or refused)."""

    @property
    def status(self) -> str | None:
        """Where the lead's approval stands; None when the escalation still waits for the lead."""
        if self.approval is None:
            return None
        return approval_refused(self.approval) if self.approval.state == "refused" else APPROVAL_SENT

    @property
    def refused(self) -> bool:
        return self.approval is not None and self.approval.state == "refused"

    @property
    def customer_name(self) -> str:
        return self.customer.name if self.customer is not None else self.escalation.customer

    @property
    def proposal(self) -> str:
        return terms(self.escalation, self.customer.timezone if self.customer is not None else None)

    @property
    def why(self) -> str:
        return self.escalation.reason or "no reason given"

    @property
    def case_text(self) -> str:
        if self.case is not None:
            return f"{self.case.id} {self.case.subject}"
        return self.escalation.case or "—"


@dataclass(frozen=True, slots=True)
class ApprovalColumns:
    customer: int
    by: int
    proposal: int
    waited: int
    case: int
    why: int

    @classmethod
    def for_width(cls, width: int) -> ApprovalColumns:
        if width >= 104:
            customer, by, proposal, waited, case = 22, 18, 22, 10, 24
            fixed = customer + by + proposal + waited + case + 5 * len(GAP)
            return cls(customer, by, proposal, waited, case, max(width - fixed, 0))
        # narrow: the case and the reason move to the detail lines under the list
        waited, proposal = 9, 20
        rest = max(width - (waited + proposal + 3 * len(GAP)), 16)
        customer = max(rest * 11 // 20, 8)
        return cls(customer, max(rest - customer, 6), proposal, waited, 0, 0)


class ApprovalList(LineList[ApprovalItem]):
    """Waiting escalations, oldest first: customer, who escalated, what is proposed, how long it waits, case, why."""

    HELP_TITLE: ClassVar[str] = "Approvals"
    BINDINGS: ClassVar[list[BindingType]] = list_bindings(
        "approvals", open_description="Open customer", noun="escalation", open_id="open_customer")
    header_rows = 1
    loading_message = "Reading the escalations…"
    empty_message = "No escalation waits for your approval."

    def __init__(self, person: Callable[[str | None], str], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.person = person
        """An agent's name for an agent id."""
        self.now = datetime.now(timezone.utc)

    def render_header(self, width: int) -> Text:
        columns = ApprovalColumns.for_width(width)
        parts = [fit("Customer", columns.customer), fit("Escalated by", columns.by),
                 fit("Proposed", columns.proposal), fit("Waiting", columns.waited)]
        if columns.case:
            parts.append(fit("Case", columns.case))
        if columns.why:
            parts.append(fit("Why it was escalated", columns.why))
        return Text(GAP.join(parts), end="", no_wrap=True)

    def render_row(self, item: ApprovalItem, row: int, width: int) -> Text:
        columns = ApprovalColumns.for_width(width)
        muted = self.style("muted")
        text = Text(end="", no_wrap=True)
        text.append(fit(one_line(item.customer_name, columns.customer * 2), columns.customer))
        text.append(GAP)
        text.append(fit(one_line(self.person(item.escalation.agent), columns.by * 2), columns.by))
        text.append(GAP)
        text.append(fit(one_line(item.proposal, columns.proposal * 2), columns.proposal), self.style("accent"))
        text.append(GAP)
        status = item.status
        if status is not None:  # in place of the waiting time, the case and the reason: what became of it
            rest = max(width - text.cell_len, 0)
            text.append(fit(one_line(status, rest * 2), rest), self.style("warning" if item.refused else "muted"))
            return text
        text.append(fit(duration(self.now - item.escalation.at), columns.waited))
        if columns.case:
            text.append(GAP)
            text.append(fit(one_line(item.case_text, columns.case * 2), columns.case), muted)
        if columns.why:
            text.append(GAP)
            text.append(fit(one_line(item.why, columns.why * 2), columns.why), muted)
        return text
