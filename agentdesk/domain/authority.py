"""Who may decide what: the authority matrix, and the rules that check a decision against it.

Pure and shared: the workstation checks here for speed and guidance, the backend
checks again with the same functions before it applies anything. Nothing is ever
clipped to fit: a proposal beyond a limit is refused, naming the limit and the role
that could decide instead.

The file format is TOML, described key by key in docs/authority.md. Besides the roles
a matrix may say when callbacks can be made (``[callbacks]``), when promises fall due
(``[promises]``) and a default goodwill amount (``voucher.default``); all have sensible defaults.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, time, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any

from agentdesk.domain.contact import phone_key
from agentdesk.domain.model import Case, Customer, Decision
from agentdesk.domain.money import MINOR_UNITS, Money, MoneyError, parse_amount

KINDS = ("refund", "voucher", "callback", "escalate", "note")
MONEY_KINDS = ("refund", "voucher")
ESCALATABLE_KINDS = ("refund", "voucher", "callback")
COUNTED_KINDS = MONEY_KINDS
"""Only decisions of these kinds spend a customer's budget (notes, callbacks, escalations do not)."""
COUNTED_STATES = frozenset({"pending", "queued", "confirmed"})
"""Decisions in these states count against limits; refused and undone ones do not."""
WINDOW = timedelta(days=30)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

class MatrixError(ValueError):
    """A matrix that cannot be used; the message is one line: ``<file>: <key>: <what is wrong>``."""


# --------------------------------------------------------------------------- the matrix


@dataclass(frozen=True, slots=True)
class MoneyRule:
    max: Decimal
    per_customer_30d: Decimal
    default: Decimal | None = None
    """The amount suggested when nothing else suggests one (goodwill vouchers)."""


@dataclass(frozen=True, slots=True)
class CallbackRule:
    allowed: bool
    international: bool


@dataclass(frozen=True, slots=True)
class Role:
    name: str
    rank: int
    refund: MoneyRule | None = None
    voucher: MoneyRule | None = None
    callback: CallbackRule | None = None
    escalate_to: str | None = None
    approves: tuple[str, ...] = ()
    read_only: bool = False
    currency: str | None = None

    def money_rule(self, kind: str) -> MoneyRule | None:
        return self.refund if kind == "refund" else self.voucher if kind == "voucher" else None


@dataclass(frozen=True, slots=True)
class CallbackHours:
    """When callbacks are made, in the customer's own time zone."""

    days: frozenset[int] = frozenset(range(6))
    opens: time = time(8, 0)
    closes: time = time(20, 0)
    slot: timedelta = timedelta(minutes=15)
    notice: timedelta = timedelta(minutes=10)
    """The earliest slot offered is at least this far ahead, so the agent can prepare."""
    zone: str = "Europe/Berlin"
    """Used for customers whose time zone is unknown."""

    def describe(self) -> str:
        days = sorted(self.days)
        if days == list(range(days[0], days[-1] + 1)) and len(days) > 1:
            day_text = f"{WEEKDAYS[days[0]].title()}–{WEEKDAYS[days[-1]].title()}"
        else:
            day_text = ", ".join(WEEKDAYS[d].title() for d in days)
        return f"{day_text} {self.opens:%H:%M}–{self.closes:%H:%M}"


@dataclass(frozen=True, slots=True)
class PromiseTerms:
    """How long the company gives itself to carry out what a decision commits it to."""

    refund: timedelta = timedelta(hours=72)
    voucher: timedelta = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class AuthorityMatrix:
    home_country: str
    roles: Mapping[str, Role]
    """By name, lowest rank first (the file's order)."""
    callbacks: CallbackHours = field(default_factory=CallbackHours)
    promises: PromiseTerms = field(default_factory=PromiseTerms)
    currency: str | None = None
    source: str = "<matrix>"

    def role(self, name: str | None) -> Role | None:
        return self.roles.get(name) if name else None

    def currency_of(self, role: Role) -> str | None:
        return role.currency or self.currency


# --------------------------------------------------------------------------- parsing

_TOP_KEYS = {"home_country", "currency", "roles", "callbacks", "promises"}
_ROLE_KEYS = {"refund", "voucher", "callback", "escalate_to", "approves", "read_only", "currency"}
_MONEY_KEYS = {"max", "per_customer_30d", "default"}
_CALLBACK_KEYS = {"allowed", "international"}
_HOURS_KEYS = {"days", "hours", "slot_minutes", "notice_minutes", "zone"}
_PROMISE_KEYS = {"refund_hours", "voucher_hours"}


class _Reader:
    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, what: str) -> MatrixError:
        return MatrixError(f"{self.source}: {key}: {what}")

    def table(self, value: Any, key: str, allowed: set[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(key, f"must be a table, not {_kind(value)}")
        for name in value:
            if name not in allowed:
                raise self.fail(f"{key}.{name}" if key else name,
                                f"unknown key (known: {', '.join(sorted(allowed))})")
        return value

    def boolean(self, value: Any, key: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(key, f"must be true or false, not {_kind(value)}")
        return value

    def text(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, f"must be a non-empty string, not {_kind(value)}")
        return value.strip()

    def whole(self, value: Any, key: str, low: int, high: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.fail(key, f"must be a whole number from {low} to {high}, not {value!r}")
        return value

    def amount(self, value: Any, key: str, currency: str | None) -> Decimal:
        try:
            amount = parse_amount(value, currency or "EUR")
        except MoneyError as exc:
            raise self.fail(key, str(exc)) from None
        if amount < 0:
            raise self.fail(key, f"must not be negative, not {value}")
        return amount

    def currency(self, value: Any, key: str) -> str:
        if not isinstance(value, str) or value not in MINOR_UNITS:
            raise self.fail(key, f"{value!r} is not an ISO 4217 currency code such as \"EUR\"")
        return value


def _kind(value: Any) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string",
             list: "a list", dict: "a table"}
    return names.get(type(value), type(value).__name__)


def parse_matrix(text: str, source: str = "<matrix>") -> AuthorityMatrix:
    """Read and validate a matrix; any problem raises :class:`MatrixError` naming file and key."""
    read = _Reader(source)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise MatrixError(f"{source}: not valid TOML: {exc}") from None
    read.table(data, "", _TOP_KEYS)
    if "home_country" not in data:
        raise read.fail("home_country", "missing (the country whose numbers are domestic, e.g. \"DE\")")
    home = read.text(data["home_country"], "home_country").upper()
    if not is_country(home):
        raise read.fail("home_country", f"{home!r} is not a country code (two letters, e.g. \"DE\")")
    currency = read.currency(data["currency"], "currency") if "currency" in data else None
    roles_data = data.get("roles")
    if not roles_data:
        raise read.fail("roles", "no roles defined (expected [roles.agent] and so on)")
    if not isinstance(roles_data, dict):
        raise read.fail("roles", f"must be a table of roles, not {_kind(roles_data)}")
    roles: dict[str, Role] = {}
    for rank, (name, value) in enumerate(roles_data.items()):
        roles[name] = _role(read, name, rank, value, currency)
    _check_links(read, roles)
    callbacks = _callback_hours(read, data["callbacks"]) if "callbacks" in data else CallbackHours()
    promises = _promise_terms(read, data["promises"]) if "promises" in data else PromiseTerms()
    return AuthorityMatrix(home, roles, callbacks, promises, currency, source)


def _role(read: _Reader, name: str, rank: int, value: Any, default_currency: str | None) -> Role:
    key = f"roles.{name}"
    body = read.table(value, key, _ROLE_KEYS)
    currency = read.currency(body["currency"], f"{key}.currency") if "currency" in body else default_currency
    read_only = read.boolean(body.get("read_only", False), f"{key}.read_only")
    if read_only:
        deciding = sorted(set(body) & {"refund", "voucher", "callback", "escalate_to", "approves"})
        if deciding:
            raise read.fail(f"{key}.{deciding[0]}", "a read_only role decides nothing")
    money = {kind: _money_rule(read, f"{key}.{kind}", body[kind], currency)
             for kind in MONEY_KINDS if kind in body}
    callback = None
    if "callback" in body:
        rule = read.table(body["callback"], f"{key}.callback", _CALLBACK_KEYS)
        callback = CallbackRule(
            allowed=read.boolean(rule.get("allowed", True), f"{key}.callback.allowed"),
            international=read.boolean(rule.get("international", False), f"{key}.callback.international"),
        )
    escalate_to = read.text(body["escalate_to"], f"{key}.escalate_to") if "escalate_to" in body else None
    approves: tuple[str, ...] = ()
    if "approves" in body:
        listed = body["approves"]
        if not isinstance(listed, list) or not all(isinstance(item, str) for item in listed):
            raise read.fail(f"{key}.approves", "must be a list of role names, e.g. [\"agent\"]")
        approves = tuple(listed)
    return Role(name, rank, money.get("refund"), money.get("voucher"), callback, escalate_to,
                approves, read_only, currency)


def _money_rule(read: _Reader, key: str, value: Any, currency: str | None) -> MoneyRule:
    body = read.table(value, key, _MONEY_KEYS)
    for needed in ("max", "per_customer_30d"):
        if needed not in body:
            raise read.fail(f"{key}.{needed}", "missing (a decimal string such as \"50.00\")")
    rule = MoneyRule(
        max=read.amount(body["max"], f"{key}.max", currency),
        per_customer_30d=read.amount(body["per_customer_30d"], f"{key}.per_customer_30d", currency),
        default=read.amount(body["default"], f"{key}.default", currency) if "default" in body else None,
    )
    if rule.default is not None and rule.default > rule.max:
        raise read.fail(f"{key}.default", f"{rule.default} is above max {rule.max}")
    return rule


def _check_links(read: _Reader, roles: Mapping[str, Role]) -> None:
    for role in roles.values():
        if role.escalate_to is not None:
            target = roles.get(role.escalate_to)
            if target is None:
                raise read.fail(f"roles.{role.name}.escalate_to", f"no role named {role.escalate_to!r}")
            if target.rank <= role.rank:
                raise read.fail(f"roles.{role.name}.escalate_to",
                                f"{role.escalate_to!r} is not above {role.name!r} (roles are ordered lowest first)")
            if target.read_only:
                raise read.fail(f"roles.{role.name}.escalate_to",
                                f"{role.escalate_to!r} is read-only and decides nothing")
        for approved in role.approves:
            if approved not in roles:
                raise read.fail(f"roles.{role.name}.approves", f"no role named {approved!r}")
            if roles[approved].rank >= role.rank:
                raise read.fail(f"roles.{role.name}.approves", f"{approved!r} is not below {role.name!r}")


def _callback_hours(read: _Reader, value: Any) -> CallbackHours:
    body = read.table(value, "callbacks", _HOURS_KEYS)
    hours = CallbackHours()
    if "days" in body:
        days = body["days"]
        if not isinstance(days, list) or not days or any(d not in WEEKDAYS for d in days):
            raise read.fail("callbacks.days", f"must be a list of {', '.join(WEEKDAYS)}")
        hours = replace(hours, days=frozenset(WEEKDAYS.index(d) for d in days))
    if "hours" in body:
        text = read.text(body["hours"], "callbacks.hours")
        try:
            opens, closes = (time.fromisoformat(part.strip()) for part in text.split("-"))
        except ValueError:
            raise read.fail("callbacks.hours", f"{text!r} is not a range such as \"08:00-20:00\"") from None
        if opens >= closes:
            raise read.fail("callbacks.hours", f"{text!r} closes before it opens")
        hours = replace(hours, opens=opens, closes=closes)
    if "slot_minutes" in body:
        slot_minutes = read.whole(body["slot_minutes"], "callbacks.slot_minutes", 5, 240)
        hours = replace(hours, slot=timedelta(minutes=slot_minutes))
    if "notice_minutes" in body:
        hours = replace(hours, notice=timedelta(
            minutes=read.whole(body["notice_minutes"], "callbacks.notice_minutes", 0, 24 * 60)))
    if "zone" in body:
        from agentdesk.domain.timefmt import zone

        name = read.text(body["zone"], "callbacks.zone")
        if zone(name) is None:
            raise read.fail("callbacks.zone", f"{name!r} is not an IANA time zone such as \"Europe/Berlin\"")
        hours = replace(hours, zone=name)
    return hours


def _promise_terms(read: _Reader, value: Any) -> PromiseTerms:
    body = read.table(value, "promises", _PROMISE_KEYS)
    terms = PromiseTerms()
    for kind in MONEY_KINDS:
        key = f"{kind}_hours"
        if key in body:
            terms = replace(terms, **{kind: timedelta(hours=read.whole(body[key], f"promises.{key}", 1, 24 * 90))})
    return terms


# --------------------------------------------------------------------------- evaluating


@dataclass(frozen=True, slots=True)
class Proposal:
    """A decision as the agent means to take it."""

    kind: str
    amount: Money | None = None
    at: datetime | None = None
    """Callback: when to call."""
    reason: str | None = None
    escalates: Proposal | None = None
    """Kind escalate: the decision proposed to the role above."""

    def describe(self) -> str:
        if self.kind in MONEY_KINDS:
            return f"{self.kind} {self.amount}" if self.amount is not None else self.kind
        if self.kind == "escalate" and self.escalates is not None:
            return f"escalate: {self.escalates.describe()}"
        return self.kind


@dataclass(frozen=True, slots=True)
class Situation:
    """What a check needs to know, read in the same transaction as the decision is written."""

    role: str
    customer: Customer
    case: Case | None
    decisions: Sequence[Decision]
    """The customer's decisions: at least those of the last 30 days and those on ``case``."""
    now: datetime
    taken_slots: frozenset[datetime] = frozenset()
    """Callback times already booked by the agent who would call."""


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    proposal: Proposal
    rule: str
    """The matrix entry that decided, e.g. ``agent.refund.max``."""
    reason: str | None = None
    """Why it was refused, in one sentence; None when allowed."""
    limit: Money | None = None
    budget_left: Money | None = None
    """What the customer's 30-day cap still allows before this decision."""
    escalate_to: str | None = None
    """Who could decide instead, when a limit refused it."""
    needs: str | None = None
    """``amount`` or ``time`` when refused only because the proposal lacks it: adjust, then take."""


@dataclass(frozen=True, slots=True)
class Option:
    """One entry of the decision bar: the suggestion and what the rules say about it."""

    kind: str
    verdict: Verdict
    suggested: Proposal | None
    """None when nothing can be suggested (no disputed amount, say): adjust first."""

    @property
    def allowed(self) -> bool:
        return self.verdict.allowed


def check(matrix: AuthorityMatrix, situation: Situation, proposal: Proposal) -> Verdict:
    """Is ``proposal`` within the authority of ``situation.role`` here and now? Never clips."""
    role = matrix.role(situation.role)
    kind = proposal.kind
    if role is None:
        return Verdict(False, proposal, "roles", f"role {situation.role!r} is not in the authority matrix")
    if role.read_only:
        return Verdict(False, proposal, f"{role.name}.read_only",
                       f"the {role.name} role is read-only and decides nothing")
    if kind not in KINDS:
        return Verdict(False, proposal, "kinds", f"{kind!r} is not a kind of decision ({', '.join(KINDS)})")
    case = situation.case
    if case is not None and not case.status.is_open:
        return Verdict(False, proposal, "case.status", f"case {case.id} is {case.status.value}")
    amount = proposal.escalates.amount if proposal.escalates is not None else proposal.amount
    if case is not None and case.disputed is not None and amount is not None \
            and amount.currency != case.disputed.currency:
        # The disputed-amount check compares only like with like, so an amount on a case is in its currency.
        return Verdict(False, proposal, "case.currency", f"{kind} {amount} is not in the currency of case "
                                                         f"{case.id} ({case.disputed.currency})")
    if kind in MONEY_KINDS:
        return _check_money(matrix, role, situation, proposal)
    if kind == "callback":
        return _check_callback(matrix, role, situation, proposal)
    if kind == "escalate":
        return _check_escalation(matrix, role, situation, proposal)
    return Verdict(True, proposal, f"{role.name}.note")


def check_approval(matrix: AuthorityMatrix, situation: Situation, escalated_by_role: str,
                   proposal: Proposal) -> Verdict:
    """May ``situation.role`` approve ``proposal``, escalated by someone of ``escalated_by_role``?"""
    role = matrix.role(situation.role)
    if role is not None and not role.read_only and escalated_by_role not in role.approves:
        return Verdict(False, proposal, f"{role.name}.approves", not_approved_by(role, escalated_by_role))
    return check(matrix, situation, proposal)


def not_approved_by(role: Role, escalated_by_role: str | None) -> str:
    whom = ", ".join(role.approves) or "nobody"
    return f"the {role.name} role does not approve escalations of {escalated_by_role} (it approves {whom})"


def _refusal(proposal: Proposal, rule: str, reason: str, role: Role, **extra: Any) -> Verdict:
    return Verdict(False, proposal, rule, reason, escalate_to=role.escalate_to, **extra)


def _check_money(matrix: AuthorityMatrix, role: Role, situation: Situation, proposal: Proposal) -> Verdict:
    kind = proposal.kind
    rule = role.money_rule(kind)
    if rule is None:
        return _refusal(proposal, f"{role.name}.{kind}", f"the {role.name} role may not decide a {kind}", role)
    amount = proposal.amount
    if amount is None:
        return Verdict(False, proposal, f"{role.name}.{kind}", f"a {kind} needs an amount", needs="amount")
    currency = matrix.currency_of(role) or amount.currency
    limit = Money(rule.max, currency)
    cap = Money(rule.per_customer_30d, currency)
    if amount.currency != currency:
        return Verdict(False, proposal, f"{role.name}.{kind}.currency",
                       f"the {role.name} role's {kind} limits are in {currency}, not {amount.currency}", limit=limit)
    if amount.amount <= 0:
        return Verdict(False, proposal, f"{role.name}.{kind}", "the amount must be more than zero", limit=limit)
    spent = spent_in_window(situation.decisions, kind, currency, situation.now)
    left = cap - spent
    case = situation.case
    if kind == "refund" and case is not None and case.disputed is not None and case.disputed.currency == currency:
        # Before the limits: no role may refund more than is disputed, so escalating would not help.
        open_amount = case.disputed - refunded_on_case(situation.decisions, case.id, currency)
        if amount > open_amount:
            return Verdict(False, proposal, "case.disputed_amount",
                           f"refund {amount} is more than the {open_amount} still disputed on case {case.id}",
                           limit=limit, budget_left=left)
    if amount > limit:
        return _refusal(proposal, f"{role.name}.{kind}.max",
                        f"{kind} {amount} is over the {role.name} limit of {limit}", role,
                        limit=limit, budget_left=left)
    if amount > left:
        return _refusal(proposal, f"{role.name}.{kind}.per_customer_30d",
                        f"{kind} {amount} would exceed this customer's 30-day cap of {cap} "
                        f"({max(left, Money(Decimal(0), currency))} left)",
                        role, limit=limit, budget_left=left)
    return Verdict(True, proposal, f"{role.name}.{kind}.max", limit=limit, budget_left=left)


def _check_callback(matrix: AuthorityMatrix, role: Role, situation: Situation, proposal: Proposal) -> Verdict:
    rule_name = f"{role.name}.callback"
    if role.callback is None or not role.callback.allowed:
        return _refusal(proposal, rule_name, f"the {role.name} role may not promise callbacks", role)
    phone = situation.customer.phone
    if not phone_key(phone):
        return Verdict(False, proposal, "customer.phone", "the customer has no phone number to call")
    if not role.callback.international and is_international(phone, matrix.home_country):
        return _refusal(proposal, f"{rule_name}.international",
                        f"{phone} is outside {matrix.home_country}; the {role.name} role may not call abroad", role)
    at = proposal.at
    if at is None:
        return Verdict(False, proposal, rule_name, "a callback needs a time", needs="time")
    hours = matrix.callbacks
    if at < situation.now:
        return Verdict(False, proposal, f"{rule_name}.time", "that time has already passed")
    their_zone = customer_zone(matrix, situation.customer)
    local = at.astimezone(their_zone)
    if not within_hours(hours, local):
        return Verdict(False, proposal, "callbacks.hours",
                       f"{local:%a %H:%M} is outside callback hours ({hours.describe()} customer's time)")
    if at in situation.taken_slots:
        return Verdict(False, proposal, "callbacks.slot", f"{local:%a %H:%M} is already booked")
    return Verdict(True, proposal, rule_name)


def _check_escalation(matrix: AuthorityMatrix, role: Role, situation: Situation, proposal: Proposal) -> Verdict:
    if role.escalate_to is None:
        return Verdict(False, proposal, f"{role.name}.escalate_to",
                       f"there is no role above {role.name} to escalate to")
    inner = proposal.escalates
    if inner is None or inner.kind not in ESCALATABLE_KINDS:
        return Verdict(False, proposal, f"{role.name}.escalate_to",
                       f"an escalation proposes a {', '.join(ESCALATABLE_KINDS[:-1])} or {ESCALATABLE_KINDS[-1]}")
    # The role above must be able to approve it; otherwise escalating would only delay a refusal.
    above = check(matrix, replace(situation, role=role.escalate_to), inner)
    if not above.allowed:
        return Verdict(False, proposal, above.rule, f"the {role.escalate_to} role could not approve it either: "
                       f"{above.reason}", limit=above.limit, budget_left=above.budget_left)
    return Verdict(True, proposal, f"{role.name}.escalate_to", escalate_to=role.escalate_to)


# --------------------------------------------------------------------------- sums and slots


def counts(decision: Decision) -> bool:
    """Does ``decision`` spend budget at all? Its kind is one of :data:`COUNTED_KINDS`, its state one of
    :data:`COUNTED_STATES`. Both stores select with these same constants (see ``domain.workflow``)."""
    return decision.kind in COUNTED_KINDS and decision.state in COUNTED_STATES


def window_start(now: datetime) -> datetime:
    """A decision counted after this moment (and not after ``now``) is inside the 30-day window."""
    return now - WINDOW


def in_window(counted_at: datetime, now: datetime) -> bool:
    return window_start(now) < counted_at <= now


def spent_in_window(decisions: Iterable[Decision], kind: str, currency: str, now: datetime) -> Money:
    """The customer's ``kind`` total in ``currency`` over the 30 days before ``now``."""
    total = Decimal(0)
    for decision in decisions:
        if (decision.kind == kind and counts(decision) and decision.amount is not None
                and decision.amount.currency == currency and in_window(decision.at, now)):
            total += decision.amount.amount
    return Money(total, currency)


def refunded_on_case(decisions: Iterable[Decision], case_id: str, currency: str) -> Money:
    total = sum((d.amount.amount for d in decisions
                 if d.kind == "refund" and d.case == case_id and counts(d)
                 and d.amount is not None and d.amount.currency == currency), Decimal(0))
    return Money(total, currency)


def is_international(phone: str | None, home_country: str) -> bool:
    """Is ``phone`` outside ``home_country``? ``+44 …`` and the dialled form ``0044 …`` both are; a national
    number is not. A number that cannot be read counts as abroad when written with ``+``."""
    key = phone_key(phone)
    if phone is None or not key:
        return False
    from phonenumbers import NumberParseException, country_code_for_region, parse

    try:
        number = parse(phone, home_country)
    except NumberParseException:
        return key.startswith("+")
    # Calling codes, not regions: +1 is home to both the US and Canada, +44 to Jersey as to GB.
    return number.country_code != country_code_for_region(home_country)


def is_country(code: str) -> bool:
    """A region whose numbers ``phonenumbers`` knows (ISO 3166 alpha-2, e.g. ``DE``)."""
    from phonenumbers import SUPPORTED_REGIONS

    return code in SUPPORTED_REGIONS


def customer_zone(matrix: AuthorityMatrix, customer: Customer) -> tzinfo:
    from agentdesk.domain.timefmt import zone

    found = zone(customer.timezone) or zone(matrix.callbacks.zone)
    assert found is not None  # the matrix's zone was validated when it was read
    return found


def within_hours(hours: CallbackHours, local: datetime) -> bool:
    """Does a slot starting at ``local`` (in the customer's zone) lie wholly inside callback hours?"""
    if local.weekday() not in hours.days:
        return False
    start = local.hour * 3600 + local.minute * 60 + local.second
    end = start + hours.slot.total_seconds()
    return _seconds(hours.opens) <= start and end <= _seconds(hours.closes)


def _seconds(moment: time) -> int:
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def next_callback_slot(matrix: AuthorityMatrix, customer: Customer, now: datetime,
                       taken: frozenset[datetime] = frozenset()) -> datetime | None:
    """The first free slot at least ``notice`` ahead, within callback hours in the customer's zone.

    Slots start at opening time and follow each other without gaps; the result is in
    UTC. None only when no slot is free in the next four weeks.
    """
    hours = matrix.callbacks
    their_zone = customer_zone(matrix, customer)
    earliest = now + hours.notice
    day = earliest.astimezone(their_zone).replace(hour=0, minute=0, second=0, microsecond=0, tzinfo=None)
    for _ in range(28):
        wall = day + timedelta(seconds=_seconds(hours.opens))
        while wall.date() == day.date():
            local = wall.replace(tzinfo=their_zone)
            at = local.astimezone(timezone.utc)
            if at >= earliest and within_hours(hours, local) and at not in taken:
                return at
            wall += hours.slot
        day += timedelta(days=1)
    return None


# --------------------------------------------------------------------------- the decision bar


def options(matrix: AuthorityMatrix, situation: Situation) -> dict[str, Option]:
    """What the decision bar offers here: a checked suggestion for every kind."""
    role = matrix.role(situation.role)
    result: dict[str, Option] = {}
    for kind in KINDS:
        suggestion = suggest(matrix, situation, kind)
        verdict = check(matrix, situation, suggestion or Proposal(kind))
        if suggestion is None and role is not None and kind in MONEY_KINDS and verdict.needs == "amount":
            # Nothing to suggest, but the role may decide one: the limits stand, adjust first.
            rule = role.money_rule(kind)
            if rule is not None:
                currency = decision_currency(matrix, situation)
                cap = Money(rule.per_customer_30d, currency)
                verdict = replace(verdict, limit=Money(rule.max, currency),
                                  budget_left=cap - spent_in_window(situation.decisions, kind, currency, situation.now))
        result[kind] = Option(kind, verdict, suggestion)
    return result


def decision_currency(matrix: AuthorityMatrix, situation: Situation) -> str:
    """The currency amounts are decided in here: the role's (or the matrix's), else the case's, else EUR."""
    role = matrix.role(situation.role)
    return (matrix.currency_of(role) if role is not None else None) or _case_currency(situation) or "EUR"


def _case_currency(situation: Situation) -> str | None:
    case = situation.case
    return case.disputed.currency if case is not None and case.disputed is not None else None


def suggest(matrix: AuthorityMatrix, situation: Situation, kind: str) -> Proposal | None:
    """The decision the bar proposes for ``kind``, before any check; None when there is nothing to go on."""
    role = matrix.role(situation.role)
    case = situation.case
    if kind == "refund":
        if case is None or case.disputed is None:
            return None
        open_amount = case.disputed - refunded_on_case(situation.decisions, case.id, case.disputed.currency)
        return Proposal("refund", open_amount) if open_amount.amount > 0 else None
    if kind == "voucher":
        rule = role.voucher if role is not None else None
        if rule is None:
            return None
        currency = decision_currency(matrix, situation)
        amount = rule.default if rule.default is not None else rule.max
        spent = spent_in_window(situation.decisions, "voucher", currency, situation.now)
        left = Money(rule.per_customer_30d, currency) - spent
        amount = min(amount, left.amount)
        return Proposal("voucher", Money(amount, currency)) if amount > 0 else None
    if kind == "callback":
        at = next_callback_slot(matrix, situation.customer, situation.now, situation.taken_slots)
        return Proposal("callback", at=at) if at is not None else None
    return None
