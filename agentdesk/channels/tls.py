"""What a connector says when it refuses a server's certificate (the check itself: ``config.tls_context``)."""

from __future__ import annotations

import ssl


def untrusted(server: str, exc: ssl.SSLCertVerificationError) -> str:
    """One line for a certificate the client refused, saying what to do about a private CA."""
    why = exc.verify_message or " ".join(str(exc).split())
    return (f"the certificate of {server} is not trusted ({why}); if a private CA issued it, "
            "name that CA's certificate in ca_file")
