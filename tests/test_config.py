"""The user's settings file, ``--undo-window`` and ``--authority``, and what reaches the workstation."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from agentdesk.cli import main
from agentdesk.config import (
    DEFAULT_UNDO_WINDOW,
    Settings,
    SettingsError,
    load_settings,
    parse_settings,
    settings_path,
    undo_window_from_text,
)

SMALL_MATRIX = """\
home_country = "DE"
currency = "EUR"

[roles.agent]
refund = { max = "20.00", per_customer_30d = "40.00" }
escalate_to = "lead"

[roles.lead]
refund = { max = "200.00", per_customer_30d = "400.00" }
approves = ["agent"]
"""


@pytest.fixture(autouse=True)
def no_user_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Never read the real user's settings; each test says what it wants."""
    monkeypatch.delenv("AGENTDESK_CONFIG", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))


def test_settings_path_follows_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    assert settings_path() == tmp_path / "xdg-config" / "agentdesk" / "config.toml"
    monkeypatch.setenv("AGENTDESK_CONFIG", str(tmp_path / "mine.toml"))
    assert settings_path() == tmp_path / "mine.toml"


def test_no_settings_file_means_the_defaults() -> None:
    assert load_settings() == Settings()
    assert Settings().undo_window == DEFAULT_UNDO_WINDOW == timedelta(seconds=10)


def test_a_named_settings_file_must_exist(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    monkeypatch.setenv("AGENTDESK_CONFIG", str(missing))
    with pytest.raises(SettingsError, match=f"^{missing}: no such settings file$"):
        load_settings()


@pytest.mark.parametrize(("text", "expected"), [
    ("undo_window_seconds = 0", timedelta(0)),
    ("undo_window_seconds = 30", timedelta(seconds=30)),
    ("undo_window_seconds = 86400", timedelta(days=1)),
    ('undo_window_seconds = "unlimited"', None),
    ("", DEFAULT_UNDO_WINDOW),
])
def test_undo_window_from_zero_to_unlimited(text: str, expected: timedelta | None) -> None:
    assert parse_settings(text, "c.toml").undo_window == expected


@pytest.mark.parametrize(("text", "what"), [
    ("undo_window_seconds = -1", "not -1"),
    ("undo_window_seconds = 86401", "not 86401"),
    ("undo_window_seconds = 2.5", "not a number"),
    ("undo_window_seconds = true", "not a boolean"),
    ('undo_window_seconds = "10"', "not '10'"),
    ('undo_window_seconds = "forever"', "not 'forever'"),
])
def test_a_bad_undo_window_is_one_line_naming_file_and_key(text: str, what: str) -> None:
    with pytest.raises(SettingsError) as caught:
        parse_settings(text, "/home/u/.config/agentdesk/config.toml")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("/home/u/.config/agentdesk/config.toml: undo_window_seconds: must be whole seconds")
    assert message.endswith(what)


def test_unknown_keys_and_bad_toml_are_named() -> None:
    with pytest.raises(SettingsError, match=r"^c\.toml: undo_window: unknown key \(known: animations, authority, "):
        parse_settings("undo_window = 5", "c.toml")
    with pytest.raises(SettingsError, match=r"^c\.toml: not valid TOML: "):
        parse_settings("undo_window_seconds = ", "c.toml")
    with pytest.raises(SettingsError, match=r"^c\.toml: authority: must be the path of a TOML file, not a number$"):
        parse_settings("authority = 5", "c.toml")


def test_authority_path_is_relative_to_the_settings_file(tmp_path: Path) -> None:
    settings = parse_settings('authority = "matrices/company.toml"', tmp_path / "config.toml")
    assert settings.authority == tmp_path / "matrices" / "company.toml"
    assert parse_settings('authority = "/etc/m.toml"', tmp_path / "c.toml").authority == Path("/etc/m.toml")


def test_undo_window_on_the_command_line() -> None:
    assert undo_window_from_text("0") == timedelta(0)
    assert undo_window_from_text("unlimited") is None
    assert undo_window_from_text("45") == timedelta(seconds=45)
    for bad in ("-3", "86401", "ten", "1.5"):
        with pytest.raises(ValueError):
            undo_window_from_text(bad)


# --- what the workstation is given ------------------------------------------------------


class Opened:
    """Stands in for running the workstation: records what it was given."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from agentdesk.tui.app import AgentDeskApp

        self.apps: list[AgentDeskApp] = []
        monkeypatch.setattr(AgentDeskApp, "run", lambda app, *a, **k: self.apps.append(app))

    @property
    def app(self):
        (app,) = self.apps
        return app


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> Opened:
    return Opened(monkeypatch)


def test_the_workstation_gets_the_demo_matrix_and_ten_seconds_by_default(opened: Opened, tmp_path: Path) -> None:
    assert main(["--db", str(tmp_path / "s.sqlite3"), "--as", "a-7"]) == 0
    assert opened.app.undo_window == timedelta(seconds=10)
    assert opened.app.matrix.source == "demo authority.toml"
    assert opened.app.matrix.role("agent").refund.max == 50


def test_settings_then_flags_decide_undo_window_and_matrix(opened: Opened, monkeypatch: pytest.MonkeyPatch,
                                                           tmp_path: Path) -> None:
    (tmp_path / "small.toml").write_text(SMALL_MATRIX)
    config = tmp_path / "config.toml"
    config.write_text('undo_window_seconds = "unlimited"\nauthority = "small.toml"\n')
    monkeypatch.setenv("AGENTDESK_CONFIG", str(config))
    store = str(tmp_path / "s.sqlite3")
    assert main(["--db", store, "--as", "a-7"]) == 0
    assert opened.apps[-1].undo_window is None
    assert opened.apps[-1].matrix.role("agent").refund.max == 20
    # The flags win over the settings, before or after nothing at all.
    assert main(["--db", store, "--undo-window", "0", "--authority", str(tmp_path / "small.toml")]) == 0
    assert opened.apps[-1].undo_window == timedelta(0)


def test_a_bad_settings_file_stops_the_workstation_in_one_line(opened: Opened, monkeypatch: pytest.MonkeyPatch,
                                                               tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.toml"
    config.write_text("undo_window_seconds = 99999\n")
    monkeypatch.setenv("AGENTDESK_CONFIG", str(config))
    assert main(["--db", str(tmp_path / "s.sqlite3")]) == 1
    err = capsys.readouterr().err
    assert err == (f"agentdesk: {config}: undo_window_seconds: must be whole seconds from 0 to 86400 "
                   "or \"unlimited\", not 99999\n")
    assert opened.apps == []


def test_a_bad_matrix_stops_the_workstation_naming_file_and_key(opened: Opened, tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    matrix = tmp_path / "m.toml"
    matrix.write_text(SMALL_MATRIX.replace('max = "20.00"', 'max = "twenty"'))
    assert main(["--authority", str(matrix), "--db", str(tmp_path / "s.sqlite3")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"agentdesk: {matrix}: roles.agent.refund.max: ")
    assert opened.apps == []


def test_a_bad_undo_window_flag_is_bad_usage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--undo-window", "soon", "--db", str(tmp_path / "s.sqlite3")])
    assert exited.value.code == 2
    assert "argument --undo-window: must be whole seconds from 0 to 86400" in capsys.readouterr().err


def test_accessibility_settings_are_read() -> None:
    settings = parse_settings('theme = "high-contrast"\nsingle_key_shortcuts = false\nanimations = true\n'
                              '[keys]\n"customer.refund" = "f5"\ncustomer.voucher = ["f6", "ctrl+v"]\n'
                              '[keys.queue]\nsearch = "ctrl+f, f3"\n', "c.toml")
    assert (settings.theme, settings.single_key_shortcuts, settings.animations) == ("high-contrast", False, True)
    assert settings.keys == {"customer.refund": ("f5",), "customer.voucher": ("f6", "ctrl+v"),
                             "queue.search": ("ctrl+f", "f3")}
    assert (Settings().theme, Settings().single_key_shortcuts, Settings().animations) == ("default", True, False)


@pytest.mark.parametrize(("text", "message"), [
    ('theme = "neon"', "c.toml: theme: must be one of default, high-contrast, ansi, not 'neon'"),
    ("single_key_shortcuts = 0", "c.toml: single_key_shortcuts: must be true or false, not a number"),
    ('animations = "off"', "c.toml: animations: must be true or false, not a string"),
    ("keys = 3", 'c.toml: keys: must be a table of binding id = "key", not a number'),
    ('[keys]\n"customer.refund" = ""', 'c.toml: keys.customer.refund: an empty key; give at least one key, e.g. "f5"'),
    ('[keys]\n"customer.refund" = 5', 'c.toml: keys.customer.refund: must be a key such as "f5" or a list of keys, '
                                      "not a number"),
])
def test_bad_accessibility_settings_are_one_line(text: str, message: str) -> None:
    with pytest.raises(SettingsError) as caught:
        parse_settings(text, "c.toml")
    assert str(caught.value) == message


def test_theme_keys_and_motion_reach_the_workstation(opened: Opened, monkeypatch: pytest.MonkeyPatch,
                                                     tmp_path: Path) -> None:
    monkeypatch.delenv("TEXTUAL_ANIMATIONS", raising=False)
    store = str(tmp_path / "s.sqlite3")
    assert main(["--db", store, "--as", "a-7"]) == 0
    app = opened.apps[-1]
    assert (app.theme_name, app._keymap, app.animation_level) == ("default", {}, "none")

    config = tmp_path / "config.toml"
    config.write_text('theme = "ansi"\nanimations = true\n[keys]\n"customer.refund" = "F5"\n')
    monkeypatch.setenv("AGENTDESK_CONFIG", str(config))
    assert main(["--db", store, "--as", "a-7"]) == 0
    app = opened.apps[-1]
    assert (app.theme_name, app._keymap, app.animation_level) == ("ansi", {"customer.refund": "f5"}, "full")

    monkeypatch.setenv("TEXTUAL_ANIMATIONS", "basic")  # the environment wins over the settings
    assert main(["--db", store, "--as", "a-7"]) == 0
    assert opened.apps[-1].animation_level == "basic"
