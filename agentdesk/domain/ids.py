"""Identifiers made on this machine: sortable by time, unique without asking anyone."""

from __future__ import annotations

import secrets
from datetime import datetime

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_id(prefix: str, at: datetime) -> str:
    """``d-01JAXM…``: 48 bits of milliseconds, then 80 random bits, in Crockford base 32 (a ULID).

    The client makes the id, so a retried write carries the same one and is applied once.
    """
    value = (int(at.timestamp() * 1000) << 80) | secrets.randbits(80)
    chars = []
    for _ in range(26):
        value, digit = divmod(value, 32)
        chars.append(_CROCKFORD[digit])
    return f"{prefix}-{''.join(reversed(chars))}"
