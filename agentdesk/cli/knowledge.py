"""``agentdesk knowledge import DIR [--server URL]``: Markdown articles into the store, and to the backend."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from agentdesk.desk.errors import CommandError
from agentdesk.interchange.articles import ArticleFileError, import_folder


def import_articles(store: Path, args: argparse.Namespace) -> int:
    """Exit 0 when every file loaded (and, with a backend, was taken by it); 1 when any was refused."""
    try:
        report = asyncio.run(import_folder(args.folder, store))
    except ArticleFileError as exc:
        raise CommandError(str(exc)) from None
    for line in report.refused:
        print(f"agentdesk: {line}", file=sys.stderr)
    print(report.summary(), file=sys.stderr)
    refused = bool(report.refused)
    if args.server is not None and report.articles:
        from agentdesk.cli.sync_commands import _server, _token

        server = _server(args)
        refused = asyncio.run(_upload(server, _token(server), report.articles)) or refused
    return 1 if refused else 0


async def _upload(server: str, token: str, articles: list[dict[str, Any]]) -> bool:
    """Send the articles; say what the backend did in one line (and one per article it refused)."""
    from agentdesk.sync.client import BackendClient, BackendRefused, Unreachable
    from agentdesk.sync.upload import upload

    try:
        async with BackendClient(server, token) as backend:
            summary = await upload(backend, articles)
    except BackendRefused as exc:
        raise CommandError(f"{server} refused the upload: {exc}") from None
    except Unreachable as exc:
        raise CommandError(f"{exc}; the articles are in the local store, uploading again is harmless") from None
    for index, reason in summary.errors:
        print(f"agentdesk: article {articles[index]['id']}: {reason}", file=sys.stderr)
    print(f"uploaded to {server}: {summary.changed} new or changed, {summary.unchanged} unchanged, "
          f"{len(summary.errors)} refused", file=sys.stderr)
    return bool(summary.errors)
