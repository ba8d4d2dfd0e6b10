"""A server's certificate refused: finding it under a library's error, and saying so in one line (the check
itself: ``config.tls_context``)."""

from __future__ import annotations

import ssl


def untrusted(server: str, exc: ssl.SSLCertVerificationError) -> str:
    """One line for a certificate the client refused, saying what to do about a private CA."""
    why = exc.verify_message or " ".join(str(exc).split())
    return (f"the certificate of {server} is not trusted ({why}); if a private CA issued it, "
            "name that CA's certificate in ca_file")


def certificate_refusal(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate check that failed under ``exc`` (a library's connect error wraps it), if one did."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None
