"""TLS as the connectors use it: the server's certificate and name always verified, a private CA by ``ca_file``."""

from __future__ import annotations

import ssl


def client_context(ca_file: str | None) -> ssl.SSLContext:
    """Verifies against ``ca_file`` alone when given (a private CA), else against the system's CAs."""
    return ssl.create_default_context(cafile=ca_file)


def untrusted(server: str, exc: ssl.SSLCertVerificationError) -> str:
    """One line for a certificate the client refused, saying what to do about a private CA."""
    why = exc.verify_message or " ".join(str(exc).split())
    return (f"the certificate of {server} is not trusted ({why}); if a private CA issued it, "
            "name that CA's certificate in ca_file")
