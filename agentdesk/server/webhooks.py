"""The channels' webhooks: chat, social, app and portal messages (``POST /webhooks/messages``), Twilio's SMS
and call status callbacks (``POST /webhooks/twilio/sms``, ``/webhooks/twilio/voice``).

Each request is authenticated by its signature before anything of its body is read: ours is HMAC-SHA256
of ``TIMESTAMP.RAW_BODY`` with the webhook secret (the timestamp at most 300 s off, compared in constant
time); Twilio's is checked by the ``twilio`` package's own :class:`RequestValidator` over ``public_url`` +
path and the form. A refused signature is 403 with one line, a row in ``webhook_refusal`` and a line in
the server log (never the body or the signature); nothing is filed. A route whose channel the channels
file does not configure is 404.

A message is filed with :func:`agentdesk.server.inbound.file_inbound`; a repeat of its provider id is
200 and changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Literal
from urllib.parse import parse_qsl

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agentdesk.channels.config import ChannelsConfig, ChannelsError
from agentdesk.server.changes import now_us
from agentdesk.server.database import Database
from agentdesk.server.inbound import Filed, Inbound, InboundInvalid, file_inbound
from agentdesk.server.tables import webhook_refusal

log = logging.getLogger("agentdesk.server.webhooks")

MAX_SKEW_S = 300
"""How far ``X-Agentdesk-Timestamp`` may lie from the backend's clock: a captured request replayed later is
refused, and a repeat within the window is a repeat of its message id."""
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
MISSED_STATUSES = frozenset({"no-answer", "busy", "failed", "canceled"})
_SIGNATURE_PREFIX = "sha256="

router = APIRouter(prefix="/webhooks", tags=["channels"])


class WebhookMessage(BaseModel):
    """An interchange ``interaction`` from a chat, social, app or portal system, by the sender's message id."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"examples": [{
        "id": "chat-7f3a91", "channel": "chat", "at": "2026-07-14T09:31:00+02:00",
        "email": "p.lindner@example.net", "name": "Petra Lindner", "body": "My contract is not shown in the portal."}]})

    id: str = Field(min_length=1, max_length=500, description="The sender's id of this message: a repeat is taken once")
    channel: Literal["chat", "social", "app", "portal", "email", "sms", "phone"] = "chat"
    at: datetime = Field(description="When it was sent, ISO 8601 with an offset")
    body: str = Field(max_length=100_000)
    direction: Literal["in"] = "in"
    customer: str | None = Field(default=None, description="A customer id the backend knows; or give one of:")
    email: str | None = None
    phone: str | None = None
    handle: str | None = Field(default=None, description="A chat or social name, e.g. @petra")
    name: str | None = Field(default=None, description="The sender's name, for a new customer")
    duration_s: int | None = Field(default=None, ge=0)
    wait_s: int | None = Field(default=None, ge=0)


class WebhookFiled(BaseModel):
    status: Literal["new", "repeat"] = Field(description="new: filed now; repeat: taken before, nothing changed")
    customer: str
    interaction: str
    new_customer: bool = Field(description="The sender was unknown and is a customer now")


_REFUSED: dict[int | str, dict[str, Any]] = {
    403: {"description": "A missing, forged or stale signature (nothing is stored)",
          "content": {"application/json": {"example": {"detail": "the signature does not match"}}}},
    404: {"description": "This channel is not configured in the channels file"},
    422: {"description": "A signed body that cannot be filed"},
}
_TWIML: dict[int | str, dict[str, Any]] = {
    200: {"description": "Empty TwiML", "content": {"text/xml": {"example": EMPTY_TWIML}}}, **_REFUSED}


def _channels(request: Request) -> ChannelsConfig:
    channels: ChannelsConfig | None = request.app.state.channels
    return channels if channels is not None else ChannelsConfig()


async def _refuse(request: Request, reason: str) -> HTTPException:
    """403, audited: a row in ``webhook_refusal`` and a line in the server log."""
    address = request.client.host if request.client is not None else None
    backend = request.app.state.backend
    async with backend.database.write() as connection:
        await connection.execute(webhook_refusal.insert().values(route=request.url.path, reason=reason,
                                                                 address=address, at_us=now_us()))
    log.warning("refused %s from %s: %s", request.url.path, address or "unknown", reason)
    return HTTPException(403, reason)


def _secret(read: Any, request: Request) -> str:
    try:
        return str(read())
    except ChannelsError as exc:
        log.error("%s %s", request.url.path, exc)
        raise HTTPException(503, f"{exc}: the backend cannot check signatures") from None


async def _file(request: Request, inbound: Inbound) -> Filed:
    backend = request.app.state.backend
    database: Database = backend.database
    try:
        filed = await file_inbound(database, inbound, keep_changes=backend.keep_changes,
                                   region=backend.matrix.home_country)
    except InboundInvalid as exc:
        raise HTTPException(422, str(exc)) from None
    if filed.cursor is not None:
        backend.watch.advance(filed.cursor)
    # DEBUG, not INFO: at hundreds of messages a second a line each, written synchronously, was a tenth of the CPU.
    log.debug("%s: %s %s on %s", request.url.path, filed.status, filed.interaction, filed.customer)
    return filed


# --------------------------------------------------------------------------- ours


def signature_of(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` + hex HMAC-SHA256 of ``TIMESTAMP.RAW_BODY``: what ``X-Agentdesk-Signature`` carries."""
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return _SIGNATURE_PREFIX + digest.hexdigest()


def _signature_problem(secret: str, timestamp: str | None, signature: str | None, body: bytes) -> str | None:
    if not timestamp:
        return "X-Agentdesk-Timestamp is missing"
    if not signature:
        return "X-Agentdesk-Signature is missing"
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        return "X-Agentdesk-Timestamp is not Unix seconds"
    if abs(time.time() - int(timestamp)) > MAX_SKEW_S:
        return f"X-Agentdesk-Timestamp is more than {MAX_SKEW_S} s off the backend's clock"
    if not hmac.compare_digest(signature_of(secret, timestamp, body).encode("ascii"),
                               signature.strip().encode("utf-8", "replace")):
        return "the signature does not match"
    return None


@router.post("/messages", response_model=WebhookFiled, responses=_REFUSED,
             summary="A chat, social, app or portal message in (HMAC-signed)",
             description="An interchange `interaction` whose `id` is the sender's message id; `customer` may be "
                         "replaced by `email`, `phone` or `handle` (with `name` for a new customer). Sign it: "
                         "`X-Agentdesk-Timestamp` (Unix seconds, at most 300 s off) and `X-Agentdesk-Signature: "
                         "sha256=` + hex HMAC-SHA256 of `TIMESTAMP.RAW_BODY` with the webhook secret.",
             openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                 "schema": {"$ref": "#/components/schemas/WebhookMessage"},
                 "example": WebhookMessage.model_config["json_schema_extra"]["examples"][0]}}}})  # type: ignore[index]
async def webhook_message(request: Request) -> Response:
    settings = _channels(request).webhook
    if settings is None:
        raise HTTPException(404, "the webhook channel is not configured ([webhook] in the channels file)")
    secret = _secret(settings.secret, request)
    body = await request.body()
    problem = _signature_problem(secret, request.headers.get("x-agentdesk-timestamp"),
                                 request.headers.get("x-agentdesk-signature"), body)
    if problem is not None:
        raise await _refuse(request, problem)
    try:
        message = WebhookMessage.model_validate_json(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        place = ".".join(str(part) for part in first.get("loc", ())) or "body"
        raise HTTPException(422, f"{place}: {first.get('msg', 'invalid')}") from None
    if message.at.tzinfo is None:
        raise HTTPException(422, "at: needs an offset (e.g. 2026-07-14T09:31:00+02:00)")
    extra = {key: value for key, value in (message.model_extra or {}).items() if key not in ("type", "case")}
    filed = await _file(request, Inbound(
        source_id=f"webhook:{message.id}", channel=message.channel, at=message.at, body=message.body,
        email=message.email, phone=message.phone, handle=message.handle, name=message.name,
        customer=message.customer, duration_s=message.duration_s, wait_s=message.wait_s,
        extra={**extra, "sender_id": message.id}))
    # Serialised here, once: returned as a model, FastAPI would validate it again against response_model.
    return Response(WebhookFiled(status=filed.status, customer=filed.customer, interaction=filed.interaction,
                                 new_customer=filed.new_customer).model_dump_json(), media_type="application/json")


# --------------------------------------------------------------------------- Twilio


async def _twilio_form(request: Request) -> dict[str, str]:
    """The signed form, once its ``X-Twilio-Signature`` is checked; 404 without [twilio], 403 when refused."""
    channels = _channels(request)
    settings = channels.twilio
    if settings is None or channels.public_url is None:
        raise HTTPException(404, "the Twilio channel is not configured ([twilio] in the channels file)")
    token = _secret(settings.auth_token, request)
    raw = await request.body()
    try:
        form = dict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        form = None
    signature = request.headers.get("x-twilio-signature")
    if not signature:
        raise await _refuse(request, "X-Twilio-Signature is missing")
    from twilio.request_validator import RequestValidator

    url = channels.public_url + request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if form is None or not RequestValidator(token).validate(url, form, signature):
        raise await _refuse(request, "the Twilio signature does not match")
    return form


def _twiml() -> Response:
    return Response(EMPTY_TWIML, media_type="text/xml")


def _twilio_time(form: dict[str, str]) -> datetime:
    stamp = form.get("Timestamp")
    if stamp:
        try:
            at = parsedate_to_datetime(stamp)
        except (TypeError, ValueError):
            at = None
        if at is not None and at.tzinfo is not None:
            return at
    return datetime.now(timezone.utc)


def _required(form: dict[str, str], *names: str) -> None:
    missing = [name for name in names if not form.get(name)]
    if missing:
        raise HTTPException(422, f"the form has no {', '.join(missing)}")


@router.post("/twilio/sms", response_class=Response, responses=_TWIML,
             summary="An SMS in (Twilio's inbound message webhook); answers empty TwiML",
             openapi_extra={"requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {
                 "schema": {"type": "object", "properties": {name: {"type": "string"} for name in (
                     "MessageSid", "AccountSid", "From", "To", "Body", "NumMedia")}},
                 "example": {"MessageSid": "SM1f0e8ae6ade43cb3c0ce4525424e404f", "AccountSid": "AC123",
                             "From": "+491515550142", "To": "+499115550100", "Body": "Where is my QR code?",
                             "NumMedia": "0"}}}}})
async def twilio_sms(request: Request) -> Response:
    form = await _twilio_form(request)
    _required(form, "MessageSid", "From")
    media = int(form["NumMedia"]) if form.get("NumMedia", "").isdigit() else 0
    extra: dict[str, Any] = {"to": form["To"]} if form.get("To") else {}
    if media:
        extra["media"] = media
    await _file(request, Inbound(source_id=f"twilio-sms:{form['MessageSid']}", channel="sms",
                                 at=datetime.now(timezone.utc), body=form.get("Body", ""), phone=form["From"],
                                 name=form.get("ProfileName") or None, extra=extra))
    return _twiml()


def _seconds(form: dict[str, str], name: str) -> int | None:
    value = form.get(name, "")
    return int(value) if value.isascii() and value.isdigit() else None


def _spoken(seconds: int) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{minutes} min {rest} s" if minutes else f"{rest} s"


def call_contact(form: dict[str, str]) -> tuple[str, int | None, int | None, dict[str, Any]] | None:
    """What a call status callback puts on the timeline: ``(body, duration_s, wait_s, extra)``, or None when
    it is no contact (an outbound call, a call still ringing or in progress)."""
    status = form.get("CallStatus", "")
    if form.get("Direction", "inbound") != "inbound":
        return None
    duration = _seconds(form, "CallDuration")
    wait = _seconds(form, "QueueTime")
    if status in MISSED_STATUSES or (status == "completed" and not duration):
        words = f"Missed call, waited {_spoken(wait)}" if wait else "Missed call"
        return f"{words} ({status})", None, wait, {"missed": True, "call_status": status}
    if status == "completed" and duration:
        return f"Call, {_spoken(duration)}", duration, wait, {"call_status": status}
    return None


@router.post("/twilio/voice", response_class=Response, responses=_TWIML,
             summary="A call's status callback (Twilio): a finished or missed inbound call; answers empty TwiML",
             description="A missed inbound call (CallStatus no-answer, busy, failed or canceled, or completed "
                         "without duration) is a contact on the timeline with its waiting time (QueueTime); an "
                         "answered one is recorded with its CallDuration. Other statuses and outbound calls "
                         "are answered and not stored.",
             openapi_extra={"requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {
                 "schema": {"type": "object", "properties": {name: {"type": "string"} for name in (
                     "CallSid", "AccountSid", "From", "To", "CallStatus", "Direction", "CallDuration",
                     "QueueTime", "Timestamp")}},
                 "example": {"CallSid": "CA42ed11f93dc08b952027ffbc406d0868", "AccountSid": "AC123",
                             "From": "+491515550142", "To": "+499115550100", "CallStatus": "no-answer",
                             "Direction": "inbound", "QueueTime": "40",
                             "Timestamp": "Tue, 14 Jul 2026 07:31:00 +0000"}}}}})
async def twilio_voice(request: Request) -> Response:
    form = await _twilio_form(request)
    _required(form, "CallSid", "From")
    contact = call_contact(form)
    if contact is None:
        return _twiml()
    body, duration, wait, extra = contact
    await _file(request, Inbound(source_id=f"twilio-call:{form['CallSid']}", channel="phone", at=_twilio_time(form),
                                 body=body, phone=form["From"], duration_s=duration, wait_s=wait, extra=extra))
    return _twiml()


__all__ = ["EMPTY_TWIML", "MAX_SKEW_S", "call_contact", "router", "signature_of"]
