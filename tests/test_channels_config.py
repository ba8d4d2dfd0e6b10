"""The channels file: every section read, secrets only by variable name, one-line errors naming file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from agentdesk.channels.config import ChannelsError, load_channels, parse_channels

FULL = """
public_url = "https://desk.example.com/"

[imap]
host = "imap.example.com"
security = "ssl"
user = "service@example.com"

[smtp]
host = "smtp.example.com"
user = "service@example.com"
password_env = "SMTP_PW"
from = "service@example.com"

[twilio]
account_sid = "AC123"
from = "+49 911 555 0100"

[webhook]
secret_env = "HOOK_SECRET"
"""


def _file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "channels.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_every_section_is_read_with_its_defaults(tmp_path: Path) -> None:
    config = load_channels(_file(tmp_path, FULL))
    assert config.public_url == "https://desk.example.com"
    assert config.imap is not None and (config.imap.port, config.imap.mailbox) == (993, "INBOX")
    assert config.imap.password_env == "AGENTDESK_IMAP_PASSWORD"
    assert config.smtp is not None and (config.smtp.port, config.smtp.security, config.smtp.from_) == (
        587, "starttls", "service@example.com")
    assert config.twilio is not None and config.twilio.auth_token_env == "AGENTDESK_TWILIO_AUTH_TOKEN"
    assert config.twilio.api_base == "https://api.twilio.com"
    assert config.webhook is not None and config.webhook.secret_env == "HOOK_SECRET"
    assert config.enabled() == ["imap", "smtp", "twilio", "webhook"]


def test_secrets_come_from_the_environment_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_channels(_file(tmp_path, FULL))
    monkeypatch.delenv("AGENTDESK_IMAP_PASSWORD", raising=False)
    monkeypatch.setenv("HOOK_SECRET", "s3cret")
    assert config.webhook is not None and config.webhook.secret() == "s3cret"
    assert config.imap is not None
    with pytest.raises(ChannelsError, match=r"^imap: \$AGENTDESK_IMAP_PASSWORD is not set$"):
        config.imap.password()


@pytest.mark.parametrize(("text", "expected"), [
    ("[imap]\nhost = 'h'\nuser = 'u'\npassword = 'hunter2'\n", r"imap\.password: unknown key"),
    ("[imap]\nhost = 'h'\nuser = 'u'\npassword_env = 'hunter 2!'\n", r"imap\.password_env: .* not an environment"),
    ("[imap]\nhost = 'h'\nuser = 'u'\nport = 70000\n", r"imap\.port: must be"),
    ("[imap]\nhost = 'h'\nuser = 'u'\nsecurity = 'tls'\n", r"imap\.security: 'tls' is not one of"),
    ("[imap]\nuser = 'u'\n", r"imap\.host: is missing"),
    ("[twilio]\naccount_sid = 'AC1'\n", r"public_url: is missing"),
    ("public_url = 'ftp://x'\n", r"public_url: 'ftp://x' is not"),
    ("[sms]\n", r"sms: unknown key"),
    ("webhook = 3\n", r"webhook: must be a table"),
    ("[webhook\n", r"not valid TOML"),
])
def test_a_bad_file_is_one_line_naming_file_and_key(tmp_path: Path, text: str, expected: str) -> None:
    path = _file(tmp_path, text)
    with pytest.raises(ChannelsError, match=expected) as caught:
        load_channels(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    assert "hunter2" not in message


def test_a_missing_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ChannelsError, match="cannot read the channels file"):
        load_channels(tmp_path / "nope.toml")


@pytest.mark.parametrize(("text", "expected"), [
    ("[webhook]\nsecret_env = 'T_UNSET_SECRET'\n", "webhook: $T_UNSET_SECRET is not set"),
    ("[imap]\nhost = 'h'\n", "imap.user: is missing"),
])
def test_serve_refuses_a_bad_channels_file_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str], text: str,
                                                       expected: str) -> None:
    from agentdesk.cli import main

    monkeypatch.delenv("T_UNSET_SECRET", raising=False)
    path = _file(tmp_path, text)
    status = main(["serve", "--database", str(tmp_path / "s.db"), "--channels", str(path)])
    err = capsys.readouterr().err
    assert status == 1 and err.count("\n") == 1 and expected in err and str(path) in err


def test_an_smtp_server_without_login_needs_no_password_and_from_is_one_address(tmp_path) -> None:
    without_login = '[smtp]\nhost = "127.0.0.1"\nport = 8025\nsecurity = "none"\nfrom = "service@example.com"\n'
    config = parse_channels(without_login, "channels.toml")
    assert config.missing_secrets() == []
    with pytest.raises(ChannelsError, match=r"smtp\.from: 'Desk <service@example.com>' is not a plain e-mail address"):
        parse_channels('[smtp]\nhost = "h"\nfrom = "Desk <service@example.com>"\n', "channels.toml")
    with pytest.raises(ChannelsError, match=r"imap\.ca_file: .* is not a readable file"):
        parse_channels(f'[imap]\nhost = "h"\nuser = "u"\nca_file = "{tmp_path / "none.pem"}"\n', "channels.toml")
