"""Generated bulk customers: thousands of plausible histories over all nine channels.

Two passes, both driven by one ``random.Random``:

1. :class:`Bulk` plans every customer (name, contact data, how many interactions,
   whether they are waiting now, their cases, decisions and promises). The
   customers, cases, decisions and promises are small and kept as records.
2. :meth:`Bulk.entries` then writes each customer's timeline lazily, one customer
   at a time, so 200,000 interactions never sit in memory at once.

A history is a series of *threads*: a customer writes, calls or visits, and an
answer follows on a channel-typical delay (a chat in minutes, a letter in days).
Every thread ends with an answer, so a customer who is not waiting has an answer
as their last interaction; a waiting customer's history is followed by one to a
few unanswered inbound messages between a few minutes and two days before now.
"""

from __future__ import annotations

import math
import random
import time
import unicodedata
from bisect import bisect_right
from collections.abc import Iterator
from itertools import accumulate

from agentdesk.demo.stories import (
    CALLBACK_SPECIALIST,
    MONTHS,
    NIGHT_DESK_ZONE,
    SHOPS,
    STAFF_BY_ID,
    SYSTEM,
    Clocks,
    _Zone,
    money,
)

DAY = 86_400
HOUR = 3_600

CHANNELS = ("email", "phone", "chat", "sms", "social", "letter", "shop", "app", "portal")

BULK_CUSTOMER_START = 20_001
BULK_CASE_START = 20_001
BULK_INTERACTION_START = 100_001
BULK_EVENT_START = 100_001
BULK_DECISION_START = 20_001
BULK_PROMISE_START = 20_001

HOSTILE_NAME = "Tobias Unruh"
"""The bulk customer whose messages try every trick a terminal could fall for."""

HOSTILE_BODIES: tuple[tuple[str, str], ...] = (
    ("email", "[bold red]ALERT[/] Your account has been compromised! "
              "[link=http://example.invalid]click[/link] here to verify your payment details."),
    ("chat", "Why does my invoice say [/ and then [bold and then nothing? Unbalanced [ brackets ] everywhere ["),
    ("sms", "Colour test \x1b[31mRED TEXT\x1b[0m and a clear screen \x1b[2J\x1b[H, did your system survive?"),
    ("portal", "Please find my complaint attached: invoice_\u202efdp.exe\u202c (it's a PDF, promise)"),
    ("social", "@ServiceTeam my customer num\u200bber is 4\u200b711 and I want a re\u200bfund :warning: :fire:"),
    ("app", "Error report from app: [blink]\x07\x07\x07[/blink] ring ring\r\nsecond line\twith a tab"),
)

HEAVY_NAMES: tuple[tuple[str, str, str, str], ...] = (
    # (customer name, contact first name, contact last name, salutation)
    ("Hausverwaltung Krämer GmbH", "Sabine", "Krämer", "Ms Krämer"),
    ("Pflegedienst Sonnenschein Nürnberg", "Oliver", "Baum", "Mr Baum"),
    ("Autohaus Brenner KG", "Ralf", "Brenner", "Mr Brenner"),
    ("Spedition Hollmann GmbH", "Yvonne", "Hollmann", "Ms Hollmann"),
    ("Bäckerei Lindemann & Söhne", "Georg", "Lindemann", "Mr Lindemann"),
    ("Praxisgemeinschaft Dr. Yıldız", "Deniz", "Yıldız", "Dr Yıldız"),
)

# --------------------------------------------------------------------------- people and places

FEMALE = (
    "Anna Julia Laura Lisa Sarah Katharina Sabine Claudia Andrea Stefanie Nicole Monika Ursula Renate Ingrid Helga "
    "Birgit Susanne Christina Melanie Jana Lea Hannah Emma Mia Sophie Marie Johanna Elif Zeynep Agnieszka Natalia "
    "Olga Irina Maren Heike Silke Anja Franziska Carina Bettina Gisela Doris Tanja Vanessa Nadine"
).split()
MALE = (
    "Thomas Michael Andreas Stefan Christian Daniel Martin Peter Klaus Wolfgang Frank Bernd Matthias Alexander "
    "Sebastian Florian Jan Lukas Leon Finn Paul Maximilian Niklas Mehmet Mustafa Ali Piotr Dmitri Sergej Hans "
    "Dieter Horst Karl Ralf Torsten Dirk Björn Holger Jens Marco Timo Kevin Moritz Jonas Emil Henrik"
).split()
LAST = (
    "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Schäfer Koch Bauer Richter Klein "
    "Wolf Schröder Neumann Schwarz Zimmermann Braun Krüger Hofmann Hartmann Lange Schmitt Werner Schmitz Krause "
    "Meier Lehmann Schmid Schulze Maier Köhler Herrmann König Walter Mayer Huber Kaiser Fuchs Peters Lang Scholz "
    "Möller Weiß Jung Hahn Schubert Vogel Friedrich Keller Günther Frank Berger Winkler Roth Beck Lorenz Baumann "
    "Franke Schuster Simon Ludwig Böhm Winter Kraus Schumacher Krämer Vogt Stein Jäger Otto Sommer Groß Seidel "
    "Heinrich Haas Schreiber Graf Schulte Dietrich Ziegler Kuhn Kühn Engel Horn Busch Bergmann Voigt Sauer Arnold "
    "Wolff Pfeiffer Yılmaz Kaya Demir Şahin Öztürk Nowak Kowalski Wiśniewski Ivanov Petrow Nguyen Tran"
).split()

GERMAN_CITIES: tuple[str, ...] = tuple(city.strip() for city in (
    "Berlin, Hamburg, München, Köln, Frankfurt am Main, Stuttgart, Düsseldorf, Leipzig, Dortmund, Essen, Bremen, "
    "Dresden, Hannover, Nürnberg, Duisburg, Bochum, Wuppertal, Bielefeld, Bonn, Münster, Mannheim, Karlsruhe, "
    "Augsburg, Wiesbaden, Mönchengladbach, Gelsenkirchen, Aachen, Braunschweig, Kiel, Chemnitz, Halle (Saale), "
    "Magdeburg, Freiburg im Breisgau, Krefeld, Mainz, Lübeck, Erfurt, Rostock, Kassel, Würzburg, Regensburg, Ulm, "
    "Göttingen, Bamberg, Passau, Flensburg, Konstanz, Trier, Jena, Potsdam, Oldenburg, Osnabrück, Heidelberg, "
    "Darmstadt, Saarbrücken"
).split(","))
# The big cities are home to more customers.
_CITY_CUM = tuple(accumulate(12 if i < 4 else 6 if i < 14 else 3 for i in range(len(GERMAN_CITIES))))

ABROAD: tuple[tuple[str, tuple[str, ...], str, float, str], ...] = (
    # (zone, locations, phone prefix, weight in %, other language)
    ("Europe/Vienna", ("Wien, AT", "Graz, AT", "Salzburg, AT", "Innsbruck, AT"), "+43 664 555", 4.0, "de"),
    ("Europe/Zurich", ("Zürich, CH", "Basel, CH", "Bern, CH"), "+41 79 555", 3.0, "de"),
    ("Europe/Madrid", ("Palma, ES", "Málaga, ES"), "+34 612 555", 2.0, "es"),
    ("Atlantic/Canary", ("Santa Cruz de Tenerife, ES", "Las Palmas de Gran Canaria, ES"), "+34 622 555", 1.0, "es"),
    ("Europe/London", ("London, GB", "Manchester, GB"), "+44 7700 9", 2.0, "en"),
    ("Europe/Lisbon", ("Lisboa, PT", "Porto, PT"), "+351 912 555", 1.0, "pt"),
    ("Europe/Istanbul", ("Antalya, TR", "İstanbul, TR", "İzmir, TR"), "+90 532 555", 2.0, "tr"),
    ("America/New_York", ("New York, US", "Boston, US"), "+1 212 555", 1.0, "en"),
    ("Asia/Dubai", ("Dubai, AE",), "+971 50 555", 0.7, "en"),
    ("Asia/Bangkok", ("Bangkok, TH",), "+66 81 555", 0.5, "en"),
    ("Asia/Kolkata", ("Bengaluru, IN",), "+91 98 555", 0.3, "en"),
    ("Australia/Sydney", ("Sydney, AU",), "+61 412 555", 0.5, "en"),
)
MOBILE_PREFIXES = ("151", "152", "157", "160", "162", "170", "171", "172", "176", "177")
EMAIL_DOMAINS = ("example.com", "example.net", "example.org", "mail.example.com", "post.example.net")

PREFERRED = ("email", "phone", "app", "chat", "sms", "letter", "portal", "social")
_PREFERRED_CUM = tuple(accumulate((34, 24, 12, 8, 7, 7, 5, 3)))

OWNERS = ("a-2", "a-3", "a-4", "a-5", "a-6", "a-7", "a-8", "a-9", "a-10", "a-13")
_OWNER_CUM = tuple(accumulate((4, 4, 10, 8, 10, 10, 10, 8, 10, 6)))
DAY_AGENTS = ("a-2", "a-3", "a-4", "a-5", "a-6", "a-7", "a-8", "a-9", "a-10", "a-13")
CHAT_AGENTS = ("a-6", "a-8")
SOCIAL_AGENTS = ("a-3", "a-6")
NIGHT_AGENTS = ("a-11", "a-12")
LEADS = ("a-2", "a-3")

STREETS = (
    "Hauptstraße Bahnhofstraße Gartenstraße Schulstraße Lindenstraße Goethestraße Schillerstraße Bergstraße "
    "Kirchstraße Waldstraße Ringstraße Mozartstraße Rosenweg Birkenweg Lessingstraße Wiesenstraße Uhlandstraße"
).split()
TARIFFS = ("Mobil S", "Mobil M", "Mobil L", "Internet 50", "Internet 100", "Internet 250", "Festnetz Komfort",
           "Internet Basic 16 Flat", "Kombi Family", "Mobil Young")
COUNTRIES = ("Switzerland", "Turkey", "Norway", "the UK", "Morocco", "Serbia", "Iceland", "the USA", "Albania")
ACCESSORIES = ("phone case", "charging cable", "screen protector", "power bank", "pair of earphones")
APP_VERSIONS = ("v5.11.0", "v5.11.3", "v5.12.0", "v5.12.1")
DEVICES = ("Android 13", "Android 14", "iOS 17", "iOS 18")
APP_ERRORS = ("Invoice could not be loaded (BIL-503)", "Login failed (AUTH-401)", "Data usage not available",
              "Payment page is blank", "App crashed when opening 'My tariff'")
DEPARTMENTS = ("Billing", "Technical support", "Relocation team", "Complaints", "Device logistics")
LINES = ("the general hotline", "technical support", "the billing line")
SELF_SERVICE = (
    ("changed the e-mail address for invoices", "your e-mail address for invoices has been changed"),
    ("booked the data option 'Extra 5 GB'", "the data option 'Extra 5 GB' is active"),
    ("changed the bank details (IBAN ending {iban})", "your direct debit now uses the account ending {iban}"),
    ("requested a copy of the contract", "a copy of your contract is in your mailbox in the portal"),
    ("set a spending limit of 20 EUR for third-party services", "your spending limit of 20 EUR is active"),
)
OUTCALLS = ("confirmed the technician appointment on {date}", "told the customer about the price change from next "
            "month", "followed up on {short}; customer satisfied", "offered a tariff upgrade; customer declined",
            "checked that the replacement device works")


# --------------------------------------------------------------------------- topics

class Topic:
    __slots__ = ("key", "subject", "category", "urgency", "amount", "short", "ask", "report", "answer", "done")

    def __init__(self, key: str, subject: str, category: str, urgency: str | None,
                 amount: tuple[int, int] | None, short: str, ask: str, report: str, answer: str, done: str) -> None:
        self.key, self.subject, self.category, self.urgency, self.amount = key, subject, category, urgency, amount
        self.short, self.ask, self.report, self.answer, self.done = short, ask, report, answer, done


TOPICS: tuple[Topic, ...] = (
    Topic("invoice_high", "Invoice higher than expected", "billing", None, (990, 8990),
          "the invoice for {month}",
          "My invoice for {month} is {amount} EUR higher than usual. What are these extra charges?",
          "says the invoice for {month} is {amount} EUR higher than usual",
          "The extra {amount} EUR on your invoice for {month} come from a third-party subscription. I've blocked "
          "third-party billing and credited the amount.",
          "explained the charges, blocked third-party billing and credited {amount} EUR"),
    Topic("double_debit", "Amount debited twice", "billing", None, (1499, 9999),
          "a double direct debit of {amount} EUR",
          "You have debited {amount} EUR twice this month. Please refund the second payment.",
          "was debited {amount} EUR twice",
          "You're right, {amount} EUR were debited twice. The refund is on its way and will reach your account "
          "within 5 working days.",
          "confirmed the double debit and started a refund of {amount} EUR"),
    Topic("roaming", "Roaming charges disputed", "billing", None, (450, 6900),
          "roaming charges from {country}",
          "After my holiday in {country} I was charged {amount} EUR for roaming, although I had booked the travel "
          "option.",
          "disputes {amount} EUR of roaming charges from {country}",
          "The travel option was activated a day late, so the roaming charges of {amount} EUR were wrong. I've "
          "refunded them.",
          "checked the travel option and refunded {amount} EUR of roaming"),
    Topic("late_fee", "Reminder fee charged", "billing", None, (500, 1500),
          "the reminder fee of {amount} EUR",
          "I got a payment reminder with a fee of {amount} EUR, but I paid on time by bank transfer.",
          "got a reminder fee of {amount} EUR although the payment was on time",
          "Your transfer arrived in time but was booked to the wrong account. I've cancelled the reminder and the "
          "fee of {amount} EUR.",
          "found the misbooked transfer and cancelled the reminder and the fee ({amount} EUR)"),
    Topic("cancel_fee", "Cancellation fee disputed", "billing", None, (2990, 12990),
          "the cancellation fee",
          "You charged me a cancellation fee of {amount} EUR although my contract had already run out.",
          "disputes a cancellation fee of {amount} EUR after the minimum term",
          "Your minimum term had indeed ended, so the cancellation fee of {amount} EUR should not have been "
          "charged. It is refunded.",
          "checked the contract term and refunded the cancellation fee of {amount} EUR"),
    Topic("no_internet", "No internet connection", "tech", "no_service", None,
          "no internet connection",
          "Since this morning I have no internet at all. The DSL light on the router keeps blinking.",
          "has no internet at all, DSL light blinking",
          "There is a fault at your local exchange. Our technicians are on it and expect to fix it by {hour}:00 "
          "today.",
          "ran a line test, found a fault at the exchange and opened a technician ticket"),
    Topic("landline", "Landline not working", "tech", "no_service", None,
          "the dead landline",
          "My landline has been dead since yesterday. No dial tone at all.",
          "has had no dial tone on the landline since yesterday",
          "The line test shows a faulty port at the exchange. A technician will switch you to a new port today; "
          "nobody needs to be at home.",
          "found a faulty port in the line test; a technician switches the port today"),
    Topic("slow_internet", "Slow internet in the evening", "tech", "high", None,
          "slow internet in the evenings",
          "Every evening my internet drops to about 5 Mbit/s instead of the 100 I pay for.",
          "gets only about 5 Mbit/s in the evenings",
          "Your street cabinet is overloaded in the evenings. We're adding capacity this month; until then I've "
          "reduced your monthly price.",
          "measured the line, confirmed the evening congestion and explained the capacity upgrade"),
    Topic("router", "Router keeps restarting", "device", "high", None,
          "the router that keeps restarting",
          "My router restarts several times a day, and every time my video calls drop.",
          "says the router reboots several times a day",
          "Your router model has a known fault. I'm sending you a replacement; it arrives in 2 working days. "
          "Please return the old one in the same box.",
          "identified the known router fault and ordered a replacement"),
    Topic("mobile_data", "No mobile data", "tech", "high", None,
          "mobile data not working",
          "I can make calls, but mobile data has stopped working on my phone.",
          "can make calls but has no mobile data",
          "Your data option had been blocked by mistake after the spending limit. I've unblocked it; please "
          "restart your phone.",
          "found a wrong data block, removed it and asked for a phone restart"),
    Topic("tv", "TV package not working", "tech", None, None,
          "the TV package",
          "Since the update the TV box only shows 'No signal' on half of the channels.",
          "sees 'No signal' on half of the TV channels",
          "A channel list update went wrong. Please restart the box while holding the OK button; the list will "
          "be reloaded.",
          "talked the customer through a channel list reset"),
    Topic("address", "Address change", "account", None, None,
          "the change of address",
          "I have moved. Please change my address to {street}, {city}.",
          "has moved to {street}, {city}",
          "I've changed your address to {street}, {city}. Your next invoice will go there.",
          "changed the address"),
    Topic("tariff", "Tariff change", "account", None, None,
          "a tariff change",
          "Is there a tariff with more data for about the same price? I'm on {tariff} at the moment.",
          "wants more data for the same price (currently {tariff})",
          "I can move you from {tariff} to {tariff2} for the same monthly price from the 1st of next month. "
          "I've booked it for you.",
          "moved the customer from {tariff} to {tariff2}"),
    Topic("cancel", "Contract cancellation", "account", None, None,
          "the cancellation",
          "I'd like to cancel my contract at the end of the minimum term. Please confirm the date.",
          "wants to cancel at the end of the minimum term",
          "Your cancellation is noted; the contract ends on the last day of the minimum term. You'll get a "
          "written confirmation.",
          "recorded the cancellation and sent a confirmation"),
    Topic("moving", "Moving house", "account", None, None,
          "the move to {city}",
          "I'm moving to {city} next month. Can I take my internet contract with me?",
          "is moving to {city} and wants to keep the contract",
          "Yes, your contract moves with you. I've booked the switch-over for your moving day; no technician "
          "visit is needed.",
          "booked the relocation of the contract"),
    Topic("sim", "Replacement SIM card", "device", None, None,
          "a replacement SIM card",
          "My SIM card is broken, the phone says 'no SIM'. Can you send me a new one?",
          "has a broken SIM card",
          "I've ordered a replacement SIM card; it arrives in 2 working days. Your number stays the same.",
          "ordered a replacement SIM"),
    Topic("esim", "eSIM activation", "device", None, None,
          "eSIM activation",
          "I want to switch to an eSIM on my new phone. How do I get the QR code?",
          "wants to switch to an eSIM",
          "I've sent the eSIM QR code to your e-mail address. Scan it on your new phone; the old SIM stops "
          "working once the eSIM is active.",
          "issued the eSIM profile and sent the QR code"),
    Topic("porting", "Number porting from previous provider", "account", None, None,
          "number porting",
          "I'm switching from my old provider. When will my number be moved to you?",
          "asks when the number porting completes",
          "Your previous provider has confirmed the porting; your number moves to us on {date} between 06:00 "
          "and 10:00.",
          "checked the porting status; date confirmed"),
    Topic("app_login", "Cannot log in to the app", "account", None, None,
          "the app login",
          "I can't log in to the app any more. It says my password is wrong, but it works on the website.",
          "cannot log in to the app",
          "The app version you use has a login bug. Please update to the latest version; I've also reset your "
          "login attempts.",
          "reset the login attempts and asked for an app update"),
    Topic("delivery", "Device delivery delayed", "device", None, None,
          "the delivery of the new phone",
          "I ordered a new phone two weeks ago and it still hasn't arrived.",
          "has been waiting two weeks for a new phone",
          "The parcel was held at the depot because of a wrong house number. It's on its way again and arrives "
          "tomorrow.",
          "found the parcel at the depot and had it sent again"),
    Topic("repair", "Phone repair", "device", None, None,
          "the phone repair",
          "My phone has been at your repair centre for three weeks. When do I get it back?",
          "has had the phone in repair for three weeks",
          "The repair is finished and your phone was sent back today. You'll get a tracking number by SMS.",
          "checked the repair status; phone shipped today"),
    Topic("bank", "Change of bank details", "billing", None, None,
          "the new bank account",
          "Please debit my invoices from my new account from now on (IBAN ending {iban}).",
          "gives new bank details (IBAN ending {iban})",
          "I've changed your direct debit to the account ending {iban}, from the next invoice on.",
          "changed the direct debit to the IBAN ending {iban}"),
)

EVENT_KINDS: tuple[tuple[str, bool, str], ...] = (
    # (kind, written by an agent (else by the system), body)
    ("payment_failed", False, "Direct debit of {bill} EUR returned by the bank (insufficient funds)."),
    ("address_changed", True, "Postal address changed to {street}, {city}."),
    ("tariff_changed", True, "Tariff changed from {tariff} to {tariff2}, effective on the 1st of next month."),
    ("sim_swapped", True, "SIM swap: new SIM ending {iban} activated, old SIM blocked."),
    ("device_shipped", False, "Device shipped, tracking number {tracking}."),
    ("line_test", False, "Automated line test: {linetest}."),
    ("note", True, "{note}"),
    ("handover_note", True, "Shift handover: {handover}"),
    ("outage", False, "Area outage in {home}: {hours} h without service."),
    ("contract_renewed", False, "Contract renewed for 12 months ({tariff})."),
    ("credit_check", False, "Credit check passed for device financing."),
)
_EVENT_CUM = tuple(accumulate((8, 6, 6, 4, 8, 8, 7, 3, 3, 5, 2)))
LINE_TESTS = ("line in sync, 98 Mbit/s down, no errors", "no DSL sync, fault on the exchange side likely",
              "line in sync, high error rate in the evening", "router offline, line OK up to the socket")
NOTES = ("Customer prefers to be called after 17:00.", "Customer is hard of hearing; please speak slowly.",
         "Customer asked not to be contacted about offers.", "Customer's son handles the account questions.",
         "Customer is travelling until the end of the month; e-mail only.")
HANDOVERS = ("waiting for the technician's report, please check in the morning.",
             "callback promised for tomorrow morning, number in the profile.",
             "refund requested, amount to be checked by Billing.",
             "customer very upset about repeated outages; handle with care.")

# --------------------------------------------------------------------------- threads

_IN, _OUT, _INT = "in", "out", "internal"

# Reply delays by the channel of the reply: (shortest, longest) in seconds, drawn log-uniformly.
_DELAY = {
    "email": (1200, 26 * HOUR), "chat": (30, 400), "sms": (300, 4 * HOUR), "social": (600, 8 * HOUR),
    "letter": (2 * DAY, 9 * DAY), "app": (1800, 2 * DAY), "portal": (HOUR, 3 * DAY), "phone": (600, DAY),
    "shop": (HOUR, 3 * DAY),
}
_FOLLOW_UP = (600, 2 * DAY)
_CHAT_FOLLOW_UP = (20, 200)
_INTERNAL = (300, 2 * HOUR)


def _step(channel: str, direction: str, kind: str, delay: tuple[int, int] | None = None) -> tuple:
    lo, hi = delay or _DELAY[channel]
    return channel, direction, kind, lo, math.log(hi / lo)


def _patterns(*weighted: tuple[int, tuple]) -> tuple[tuple[int, ...], tuple[tuple, ...]]:
    return tuple(accumulate(w for w, _ in weighted)), tuple(p for _, p in weighted)


_S = _step
PATTERNS: dict[str, tuple[tuple[int, ...], tuple[tuple, ...]]] = {
    "email": _patterns(
        (58, (_S("email", _IN, "ask"), _S("email", _OUT, "answer"))),
        (10, (_S("email", _IN, "ask"), _S("email", _INT, "forward", _INTERNAL), _S("email", _OUT, "answer"))),
        (17, (_S("email", _OUT, "notice"),)),
        (15, (_S("email", _IN, "ask"), _S("email", _OUT, "answer"), _S("email", _IN, "more", _FOLLOW_UP),
              _S("email", _OUT, "followup"))),
    ),
    "phone": _patterns(
        (55, (_S("phone", _OUT, "call"),)),
        (18, (_S("phone", _IN, "abandoned"), _S("phone", _OUT, "callback"))),
        (10, (_S("phone", _IN, "voicemail"), _S("phone", _OUT, "callback"))),
        (17, (_S("phone", _OUT, "outcall"),)),
    ),
    "chat": _patterns(
        (68, (_S("chat", _IN, "ask"), _S("chat", _OUT, "answer"))),
        (32, (_S("chat", _IN, "ask"), _S("chat", _OUT, "answer"), _S("chat", _IN, "more", _CHAT_FOLLOW_UP),
              _S("chat", _OUT, "followup"))),
    ),
    "sms": _patterns(
        (50, (_S("sms", _OUT, "notice"),)),
        (50, (_S("sms", _IN, "ask"), _S("sms", _OUT, "answer"))),
    ),
    "social": _patterns(
        (60, (_S("social", _IN, "public"), _S("social", _OUT, "answer"))),
        (40, (_S("social", _IN, "public"), _S("social", _OUT, "public_reply"), _S("social", _IN, "dm", _FOLLOW_UP),
              _S("social", _OUT, "answer"))),
    ),
    "letter": _patterns(
        (40, (_S("letter", _IN, "ask"), _S("letter", _OUT, "answer"))),
        (15, (_S("letter", _IN, "ask"), _S("email", _OUT, "answer"))),
        (45, (_S("letter", _OUT, "notice"),)),
    ),
    "shop": _patterns(
        (85, (_S("shop", _OUT, "visit"),)),
        (15, (_S("shop", _OUT, "visit"), _S("sms", _OUT, "notice", (HOUR, 3 * DAY)))),
    ),
    "app": _patterns(
        (40, (_S("app", _IN, "error"), _S("app", _OUT, "answer"))),
        (25, (_S("app", _IN, "ask"), _S("email", _OUT, "answer"))),
        (35, (_S("app", _OUT, "notice"),)),
    ),
    "portal": _patterns(
        (45, (_S("portal", _IN, "ask"), _S("portal", _OUT, "answer"))),
        (30, (_S("portal", _IN, "self"), _S("email", _OUT, "confirm", (30, 600)))),
        (25, (_S("portal", _OUT, "notice"),)),
    ),
}
# One-entry threads, for when a history has room for only one more interaction.
SINGLES = _patterns(
    (30, (_S("phone", _OUT, "call"),)), (25, (_S("email", _OUT, "notice"),)), (15, (_S("shop", _OUT, "visit"),)),
    (10, (_S("sms", _OUT, "notice"),)), (8, (_S("letter", _OUT, "notice"),)), (6, (_S("app", _OUT, "notice"),)),
    (6, (_S("portal", _OUT, "notice"),)),
)
# Where a thread starts (its first step's channel); replies may move to another channel.
_THREAD_CUM = tuple(accumulate((12, 28, 9, 9, 5, 9, 12, 10, 8)))
PREFERRED_SHARE = 0.2
"""How often a thread starts on the customer's preferred channel rather than on any channel."""
# The unanswered messages of a waiting customer: never a shop visit (that is answered on the spot).
TAIL_CHANNELS = ("email", "phone", "chat", "app", "portal", "sms", "social", "letter")
_TAIL_CUM = tuple(accumulate((28, 18, 14, 10, 9, 8, 8, 5)))

TEMPLATES: dict[tuple[str, str], tuple[str, ...]] = {
    ("email", "ask"): (
        "Hello,\n\n{ask}\n\nCustomer number {custno}.\n\nKind regards,\n{name}",
        "Dear Sir or Madam,\n\n{ask}\n\nKind regards,\n{name}",
        "Hi,\n\n{ask}\n\nSent from my iPhone",
        "Subject: {Short}\n\n{ask}\n\n{first}",
    ),
    ("email", "more"): (
        "Thanks. And when exactly will that happen? {first}",
        "Sorry, one more thing about {short}: will I get a written confirmation? {name}",
        "That didn't work, unfortunately. Could you check again? {first}",
    ),
    ("email", "answer"): (
        "Dear {salut},\n\nthank you for your message. {answer}\n\nKind regards,\n{agent}\nDirect line {agent_phone}",
        "Hello {first},\n\n{answer} If anything is unclear, just reply to this e-mail.\n\n{agent}",
        "Dear {salut}, regarding {short}: {answer} Kind regards, {agent}, direct line {agent_phone}",
    ),
    ("email", "forward"): (
        "Forwarded to {dept}: customer writes about {short}. Please check and answer the customer directly. "
        "{agent_first}",
        "Internal to {dept}: customer {report}. Can you take over? {agent_first}",
    ),
    ("email", "notice"): (
        "Your invoice for {month} is available: {bill} EUR. It will be debited on the 5th.",
        "Your contract summary for {month} is ready in the customer portal.",
        "Reminder: your technician appointment is on {date} between 08:00 and 12:00.",
        "Your order has been shipped. Tracking number {tracking}.",
    ),
    ("email", "confirm"): ("Confirmation: {self_done}.", "Automatic confirmation: {self_done}. Thank you!"),
    ("phone", "call"): (
        "Call taken ({minutes}, after {waited} in the queue): customer {report}; {done}.",
        "Call ({minutes}): {salut} {report}. I {done}.",
        "Call taken ({minutes}): customer {report}. {Done}.",
    ),
    ("phone", "abandoned"): (
        "Call to {line} abandoned after {waited} in the queue.",
        "Missed call: customer hung up after {waited} waiting ({line}).",
    ),
    ("phone", "voicemail"): (
        "Voicemail ({secs} s): \"Hello, this is {name}. {ask} Please call me back.\"",
        "Voicemail ({secs} s): \"{first} {last} here, it's about {short}. Call me back, please.\"",
    ),
    ("phone", "callback"): (
        "Callback ({minutes}): reached the customer, who {report}; {done}.",
        "Callback as requested ({minutes}): {done}.",
    ),
    ("phone", "outcall"): ("Outbound call ({minutes}): {outcall}.",),
    ("chat", "ask"): ("{ask}", "Hi! {ask}", "Hello! {ask} Thanks"),
    ("chat", "more"): (
        "ok, and how long will that take?",
        "Thanks! Will I get that in writing?",
        "Hm, that doesn't work. Anything else I can try?",
    ),
    ("chat", "answer"): (
        "Hi {first}, I'm {agent_first}. {answer}",
        "{answer} Is there anything else I can do for you?",
        "Thanks for waiting, {first}. {answer}",
    ),
    ("sms", "ask"): (
        "Hi, it's about {short}. Please get back to me. {first}",
        "{ask}",
        "Question about {short}: please call me back. {name}",
    ),
    ("sms", "answer"): ("Hello {first}, regarding {short}: {answer}", "{answer} Your service team, {agent_first}"),
    ("sms", "notice"): (
        "Your invoice for {month} is ready: {bill} EUR.",
        "You have used 80 % of your data volume for {month}.",
        "Reminder: technician appointment on {date}, 08:00-12:00. Reply NO to move it.",
        "Your parcel arrives tomorrow. Tracking {tracking}.",
    ),
    ("social", "public"): (
        "@ServiceTeam {ask}",
        "@ServiceTeam {ask} #annoyed",
        "Is anyone at @ServiceTeam reading this? {ask}",
    ),
    ("social", "public_reply"): (
        "@{handle} Sorry to hear that! Please send us a DM with your customer number and we'll look into it. "
        "^{initials}",
        "@{handle} Thanks for reaching out! Could you DM us your customer number? ^{initials}",
    ),
    ("social", "dm"): ("DM: Customer number {custno}. {ask}", "DM: Here's my customer number: {custno}."),
    ("social", "answer"): ("DM: Thanks, {first}. {answer} ^{initials}", "@{handle} {answer} ^{initials}"),
    ("letter", "ask"): (
        "Letter dated {sent}:\n\nDear Sir or Madam,\n\n{ask}\n\nYours faithfully,\n{name}",
        "Fax received (1 page): {ask} {name}, customer number {custno}",
        "Letter: Dear Sir or Madam, with reference to my customer number {custno}: {ask} Yours sincerely, {name}",
    ),
    ("letter", "answer"): (
        "Letter: Dear {salut}, thank you for your letter of {sent}. {answer} Yours sincerely, {agent}, "
        "Customer Service",
        "Letter: Dear {salut}, with reference to {short}: {answer} Yours sincerely, {agent}",
    ),
    ("letter", "notice"): (
        "Letter: Notice of price adjustment. From the 1st of next month your monthly price changes by {small} EUR.",
        "Letter: Your annual statement for {year}.",
        "Letter: Confirmation of your contract extension ({tariff}).",
        "Letter: New general terms and conditions from {date}.",
    ),
    ("shop", "visit"): (
        "Shop visit, {shop}: customer came in about {short}; {done}.",
        "{shop}: walk-in, customer {report}; {done}.",
        "Shop visit, {shop}: {done}; customer also bought a {accessory}.",
    ),
    ("app", "error"): (
        "Error report from app ({appver}, {os}): \"{error}\". Customer comment: {ask}",
        "Error report from app ({appver}, {os}): \"{error}\".",
    ),
    ("app", "ask"): ("In-app message: {ask}",),
    ("app", "answer"): ("In-app reply: {answer} {agent}", "In-app reply: Hello {first}! {answer}"),
    ("app", "notice"): (
        "Push notification: your invoice for {month} is ready.",
        "Push notification: 80 % of your data volume used.",
        "Push notification: your order is on its way.",
    ),
    ("portal", "ask"): ("Contact form (portal), topic '{Short}': {ask}",),
    ("portal", "self"): ("Self-service in the portal: {self_action}.",),
    ("portal", "answer"): ("Portal message: {answer} {agent}",),
    ("portal", "notice"): (
        "Document uploaded to the portal: invoice {month}.",
        "Document uploaded to the portal: contract summary {year}.",
    ),
}
FOLLOW_UPS: tuple[str, ...] = (
    "That should be done within 2 working days; you'll get a confirmation by e-mail.",
    "Yes, you'll get a written confirmation by e-mail today.",
    "Let's try once more: please restart the device and check again in 10 minutes. If it still doesn't work, just "
    "write again.",
    "I've added a note to your account, so any colleague can see what we agreed.",
)
TEMPLATES[("email", "followup")] = tuple(f"Hello {{first}},\n\n{text}\n\nKind regards,\n{{agent}}"
                                         for text in FOLLOW_UPS)
TEMPLATES[("chat", "followup")] = FOLLOW_UPS + ("You're welcome! Have a nice day, {first}.",)

CHASERS: dict[str, tuple[str, ...]] = {
    "email": ("Subject: Re: {Short}\n\nHello, I'm still waiting for an answer about {short}. {name}",),
    "chat": ("Hello? Is anyone there? It's still about {short}.",),
    "sms": ("Still waiting for a reply about {short}. {first}",),
    "social": ("@ServiceTeam Still no answer about {short}. Anyone?",),
    "letter": ("Letter: Second letter regarding {short}. I have not had a reply yet. {name}",),
    "app": ("In-app message: Any news about {short}?",),
    "portal": ("Contact form (portal): Reminder about {short}, still no answer.",),
}



def _with_templates(table: tuple[tuple[int, ...], tuple[tuple, ...]]) -> tuple[tuple[int, ...], tuple[tuple, ...]]:
    cum, patterns = table
    return cum, tuple(tuple(step + (TEMPLATES[(step[0], step[2])],) for step in steps) for steps in patterns)


PATTERNS = {channel: _with_templates(table) for channel, table in PATTERNS.items()}
SINGLES = _with_templates(SINGLES)
THREAD_PATTERNS = tuple(PATTERNS[channel] for channel in CHANNELS)

_AGENT_INFO = {person.id: (person.name, person.first, person.phone, person.initials, person.zone == NIGHT_DESK_ZONE)
               for person in STAFF_BY_ID.values()}

# --------------------------------------------------------------------------- helpers

_FOLD = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ı": "i",
                       "İ": "I", "ł": "l"})


def ascii_fold(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text.translate(_FOLD)).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def _pick(rng: random.Random, cum: tuple[int, ...]) -> int:
    return bisect_right(cum, rng.random() * cum[-1])


def _span(rng: random.Random, lo: float, hi: float) -> int:
    return int(lo + (hi - lo) * rng.random())


def _duration_text(seconds: int) -> str:
    if seconds < 60:
        return f"{seconds} s"
    return f"{seconds // 60} min"


class _Context(dict):
    """The fillers of one thread's texts, each computed (and drawn from the rng) only when a template asks.

    Most templates use a handful of the thirty-odd fillers; drawing them all for every
    thread would cost more than everything else the generator does.
    """

    __slots__ = ("rng", "topic", "cents", "local")
    rng: random.Random
    topic: Topic
    cents: int
    local: int

    def __missing__(self, key: str) -> object:
        value = _FILLERS[key](self)
        self[key] = value
        return value


def _capital(key: str):
    return lambda ctx: (lambda text: text[:1].upper() + text[1:])(ctx[key])


def _topic_text(attribute: str):
    return lambda ctx: getattr(ctx.topic, attribute).format_map(ctx)


def _one_of(options: tuple):
    return lambda ctx: options[int(ctx.rng.random() * len(options))]


def _later_date(ctx: _Context) -> str:
    later = time.gmtime(ctx.local + (1 + int(ctx.rng.random() * 14)) * DAY)
    return f"{later.tm_mday} {MONTHS[later.tm_mon - 1]}"


def _earlier_date(ctx: _Context) -> str:
    """The date on a letter: a day or three before it arrived."""
    earlier = time.gmtime(ctx.local - (1 + int(ctx.rng.random() * 3)) * DAY)
    return f"{earlier.tm_mday} {MONTHS[earlier.tm_mon - 1]}"


def _month(ctx: _Context) -> str:
    local = time.gmtime(ctx.local)
    return f"{MONTHS[local.tm_mon - 1]} {local.tm_year}"


def _tariff2(ctx: _Context) -> str:
    first = TARIFFS.index(ctx["tariff"])
    return TARIFFS[(first + 1 + int(ctx.rng.random() * (len(TARIFFS) - 1))) % len(TARIFFS)]


def _self_service(ctx: _Context) -> tuple[str, str]:
    action, done = SELF_SERVICE[int(ctx.rng.random() * len(SELF_SERVICE))]
    return action.format_map(ctx), done.format_map(ctx)


_FILLERS = {
    "month": _month,
    "year": lambda ctx: time.gmtime(ctx.local).tm_year,
    "date": _later_date,
    "sent": _earlier_date,
    "amount": lambda ctx: money(ctx.cents or 990 + int(ctx.rng.random() * 4000)),
    "bill": lambda ctx: money(1999 + int(ctx.rng.random() * 7000)),
    "small": lambda ctx: money(100 + int(ctx.rng.random() * 400)),
    "country": _one_of(COUNTRIES),
    "hour": lambda ctx: 14 + int(ctx.rng.random() * 7),
    "street": lambda ctx: f"{STREETS[int(ctx.rng.random() * len(STREETS))]} {1 + int(ctx.rng.random() * 97)}",
    "city": _one_of(GERMAN_CITIES),
    "tariff": _one_of(TARIFFS),
    "tariff2": _tariff2,
    "iban": lambda ctx: f"{int(ctx.rng.random() * 10_000):04d}",
    "tracking": lambda ctx: f"00340434{int(ctx.rng.random() * 1e9):09d}",
    "accessory": _one_of(ACCESSORIES),
    "appver": _one_of(APP_VERSIONS),
    "os": _one_of(DEVICES),
    "error": _one_of(APP_ERRORS),
    "dept": _one_of(DEPARTMENTS),
    "line": _one_of(LINES),
    "short": _topic_text("short"),
    "Short": _capital("short"),
    "ask": _topic_text("ask"),
    "report": _topic_text("report"),
    "answer": _topic_text("answer"),
    "done": _topic_text("done"),
    "Done": _capital("done"),
    "_self": _self_service,
    "self_action": lambda ctx: ctx["_self"][0],
    "self_done": lambda ctx: ctx["_self"][1],
    "outcall": lambda ctx: _one_of(OUTCALLS)(ctx).format_map(ctx),
    "linetest": _one_of(LINE_TESTS),
    "note": _one_of(NOTES),
    "handover": _one_of(HANDOVERS),
    "hours": lambda ctx: 2 + int(ctx.rng.random() * 40),
}


class _Case:
    __slots__ = ("id", "opened", "closes", "topic", "amount", "status", "urgency")

    def __init__(self, opened: int, closes: int, topic: Topic, amount: int, status: str, urgency: str) -> None:
        self.id = ""
        self.opened, self.closes, self.topic, self.amount = opened, closes, topic, amount
        self.status, self.urgency = status, urgency


class _Customer:
    __slots__ = ("id", "name", "first", "last", "salut", "zone", "home", "shop", "owner", "preferred", "phone",
                 "custno", "handle", "n", "start", "boundary", "since", "tail", "cases", "opens", "hostile",
                 "day_offset")
    id: str
    name: str
    first: str
    last: str
    salut: str
    zone: _Zone
    home: str
    shop: tuple[str, str]
    owner: str
    preferred: str
    phone: str
    custno: str
    handle: str
    n: int
    start: int
    boundary: int
    since: int
    tail: int
    cases: list[_Case]
    opens: list[int]
    hostile: bool
    day_offset: int


# --------------------------------------------------------------------------- the bulk

class Bulk:
    """Plans ``customers`` bulk customers and their ``interactions`` (see the module docstring)."""

    def __init__(self, rng: random.Random, clocks: Clocks, now_ts: int, *, customers: int, interactions: int,
                 heavy_customers: int, heavy_entries: int, waiting: int) -> None:
        self.rng, self.clocks, self.now = rng, clocks, now_ts
        self._night_zone = clocks.zone(NIGHT_DESK_ZONE)
        self.customers: list[dict] = []
        self.cases: list[dict] = []
        self.decisions: list[dict] = []
        self.promises: list[dict] = []
        self._plans: list[_Customer] = []
        self._next_case = BULK_CASE_START
        self._next_decision = BULK_DECISION_START
        self._next_promise = BULK_PROMISE_START
        if customers <= 0:
            return
        heavy = min(heavy_customers, customers)
        hostile = heavy if heavy < customers else None
        counts = self._interaction_counts(customers, interactions, heavy, heavy_entries, hostile)
        forced = {0} if heavy else set()
        if hostile is not None:
            forced.add(hostile)
        waiting = max(0, min(waiting, customers))
        others = [i for i in range(customers) if i not in forced]
        chosen = set(rng.sample(others, max(0, waiting - len(forced)))) | forced
        emails: set[str] = set()
        phone_slots = rng.sample(range(max(100_000, customers)), customers)
        for index in range(customers):
            plan = self._plan(index, counts[index], index < heavy, index == hostile, index in chosen,
                              emails, phone_slots[index])
            self._plans.append(plan)

    # -- pass 1: who, how much, and when --------------------------------------------
    def _interaction_counts(self, customers: int, interactions: int, heavy: int, heavy_entries: int,
                            hostile: int | None) -> list[int]:
        rng = self.rng
        counts = [heavy_entries] * heavy
        normal = customers - heavy
        if normal <= 0:
            return counts
        minimum = [2] * normal
        if hostile is not None:
            minimum[0] = len(HOSTILE_BODIES) + 2
        spread = max(0, interactions - heavy * heavy_entries - sum(minimum))
        weights = [rng.lognormvariate(0.0, 1.1) for _ in range(normal)]
        total = sum(weights)
        extra = [int(w / total * spread) for w in weights]
        for i in rng.sample(range(normal), spread - sum(extra)):
            extra[i] += 1
        return counts + [m + e for m, e in zip(minimum, extra, strict=True)]

    def _plan(self, index: int, n: int, heavy: bool, hostile: bool, waiting: bool, emails: set[str],
              phone_slot: int) -> _Customer:
        rng, now = self.rng, self.now
        c = _Customer()
        c.id = f"c-{BULK_CUSTOMER_START + index}"
        c.n, c.hostile = n, hostile
        # name
        if heavy:
            c.name, c.first, c.last, c.salut = HEAVY_NAMES[index % len(HEAVY_NAMES)]
            if index >= len(HEAVY_NAMES):
                c.name = f"{c.name} ({index // len(HEAVY_NAMES) + 1})"
        else:
            female = rng.random() < 0.5
            c.first = rng.choice(FEMALE if female else MALE)
            c.last = rng.choice(LAST)
            if hostile:
                (c.first, c.last), female = HOSTILE_NAME.split(), False
            c.name = f"{c.first} {c.last}"
            c.salut = f"{'Ms' if female else 'Mr'} {c.last}"
        # where
        r = rng.random() * 100
        zone_name, location, language, phone_prefix = "Europe/Berlin", "", "de", ""
        for zone, places, prefix, weight, other_language in ABROAD:
            if r < weight:
                zone_name, location, phone_prefix = zone, rng.choice(places), prefix
                language = other_language if rng.random() < 0.4 else "de"
                break
            r -= weight
        if not location:
            city = GERMAN_CITIES[_pick(rng, _CITY_CUM)]
            location = f"{city}, DE"
        c.home = location.rsplit(",", 1)[0]
        c.zone = self.clocks.zone(zone_name)
        c.day_offset = c.zone.offset(now)
        c.shop = SHOPS.get(c.home) or list(SHOPS.values())[phone_slot % len(SHOPS)]
        # contact data
        if phone_prefix and rng.random() < 0.5:
            c.phone = f"{phone_prefix} {phone_slot:05d}"
        else:
            c.phone = f"+49 {MOBILE_PREFIXES[phone_slot % 10]} 5550{phone_slot // 10:04d}"
        first, last = ascii_fold(c.first), ascii_fold(c.last)
        if heavy:
            local = f"{first}.{last}"
            domain = "-".join(ascii_fold(word) for word in c.name.split()[:2]) + ".example.com"
        else:
            local = rng.choice((f"{first}.{last}", f"{first[0]}.{last}", f"{first}{last}{rng.randrange(10, 99)}",
                                f"{last}.{first}", f"{first}_{last}"))
            domain = rng.choice(EMAIL_DOMAINS)
        email, extra = f"{local}@{domain}", 2
        while email in emails:
            email, extra = f"{local}{extra}@{domain}", extra + 1
        emails.add(email)
        c.handle = f"{first}_{last}"[:15]
        c.custno = f"{40 + phone_slot % 50} {100 + phone_slot // 50 % 900} {phone_slot % 1000:03d}"
        c.preferred = PREFERRED[_pick(rng, _PREFERRED_CUM)]
        c.owner = OWNERS[_pick(rng, _OWNER_CUM)]
        self.customers.append({
            "type": "customer", "id": c.id, "name": c.name, "email": email, "phone": c.phone,
            "preferred_channel": c.preferred, "language": language, "timezone": zone_name,
            "location": location, "owner": c.owner,
        })
        # when
        if heavy:
            tenure = 6 * 365 * DAY + _span(rng, 0, 200 * DAY)
        else:
            tenure = max(_span(rng, 60 * DAY, 12 * 365 * DAY), min(n * 3 * DAY, 15 * 365 * DAY))
        c.start = now - tenure
        if hostile:
            c.tail = len(HOSTILE_BODIES)
        elif waiting:
            r = rng.random()
            c.tail = min(n, 1 if r < 0.70 else 2 if r < 0.92 else 3)
        else:
            c.tail = 0
        if waiting:
            r = rng.random()
            # minutes to two days; most are recent, a few have waited far too long
            ago = _span(rng, 180, 2 * HOUR) if r < 0.4 else _span(rng, 2 * HOUR, 12 * HOUR) if r < 0.8 \
                else _span(rng, 12 * HOUR, DAY) if r < 0.95 else _span(rng, DAY, 47 * HOUR)
            c.since = now - ago
            gap = _span(rng, HOUR, 30 * DAY) if not heavy else _span(rng, HOUR, 6 * HOUR)
            c.boundary = max(c.since - gap, c.start + DAY)
        else:
            r = rng.random()
            ago = _span(rng, 600, DAY) if r < 0.25 else _span(rng, DAY, 30 * DAY) if r < 0.6 \
                else _span(rng, 30 * DAY, 400 * DAY)
            if heavy:
                ago = _span(rng, 600, 12 * HOUR)
            if ago > tenure * 0.9:
                ago = _span(rng, 600, tenure * 0.5)
            c.since = 0
            c.boundary = now - ago
        self._plan_cases(c, heavy, waiting)
        self._plan_decisions(c, waiting)
        return c

    def _new_case(self, c: _Customer, opened: int, topic: Topic, open_: bool) -> _Case:
        rng = self.rng
        amount = _span(rng, *topic.amount) if topic.amount else 0
        if open_:
            status = "open" if rng.random() < 0.8 else "pending"
            closes = self.now
            urgency = "normal"
            if topic.urgency == "no_service" and rng.random() < 0.7:
                urgency = "no_service"
            elif topic.urgency == "high" and rng.random() < 0.6 or rng.random() < 0.04:
                urgency = "high"
        else:
            status = "resolved" if rng.random() < 0.6 else "closed"
            closes = opened + _span(rng, HOUR, 30 * DAY)
            urgency = "normal"
        return _Case(opened, closes, topic, amount, status, urgency)

    def _plan_cases(self, c: _Customer, heavy: bool, waiting: bool) -> None:
        rng, now = self.rng, self.now
        if heavy:
            count = 30 + rng.randrange(30)
        else:
            r = rng.random()
            count = 0 if r < 0.35 else 1 if r < 0.75 else 2 if r < 0.93 else 3
        cases: list[_Case] = []
        for _ in range(count):
            opened = _span(rng, c.start, c.boundary)
            case = self._new_case(c, opened, TOPICS[rng.randrange(len(TOPICS))], open_=False)
            if case.closes >= now - DAY:
                case = self._new_case(c, opened, case.topic, open_=True)
            elif rng.random() < 0.06:
                case = self._new_case(c, opened, case.topic, open_=True)  # still open after a long time
            cases.append(case)
        c.cases = cases
        if c.hostile:
            case = self._new_case(c, c.since, TOPICS[0], open_=True)
            case.urgency = "high"
            cases.append(case)
        elif waiting and rng.random() < 0.7:
            # the unanswered messages are about a new, open case
            cases.append(self._new_case(c, c.since, TOPICS[rng.randrange(len(TOPICS))], open_=True))
        cases.sort(key=lambda case: case.opened)
        c.opens = [case.opened for case in cases]
        for case in cases:
            case.id = f"k-{self._next_case}"
            self._next_case += 1
            subject = case.topic.subject
            if c.hostile and case.opened == c.since:
                subject = "Web form: [red]URGENT[/red] refund NOW or I go to the press [/"
            record = {"type": "case", "id": case.id, "customer": c.id, "subject": subject, "status": case.status,
                      "opened_at": c.zone.iso(case.opened)}
            if case.amount:
                record["disputed_amount"] = money(case.amount)
                record["currency"] = "EUR"
            if case.urgency != "normal":  # the canonical form leaves the default out
                record["urgency"] = case.urgency
            self.cases.append(record)

    # -- decisions and promises ---------------------------------------------------
    def _decision(self, c: _Customer, at: int, kind: str, agent: str, state: str, *, case: _Case | None = None,
                  amount: int = 0, reason: str | None = None) -> str:
        did = f"d-{self._next_decision}"
        self._next_decision += 1
        record: dict = {"type": "decision", "id": did, "customer": c.id}
        if case is not None:
            record["case"] = case.id
        record["kind"] = kind
        if amount:
            record["amount"] = money(amount)
            record["currency"] = "EUR"
        record.update(agent=agent, at=self.clocks.zone(STAFF_BY_ID[agent].zone).iso(at), state=state)
        if reason:
            record["reason"] = reason
        self.decisions.append(record)
        return did

    def _promise(self, c: _Customer, what: str, due: int, state: str, decision: str | None = None) -> None:
        if state == "open" and due < self.now:
            state = "overdue"
        record: dict = {"type": "promise", "id": f"p-{self._next_promise}"}
        self._next_promise += 1
        if decision:
            record["decision"] = decision
        record.update(customer=c.id, what=what, due=c.zone.iso(due), state=state)
        self.promises.append(record)

    def _past_state(self, due: int) -> str:
        """A promise whose time has come: mostly kept, now and then broken, overdue when only just missed."""
        if due >= self.now:
            return "open"
        r = self.rng.random()
        if due > self.now - 2 * DAY and r < 0.3:
            return "overdue"
        return "broken" if r < 0.05 else "kept"

    def _plan_decisions(self, c: _Customer, waiting: bool) -> None:
        """Past decisions (settled disputes, callbacks, escalations) and the open promises the queue shows."""
        rng, now = self.rng, self.now
        # settled money disputes
        for case in c.cases:
            if case.amount and case.status in ("resolved", "closed") and rng.random() < 0.7:
                at = min(max(case.closes - _span(rng, HOUR, 2 * DAY), case.opened + 60), now - 60)
                amount = case.amount if rng.random() < 0.75 else max(100, case.amount // 2)
                agent = c.owner if amount <= 5000 and STAFF_BY_ID[c.owner].role == "agent" \
                    else LEADS[rng.randrange(2)]
                kind = "refund" if rng.random() < 0.8 else "voucher"
                if kind == "voucher":
                    amount = min(amount, 2500)
                did = self._decision(c, at, kind, agent, "confirmed", case=case, amount=amount,
                                     reason=case.topic.subject.lower())
                if kind == "refund":
                    due = at + _span(rng, 3 * DAY, 6 * DAY)
                    self._promise(c, f"refund {money(amount)} EUR", due, self._past_state(due), did)
            elif not case.amount and case.status in ("resolved", "closed") and rng.random() < 0.12:
                at = min(case.closes, now - 60)
                self._decision(c, at, "voucher", c.owner if STAFF_BY_ID[c.owner].role == "agent" else "a-4",
                               "confirmed", case=case, amount=rng.choice((500, 1000, 1500, 2000, 2500)),
                               reason="goodwill")
        r = rng.random()
        if r < 0.10:  # a callback in the past
            at = _span(rng, c.start + DAY, c.boundary)
            agent = CALLBACK_SPECIALIST if rng.random() < 0.3 else c.owner
            due = at + _span(rng, HOUR, 26 * HOUR)
            did = self._decision(c, at, "callback", agent, "confirmed", reason="customer asked for a call back")
            self._promise(c, f"callback on {c.phone}", due, self._past_state(due), did)
        elif r < 0.13:  # beyond an agent's authority: refused, then escalated
            at = _span(rng, c.start + DAY, c.boundary)
            agent = rng.choice(("a-4", "a-6", "a-7", "a-8"))
            amount = _span(rng, 6000, 20000)
            self._decision(c, at, "refund", agent, "refused", amount=amount,
                           reason="above the agent's refund limit of 50.00 EUR")
            self._decision(c, at + 60, "escalate", agent, "confirmed",
                           reason=f"refund of {money(amount)} EUR needs a team lead")
        elif r < 0.18:
            at = _span(rng, c.start + DAY, c.boundary)
            self._decision(c, at, "note", c.owner, "confirmed", reason=rng.choice(NOTES))
        # open promises: deadlines the queue shows
        if waiting and rng.random() < 0.35:
            r = rng.random()
            if r < 0.15:  # a promised callback that did not happen
                due = now - _span(rng, 600, 8 * HOUR)
                at = max(due - _span(rng, 2 * HOUR, 20 * HOUR), c.start + HOUR)
                did = self._decision(c, min(at, now - 60), "callback", c.owner, "confirmed",
                                     reason="customer asked for a call back")
                self._promise(c, f"callback on {c.phone}", due, "open", did)
            elif r < 0.6:
                self._promise(c, "reply within 2 working days", c.since + 2 * DAY, "open")
            else:
                due = now + _span(rng, HOUR, 30 * HOUR)
                self._promise(c, "reply within 24 hours", min(due, c.since + DAY), "open")
        elif not waiting and rng.random() < 0.05:
            at = min(c.boundary, now - 60)
            if rng.random() < 0.5:
                amount = _span(rng, 500, 4990)
                did = self._decision(c, at, "refund", c.owner if STAFF_BY_ID[c.owner].role == "agent" else "a-2",
                                     "confirmed", amount=amount, reason="goodwill refund")
                self._promise(c, f"refund {money(amount)} EUR", now + _span(rng, 2 * HOUR, 5 * DAY), "open", did)
            else:
                did = self._decision(c, at, "callback", CALLBACK_SPECIALIST, "confirmed",
                                     reason="follow-up call agreed")
                due = now + _span(rng, 2 * HOUR, 48 * HOUR) if rng.random() < 0.8 \
                    else now - _span(rng, HOUR, 2 * DAY)
                self._promise(c, f"callback on {c.phone}", due, "open", did)

    # -- pass 2: the timelines ------------------------------------------------------
    def entries(self) -> Iterator[dict]:
        """Every bulk customer's interactions and events, customer by customer, each in time order."""
        next_i, next_e = BULK_INTERACTION_START, BULK_EVENT_START
        for c in self._plans:
            rows = self._timeline(c)
            rows.sort()  # by time, then by the order written; the sequence number is unique
            for row in rows:
                record = row[2]
                if record["type"] == "interaction":
                    record["id"] = f"i-{next_i}"
                    next_i += 1
                else:
                    record["id"] = f"e-{next_e}"
                    next_e += 1
                yield record

    def _timeline(self, c: _Customer) -> list[tuple[int, int, dict]]:
        rng, now = self.rng, self.now
        random_ = rng.random
        rows: list[tuple[int, int, dict]] = []
        base = {"first": c.first, "last": c.last, "name": c.name, "salut": c.salut, "custno": c.custno,
                "handle": c.handle, "shop": c.shop[0], "home": c.home}
        history = c.n - c.tail
        boundary = c.boundary
        start, latest, day_offset = c.start, boundary - HOUR, c.day_offset
        preferred = PATTERNS.get(c.preferred)
        thread_cum, thread_top = _THREAD_CUM, _THREAD_CUM[-1]
        single_cum, singles = SINGLES
        anchored = False
        while history > 0:
            r = random_()
            if r < PREFERRED_SHARE and preferred is not None:
                cum, patterns = preferred
            else:
                cum, patterns = THREAD_PATTERNS[bisect_right(thread_cum, random_() * thread_top)]
            steps = patterns[bisect_right(cum, random_() * cum[-1])]
            if len(steps) > history:
                steps = singles[bisect_right(single_cum, random_() * single_cum[-1])]
            history -= len(steps)
            if anchored:
                t0 = int(start + (latest - start) * random_())
                local = (t0 + day_offset) % DAY
                if steps[0][2] in ("visit", "outcall"):  # shops open, and we call, 09:00-19:00
                    if local < 9 * HOUR or local > 19 * HOUR:
                        shifted = t0 - local + 10 * HOUR + int(random_() * 8 * HOUR)
                        t0 = shifted if start <= shifted <= latest else t0
                elif (local < 7 * HOUR or local > 21 * HOUR) and random_() < 0.85:
                    shifted = t0 - local + 7 * HOUR + int(random_() * 14 * HOUR)
                    if start <= shifted <= latest:
                        t0 = shifted
            else:
                t0 = 0
            self._thread(c, base, steps, t0, boundary, not anchored, rows)
            anchored = True
        if c.tail:
            self._tail(c, base, rows)
        events = int(c.n * 0.015 + random_())
        for _ in range(events):
            self._event(c, base, _span(rng, start, now - 60), rows)
        return rows

    def _agent_for(self, c: _Customer, channel: str, topic: Topic, ts: int) -> str:
        """Who answers: the shop's staff in a shop, the night desk at night, else often the owner."""
        if channel == "shop":
            return c.shop[1]
        random_ = self.rng.random
        local_hour = (ts + c.day_offset) % DAY // HOUR
        if local_hour < 6 or local_hour >= 22:
            return NIGHT_AGENTS[int(random_() * 2)]
        r = random_()
        if r < 0.5:
            return c.owner
        if channel == "chat" and r < 0.8:
            return CHAT_AGENTS[int(random_() * 2)]
        if channel == "social" and r < 0.85:
            return SOCIAL_AGENTS[int(random_() * 2)]
        if topic.category == "billing" and r < 0.7:
            return "a-10"
        return DAY_AGENTS[int(random_() * len(DAY_AGENTS))]

    def _context(self, c: _Customer, base: dict, topic: Topic, amount: int, ts: int) -> _Context:
        ctx = _Context(base)
        ctx.rng, ctx.topic, ctx.cents, ctx.local = self.rng, topic, amount, ts + c.day_offset
        return ctx

    def _case_at(self, c: _Customer, ts: int) -> _Case | None:
        j = bisect_right(c.opens, ts) - 1
        if j >= 0:
            case = c.cases[j]
            if ts <= case.closes and self.rng.random() < 0.75:
                return case
        return None

    def _thread(self, c: _Customer, base: dict, steps: tuple, t0: int, boundary: int, anchor: bool,
                rows: list) -> None:
        """One thread of ``steps``; the hot loop of the generator, hence the plain code."""
        random_ = self.rng.random
        exp = math.exp
        # times first: each step follows the one before on the delay of its channel
        if len(steps) == 1:
            times = [boundary if anchor else min(t0, boundary)]
        else:
            times = [t0]
            t = t0
            for step in steps[1:]:
                t += int(step[3] * exp(step[4] * random_())) + 1
                if step[2] == "callback":  # nobody is called back at night: the next morning, then
                    local = (t + c.day_offset) % DAY
                    if local < 8 * HOUR:
                        t += 8 * HOUR - local + int(random_() * 2 * HOUR)
                    elif local >= 20 * HOUR:
                        t += DAY - local + 8 * HOUR + int(random_() * 2 * HOUR)
                times.append(t)
            if anchor:  # the newest thread ends exactly at the boundary
                shift = boundary - t
                times = [x + shift for x in times]
            elif t > boundary - len(times):
                last = len(times) - 1
                times = [x if x <= boundary - (last - j) else boundary - (last - j) for j, x in enumerate(times)]
        first = times[0]
        case = None
        j = bisect_right(c.opens, first) - 1
        if j >= 0 and first <= c.cases[j].closes and random_() < 0.75:
            case = c.cases[j]
        ctx = _Context(base)
        ctx.rng, ctx.local = self.rng, first + c.day_offset
        if case is None:
            ctx.topic = topic = TOPICS[int(random_() * len(TOPICS))]
            ctx.cents = 0
            case_id = None
        else:
            ctx.topic = topic = case.topic
            ctx.cents = case.amount
            case_id = case.id
        customer, name, zone = c.id, c.name, c.zone
        agent = None
        agent_zone = zone
        for step, ts in zip(steps, times, strict=True):
            channel, direction, kind, templates = step[0], step[1], step[2], step[5]
            if direction == _IN:
                author, at = name, zone.iso(ts)
            elif kind == "notice" or kind == "confirm":
                author, at = SYSTEM, zone.iso(ts)
            else:
                if agent is None:
                    agent = self._agent_for(c, channel, topic, ts)
                    info = _AGENT_INFO[agent]
                    ctx["agent"], ctx["agent_first"], ctx["agent_phone"], ctx["initials"] = info[:4]
                    if info[4]:
                        agent_zone = self._night_zone
                author, at = agent, agent_zone.iso(ts)
            if case_id is None:
                record = {"type": "interaction", "id": "", "customer": customer, "channel": channel,
                          "direction": direction, "at": at, "author": author}
            else:
                record = {"type": "interaction", "id": "", "customer": customer, "case": case_id,
                          "channel": channel, "direction": direction, "at": at, "author": author}
            if channel == "phone":
                wait = None
                if kind == "call":
                    duration = 90 + int(random_() ** 1.6 * 1400)
                    wait = int(random_() ** 2.2 * 900)
                elif kind == "abandoned":
                    wait = 60 + int(random_() * 840)
                    duration = int(random_() * 40)
                elif kind == "voicemail":
                    duration = 15 + int(random_() * 60)
                    wait = int(random_() * 300)
                    ctx["secs"] = duration
                else:
                    duration = 60 + int(random_() ** 1.5 * 900)
                ctx["minutes"] = _duration_text(duration)
                if wait is not None:
                    ctx["waited"] = _duration_text(wait)
                record["body"] = templates[int(random_() * len(templates))].format_map(ctx)
                record["duration_s"] = duration
                if wait is not None:
                    record["wait_s"] = wait
            else:
                record["body"] = templates[int(random_() * len(templates))].format_map(ctx)
            rows.append((ts, len(rows), record))

    def _tail(self, c: _Customer, base: dict, rows: list) -> None:
        """The unanswered messages of a waiting customer, the first at ``since``."""
        rng, now = self.rng, self.now
        times = [c.since] + sorted(_span(rng, c.since + 60, max(c.since + 61, now - 30)) for _ in range(c.tail - 1))
        case = c.cases[-1] if c.cases and c.cases[-1].opened == c.since else self._case_at(c, c.since)
        topic = case.topic if case else TOPICS[rng.randrange(len(TOPICS))]
        ctx = self._context(c, base, topic, case.amount if case else 0, c.since)
        for n, ts in enumerate(times):
            if c.hostile:
                channel, body = HOSTILE_BODIES[n]
                duration = wait = None
            else:
                channel = TAIL_CHANNELS[_pick(rng, _TAIL_CUM)]
                duration = wait = None
                if channel == "phone":
                    kind = "abandoned" if rng.random() < 0.6 else "voicemail"
                    wait = 60 + int(rng.random() * 840)
                    duration = int(rng.random() * 40) if kind == "abandoned" else 15 + int(rng.random() * 60)
                    ctx["waited"], ctx["secs"] = _duration_text(wait), duration
                    templates = TEMPLATES[("phone", kind)]
                elif n == 0:
                    kind = {"app": "error", "social": "public"}.get(channel, "ask")
                    templates = TEMPLATES[(channel, kind)]
                else:
                    templates = CHASERS[channel]
                body = templates[int(rng.random() * len(templates))].format_map(ctx)
            record: dict = {"type": "interaction", "id": "", "customer": c.id}
            if case is not None:
                record["case"] = case.id
            record.update(channel=channel, direction=_IN, at=c.zone.iso(ts), author=c.name, body=body)
            if duration is not None:
                record["duration_s"] = duration
                record["wait_s"] = wait
            rows.append((ts, len(rows), record))

    def _event(self, c: _Customer, base: dict, ts: int, rows: list) -> None:
        rng = self.rng
        kind, by_agent, template = EVENT_KINDS[_pick(rng, _EVENT_CUM)]
        ctx = self._context(c, base, TOPICS[0], 0, ts)
        author, zone = SYSTEM, c.zone
        if by_agent:
            author = NIGHT_AGENTS[rng.randrange(2)] if kind == "handover_note" and rng.random() < 0.5 else c.owner
            if author in NIGHT_AGENTS:
                zone = self.clocks.zone(NIGHT_DESK_ZONE)
        case = self._case_at(c, ts)
        record: dict = {"type": "event", "id": "", "customer": c.id}
        if case is not None:
            record["case"] = case.id
        record.update(at=zone.iso(ts), author=author, kind=kind, body=template.format_map(ctx))
        rows.append((ts, len(rows), record))
