"""Mails as clients send them, made by the stdlib's own writer (``EmailMessage``), read back by channels.mail."""

from __future__ import annotations

import base64
import os
import tracemalloc
from datetime import UTC, datetime
from email.message import EmailMessage

from agentdesk.channels.mail import fold_quotes, parse_mail


def _mail(**headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = headers.pop("From", "Anna Berg <Anna.Berg@Example.org>")
    message["To"] = "service@example.com"
    message["Subject"] = headers.pop("Subject", "Where is my refund?")
    message["Date"] = "Tue, 03 Mar 2026 10:15:00 +0100"
    message["Message-ID"] = headers.pop("Message_ID", "<m1@example.org>")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    return message


def test_multipart_alternative_prefers_the_text_part_and_reads_the_headers():
    message = _mail(In_Reply_To="<r2@desk>", References="<r1@desk> <r2@desk>")
    message.set_content("Hello,\nthe refund has not arrived.\n")
    message.add_alternative("<p>Hello,<br>the <b>HTML</b> version</p>", subtype="html")

    mail = parse_mail(message.as_bytes())

    assert mail.sender == "anna.berg@example.org"
    assert mail.sender_name == "Anna Berg"
    assert mail.subject == "Where is my refund?"
    assert mail.date == datetime(2026, 3, 3, 9, 15, tzinfo=UTC)
    assert mail.message_id == "<m1@example.org>"
    assert mail.thread == ("<r2@desk>", "<r1@desk>")
    assert mail.body == "Hello,\nthe refund has not arrived."
    assert mail.attachments == ()


def test_html_only_mail_becomes_text_without_tags():
    message = _mail()
    message.set_content("<html><body><h1>Order 4711</h1><p>It arrived <b>broken</b>.</p>"
                        "<script>alert(1)</script></body></html>", subtype="html")

    body = parse_mail(message.as_bytes()).body

    assert "Order 4711" in body and "broken" in body
    assert "<p>" not in body and "alert" not in body


def test_iso_8859_1_and_shift_jis_bodies_and_headers_are_decoded():
    latin = _mail(Subject="Rückerstattung für Bestellung")
    latin.set_content("Grüße aus Köln, ça va?\n", charset="iso-8859-1", cte="quoted-printable")
    raw = latin.as_bytes()
    assert b"Gr=FC=DFe" in raw

    mail = parse_mail(raw)
    assert mail.body == "Grüße aus Köln, ça va?"
    assert mail.subject == "Rückerstattung für Bestellung"

    japanese = (b"From: =?shift_jis?b?" + base64.b64encode("山田太郎".encode("shift_jis")) + b"?= <taro@example.jp>\r\n"
                b"Subject: =?shift_jis?b?" + base64.b64encode("返金について".encode("shift_jis")) + b"?=\r\n"
                b"Message-ID: <jp1@example.jp>\r\nMIME-Version: 1.0\r\n"
                b"Content-Type: text/plain; charset=Shift_JIS\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
                + "返金はまだですか。\r\n".encode("shift_jis"))
    mail = parse_mail(japanese)
    assert mail.body == "返金はまだですか。"
    assert mail.subject == "返金について"
    assert mail.sender_name == "山田太郎"


def test_quoted_replies_fold_into_one_line():
    text = ("Thanks, that helps.\n\nOn Mon, 2 Mar 2026 at 09:00, Service <service@example.com> wrote:\n"
            "> Dear Anna,\n> we sent it.\n>\n> Regards\n")
    assert fold_quotes(text) == "Thanks, that helps.\n\n[quoted reply folded: 5 lines]"
    interleaved = "> Did it arrive?\nNo.\n> Which order?\n> The blue one?\n4711"
    assert fold_quotes(interleaved) == ("[quoted reply folded: 1 line]\nNo.\n[quoted reply folded: 2 lines]\n4711")
    outlook = "See below.\n-----Original Message-----\nFrom: x\nSent: y\n\nold text"
    assert fold_quotes(outlook) == "See below.\n[quoted reply folded: 4 lines]"


def test_attachments_are_listed_by_name_and_size():
    message = _mail()
    message.set_content("Invoice attached.\n")
    message.add_attachment(b"%PDF" + b"x" * 12_000, maintype="application", subtype="pdf", filename="invoice.pdf")

    mail = parse_mail(message.as_bytes())

    assert [(a.name, a.size) for a in mail.attachments] == [("invoice.pdf", 12_004)]
    assert mail.body == "Invoice attached.\n\n[attachment invoice.pdf, 12.0 KB, not kept]"


def test_a_50_mb_attachment_is_counted_without_holding_it():
    size = 50 * 1000 * 1000
    encoded = base64.encodebytes(os.urandom(size))  # 76-character lines, as mailers write them
    raw = (b"From: anna@example.org\r\nSubject: report\r\nMessage-ID: <big@example.org>\r\nMIME-Version: 1.0\r\n"
           b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
           b"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nThe report, as promised.\r\n"
           b'--b1\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="report.pdf"\r\n'
           b"Content-Transfer-Encoding: base64\r\n\r\n" + encoded + b"--b1--\r\n")
    del encoded

    tracemalloc.start()
    try:
        mail = parse_mail(raw)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert [(a.name, a.size) for a in mail.attachments] == [("report.pdf", size)]
    assert mail.body == "The report, as promised.\n\n[attachment report.pdf, 50.0 MB, not kept]"
    assert peak < 8_000_000, f"parsing held {peak:,} bytes at its peak"


def test_a_huge_text_body_is_cut_with_a_note():
    raw = (b"From: anna@example.org\r\nMessage-ID: <long@example.org>\r\nContent-Type: text/plain\r\n\r\n"
           + b"all work and no play\r\n" * 200_000)
    mail = parse_mail(raw)
    assert mail.body.startswith("all work and no play\n")
    assert "[body cut: the text part was 4.4 MB]" in mail.body
    assert len(mail.body) < 200_000


def test_malformed_mime_still_gives_readable_text_and_a_note():
    raw = (b"From: anna@example.org\r\nMessage-ID: <bad@example.org>\r\nMIME-Version: 1.0\r\n"
           b'Content-Type: multipart/mixed; boundary="never-used"\r\n\r\n'
           b"Plain words with no parts at all \xff\xfe and broken bytes.\r\n")
    mail = parse_mail(raw)
    assert "Plain words with no parts at all" in mail.body
    assert "MIME structure is malformed" in mail.body
    assert mail.sender == "anna@example.org"

    garbage = bytes(range(256)) * 10
    assert parse_mail(garbage).body  # never raises, always some text


def test_markup_escape_sequences_and_bidi_controls_stay_literal():
    message = _mail(Subject="\x1b[2J urgent \u202e")
    message.set_content("<b>[bold]red[/bold]</b> \x1b[31mRED\x1b[0m \u202egnp.exe\n")

    mail = parse_mail(message.as_bytes())

    assert "\x1b" not in mail.body and "\u202e" not in mail.body
    assert "<b>[bold]red[/bold]</b> ␛[31mRED␛[0m ‹U+202E›gnp.exe" == mail.body
    assert "\x1b" not in mail.subject and "\u202e" not in mail.subject
