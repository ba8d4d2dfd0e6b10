"""The backend: the source of truth all workstations share (FastAPI over SQLite or PostgreSQL)."""
