"""Tokens live in a real keyring backend (keyrings.alt's file backend in a temporary folder), never in our files.

That backend keeps tokens in plaintext: every login here says it accepts that
(``plaintext_accepted=True``, as ``agentdesk login --plaintext-keyring`` does), and one
test shows that without it nothing is stored.
"""

from __future__ import annotations

from pathlib import Path

import keyring
import pytest
from keyring.backends.chainer import ChainerBackend
from keyring.backends.fail import Keyring as NoKeyring
from keyring.backends.null import Keyring as NullKeyring
from keyrings.alt.file import PlaintextKeyring

from agentdesk.sync import credentials
from agentdesk.sync.credentials import CredentialsError, login_path, server_url, store_login, token_for

TOKEN = "adk_" + "x" * 43
SERVER = "http://127.0.0.1:8300"


@pytest.fixture
def file_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AGENTDESK_CONFIG", str(tmp_path / "config" / "config.toml"))
    monkeypatch.delenv("AGENTDESK_TOKEN", raising=False)
    monkeypatch.delenv("AGENTDESK_SERVER", raising=False)
    ring = PlaintextKeyring()
    ring.file_path = str(tmp_path / "keyring" / "keyring_pass.cfg")  # a real file backend, in this test's folder
    previous = keyring.get_keyring()
    keyring.set_keyring(ring)
    yield ring
    keyring.set_keyring(previous)


def test_login_keeps_the_token_in_the_keyring_and_only_the_address_in_our_file(file_keyring, tmp_path: Path) -> None:
    store_login(SERVER + "/", "a-7", TOKEN, plaintext_accepted=True)
    assert token_for(SERVER) == TOKEN
    assert file_keyring.get_password(credentials.SERVICE, f"a-7 at {SERVER}") == TOKEN
    saved = login_path().read_text(encoding="utf-8")
    assert SERVER in saved and "a-7" in saved and TOKEN not in saved
    assert server_url(None) == SERVER


def test_the_environment_wins(file_keyring, monkeypatch: pytest.MonkeyPatch) -> None:
    store_login(SERVER, "a-7", TOKEN, plaintext_accepted=True)
    monkeypatch.setenv("AGENTDESK_TOKEN", "adk_from_env")
    monkeypatch.setenv("AGENTDESK_SERVER", "http://other:1")
    assert token_for(SERVER) == "adk_from_env"
    assert server_url(None) == "http://other:1"
    assert server_url("http://given:2/") == "http://given:2"


def test_a_token_for_another_backend_is_not_handed_out(file_keyring) -> None:
    store_login(SERVER, "a-7", TOKEN, plaintext_accepted=True)
    assert token_for("http://elsewhere:8300") is None


@pytest.mark.parametrize("nothing", [NoKeyring, NullKeyring], ids=["fail", "null"])
def test_without_a_keyring_backend_login_says_so_in_one_line_and_names_the_fallback(file_keyring, nothing) -> None:
    keyring.set_keyring(nothing())  # the null keyring would take the token and keep nothing
    with pytest.raises(CredentialsError) as refused:
        store_login(SERVER, "a-7", TOKEN, plaintext_accepted=True)
    message = str(refused.value)
    assert "\n" not in message and "no keyring backend" in message and "AGENTDESK_TOKEN" in message
    assert not login_path().exists()


def test_a_plaintext_keyring_stores_nothing_unless_the_user_accepts_it(file_keyring, tmp_path: Path) -> None:
    with pytest.raises(CredentialsError) as refused:
        store_login(SERVER, "a-7", TOKEN)
    message = str(refused.value)
    assert "\n" not in message
    assert "keyrings.alt.file.PlaintextKeyring" in message and file_keyring.file_path in message
    assert "--plaintext-keyring" in message and "AGENTDESK_TOKEN" in message
    assert not Path(file_keyring.file_path).exists() and not login_path().exists()
    assert token_for(SERVER) is None


def test_a_plaintext_keyring_behind_a_chain_is_refused_too(file_keyring) -> None:
    class Chain(ChainerBackend):
        backends = [file_keyring]  # what keyring chains when several backends answer: the first one writes

    keyring.set_keyring(Chain())
    with pytest.raises(CredentialsError, match="PlaintextKeyring"):
        store_login(SERVER, "a-7", TOKEN)
    assert not Path(file_keyring.file_path).exists()
    assert store_login(SERVER, "a-7", TOKEN, plaintext_accepted=True) == "PlaintextKeyring"
    assert token_for(SERVER) == TOKEN
