"""Where things live (the store file, the user's settings), and reading the settings.

The settings file is TOML at ``platformdirs.user_config_dir("agentdesk")/config.toml``,
or wherever ``$AGENTDESK_CONFIG`` points. Every key is optional::

    undo_window_seconds = 10          # 0 .. 86400, or "unlimited" (no time limit)
    authority = "~/matrix.toml"       # the authority matrix; relative to this file

A value that cannot be used is reported in one line naming the file and the key
(:class:`SettingsError`), like a bad authority matrix.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

APP_NAME = "agentdesk"
CONFIG_ENV = "AGENTDESK_CONFIG"
DEFAULT_UNDO_WINDOW = timedelta(seconds=10)
MAX_UNDO_WINDOW_S = 86_400
UNLIMITED = "unlimited"


def _data_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


def default_store_path() -> Path:
    """``$AGENTDESK_DB``, else ``agentdesk.sqlite3`` in the user data directory."""
    env = os.environ.get("AGENTDESK_DB")
    return Path(env) if env else _data_dir() / "agentdesk.sqlite3"


def default_demo_store_path() -> Path:
    return _data_dir() / "demo.sqlite3"


# --------------------------------------------------------------------------- settings


class SettingsError(ValueError):
    """Settings that cannot be used; the message is one line: ``<file>: <key>: <what is wrong>``."""


@dataclass(frozen=True, slots=True)
class Settings:
    """The user's settings; every field has a default, so a missing file is no problem."""

    undo_window: timedelta | None = DEFAULT_UNDO_WINDOW
    """How long a decision stays pending and undoable; None: no time limit (WCAG 2.2.1)."""
    authority: Path | None = None
    """The authority matrix file, when the user names one."""
    source: Path | None = None
    """The file these settings were read from; None when there was none."""


KNOWN_KEYS = ("authority", "undo_window_seconds")


def settings_path() -> Path:
    """``$AGENTDESK_CONFIG``, else ``config.toml`` in the user config directory."""
    env = os.environ.get(CONFIG_ENV)
    if env:
        return Path(env)
    from platformdirs import user_config_dir

    return Path(user_config_dir(APP_NAME, appauthor=False)) / "config.toml"


def load_settings(path: Path | str | None = None) -> Settings:
    """Read the settings file (``path``, else :func:`settings_path`).

    A missing default file gives the defaults; a file named by ``path`` or
    ``$AGENTDESK_CONFIG`` must exist. Bad values raise :class:`SettingsError`.
    """
    explicit = path is not None or bool(os.environ.get(CONFIG_ENV))
    source = Path(path) if path is not None else settings_path()
    try:
        raw = source.read_bytes()
    except FileNotFoundError:
        if explicit:
            raise SettingsError(f"{source}: no such settings file") from None
        return Settings()
    except OSError as exc:
        raise SettingsError(f"{source}: cannot read the settings file: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SettingsError(f"{source}: not UTF-8 text (byte {exc.start})") from None
    return parse_settings(text, source)


def parse_settings(text: str, source: Path | str = "<settings>") -> Settings:
    import tomllib

    source = Path(source)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{source}: not valid TOML: {exc}") from None
    for key in data:
        if key not in KNOWN_KEYS:
            raise SettingsError(f"{source}: {key}: unknown key (known: {', '.join(KNOWN_KEYS)})")
    undo_window = DEFAULT_UNDO_WINDOW
    if "undo_window_seconds" in data:
        try:
            undo_window = parse_undo_window(data["undo_window_seconds"])
        except ValueError as exc:
            raise SettingsError(f"{source}: undo_window_seconds: {exc}") from None
    authority = None
    if "authority" in data:
        value = data["authority"]
        if not isinstance(value, str) or not value.strip():
            raise SettingsError(f"{source}: authority: must be the path of a TOML file, not {_kind(value)}")
        authority = Path(value.strip()).expanduser()
        if not authority.is_absolute():
            authority = source.parent / authority
    return Settings(undo_window=undo_window, authority=authority, source=source)


def parse_undo_window(value: Any) -> timedelta | None:
    """A settings value: whole seconds from 0 to 86400, or ``"unlimited"`` (None: no time limit).

    Raises :class:`ValueError` with a one-line reason.
    """
    if isinstance(value, str) and value.strip().lower() == UNLIMITED:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        shown = repr(value) if isinstance(value, str) else _kind(value)
        raise ValueError(f"must be whole seconds from 0 to {MAX_UNDO_WINDOW_S} or \"unlimited\", not {shown}")
    if not 0 <= value <= MAX_UNDO_WINDOW_S:
        raise ValueError(f"must be whole seconds from 0 to {MAX_UNDO_WINDOW_S} or \"unlimited\", not {value}")
    return timedelta(seconds=value)


def undo_window_from_text(text: str) -> timedelta | None:
    """``--undo-window SECONDS|unlimited`` as typed on the command line."""
    cleaned = text.strip()
    if cleaned.isascii() and cleaned.isdigit():
        return parse_undo_window(int(cleaned))
    return parse_undo_window(cleaned)


def _kind(value: Any) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list", dict: "a table"}
    return names.get(type(value), type(value).__name__)
