"""Export: the whole store as canonical interchange JSONL.

Dependency order (agents, customers, cases, timeline entries by customer, time
and id, decisions, promises, audit records), so the output loads back with
hardly any record waiting for another (decisions go by id, so one approving an
escalation follows it when ids grow with time, as the ledger's do). A
decision's line on the timeline is left out: it is derived from the decision,
and the import makes it again. Compact JSON (``,`` and ``:``), UTF-8 characters
as they are, one record a line. Streams from one consistent snapshot; memory
stays at one chunk of rows.
"""

from __future__ import annotations

import io
from collections.abc import AsyncGenerator
from contextlib import aclosing
from pathlib import Path
from typing import Any, BinaryIO, TextIO, cast

from agentdesk.interchange.codec import dumps, to_json_obj
from agentdesk.store.writer import TABLE_ORDER, open_writer, row_record

__all__ = ["dump_jsonl"]


def _wants_bytes(out: object) -> bool:
    if isinstance(out, io.TextIOBase):
        return False
    if isinstance(out, (io.RawIOBase, io.BufferedIOBase)):
        return True
    return "b" in getattr(out, "mode", "")


async def dump_jsonl(store_path: Path | str, out: TextIO | BinaryIO, *, chunk: int = 2000) -> int:
    """Write every record of the store to ``out`` (text or binary); returns the number of records.

    A text stream gets ``str`` (its encoding should be UTF-8; prefer passing a
    binary stream such as ``sys.stdout.buffer``), a binary stream UTF-8 bytes.
    """
    binary = _wants_bytes(out)
    write = out.write
    count = 0
    writer = await open_writer(store_path)
    try:
        # stream_rows is an async generator (closed here, so its snapshot ends even when a write fails), though
        # declared an AsyncIterator.
        rows_of_tables = cast(AsyncGenerator[tuple[str, list[tuple[Any, ...]]], None],
                              writer.stream_rows(TABLE_ORDER, chunk=chunk))
        async with aclosing(rows_of_tables) as chunks:
            async for table, rows in chunks:
                text = "".join([dumps(to_json_obj(row_record(table, row))) + "\n" for row in rows])
                write(text.encode("utf-8") if binary else text)  # type: ignore[arg-type]
                count += len(rows)
    finally:
        await writer.close()
    return count
