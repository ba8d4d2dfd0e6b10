"""``agentdesk channels check``: its SMTP line against a real aiosmtpd (STARTTLS with a private CA, login) and its
Twilio line against the stand-in for Twilio's API (Twilio cannot be reached from here). The IMAP line is tested in
test_imap.py."""

from __future__ import annotations

from pathlib import Path

import pytest
import trustme

from agentdesk.cli import main
from tests.sms_provider import ACCOUNT, TOKEN_ENV, SmsProvider, sms_provider  # noqa: F401 (fixture)
from tests.smtp_server import PASSWORD_ENV, USER, Ca, SmtpServer, smtp_server, tls_ca  # noqa: F401 (fixture)


def _channels(folder: Path, smtp: SmtpServer, provider: SmsProvider, ca_file: str) -> Path:
    path = folder / "channels.toml"
    path.write_text(f'public_url = "https://desk.example.com"\n\n'
                    f'[smtp]\nhost = "127.0.0.1"\nport = {smtp.port}\nsecurity = "starttls"\nuser = "{USER}"\n'
                    f'password_env = "{PASSWORD_ENV}"\nfrom = "{USER}"\nca_file = "{ca_file}"\n\n'
                    f'[twilio]\naccount_sid = "{ACCOUNT}"\nauth_token_env = "{TOKEN_ENV}"\n'
                    f'api_base = "{provider.url}"\nfrom = "+499115550100"\n')
    return path


def test_smtp_and_twilio_lines_say_ok_when_the_servers_take_the_credentials(
        smtp_server: SmtpServer, sms_provider: SmsProvider, tls_ca: Ca, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]):
    channels = _channels(tmp_path, smtp_server, sms_provider, tls_ca.ca_file)

    assert main(["channels", "check", "--channels", str(channels)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"smtp    ok  (127.0.0.1:{smtp_server.port}, starttls, logged in)",
        f"twilio  ok  (account {ACCOUNT}, active)"]
    assert smtp_server.received == [] and sms_provider.taken == []  # a check sends nothing


def test_smtp_and_twilio_lines_say_in_one_line_what_failed(
        smtp_server: SmtpServer, sms_provider: SmsProvider, tls_ca: Ca, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.setenv(PASSWORD_ENV, "not-the-password")
    monkeypatch.setenv(TOKEN_ENV, "not-the-token")
    channels = _channels(tmp_path, smtp_server, sms_provider, tls_ca.ca_file)

    assert main(["channels", "check", "--channels", str(channels)]) == 1
    printed = capsys.readouterr().out
    assert printed.splitlines() == [
        f"smtp    FAILED  login refused by 127.0.0.1:{smtp_server.port} (535 5.7.8 Authentication credentials "
        "invalid)",
        f"twilio  FAILED  account {ACCOUNT} refused the credentials (401)"]
    assert "not-the-password" not in printed and "not-the-token" not in printed


def test_an_smtp_certificate_from_a_ca_not_trusted_fails_the_smtp_line(
        smtp_server: SmtpServer, sms_provider: SmsProvider, tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    other_ca = tmp_path / "other-ca.pem"  # a CA that signed nothing the server has
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    channels = _channels(tmp_path, smtp_server, sms_provider, str(other_ca))

    assert main(["channels", "check", "--channels", str(channels)]) == 1
    assert capsys.readouterr().out.splitlines()[0] == (
        f"smtp    FAILED  the certificate of 127.0.0.1:{smtp_server.port} is not trusted (unable to get local issuer "
        "certificate); if a private CA issued it, name that CA's certificate in ca_file")
