"""The progress of ``agentdesk import --server`` on a terminal: records done of the total, rate, time left.

A big upload takes tens of seconds; without a sign of life it looks hung. When the console is not a
terminal (a pipe, a log file, CI) nothing is drawn and only the caller's final count line is printed.
"""

from __future__ import annotations

from typing import BinaryIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class RecordRateColumn(ProgressColumn):
    """``12,400 records/s`` (rich's own speed column counts bytes); the mean so far until rich has two samples."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        if speed is None and task.elapsed:
            speed = task.completed / task.elapsed
        return Text("" if speed is None else f"{speed:,.0f} records/s", style="progress.data.speed")


def upload_progress(console: Console) -> Progress:
    """A progress display of records uploaded; silent when ``console`` is not a terminal."""
    return Progress(
        TextColumn("uploading"),
        BarColumn(),
        MofNCompleteColumn(),
        RecordRateColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not console.is_terminal,
    )


def count_records(source: BinaryIO) -> int | None:
    """The non-blank lines of a file that can be read twice, then back at its start; None for a stream."""
    if not source.seekable():
        return None
    start = source.tell()
    total = sum(1 for line in source if not line.isspace())
    source.seek(start)
    return total
