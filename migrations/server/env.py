"""Alembic environment for the backend's own database (not the workstation store's).

The backend runs these itself (``agentdesk.server.migrate.upgrade``, at ``serve`` start
and by ``users add``) and hands over an open connection; there is no ``alembic.ini``.
"""

from alembic import context

from agentdesk.server.tables import ServerTable

target_metadata = ServerTable.metadata


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through agentdesk.server.migrate.upgrade()")
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
