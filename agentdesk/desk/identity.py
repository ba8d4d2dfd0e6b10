"""Who the current user is: one resolution for the workstation, the plain session and ``agentdesk decide``.

With a backend, the token in use decides (the same token the sync loop sends):

1. ``$AGENTDESK_TOKEN`` (it wins over a saved login, as it does for syncing): whom the backend's
   ``/me`` names for it, remembered in the store under a one-way digest of the token (never the
   token), so the same token works offline later; offline and never asked, nobody is known.
2. the saved login (``agentdesk login``) for that backend: its user, whose token is in the keyring.
3. no token: the store is used locally, and ``--as`` says who works.

Without a backend ``--as`` says who works. The workstation asks ``/me`` after its first paint
(:func:`identify`, from its sync worker); the plain session and ``decide`` ask before they start
(:func:`resolve`). Nothing here is imported for the network or the keyring until it is needed.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from agentdesk.desk.errors import CommandError
from agentdesk.domain.text import one_line
from agentdesk.store.sync_state import remember_user_now, remembered_user
from agentdesk.sync.credentials import TOKEN_ENV, logged_in_user, server_url, token_for

ASKING_WHO = "asking the backend who this token belongs to"
ASK_SECONDS = 5.0
"""How long ``decide`` and the plain session wait for ``/me`` before they use the remembered answer."""


@dataclass(frozen=True, slots=True)
class BackendLink:
    """The backend in use and how its token is found (late: the keyring is slow to load)."""

    url: str
    find_token: Callable[[], str | None]
    """``$AGENTDESK_TOKEN``, or the keyring's token of the saved login; None: no token for this backend."""
    user: str | None = None
    """Who the token speaks for when that is known without asking (the saved login's user); None: ask ``/me``
    (or use what it said before)."""
    asked_as: str | None = None
    """``--as`` as given: with a token the token decides, so front ends say so when they differ."""
    token_from_env: bool = False
    """The token is ``$AGENTDESK_TOKEN``: only the backend (or what it said before) knows whose it is."""

    @property
    def no_token(self) -> str:
        return f"no token for {self.url}: run agentdesk login"


def backend_link(given_server: str | None, asked_as: str | None) -> BackendLink | None:
    """``--server``, ``$AGENTDESK_SERVER`` or the saved login's backend, and its token; None: no backend.

    Loads neither the keyring nor the HTTP client.
    """
    server = server_url(given_server)
    if server is None:
        return None
    env_token = os.environ.get(TOKEN_ENV, "").strip()
    if env_token:
        return BackendLink(server, lambda: env_token, asked_as=asked_as, token_from_env=True)
    user = logged_in_user(given_server)
    if user is not None:
        return BackendLink(server, partial(token_for, server), user=user, asked_as=asked_as)
    return BackendLink(server, lambda: None, asked_as=asked_as)


def first_guess(link: BackendLink | None, asked_as: str | None) -> str | None:
    """Who works as far as known without the network: None while the backend is to be asked who the token is."""
    if link is None:
        return asked_as
    if link.user is not None:
        return link.user
    return None if link.token_from_env else asked_as


def may_know_user(given_server: str | None) -> bool:
    """Can anything but ``--as`` say who works (a saved login, or ``$AGENTDESK_TOKEN`` with a backend)?"""
    link = backend_link(given_server, None)
    return link is not None and (link.user is not None or link.token_from_env)


def token_key(token: str) -> str:
    """A one-way digest of the token, to remember whom it names (never the token, nor the backend's own hash)."""
    return hashlib.sha256(f"agentdesk identity:{token}".encode()).hexdigest()


class IdentityRefused(Exception):
    """The backend would not say who the token is (an unknown or revoked token); asking again cannot help."""


async def ask_who(client: Any) -> str:
    """The user ``/me`` names for the client's token; :class:`IdentityRefused` when it names nobody.

    ``client`` is a :class:`agentdesk.sync.client.BackendClient`; its ``Unreachable`` passes through.
    """
    from agentdesk.sync.client import BackendRefused

    try:
        me = await client.me()
    except BackendRefused as refusal:
        raise IdentityRefused(f"the backend would not say who this token is: {one_line(str(refusal), 200)}") from None
    name = me.get("name") if isinstance(me, dict) else None
    if not isinstance(name, str) or not name:
        raise IdentityRefused("the backend did not say who this token is")
    return name


async def identify(client: Any, remember: Callable[[str], Awaitable[None]],
                   told: Callable[[str | None, str | None], None]) -> None:
    """Ask ``/me`` until the backend answers; ``remember`` its answer, then ``told(name, None)``, or
    ``told(None, why)`` when it refuses (said, not retried)."""
    from agentdesk.retry import IDENTITY
    from agentdesk.sync.client import Unreachable

    backoff = IDENTITY.backoff()
    while True:
        try:
            name = await ask_who(client)
        except Unreachable:
            await asyncio.sleep(backoff.next())
            continue
        except IdentityRefused as refusal:
            told(None, str(refusal))
            return
        await remember(name)
        told(name, None)
        return


@dataclass(frozen=True, slots=True)
class Resolved:
    """Who works, found before the front end starts."""

    user: str | None
    """The agent id; None: nobody is known (:attr:`note` says why)."""
    note: str | None = None
    """What the user should know about it, in one line (no token, backend unreachable, ``--as`` overruled)."""


def resolve(link: BackendLink | None, asked_as: str | None, store: Path) -> Resolved:
    """Who works, asking the backend now when only it can say (blocking: call it outside any event loop).

    For ``$AGENTDESK_TOKEN``, whom ``/me`` names (remembered in ``store``), or offline what it said before
    for this token; else the saved login's user; else ``--as``. The keyring is not loaded.
    """
    if link is None:
        return Resolved(asked_as)
    user = link.user
    if user is None:
        token = link.find_token()
        if not token:
            return Resolved(asked_as, f"{link.no_token}; working locally")
        try:
            user = asyncio.run(_ask_once(link.url, token))
        except IdentityRefused as refusal:
            return _instead(asked_as, str(refusal))
        except Exception as error:  # noqa: BLE001 - the backend cannot be asked now: what it said before
            user = remembered_user(store, token_key(token))
            if user is None:
                return _instead(asked_as, f"the backend at {link.url} cannot be reached "
                                          f"({one_line(str(error), 120) or type(error).__name__}) and has not "
                                          "said before who this token is")
        else:
            remember_user_now(store, token_key(token), user)
    return Resolved(user, overruled(user, asked_as))


def overruled(user: str, asked_as: str | None) -> str | None:
    """What to say when ``--as`` names another than the token's user (the token wins); None when it does not."""
    if not asked_as or asked_as == user:
        return None
    return (f"working as {one_line(user, 60)}, whom the backend's token names; "
            f"--as {one_line(asked_as, 60)} does not apply with a backend")


def _instead(asked_as: str | None, why: str) -> Resolved:
    """The token names nobody now: ``--as`` stands in (said so), or nobody works."""
    if asked_as:
        return Resolved(asked_as, f"{why}; working as {one_line(asked_as, 60)} (--as)")
    return Resolved(None, why)


async def _ask_once(url: str, token: str) -> str:
    import httpx

    from agentdesk.sync.client import BackendClient

    async with BackendClient(url, token, timeout=httpx.Timeout(ASK_SECONDS)) as client:
        return await ask_who(client)


def decision_maker(link: BackendLink | None, asked_as: str | None, store: Path) -> Resolved:
    """Who takes a decision from the command line; :class:`CommandError` when nobody can be named
    (one line naming the ways: ``--as``, ``agentdesk login``, a backend that can be reached)."""
    resolved = resolve(link, asked_as, store)
    if resolved.user is not None:
        return resolved
    why = f"{resolved.note}; " if resolved.note else ""
    raise CommandError(f"{why}say who takes the decision: --as AGENT, agentdesk login, or "
                       f"${TOKEN_ENV} with a backend that can be reached")
