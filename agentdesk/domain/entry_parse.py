"""What an agent types when adjusting a decision: an amount, or a time to call back.

Pure: the clock and the customer's zone are passed in. Every error is one line
that says what would have been understood (:class:`EntryError`).

Times are read in the customer's zone (a callback is made at *their* local time):

* ``15:30`` — the next 15:30 (today if still ahead, else tomorrow);
* ``today 15:30``, ``tomorrow 09:00``;
* ``Mon 10:15`` or ``monday 10:15`` — the next such day (today if still ahead);
* ISO 8601: ``2026-07-15 10:00``, ``2026-07-15T10:00``; with an offset
  (``…+02:00``, ``…Z``) the offset wins over the customer's zone.

Amounts: ``39.90``, ``39`` or ``39.90 EUR`` (only in the currency asked for). A comma is refused, never
guessed (``1,500`` may mean fifteen hundred): the workstation, the plain session and ``agentdesk decide``
all read amounts here, so they refuse the same text with the same words.

:func:`preview` gives the verdict shown live while typing: the same
:func:`agentdesk.domain.authority.check` the ledger runs, on the situation it read
for the decision bar; the ledger checks again when the decision is taken.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal, InvalidOperation

from agentdesk.domain.authority import AuthorityMatrix, Proposal, Situation, Verdict, check
from agentdesk.domain.money import MINOR_UNITS, Money, has_foreign_digits

DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
TIME_EXAMPLES = "15:30, tomorrow 09:00, Mon 10:15 or 2026-07-15 10:00"


class EntryError(ValueError):
    """Text that is not an amount or a time; the message is one line for the user."""


# --------------------------------------------------------------------------- money

# 0-9, not \d: Decimal() and int() would read full-width or Arabic-Indic digits too.
_AMOUNT = re.compile(r"(?P<number>[0-9]{1,12}(?:\.[0-9]{1,4})?)(?:\s*(?P<currency>[A-Za-z]{3}))?")


def parse_money(text: str, currency: str) -> Money:
    """``39.90``, ``39`` or ``39.90 EUR`` in ``currency``; ``39,90`` is refused, saying how to write it."""
    raw = text.strip()
    if not raw:
        raise EntryError(f"enter an amount in {currency}, e.g. 39.90")
    if raw.startswith("-"):
        raise EntryError("the amount must be more than zero")
    if has_foreign_digits(raw):
        raise EntryError(f"{raw!r} has digits other than 0-9")
    match = _AMOUNT.fullmatch(raw)
    if match is None:
        with_point = raw.replace(",", ".")
        if with_point != raw and _AMOUNT.fullmatch(with_point):
            raise EntryError(f"{raw!r} has a comma: write {with_point} (a point before the cents)")
        raise EntryError(f"{raw!r} is not an amount such as 39.90")
    given = match.group("currency")
    if given is not None and given.upper() != currency:
        raise EntryError(f"amounts here are in {currency}, not {given.upper()}")
    try:
        amount = Decimal(match.group("number"))
    except InvalidOperation:  # pragma: no cover - the pattern already excludes this
        raise EntryError(f"{raw!r} is not an amount such as 39.90") from None
    digits = MINOR_UNITS.get(currency, 2)
    if -amount.as_tuple().exponent > digits:  # type: ignore[operator]
        raise EntryError(f"{currency} has {digits} decimals at most")
    if amount <= 0:
        raise EntryError("the amount must be more than zero")
    return Money(amount, currency)


# --------------------------------------------------------------------------- times

_CLOCK = re.compile(r"(?P<hour>\d{1,2})[:.h](?P<minute>\d{2})", re.ASCII)


def _clock(text: str) -> time:
    match = _CLOCK.fullmatch(text)
    if match is None:
        raise EntryError(f"{text!r} is not a time of day such as 15:30 (try {TIME_EXAMPLES})")
    hour, minute = int(match.group("hour")), int(match.group("minute"))
    if hour > 23 or minute > 59:
        raise EntryError(f"{text!r} is not a time of day (00:00 to 23:59)")
    return time(hour, minute)


def _day(word: str) -> int | None:
    """Weekday number (Monday 0) for ``mon``, ``Tue``, ``wednesday``…; None when it is not a day."""
    word = word.lower().rstrip(".")
    if len(word) < 3:
        return None
    for index, name in enumerate(DAY_NAMES):
        if name.startswith(word):
            return index
    return None


def _local(day: date, at: time, zone: tzinfo) -> datetime:
    return datetime.combine(day, at).replace(tzinfo=zone)


def parse_when(text: str, zone: tzinfo, now: datetime) -> datetime:
    """The moment ``text`` means, read in ``zone`` (the customer's) relative to ``now`` (aware)."""
    raw = " ".join(text.strip().split())
    if not raw:
        raise EntryError(f"enter a time, e.g. {TIME_EXAMPLES}")
    local_now = now.astimezone(zone)
    words = raw.split(" ")
    if re.match(r"\d{4}-\d{2}-\d{2}", raw, re.ASCII):
        try:
            parsed = datetime.fromisoformat(raw.replace(" ", "T", 1) if "T" not in raw else raw)
        except ValueError:
            raise EntryError(f"{raw!r} is not a date and time such as 2026-07-15 10:00") from None
        if len(raw) == 10:
            raise EntryError(f"{raw!r} has no time of day (e.g. {raw} 10:00)")
        return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=zone)
    if len(words) == 1:
        at = _clock(words[0])
        candidate = _local(local_now.date(), at, zone)
        if candidate <= now:
            candidate = _local(local_now.date() + timedelta(days=1), at, zone)
        return candidate
    if len(words) == 2:
        head, at_text = words[0].lower(), words[1]
        at = _clock(at_text)
        if head == "today":
            return _local(local_now.date(), at, zone)
        if head in ("tomorrow", "tmrw", "tom"):
            return _local(local_now.date() + timedelta(days=1), at, zone)
        weekday = _day(head)
        if weekday is not None:
            ahead = (weekday - local_now.weekday()) % 7
            candidate = _local(local_now.date() + timedelta(days=ahead), at, zone)
            if candidate <= now:
                candidate = _local(local_now.date() + timedelta(days=ahead + 7), at, zone)
            return candidate
    raise EntryError(f"{raw!r} is not a time this understands (try {TIME_EXAMPLES})")


# --------------------------------------------------------------------------- the live verdict


def preview(matrix: AuthorityMatrix, situation: Situation, proposal: Proposal, now: datetime) -> Verdict:
    """What the rules say about ``proposal`` as typed: the ledger's own check on the situation it read.

    Guidance: the ledger checks again, in its write transaction, when the decision is taken.
    """
    return check(matrix, replace(situation, now=now), proposal)


def preview_escalation(matrix: AuthorityMatrix, situation: Situation, proposal: Proposal,
                       now: datetime) -> Verdict:
    """What the rules say about escalating ``proposal`` to the role above (guidance, like :func:`preview`)."""
    return preview(matrix, situation, Proposal("escalate", escalates=proposal), now)
