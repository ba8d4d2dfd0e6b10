"""The cast, the clock, and the five stories of the product brief, retold with our own names.

Every story is one customer with a long, multi-channel history, a named owner,
open cases and promises, placed relative to ``now`` so that the customer is
waiting for an answer right now. The stories use no randomness at all: the same
``now`` always tells them the same way, whatever the seed or the bulk sizes.

Identifiers of the stories live below 2000 (``c-1001`` … ``c-1005``, ``k-1001`` …,
``i-1001`` …); the bulk starts far above them.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

# --------------------------------------------------------------------------- the clock

_MMSS = tuple(f"{m:02d}:{s:02d}" for m in range(60) for s in range(60))
_HH = tuple(f"{h:02d}:" for h in range(24))


class Clocks:
    """ISO 8601 text (with the zone's offset) for epoch seconds, cheaply and exactly.

    ``datetime.fromtimestamp(...).isoformat()`` for every record would cost as much
    as the rest of the generator; here a zone's offset is looked up once per UTC day
    (days with a change of offset take the exact, slow way) and the ``YYYY-MM-DDT``
    prefix once per local day.
    """

    def __init__(self) -> None:
        self._zones: dict[str, _Zone] = {}
        self._dates: dict[int, str] = {}

    def zone(self, name: str) -> _Zone:
        found = self._zones.get(name)
        if found is None:
            found = self._zones[name] = _Zone(name, self._dates)
        return found


class _Zone:
    __slots__ = ("name", "info", "_days", "_dates")

    def __init__(self, name: str, dates: dict[int, str]) -> None:
        self.name = name
        self.info = ZoneInfo(name)
        self._days: dict[int, tuple[int, str] | None] = {}
        self._dates = dates

    def _exact(self, ts: int) -> int:
        offset = datetime.fromtimestamp(ts, self.info).utcoffset()
        assert offset is not None
        return int(offset.total_seconds())

    def _day_entry(self, day: int) -> tuple[int, str] | None:
        """``(offset, "+02:00")`` for a UTC day, or None when the offset changes during it."""
        off = self._exact(day * 86_400)
        entry = None
        if self._exact(day * 86_400 + 86_399) == off:
            entry = (off, _offset_text(off))
        self._days[day] = entry
        return entry

    def offset(self, ts: int) -> int:
        """The zone's UTC offset in seconds at epoch second ``ts``."""
        utc_day = ts // 86_400
        entry = self._days[utc_day] if utc_day in self._days else self._day_entry(utc_day)
        return self._exact(ts) if entry is None else entry[0]

    def iso(self, ts: int) -> str:
        """``2026-07-14T09:31:00+02:00`` for epoch second ``ts``."""
        utc_day = ts // 86_400
        entry = self._days[utc_day] if utc_day in self._days else self._day_entry(utc_day)
        if entry is None:
            off = self._exact(ts)
            off_text = _offset_text(off)
        else:
            off, off_text = entry
        local = ts + off
        day, second = divmod(local, 86_400)
        prefix = self._dates.get(day)
        if prefix is None:
            prefix = self._dates[day] = time.strftime("%Y-%m-%dT", time.gmtime(day * 86_400))
        return prefix + _HH[second // 3600] + _MMSS[second % 3600] + off_text

    def local_ts(self, day: date, hhmm: str) -> int:
        """Epoch seconds of the local wall-clock time ``hhmm`` (``"09:31"`` or ``"09:31:20"``) on ``day``."""
        hour, minute, second = (int(part) for part in f"{hhmm}:00".split(":")[:3])
        return int(datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=self.info).timestamp())

    def local_date(self, ts: int) -> date:
        return datetime.fromtimestamp(ts, self.info).date()


def _offset_text(off: int) -> str:
    sign = "-" if off < 0 else "+"
    hours, minutes = divmod(abs(off) // 60, 60)
    return f"{sign}{hours:02d}:{minutes:02d}"


def money(cents: int) -> str:
    """``3990`` -> ``"39.90"``: money is a decimal string, never a float."""
    return f"{cents // 100}.{cents % 100:02d}"


# --------------------------------------------------------------------------- the cast

@dataclass(frozen=True, slots=True)
class Staff:
    id: str
    name: str
    role: str
    email: str
    phone: str
    team: str
    zone: str = "Europe/Berlin"

    @property
    def first(self) -> str:
        return self.name.split()[0]

    @property
    def initials(self) -> str:
        return "".join(part[0] for part in self.name.split())

    def record(self) -> dict:
        return {"type": "agent", "id": self.id, "name": self.name, "role": self.role,
                "email": self.email, "phone": self.phone, "team": self.team}


NIGHT_DESK_ZONE = "Europe/Istanbul"
"""The outsourced night desk records its work in its own time zone (UTC+3)."""

STAFF: tuple[Staff, ...] = (
    Staff("a-1", "Katrin Hoffmann", "supervisor", "katrin.hoffmann@example.com", "+49 911 555 0101", "supervision"),
    Staff("a-2", "Markus Brandt", "lead", "markus.brandt@example.com", "+49 911 555 0102", "service team Nürnberg"),
    Staff("a-3", "Aylin Demir", "lead", "aylin.demir@example.com", "+49 911 555 0103", "social media team"),
    Staff("a-4", "Lena Vogel", "agent", "lena.vogel@example.com", "+49 911 555 0104", "service team Nürnberg"),
    Staff("a-5", "Stefan Krüger", "agent", "stefan.krueger@example.com", "+49 911 555 0105", "business hotline"),
    Staff("a-6", "Miriam Schulz", "agent", "miriam.schulz@example.com", "+49 911 555 0106", "chat team"),
    Staff("a-7", "Jonas Weber", "agent", "jonas.weber@example.com", "+49 911 555 0107", "service team Nürnberg"),
    Staff("a-8", "Dennis Yilmaz", "agent", "dennis.yilmaz@example.com", "+49 911 555 0108", "chat team"),
    Staff("a-9", "Claudia Richter", "agent", "claudia.richter@example.com", "+49 911 555 0109",
          "eSIM and callback specialist"),
    Staff("a-10", "Felix Hartmann", "agent", "felix.hartmann@example.com", "+49 911 555 0110", "billing"),
    Staff("a-11", "Emre Aydın", "agent", "emre.aydin@example.com", "+90 212 555 0111", "night desk Istanbul",
          NIGHT_DESK_ZONE),
    Staff("a-12", "Selin Kaya", "agent", "selin.kaya@example.com", "+90 212 555 0112", "night desk Istanbul",
          NIGHT_DESK_ZONE),
    Staff("a-13", "Sarah Busch", "agent", "sarah.busch@example.com", "+49 911 555 0113", "sales line"),
    Staff("a-21", "Nina Lorenz", "agent", "nina.lorenz@example.com", "+49 911 555 0121", "Shop Nürnberg"),
    Staff("a-22", "Paul Seidel", "agent", "paul.seidel@example.com", "+49 89 555 0122", "Shop München"),
    Staff("a-23", "Jana Wolff", "agent", "jana.wolff@example.com", "+49 30 555 0123", "Shop Berlin"),
    Staff("a-24", "Kai Petersen", "agent", "kai.petersen@example.com", "+49 40 555 0124", "Shop Hamburg"),
    Staff("a-25", "Ute Schröder", "agent", "ute.schroeder@example.com", "+49 221 555 0125", "Shop Köln"),
    Staff("a-26", "Murat Çelik", "agent", "murat.celik@example.com", "+49 69 555 0126", "Shop Frankfurt"),
    Staff("a-27", "Anke Fuchs", "agent", "anke.fuchs@example.com", "+49 341 555 0127", "Shop Leipzig"),
    Staff("a-28", "Ben Maier", "agent", "ben.maier@example.com", "+49 711 555 0128", "Shop Stuttgart"),
)
STAFF_BY_ID = {person.id: person for person in STAFF}

SHOPS: dict[str, tuple[str, str]] = {
    # city -> (shop name, staff id)
    "Nürnberg": ("Shop Nürnberg Karolinenstraße", "a-21"),
    "München": ("Shop München Kaufingerstraße", "a-22"),
    "Berlin": ("Shop Berlin Alexanderplatz", "a-23"),
    "Hamburg": ("Shop Hamburg Spitalerstraße", "a-24"),
    "Köln": ("Shop Köln Schildergasse", "a-25"),
    "Frankfurt am Main": ("Shop Frankfurt Zeil", "a-26"),
    "Leipzig": ("Shop Leipzig Petersstraße", "a-27"),
    "Stuttgart": ("Shop Stuttgart Königstraße", "a-28"),
}

CALLBACK_SPECIALIST = "a-9"
"""Claudia Richter: the prepared specialist who calls back (story 1's happy ending)."""

SYSTEM = "system"
"""Author of automatic messages and events (invoices, auto-replies, line tests), not a person."""


# --------------------------------------------------------------------------- the story book

@dataclass(slots=True)
class StoryRecords:
    customers: list[dict] = field(default_factory=list)
    cases: list[dict] = field(default_factory=list)
    entries: list[dict] = field(default_factory=list)
    decisions: list[dict] = field(default_factory=list)
    promises: list[dict] = field(default_factory=list)


class _Ids:
    def __init__(self, start: int = 1001) -> None:
        self.next = {prefix: start for prefix in "ckiedp"}

    def take(self, prefix: str) -> str:
        number = self.next[prefix]
        self.next[prefix] = number + 1
        return f"{prefix}-{number}"


class _Story:
    """One customer's history, written down in any order and told in time order."""

    def __init__(self, book: StoryRecords, ids: _Ids, clocks: Clocks, now_ts: int, customer: dict) -> None:
        self.book, self.ids, self.clocks, self.now_ts = book, ids, clocks, now_ts
        self.customer = customer
        self.id = customer["id"]
        self.name = customer["name"]
        self.zone = clocks.zone(customer["timezone"])
        self._pending: list[tuple[int, int, str, dict]] = []
        book.customers.append(customer)

    # times -----------------------------------------------------------------
    def anchor(self, hhmm: str, gap_minutes: int) -> date:
        """The latest local day on which ``hhmm`` is at least ``gap_minutes`` before now."""
        day = self.zone.local_date(self.now_ts)
        while self.zone.local_ts(day, hhmm) > self.now_ts - gap_minutes * 60:
            day -= timedelta(days=1)
        return day

    def at(self, day: date, days: int, hhmm: str) -> int:
        return self.zone.local_ts(day + timedelta(days=days), hhmm)

    def iso(self, ts: int, zone: str | None = None) -> str:
        return (self.clocks.zone(zone) if zone else self.zone).iso(ts)

    # records ---------------------------------------------------------------
    def case(self, subject: str, opened: int, status: str = "open", urgency: str = "normal",
             disputed: str | None = None) -> str:
        kid = self.ids.take("k")
        record = {"type": "case", "id": kid, "customer": self.id, "subject": subject, "status": status,
                  "opened_at": self.iso(opened)}
        if disputed is not None:
            record["disputed_amount"] = disputed
            record["currency"] = "EUR"
        if urgency != "normal":  # the canonical form leaves the default out
            record["urgency"] = urgency
        self.book.cases.append(record)
        return kid

    def said(self, ts: int, channel: str, direction: str, body: str, *, by: str | None = None,
             case: str | None = None, duration: int | None = None, wait: int | None = None) -> None:
        """An interaction; ``by`` is an agent id (or ``system``) unless the customer speaks."""
        author = self.name if direction == "in" else (by or SYSTEM)
        zone = STAFF_BY_ID[by].zone if by in STAFF_BY_ID else None
        record = {"type": "interaction", "id": "", "customer": self.id}
        if case:
            record["case"] = case
        record.update(channel=channel, direction=direction, at=self.iso(ts, zone), author=author, body=body)
        if duration is not None:
            record["duration_s"] = duration
        if wait is not None:
            record["wait_s"] = wait
        self._pending.append((ts, len(self._pending), "i", record))

    def event(self, ts: int, kind: str, body: str, *, by: str = SYSTEM, case: str | None = None) -> None:
        zone = STAFF_BY_ID[by].zone if by in STAFF_BY_ID else None
        record = {"type": "event", "id": "", "customer": self.id}
        if case:
            record["case"] = case
        record.update(at=self.iso(ts, zone), author=by, kind=kind, body=body)
        self._pending.append((ts, len(self._pending), "e", record))

    def decision(self, ts: int, kind: str, by: str, state: str, *, case: str | None = None,
                 amount: str | None = None, reason: str | None = None) -> str:
        did = self.ids.take("d")
        record = {"type": "decision", "id": did, "customer": self.id}
        if case:
            record["case"] = case
        record["kind"] = kind
        if amount is not None:
            record["amount"] = amount
            record["currency"] = "EUR"
        record.update(agent=by, at=self.iso(ts, STAFF_BY_ID[by].zone), state=state)
        if reason:
            record["reason"] = reason
        self.book.decisions.append(record)
        return did

    def promise(self, what: str, due: int, state: str = "open", *, decision: str | None = None) -> str:
        """``state="open"`` becomes ``overdue`` when the due time has already passed."""
        if state == "open" and due < self.now_ts:
            state = "overdue"
        pid = self.ids.take("p")
        record: dict = {"type": "promise", "id": pid}
        if decision:
            record["decision"] = decision
        record.update(customer=self.id, what=what, due=self.iso(due), state=state)
        self.book.promises.append(record)
        return pid

    def tell(self) -> None:
        """Number the entries in time order, so ids and times agree."""
        for ts, _, prefix, record in sorted(self._pending, key=lambda row: (row[0], row[1])):
            assert ts <= self.now_ts, (self.id, record)
            record["id"] = self.ids.take(prefix)
            self.book.entries.append(record)
        self._pending.clear()


WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December")
"""Month names spelled out here: ``strftime("%B")`` would follow the process locale."""


def _month(story: _Story, ts: int) -> str:
    local = datetime.fromtimestamp(ts, story.zone.info)
    return f"{MONTHS[local.month - 1]} {local.year}"


def _day_text(story: _Story, ts: int) -> str:
    local = datetime.fromtimestamp(ts, story.zone.info)
    return f"{local.day} {MONTHS[local.month - 1]}"


# --------------------------------------------------------------------------- 1. the channel maze

def _channel_maze(s: _Story) -> None:
    d0 = s.anchor("17:08", gap_minutes=25)
    t = lambda days, hhmm: s.at(d0, days, hhmm)  # noqa: E731
    flight = f"on {WEEKDAYS[(d0 + timedelta(days=2)).weekday()]} at 06:40"  # still ahead a day later

    old = s.case("Roaming charged in Croatia (EU)", t(-620, "14:02"), status="closed", disputed="18.40")
    esim = s.case("eSIM activation before the trip to Toronto", t(0, "09:14"), urgency="no_service")

    s.said(t(-5844, "11:20"), "letter", "out",
           "Letter: Welcome to your new mobile contract 'Mobil M' for +49 170 555 0199. "
           "Your SIM card is enclosed; it is active from tomorrow.")
    s.said(t(-2954, "16:35"), "shop", "out",
           "Shop visit, Shop Nürnberg Karolinenstraße: contract extended to 'Mobil L', new phone handed over. "
           "Customer asked whether eSIM is possible: not for her device yet.", by="a-21")
    s.event(t(-2954, "16:41"), "tariff_changed", "Tariff changed from 'Mobil M' to 'Mobil L' (24 months).",
            by="a-21")
    s.said(t(-620, "14:02"), "chat", "in",
           "Hi, I'm on holiday in Croatia and just got an SMS that roaming charges apply. "
           "Isn't Croatia in the EU?", case=old)
    s.said(t(-620, "14:09"), "chat", "out",
           "Hello Ms Lindner, I'm Miriam. You're right, Croatia is covered by EU roaming; the 18.40 EUR "
           "were booked by mistake. I've refunded them, you'll see it on your next invoice.", by="a-6", case=old)
    refund = s.decision(t(-620, "14:10"), "refund", "a-6", "confirmed", case=old, amount="18.40",
                        reason="EU roaming charged by mistake")
    s.promise("refund 18.40 EUR on the next invoice", t(-590, "12:00"), "kept", decision=refund)
    s.said(t(-589, "08:15"), "sms", "out", "Your invoice is ready: 26.59 EUR (includes a credit of 18.40 EUR).")
    s.said(t(-181, "19:12"), "app", "in", "In-app message: Please send my invoices by e-mail instead of by post.")
    s.said(t(-180, "10:03"), "app", "out",
           "In-app reply: Done. From now on your invoices come by e-mail to p.lindner@example.net. "
           "Jonas Weber, your contact, direct line +49 911 555 0107", by="a-7")
    s.said(t(-33, "06:30"), "email", "out",
           f"Your invoice for {_month(s, t(-33, '06:30'))} is available: 44.99 EUR. Direct debit on the 5th.")
    s.said(t(-1, "18:47"), "shop", "out",
           "Shop visit, Shop Nürnberg Karolinenstraße: customer bought a new phone that only takes an eSIM; "
           "she'll move her number to the eSIM herself in the portal before her trip.", by="a-21")

    # the day of the maze: seven contacts in eight hours
    s.said(t(0, "09:14"), "portal", "in",
           "Contact form (portal), topic 'eSIM': I want to move my number to an eSIM on my new phone before my "
           f"flight to Toronto {flight}. The portal shows a business contract 'Business Mobil L' that is "
           "not mine, and the eSIM button is greyed out.", case=esim)
    s.said(t(0, "09:14:40"), "portal", "out",
           "Automatic reply: Thank you, we have received your request (reference P-20417). "
           "We will reply within 2 working days.", case=esim)
    s.said(t(0, "09:31"), "chat", "in",
           "Hello, the portal shows the wrong contract and I can't activate my eSIM. "
           f"I'm flying to Toronto {flight}. Can you do it here?", case=esim)
    s.said(t(0, "09:38"), "chat", "out",
           "Hello Ms Lindner, I'm Miriam. I'm sorry, eSIM activations can't be done in chat. Please call the "
           "hotline listed for your contract: 0800 555 0190.", by="a-6", case=esim)
    s.said(t(0, "10:04"), "phone", "out",
           "Call taken on the BUSINESS hotline (27 min): customer was given this number in chat. Her contract "
           "is private and can't be changed from the business system. Promised to send the eSIM QR code by post "
           "(2-3 working days); when she mentioned her flight, promised the QR code by SMS within the "
           "hour instead. Started the SIM swap.", by="a-5", case=esim, duration=1620, wait=660)
    s.promise("eSIM QR code by post", t(3, "18:00"), "broken")
    s.said(t(0, "10:19"), "letter", "out",
           "Letter queued for dispatch: eSIM activation code (QR) for +49 170 555 0199, "
           "delivery in 2-3 working days.", by="a-5", case=esim)
    s.promise("eSIM QR code by SMS within the hour", t(0, "11:31"), "open")
    s.said(t(0, "10:29"), "sms", "out",
           "Your eSIM order for +49 170 555 0199 has been received. Your activation code will follow shortly.",
           case=esim)
    s.event(t(0, "10:36"), "sim_deactivated",
            "SIM deactivated by Stefan Krüger (a-5): the physical SIM ending 4711 for +49 170 555 0199 was set "
            "to 'swapped', but no eSIM profile was issued. The customer has no mobile service.",
            by="a-5", case=esim)
    s.said(t(0, "12:47"), "chat", "in",
           "My phone has had no service since about 10:40, right after the call. No QR code by SMS either, and I "
           f"couldn't receive one anyway. My flight is {flight}. What now?", case=esim)
    s.said(t(0, "12:58"), "chat", "out",
           "Ms Lindner, I'm really sorry. I can see that your SIM was deactivated during an eSIM swap that was "
           "never finished. From chat I can only order a new SIM card by post (2-3 working days); I've done that "
           "now. A shop may be able to help you today.", by="a-8", case=esim)
    s.promise("replacement SIM card by post (order 88-41107)", t(3, "12:00"), "open")
    s.said(t(0, "13:02"), "letter", "out",
           "Letter queued for dispatch: replacement SIM card for +49 170 555 0199 (order 88-41107).", case=esim)
    s.said(t(0, "15:40"), "shop", "out",
           "Shop visit, Shop Nürnberg Karolinenstraße: customer came in with a deactivated SIM and an eSIM-only "
           "phone. eSIM profiles can't be issued in the Nürnberg shops (only München and Berlin). Could not help; "
           "gave her the private hotline number 0800 555 0100. Customer very upset.", by="a-21", case=esim)
    s.said(t(0, "16:55"), "portal", "in",
           "Complaint (portal): Seven contacts today and I still have no working phone and no eSIM, and I fly to "
           f"Toronto {flight}. One of your staff deactivated my SIM. Please have someone who knows what "
           "they are doing call me tonight on my husband's number +49 170 555 0142.", case=esim)
    s.said(t(0, "17:08"), "email", "in",
           "Subject: eSIM, still no service\n\nI'm writing here as well in case the portal form gets lost: my SIM "
           f"was deactivated this morning by your hotline, I have no eSIM and my flight leaves {flight}. "
           "Please call me on +49 170 555 0142 tonight.\n\nPetra Lindner", case=esim)
    s.tell()


# --------------------------------------------------------------------------- 2. the silos

def _silos(s: _Story) -> None:
    d0 = s.anchor("20:15", gap_minutes=20)
    t = lambda days, hhmm: s.at(d0, days, hhmm)  # noqa: E731

    move = s.case("Relocation of landline and internet to Luitpoldstraße 8", t(-36, "09:05"),
                  urgency="no_service")
    fee = s.case("Cancellation fee 59.90 EUR charged for a relocation", t(-23, "11:40"), disputed="59.90")

    s.said(t(-3904, "10:00"), "letter", "out",
           "Letter: Contract confirmation 'Festnetz Komfort' (landline and internet) for Hainstraße 3, Bamberg. "
           "Your number stays +49 951 555 0133.")
    s.said(t(-1220, "10:31"), "phone", "out",
           "Call taken (6 min): customer asked why her invoice went up by 2.00 EUR; explained the price "
           "adjustment announced by letter.", by="a-4", duration=380, wait=240)
    s.said(t(-36, "09:05"), "letter", "in",
           f"Letter dated {_day_text(s, t(-38, '09:00'))}: Dear Sir or Madam, on the 1st of next month I am moving "
           "from Hainstraße 3 to Luitpoldstraße 8 (2nd floor left), 96052 Bamberg. Please move my telephone and "
           "internet connection; I would like to keep my number. Yours faithfully, Gerda Hofmann", case=move)
    s.said(t(-36, "09:40"), "letter", "internal",
           "Mail room: scanned and routed to Cancellations (keyword 'moving' recognised as a termination).",
           case=move)
    s.said(t(-32, "14:10"), "letter", "out",
           "Letter: Confirmation of termination. Your contract ends on the 1st of next month. A cancellation fee "
           "of 59.90 EUR will be charged on your final invoice. (Ref. KND-771203)", by="a-10", case=move)
    s.said(t(-29, "10:12"), "phone", "out",
           "Call taken (16 min): customer received a termination confirmation but asked for a relocation, not a "
           "cancellation. Opened relocation order REL-5531 for Luitpoldstraße 8; told her Billing will take the "
           "fee back. Technician appointment booked.", by="a-4", case=move, duration=960, wait=540)
    s.said(t(-29, "10:31"), "email", "internal",
           "To Billing: please reverse the termination and the 59.90 EUR cancellation fee for Gerda Hofmann "
           "(relocation REL-5531, not a cancellation). Thanks, Lena", by="a-4", case=move)
    s.promise("Billing reverses the 59.90 EUR cancellation fee", t(-22, "18:00"), "open")
    s.said(t(-23, "11:40"), "letter", "in",
           "Fax received (2 pages, sent from the Bamberg public library): final invoice shows a cancellation fee "
           "of 59.90 EUR and 'technician visit at Hainstraße 3'. Handwritten: 'I do not live there any more. "
           "Please correct this. G. Hofmann'", case=fee)
    s.said(t(-22, "08:02"), "email", "out",
           "Billing: Your enquiry has been received under ticket 2-48812. Processing takes up to 14 days.",
           by="a-10", case=fee)
    s.event(t(-9, "11:30"), "technician_visit",
            "Technician visit for REL-5531 carried out at the OLD address Hainstraße 3: 'customer not present'. "
            "Order closed automatically.", case=move)
    s.said(t(-8, "15:22"), "chat", "in",
           "Good afternoon, my granddaughter is helping me with the chat. The technician went to my old flat. "
           "In the new flat I have had no telephone and no internet since I moved in. Who can help me?", case=move)
    s.said(t(-8, "15:31"), "chat", "out",
           "Hello Ms Hofmann, I can't see a relocation order in my system, only a termination. Please send your "
           "new address to our relocation team by post; the address is on our website.", by="a-6", case=move)
    s.said(t(-5, "19:48"), "social", "in",
           "@ServiceTeam Five weeks, four departments, three reference numbers, and still no phone or internet "
           "in my new flat. Does one hand know what the other is doing? #customerservice", case=move)
    s.said(t(-5, "20:20"), "social", "out",
           "@gerda_hofmann We're sorry to hear that! Please send us a DM with your customer number and we'll "
           "look into it. ^AD", by="a-3", case=move)
    s.said(t(-5, "20:41"), "social", "in",
           "DM: Customer number 40 771 203. References: KND-771203, REL-5531, 2-48812.", case=move)
    s.said(t(-5, "20:55"), "social", "out",
           "DM: Thank you, Ms Hofmann. I've passed everything on to the relocation team; they'll be in touch "
           "within 2 days. ^AD", by="a-3", case=move)
    s.said(t(-5, "20:57"), "social", "internal",
           "Forwarded the DM to the relocation team (REL-5531) with all three references.", by="a-3", case=move)
    s.promise("relocation team gets in touch about REL-5531", t(-3, "20:55"), "open")
    s.said(t(-1, "07:10"), "letter", "out",
           "Letter: Payment reminder. Your final invoice of 59.90 EUR is overdue. Please pay within 7 days to "
           "avoid a reminder fee of 5.00 EUR.", case=fee)
    s.said(t(0, "20:15"), "social", "in",
           "DM: Today I received a payment reminder for the cancellation fee that should have been taken back "
           "four weeks ago. I will not pay it. I still have no telephone in my new flat. Who is responsible for "
           "my case? Gerda Hofmann", case=fee)
    s.tell()


# --------------------------------------------------------------------------- 3. a person, not a ticket number

def _a_person(s: _Story) -> None:
    d0 = s.anchor("10:20", gap_minutes=20)
    t = lambda days, hhmm: s.at(d0, days, hhmm)  # noqa: E731
    promised_on = _day_text(s, t(-49, "17:40"))

    s.case("Invoices to the office e-mail address", t(-412, "09:12"), status="resolved")
    fee = s.case("Technician fee 39.90 EUR charged for our own network fault", t(-30, "08:47"), disputed="39.90")
    credit = s.case("Outage credit 25.00 EUR promised but not booked", t(-30, "08:47"), disputed="25.00")

    s.said(t(-2204, "10:00"), "letter", "out",
           "Letter: Contract confirmation 'Internet 250 + Mobil L' for Kumpfmühler Straße 21, Regensburg.")
    s.said(t(-412, "09:12"), "email", "in",
           "Hello, please send all invoices to this address (my office) from now on. Sven Albrecht")
    s.said(t(-411, "13:30"), "email", "out",
           "Dear Mr Albrecht, done: invoices now go to s.albrecht@example.com. Kind regards, Lena Vogel, "
           "direct line +49 911 555 0104", by="a-4")
    s.event(t(-54, "06:10"), "outage",
            "Area outage Regensburg-Kumpfmühl: street cabinet KVz 114 failed; 312 customers without service "
            "for 5 days.")
    s.event(t(-52, "12:05"), "technician_visit",
            "Technician visit at the customer's office: no fault found in the flat (the fault was later traced "
            "to street cabinet KVz 114). Call-out fee 39.90 EUR booked.", case=fee)
    s.said(t(-49, "17:40"), "phone", "out",
           "Call taken from the road (10 min): five days without internet at his home office because of the "
           "area outage. Promised a credit of 25.00 EUR on the next invoice as compensation.",
           by="a-8", duration=610, wait=480)
    s.promise("credit 25.00 EUR on the next invoice (outage compensation)", t(-20, "06:30"), "open")
    s.said(t(-34, "06:30"), "email", "out",
           f"Your invoice for {_month(s, t(-34, '06:30'))} is available: 104.79 EUR "
           "(includes a technician call-out of 39.90 EUR).")
    s.said(t(-33, "22:04"), "app", "in",
           "Error report from app (v5.12.1, Android 14): \"Invoice could not be loaded (BIL-503)\". Customer "
           "comment: wanted to check whether the promised 25 EUR credit is on it. It isn't in the PDF from the "
           "e-mail either.", case=credit)
    s.said(t(-33, "22:04:30"), "app", "out",
           "In-app reply: Thank you for your error report. Our app team is looking into it.", case=credit)
    s.said(t(-30, "08:47"), "email", "in",
           f"Subject: Invoice: technician fee and missing credit\n\nHello, your invoice charges me 39.90 EUR for a "
           f"technician who found that the fault was in your street cabinet, not in my office. And the 25.00 EUR "
           f"credit promised on the phone on {promised_on} is missing. Please correct both. I'm at the office "
           f"during the day, e-mail is best.\n\nSven Albrecht\nArchitekturbüro Albrecht, Regensburg", case=fee)
    s.said(t(-29, "16:12"), "email", "out",
           "Dear Mr Albrecht, thank you for your message. Your ticket number is 7730142. Processing can take up "
           "to 14 days. Kind regards, Customer Service", by="a-10", case=fee)
    s.said(t(-15, "17:25"), "phone", "in",
           "Call to the general hotline abandoned after 8 min in the queue (customer calling from the car).",
           duration=12, wait=480)
    s.said(t(-15, "17:40"), "sms", "out", "Your ticket 7730142 is being processed. Thank you for your patience.")
    s.said(t(-4, "06:30"), "email", "out",
           f"Your invoice for {_month(s, t(-4, '06:30'))} is available: 64.89 EUR.")
    s.said(t(0, "10:20"), "email", "in",
           f"Subject: Second reminder, ticket 7730142\n\nHello, I have now explained this three times to three "
           f"different people. I'd like one named person with a direct line who can decide: refund the 39.90 EUR "
           f"technician fee you charged for your own fault, book the 25.00 EUR credit that was promised on "
           f"{promised_on}, and tell me by e-mail. I'm at the office until 18:00; on the road, call my mobile "
           f"+49 160 555 0123.\n\nSven Albrecht", case=credit)
    s.tell()


# --------------------------------------------------------------------------- 4. second-class customers

def _second_class(s: _Story) -> None:
    d0 = s.anchor("08:14", gap_minutes=15)
    t = lambda days, hhmm: s.at(d0, days, hhmm)  # noqa: E731

    down = s.case("No internet and no landline (fault ticket S-310554)", t(-1, "19:42"), urgency="no_service")

    s.said(t(-2911, "10:00"), "letter", "out",
           "Letter: Contract confirmation 'Internet Basic 16 Flat' (24.99 EUR a month) for "
           "Bochumer Straße 140, Gelsenkirchen.")
    s.said(t(-703, "18:02"), "phone", "out",
           "Call taken (5 min, after 13 min in the queue): asked for a cheaper tariff; none available, "
           "stays on Basic 16 Flat.", by="a-4", duration=300, wait=780)
    s.said(t(-31, "06:30"), "email", "out",
           f"Your invoice for {_month(s, t(-31, '06:30'))} is available: 24.99 EUR.")
    s.said(t(-1, "19:42"), "app", "in",
           "Fault report from app (v5.12.1, iOS 17): \"No internet connection\". Router: DSL light blinking since "
           "about 19:30. Customer comment: nothing works, not even the landline.", case=down)
    s.said(t(-1, "19:43"), "app", "out",
           "Automatic reply: Fault ticket S-310554 created. We will get back to you within 24 hours.", case=down)
    s.promise("reply to fault ticket S-310554 within 24 hours", t(0, "19:43"), "open")
    s.event(t(-1, "19:50"), "line_test",
            "Automated line test for S-310554: no DSL sync on the line; fault on the exchange side likely. "
            "No technician assigned yet.", case=down)
    s.said(t(0, "07:31"), "phone", "in",
           "Call to technical support (Basic tariffs queue): customer waited 15 min in the queue and hung up.",
           case=down, duration=14, wait=900)
    s.said(t(0, "07:49"), "phone", "out",
           "Call taken on the sales line 'new contracts' (picked up at once): customer said he only chose this "
           "option to get through to anyone. Sales can't handle faults; transferred him to the technical support "
           "queue.", by="a-13", case=down, duration=260, wait=20)
    s.said(t(0, "07:54"), "phone", "in",
           "Transferred call waited 10 min in the technical support queue and was disconnected.",
           case=down, duration=0, wait=600)
    s.said(t(0, "08:14"), "sms", "in",
           "I pay my flat rate every month like everyone else. No internet and no landline since yesterday "
           "evening. I waited 15 minutes, got through via sales and was cut off in the queue. Please call me back "
           "on this mobile. J. Pohl", case=down)
    s.tell()


# --------------------------------------------------------------------------- 5. the 24/7 promise

def _around_the_clock(s: _Story) -> None:
    d0 = s.anchor("06:52", gap_minutes=10)
    t = lambda days, hhmm: s.at(d0, days, hhmm)  # noqa: E731

    mirror = s.case("Mirror came loose on the A7 near Kassel: roadside help", t(0, "01:32"), urgency="high")

    s.said(t(-402, "10:00"), "letter", "out",
           "Letter: Contract confirmation 'Camper Assistance Plus' for FL-UB 612 (Pössl Summit 600 on Fiat Ducato, "
           "2021): 24/7 breakdown line, towing and onward travel in all of Europe.")
    s.said(t(-122, "20:14"), "email", "in",
           "Hello, does Camper Assistance Plus also cover Norway? We're planning a trip in the summer. Uwe Brandes")
    s.said(t(-121, "09:26"), "email", "out",
           "Dear Mr Brandes, yes: all of Europe including Norway. Have a good trip! Kind regards, Markus Brandt, "
           "direct line +49 911 555 0102", by="a-2")
    s.said(t(-1, "16:05"), "app", "in",
           "In-app message: We're leaving Flensburg tonight for Lake Garda, driving through the night via the A7. "
           "Is the breakdown line really staffed at night?")
    s.said(t(-1, "16:31"), "app", "out",
           "In-app reply: Yes, our 24/7 line is always staffed: +49 800 555 0724. Safe travels! Lena Vogel",
           by="a-4")
    s.said(t(0, "01:32"), "phone", "out",
           "24/7 line, inbound call (20 min): driver-side mirror housing came loose at about 100 km/h on the A7 "
           "southbound near Kassel; customer stopped at a parking area. Took the vehicle data (FL-UB 612, Pössl "
           "Summit 600 on Fiat Ducato, 2021). No manual for this model at the night desk; could not see where the "
           "customer is. He asked for a callback once a workshop is found: refused, the night desk may not make "
           "outbound calls (cost). Advised him to call again after 07:00.",
           by="a-11", case=mirror, duration=1200, wait=240)
    refused = s.decision(t(0, "01:51"), "callback", "a-11", "refused", case=mirror,
                         reason="night desk policy: no outbound calls (cost)")
    s.promise("day team calls back after 07:00", t(0, "07:00"), "open", decision=refused)
    s.said(t(0, "01:58"), "sms", "in",
           "Position: parking area on the A7 southbound, about 5 km past the Kassel-Nord junction "
           "(GPS 51.36, 9.55). Mirror taped up with duct tape. I can't drive safely like this at night.",
           case=mirror)
    s.said(t(0, "02:06"), "sms", "out",
           "Thank you, we have noted your position. The day team will contact you after 07:00. Night desk",
           by="a-12", case=mirror)
    s.said(t(0, "02:41"), "app", "in",
           "Photo upload from app: IMG_2231.jpg (mirror housing broken at the hinge, glass intact). Customer "
           "comment: for the workshop. Two children asleep in the back.", case=mirror)
    s.event(t(0, "05:55"), "handover_note",
            "Shift handover, night desk Istanbul to day team: U. Brandes, camper FL-UB 612, on the A7 near Kassel "
            "with a loose driver-side mirror since 01:30 German time. Callback was refused at night per site "
            "policy: please call him first thing. Photo in the app. We have no manual for the Pössl Summit; "
            "please check with the workshop partner in Kassel.", by="a-12", case=mirror)
    s.said(t(0, "06:52"), "app", "in",
           "In-app message: Still at the parking area since half past one, with two children. Is anyone going to "
           "call me? Nobody has told me which workshop can fix this.", case=mirror)
    s.tell()


# --------------------------------------------------------------------------- the book

@dataclass(frozen=True, slots=True)
class StoryCustomer:
    story: int
    customer: dict
    tell: Callable[[_Story], None]


STORY_CUSTOMERS: tuple[StoryCustomer, ...] = (
    StoryCustomer(1, {"type": "customer", "id": "c-1001", "name": "Petra Lindner",
                      "email": "p.lindner@example.net", "phone": "+49 170 555 0199", "preferred_channel": "email",
                      "language": "de", "timezone": "Europe/Berlin", "location": "Nürnberg, DE", "owner": "a-7"},
                  _channel_maze),
    StoryCustomer(2, {"type": "customer", "id": "c-1002", "name": "Gerda Hofmann",
                      "email": "g.hofmann@example.org", "phone": "+49 951 555 0133", "preferred_channel": "letter",
                      "language": "de", "timezone": "Europe/Berlin", "location": "Bamberg, DE", "owner": "a-3"},
                  _silos),
    StoryCustomer(3, {"type": "customer", "id": "c-1003", "name": "Sven Albrecht",
                      "email": "s.albrecht@example.com", "phone": "+49 160 555 0123", "preferred_channel": "email",
                      "language": "de", "timezone": "Europe/Berlin", "location": "Regensburg, DE", "owner": "a-4"},
                  _a_person),
    StoryCustomer(4, {"type": "customer", "id": "c-1004", "name": "Jürgen Pohl",
                      "email": "juergen.pohl@example.net", "phone": "+49 176 555 0177", "preferred_channel": "phone",
                      "language": "de", "timezone": "Europe/Berlin", "location": "Gelsenkirchen, DE", "owner": "a-8"},
                  _second_class),
    StoryCustomer(5, {"type": "customer", "id": "c-1005", "name": "Uwe Brandes",
                      "email": "uwe.brandes@example.org", "phone": "+49 152 555 0161", "preferred_channel": "phone",
                      "language": "de", "timezone": "Europe/Berlin", "location": "A7 near Kassel, DE",
                      "owner": "a-2", "product": "Camper Assistance Plus"},
                  _around_the_clock),
)
"""The five stories, in the brief's order; every one of their customers is waiting now."""


def story_records(clocks: Clocks, now_ts: int) -> StoryRecords:
    """All five stories, relative to ``now_ts`` (epoch seconds); no randomness."""
    book, ids = StoryRecords(), _Ids()
    for story in STORY_CUSTOMERS:
        story.tell(_Story(book, ids, clocks, now_ts, dict(story.customer)))
    return book
