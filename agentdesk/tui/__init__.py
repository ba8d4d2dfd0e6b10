"""The Textual workstation.

Import :class:`agentdesk.tui.app.AgentDeskApp` from its module; this package
imports nothing itself, so that importing it stays cheap.
"""
