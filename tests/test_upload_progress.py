"""`agentdesk import --server` shows its progress on a terminal and only its final count line elsewhere."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

from rich.console import Console

from agentdesk.cli.sync_commands import _upload
from agentdesk.cli.upload_progress import count_records
from tests.backend import Server, add_user, database, server  # noqa: F401 - fixtures
from tests.test_ledger import records


def _file(tmp_path: Path, bad_lines: int = 1) -> Path:
    data = tmp_path / "records.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in records()) + "\n" + "not json\n" * bad_lines,
                    encoding="utf-8")
    return data


async def test_a_terminal_sees_records_done_of_the_total_and_the_rate(server: Server, tmp_path: Path) -> None:
    admin = add_user(server.database, "admin", "admin")
    total = len(records()) + 1  # the bad line is done too, as skipped; the blank one is no record
    terminal = io.StringIO()
    console = Console(file=terminal, force_terminal=True, width=120, color_system=None)
    with _file(tmp_path).open("rb") as source:
        assert await _upload(source, server.url, admin, 1 << 20, console=console) == 1
    shown = terminal.getvalue()
    assert "uploading" in shown
    assert f"{total}/{total}" in shown
    assert "records/s" in shown


def test_off_a_terminal_only_the_final_count_line_is_printed_after_the_first_20_skipped(server: Server,
                                                                                        tmp_path: Path) -> None:
    admin = add_user(server.database, "admin", "admin")
    env = {key: value for key, value in os.environ.items() if not key.startswith("AGENTDESK_")}
    env.update(XDG_DATA_HOME=str(tmp_path / "data"), XDG_CONFIG_HOME=str(tmp_path / "config"),
               AGENTDESK_TOKEN=admin)
    data = _file(tmp_path, bad_lines=25)
    done = subprocess.run([sys.executable, "-m", "agentdesk", "import", str(data), "--server", server.url],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.stdout == ""
    first_bad = len(records()) + 2
    assert done.stderr.splitlines() == [
        *(f"agentdesk: line {number}: invalid JSON: Expecting value (column 1)"
          for number in range(first_bad, first_bad + 20)),
        "agentdesk: and 5 more lines skipped for a reason of their own (the first 20 are above)",
        f"uploaded to {server.url}: {len(records())} new or changed, 0 unchanged, 25 skipped",
    ]


def test_a_stream_has_no_total_and_a_file_is_read_again_from_its_start(tmp_path: Path) -> None:
    data = _file(tmp_path)
    with data.open("rb") as source:
        assert count_records(source) == len(records()) + 1
        assert source.readline() == data.read_bytes().splitlines(keepends=True)[0]
    assert count_records(io.BufferedReader(io.BytesIO(b"{}\n"))) is not None  # BytesIO can seek
    reading, writing = os.pipe()
    os.close(writing)
    with os.fdopen(reading, "rb") as pipe:
        assert count_records(pipe) is None
