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
from typing import Any

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


def usable_keyring(*, plaintext_accepted: bool = False) -> Any:
    """The keyring a login would write the token to; :class:`CredentialsError` when it is none or plaintext.

    Plaintext is decided by the backend's type (keyrings.alt's ``PlaintextKeyring``, which
    ``keyring`` picks by itself wherever keyrings.alt is installed and no system keyring
    answers); it is accepted only when the user said so (``--plaintext-keyring``).
    """
    import keyring
    from keyring.backends import fail, null

    chosen = keyring.get_keyring()
    writer = _writing_backend(chosen)
    if writer is None or isinstance(writer, (fail.Keyring, null.Keyring)):
        raise _no_keyring()
    if not plaintext_accepted and isinstance(writer, _plaintext_types()):
        place = getattr(writer, "file_path", None) or "a file"
        name = f"{type(writer).__module__}.{type(writer).__qualname__}"
        raise CredentialsError(f"the keyring {name} would keep the token unencrypted in {place}; nothing was "
                               f"stored: add --plaintext-keyring to accept that, or set {TOKEN_ENV} instead")
    return chosen


def _no_keyring() -> CredentialsError:
    return CredentialsError(f"no keyring backend on this machine; set {TOKEN_ENV} to the token instead "
                            "(it was not stored)")


def _writing_backend(ring: Any) -> Any:
    """The backend a new password would go to (None: none); a chain's first, a wrapper's wrapped one."""
    from keyring.backends.chainer import ChainerBackend

    if isinstance(ring, ChainerBackend):
        backends = ring.backends
        return _writing_backend(backends[0]) if backends else None
    wrapped = getattr(ring, "_keyring", None)  # keyrings.alt's MultipartKeyringWrapper
    return _writing_backend(wrapped) if wrapped is not None else ring


def _plaintext_types() -> tuple[type, ...]:
    try:
        from keyrings.alt.file import PlaintextKeyring
    except ImportError:  # keyrings.alt is not installed: nothing of it can be chosen
        return ()
    return (PlaintextKeyring,)


def store_login(server: str, user: str, token: str, *, plaintext_accepted: bool = False) -> str:
    """Put the token in the keyring and remember the address; returns the keyring's name for the message."""
    from keyring.errors import KeyringError, NoKeyringError

    ring = usable_keyring(plaintext_accepted=plaintext_accepted)
    try:
        ring.set_password(SERVICE, _account(server, user), token)
    except NoKeyringError:
        raise _no_keyring() from None
    except KeyringError as exc:
        raise CredentialsError(f"the keyring refused the token ({exc}); set {TOKEN_ENV} instead") from None
    path = login_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"server": server.rstrip("/"), "user": user}) + "\n", encoding="utf-8")
    return type(_writing_backend(ring)).__name__
