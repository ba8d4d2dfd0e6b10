"""The workstation's side of the backend: outbox push, cursor pull, live stream, sync state."""
