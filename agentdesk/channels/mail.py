"""One e-mail as received (RFC 5322 bytes) turned into what the timeline shows: who, when, which thread, readable text.

The stdlib ``email`` package (``policy.default``) reads the structure and the headers; ``html2text`` turns an
HTML-only mail into text. Nothing here raises on a bad mail: a structure that cannot be read gives the raw text,
decoded with replacement characters, and a note saying so.

Memory stays bounded by :data:`LARGE_PART_BYTES`, not by the mail: before the stdlib parser sees a big mail, every
MIME part larger than that is cut out of the bytes (its size counted chunk by chunk while it is skipped), so a
50 MB attachment is listed by name and size without ever being decoded or held as text.

Customer text is data: header values and the body pass through :mod:`agentdesk.domain.text`, so escape sequences
and bidi controls arrive as visible stand-ins, and markup stays literal characters.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser

from agentdesk.domain.text import display_text, one_line

MAX_BODY_CHARS = 100_000
"""The longest body kept; the rest is cut with a note (a mail is read by a person, not archived here)."""
LARGE_PART_BYTES = 1_000_000
"""A MIME part larger than this (as transferred) is counted and skipped, never decoded."""
KEPT_TEXT_BYTES = 400_000
"""Of a text part larger than :data:`LARGE_PART_BYTES`, the first this many bytes are still read."""
HEADER_LIMIT = 200
"""The longest subject or display name kept, in characters."""
_SCAN_CHUNK = 1 << 20
_OMITTED = "X-Agentdesk-Omitted-Size"
_CUT = "X-Agentdesk-Cut-From"


@dataclass(frozen=True)
class Attachment:
    name: str
    size: int
    """Decoded bytes (for a part skipped as too large: counted from its transfer encoding)."""


@dataclass(frozen=True)
class ParsedMail:
    sender: str | None
    """The From address, lower-cased (None when the mail names none that can be read)."""
    sender_name: str | None
    subject: str
    date: datetime | None
    """The Date header, aware (a zone-less date is read as UTC); None when missing or unreadable."""
    message_id: str | None
    """``<id@host>`` as in the headers."""
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    body: str
    attachments: tuple[Attachment, ...] = ()
    notes: tuple[str, ...] = field(default=())
    """What was not as expected (malformed structure, cut body), each one line; also in ``body``."""

    @property
    def thread(self) -> tuple[str, ...]:
        """The Message-IDs this mail refers to, nearest first, each once."""
        seen: dict[str, None] = {}
        for ident in (*self.in_reply_to, *reversed(self.references)):
            seen.setdefault(ident, None)
        return tuple(seen)


def parse_mail(raw: bytes) -> ParsedMail:
    """The mail in ``raw``; never raises."""
    try:
        return _parse(_without_large_parts(raw) if len(raw) > LARGE_PART_BYTES else raw)
    except Exception as exc:  # noqa: BLE001 - any failure of a parser on hostile input becomes a note
        return _unreadable(raw, f"{type(exc).__name__}: {exc}")


def parse_mail_headers(header: bytes, size: int, limit: int) -> ParsedMail:
    """A mail of ``size`` bytes over the ``limit`` that was not fetched: its headers, and a body saying so."""
    try:
        message = _read(header)
        note = f"[mail of {human_size(size)} not fetched: over the {human_size(limit)} limit]"
        return _headers(message, note, (), (note,))
    except Exception as exc:  # noqa: BLE001 - as in parse_mail
        return _unreadable(header, f"{type(exc).__name__}: {exc}")


def human_size(size: int) -> str:
    if size >= 1_000_000:
        return f"{size / 1_000_000:.1f} MB"
    if size >= 1_000:
        return f"{size / 1_000:.1f} KB"
    return f"{size} bytes"


def _read(raw: bytes) -> EmailMessage:
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    return message


def _parse(raw: bytes) -> ParsedMail:
    message = _read(raw)
    notes: list[str] = []
    body_part = _body_part(message)
    if body_part is None:
        text = _fallback_text(message)
        if message.defects:
            notes.append(f"[the mail's MIME structure is malformed ({_defects(message)}); shown as raw text]")
    else:
        text = _part_text(body_part)
        if body_part.get_content_subtype() == "html":
            text = _html_to_text(text)
        if body_part[_CUT]:
            notes.append(f"[body cut: the text part was {human_size(int(body_part[_CUT]))}]")
    attachments = tuple(_attachments(message, body_part))
    text = fold_quotes(text.replace("\r\n", "\n")).strip()
    if len(text) > MAX_BODY_CHARS:
        notes.append(f"[body cut at {MAX_BODY_CHARS:,} of {len(text):,} characters]")
        text = text[:MAX_BODY_CHARS]
    lines = [text] if text else []
    lines += [f"[attachment {one_line(a.name, HEADER_LIMIT)}, {human_size(a.size)}, not kept]" for a in attachments]
    lines += notes
    return _headers(message, "\n\n".join(lines), attachments, tuple(notes))


def _headers(message: EmailMessage, body: str, attachments: tuple[Attachment, ...],
             notes: tuple[str, ...]) -> ParsedMail:
    sender, name = _sender(message)
    return ParsedMail(
        sender=sender, sender_name=name,
        subject=one_line(_header(message, "Subject"), HEADER_LIMIT),
        date=_date(message),
        message_id=next(iter(_ids(_header(message, "Message-ID"))), None),
        in_reply_to=_ids(_header(message, "In-Reply-To")),
        references=_ids(_header(message, "References")),
        body=display_text(body), attachments=attachments, notes=notes,
    )


def _unreadable(raw: bytes, reason: str) -> ParsedMail:
    text = raw[:MAX_BODY_CHARS].decode("utf-8", errors="replace")
    note = f"[the mail could not be read ({one_line(reason, 200)}); shown as raw text]"
    return ParsedMail(sender=None, sender_name=None, subject="", date=None, message_id=None, in_reply_to=(),
                      references=(), body=display_text(f"{text}\n\n{note}"), notes=(note,))


def _header(message: EmailMessage, name: str) -> str:
    try:
        value = message.get(name)
    except Exception:  # noqa: BLE001 - a header the policy cannot parse is read as missing
        return ""
    return "" if value is None else str(value)


def _sender(message: EmailMessage) -> tuple[str | None, str | None]:
    try:
        header = message.get("From")
        addresses = getattr(header, "addresses", ())
    except Exception:  # noqa: BLE001 - as in _header
        return None, None
    for address in addresses:
        if address.addr_spec and "@" in address.addr_spec:
            return address.addr_spec.lower(), one_line(address.display_name, HEADER_LIMIT) or None
    return None, None


def _date(message: EmailMessage) -> datetime | None:
    try:
        header = message.get("Date")
        value = getattr(header, "datetime", None)
    except Exception:  # noqa: BLE001 - as in _header
        return None
    if not isinstance(value, datetime):
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


_ID = re.compile(r"<[^<>\s]+>")


def _ids(text: str) -> tuple[str, ...]:
    found = tuple(dict.fromkeys(_ID.findall(text)))
    if not found and text.strip() and " " not in text.strip():
        return (f"<{text.strip().strip('<>')}>",)
    return found


def _defects(message: EmailMessage) -> str:
    return ", ".join(sorted({type(defect).__name__ for part in message.walk() for defect in part.defects}))


def _body_part(message: EmailMessage) -> EmailMessage | None:
    part = message.get_body(preferencelist=("plain", "html"))
    if part is None or part.is_multipart():
        return None
    assert isinstance(part, EmailMessage)
    return part


def _fallback_text(message: EmailMessage) -> str:
    """The readable text of a mail whose structure names no body: its payload as text, whatever it is."""
    payload = message.get_payload()
    if isinstance(payload, list):
        return "\n\n".join(_fallback_text(part) for part in payload if isinstance(part, EmailMessage))
    data = message.get_payload(decode=True)
    if isinstance(data, bytes):
        return _decode(data, message.get_content_charset())
    return str(payload)


def _part_text(part: EmailMessage) -> str:
    data = part.get_payload(decode=True)
    return _decode(data if isinstance(data, bytes) else b"", part.get_content_charset())


def _decode(data: bytes, charset: str | None) -> str:
    """Bytes as text in their declared charset; undeclared or unknown: UTF-8 when it is, else Windows-1252."""
    if charset:
        try:
            codecs.lookup(charset)
        except LookupError:
            charset = None
    if charset and charset not in ("us-ascii", "ascii"):
        return data.decode(charset, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _html_to_text(html: str) -> str:
    import html2text  # a third-party import at first use: most mails have a text part

    converter = html2text.HTML2Text()
    converter.body_width = 0
    converter.ignore_images = True
    converter.unicode_snob = True
    return str(converter.handle(html))


def _attachments(message: EmailMessage, body_part: EmailMessage | None) -> Iterator[Attachment]:
    for part in message.walk():
        if part.is_multipart() or part is body_part or part is message and body_part is None:
            continue
        name = part.get_filename()
        if name is None and part.get_content_maintype() == "text" and not part.is_attachment():
            continue  # the other alternative of the body, or a footer
        omitted = part[_OMITTED]
        if omitted is not None:
            size = int(omitted)
        else:
            data = part.get_payload(decode=True)
            size = len(data) if isinstance(data, bytes) else 0
        yield Attachment(name or f"unnamed {part.get_content_type()}", size)


_QUOTED = re.compile(r"^\s*>")
_ATTRIBUTION = re.compile(r"^\s*(On\s.+\swrote:|Am\s.+\sschrieb\s.+:|Le\s.+\sa écrit\s?:)\s*$", re.IGNORECASE)
_ORIGINAL = re.compile(r"^\s*-{2,}\s*(Original Message|Ursprüngliche Nachricht|Forwarded message)\s*-{2,}\s*$",
                       re.IGNORECASE)


def fold_quotes(text: str) -> str:
    """Quoted replies (``> …`` blocks, an ``On … wrote:`` line with what follows it, an ``Original Message``
    tail) each folded into one line saying how many lines it held."""
    lines = text.split("\n")
    out: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if _ORIGINAL.match(line):
            out.append(_folded(lines[index:]))
            break
        if _ATTRIBUTION.match(line) or _QUOTED.match(line):
            end = index + 1 if _ATTRIBUTION.match(line) else index
            while end < len(lines) and (_QUOTED.match(lines[end]) or not lines[end].strip()):
                end += 1
            if _ATTRIBUTION.match(line) and end == index + 1 and end < len(lines):
                out.append(line)  # an attribution followed by the sender's own words: not a quote
                index += 1
                continue
            out.append(_folded(lines[index:end]))
            if end < len(lines) and out[-1] and lines[end - 1].strip() == "":
                out.append("")
            index = end
            continue
        out.append(line)
        index += 1
    return "\n".join(out)


def _folded(block: list[str]) -> str:
    count = len([line for line in block if line.strip()])
    return f"[quoted reply folded: {count} line{'s' if count != 1 else ''}]"


_BOUNDARY = re.compile(rb'boundary\s*=\s*(?:"([^"\r\n]+)"|([^\s;"]+))', re.IGNORECASE)
_HEADER_END = re.compile(rb"\r?\n\r?\n")
_TEXT = re.compile(rb"^content-type:\s*text/", re.IGNORECASE | re.MULTILINE)
_CONTAINER = re.compile(rb"^content-type:\s*multipart/", re.IGNORECASE | re.MULTILINE)
_ATTACHED = re.compile(rb"^content-disposition:\s*attachment", re.IGNORECASE | re.MULTILINE)
_BASE64 = re.compile(rb"^content-transfer-encoding:\s*base64", re.IGNORECASE | re.MULTILINE)
_PART_HEADER_LIMIT = 64_000


def _without_large_parts(raw: bytes) -> bytes:
    """``raw`` with the body of every MIME part over :data:`LARGE_PART_BYTES` taken out (a text part: cut to
    :data:`KEPT_TEXT_BYTES`), and a header on the part saying how big it was. Boundaries are found in the
    bytes themselves (``finditer`` does not copy), so skipped parts are never decoded nor copied."""
    boundaries = {(m.group(1) or m.group(2)) for m in _BOUNDARY.finditer(raw)}
    cuts: list[int] = []
    for boundary in boundaries:
        pattern = re.compile(rb"^--" + re.escape(boundary) + rb"(?:--)?[ \t]*\r?$", re.MULTILINE)
        cuts += [m.start() for m in pattern.finditer(raw)]
    cuts.sort()
    part_starts = [0] + [raw.find(b"\n", cut) + 1 or len(raw) for cut in cuts]
    pieces: list[bytes] = []
    kept_to = 0
    for start, end in zip(part_starts, [*cuts, len(raw)], strict=True):
        head_end = _HEADER_END.search(raw, start, min(end, start + _PART_HEADER_LIMIT))
        if end - start <= LARGE_PART_BYTES or head_end is None:
            continue
        head = raw[start:head_end.start()]
        if _CONTAINER.search(head):
            continue
        body_start = head_end.end()
        size = _base64_size(raw, body_start, end) if _BASE64.search(head) else end - body_start
        pieces.append(raw[kept_to:head_end.start()])
        if _TEXT.search(head) and not _ATTACHED.search(head):
            keep_end = raw.rfind(b"\n", body_start, body_start + KEPT_TEXT_BYTES) + 1 or body_start
            pieces += [f"\r\n{_CUT}: {size}\r\n\r\n".encode(), raw[body_start:keep_end]]
        else:
            pieces.append(f"\r\n{_OMITTED}: {size}\r\n\r\n".encode())
        pieces.append(b"\r\n")
        kept_to = end
    if not pieces:
        return raw
    pieces.append(raw[kept_to:])
    return b"".join(pieces)


def _base64_size(raw: bytes, start: int, end: int) -> int:
    """The decoded size of the base64 text in ``raw[start:end]``, counted a chunk at a time."""
    letters = 0
    padding = 0
    view = memoryview(raw)
    for chunk_start in range(start, end, _SCAN_CHUNK):
        chunk = bytes(view[chunk_start:min(end, chunk_start + _SCAN_CHUNK)]).translate(None, b" \t\r\n")
        letters += len(chunk)
        if chunk:
            padding = len(chunk) - len(chunk.rstrip(b"="))
    return max(letters * 3 // 4 - padding, 0)
