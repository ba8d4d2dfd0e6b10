"""A customer record's contact keys: what an inbound message's sender is matched by.

``email`` lower-cased, ``phone`` in E.164 (a national number read in the customer's country, see
:func:`agentdesk.domain.contact.customer_region`), ``handle`` (a chat or social name) lower-cased.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from agentdesk.domain.contact import email_key, phone_key

HANDLE = "handle"
"""The customer record's field (kept as an unknown interchange field) for a chat or social handle."""


def handle_key(handle: str | None) -> str | None:
    if not handle:
        return None
    return handle.strip().lower() or None


def customer_region_of(obj: Mapping[str, Any]) -> str | None:
    from agentdesk.domain.contact import customer_region
    from agentdesk.domain.model import Customer

    return customer_region(Customer(id=str(obj.get("id", "")), name="", location=obj.get("location"),
                                    timezone=obj.get("timezone")))


def contact_keys(obj: Mapping[str, Any]) -> list[tuple[str, str]]:
    """``(kind, key)`` of a customer's interchange object, each once."""
    found: list[tuple[str, str]] = []
    email = email_key(obj.get("email") if isinstance(obj.get("email"), str) else None)
    if email:
        found.append(("email", email))
    phone = obj.get("phone")
    if isinstance(phone, str):
        key = phone_key(phone, customer_region_of(obj))
        if key:
            found.append(("phone", key))
    handle = handle_key(obj.get(HANDLE) if isinstance(obj.get(HANDLE), str) else None)
    if handle:
        found.append((HANDLE, handle))
    return found
