"""Alembic environment for the agentdesk store.

The store runs migrations itself (``agentdesk.store.migrate.upgrade``) and hands
over an open connection; there is no ``alembic.ini``.
"""

from alembic import context
from sqlmodel import SQLModel

from agentdesk.store import tables  # registers the tables on the metadata

target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through agentdesk.store.migrate.upgrade()")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        include_name=tables.described_here,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
