"""Channels: how messages reach the backend from outside (e-mail, SMS, calls, chat and social webhooks).

:mod:`agentdesk.channels.config` reads the channels file ``agentdesk serve --channels FILE`` takes.
"""
