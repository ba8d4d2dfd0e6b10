"""Who the current user is, resolved once for every front end (``agentdesk.desk.identity``).

Real processes on a real store, and a real backend on loopback: ``$AGENTDESK_TOKEN`` is asked of
the backend's ``/me`` and the answer is remembered in the store by a digest of the token, so the
same token works when the backend is down; the saved login names its user without the network;
without either, ``--as`` does.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentdesk.desk.identity import backend_link, resolve, token_key
from agentdesk.sync.credentials import login_path
from tests.backend import Server, add_user, refused_url
from tests.sample_records import records


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[Server]:
    with Server(str(tmp_path / "server.db")) as running:
        yield running


@pytest.fixture
async def store(make_store) -> Path:
    return await make_store(records())


def agentdesk(*args: str, env: dict[str, str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agentdesk", *args], input=stdin, capture_output=True, text=True,
                          timeout=120, env={**os.environ, "TZ": "UTC", **env})


def note(store: Path, *extra: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return agentdesk("decide", "note", "c-1001", "--reason", "asked for a paper invoice", "--db", str(store),
                     *extra, env=env)


def deciders(store: Path) -> list[str]:
    with sqlite3.connect(store) as db:
        return [agent for (agent,) in db.execute("SELECT agent_id FROM decision WHERE kind = 'note' ORDER BY at_us")]


def remembered(store: Path) -> dict[str, str]:
    with sqlite3.connect(store) as db:
        return dict(db.execute("SELECT key, value FROM sync_state WHERE key LIKE 'user:%'"))


def test_decide_with_a_token_is_whom_the_backend_names_then_what_it_said_when_it_is_down(backend: Server,
                                                                                       store: Path) -> None:
    token = add_user(backend.database, "a-7", "agent")
    env = {"AGENTDESK_TOKEN": token, "AGENTDESK_SERVER": backend.url}

    online = note(store, env=env)  # no --as: the token decides
    assert online.returncode == 0 and online.stderr == "", online.stderr
    assert remembered(store) == {"user:" + token_key(token): "a-7"}
    files = [path for path in (store, Path(f"{store}-wal")) if path.exists()]
    assert not any(token.encode() in path.read_bytes() for path in files)

    backend.stop()
    offline = note(store, env=env)
    assert offline.returncode == 0 and offline.stderr == "", offline.stderr
    assert deciders(store) == ["a-7", "a-7"]

    stranger = note(store, env={**env, "AGENTDESK_TOKEN": "adk_never_asked"})
    assert stranger.returncode == 1 and stranger.stdout == ""
    (line,) = stranger.stderr.splitlines()
    assert line.startswith(f"agentdesk: the backend at {backend.url} cannot be reached (")
    assert line.endswith("and has not said before who this token is; say who takes the decision: --as AGENT, "
                         "agentdesk login, or $AGENTDESK_TOKEN with a backend that can be reached")
    assert deciders(store) == ["a-7", "a-7"]


def test_the_token_overrules_as_and_says_so_and_a_token_the_backend_refuses_is_no_one(backend: Server,
                                                                                    store: Path) -> None:
    token = add_user(backend.database, "a-7", "agent")
    env = {"AGENTDESK_TOKEN": token, "AGENTDESK_SERVER": backend.url}

    overruled = note(store, "--as", "a-9", env=env)
    assert overruled.returncode == 0
    assert overruled.stderr == ("agentdesk: working as a-7, whom the backend's token names; "
                                "--as a-9 does not apply with a backend\n")
    assert deciders(store) == ["a-7"]

    refused = note(store, env={**env, "AGENTDESK_TOKEN": "adk_unknown"})
    assert refused.returncode == 1
    assert refused.stderr.startswith("agentdesk: the backend would not say who this token is: ")
    assert refused.stderr.endswith("; say who takes the decision: --as AGENT, agentdesk login, or "
                                   "$AGENTDESK_TOKEN with a backend that can be reached\n")
    assert deciders(store) == ["a-7"]


def test_the_plain_session_works_as_the_remembered_user_when_the_backend_is_down(backend: Server,
                                                                                  store: Path) -> None:
    token = add_user(backend.database, "a-7", "agent")
    env = {"AGENTDESK_TOKEN": token, "AGENTDESK_SERVER": backend.url}
    assert note(store, env=env).returncode == 0
    backend.stop()

    session = agentdesk("--plain", "--db", str(store), env=env, stdin="quit\n")
    assert session.returncode == 0, session.stderr
    assert session.stdout.splitlines()[0].startswith("Jonas Weber · agent · agentdesk plain session on ")

    overruled = agentdesk("--plain", "--db", str(store), "--as", "a-9", env=env, stdin="quit\n")
    assert overruled.returncode == 0, overruled.stderr
    first, second = overruled.stdout.splitlines()[:2]
    assert first.startswith("Jonas Weber · agent · ")
    assert second == "working as a-7, whom the backend's token names; --as a-9 does not apply with a backend"


def test_without_a_backend_or_a_token_as_says_who_works(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = tmp_path / "none.sqlite3"
    assert backend_link(None, "a-7") is None
    assert resolve(None, "a-7", store).user == "a-7"

    url = refused_url()
    no_token = resolve(backend_link(url, "a-7"), "a-7", store)
    assert (no_token.user, no_token.note) == ("a-7", f"no token for {url}: run agentdesk login; working locally")

    monkeypatch.setenv("AGENTDESK_TOKEN", "adk_offline")
    unknown = resolve(backend_link(url, None), None, store)
    assert unknown.user is None and "has not said before who this token is" in (unknown.note or "")
    stand_in = resolve(backend_link(url, "a-9"), "a-9", store)
    assert stand_in.user == "a-9" and (stand_in.note or "").endswith("; working as a-9 (--as)")


def test_the_saved_login_names_its_user_without_the_network(tmp_path: Path) -> None:
    url = refused_url()  # nobody answers there: the login's user is known without asking
    login_path().parent.mkdir(parents=True, exist_ok=True)
    login_path().write_text(json.dumps({"server": url, "user": "a-9"}), encoding="utf-8")

    link = backend_link(None, None)
    assert link is not None and link.url == url
    assert resolve(link, None, tmp_path / "none.sqlite3").user == "a-9"
    overruled = resolve(backend_link(None, "a-7"), "a-7", tmp_path / "none.sqlite3")
    assert overruled.user == "a-9" and "--as a-7 does not apply" in (overruled.note or "")
