"""The failures every front end reports the same way, in one line."""

from agentdesk.store.files import StoreError

__all__ = ["CommandError", "StoreError"]


class CommandError(Exception):
    """A refusal or failure the user can act on; printed as one line, exit 1."""
