"""How customers are looked up by what they tell us: an e-mail address or a phone number.

A phone's key is its E.164 form (``phonenumbers``): ``+49 151 5550142``, ``+491515550142``
and, for a customer in Germany, ``0151 5550142`` are all ``+491515550142``. A national
number needs the country it is dialled in: the customer's (see :func:`customer_region`).
``phonenumbers`` is imported when a key is first made, not when the workstation starts.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from agentdesk.domain.model import Customer

_PHONE_NOISE = re.compile(r"[^0-9]")
_COUNTRY_AFTER_COMMA = re.compile(r",\s*([A-Za-z]{2})\s*$")


def email_key(email: str | None) -> str | None:
    """What e-mail look-ups compare: the address lower-cased."""
    if not email:
        return None
    return email.strip().lower() or None


def phone_key(phone: str | None, region: str | None = None) -> str | None:
    """The number in E.164 (``+491515550142``), a national one read as dialled in ``region`` (``"DE"``).

    A number that cannot be read that way (a national one without a region, too short)
    keeps its digits, a leading ``+`` kept, so it still matches itself written differently.
    """
    if not phone:
        return None
    digits = _PHONE_NOISE.sub("", phone)
    if not digits:
        return None
    from phonenumbers import NumberParseException, PhoneNumberFormat, format_number, parse

    try:
        return format_number(parse(phone, region), PhoneNumberFormat.E164)
    except NumberParseException:
        return "+" + digits if phone.lstrip().startswith("+") else digits


def customer_phone_key(customer: Customer) -> str | None:
    return phone_key(customer.phone, customer_region(customer))


def customer_region(customer: Customer) -> str | None:
    """The country the customer's national numbers are dialled in: the ``…, DE`` of the location, else the
    country of the time zone (``Europe/Berlin``: DE); None when neither says."""
    if customer.location and (match := _COUNTRY_AFTER_COMMA.search(customer.location)):
        return match.group(1).upper()
    if customer.timezone:
        return _zone_countries().get(customer.timezone)
    return None


@cache
def _zone_countries() -> dict[str, str]:
    """Each IANA zone's country, from the tz database's ``zone.tab`` (the ``tzdata`` package ships it)."""
    import tzdata  # a plain path, not importlib.resources: that would import zipfile on the start-up path

    table = (Path(tzdata.__file__).parent / "zoneinfo" / "zone.tab").read_text(encoding="utf-8")
    rows = (line.split("\t") for line in table.splitlines() if line and not line.startswith("#"))
    return {row[2]: row[0] for row in rows if len(row) >= 3}
