"""The backend's request and response bodies (pydantic), so ``/openapi.json`` describes every one."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Discriminator, Field
from pydantic_core import PydanticCustomError

from agentdesk.interchange.codec import lone_surrogate_at
from agentdesk.server.limits import MAX_FREE_TEXT_CHARS
from agentdesk.server.records import MAX_RECORDS

InterchangeObject = Annotated[dict[str, Any], Field(
    description="An interchange record (docs/interchange.md), e.g. "
                '{"type": "customer", "id": "c-1001", "name": "Petra Lindner"}')]


class ErrorDetail(BaseModel):
    detail: str = Field(description="What went wrong, in one line")


class Gone(BaseModel):
    detail: str = Field(description="Why the cursor cannot be served, in one line")
    refetch: Literal[True] = Field(description="Always true: fetch /snapshot and continue from its cursor")


class Health(BaseModel):
    status: Literal["ok"]
    cursor: int = Field(description="The newest seq of the change log")


class Me(BaseModel):
    name: str
    role: str
    expires_at: datetime | None = Field(
        default=None, description="When the token stops working (null: a token made before tokens expired)")


class RecordsUpload(BaseModel):
    records: list[Any] = Field(max_length=MAX_RECORDS, description=f"At most {MAX_RECORDS} interchange objects",
                               json_schema_extra={"items": {"type": "object"}})


class RecordRefusal(BaseModel):
    index: int = Field(description="Position of the record in the uploaded list, from 0")
    reason: str = Field(description="Why it was not stored, in one line")


class UploadReport(BaseModel):
    changed: int = Field(description="Records new or different from what was stored")
    unchanged: int = Field(description="Records identical to what was stored; no change was written")
    errors: list[RecordRefusal]


class _Mutation(BaseModel):
    # Unknown fields would not take part in the body hash, so a repeat with extra
    # fields would be taken as the same mutation; refuse them instead.
    model_config = ConfigDict(extra="forbid")


class DecisionMutation(_Mutation):
    kind: Literal["decision"]
    decision: InterchangeObject
    promise: InterchangeObject | None = None


class ApproveMutation(_Mutation):
    kind: Literal["approve"]
    escalation: str = Field(min_length=1, description="The escalation (decision id) approved")
    decision: InterchangeObject
    promise: InterchangeObject | None = None


class DeclineMutation(_Mutation):
    kind: Literal["decline"]
    escalation: str = Field(min_length=1, description="The escalation (decision id) declined")
    reason: str = Field(default="", max_length=MAX_FREE_TEXT_CHARS,
                        description=f"Why, for the agent who escalated; at most {MAX_FREE_TEXT_CHARS:,} characters")
    at: str | None = Field(default=None, description="When the approver declined (ISO 8601)")


class ContactMutation(_Mutation):
    kind: Literal["contact"]
    interaction: InterchangeObject = Field(
        description="The contact logged by hand (a letter, a shop visit): an interchange interaction, direction "
                    "in or out, with logged_by naming the sender",
        examples=[{"type": "interaction", "id": "i-01J9…", "customer": "c-1001", "channel": "letter",
                   "direction": "in", "at": "2026-07-14T09:31:00+02:00", "author": "Petra Lindner",
                   "body": "Letter: cancels the contract", "logged_by": "a-7"}])


class ReplyMutation(_Mutation):
    kind: Literal["reply"]
    interaction: InterchangeObject = Field(
        description="A reply for the backend to send: an outbound interaction on email or sms, its body ending "
                    "with the agent's signature as the backend's agent record makes it, reply_by naming the "
                    "sender, to the customer's address, delivery queued",
        examples=[{"type": "interaction", "id": "i-01J9…", "customer": "c-1001", "case": "k-1", "channel": "email",
                   "direction": "out", "at": "2026-07-14T09:35:00+02:00", "author": "a-7",
                   "body": "Dear Ms Lindner, …\n\n-- \nJonas Weber\nAgent\njonas.weber@example.com",
                   "reply_by": "a-7", "to": "p.lindner@example.net", "subject": "Re: eSIM not activated",
                   "delivery": "queued"}])


def _valid_unicode(body: Any) -> Any:
    """Refuse a mutation holding a lone surrogate ("\\ud800") before anything hashes, stores or echoes it."""
    found = lone_surrogate_at(body)
    if found is not None:
        path, in_key, _ = found
        dotted = ".".join(map(str, path))
        where = (f"a field name in {dotted}" if dotted else "a field name") if in_key else dotted or "the body"
        raise PydanticCustomError("unicode", "{where} is not valid Unicode (a lone surrogate)", {"where": where})
    return body


# Discriminator() rather than Field(discriminator=...): the Unicode check then runs before the tag is looked up.
Mutation = Annotated[DecisionMutation | ApproveMutation | DeclineMutation | ContactMutation | ReplyMutation,
                     Discriminator("kind"),
                     BeforeValidator(_valid_unicode)]


class MutationResult(BaseModel):
    id: str
    status: Literal["applied", "refused"]
    reason: str | None = Field(description="Why it was refused, in one line; null when applied")
    rule: str | None = Field(description="The rule that refused it, e.g. refund.max or case.disputed_amount")
    records: list[InterchangeObject] = Field(description="The records this mutation stored")
    cursor: int = Field(description="The seq of its last change")


MUTATION_ID_PATTERN = r"^[A-Za-z0-9._:~-]+$"
MAX_BATCH = 500
"""Mutations a workstation pushes in one request at most."""


class PushedMutation(BaseModel):
    id: str = Field(min_length=1, max_length=200, pattern=MUTATION_ID_PATTERN,
                    description="The client's id of this mutation (e.g. m-01J9…)")
    body: Mutation


class MutationBatch(BaseModel):
    mutations: list[PushedMutation] = Field(min_length=1, max_length=MAX_BATCH,
                                            description=f"At most {MAX_BATCH}, in the order they were taken")


class MutationFailure(BaseModel):
    id: str
    status: Literal[403, 422] = Field(description="What this mutation alone would get: 403 when the user may "
                                                  "not send it, 422 when it cannot be read or does not fit")
    detail: str = Field(description="Why, in one line")


class BatchResults(BaseModel):
    results: list[MutationResult | MutationFailure] = Field(description="One per mutation, in the same order")


class ChangeItem(BaseModel):
    seq: int
    record: InterchangeObject


class ChangesPage(BaseModel):
    changes: list[ChangeItem]
    cursor: int = Field(description="The last seq in this page (the 'after' asked for when empty)")
    head: int = Field(description="The newest seq of the change log")
    more: bool = Field(description="True when changes after 'cursor' exist")


class PresenceReport(BaseModel):
    customer: str | None = Field(default=None, max_length=200, description="The customer open now (null: none)")
    typing: bool = Field(default=False, description="The agent is typing a reply to that customer")


class PresenceEntry(BaseModel):
    user: str
    name: str = Field(description="The agent's name")
    customer: str | None
    typing: bool
    seen: datetime = Field(description="When the workstation last said so (a mark expires 30 s after)")
