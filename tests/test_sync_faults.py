"""Fault injection between workstations and a real backend: every accepted decision arrives exactly once.

A hypothesis state machine drives two agents' workstations (each a real store file with
its ledger, replica and sync client) against one real ``agentdesk serve`` process, on
SQLite and on PostgreSQL, over real loopback HTTP. Between client and backend the wire
misbehaves (:class:`tests.faults.FaultyTransport`: requests dropped, answers dropped
after the backend committed, requests duplicated, raced and delayed), the backend is
restarted (sometimes while a push is in flight), and ``agentdesk sync`` is SIGKILLed
mid-push. The two agents decide on the same customers from their own replicas, so
the backend has real refusals to make (the budget of a customer, a case's disputed
amount, a case the admin closed meanwhile).

Afterwards, with the faults cleared and the outboxes drained:

1. every decision a ledger accepted is on the backend exactly once, was applied exactly
   once (one ``confirmed``/``refused`` audit record, one stored mutation per outbox row),
   and nothing else was; every reply the backend took was handed to its SMTP server (a real
   one on loopback) exactly once, and a reply it refused never;
2. each workstation's view of the example's customers (decisions with state, amount,
   currency and refusal; promises with state) equals the backend's;
3. the money the backend confirmed never breaks the authority rules.

The module counts what it did (steps, faults of each kind, restarts, kills and where
they landed, refusals) and fails if any of them did not happen often enough, so the
test cannot quietly stop testing something.
"""

from __future__ import annotations

import asyncio
import email
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack, contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from agentdesk.domain.authority import Proposal
from agentdesk.store.ledger import Ledger, LedgerError
from agentdesk.sync.client import BackendClient, Unreachable
from agentdesk.sync.engine import Syncer
from agentdesk.sync.replica import REJECTED, Replica
from tests.backend import Server, add_user, fetch, postgres_database
from tests.faults import FAULTS, TLS, AnswerlessWire, FaultyTransport
from tests.smtp_server import AnyFreePort
from tests.test_ledger import MATRIX, eur, rows

AGENTS = ("a-7", "a-8")
LEAD = "a-2"
"""Approves or declines what the agents escalate, from a third workstation."""
STATIONS = (*AGENTS, LEAD)
QUEUED = timedelta(0)
BERLIN = ZoneInfo("Europe/Berlin")
LANDED = ("mid-push", "while pulling", "exited by itself")
"""Where a SIGKILL of ``agentdesk sync`` landed."""

ESCALATED = [("refund", "60.00"), ("refund", "80.00"), ("refund", "100.00"), ("voucher", "30.00"),
             ("voucher", "40.00")]
"""Over an agent's limit and within a lead's: what the agents escalate."""
REFUNDS = ["5.00", "10.00", "12.50", "20.00", "25.00", "30.00", "39.90", "45.00", "50.00", "55.00"]
VOUCHERS = ["5.00", "10.00", "15.00", "20.00", "25.00", "30.00"]
"""Amounts an agent may propose; the largest are over an agent's limit and refused by the ledger already."""

SHARDS = 3
"""The run of each backend is split in this many tests of their own, which pytest-xdist runs side by side;
each asserts the MINIMUM of everything on its own."""
SIZES = {"sqlite": (4, 100, 250), "postgresql": (2, 60, 90)}
"""(examples, steps per example, horizon) of one shard: 1,200 steps on SQLite over the shards, 360 on
PostgreSQL. Each example restarts the backend and kills a sync at a step drawn from 1..horizon; past its end,
at its end while the shard has had fewer than MINIMUM of them, else not at all. A restart and a kill start
Python processes, the costliest part of an example: a horizon past the end keeps them to a few per shard."""
if os.environ.get("AGENTDESK_FAULT_SIZE"):  # e.g. "3x20x20" while working on this file
    SIZES = dict.fromkeys(SIZES, tuple(map(int, os.environ["AGENTDESK_FAULT_SIZE"].split("x"))))
MINIMUM = {"sqlite": 2, "postgresql": 1}
"""How often each fault kind, restart and kill must at least have happened over a shard's run.

Certain, not likely: every example plans every fault kind, and the restarts, kills and backend
refusals an example's draws left out are made up at its end until the run has had this many.
The run's first restart stops the backend between two requests of a push, and its first kill
lands while the push waits for an answer (:mod:`tests.faults`): both certainly land inside a push."""


@dataclass
class Stats:
    examples: int = 0
    steps: int = 0
    decided: int = 0
    replies: int = 0
    replies_sent: int = 0
    refused_locally: int = 0
    restarts: int = 0
    restarts_mid_push: int = 0
    kills: Counter = field(default_factory=Counter)
    answers_lost_to_kills: int = 0
    faults: Counter = field(default_factory=Counter)
    refusals: Counter = field(default_factory=Counter)
    """Backend refusals, by rule."""
    confirmed: int = 0
    unreachable: int = 0
    approvals: int = 0
    declines: int = 0
    rules: Counter = field(default_factory=Counter)
    restart_seconds: float = 0.0
    kill_seconds: float = 0.0

    def summary(self, seconds: float) -> str:
        return (f"{self.examples} examples, {self.steps} steps in {seconds:.0f} s; {self.decided} decisions accepted, "
                f"{self.replies} replies queued ({self.replies_sent} sent once) "
                f"({self.refused_locally} refused by the ledger; lead: {self.approvals} approvals, "
                f"{self.declines} declines); backend: {self.confirmed} confirmed, "
                f"refused {dict(self.refusals)}; faults {dict(self.faults)}; {self.unreachable} pushes/pulls "
                f"failed Unreachable; restarts {self.restarts} ({self.restarts_mid_push} mid-push, "
                f"{self.restart_seconds:.0f} s); SIGKILLs of agentdesk sync {dict(self.kills)} "
                f"({self.kill_seconds:.0f} s), answers lost to them {self.answers_lost_to_kills}; "
                f"rules run {dict(self.rules)}")


@dataclass(frozen=True)
class Disturbances:
    """What one example does besides its rules: the step that restarts the backend, the one that kills a sync."""

    restart_at: int = 0
    mid_push: bool = False
    kill_at: int = 0
    agent: str = AGENTS[0]
    burst: int = 0
    delay_ms: int = 0


@dataclass
class Backend:
    kind: str
    server: Server
    tokens: dict[str, str]
    workdir: Path
    mailbox: Mailbox


class Mailbox:
    """What the SMTP server took: every Message-ID, as often as it came."""

    def __init__(self) -> None:
        self.received: Counter[str] = Counter()

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: ANN001, N802 - aiosmtpd's hook
        message = email.message_from_bytes(envelope.original_content or envelope.content)
        self.received[str(message["Message-ID"])] += 1
        return "250 OK"


@contextmanager
def _sqlite_database(directory: Path) -> Iterator[str]:
    yield str(directory / "server.db")


@pytest.fixture(scope="module", params=("sqlite", "postgresql"))
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    workdir = tmp_path_factory.mktemp(f"faults-{request.param}")
    databases = _sqlite_database(workdir) if request.param == "sqlite" else postgres_database()
    mailbox = Mailbox()
    relay = AnyFreePort(mailbox, hostname="127.0.0.1", port=0)  # the backend's SMTP server: replies go out here
    relay.start()
    channels = workdir / "channels.toml"
    channels.write_text(f'[smtp]\nhost = "127.0.0.1"\nport = {relay.port}\nsecurity = "none"\n'
                        'from = "service@example.com"\n', encoding="utf-8")
    try:
        with databases as database:
            tokens = {name: add_user(database, name, role)
                      for name, role in (("admin", "admin"), ("a-7", "agent"), ("a-8", "agent"), ("a-2", "lead"))}
            with Server(database, flags=["--channels", str(channels)]) as server:
                yield Backend(request.param, server, tokens, workdir, mailbox)
    finally:
        relay.stop()


# --------------------------------------------------------------------------- one workstation


class Workstation:
    """One agent's store with its ledger, replica and a sync client behind a faulty wire."""

    def __init__(self, agent: str, store: Path, token: str) -> None:
        self.agent, self.store, self.token = agent, store, token
        self.faulty = FaultyTransport()
        self.ledger: Ledger
        self.syncer: Syncer

    async def open(self, stack: AsyncExitStack, url: str) -> None:
        replica = await stack.enter_async_context(Replica.open(self.store))
        client = await stack.enter_async_context(BackendClient(url, self.token, transport=self.faulty))
        self.syncer = Syncer(replica, client)
        for _ in range(20):
            try:
                await self.syncer.pull()  # the store needs the agent and the customers before deciding
                break
            except Unreachable:
                continue
        else:
            raise AssertionError(f"{self.agent}: the first pull never got through")
        self.ledger = await stack.enter_async_context(Ledger.open(self.store, MATRIX))

    def outbox(self) -> list[tuple[str, str, str | None]]:
        """``(mutation id, subject, last_error)``, oldest first; the subject is the decision carried,
        or ``decline:<escalation>``."""
        return [(ident, _subject(json.loads(body)), error)
                for ident, body, error in rows(self.store, "SELECT id, body, last_error FROM outbox ORDER BY seq")]


def _subject(body: dict) -> str:
    if body.get("kind") == "reply":
        return f"reply:{body['interaction']['id']}"
    return body["decision"]["id"] if body.get("decision") else f"decline:{body['escalation']}"


# --------------------------------------------------------------------------- the state machine


def machine(backend: Backend, stats: Stats, shard: int) -> type[RuleBasedStateMachine]:
    server = backend.server
    horizon = SIZES[backend.kind][2]
    least = MINIMUM[backend.kind]

    class SyncUnderFaults(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            stats.examples += 1
            self.tag = f"{backend.kind[:2]}{shard}-{stats.examples:03d}"  # shards may share a backend
            self.loop = asyncio.new_event_loop()
            self.stack = AsyncExitStack()
            self.steps = self.closings = 0
            self.declined: set[str] = set()
            self.plan = Disturbances()
            self.restarted = self.killed = False
            self.accepted: dict[str, str] = {}
            """Decision id -> the agent whose ledger accepted it."""
            self.replies: dict[str, str] = {}
            """Reply (interaction) id -> the agent whose ledger queued it."""
            self.mutations: dict[str, str] = {}
            """Outbox mutation id -> its subject (the decision id, or ``decline:<escalation>``)."""
            self.senders: dict[str, str] = {}
            """Outbox mutation id -> the workstation that wrote it."""
            self.answered: dict[str, str] = {}
            """Decision id -> confirmed/refused, once a store saw the backend's answer (it never changes)."""
            self.customers = [f"c-{self.tag}-{n}" for n in (1, 2)]
            self.cases = {
                f"k-{self.tag}-1": (self.customers[0], "open", "39.90"),
                f"k-{self.tag}-2": (self.customers[0], "closed", "18.40"),
                f"k-{self.tag}-3": (self.customers[1], "open", "120.00"),
                f"k-{self.tag}-4": (self.customers[1], "open", "25.00"),
            }
            self._upload([*({"type": "customer", "id": c, "name": f"Customer {c}", "phone": "+49 170 555 0199",
                             "email": f"{c}@example.net", "preferred_channel": "email",
                             "timezone": "Europe/Berlin", "owner": "a-7"} for c in self.customers),
                          *(self._case(k, status) for k, (_, status, _) in self.cases.items())])
            directory = backend.workdir / self.tag
            directory.mkdir()
            self.stations = {agent: Workstation(agent, directory / f"{agent}.sqlite3", backend.tokens[agent])
                             for agent in STATIONS}
            for station in self.stations.values():
                self.run(station.open(self.stack, server.url))

        # --- plumbing -------------------------------------------------------------

        def run(self, coroutine):  # noqa: ANN001, ANN201
            return self.loop.run_until_complete(coroutine)

        def _case(self, case_id: str, status: str) -> dict:
            customer, _, disputed = self.cases[case_id]
            return {"type": "case", "id": case_id, "customer": customer, "subject": f"Case {case_id}",
                    "status": status, "opened_at": "2026-11-20T09:00:00+01:00", "disputed_amount": disputed,
                    "currency": "EUR"}

        def _upload(self, objects: list[dict]) -> None:
            for _ in range(20):
                try:
                    answer = httpx.post(f"{server.url}/records", json={"records": objects}, timeout=30, verify=TLS,
                                        headers={"Authorization": f"Bearer {backend.tokens['admin']}"})
                except httpx.TransportError:
                    continue
                assert answer.status_code == 200 and answer.json()["errors"] == [], answer.text
                return
            raise AssertionError("the admin's upload never got through")

        async def _sync(self, station: Workstation, what: str) -> bool:
            """One push, pull or both; False when the backend could not be reached (nothing is lost then)."""
            try:
                if what == "push":
                    await station.syncer.push()
                elif what == "pull":
                    await station.syncer.pull()
                else:
                    await station.syncer.once()
            except Unreachable:
                stats.unreachable += 1
                return False
            return True

        def step(self, name: str) -> None:
            """Count a step; the restart and the kill this example scheduled come between steps."""
            stats.steps += 1
            stats.rules[name] += 1
            self.steps += 1
            if self.steps == self.plan.restart_at:
                self._restart_backend()
            if self.steps == self.plan.kill_at:
                self._sigkill_agentdesk_sync()

        def _make_up_what_the_run_lacks(self) -> None:
            """At the example's end: the restart and the kill its draw placed past it, a refusal only the
            backend can make and a reply, while the run has had fewer than it needs."""
            if not self.restarted and stats.restarts < least:
                self._restart_backend()
            if not self.killed and sum(stats.kills.values()) < least:
                self._sigkill_agentdesk_sync()
            if sum(stats.refusals.values()) < least:
                self._a_refusal_only_the_backend_can_make()
            if stats.replies_sent < least:
                # After a pull the store knows every case the backend closed: this reply is one it takes.
                station = self.stations[AGENTS[0]]
                while not self.run(self._sync(station, "pull")):
                    pass
                self.reply(AGENTS[0], 1)

        def _a_refusal_only_the_backend_can_make(self) -> None:
            """The admin closes a case; an agent whose store has not heard of it yet notes on it (allowed
            there, whatever the budgets): the backend refuses it (rule ``case.status``) once it arrives."""
            case_id = next(k for k, (_, status, _) in self.cases.items() if status == "open")  # one rule closes one
            customer, _, disputed = self.cases[case_id]
            self.cases[case_id] = (customer, "closed", disputed)
            self._upload([self._case(case_id, "closed")])
            accepted = len(self.accepted)
            self._take(self.stations[AGENTS[0]], customer, Proposal("note", reason="on a case closed meanwhile"),
                       case_id)
            assert len(self.accepted) == accepted + 1, "the store refused a note on a case it holds open"

        # --- the disturbances of this example, drawn once, fired at a drawn step --------

        @initialize(restart_at=st.integers(1, horizon), mid_push=st.booleans(), kill_at=st.integers(1, horizon),
                    agent=st.sampled_from(AGENTS), burst=st.integers(6, 16),
                    delay_ms=st.one_of(st.integers(0, 150), st.integers(0, 800)),
                    faults=st.tuples(*(st.permutations(FAULTS) for _ in AGENTS)))
        def schedule(self, restart_at: int, mid_push: bool, kill_at: int, agent: str, burst: int,
                     delay_ms: int, faults: tuple[list[str], ...]) -> None:
            """When this example restarts the backend (perhaps while a push is in flight) and SIGKILLs a sync.

            Drawn up front, because a rare rule is easily never drawn at all in an example
            (hypothesis switches whole rules off per example); a step past the example's end never fires.
            """
            self.plan = Disturbances(restart_at, mid_push, kill_at, agent, burst, delay_ms)
            for agent_, plan in zip(AGENTS, faults, strict=True):  # every kind of fault, early in each example
                self.stations[agent_].faulty.plan.extend(plan)

        def _burst(self, station: Workstation, count: int) -> None:
            """Several decisions at once, so the outbox holds enough for a push to take a while."""
            for n in range(count):  # mostly notes, which no budget refuses
                customer = self.customers[n % 2]
                if n % 4 == 3:
                    self._take(station, customer, Proposal("refund", eur("5.00")), None)
                else:
                    self._take(station, customer, Proposal("note", reason=f"burst {n}"), None)

        def _restart_backend(self) -> None:
            self.restarted = True
            stats.restarts += 1
            started = time.monotonic()
            if stats.restarts_mid_push == 0:
                self._restart_between_two_requests_of_a_push()
            elif not self.plan.mid_push:
                server.restart()
            else:
                station = self.stations[self.plan.agent]
                self._burst(station, self.plan.burst)

                begun = self._begun([ident for ident, _, _ in station.outbox()])

                async def push_while_restarting() -> bool:
                    push = asyncio.ensure_future(self._sync(station, "push"))
                    # The backend goes down once the push is under way (its first mutation committed).
                    await asyncio.get_running_loop().run_in_executor(None, self._wait, begun, push.done)
                    in_flight = not push.done()
                    await asyncio.get_running_loop().run_in_executor(None, server.restart)
                    return in_flight and not await push

                planned = list(station.faulty.plan)  # the restart alone is the fault this time
                station.faulty.plan.clear()
                if self.run(push_while_restarting()):
                    stats.restarts_mid_push += 1  # the restart cut the push off
                station.faulty.plan.extend(planned)
            stats.restart_seconds += time.monotonic() - started

        def _restart_between_two_requests_of_a_push(self) -> None:
            """The backend stops after a push's first answer and before its next request: cut off for certain."""
            station = self.stations[self.plan.agent]
            self._burst(station, self.plan.burst)  # at least five notes: a push of more than one request

            async def stop() -> None:
                await asyncio.get_running_loop().run_in_executor(None, server.stop)

            async def push_cut_off() -> bool:
                station.faulty.interrupt(stop)
                reached = await self._sync(station, "push")
                await asyncio.get_running_loop().run_in_executor(None, server.start)
                return not reached

            planned = list(station.faulty.plan)  # the restart alone is the fault this time
            station.faulty.plan.clear()
            assert self.run(push_cut_off()), "the push went through although the backend stopped in its middle"
            stats.restarts_mid_push += 1
            station.faulty.plan.extend(planned)

        @staticmethod
        def _begun(mutations: list[str]) -> Callable[[], bool]:
            """Whether the backend has committed one of these mutations since now (one an answer was lost
            for earlier is committed already: its repeat is no sign of a push having begun)."""
            ids = ", ".join(f"'{ident}'" for ident in mutations) or "''"
            sql = f"SELECT count(*) FROM mutation WHERE id IN ({ids})"
            before = fetch(server.database, sql)[0][0]
            return lambda: fetch(server.database, sql)[0][0] > before

        @staticmethod
        def _wait(begun: Callable[[], bool], ended: Callable[[], bool]) -> None:
            """Wait for the condition "the push has begun" (a mutation committed), or for its end."""
            deadline = time.monotonic() + 60
            while not ended() and not begun():
                assert time.monotonic() < deadline, "the push did not begin within 60 s"
                time.sleep(0.002)

        def _push_cleanly(self, station: Workstation) -> None:
            """Push what waits without the planned faults (they stay planned for later pushes)."""
            planned = list(station.faulty.plan)
            station.faulty.plan.clear()
            assert self.run(self._sync(station, "push")), "a push without faults did not get through"
            station.faulty.plan.extend(planned)

        def _sigkill_agentdesk_sync(self) -> None:
            """``agentdesk sync`` on the store, killed with SIGKILL a drawn delay after its push began.

            Until the run has had a kill mid-push, the sync talks through an :class:`AnswerlessWire` and is
            killed as soon as its first mutation is in: the push is certainly under way then."""
            self.killed = True
            station = self.stations[self.plan.agent]
            certain = stats.kills[LANDED[0]] == 0
            if certain:  # what an answer was lost for earlier would go first: the answerless push's first is new
                self._push_cleanly(station)
            self._burst(station, self.plan.burst)
            waiting = [ident for ident, _, _ in station.outbox()]
            environment = {**os.environ, "AGENTDESK_TOKEN": station.token, "PYTHONUNBUFFERED": "1"}
            environment.pop("AGENTDESK_DB", None)
            started = time.monotonic()
            begun = self._begun(waiting)
            with AnswerlessWire(server.port) if certain else nullcontext() as wire:
                process = subprocess.Popen(
                    [sys.executable, "-m", "agentdesk", "sync", "--db", str(station.store),
                     "--server", wire.url if wire else server.url],
                    env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                self._wait(begun, lambda: process.poll() is not None)
                if not certain:
                    time.sleep(self.plan.delay_ms / 1000)  # the deliberate random delay
                if process.poll() is None:
                    process.send_signal(signal.SIGKILL)
                status = process.wait(30)
            assert process.stderr is not None
            stderr = process.stderr.read().decode()
            process.stderr.close()
            left = [ident for ident, _, _ in station.outbox()]
            if status == -signal.SIGKILL:
                stats.kills[LANDED[0] if left else LANDED[1]] += 1
            else:
                assert status == 0, f"agentdesk sync exited {status}: {stderr}"
                stats.kills[LANDED[2]] += 1
            if left:
                lost = fetch(server.database, "SELECT count(*) FROM mutation WHERE id IN ("
                             + ", ".join(f"'{ident}'" for ident in left) + ")")[0][0]
                stats.answers_lost_to_kills += lost
            stats.kill_seconds += time.monotonic() - started

        # --- rules ----------------------------------------------------------------

        @rule(agent=st.sampled_from(AGENTS), count=st.integers(1, 3), data=st.data())
        def decide(self, agent: str, count: int, data: st.DataObject) -> None:
            self.step("decide")
            for _ in range(count):
                self._decide(self.stations[agent], data)

        def _decide(self, station: Workstation, data: st.DataObject) -> None:
            customer = data.draw(st.sampled_from(self.customers), label="customer")
            cases = [k for k, (c, _, _) in self.cases.items() if c == customer]
            kind = data.draw(st.sampled_from(("refund", "refund", "voucher", "note", "callback", "escalate")),
                             label="kind")
            case = None
            if kind == "escalate":
                inner, amount = data.draw(st.sampled_from(ESCALATED), label="escalated")
                proposal = Proposal("escalate", escalates=Proposal(inner, eur(amount)), reason="over my limit")
                case = data.draw(st.sampled_from([None, *cases]), label="case") if inner == "refund" else None
            elif kind == "refund":
                proposal = Proposal("refund", eur(data.draw(st.sampled_from(REFUNDS), label="amount")))
                case = data.draw(st.sampled_from([None, *cases]), label="case")
            elif kind == "voucher":
                proposal = Proposal("voucher", eur(data.draw(st.sampled_from(VOUCHERS), label="amount")))
            elif kind == "note":
                proposal = Proposal("note", reason=f"note {len(self.accepted)}")
            else:
                proposal = Proposal("callback", at=self._slot(data))
            self._take(station, customer, proposal, case)

        def _take(self, station: Workstation, customer: str, proposal: Proposal, case: str | None) -> None:
            try:
                taken = self.run(station.ledger.take(station.agent, customer, proposal, case_id=case,
                                                     undo_window=QUEUED))
            except LedgerError:
                stats.refused_locally += 1
                return
            if taken.decision is None:
                stats.refused_locally += 1
                return
            decision = taken.decision.id
            assert taken.decision.state == "queued"
            self.accepted[decision] = station.agent
            stats.decided += 1
            self._sent(station, decision)

        def _sent(self, station: Workstation, subject: str) -> None:
            mine = [ident for ident, s, _ in station.outbox() if s == subject]
            assert len(mine) == 1, f"{subject} has {len(mine)} outbox rows"
            self.mutations[mine[0]] = subject
            self.senders[mine[0]] = station.agent

        @rule(agent=st.sampled_from(AGENTS), customer=st.integers(0, 1))
        def reply(self, agent: str, customer: int) -> None:
            """An agent answers by e-mail; the backend sends it (each one must reach the SMTP server once)."""
            self.step("reply")
            station = self.stations[agent]
            try:
                entry = self.run(station.ledger.reply(agent, self.customers[customer],
                                                      f"reply {len(self.replies)} from {agent}"))
            except LedgerError:  # its case was closed meanwhile, as far as this store knows
                stats.refused_locally += 1
                return
            self.replies[entry.id] = agent
            stats.replies += 1
            self._sent(station, f"reply:{entry.id}")

        @rule(pick=st.integers(0, 99), answer=st.sampled_from(("approve", "approve", "decline")))
        def lead_approves_or_declines(self, pick: int, answer: str) -> None:
            """The lead takes an escalation their store has pulled: approved (their own decision) or declined."""
            self.step("lead_approves_or_declines")
            station = self.stations[LEAD]
            self.run(self._sync(station, "once"))  # as the workstation does when the backend announces a change
            waiting = [d.id for d in self.run(station.ledger.waiting_approvals(LEAD)) if d.customer in self.customers]
            if not waiting:
                return
            # Drawn up front, never from what the backend happens to hold: hypothesis replays the draws.
            escalation = waiting[pick % len(waiting)]
            if answer == "decline":
                self.run(station.ledger.decline(LEAD, escalation, "not this time"))
                self.declined.add(escalation)
                self._sent(station, f"decline:{escalation}")
                return
            taken = self.run(station.ledger.approve(LEAD, escalation))
            if taken.decision is None:
                stats.refused_locally += 1
                return
            self.accepted[taken.decision.id] = LEAD
            stats.decided += 1
            stats.approvals += 1
            self._sent(station, taken.decision.id)

        def _slot(self, data: st.DataObject) -> datetime:
            """A callback time inside the demo matrix's hours (Mon-Sat 08:00-20:00 in the customer's zone)."""
            today = datetime.now(BERLIN).date()
            day = today + timedelta(days=data.draw(st.integers(1, 60), label="day"))
            if day.weekday() == 6:
                day += timedelta(days=1)
            minutes = data.draw(st.integers(9 * 4, 18 * 4), label="quarter") * 15
            return datetime(day.year, day.month, day.day, minutes // 60, minutes % 60, tzinfo=BERLIN)

        @rule(agent=st.sampled_from(STATIONS), faults=st.lists(st.sampled_from(FAULTS), min_size=1, max_size=4))
        def plan_faults(self, agent: str, faults: list[str]) -> None:
            self.step("plan_faults")
            self.stations[agent].faulty.plan.extend(faults)

        @rule(who=st.sampled_from((*STATIONS, "all at once")), what=st.sampled_from(("push", "pull", "once")))
        def sync(self, who: str, what: str) -> None:
            """One workstation syncs, or all at the same moment (the backend decides who spends the budget)."""
            self.step("sync")
            stations = self.stations.values() if who == "all at once" else [self.stations[who]]

            async def together() -> None:
                await asyncio.gather(*(self._sync(station, what) for station in stations))

            self.run(together())

        @precondition(lambda self: self.closings < 1)
        @rule(case=st.integers(0, 3))
        def admin_closes_a_case(self, case: int) -> None:
            """The backend closes a case the workstations still see open: refunds on it are refused there."""
            self.step("admin_closes_a_case")
            self.closings += 1
            case_id = list(self.cases)[case]
            customer, _, disputed = self.cases[case_id]
            self.cases[case_id] = (customer, "closed", disputed)
            self._upload([self._case(case_id, "closed")])

        # --- invariants (local, cheap) -------------------------------------------------

        @invariant()
        def nothing_accepted_is_lost_and_the_outbox_is_sound(self) -> None:
            for agent, station in self.stations.items():
                mine = [d for d, who in self.accepted.items() if who == agent]
                sent = {subject for ident, subject in self.mutations.items() if self.senders[ident] == agent}
                states = dict(rows(station.store, "SELECT id, state FROM decision WHERE customer_id IN (?, ?)",
                                   *self.customers))
                outbox = station.outbox()
                in_outbox = {d for _, d, _ in outbox}
                assert len({ident for ident, _, _ in outbox}) == len(outbox), "an outbox id twice"
                assert len(in_outbox) == len(outbox), "a decision (or decline) in the outbox twice"
                assert not [e for _, _, e in outbox if e and e.startswith(REJECTED)], \
                    f"the backend rejected a mutation: {[e for _, _, e in outbox if e]}"
                assert in_outbox <= sent, "an outbox row this workstation's ledger never wrote"
                for decision in mine:
                    state = states.get(decision)
                    assert state in ("queued", "confirmed", "refused"), f"{decision} is {state!r} in {agent}'s store"
                    if state == "queued":
                        assert decision in in_outbox, f"{decision} is queued but not in the outbox"
                for decision, state in states.items():
                    if state in ("confirmed", "refused"):
                        seen = self.answered.setdefault(decision, state)
                        assert seen == state, f"{decision} was {seen}, now {state} in {agent}'s store"

        # --- the end: drain, then compare with the backend --------------------------------

        def teardown(self) -> None:
            try:
                if hasattr(self, "stations"):
                    self._make_up_what_the_run_lacks()
                    self._drain()
                    self._check_against_the_backend()
            finally:
                self.run(self.stack.aclose())
                self.loop.close()

        def _drain(self) -> None:
            for agent in AGENTS:
                self._spend_the_planned_faults(self.stations[agent])
            for station in self.stations.values():
                stats.faults.update(station.faulty.injected)
                station.faulty.plan.clear()
            for _ in range(3):  # each pushes, then both pull again: both see each other's answers
                for station in self.stations.values():
                    for _ in range(20):
                        try:
                            self.run(station.syncer.once())
                            break
                        except Unreachable:
                            continue
                    else:
                        raise AssertionError(f"{station.agent} could not sync after the faults were cleared")
            for station in self.stations.values():
                assert station.outbox() == [], f"{station.agent}'s outbox is not empty: {station.outbox()}"

        def _check_the_replies(self) -> None:
            """Every reply the backend took went out exactly once (also through restarts: a backend that stops
            finishes the reply in hand); one it refused never did, and its writer's store says why."""
            if not self.replies:
                return
            ids = ", ".join(f"'{r}'" for r in self.replies)
            applied = {subject.removeprefix("reply:") for ident, status in fetch(
                server.database, f"SELECT id, status FROM mutation WHERE id IN "
                                 f"({', '.join(repr(m) for m in self.mutations)})")
                if status == "applied" and (subject := self.mutations[ident]).startswith("reply:")}
            deadline = time.monotonic() + 60
            while True:  # the backend's worker sends within about a second of the push
                states = dict(fetch(server.database, "SELECT interaction_id, state FROM reply_delivery "
                                                     f"WHERE interaction_id IN ({ids})"))
                if set(states) == applied and all(state in ("sent", "failed") for state in states.values()):
                    break
                assert time.monotonic() < deadline, f"replies not delivered within 60 s: {states}"
                time.sleep(0.05)
            assert {r: st for r, st in states.items() if st != "sent"} == {}, "a reply the backend took failed"
            mailed = backend.mailbox.received
            for reply in self.replies:
                times = mailed[f"<{reply}@example.com>"]
                assert times == (1 if reply in applied else 0), f"{reply} reached the SMTP server {times} times"
                stats.replies_sent += reply in applied

        def _spend_the_planned_faults(self, station: Workstation) -> None:
            """Push until every fault this example planned for the agent has hit a push.

            A short example may end before its pushes used up the faults :meth:`schedule` planned,
            and a run that happens to end many examples so would inject some kind too rarely for the
            test to say it was tested: a note gives an empty outbox something to push.
            """
            for _ in range(2 * len(station.faulty.plan)):
                if not station.faulty.plan:
                    return
                if not station.outbox():
                    self._take(station, self.customers[0], Proposal("note", reason="spends a planned fault"), None)
                self.run(self._sync(station, "push"))
            assert not station.faulty.plan, f"{station.agent}'s pushes left faults unspent: {station.faulty.plan}"

        def _check_against_the_backend(self) -> None:
            customers = ", ".join(f"'{c}'" for c in self.customers)
            decisions = {ident: json.loads(body) for ident, body in fetch(
                server.database,
                f"SELECT id, body FROM record WHERE type = 'decision' AND customer_id IN ({customers})")}
            # 1. Every accepted decision exactly once on the backend, applied exactly once, and nothing else.
            assert set(decisions) == set(self.accepted), (
                f"missing on the backend: {set(self.accepted) - set(decisions)}; "
                f"never accepted: {set(decisions) - set(self.accepted)}")
            answers: Counter = Counter()
            for (body,) in fetch(server.database,
                                 f"SELECT body FROM record WHERE type = 'audit' AND customer_id IN ({customers})"):
                audit = json.loads(body)
                decision = decisions.get(audit.get("decision") or "")
                # The backend's answer to a decision is audited under the name of whoever took it (a refused
                # decline is audited on the escalation, under the approver's name: not an answer to it).
                if audit.get("action") in ("confirmed", "refused") and decision and audit["actor"] == decision["agent"]:
                    answers[decision["id"]] += 1
                    assert audit["action"] == decision["state"], (audit, decision)
            assert {d: n for d, n in answers.items() if n != 1} == {}, "a decision applied more than once"
            assert set(answers) == set(self.accepted), f"decisions never applied: {set(self.accepted) - set(answers)}"
            if self.mutations:
                ids = ", ".join(f"'{m}'" for m in self.mutations)
                stored = fetch(server.database, f"SELECT id, status FROM mutation WHERE id IN ({ids})")
                assert sorted(i for i, _ in stored) == sorted(self.mutations), "a mutation not stored once"
                for ident, status in stored:
                    subject = self.mutations[ident]
                    if subject.startswith("reply:"):
                        assert status in ("applied", "refused"), (ident, status)
                        continue
                    if subject.startswith("decline:"):
                        approval = decisions[subject.removeprefix("decline:")].get("approval")
                        assert (status, approval) == ("applied", "declined"), (ident, status, approval)
                        continue
                    state = decisions[subject]["state"]
                    assert (status, state) in (("applied", "confirmed"), ("refused", "refused")), (ident, status, state)
            tagged = fetch(server.database, f"SELECT id FROM mutation WHERE result LIKE '%c-{self.tag}-%'")
            assert sorted(i for (i,) in tagged) == sorted(self.mutations), "a mutation no outbox ever held"
            for escalation in self.declined:
                assert decisions[escalation].get("approval") == "declined", decisions[escalation]
            self._check_the_replies()
            # 2. Each workstation's view equals the backend's.
            server_view = {(d["id"], d["state"], d.get("amount"), d.get("currency"), d.get("refusal"),
                            d.get("approval"), d.get("approval_by"), d.get("approves")) for d in decisions.values()}
            promises = {(p["id"], p["state"]) for p in (json.loads(body) for (body,) in fetch(
                server.database, f"SELECT body FROM record WHERE type = 'promise' AND customer_id IN ({customers})"))}
            for station in self.stations.values():
                local = {(ident, state, amount, currency, json.loads(extra or "{}").get("refusal"), approval,
                          approval_by, approves)
                         for ident, state, amount, currency, extra, approval, approval_by, approves in rows(
                             station.store, "SELECT id, state, amount, currency, extra, approval, approval_by, "
                                            f"approves FROM decision WHERE customer_id IN ({customers})")}
                assert local == server_view, (f"{station.agent}'s decisions differ from the backend's: "
                                              f"only here {local - server_view}, only there {server_view - local}")
                local_promises = set(rows(station.store,
                                          f"SELECT id, state FROM promise WHERE customer_id IN ({customers})"))
                assert local_promises == promises, (
                    f"{station.agent}'s promises differ: only here {local_promises - promises}, "
                    f"only there {promises - local_promises}")
            # 3. The money the backend confirmed keeps the rules. Every confirmed decision of a role was checked
            # against all confirmed money of the customer before it, so the role's own confirmed decisions
            # alone stay within the role's 30-day budget, and each within its maximum.
            confirmed = [d for d in decisions.values()
                         if d["state"] == "confirmed" and d["kind"] in ("refund", "voucher")]
            for customer in self.customers:
                for kind in ("refund", "voucher"):
                    for role in ("agent", "lead"):
                        money = MATRIX.role(role).money_rule(kind)
                        amounts = [Decimal(d["amount"]) for d in confirmed if d["customer"] == customer
                                   and d["kind"] == kind and (d["agent"] == LEAD) == (role == "lead")]
                        assert all(a <= money.max for a in amounts), (customer, kind, role, amounts)
                        assert sum(amounts) <= money.per_customer_30d, (customer, kind, role, amounts)
            for case, (_, _, disputed) in self.cases.items():
                refunded = sum(Decimal(d["amount"]) for d in confirmed
                               if d.get("case") == case and d["kind"] == "refund")
                assert refunded <= Decimal(disputed), (case, refunded, disputed)
            for d in decisions.values():
                if d["state"] == "refused":
                    stats.refusals[d.get("refusal_rule")] += 1
                else:
                    stats.confirmed += 1
            stats.declines += len(self.declined)

    return SyncUnderFaults


@pytest.mark.longest
@pytest.mark.parametrize("shard", range(SHARDS))
def test_every_accepted_decision_arrives_exactly_once_through_faults(backend: Backend, shard: int, capsys) -> None:
    stats = Stats()
    examples, steps, _ = SIZES[backend.kind]
    started = time.monotonic()
    run_state_machine_as_test(machine(backend, stats, shard), settings=settings(
        max_examples=examples, stateful_step_count=steps, deadline=None, database=None,
        phases=(Phase.explicit, Phase.generate),  # shrinking against live processes takes many minutes
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large]))
    seconds = time.monotonic() - started
    with capsys.disabled():
        print(f"\n[{backend.kind}, shard {shard}] {stats.summary(seconds)}")
    least = MINIMUM[backend.kind]
    assert all(stats.faults[kind] >= least for kind in FAULTS), stats.faults
    assert stats.restarts >= least, stats.restarts
    assert stats.restarts_mid_push >= 1, stats.restarts_mid_push
    assert sum(stats.kills.values()) >= least and stats.kills["mid-push"] >= 1, stats.kills
    assert sum(stats.refusals.values()) >= least, stats.refusals
    assert stats.replies_sent >= least, (stats.replies, stats.replies_sent)


async def test_a_repeated_answer_does_not_undo_what_the_pull_brought_since(backend: Backend) -> None:
    """Found by the machine above: an answer lost, the escalation approved meanwhile, then the repeat.

    a-8 escalates; the backend stores it but the answer is lost. The lead pulls it and
    approves it. a-8 pulls (its store now says: approved by a-2), then pushes again and
    gets the result stored when the escalation was first applied (approval: waiting).
    That old answer must not overwrite the approval the pull brought.
    """
    server, tag = backend.server, f"{backend.kind[:2]}-repeat"
    admin = {"Authorization": f"Bearer {backend.tokens['admin']}"}
    answer = httpx.post(f"{server.url}/records", headers=admin, timeout=30, json={"records": [
        {"type": "customer", "id": f"c-{tag}", "name": "Petra Lindner", "timezone": "Europe/Berlin", "owner": "a-8"},
        {"type": "case", "id": f"k-{tag}", "customer": f"c-{tag}", "subject": "Fee", "status": "open",
         "opened_at": "2026-11-20T09:00:00+01:00", "disputed_amount": "120.00", "currency": "EUR"}]})
    assert answer.status_code == 200 and answer.json()["errors"] == [], answer.text
    directory = backend.workdir / tag
    directory.mkdir()
    async with AsyncExitStack() as stack:
        agent, lead = (Workstation(name, directory / f"{name}.sqlite3", backend.tokens[name]) for name in ("a-8", LEAD))
        for station in (agent, lead):
            await station.open(stack, server.url)
        over_the_limit = Proposal("escalate", escalates=Proposal("refund", eur("80.00")))
        taken = await agent.ledger.take("a-8", f"c-{tag}", over_the_limit, case_id=f"k-{tag}", undo_window=QUEUED)
        assert taken.decision is not None
        escalation = taken.decision.id
        agent.faulty.plan.append("drop_response")
        with pytest.raises(Unreachable):
            await agent.syncer.push()  # stored on the backend; the answer is lost
        await lead.syncer.pull()
        approved = await lead.ledger.approve(LEAD, escalation)
        assert approved.decision is not None
        await lead.syncer.once()
        await agent.syncer.pull()  # the approval arrives, but a-8's escalation is still in its outbox
        assert rows(agent.store, "SELECT approval FROM decision WHERE id = ?", escalation) == [("approved",)]
        assert len(agent.outbox()) == 1
        await agent.syncer.once()  # the repeat: the backend answers with the result it stored back then
        assert agent.outbox() == []
        assert rows(agent.store, "SELECT state, approval, approval_by FROM decision WHERE id = ?", escalation) == [
            ("confirmed", "approved", LEAD)]
