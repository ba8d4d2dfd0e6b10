"""``agentdesk channels check``: its SMTP line against a real aiosmtpd (STARTTLS, login) and its Twilio line against
the stand-in for Twilio's API (Twilio cannot be reached from here). Its IMAP line is tested in test_imap.py."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentdesk.cli import main
from tests.smtp_server import PASSWORD, USER, SmtpServer, smtp_server  # noqa: F401 (fixture)
from tests.tls import Certificates, certificates  # noqa: F401 (fixture)
from tests.twilio_stand_in import ACCOUNT_SID, AUTH_TOKEN, TwilioStandIn, twilio_stand_in  # noqa: F401 (fixture)


def _channels(folder: Path, smtp: SmtpServer, twilio: TwilioStandIn, ca_file: Path) -> Path:
    path = folder / "channels.toml"
    path.write_text(f'public_url = "https://desk.example.com"\n\n'
                    f'[smtp]\nhost = "localhost"\nport = {smtp.port}\nsecurity = "starttls"\nuser = "{USER}"\n'
                    f'from = "{USER}"\nca_file = "{ca_file}"\n\n'
                    f'[twilio]\naccount_sid = "{ACCOUNT_SID}"\napi_base = "{twilio.api_base}"\n'
                    f'from = "+499115550100"\n')
    return path


def test_smtp_and_twilio_lines_say_ok_when_the_servers_take_the_credentials(
        smtp_server: SmtpServer, twilio_stand_in: TwilioStandIn, certificates: Certificates, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.setenv("AGENTDESK_SMTP_PASSWORD", PASSWORD)
    monkeypatch.setenv("AGENTDESK_TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    channels = _channels(tmp_path, smtp_server, twilio_stand_in, certificates.ca_file)

    assert main(["channels", "check", "--channels", str(channels)]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"smtp    ok  (localhost:{smtp_server.port}, starttls, logged in)",
        f"twilio  ok  (account {ACCOUNT_SID}, active)"]


def test_smtp_and_twilio_lines_say_in_one_line_what_failed(
        smtp_server: SmtpServer, twilio_stand_in: TwilioStandIn, certificates: Certificates, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.setenv("AGENTDESK_SMTP_PASSWORD", "not-the-password")
    monkeypatch.setenv("AGENTDESK_TWILIO_AUTH_TOKEN", "not-the-token")
    channels = _channels(tmp_path, smtp_server, twilio_stand_in, certificates.ca_file)

    assert main(["channels", "check", "--channels", str(channels)]) == 1
    printed = capsys.readouterr().out
    assert printed.splitlines() == [
        f"smtp    FAILED  login refused by localhost:{smtp_server.port}: 535 5.7.8 Authentication credentials invalid",
        f"twilio  FAILED  account {ACCOUNT_SID} refused the credentials (401)"]
    assert "not-the-password" not in printed and "not-the-token" not in printed


def test_an_smtp_certificate_from_another_ca_fails_the_smtp_line(
        smtp_server: SmtpServer, twilio_stand_in: TwilioStandIn, certificates: Certificates, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.setenv("AGENTDESK_SMTP_PASSWORD", PASSWORD)
    monkeypatch.setenv("AGENTDESK_TWILIO_AUTH_TOKEN", AUTH_TOKEN)
    channels = _channels(tmp_path, smtp_server, twilio_stand_in, certificates.untrusted_ca_file)

    assert main(["channels", "check", "--channels", str(channels)]) == 1
    assert capsys.readouterr().out.splitlines()[0] == (
        f"smtp    FAILED  the certificate of localhost:{smtp_server.port} is not trusted (unable to get local issuer "
        "certificate); if a private CA issued it, name that CA's certificate in ca_file")
