"""The providers replies go out through, as the channels file configures them."""

from __future__ import annotations

from agentdesk.channels.config import ChannelsConfig
from agentdesk.domain.model import Channel
from agentdesk.server.delivery import Sender


def senders_for(channels: ChannelsConfig) -> dict[Channel, Sender]:
    return {}
