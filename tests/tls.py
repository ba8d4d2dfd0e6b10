"""A private certificate authority and a server certificate for 127.0.0.1 and localhost, made by ``trustme``.

Not a test module; import what you need::

    from tests.tls import Certificates, certificates  # noqa: F401 (fixture)

``certificates`` (fixture, session-scoped: made once per xdist worker)
    ``ca_file`` is the PEM a client trusts (an ``[imap]``/``[smtp]`` ``ca_file``); ``cert_file`` and
    ``key_file`` are what a server presents (dovecot, aiosmtpd); ``server_context()`` is an
    ``ssl.SSLContext`` serving them. ``untrusted_ca_file`` belongs to another CA that signed nothing here:
    a client trusting only it must refuse the server.
"""

from __future__ import annotations

import shutil
import ssl
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import trustme

SERVER_NAMES = ("127.0.0.1", "localhost")


@dataclass(frozen=True)
class Certificates:
    ca_file: Path
    cert_file: Path
    key_file: Path
    untrusted_ca_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))


@pytest.fixture(scope="session")
def certificates() -> Iterator[Certificates]:
    folder = Path(tempfile.mkdtemp(prefix="agentdesk-tls-"))
    try:
        ca, other = trustme.CA(), trustme.CA()
        server = ca.issue_cert(*SERVER_NAMES)
        found = Certificates(folder / "ca.pem", folder / "server.pem", folder / "server.key",
                             folder / "untrusted-ca.pem")
        ca.cert_pem.write_to_path(str(found.ca_file))
        server.cert_chain_pems[0].write_to_path(str(found.cert_file))
        for extra in server.cert_chain_pems[1:]:
            extra.write_to_path(str(found.cert_file), append=True)
        server.private_key_pem.write_to_path(str(found.key_file))
        other.cert_pem.write_to_path(str(found.untrusted_ca_file))
        # dovecot's login processes run as its own unprivileged users and read the files after start-up
        folder.chmod(0o755)
        for path in (found.ca_file, found.cert_file, found.key_file, found.untrusted_ca_file):
            path.chmod(0o644)
        yield found
    finally:
        shutil.rmtree(folder, ignore_errors=True)
