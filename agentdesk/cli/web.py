"""``agentdesk web``: the workstation in a browser, through textual-serve.

Each browser tab runs its own ``agentdesk`` session with this command's options (``--db``, ``--server``,
``--as``, ``--read-only``, ``--authority``) and this user's login: the token comes from the keyring or
``$AGENTDESK_TOKEN`` as it would in a terminal, and never reaches the browser. Anyone who can open the page
works as that user, so it listens on 127.0.0.1 by default; to share it, put it behind a reverse proxy that
signs people in (docs/web.md).

textual-serve's own ``serve`` binds a fixed port; here the site is bound first (port 0 takes a free one)
and the public address is made from the port it got, then printed, so a script or test can read it.
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import signal
import sys

from aiohttp import web
from textual_serve.server import Server

PASSED_ON = (("db", "--db"), ("server", "--server"), ("agent", "--as"), ("authority", "--authority"))


def web_command(args: argparse.Namespace) -> str:
    """The command each browser session runs: this Python's agentdesk with the options given here."""
    words = [sys.executable, "-m", "agentdesk"]
    for attribute, flag in PASSED_ON:
        value = getattr(args, attribute, None)
        if value is not None:
            words += [flag, str(value)]
    if getattr(args, "read_only", False):
        words.append("--read-only")
    return shlex.join(words)


class _DeskServer(Server):
    def __init__(self, command: str, *, host: str, port: int, public_url: str | None) -> None:
        super().__init__(command, host=host, port=port, title="agentdesk", public_url=public_url)
        self.derive_url = public_url is None
        """No public address given: it is this server's own, known once the port is."""

    async def on_startup(self, app: web.Application) -> None:
        """textual-serve's banner would name the port before it is known: :meth:`run` says it instead."""

    async def run(self, stop: asyncio.Event) -> None:
        runner = web.AppRunner(await self._make_app(), handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        port = runner.addresses[0][1]
        if self.derive_url:
            self.public_url = f"http://{self.host}:{port}"
        print(f"agentdesk web on http://{self.host}:{port} (public address {self.public_url}); ctrl+c stops it",
              flush=True)
        try:
            await stop.wait()
        finally:
            await runner.cleanup()


def serve_web(args: argparse.Namespace) -> int:
    server = _DeskServer(web_command(args), host=args.host, port=args.port, public_url=args.public_url)
    server.initialize_logging()

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await server.run(stop)

    asyncio.run(main())
    return 0
