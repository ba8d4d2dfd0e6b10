"""The one way in for the front ends (the workstation, the plain session, the command line).

What every front end needs besides drawing: the store's watcher (:mod:`.watch`), who the
current user is (:mod:`.identity`), and the store's reading and deciding API as the front
ends may use it (:mod:`.store`). Front ends never import :mod:`agentdesk.store` themselves.
Nothing here imports the UI toolkit, and nothing on the workstation's start-up path imports
SQLAlchemy, pydantic or Alembic.
"""
