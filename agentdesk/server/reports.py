"""Workstations report what they could not do: changes from ``/changes`` they set aside.

A workstation that cannot apply a record (it names a customer the workstation does not
hold yet, a time it cannot show) keeps it aside and tells the backend once, so the
operators see it in the backend's log. The report is a diagnostic, not customer data:
each item is logged as one line at WARNING with the reporting user, and never stored.
Every field is bounded, so a report costs the log a few lines at most.
"""

from __future__ import annotations

import logging

from pydantic import BaseModel, ConfigDict, Field

from agentdesk.domain.text import one_line
from agentdesk.server.limits import MAX_SEQ

log = logging.getLogger("agentdesk.server.reports")

MAX_ITEMS = 100
"""Items per report; a workstation with more sends several."""
MAX_REASON = 500


class SetAsideItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: str = Field(min_length=1, max_length=40, description="The record's type, e.g. decision")
    id: str = Field(min_length=1, max_length=200, description="The record's id")
    seq: int = Field(ge=0, le=MAX_SEQ, description="The seq of the change that brought it")
    reason: str = Field(min_length=1, max_length=MAX_REASON, description="Why it could not be applied, one line")


class SetAsideReport(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[SetAsideItem] = Field(min_length=1, max_length=MAX_ITEMS,
                                      description=f"At most {MAX_ITEMS} changes the workstation set aside")


def log_set_aside(user_name: str, report: SetAsideReport) -> None:
    """One WARNING line per item; the workstation's words are made inert (no control characters, one line)."""
    for item in report.items:
        log.warning("workstation of %s could not apply %s %s (change %d): %s", one_line(user_name, 60),
                    one_line(item.type, 40), one_line(item.id, 200), item.seq, one_line(item.reason, MAX_REASON))
