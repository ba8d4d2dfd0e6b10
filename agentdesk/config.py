"""Where things live: the store file and the user's settings."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "agentdesk"


def _data_dir() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir(APP_NAME, appauthor=False))


def default_store_path() -> Path:
    """``$AGENTDESK_DB``, else ``agentdesk.sqlite3`` in the user data directory."""
    env = os.environ.get("AGENTDESK_DB")
    return Path(env) if env else _data_dir() / "agentdesk.sqlite3"


def default_demo_store_path() -> Path:
    return _data_dir() / "demo.sqlite3"
