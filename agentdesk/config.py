"""Where things live (the store file, the user's settings), and reading the settings.

The settings file is TOML at ``platformdirs.user_config_dir("agentdesk")/config.toml``,
or wherever ``$AGENTDESK_CONFIG`` points. Every key is optional::

    undo_window_seconds = 10          # 0 .. 86400, or "unlimited" (no time limit)
    authority = "~/matrix.toml"       # the authority matrix; relative to this file
    theme = "default"                 # "default", "high-contrast" or "ansi" (the terminal's 16 colours)
    single_key_shortcuts = true       # false: every one-character key becomes a modifier chord
    animations = false                # true: Textual's animations ($TEXTUAL_ANIMATIONS wins when set)

    [keys]                            # remap any key by its binding id (the help screen lists them)
    "customer.refund" = "f5"          # one key, "f5,ctrl+r" or ["f5", "ctrl+r"] for several

A value that cannot be used is reported in one line naming the file and the key
(:class:`SettingsError`), like a bad authority matrix.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
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


def default_server_database() -> Path:
    """The backend's SQLite file when ``agentdesk serve`` is given no database: beside the workstation's store."""
    return _data_dir() / "server.db"


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
    theme: str = "default"
    """One of :data:`THEMES`."""
    single_key_shortcuts: bool = True
    """False: no action is bound to a single printable character (WCAG 2.1.4)."""
    animations: bool = False
    """Textual's animations; off unless asked for, and ``$TEXTUAL_ANIMATIONS`` wins when set."""
    keys: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Binding id → the keys the user wants for it (checked against the bindings by the workstation)."""
    source: Path | None = None
    """The file these settings were read from; None when there was none."""


THEMES = ("default", "high-contrast", "ansi")
KNOWN_KEYS = ("animations", "authority", "keys", "single_key_shortcuts", "theme", "undo_window_seconds")


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
    undo_window: timedelta | None = DEFAULT_UNDO_WINDOW
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
    theme = data.get("theme", "default")
    if theme not in THEMES:
        shown = repr(theme) if isinstance(theme, str) else _kind(theme)
        raise SettingsError(f"{source}: theme: must be one of {', '.join(THEMES)}, not {shown}")
    flags = {name: _flag(data, name, default, source)
             for name, default in (("single_key_shortcuts", True), ("animations", False))}
    keys = _keys(data.get("keys", {}), source)
    return Settings(undo_window=undo_window, authority=authority, theme=theme, keys=keys, source=source, **flags)


def _flag(data: dict[str, Any], name: str, default: bool, source: Path) -> bool:
    value = data.get(name, default)
    if not isinstance(value, bool):
        raise SettingsError(f"{source}: {name}: must be true or false, not {_kind(value)}")
    return value


def _keys(table: Any, source: Path) -> dict[str, tuple[str, ...]]:
    """``[keys]`` flattened: ``customer.refund = "f5"`` is a dotted TOML key, so nested tables are read too."""
    if not isinstance(table, dict):
        raise SettingsError(f"{source}: keys: must be a table of binding id = \"key\", not {_kind(table)}")
    keys: dict[str, tuple[str, ...]] = {}

    def walk(prefix: str, value: Any) -> None:
        if isinstance(value, dict):
            for name, inner in value.items():
                walk(f"{prefix}.{name}" if prefix else name, inner)
            return
        where = f"{source}: keys.{prefix}"
        parts = value.split(",") if isinstance(value, str) else value
        if not isinstance(parts, list) or not all(isinstance(part, str) for part in parts):
            raise SettingsError(f"{where}: must be a key such as \"f5\" or a list of keys, not {_kind(value)}")
        cleaned = tuple(part.strip() for part in parts)
        if not cleaned or not all(cleaned):
            raise SettingsError(f"{where}: an empty key; give at least one key, e.g. \"f5\"")
        keys[prefix] = cleaned

    walk("", table)
    return keys


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
