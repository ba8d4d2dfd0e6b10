"""``agentdesk floor`` and ``floor`` in the plain session: the supervisor's floor in lines and in JSON."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_cli_decide import agentdesk, store  # noqa: F401 - fixture
from tests.test_plain_session import answer, plain, settings  # noqa: F401 - fixture
from tests.test_plain_session import store as plain_store  # noqa: F401 - fixture


def test_the_floor_in_lines_and_in_json(store: Path) -> None:
    done = agentdesk("--db", str(store), "floor")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Agents (") and lines[0].endswith("; presence unknown)")
    assert any(line.startswith("  Jonas Weber · agent · unknown · ") for line in lines)
    assert any(line.startswith("Queue: ") for line in lines) and "Escalations waiting for approval: " in done.stdout
    as_json = agentdesk("--db", str(store), "floor", "--json")
    data = json.loads(as_json.stdout)
    assert data["presence_known"] is False and {"agents", "queue", "missed_deadlines", "escalations_waiting",
                                                "promises"} <= set(data)
    assert "\x1b" not in done.stdout


def test_the_plain_session_says_the_floor(plain_store: Path, settings: Path) -> None:
    out = plain(plain_store, settings, "floor\n", "--read-only")
    said = answer(out, "floor")
    assert said[0].startswith("Agents (") and any("Queue: " in line for line in said)
