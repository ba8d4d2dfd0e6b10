"""Alembic upgrades of a store file (imported only when a store is behind)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import URL, create_engine, event

from agentdesk.store.files import CONNECTION_PRAGMAS


def migrations_dir() -> Path:
    """``migrations/`` beside the package in a checkout, or packed inside it in a wheel."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "_migrations", package.parent / "migrations"):
        if (candidate / "env.py").is_file():
            return candidate
    raise FileNotFoundError("the migrations folder is missing from this installation")


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    return config


def sync_engine(path: Path):
    engine = create_engine(URL.create("sqlite", database=str(path)))  # a path may hold "?" or "#"

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record):  # noqa: ANN001 - SQLAlchemy's callback signature
        for pragma in CONNECTION_PRAGMAS:
            dbapi_connection.execute(pragma)

    return engine


def upgrade(path: Path, revision: str = "head") -> None:
    engine = sync_engine(path)
    try:
        with engine.begin() as connection:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()
