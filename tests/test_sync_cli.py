"""`agentdesk login`, `sync` and `import --server` as a user runs them: real processes, a real backend, a real keyring.

The keyring is keyrings.alt's file backend, chosen through ``PYTHON_KEYRING_BACKEND``
and kept in this test's folder (``XDG_DATA_HOME``): a real backend, not a mock. It keeps
tokens in plaintext, so each login here says ``--plaintext-keyring``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.backend import Server, add_user, database, fetch, refused_url, server  # noqa: F401 - fixtures
from tests.test_ledger import records


@pytest.fixture
def home(tmp_path: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AGENTDESK_")}
    env.update(XDG_DATA_HOME=str(tmp_path / "data"), XDG_CONFIG_HOME=str(tmp_path / "config"),
               AGENTDESK_DB=str(tmp_path / "data" / "agentdesk.sqlite3"),
               PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring")
    return env


def agentdesk(env: dict[str, str], *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agentdesk", *args], input=stdin, capture_output=True, text=True,
                          env=env, timeout=120)


def test_login_sync_and_decide_as_the_token_says_and_no_token_in_our_files(server: Server, home, tmp_path) -> None:
    admin = add_user(server.database, "admin", "admin")
    token = add_user(server.database, "a-7", "agent")
    data = tmp_path / "records.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records()) + "not json\n", encoding="utf-8")
    upload = agentdesk({**home, "AGENTDESK_TOKEN": admin}, "import", str(data), "--server", server.url)
    assert upload.returncode == 1  # one bad line, reported by number; the good ones are in
    assert "line 8:" in upload.stderr and "7 new or changed" in upload.stderr

    wrong = agentdesk(home, "login", "--server", server.url, "--user", "a-8", "--plaintext-keyring",
                      stdin=token + "\n")
    assert wrong.returncode == 1 and "belongs to 'a-7'" in wrong.stderr
    login = agentdesk(home, "login", "--server", server.url, "--user", "a-7", "--plaintext-keyring",
                      stdin=token + "\n")
    assert login.returncode == 0, login.stderr
    assert "PlaintextKeyring" in login.stdout

    first = agentdesk(home, "sync")  # the saved login names the backend; the keyring holds the token
    assert first.returncode == 0, first.stderr
    assert "nothing waiting" in first.stderr
    decided = agentdesk(home, "decide", "refund", "c-1", "--amount", "30.00")  # no --as: the token decides
    assert decided.returncode == 0, decided.stderr
    pushed = agentdesk(home, "sync", "--json")
    assert pushed.returncode == 0, pushed.stderr
    assert json.loads(pushed.stdout)["pushed"] == 1
    body = fetch(server.database, "SELECT body FROM record WHERE type = 'decision'")[0][0]
    assert '"agent":"a-7"' in body and '"state":"confirmed"' in body

    ours = [path for path in tmp_path.rglob("*") if path.is_file() and "keyring" not in path.name]
    assert ours, "the test looked at no files"
    for path in ours:
        assert token.encode() not in path.read_bytes(), f"the token is in {path}"
        assert admin.encode() not in path.read_bytes(), f"the admin token is in {path}"


def test_sync_offline_exits_1_saying_what_waits_and_drains_later(server: Server, home) -> None:
    admin = add_user(server.database, "admin", "admin")
    token = add_user(server.database, "a-7", "agent")
    env = {**home, "AGENTDESK_TOKEN": token}
    upload = agentdesk({**env, "AGENTDESK_TOKEN": admin}, "import", "-", "--server", server.url,
                       stdin="".join(json.dumps(r) + "\n" for r in records()))
    assert upload.returncode == 0, upload.stderr
    assert agentdesk(env, "sync", "--server", server.url).returncode == 0
    assert agentdesk(env, "decide", "voucher", "c-1", "--as", "a-7", "--amount", "5.00").returncode == 0
    offline = agentdesk(env, "sync", "--server", refused_url())
    assert offline.returncode == 1
    assert offline.stderr.strip().splitlines()[-1].startswith("agentdesk: offline: 1 decision waiting (")
    back = agentdesk(env, "sync", "--server", server.url)
    assert back.returncode == 0 and "pushed 1" in back.stderr


def test_login_without_a_keyring_backend_says_so_and_names_the_fallback(server: Server, home) -> None:
    token = add_user(server.database, "a-7", "agent")
    env = {**home, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    login = agentdesk(env, "login", "--server", server.url, "--user", "a-7", stdin=token + "\n")
    assert login.returncode == 1
    (line,) = login.stderr.strip().splitlines()
    assert "no keyring backend" in line and "AGENTDESK_TOKEN" in line


def test_a_login_into_the_plaintext_keyring_picked_by_default_stores_nothing_and_says_why(server: Server, home,
                                                                                          tmp_path) -> None:
    before = datetime.now(timezone.utc)
    token = add_user(server.database, "a-7", "agent")
    # As after the README's install: keyrings.alt is there, no keyring is configured, no system keyring answers.
    unset = ("PYTHON_KEYRING_BACKEND", "DBUS_SESSION_BUS_ADDRESS")
    env = {key: value for key, value in home.items() if key not in unset}
    env["HOME"] = str(tmp_path / "home")
    refused = agentdesk(env, "login", "--server", server.url, "--user", "a-7", stdin=token + "\n")
    assert refused.returncode == 1 and refused.stdout == ""
    (line,) = refused.stderr.strip().splitlines()
    keyring_file = tmp_path / "data" / "python_keyring" / "keyring_pass.cfg"
    assert "keyrings.alt.file.PlaintextKeyring" in line and str(keyring_file) in line
    assert "--plaintext-keyring" in line and "AGENTDESK_TOKEN" in line
    assert not keyring_file.exists()
    for path in tmp_path.rglob("*"):
        assert not path.is_file() or token.encode() not in path.read_bytes(), f"the token is in {path}"
    assert agentdesk(env, "sync").returncode == 1  # no login was saved either

    accepted = agentdesk(env, "login", "--server", server.url, "--user", "a-7", "--plaintext-keyring",
                         stdin=token + "\n")
    assert accepted.returncode == 0, accepted.stderr
    assert "PlaintextKeyring" in accepted.stdout and keyring_file.exists()
    days = [(moment + timedelta(days=90)).strftime("%Y-%m-%d") for moment in (before, datetime.now(timezone.utc))]
    assert any(f"it expires on {day} " in accepted.stdout for day in days), accepted.stdout  # 90 days by default


def test_sync_without_a_backend_or_a_token_says_what_to_do(home, tmp_path) -> None:
    nothing = agentdesk(home, "sync")
    assert nothing.returncode == 1 and "no backend" in nothing.stderr
    no_token = agentdesk(home, "sync", "--server", "http://127.0.0.1:9")
    assert no_token.returncode == 1 and "agentdesk login" in no_token.stderr


async def test_sync_sends_a_decision_whose_undo_window_ended_while_no_workstation_was_open(server: Server, home):
    from datetime import datetime, timedelta, timezone

    from agentdesk.domain.authority import Proposal
    from agentdesk.store.ledger import Ledger
    from tests.test_ledger import MATRIX, eur, rows

    admin = add_user(server.database, "admin", "admin")
    env = {**home, "AGENTDESK_TOKEN": add_user(server.database, "a-7", "agent")}
    assert agentdesk({**env, "AGENTDESK_TOKEN": admin}, "import", "-", "--server", server.url,
                     stdin="".join(json.dumps(r) + "\n" for r in records())).returncode == 0
    assert agentdesk(env, "sync", "--server", server.url).returncode == 0
    store = Path(home["AGENTDESK_DB"])
    an_hour_ago = datetime.now(timezone.utc) - timedelta(hours=1)
    async with Ledger.open(store, MATRIX, lambda: an_hour_ago) as ledger:  # the workstation closed in the window
        taken = await ledger.take("a-7", "c-1", Proposal("voucher", eur("5.00")), undo_window=timedelta(seconds=10))
    assert rows(store, "SELECT state FROM decision WHERE id = ?", taken.decision.id) == [("pending",)]
    synced = agentdesk(env, "sync", "--server", server.url)
    assert synced.returncode == 0 and "pushed 1" in synced.stderr, synced.stderr
    assert rows(store, "SELECT state FROM decision WHERE id = ?", taken.decision.id) == [("confirmed",)]


def test_the_plain_session_syncs_too_and_sends_what_was_decided_before_it_ends(server: Server, home) -> None:
    admin = add_user(server.database, "admin", "admin")
    token = add_user(server.database, "a-7", "agent")
    assert agentdesk({**home, "AGENTDESK_TOKEN": admin}, "import", "-", "--server", server.url,
                     stdin="".join(json.dumps(r) + "\n" for r in records())).returncode == 0
    env = {**home, "AGENTDESK_TOKEN": token}
    assert agentdesk(env, "sync", "--server", server.url).returncode == 0
    session = agentdesk(env, "--plain", "--server", server.url, stdin="open c-1\nvoucher 5.00\nsend\nsync\nquit\n")
    assert session.returncode == 0, session.stderr
    lines = session.stdout.splitlines()
    assert lines[0].startswith("Jonas Weber · agent")  # /me named the agent: no --as needed
    assert any(line.startswith("sync: ") for line in lines), session.stdout
    body = fetch(server.database, "SELECT body FROM record WHERE type = 'decision'")
    assert len(body) == 1 and '"state":"confirmed"' in body[0][0] and '"5.00"' in body[0][0]
    offline = agentdesk({**env}, "--plain", "--server", refused_url(), "--as", "a-7", stdin="sync\nquit\n")
    assert "sync: offline" in offline.stdout or "sync: connecting" in offline.stdout, offline.stdout
