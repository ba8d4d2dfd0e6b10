"""The backend's HTTP API (FastAPI).

``create_app(database_url, matrix_text)`` builds the app; its lifespan applies the
database's migrations, opens the engines and starts following the change log's head.
Every endpoint but ``/health`` needs ``Authorization: Bearer TOKEN``. Errors are
``{"detail": "one line"}``, validation errors included (FastAPI's default is a list).
"""


import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

import agentdesk.authority_file
from agentdesk import __version__
from agentdesk.channels.config import ChannelsConfig
from agentdesk.domain.authority import AuthorityMatrix, parse_matrix
from agentdesk.domain.timeline import from_utc_micros
from agentdesk.server import presence, webhooks
from agentdesk.server.api_models import (
    MUTATION_ID_PATTERN,
    BatchResults,
    ChangesPage,
    ErrorDetail,
    Gone,
    Health,
    Me,
    Mutation,
    MutationBatch,
    MutationResult,
    PresenceEntry,
    PresenceReport,
    RecordRefusal,
    RecordsUpload,
    UploadReport,
)
from agentdesk.server.changes import CursorTooOld, head, page_after
from agentdesk.server.connectors import run_connectors
from agentdesk.server.database import Database, database_url
from agentdesk.server.delivery import DeliveryWorker
from agentdesk.server.limits import MAX_SEQ, BodyLimit
from agentdesk.server.live import HeadWatch, event_stream
from agentdesk.server.migrate import upgrade
from agentdesk.server.mutations import DEFAULT_OFFLINE_ALLOWANCE, Applier, MutationForbidden, MutationInvalid
from agentdesk.server.records import store_records
from agentdesk.server.reports import SetAsideReport, log_set_aside
from agentdesk.server.senders import senders_for
from agentdesk.server.sign_in_limit import SignInLimit
from agentdesk.server.tables import record
from agentdesk.server.users import ADMIN, TokenExpired, UnknownToken, User, authenticate

log = logging.getLogger("agentdesk.server")

DEFAULT_PAGE = 1000
MAX_PAGE = 10_000
SNAPSHOT_ORDER = (("agent",), ("customer",), ("case",), ("interaction", "event"), ("decision",), ("promise",),
                  ("audit",), ("article",))
"""Dependency order: a record's references come before it."""
_SNAPSHOT_CHUNK = 1 << 16


def demo_matrix_path() -> Path:
    """The demo company's matrix file, shipped beside ``agentdesk.authority_file``."""
    return Path(agentdesk.authority_file.__file__).with_name("demo") / "authority.toml"


class Backend:
    """What the endpoints share: the database, the matrix, the head watch, the count of failed sign-ins."""

    def __init__(self, url: URL, matrix_text: str, matrix: AuthorityMatrix, keep_changes: int | None,
                 offline_allowance: timedelta = DEFAULT_OFFLINE_ALLOWANCE) -> None:
        self.url = url
        self.matrix_text = matrix_text
        self.matrix = matrix
        self.keep_changes = keep_changes
        self.offline_allowance = offline_allowance
        self.watch = HeadWatch()
        self.sign_ins = SignInLimit()
        self._database: Database | None = None
        self._applier: Applier | None = None
        self._delivery: DeliveryWorker | None = None

    @property
    def delivery(self) -> DeliveryWorker:
        assert self._delivery is not None, "the app has not started"
        return self._delivery

    @property
    def database(self) -> Database:
        assert self._database is not None, "the app has not started"
        return self._database

    @property
    def applier(self) -> Applier:
        assert self._applier is not None, "the app has not started"
        return self._applier

    async def start(self, channels: ChannelsConfig) -> None:
        await upgrade(self.url)
        self._database = Database.create(self.url)
        self._applier = Applier(self._database, self.matrix, self.keep_changes, self.offline_allowance)
        self._delivery = DeliveryWorker(self._database, senders_for(channels), keep_changes=self.keep_changes)
        await self.watch.start(self._database)

    async def stop(self) -> None:
        await self.watch.stop()
        if self._database is not None:
            await self._database.dispose()


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _validation_line(exc: RequestValidationError) -> str:
    errors = exc.errors()
    if not errors:
        return "the request is not valid"
    first = errors[0]
    if first.get("type") == "json_invalid":
        problem = (first.get("ctx") or {}).get("error", "")
        return _one_line(f"the request body is not valid JSON ({problem})" if problem
                         else "the request body is not valid JSON")
    place = ".".join(str(part) for part in first.get("loc", ()))
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return _one_line(f"{place}: {first.get('msg', 'invalid')}{more}")


def _error(status: int, detail: str, headers: dict[str, str] | None = None) -> HTTPException:
    return HTTPException(status, _one_line(detail), headers=headers)


ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorDetail, "description": "No token, a token the backend does not know, or an expired one"},
    429: {"model": ErrorDetail, "description": "Too many unknown tokens from this address: wait Retry-After seconds"},
    403: {"model": ErrorDetail, "description": "The user's role may not do this"},
    422: {"model": ErrorDetail, "description": "The request cannot be read"},
}


def create_app(database: str | Path | URL, matrix_text: str | None = None, *,
               matrix_source: str = "authority.toml", keep_changes: int | None = None,
               offline_allowance: timedelta = DEFAULT_OFFLINE_ALLOWANCE,
               channels: ChannelsConfig | None = None) -> FastAPI:
    """The backend on ``database`` (path, sqlite:/// or postgresql:// URL), checking with ``matrix_text``.

    Without ``matrix_text`` it checks with the demo company's matrix. ``keep_changes``: how
    many of the newest changes the change log keeps (None: all). ``offline_allowance``: how
    long after it was taken a decision is still taken. ``channels``: the channels file's connectors and
    webhooks (None: none).
    """
    url = database if isinstance(database, URL) else database_url(database)
    if matrix_text is None:
        matrix_text, matrix_source = demo_matrix_path().read_text("utf-8"), "demo authority.toml"
    backend = Backend(url, matrix_text, parse_matrix(matrix_text, matrix_source), keep_changes, offline_allowance)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await backend.start(channels or ChannelsConfig())
        connectors = asyncio.create_task(run_connectors(channels or ChannelsConfig(), backend.database, log,
                                                        keep_changes=backend.keep_changes),
                                         name="agentdesk-connectors")
        # Always running: a reply no configured channel can carry fails with that reason instead of waiting.
        delivery = asyncio.create_task(backend.delivery.run(), name="agentdesk-delivery")
        try:
            yield
        finally:
            for task in (connectors, delivery):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await backend.stop()

    app = FastAPI(title="agentdesk backend", version=__version__, lifespan=lifespan,
                  description="The source of truth agentdesk workstations share. "
                              "Authenticate with `Authorization: Bearer TOKEN` (`agentdesk users add`).")
    app.state.backend = backend
    app.state.channels = channels
    _install_error_handlers(app)
    app.add_middleware(BodyLimit)
    bearer = HTTPBearer(auto_error=False, description="A token from `agentdesk users add`")

    async def current_user(request: Request,
                           credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> User:
        address = request.client.host if request.client is not None else "unknown"
        wait = backend.sign_ins.retry_after(address)
        if wait is not None:
            raise _error(429, f"too many unknown tokens from {address}; try again in {wait} s",
                         {"Retry-After": str(wait)})
        if credentials is None or not credentials.credentials:
            raise _error(401, "no token: send Authorization: Bearer TOKEN", {"WWW-Authenticate": "Bearer"})
        try:
            return await authenticate(backend.database, credentials.credentials)
        except UnknownToken:
            backend.sign_ins.failed(address)
            raise _error(401, "unknown token (never issued, replaced, or its user removed)",
                         {"WWW-Authenticate": "Bearer"}) from None
        except TokenExpired as exc:
            raise _error(401, str(exc), {"WWW-Authenticate": "Bearer"}) from None

    async def refuse(request: Request, user: User, reason: str) -> HTTPException:
        """403, kept in ``access_refusal`` and said in the server log."""
        await presence.refused_access(backend.database, user.name, user.role, f"{request.method} {request.url.path}",
                                      reason)
        log.warning("refused %s %s to %s (%s): %s", request.method, request.url.path, user.name, user.role, reason)
        return _error(403, reason)

    async def admin(request: Request, user: Annotated[User, Depends(current_user)]) -> User:
        if user.role != ADMIN:
            raise await refuse(request, user, f"only an admin uploads records; {user.name} is {user.role}")
        return user

    async def decider(request: Request, user: Annotated[User, Depends(current_user)]) -> User:
        """A user who may write; every refusal is kept in ``access_refusal``."""
        role = backend.matrix.role(user.role)
        if user.role == ADMIN:
            reason = "an admin decides nothing"
        elif role is None:
            reason = f"role {user.role!r} is not in the backend's authority matrix"
        elif role.read_only:
            reason = f"the {role.name} role is read-only and decides nothing"
        else:
            return user
        raise await refuse(request, user, reason)

    Reader = Annotated[User, Depends(current_user)]
    app.include_router(webhooks.router)

    @app.put("/presence", status_code=204, responses=ERRORS, tags=["presence"],
             summary="Say which customer this workstation has open, and whether its agent is typing a reply")
    async def put_presence(body: PresenceReport, user: Annotated[User, Depends(decider)]) -> Response:
        await presence.report(backend.database, user.name, body.customer, body.typing)
        return Response(status_code=204)

    @app.delete("/presence", status_code=204, responses=ERRORS, tags=["presence"],
                summary="This workstation closes: its mark goes at once")
    async def delete_presence(user: Annotated[User, Depends(decider)]) -> Response:
        await presence.leave(backend.database, user.name)
        return Response(status_code=204)

    @app.get("/presence", response_model=list[PresenceEntry], responses=ERRORS, tags=["presence"],
             summary="Who has which customer open now (marks expire 30 s after a workstation goes quiet)")
    async def get_presence(_user: Reader) -> list[PresenceEntry]:
        return [PresenceEntry(user=p.user, name=p.name, customer=p.customer, typing=p.typing,
                              seen=from_utc_micros(p.seen_us)) for p in await presence.present(backend.database)]

    @app.get("/health", response_model=Health, tags=["service"], summary="Is the backend up; its newest seq")
    async def health() -> Health:
        async with backend.database.read() as connection:
            last, _ = await head(connection)
        return Health(status="ok", cursor=last)

    @app.get("/me", response_model=Me, responses=ERRORS, tags=["users"], summary="Who the token belongs to")
    async def me(user: Reader) -> Me:
        expires = user.expires_at_us
        return Me(name=user.name, role=user.role, expires_at=None if expires is None else from_utc_micros(expires))

    @app.get("/authority", response_class=PlainTextResponse, responses={
        **ERRORS, 200: {"content": {"text/plain": {"schema": {"type": "string"}}},
                        "description": "The authority matrix (TOML) the backend checks decisions with"}},
        tags=["decisions"], summary="The authority matrix")
    async def authority(_user: Reader) -> PlainTextResponse:
        return PlainTextResponse(backend.matrix_text, media_type="text/plain; charset=utf-8")

    @app.post("/records", response_model=UploadReport, responses=ERRORS, tags=["records"],
              summary="Upload interchange records (admin); idempotent by (type, id)")
    async def upload(body: RecordsUpload, _user: Annotated[User, Depends(admin)]) -> UploadReport:
        report = await store_records(backend.database, body.records, keep_changes=backend.keep_changes)
        if report.cursor is not None:
            backend.watch.advance(report.cursor)
        return UploadReport(changed=report.changed, unchanged=report.unchanged,
                            errors=[RecordRefusal(index=i, reason=r) for i, r in sorted(report.errors)])

    mutation_id_param = PathParam(min_length=1, max_length=200, pattern=MUTATION_ID_PATTERN,
                                  description="The client's id of this mutation (e.g. m-01J9…)")

    @app.put("/mutations/{mutation_id}", response_model=MutationResult, responses=ERRORS, tags=["decisions"],
             summary="Apply a decision, approval, decline, logged contact or reply exactly once")
    async def put_mutation(mutation_id: Annotated[str, mutation_id_param], body: Mutation,
                           user: Annotated[User, Depends(decider)]) -> dict[str, Any]:
        try:
            result = await backend.applier.apply(user, mutation_id, body.model_dump(mode="json"))
        except MutationForbidden as exc:
            raise _error(403, str(exc)) from None
        except MutationInvalid as exc:
            raise _error(422, str(exc)) from None
        applied([(body, result)])
        return result

    @app.post("/mutations/batch", response_model=BatchResults, responses=ERRORS, tags=["decisions"],
              summary="Apply a workstation's mutations in order, each exactly once, in one transaction")
    async def post_mutations(batch: MutationBatch, user: Annotated[User, Depends(decider)]) -> dict[str, Any]:
        """Each mutation is checked as if it came alone after the ones before it. One that cannot be read
        or that this user may not send gets the 422 or 403 it would get alone, and the rest go on."""
        answers = await backend.applier.apply_many(
            user, [(pushed.id, pushed.body.model_dump(mode="json")) for pushed in batch.mutations])
        results: list[dict[str, Any]] = []
        for pushed, answer in zip(batch.mutations, answers, strict=True):
            if isinstance(answer, Exception):
                status = 403 if isinstance(answer, MutationForbidden) else 422
                results.append({"id": pushed.id, "status": status, "detail": _one_line(str(answer))})
            else:
                results.append(answer)
        applied([(pushed.body, answer) for pushed, answer in zip(batch.mutations, answers, strict=True)
                 if not isinstance(answer, Exception)])
        return {"results": results}

    def applied(answered: list[tuple[Any, dict[str, Any]]]) -> None:
        """Tell the live stream of the new head, and the delivery worker of replies to send."""
        if answered:
            backend.watch.advance(max(result["cursor"] for _, result in answered))
        if any(body.kind == "reply" and result["status"] == "applied" for body, result in answered):
            backend.delivery.nudge()

    @app.get("/mutations/{mutation_id}", response_model=MutationResult,
             responses={**ERRORS, 404: {"model": ErrorDetail, "description": "No mutation with this id"}},
             tags=["decisions"], summary="The stored result of a mutation")
    async def get_mutation(mutation_id: Annotated[str, mutation_id_param], _user: Reader) -> dict[str, Any]:
        result = await backend.applier.stored_result(mutation_id)
        if result is None:
            raise _error(404, f"no mutation {mutation_id}")
        return result

    @app.post("/reports/set-aside", status_code=204, responses=ERRORS, tags=["sync"],
              summary="Tell the backend's log of changes a workstation could not apply (logged, never stored)")
    async def report_set_aside(body: SetAsideReport, user: Reader) -> Response:
        log_set_aside(user.name, body)
        return Response(status_code=204)

    @app.get("/changes", response_model=ChangesPage, tags=["sync"],
             responses={**ERRORS, 410: {"model": Gone, "description": "The cursor is older than the change log "
                                                                        "keeps: fetch /snapshot"}},
             summary="Changes after a cursor, oldest first")
    async def changes(_user: Reader, after: Annotated[int, Query(ge=0, le=MAX_SEQ)] = 0,
                      limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = DEFAULT_PAGE) -> Response:
        async with backend.database.read() as connection:
            try:
                page = await page_after(connection, after, limit)
            except CursorTooOld as exc:
                return JSONResponse({"detail": str(exc), "refetch": True}, status_code=410)
        # The bodies are stored as canonical JSON already: splice them in rather than parse and re-encode.
        items = ",".join(f'{{"seq":{seq},"record":{body}}}' for seq, body in page.changes)
        more = "true" if page.cursor < page.head else "false"
        text = f'{{"changes":[{items}],"cursor":{page.cursor},"head":{page.head},"more":{more}}}'
        return Response(text.encode("utf-8"), media_type="application/json")

    @app.get("/snapshot", tags=["sync"], responses={
        **ERRORS, 200: {"content": {"application/x-ndjson": {"schema": {"type": "string"}}},
                        "description": 'First line {"cursor": N}, then every record, one JSON object a line, '
                                       "agents, customers, cases, timeline, decisions, promises, audit"}},
             summary="Every record, read in one consistent snapshot")
    async def snapshot(_user: Reader) -> StreamingResponse:
        return StreamingResponse(_snapshot_lines(backend.database), media_type="application/x-ndjson")

    @app.get("/events", tags=["sync"], responses={
        **ERRORS, 200: {"content": {"text/event-stream": {"schema": {"type": "string"}}},
                        "description": 'Server-sent events: "id: <head>", "event: change", '
                                       'data {"cursor": <head>} each time the head moves; ": keepalive" every 5 s'}},
             summary="Live stream of the change log's head")
    async def events(_user: Reader,
                     last_event_id: Annotated[int | None, Header(alias="Last-Event-ID", ge=0, le=MAX_SEQ)] = None,
                     after: Annotated[int | None, Query(ge=0, le=MAX_SEQ, description="Same as Last-Event-ID")] = None,
                     ) -> Response:
        start = last_event_id if last_event_id is not None else after
        # Read the head before the response starts: a write right after the client sees the
        # headers must come out as an event, not be folded into the starting cursor.
        known = backend.watch.head
        return event_stream(backend.watch, start, known)

    return app


async def _snapshot_lines(database: Database) -> AsyncIterator[bytes]:
    async with database.read(snapshot=True) as connection:
        last, _ = await head(connection)
        chunk = [json.dumps({"cursor": last}) + "\n"]
        size = 0
        for types in SNAPSHOT_ORDER:
            rows = await connection.stream(select(record.c.body).where(record.c.type.in_(types))
                                           .order_by(record.c.type, record.c.id))
            async for (body,) in rows:
                chunk.append(body)
                chunk.append("\n")
                size += len(body)
                if size >= _SNAPSHOT_CHUNK:
                    yield "".join(chunk).encode("utf-8")
                    chunk, size = [], 0
        yield "".join(chunk).encode("utf-8")


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse({"detail": _validation_line(exc)}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"detail": _one_line(str(exc.detail))}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(OperationalError)
    async def database_down(_request: Request, exc: OperationalError) -> JSONResponse:
        log.error("database unavailable: %s", type(exc.orig).__name__ if exc.orig is not None else "?")
        return JSONResponse({"detail": "the database is unavailable; try again"}, status_code=503)

    @app.exception_handler(DBAPIError)
    async def database_error(_request: Request, exc: DBAPIError) -> JSONResponse:
        log.error("database error: %s", type(exc.orig).__name__ if exc.orig is not None else "?")
        return JSONResponse({"detail": "the database failed this request; try again"}, status_code=503)

    @app.exception_handler(Exception)
    async def failed(_request: Request, exc: Exception) -> JSONResponse:
        log.error("request failed: %s", type(exc).__name__, exc_info=exc)
        return JSONResponse({"detail": f"internal error ({type(exc).__name__})"}, status_code=500)


__all__ = ["Backend", "create_app", "demo_matrix_path"]
