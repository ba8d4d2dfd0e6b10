"""How customers are looked up by what they tell us: an e-mail address or a phone number."""

from __future__ import annotations


def email_key(email: str | None) -> str | None:
    return email.strip().lower() if email else None


def phone_key(phone: str | None) -> str | None:
    """Digits only, a leading ``+`` kept: ``+49 170 555-0199`` and ``+491705550199`` match."""
    if not phone:
        return None
    digits = "".join(ch for ch in phone if ch.isdigit())
    if not digits:
        return None
    return ("+" if phone.strip().startswith("+") else "") + digits
