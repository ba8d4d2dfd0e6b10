"""Where the backend is and which token speaks for the user.

The token lives in the system keyring (``keyring``), or in ``$AGENTDESK_TOKEN``,
which wins. It is never written to a file of ours: ``login.json`` beside the
settings file keeps only the backend's address and the user's name, so
``agentdesk`` without ``--server`` finds its way back.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

from agentdesk.config import settings_path

SERVICE = "agentdesk"
TOKEN_ENV = "AGENTDESK_TOKEN"
SERVER_ENV = "AGENTDESK_SERVER"


class CredentialsError(Exception):
    """No way to keep or find a token; one line that names the way out."""


@dataclass(frozen=True, slots=True)
class Login:
    server: str
    user: str | None


def login_path() -> Path:
    return settings_path().parent / "login.json"


def saved_login() -> Login | None:
    try:
        data = json.loads(login_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    server = data.get("server") if isinstance(data, dict) else None
    return Login(server, data.get("user")) if isinstance(server, str) and server else None


def server_url(given: str | None) -> str | None:
    """``--server``, else ``$AGENTDESK_SERVER``, else the address saved by ``agentdesk login``."""
    if given:
        return given.rstrip("/")
    env = os.environ.get(SERVER_ENV)
    if env:
        return env.rstrip("/")
    login = saved_login()
    return login.server.rstrip("/") if login is not None else None


def logged_in_user(given_server: str | None) -> str | None:
    """The user saved by ``agentdesk login`` for the backend in use, if any."""
    server = server_url(given_server)
    login = saved_login()
    if server is None or login is None or login.server.rstrip("/") != server:
        return None
    return login.user


def _account(server: str, user: str) -> str:
    return f"{user} at {server.rstrip('/')}"


def token_for(server: str) -> str | None:
    """``$AGENTDESK_TOKEN``, else the keyring's token for the user who logged in to ``server``."""
    env = os.environ.get(TOKEN_ENV)
    if env:
        return env.strip()
    login = saved_login()
    if login is None or login.user is None or login.server.rstrip("/") != server.rstrip("/"):
        return None
    import keyring
    from keyring.errors import KeyringError

    try:
        return keyring.get_password(SERVICE, _account(server, login.user))
    except KeyringError:
        return None


def store_login(server: str, user: str, token: str) -> str:
    """Put the token in the keyring and remember the address; returns the keyring's name for the message."""
    import keyring
    from keyring.errors import KeyringError, NoKeyringError

    backend = keyring.get_keyring()
    try:
        keyring.set_password(SERVICE, _account(server, user), token)
    except NoKeyringError:
        raise CredentialsError(f"no keyring backend on this machine; set {TOKEN_ENV} to the token instead "
                               "(it was not stored)") from None
    except KeyringError as exc:
        raise CredentialsError(f"the keyring refused the token ({exc}); set {TOKEN_ENV} instead") from None
    path = login_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"server": server.rstrip("/"), "user": user}) + "\n", encoding="utf-8")
    return type(backend).__name__
