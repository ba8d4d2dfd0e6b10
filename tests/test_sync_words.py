"""The sync state in words, as the header and `agentdesk sync` say it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from agentdesk.sync.status import SyncStatus

NOW = datetime(2026, 12, 4, 15, 0, tzinfo=timezone.utc)


def test_offline_counts_what_waits() -> None:
    assert SyncStatus(False, waiting=3).words(NOW) == "offline: 3 decisions waiting"
    assert SyncStatus(False, waiting=1).words(NOW) == "offline: 1 decision waiting"
    assert SyncStatus(False).words(NOW) == "offline: nothing waiting"


def test_online_says_how_fresh() -> None:
    assert SyncStatus(True, last_synced=NOW - timedelta(seconds=2)).words(NOW) == "synced 2 s ago"
    assert SyncStatus(True, last_synced=NOW).words(NOW) == "synced just now"
    assert SyncStatus(True, waiting=2, last_synced=NOW).words(NOW) == "sending 2 decisions"


def test_a_problem_and_rejections_are_named() -> None:
    stopped = SyncStatus(True, problem="the backend does not know this token; run agentdesk login")
    assert stopped.words(NOW) == "sync stopped: the backend does not know this token; run agentdesk login"
    assert SyncStatus(True, rejected=1, last_synced=NOW).words(NOW) == (
        "synced just now · 1 decision rejected by the backend")
    assert SyncStatus(None, waiting=1).words(NOW) == "connecting to the backend: 1 decision waiting"


def test_a_long_pull_says_how_far_it_got() -> None:
    assert SyncStatus(True, receiving=120_000).words(NOW) == "receiving changes: 120,000 records so far"
