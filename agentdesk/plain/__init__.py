"""The plain session: a line-oriented front end for screen readers and terminals without Textual.

Beside :mod:`agentdesk.tui`, on the same layer: both reach the store through :mod:`agentdesk.desk`.
The command line (:mod:`agentdesk.cli`) parses the arguments and starts it; the plain listings
of ``agentdesk queue``, ``timeline`` and ``promises`` are written by :mod:`.lines`.
"""
