"""The providers replies go out through, as the channels file configures them: e-mail over ``[smtp]``,
SMS through ``[twilio]``. A channel the file leaves out has no sender, and its replies fail saying so."""

from __future__ import annotations

import httpx

from agentdesk.channels.config import ChannelsConfig, SmtpSettings, TwilioSettings
from agentdesk.channels.outbound import SendFailed, reply_mail, send_mail, send_sms
from agentdesk.domain import reply
from agentdesk.domain.contact import customer_region, phone_key
from agentdesk.domain.model import Channel
from agentdesk.server.delivery import DeliveryJob, Sender


class EmailSender:
    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings

    async def send(self, job: DeliveryJob) -> str:
        entry = job.reply
        message = reply_mail(reply_id=entry.id, at=entry.at, agent_name=job.agent.name,
                             team_address=self.settings.from_, to=str(entry.extra.get(reply.TO, "")),
                             subject=str(entry.extra.get(reply.SUBJECT) or reply.subject_for(job.case)),
                             body=entry.body, thread=job.thread)
        return await send_mail(self.settings, message)


class SmsSender:
    def __init__(self, settings: TwilioSettings) -> None:
        self.settings = settings

    async def send(self, job: DeliveryJob) -> str:
        written = str(job.reply.extra.get(reply.TO, ""))
        # The provider takes E.164 only; a national number is read in the customer's country.
        number = phone_key(written, customer_region(job.customer))
        if number is None or not number.startswith("+"):
            raise SendFailed(f"{written!r} cannot be read as a phone number in international form", permanent=True)
        async with httpx.AsyncClient() as client:
            return await send_sms(self.settings, number, job.reply.body, client)


def senders_for(channels: ChannelsConfig) -> dict[Channel, Sender]:
    found: dict[Channel, Sender] = {}
    if channels.smtp is not None:
        found[Channel.EMAIL] = EmailSender(channels.smtp)
    if channels.twilio is not None:
        found[Channel.SMS] = SmsSender(channels.twilio)
    return found
