"""Reusable widgets of the workstation (line-API lists, the text pane, the header)."""
