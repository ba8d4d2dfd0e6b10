"""How customers are looked up by what they tell us: an e-mail address or a phone number."""

from __future__ import annotations

import re

_PHONE_NOISE = re.compile(r"[^0-9]")


def email_key(email: str | None) -> str | None:
    """What e-mail look-ups compare: the address lower-cased."""
    if not email:
        return None
    return email.strip().lower() or None


def phone_key(phone: str | None) -> str | None:
    """Digits only, a leading ``+`` kept: ``+49 170 555-0199`` and ``+491705550199`` match."""
    if not phone:
        return None
    digits = _PHONE_NOISE.sub("", phone)
    if not digits:
        return None
    return "+" + digits if phone.lstrip().startswith("+") else digits
