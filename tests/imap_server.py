"""A real IMAP server for tests: Debian's dovecot-imapd as a private instance on a free loopback port.

Not a test module; import what you need::

    from tests.imap_server import ImapServer, imap_server  # noqa: F401 (fixture)

    def test_something(imap_server):
        mailbox = imap_server.new_mailbox()        # a user of its own: tests never see each other's mail
        mailbox.deliver(raw_bytes)                 # IMAP APPEND, as a mail server would deliver
        mailbox.user, mailbox.password, imap_server.port

``imap_server`` (fixture, session-scoped: one dovecot per xdist worker)
    Its own configuration, mail directories and passwd-file in a temporary folder, plaintext
    logins allowed (loopback only, no TLS: security "none"), every process as the current user.
    Stopped at the end of the session. ``/usr/sbin/dovecot`` comes from the ``dovecot-imapd``
    package (installed by ``.ci/run``); without it the tests fail with that reason.

``imap_tls_server`` (fixture, session-scoped)
    The same with ``ssl = yes`` and the certificate of ``tls_ca`` (:mod:`tests.smtp_server`): STARTTLS
    offered on ``port`` (security "starttls") and TLS from the first byte on ``tls_port`` (security "ssl").
"""

from __future__ import annotations

import imaplib
import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.smtp_server import Ca, tls_ca  # noqa: F401 (fixture)

DOVECOT = Path("/usr/sbin/dovecot")
START_DEADLINE_S = 20.0
USERS = 200
"""Mailboxes one dovecot hands out (one per test that asks)."""


@dataclass
class Mailbox:
    server: ImapServer
    user: str
    password: str

    def deliver(self, raw: bytes, mailbox: str = "INBOX") -> None:
        with self.server.connect(self) as imap:
            status, answer = imap.append(mailbox, "", imaplib.Time2Internaldate(time.time()), raw)
            assert status == "OK", answer

    def count(self, mailbox: str = "INBOX") -> int:
        with self.server.connect(self) as imap:
            status, answer = imap.select(mailbox, readonly=True)
            assert status == "OK", answer
            return int(answer[0] or 0)


@dataclass
class ImapServer:
    folder: Path
    certificates: Ca | None = None
    """Given: dovecot serves TLS with them (STARTTLS on ``port``, TLS from the start on ``tls_port``)."""
    port: int = 0
    tls_port: int = 0
    process: subprocess.Popen[bytes] | None = None
    users: list[Mailbox] = field(default_factory=list)

    @property
    def config(self) -> Path:
        return self.folder / "dovecot.conf"

    def new_mailbox(self) -> Mailbox:
        """A user of its own, from the ones written before dovecot started (dovecot reads its passwd-file again
        at most once a second, so a user added while it runs may be unknown at the first login)."""
        if not self.users:
            raise RuntimeError(f"all {USERS} test users of this dovecot are taken; raise USERS")
        return self.users.pop()

    def connect(self, mailbox: Mailbox) -> imaplib.IMAP4:
        imap = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        imap.login(mailbox.user, mailbox.password)
        return imap

    def start(self) -> None:
        user = pwd.getpwuid(os.getuid()).pw_name
        # dovecot started as root runs its login and internal processes as unprivileged users (it refuses
        # root), and mail as a user that is not root: the package's own dovenull and dovecot users.
        login_user, internal_user = ("dovenull", "dovecot") if os.getuid() == 0 else (user, user)
        mail_owner = pwd.getpwnam(internal_user)
        self.folder.chmod(0o755)
        for name in ("run", "state", "mail"):
            (self.folder / name).mkdir(exist_ok=True)
        os.chown(self.folder / "mail", mail_owner.pw_uid, mail_owner.pw_gid)
        self.users = [Mailbox(self, f"u{number}-{secrets.token_hex(3)}@example.com", secrets.token_urlsafe(12))
                      for number in range(USERS)]
        (self.folder / "passwd").write_text("".join(f"{mailbox.user}:{{PLAIN}}{mailbox.password}::::::\n"
                                                    for mailbox in self.users))
        self.port = _free_port()
        tls = self.certificates
        if tls is not None:
            self.tls_port = _free_port()
        self.config.write_text(_CONFIG.format(folder=self.folder, port=self.port, user=user,
                                              login_user=login_user, internal_user=internal_user,
                                              uid=mail_owner.pw_uid, gid=mail_owner.pw_gid,
                                              tls_port=self.tls_port,
                                              ssl=_TLS.format(cert=tls.cert_file, key=tls.key_file) if tls
                                              else "ssl = no"))
        self.process = subprocess.Popen([str(DOVECOT), "-F", "-c", str(self.config)],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + START_DEADLINE_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                said = self.process.stderr.read().decode() if self.process.stderr else ""
                raise RuntimeError(f"dovecot exited: {said} {self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as probe:
                    if probe.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"dovecot did not answer on port {self.port} within {START_DEADLINE_S} s: {self.log()}")

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log(self) -> str:
        path = self.folder / "dovecot.log"
        return path.read_text(errors="replace")[-3000:] if path.exists() else ""


_CONFIG = """\
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {folder}/dovecot.log
protocols = imap
listen = 127.0.0.1
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal_user}
default_login_user = {login_user}
first_valid_uid = {uid}
last_valid_uid = {uid}
first_valid_gid = {gid}
mail_location = maildir:{folder}/mail/%u
mail_fsync = never
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {folder}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={folder}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {tls_port}
  }}
}}
service stats {{
  unix_listener stats-reader {{
    user = {internal_user}
  }}
  unix_listener stats-writer {{
    user = {internal_user}
  }}
}}
"""

_TLS = """\
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
"""


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def imap_server() -> Iterator[ImapServer]:
    yield from _running_dovecot(None)


@pytest.fixture(scope="session")
def imap_tls_server(tls_ca: Ca) -> Iterator[ImapServer]:
    yield from _running_dovecot(tls_ca)


def _running_dovecot(tls: Ca | None) -> Iterator[ImapServer]:
    if not DOVECOT.exists():
        pytest.fail(f"{DOVECOT} is missing: apt-get install -y dovecot-imapd (as .ci/run does)")
    folder = Path(tempfile.mkdtemp(prefix="dovecot-"))
    server = ImapServer(folder, tls)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
