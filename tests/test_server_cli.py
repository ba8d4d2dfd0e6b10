"""``agentdesk serve`` and ``agentdesk users add`` as commands; ``upload`` against a real backend."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from agentdesk.server.database import database_url, describe
from agentdesk.sync.client import BackendClient, BackendRefused
from agentdesk.sync.upload import upload
from tests.backend import Server, add_user, add_user_by_command, database, fetch  # noqa: F401 - fixture


def agentdesk(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "agentdesk", *args], capture_output=True, text=True,
                          timeout=60, env={**os.environ, **(env or {})})


def test_users_add_refuses_a_role_outside_the_matrix(tmp_path: Path) -> None:
    result = agentdesk("users", "add", "x", "--role", "boss", "--database", str(tmp_path / "s.db"))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        "agentdesk: role 'boss' is not in the authority matrix (roles: agent, lead, supervisor, admin)"]


def test_users_add_takes_the_roles_of_the_given_matrix(tmp_path: Path) -> None:
    matrix = tmp_path / "m.toml"
    matrix.write_text('home_country = "DE"\n[roles.clerk]\nrefund = { max = "5.00", per_customer_30d = "9.00" }\n')
    database = str(tmp_path / "s.db")
    assert add_user_by_command(database, "c-1", "clerk", authority=matrix).startswith("adk_")
    assert agentdesk("users", "add", "a-1", "--role", "agent", "--database", database,
                     "--authority", str(matrix)).returncode == 2


def test_users_add_reads_the_database_from_the_environment(tmp_path: Path) -> None:
    database = tmp_path / "env.db"
    result = agentdesk("users", "add", "a-7", "--role", "agent", env={"AGENTDESK_DATABASE": str(database)})
    assert result.returncode == 0, result.stderr
    assert fetch(str(database), "SELECT name, role FROM api_user") == [("a-7", "agent")]
    assert oct(database.stat().st_mode & 0o777) == "0o600"


def test_users_add_again_gives_a_new_token_and_the_old_one_stops_working(database: str) -> None:
    old = add_user_by_command(database, "a-1", "agent")
    new = add_user_by_command(database, "a-1", "lead")
    assert old != new
    with Server(database) as server:
        assert httpx.get(f"{server.url}/me", headers={"Authorization": f"Bearer {old}"}).status_code == 401
        me = httpx.get(f"{server.url}/me", headers={"Authorization": f"Bearer {new}"}).json()
        assert (me["name"], me["role"]) == ("a-1", "lead")
        changes = httpx.get(f"{server.url}/changes", headers={"Authorization": f"Bearer {new}"}).json()
        agents = [c["record"] for c in changes["changes"] if c["record"]["type"] == "agent"]
        assert agents[-1] == {"type": "agent", "id": "a-1", "name": "a-1", "role": "lead"}


def test_serve_refuses_a_database_it_cannot_use(tmp_path: Path) -> None:
    result = agentdesk("serve", "--database", "mysql://u:pw@host/db")
    assert result.returncode == 2 and "unsupported database 'mysql'" in result.stderr
    result = agentdesk("serve", "--database", "postgresql://root:hunter2@127.0.0.1:1/none")
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1 and "hunter2" not in result.stderr + result.stdout
    assert result.stderr.startswith("agentdesk: database postgresql://root:***@127.0.0.1:1/none: ")


def test_database_urls() -> None:
    assert database_url("/x/s.db").drivername == "sqlite+aiosqlite"
    assert database_url("sqlite:///x/s.db").database == "x/s.db"
    assert database_url("postgresql://u@h:5/d").drivername == "postgresql+asyncpg"
    assert database_url("postgres://u@h:5/d").drivername == "postgresql+asyncpg"
    assert describe(database_url("postgresql://u:secret@h:5/d?sslmode=require")) == "postgresql://u:***@h:5/d"


async def test_upload_sends_batches_and_numbers_errors_across_them(database: str) -> None:
    token = add_user(database, "admin", "admin")
    agent = add_user(database, "a-1", "agent")
    records = [{"type": "customer", "id": f"c-{n}", "name": f"C {n}"} for n in range(7)]
    records[4] = {"type": "customer", "id": "c-4"}  # no name
    with Server(database) as server:
        async with BackendClient(server.url, token) as backend:
            summary = await upload(backend, iter(records), batch=3)
            assert (summary.changed, summary.unchanged) == (6, 0)
            assert summary.errors == [(4, "customer c-4: missing required field 'name'")]
            again = await upload(backend, records, batch=2)
            assert (again.changed, again.unchanged, [i for i, _ in again.errors]) == (0, 6, [4])
        async with BackendClient(server.url, agent) as backend:
            try:
                await upload(backend, records)
            except BackendRefused as exc:
                assert "only an admin uploads records" in str(exc)
            else:
                raise AssertionError("an agent may not upload")


def test_serve_on_a_port_in_use_says_so_in_one_line(tmp_path: Path) -> None:
    database = str(tmp_path / "s.db")
    with Server(database) as server:
        result = agentdesk("serve", "--database", database, "--port", str(server.port))
        assert result.returncode == 1 and result.stdout == ""
        assert result.stderr.splitlines() == [f"agentdesk: cannot listen on 127.0.0.1:{server.port}: "
                                              "Address already in use"]
