"""Replies as the domain writes them: where they can go, how they are signed, what is refused and why."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import pytest

from agentdesk.domain import reply
from agentdesk.domain.model import Agent, Case, CaseStatus, Channel, Customer

NOW = datetime(2026, 12, 7, 10, 0, tzinfo=timezone.utc)
JONAS = Agent("a-7", "Jonas Weber", "agent", email="jonas.weber@example.com", phone="+49 911 555 0107",
              extra={"team": "service team Nürnberg"})
PETRA = Customer("c-1", "Petra Lindner", email="p.lindner@example.net", phone="+49 170 555 0199",
                 preferred_channel=Channel.EMAIL)
CASE = Case("k-1", "c-1", "eSIM not activated", CaseStatus.OPEN, NOW)


def test_the_preferred_channel_comes_first_and_a_phone_person_gets_an_sms() -> None:
    assert [d.channel for d in reply.destinations(PETRA)] == [Channel.EMAIL, Channel.SMS]
    phone_person = replace(PETRA, preferred_channel=Channel.PHONE)
    assert [d.words() for d in reply.destinations(phone_person)] == [
        "SMS to +49 170 555 0199", "e-mail to p.lindner@example.net"]
    assert reply.destinations(replace(PETRA, email=None, phone="  ")) == []


def test_a_reply_is_signed_by_a_person_with_role_team_and_direct_contact() -> None:
    entry = reply.reply_entry(JONAS, PETRA, "  Dear Ms Lindner,\r\nit works again.  \n\n", NOW, case=CASE)
    assert entry.body == ("  Dear Ms Lindner,\nit works again.\n\n-- \nJonas Weber\nAgent, service team Nürnberg\n"
                          "jonas.weber@example.com / +49 911 555 0107")
    assert (entry.channel, entry.author, entry.case, entry.direction.value) == (Channel.EMAIL, "a-7", "k-1", "out")
    assert entry.extra == {"reply_by": "a-7", "to": "p.lindner@example.net", "delivery": "queued",
                           "subject": "Re: eSIM not activated"}
    assert reply.delivery(entry) == "queued"


def test_the_subject_has_one_re_and_a_reply_without_case_has_a_plain_one() -> None:
    assert reply.subject_for(replace(CASE, subject="RE: eSIM not activated")) == "RE: eSIM not activated"
    assert reply.subject_for(None) == "Your message to our service team"


@pytest.mark.parametrize(("text", "channel", "case", "words"), [
    ("   \n ", None, CASE, "the reply is empty"),
    ("x" * (reply.MAX_REPLY_CHARS + 1), None, CASE, "the limit is 20,000"),
    ("hello", Channel.CHAT, CASE, "a reply goes out by e-mail or SMS, not chat"),
    ("hello", None, replace(CASE, status=CaseStatus.CLOSED), "case k-1 is closed"),
    ("hello", None, replace(CASE, customer="c-2"), "case k-1 is not Petra Lindner's"),
])
def test_what_cannot_be_sent_is_refused_in_words(text, channel, case, words) -> None:
    with pytest.raises(reply.ReplyRefused, match=words):
        reply.reply_entry(JONAS, PETRA, text, NOW, channel=channel, case=case)


def test_no_address_for_the_channel_asked_for_is_refused() -> None:
    with pytest.raises(reply.ReplyRefused, match="Petra Lindner has no phone number for a reply by SMS"):
        reply.reply_entry(JONAS, replace(PETRA, phone=None), "hello", NOW, channel=Channel.SMS)
    with pytest.raises(reply.ReplyRefused, match="no e-mail address and no phone number"):
        reply.reply_entry(JONAS, replace(PETRA, phone=None, email=None), "hello", NOW)


def test_a_long_sms_is_refused_before_it_becomes_a_pile_of_fragments() -> None:
    with pytest.raises(reply.ReplyRefused, match="the SMS would be 11 parts; at most 10"):
        reply.reply_entry(JONAS, PETRA, "a" * 1500, NOW, channel=Channel.SMS)
    assert reply.reply_entry(JONAS, PETRA, "a" * 1300, NOW, channel=Channel.SMS).channel is Channel.SMS
    # the signature (89 units) leaves a signed SMS in GSM-7: an emoji in the text makes it UCS-2, 67 units a part
    with pytest.raises(reply.ReplyRefused, match="the SMS would be 11 parts; at most 10"):
        reply.reply_entry(JONAS, PETRA, "😀" + "a" * 600, NOW, channel=Channel.SMS)


def test_the_backend_accepts_what_the_workstation_made_and_nothing_else() -> None:
    entry = reply.reply_entry(JONAS, PETRA, "It works again.", NOW, case=CASE)
    reply.check_reply(entry, JONAS, PETRA, CASE)
    forged = replace(entry, body=entry.body.replace("Jonas Weber\n", "The Boss\n"))
    with pytest.raises(reply.ReplyRefused, match="not signed as Jonas Weber's record says"):
        reply.check_reply(forged, JONAS, PETRA, CASE)
    elsewhere = replace(entry, extra={**entry.extra, "to": "attacker@example.org"})
    with pytest.raises(reply.ReplyRefused, match="the customer's e-mail is 'p.lindner@example.net'"):
        reply.check_reply(elsewhere, JONAS, PETRA, CASE)
    with pytest.raises(reply.ReplyRefused, match="written by 'a-7', not 'a-8'"):
        reply.check_reply(entry, replace(JONAS, id="a-8"), PETRA, CASE)
    with pytest.raises(reply.ReplyRefused, match="a new reply is queued, not 'sent'"):
        reply.check_reply(reply.delivered(entry, reply.SENT), JONAS, PETRA, CASE)
    with pytest.raises(reply.ReplyRefused, match="case k-1 is closed"):
        reply.check_reply(entry, JONAS, PETRA, replace(CASE, status=CaseStatus.CLOSED))


def test_delivery_reads_in_words_and_a_failure_says_why() -> None:
    entry = reply.reply_entry(JONAS, PETRA, "It works again.", NOW, case=CASE)
    failed = reply.delivered(entry, reply.FAILED, "550 mailbox\nunavailable")
    assert reply.delivery(failed) == "failed: 550 mailbox ⏎ unavailable"
    assert reply.delivery(reply.delivered(failed, reply.SENT)) == "sent"  # the old reason goes with the old state
    assert reply.outcome_sentence("email", "Petra\x1b[31m Lindner", "failed", "550 no such user") == (
        "e-mail reply to Petra␛[31m Lindner was not sent: 550 no such user")
    assert reply.outcome_sentence("sms", "Petra Lindner", "sent", None) == "SMS reply to Petra Lindner sent"
