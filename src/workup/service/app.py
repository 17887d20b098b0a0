"""The FastAPI application: ``create_app(settings)``.

Nothing happens at import time. ``create_app`` loads the knowledge pack, opens the audit
log and wires the routes; every error leaves as one JSON shape
(``{"error": {"code", "message", "details"?}}``) and never as a stack trace.
"""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from typing import Any, Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from workup import __version__
from workup.errors import EvaluationError, IntakeError, KnowledgeError, ServiceError, WorkupError
from workup.service.config import Settings, get_settings
from workup.service.deps import State, new_uuid
from workup.service.direct import DirectRoutes
from workup.service.guards import RelativeRedirects

log = logging.getLogger("workup.service")

_STATUS = {"SV401": 401, "SV404": 404, "SV405": 405, "SV412": 412, "SV413": 413, "SV424": 422, "SV429": 429, "SV500": 500, "SV501": 503, "SV503": 503}
INSECURE_BANNER = (
    "!!! workup serve --dev-insecure: JWT verification is OFF. Any caller can reach the CDS services "
    "and the API. Never use this outside local development. !!!"
)


def status_for(err: WorkupError) -> int:
    """The HTTP status of a coded error."""
    if err.code in _STATUS:
        return _STATUS[err.code]
    if isinstance(err, ServiceError):
        return 400
    if isinstance(err, (IntakeError, EvaluationError)):
        return 422
    if isinstance(err, KnowledgeError):
        return 500
    return 400


def error_response(err: WorkupError, status: int | None = None) -> JSONResponse:
    """The one error shape, with a bare 401 (no reason) for authentication failures."""
    status = status or status_for(err)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if status == 429:  # too many request bodies in flight on this worker: retry shortly
        headers = {"Retry-After": "1"}
    if status == 503:  # the audit log cannot be opened or written: worth retrying once space returns
        from workup.audit.outage import RETRY_AFTER_S

        headers = {"Retry-After": str(RETRY_AFTER_S)}
    body = {"error": {"code": err.code, "message": "unauthorized"}} if status == 401 else err.to_dict()
    return JSONResponse(body, status_code=status, headers=headers)


class BodyTooLarge(ServiceError):
    code = "SV413"


class BodiesInFlight(ServiceError):
    code = "SV429"


class BodyLimit:
    """Refuse request bodies over ``max_bytes`` (declared or streamed) with 413, and bound
    the bytes of the bodies held at once by this worker to ``max_inflight_bytes``.

    Each request reserves its declared ``Content-Length`` (or ``max_bytes`` when it has
    none) before a byte is read and gives it back when its answer has been sent; a request
    whose reservation would pass the bound is refused at once with 429 ``SV429`` and
    ``Retry-After: 1``, unread, so hostile slow bodies cannot pin the worker's memory.
    """

    def __init__(self, app: Any, max_bytes: int, max_inflight_bytes: int | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_inflight_bytes = max(max_inflight_bytes or 0, max_bytes)
        self.inflight = 0

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = None
                too_big = declared is not None and declared > self.max_bytes
                if too_big:
                    resp = error_response(BodyTooLarge(f"the request body is over {self.max_bytes} bytes"))
                    await resp(scope, receive, send)
                    return
                break
        else:
            declared = None
        if declared == 0 or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self._read(scope, receive, send)
            return
        reserve = self.max_bytes if declared is None else declared
        if self.inflight + reserve > self.max_inflight_bytes:
            resp = error_response(BodiesInFlight(
                f"too many request bodies in flight on this worker (over {self.max_inflight_bytes} bytes); retry shortly"))
            await resp(scope, receive, send)
            return
        self.inflight += reserve
        try:
            await self._read(scope, receive, send)
        finally:
            self.inflight -= reserve

    async def _read(self, scope, receive, send) -> None:
        # Read the body here (it is small by construction) so an oversized stream is refused
        # with 413 before any handler sees it, then replay it to the application.
        chunks: list[bytes] = []
        seen = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break
            body = message.get("body", b"")
            seen += len(body)
            if seen > self.max_bytes:
                resp = error_response(BodyTooLarge(f"the request body is over {self.max_bytes} bytes"))
                await resp(scope, receive, send)
                return
            chunks.append(body)
            more = message.get("more_body", False)
        replayed = False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


def _validation_details(exc: RequestValidationError) -> list[dict]:
    out = []
    for e in exc.errors()[:20]:  # locations and messages only: input values may be PHI
        out.append({"where": ".".join(str(p) for p in e.get("loc", ())), "message": str(e.get("msg", ""))})
    return out


def create_app(
    settings: Settings | None = None,
    *,
    kb=None,
    clock: Callable[[], datetime] | None = None,
    new_id: Callable[[], str] | None = None,
) -> FastAPI:
    """Build the application.

    Args:
        settings: service settings (default: :func:`~workup.service.config.get_settings`).
        kb: a knowledge base (default: the built-in pack).
        clock: returns the current time (UTC); injected by tests.
        new_id: makes consultation and card ids; injected by tests.
    """
    from workup.audit.store import AuditStore
    from workup.kb import load
    from workup.service.security import StoreReplay, TokenVerifier

    settings = settings or get_settings()
    if settings.dev_insecure:
        log.warning(INSECURE_BANNER)
    kb = kb or load()
    app = FastAPI(
        title="workup",
        version=__version__,
        description="Spine imaging appropriateness (ACR Appropriateness Criteria) as a JSON API and CDS Hooks 2.0 services.",
        docs_url=None,  # served offline by workup.service.apidocs (the default loads a CDN)
        redoc_url=None,
    )
    from workup.service.apidocs import mount_docs

    mount_docs(app)
    store = AuditStore(settings.audit_url())
    app.state.workup = State(
        settings=settings,
        kb=kb,
        store=store,
        # the jti replay log lives in the audit database: shared by every worker, kept across restarts
        verifier=TokenVerifier(settings, replay=StoreReplay(store), not_before=store.replay_since),
        clock=clock or (lambda: datetime.now(timezone.utc)),
        new_id=new_id or new_uuid,
        imported=_imported(settings),
    )
    if not settings.dev_insecure:
        app.state.workup.verifier.prefetch()  # keys fetched in the background, never on a request

    @app.exception_handler(WorkupError)
    async def _workup_error(_request: Request, exc: WorkupError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        err = ServiceError("the request is not valid", code="SV400", details=_validation_details(exc))
        return error_response(err, 422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else "request refused"
        resp = error_response(ServiceError(message, code=f"SV{exc.status_code}"), exc.status_code)
        for k, v in (exc.headers or {}).items():
            resp.headers[k] = v
        return resp

    @app.exception_handler(Exception)
    async def _crash(_request: Request, exc: Exception) -> JSONResponse:
        log.error("internal error: %s", type(exc).__name__, exc_info=settings.log_phi)
        return error_response(ServiceError("internal error", code="SV500"), 500)

    from workup.service import web
    from workup.service.routes import api, health, hooks

    app.include_router(health.router)
    app.include_router(api.router)
    app.include_router(hooks.router)
    app.include_router(web.router)
    # innermost: the consultation routes, answered without FastAPI's router (see direct.py)
    app.add_middleware(DirectRoutes, fastapi_app=app, error_response=error_response)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST", "OPTIONS"],
        allow_headers=["Authorization", "Content-Type"],
        expose_headers=["X-Workup-Consult-Id"],
        allow_credentials=False,
    )
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, max_inflight_bytes=settings.max_inflight_body_bytes)
    # outermost: no redirect may carry a host taken from the request (Host-header injection)
    app.add_middleware(RelativeRedirects)
    return app


def _imported(settings: Settings):
    """The imported ACR table in the settings' data directory, or None."""
    from workup.imported.pack import load_imported

    return load_imported(settings.data_dir)
