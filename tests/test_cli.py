"""The plain commands, run as a user runs them: a real process, real files, real pipes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.sample_records import HOSTILE_BODY, records


def agentdesk(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "agentdesk", *args],
        input=stdin.decode() if stdin is not None else None,
        capture_output=True, text=True, timeout=120,
    )


@pytest.fixture
async def store(make_store) -> Path:
    return await make_store(records())


def test_bad_usage_exits_2() -> None:
    assert agentdesk("frobnicate").returncode == 2
    assert agentdesk("timeline").returncode == 2


def test_missing_store_is_one_line_and_exit_1(tmp_path: Path) -> None:
    result = agentdesk("queue", "--db", str(tmp_path / "nope.sqlite3"))
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "no store at" in result.stderr


def test_queue_is_fair_and_explains_itself(store: Path) -> None:
    result = agentdesk("queue", "--db", str(store))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split("  ")[0] for line in lines] == ["1.", "2.", "3."]
    # Petra's callback was due 20 min ago: a promised callback heads the queue. Then Ole (waited 33 h)
    # and Tobias (30 min).
    # (20 min when the store was built; a minute more if the clock turned meanwhile)
    assert "Petra Lindner" in lines[0] and "callback overdue" in lines[0]
    assert re.search(r"— overdue 2[01] min", lines[0])
    assert "Ole Brandt" in lines[1] and "longest wait first" in lines[1]
    assert "Tobias Unruh" in lines[2]
    assert "\x1b" not in result.stdout


def test_shared_options_work_before_or_after_the_command(store: Path) -> None:
    before = agentdesk("--db", str(store), "queue", "--json")
    after = agentdesk("queue", "--json", "--db", str(store))
    assert before.returncode == after.returncode == 0
    assert [json.loads(line)["customer"] for line in before.stdout.splitlines()] == \
           [json.loads(line)["customer"] for line in after.stdout.splitlines()]


def test_queue_json_has_the_reason_and_deadline(store: Path) -> None:
    rows = [json.loads(line) for line in agentdesk("queue", "--json", "--db", str(store)).stdout.splitlines()]
    petra = rows[0]
    assert petra["customer"] == "c-1001" and petra["urgency"] == "no_service"
    assert petra["deadline_what"] == "callback" and petra["reason"].startswith("callback due ")
    assert re.search(r"— overdue 2[01] min; portal 7 h 0[01] min$", petra["reason"])
    assert petra["channels"] == ["portal"]  # only the message after the last answer is waiting


@pytest.mark.parametrize("reference", ["c-1001", "P.Lindner@example.net", "+49 (170) 555-0199"])
def test_timeline_by_id_email_or_phone(store: Path, reference: str) -> None:
    result = agentdesk("timeline", reference, "--db", str(store))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 11  # nine channels, one internal event and the callback decision's line
    assert "Message 0 on email" in lines[0] and "Message 8 on portal" in lines[-3]
    event = lines[-2]  # the SIM was deactivated after the last message
    assert "sim_deactivated" in event and "internal" in event and "Jonas Weber" in event
    assert "callback · promised a call back" in lines[-1]  # the newest: the decision, made after the event


def test_timeline_shows_hostile_text_literally_on_one_line(store: Path) -> None:
    result = agentdesk("timeline", "c-1003", "--db", str(store))
    assert result.returncode == 0
    (line,) = result.stdout.splitlines()
    assert "[bold red]ALERT[/]" in line and "␛[31mred" in line and "‹U+202E›" in line
    assert "⏎ second line" in line
    assert not any(ch in result.stdout for ch in "\x1b\u202e\u200b")


def test_timeline_json_is_interchange_and_escapes_controls(store: Path) -> None:
    result = agentdesk("timeline", "c-1003", "--json", "--db", str(store))
    assert "\u202e" not in result.stdout and "\x1b" not in result.stdout
    (record,) = [json.loads(line) for line in result.stdout.splitlines()]
    assert record["type"] == "interaction" and record["body"] == HOSTILE_BODY


def test_unknown_customer_is_refused_in_one_line(store: Path) -> None:
    result = agentdesk("timeline", "nobody@example.com", "--db", str(store))
    assert result.returncode == 1
    assert result.stderr.strip() == "agentdesk: no customer with id, e-mail or phone 'nobody@example.com'"


def test_import_reports_bad_lines_and_loads_the_rest(tmp_path: Path) -> None:
    good = [json.dumps(r) for r in records()]
    lines = good[:3] + ["{not json"] + good[3:]
    source = tmp_path / "in.jsonl"
    source.write_text("\n".join(lines) + "\n")
    db = tmp_path / "new.sqlite3"
    result = agentdesk("import", str(source), "--db", str(db))
    assert result.returncode == 1
    assert "line 4:" in result.stderr
    exported = agentdesk("export", "--db", str(db))
    assert exported.returncode == 0
    assert len(exported.stdout.splitlines()) == len(good)


def test_import_from_stdin_then_again_changes_nothing(tmp_path: Path) -> None:
    data = ("\n".join(json.dumps(r) for r in records()) + "\n").encode()
    db = str(tmp_path / "s.sqlite3")
    assert agentdesk("import", "-", "--db", db, stdin=data).returncode == 0
    first = agentdesk("export", "--db", db).stdout
    again = agentdesk("import", "-", "--db", db, stdin=data)
    assert again.returncode == 0 and "0 new or changed" in again.stderr
    assert agentdesk("export", "--db", db).stdout == first


def test_a_file_of_bad_lines_says_the_first_twenty_and_counts_the_rest(tmp_path) -> None:
    import subprocess
    import sys

    bad = tmp_path / "bad.jsonl"
    bad.write_text("".join('{"type": "customer"}\n' for _ in range(50)), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "agentdesk", "--db", str(tmp_path / "s.sqlite3"), "import", str(bad)],
                          capture_output=True, text=True, timeout=120)
    lines = done.stderr.splitlines()
    assert done.returncode == 1
    assert [line.split(":")[1].strip() for line in lines[:20]] == [f"line {n}" for n in range(1, 21)]
    assert lines[20] == "agentdesk: and 30 more lines skipped for a reason of their own (the first 20 are above)"
    assert len(lines) == 22  # and the summary
