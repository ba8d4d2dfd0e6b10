"""Changes from the backend this workstation could not apply: kept with the reason, tried again later.

The sync layer decides what to set aside and when to try again; here are the table's
statements, each a ``(sql, params)`` pair for :meth:`StoreWriter.apply` or a query for
:meth:`StoreWriter.fetch`. A change is keyed by its record ``(type, id)``: a newer change
of the same record replaces the one kept, and one that applies clears it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

Statement = tuple[str, tuple[Any, ...]]
Key = tuple[str, str]

ANY = "SELECT 1 FROM set_aside LIMIT 1"
KEPT = "SELECT type, id, seq, reason FROM set_aside ORDER BY seq, type, id"
"""Every change kept, oldest first, with its reason."""
RECORDS = "SELECT seq, record FROM set_aside ORDER BY seq, type, id"
"""Every change kept, as ``(seq, record JSON)``, to try again."""
UNREPORTED = "SELECT type, id, seq, reason FROM set_aside WHERE NOT reported ORDER BY seq"
"""Those the backend's log was not told of yet."""


def cleared(applied: Iterable[tuple[Key, int]]) -> list[Statement]:
    """Take off the list each record a change at or after its kept seq has now applied."""
    keys = [[*key, seq] for key, seq in applied]
    if not keys:
        return []
    return [("DELETE FROM set_aside WHERE EXISTS (SELECT 1 FROM json_each(?) AS j WHERE "
             "json_extract(j.value, '$[0]') = set_aside.type AND json_extract(j.value, '$[1]') = set_aside.id "
             "AND json_extract(j.value, '$[2]') >= set_aside.seq)", (json.dumps(keys),))]


def kept(key: Key, seq: int, reason: str, record: Mapping[str, Any]) -> Statement:
    """Keep a change that failed; one seen before keeps its ``reported`` mark while its seq is the same."""
    return ("INSERT INTO set_aside (type, id, seq, reason, record, reported) VALUES (?, ?, ?, ?, ?, 0) "
            "ON CONFLICT (type, id) DO UPDATE SET reason = excluded.reason, record = excluded.record, "
            "reported = reported AND seq = excluded.seq, seq = excluded.seq WHERE excluded.seq >= seq",
            (*key, seq, reason, json.dumps(record, ensure_ascii=False)))


def reported(items: Iterable[tuple[str, str, int, str]]) -> list[Statement]:
    return [("UPDATE set_aside SET reported = 1 WHERE type = ? AND id = ? AND seq = ?", (kind, ident, seq))
            for kind, ident, seq, _ in items]
