"""Backend accounts against real ``agentdesk serve`` processes: tokens expire, ``users rotate`` and
``users remove`` take effect at once on every process, failed sign-ins are limited per address."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone

import httpx

from benchmarks.backend import child_env, run_async
from tests.backend import Server, add_user, database, fetch, server  # noqa: F401 - fixtures


def users(database: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``agentdesk users ARGS --database DATABASE``."""
    return subprocess.run([sys.executable, "-m", "agentdesk", "users", *args, "--database", database],
                          capture_output=True, text=True, env=child_env(), timeout=60)


def new_token(database: str, *args: str) -> str:
    """The token ``users add`` or ``users rotate`` printed (its one line of output)."""
    result = users(database, *args)
    assert result.returncode == 0, result.stderr
    (token,) = result.stdout.splitlines()
    return token


def me(url: str, token: str) -> httpx.Response:
    return httpx.get(f"{url}/me", headers={"Authorization": f"Bearer {token}"})


def execute(database: str, sql: str) -> None:
    """One statement run straight on the backend's database, committed."""
    if database.startswith("postgresql://"):
        import asyncpg

        async def run() -> None:
            connection = await asyncpg.connect(database, timeout=5)
            try:
                await connection.execute(sql)
            finally:
                await connection.close()

        run_async(run)
        return
    import sqlite3

    with sqlite3.connect(database) as connection:
        connection.execute(sql)
    connection.close()


def one_line(answer: httpx.Response) -> str:
    detail = answer.json()["detail"]
    assert "\n" not in detail
    return detail


def days_from_now(expires_at: str) -> float:
    return (datetime.fromisoformat(expires_at) - datetime.now(timezone.utc)) / timedelta(days=1)


# --------------------------------------------------------------------------- expiry


def test_a_token_expires_after_90_days_or_as_told_and_me_says_when(server: Server) -> None:
    default = add_user(server.database, "a-1", "agent")
    short = new_token(server.database, "add", "a-2", "--role", "agent", "--expires-in", "7")
    assert 89.99 < days_from_now(me(server.url, default).json()["expires_at"]) <= 90
    assert 6.99 < days_from_now(me(server.url, short).json()["expires_at"]) <= 7
    rotated = new_token(server.database, "rotate", "a-2", "--expires-in", "30")
    assert 29.99 < days_from_now(me(server.url, rotated).json()["expires_at"]) <= 30


def test_an_expired_token_gets_401_saying_it_expired_and_what_to_run(server: Server) -> None:
    token = add_user(server.database, "a-7", "agent")
    assert me(server.url, token).status_code == 200
    execute(server.database, "UPDATE api_user SET expires_at_us = 1764547200000000 WHERE name = 'a-7'")  # 2025-12-01
    answer = me(server.url, token)
    assert answer.status_code == 401 and answer.headers["WWW-Authenticate"] == "Bearer"
    assert one_line(answer) == ("the token of a-7 expired on 2025-12-01 00:00 UTC: an admin makes a new one with "
                                "'agentdesk users rotate a-7', then run 'agentdesk login'")
    assert httpx.get(f"{server.url}/changes", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert me(server.url, new_token(server.database, "rotate", "a-7")).status_code == 200


def test_expires_in_must_be_whole_days_within_ten_years(tmp_path) -> None:
    database = str(tmp_path / "s.db")
    for bad in ("0", "-1", "3651", "1.5", "soon"):
        result = users(database, "add", "a-1", "--role", "agent", "--expires-in", bad)
        assert result.returncode == 2 and result.stdout == "", bad
        assert result.stderr.splitlines()[-1].startswith("agentdesk users add: error: argument --expires-in: ")


# --------------------------------------------------------------------------- remove, rotate, list


def test_remove_rotate_and_add_again_take_effect_at_once_on_every_server_process(database: str) -> None:
    tokens = {name: add_user(database, name, "agent") for name in ("a-1", "a-2", "a-3")}
    with Server(database) as first, Server(database) as second:
        processes = (first, second)
        for process in processes:  # each process has now seen every token work
            assert all(me(process.url, token).status_code == 200 for token in tokens.values())

        removed = users(database, "remove", "a-1")
        assert removed.returncode == 0, removed.stderr
        assert removed.stdout == "removed user a-1: their token no longer works; their agent record and history stay\n"
        rotated = new_token(database, "rotate", "a-2")
        replaced = new_token(database, "add", "a-3", "--role", "lead")

        for process in processes:
            for old in tokens.values():
                answer = me(process.url, old)
                assert answer.status_code == 401, (process.url, answer.text)
                assert one_line(answer) == "unknown token (never issued, replaced, or its user removed)"
            assert me(process.url, rotated).json()["name"] == "a-2"
            assert me(process.url, replaced).json()["role"] == "lead"
    agent = fetch(database, "SELECT body FROM record WHERE type = 'agent' AND id = 'a-1'")
    assert json.loads(agent[0][0]) == {"type": "agent", "id": "a-1", "name": "a-1", "role": "agent"}
    assert [name for (name,) in fetch(database, "SELECT name FROM api_user ORDER BY name")] == ["a-2", "a-3"]


def test_rotate_and_remove_name_a_missing_user_in_one_line(tmp_path) -> None:
    database = str(tmp_path / "s.db")
    for action in ("rotate", "remove"):
        result = users(database, action, "nobody")
        assert result.returncode == 1 and result.stdout == ""
        assert result.stderr.splitlines() == ["agentdesk: no user 'nobody' (agentdesk users list shows them)"]


def test_users_list_shows_name_role_and_expiry_never_tokens(tmp_path) -> None:
    database = str(tmp_path / "s.db")
    tokens = [add_user(database, "a-1", "agent"), new_token(database, "add", "admin", "--role", "admin",
                                                              "--expires-in", "1")]
    execute(database, "UPDATE api_user SET expires_at_us = 1764547200000000 WHERE name = 'admin'")
    plain, as_json = users(database, "list"), users(database, "list", "--json")
    assert plain.returncode == 0 and as_json.returncode == 0
    lines = plain.stdout.splitlines()
    assert lines[0].startswith("a-1\tagent\texpires ") and lines[1] == "admin\tadmin\texpired 2025-12-01 00:00 UTC"
    rows = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert [(row["name"], row["role"], row["expired"]) for row in rows] == [("a-1", "agent", False),
                                                                           ("admin", "admin", True)]
    assert rows[1]["expires_at"] == "2025-12-01T00:00:00+00:00"
    for token in tokens:
        assert token not in plain.stdout + plain.stderr + as_json.stdout and token[4:] not in as_json.stdout


# --------------------------------------------------------------------------- failed sign-ins


def test_after_ten_unknown_tokens_an_address_gets_429_even_with_a_good_token(server: Server) -> None:
    token = add_user(server.database, "a-7", "agent")
    for n in range(10):
        assert me(server.url, f"adk_guess-{n}").status_code == 401
    blocked = me(server.url, token)
    assert blocked.status_code == 429
    assert 1 <= int(blocked.headers["Retry-After"]) <= 60
    wait = blocked.headers["Retry-After"]
    assert one_line(blocked) == f"too many unknown tokens from 127.0.0.1; try again in {wait} s"
    assert httpx.get(f"{server.url}/health").status_code == 200  # needs no token, so is never refused

    # Another address is not held back, and its success frees nobody else.
    with httpx.Client(transport=httpx.HTTPTransport(local_address="127.0.0.2")) as elsewhere:
        answer = elsewhere.get(f"{server.url}/me", headers={"Authorization": f"Bearer {token}"})
        assert answer.status_code == 200, answer.text
    assert me(server.url, token).status_code == 429


def test_missing_and_expired_tokens_are_no_guesses_and_are_not_counted(server: Server) -> None:
    token = add_user(server.database, "a-7", "agent")
    expired = add_user(server.database, "a-8", "agent")
    execute(server.database, "UPDATE api_user SET expires_at_us = 1 WHERE name = 'a-8'")
    for _ in range(12):
        assert httpx.get(f"{server.url}/me").status_code == 401
        assert me(server.url, expired).status_code == 401
    assert me(server.url, token).status_code == 200


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_limit_lifts_when_the_window_since_the_first_failure_has_passed() -> None:
    from agentdesk.server.sign_in_limit import SignInLimit

    clock = Clock()
    limit = SignInLimit(limit=3, window_s=60, timer=clock)
    for _ in range(3):
        assert limit.retry_after("10.0.0.1") is None
        limit.failed("10.0.0.1")
        clock.now += 10
    assert limit.retry_after("10.0.0.1") == 30  # counted from the first failure, not renewed by the later ones
    assert limit.retry_after("10.0.0.2") is None
    limit.failed("10.0.0.1")  # failing on while held back does not lengthen the wait
    clock.now += 29.5
    assert limit.retry_after("10.0.0.1") == 1
    clock.now += 0.6
    assert limit.retry_after("10.0.0.1") is None
    limit.failed("10.0.0.1")
    assert limit.retry_after("10.0.0.1") is None  # a fresh window: one failure of three
