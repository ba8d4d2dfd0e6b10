"""The channels file (TOML) that ``agentdesk serve --channels FILE`` reads: which connectors run, and where.

Secrets never sit in the file: each is named by an environment variable (the ``*_env`` keys),
read only when a connector needs it. Every section is optional; a missing section means the
channel is off. A value that cannot be used is one line naming the file, the key and why
(:class:`ChannelsError`)::

    public_url = "https://desk.example.com"   # what providers call; Twilio signs over it

    [imap]
    host = "imap.example.com"
    port = 993                                # default: 993 for ssl, 143 otherwise
    security = "ssl"                          # "ssl", "starttls" or "none" (tests only)
    user = "service@example.com"
    password_env = "AGENTDESK_IMAP_PASSWORD"
    mailbox = "INBOX"
    ca_file = "/etc/agentdesk/ca.pem"         # optional: trust this CA instead of the system's

    [smtp]
    host = "smtp.example.com"
    port = 587                                # default: 465 for ssl, 587 for starttls, 25 for none
    security = "starttls"
    user = "service@example.com"
    password_env = "AGENTDESK_SMTP_PASSWORD"
    from = "service@example.com"             # the team address: replies go out from it, answers come back to it
    ca_file = "/etc/agentdesk/ca.pem"         # optional, as for [imap]

    [twilio]
    account_sid = "AC..."
    auth_token_env = "AGENTDESK_TWILIO_AUTH_TOKEN"
    api_base = "https://api.twilio.com"
    from = "+49 911 555 0100"

    [webhook]
    secret_env = "AGENTDESK_WEBHOOK_SECRET"
"""

from __future__ import annotations

import os
import re
import ssl
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

SECURITY = ("ssl", "starttls", "none")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SECTIONS = ("imap", "smtp", "twilio", "webhook")


class ChannelsError(ValueError):
    """The channels file cannot be used, or a secret it names is not set; the message is one line."""


def tls_context(ca_file: str | None) -> ssl.SSLContext:
    """Certificates checked and the host name matched, always; ``ca_file`` replaces the system's trust store."""
    return ssl.create_default_context(cafile=ca_file)


def _secret(env: str, what: str) -> str:
    value = os.environ.get(env)
    if not value:
        raise ChannelsError(f"{what}: ${env} is not set")
    return value


@dataclass(frozen=True)
class ImapSettings:
    host: str
    port: int
    security: str
    user: str
    password_env: str = "AGENTDESK_IMAP_PASSWORD"
    mailbox: str = "INBOX"
    ca_file: str | None = None
    """PEM certificates to trust instead of the system's (a private CA); never a way to skip the check."""

    def password(self) -> str:
        return _secret(self.password_env, "imap")

    def tls_context(self) -> ssl.SSLContext:
        return tls_context(self.ca_file)


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    security: str
    user: str | None
    from_: str
    password_env: str = "AGENTDESK_SMTP_PASSWORD"
    ca_file: str | None = None
    """PEM certificates to trust instead of the system's (a private CA); never a way to skip the check."""

    def password(self) -> str:
        return _secret(self.password_env, "smtp")

    def tls_context(self) -> ssl.SSLContext:
        return tls_context(self.ca_file)


@dataclass(frozen=True)
class TwilioSettings:
    account_sid: str
    auth_token_env: str = "AGENTDESK_TWILIO_AUTH_TOKEN"
    api_base: str = "https://api.twilio.com"
    from_: str | None = None

    def auth_token(self) -> str:
        return _secret(self.auth_token_env, "twilio")


@dataclass(frozen=True)
class WebhookSettings:
    secret_env: str = "AGENTDESK_WEBHOOK_SECRET"

    def secret(self) -> str:
        return _secret(self.secret_env, "webhook")


@dataclass(frozen=True)
class ChannelsConfig:
    public_url: str | None = None
    imap: ImapSettings | None = None
    smtp: SmtpSettings | None = None
    twilio: TwilioSettings | None = None
    webhook: WebhookSettings | None = None

    def enabled(self) -> list[str]:
        """The configured channels by section name, for the server log (never a secret)."""
        return [name for name in _SECTIONS if getattr(self, name) is not None]

    def missing_secrets(self) -> list[str]:
        """One line for each configured channel whose secret's variable is not set."""
        problems = []
        smtp = self.smtp if self.smtp is not None and self.smtp.user else None  # no login: no password
        for settings, check in ((self.imap, "password"), (smtp, "password"), (self.twilio, "auth_token"),
                                (self.webhook, "secret")):
            if settings is None:
                continue
            try:
                getattr(settings, check)()
            except ChannelsError as exc:
                problems.append(str(exc))
        return problems


class _Section:
    """One table of the file, read key by key; every problem names the file and the key."""

    def __init__(self, source: str, name: str, table: Any) -> None:
        self.source, self.name = source, name
        if not isinstance(table, Mapping):
            raise self.error(None, "must be a table ([" + name + "])")
        self.table: Mapping[str, Any] = table

    def error(self, key: str | None, why: str) -> ChannelsError:
        where = self.name if key is None else f"{self.name}.{key}"
        return ChannelsError(f"{self.source}: {where}: {why}")

    def check_keys(self, allowed: tuple[str, ...]) -> None:
        for key in self.table:
            if key not in allowed:
                raise self.error(key, f"unknown key (known: {', '.join(allowed)})")

    def text(self, key: str, default: str | None = None, *, required: bool = False) -> str | None:
        value = self.table.get(key, default)
        if value is None:
            if required:
                raise self.error(key, "is missing")
            return None
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, "must be a non-empty string")
        return value.strip()

    def required(self, key: str) -> str:
        value = self.text(key, required=True)
        assert value is not None
        return value

    def env_name(self, key: str, default: str) -> str:
        value = self.text(key, default)
        assert value is not None
        if not _ENV_NAME.match(value):
            raise self.error(key, f"{value!r} is not an environment variable name (the secret itself never "
                                  "goes in this file)")
        return value

    def security(self, default: str) -> str:
        value = self.text("security", default)
        if value not in SECURITY:
            raise self.error("security", f"{value!r} is not one of {', '.join(SECURITY)}")
        return value

    def ca_file(self) -> str | None:
        value = self.text("ca_file")
        if value is not None and not Path(value).is_file():
            raise self.error("ca_file", f"{value!r} is not a readable file of PEM certificates")
        return value

    def port(self, default: int) -> int:
        value = self.table.get("port", default)
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
            raise self.error("port", "must be a whole number from 1 to 65535")
        return value


def _public_url(source: str, value: Any) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ChannelsError(f"{source}: public_url: must be a string")
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ChannelsError(f"{source}: public_url: {value!r} is not an http(s) URL without query "
                            "(e.g. https://desk.example.com)")
    return value.strip().rstrip("/")


def _imap(section: _Section) -> ImapSettings:
    section.check_keys(("host", "port", "security", "user", "password_env", "mailbox", "ca_file"))
    security = section.security("ssl")
    return ImapSettings(host=section.required("host"), port=section.port(993 if security == "ssl" else 143),
                        security=security, user=section.required("user"),
                        password_env=section.env_name("password_env", "AGENTDESK_IMAP_PASSWORD"),
                        mailbox=section.text("mailbox", "INBOX") or "INBOX", ca_file=section.ca_file())


def _smtp(section: _Section) -> SmtpSettings:
    section.check_keys(("host", "port", "security", "user", "password_env", "from", "ca_file"))
    security = section.security("starttls")
    sender = section.required("from")
    if parseaddr(sender)[1] != sender or "@" not in sender:
        raise section.error("from", f"{sender!r} is not a plain e-mail address (the agent's name is added to it)")
    return SmtpSettings(host=section.required("host"),
                        port=section.port({"ssl": 465, "starttls": 587, "none": 25}[security]),
                        security=security, user=section.text("user"), from_=sender,
                        password_env=section.env_name("password_env", "AGENTDESK_SMTP_PASSWORD"),
                        ca_file=section.ca_file())


def _twilio(section: _Section) -> TwilioSettings:
    section.check_keys(("account_sid", "auth_token_env", "api_base", "from"))
    api_base = section.text("api_base", "https://api.twilio.com") or ""
    if urlsplit(api_base).scheme not in ("http", "https"):
        raise section.error("api_base", f"{api_base!r} is not an http(s) URL")
    return TwilioSettings(account_sid=section.required("account_sid"),
                          auth_token_env=section.env_name("auth_token_env", "AGENTDESK_TWILIO_AUTH_TOKEN"),
                          api_base=api_base.rstrip("/"), from_=section.text("from"))


def _webhook(section: _Section) -> WebhookSettings:
    section.check_keys(("secret_env",))
    return WebhookSettings(secret_env=section.env_name("secret_env", "AGENTDESK_WEBHOOK_SECRET"))


def parse_channels(text: str, source: str) -> ChannelsConfig:
    """The channels of TOML ``text``; ``source`` names it in errors."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ChannelsError(f"{source}: not valid TOML ({' '.join(str(exc).split())})") from None
    for key in data:
        if key != "public_url" and key not in _SECTIONS:
            raise ChannelsError(f"{source}: {key}: unknown key (known: public_url, {', '.join(_SECTIONS)})")

    def section(name: str) -> _Section | None:
        return _Section(source, name, data[name]) if name in data else None

    imap, smtp, twilio, webhook = (section(name) for name in _SECTIONS)
    config = ChannelsConfig(public_url=_public_url(source, data.get("public_url")),
                            imap=_imap(imap) if imap else None, smtp=_smtp(smtp) if smtp else None,
                            twilio=_twilio(twilio) if twilio else None, webhook=_webhook(webhook) if webhook else None)
    if config.twilio is not None and config.public_url is None:
        raise ChannelsError(f"{source}: public_url: is missing (Twilio signs its requests over the URL it calls)")
    return config


def load_channels(path: Path) -> ChannelsConfig:
    """The channels file at ``path``; :class:`ChannelsError` (one line: file, key, why) when it cannot be used."""
    try:
        text = Path(path).read_bytes().decode("utf-8")
    except OSError as exc:
        raise ChannelsError(f"{path}: cannot read the channels file: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise ChannelsError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    return parse_channels(text, str(path))


__all__ = ["ChannelsConfig", "ChannelsError", "ImapSettings", "SmtpSettings", "TwilioSettings", "WebhookSettings",
           "load_channels", "parse_channels"]
