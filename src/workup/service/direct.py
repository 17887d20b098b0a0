"""The two consultation endpoints served straight from ASGI, in front of FastAPI's router.

``POST /v1/recommend`` and ``POST /cds-services/{id}`` are the calls an EHR makes under
load. FastAPI's routing, dependency solving and request wrapping cost about as much CPU
as the consultation itself (~0.2 ms a call), so :class:`DirectRoutes` answers these two
itself when the request is the plain case: a known path, ``Content-Type:
application/json``, a body that parses as JSON and validates against the route's model.
It then does what the FastAPI route does, in the same order (verify the caller's JWT,
then the same handler), and returns the same response bytes; a coded error leaves in the
same JSON shape.

Everything else (another content type, malformed JSON, a body the model refuses, an
unknown service, a trailing slash) is handed to FastAPI with the body replayed, so its
error responses stay exactly those of the FastAPI routes. Validation runs before the JWT
check only here, where it has no side effect: a request that falls through is checked
by FastAPI's own dependency once, so a ``jti`` is never recorded twice.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from workup.errors import WorkupError
from workup.service.cds import SERVICES, HookRequest
from workup.service.deps import require_ehr
from workup.service.routes.api import RecommendRequest, recommend_response
from workup.service.routes.hooks import cds_response_for

_JSON = b"application/json"


class DirectRoutes:
    """Pure ASGI middleware answering the hot POST routes without FastAPI's router."""

    def __init__(self, app: Any, fastapi_app: Any, error_response: Any) -> None:
        self.app = app
        self.fastapi_app = fastapi_app  # whose state holds the settings, store and verifier
        self.error_response = error_response  # the app's coded-error response, as its handler gives it

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope.get("root_path"):
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        if path == "/v1/recommend":
            target = None
        elif path.startswith("/cds-services/"):
            target = path[len("/cds-services/"):]
            if target not in SERVICES:
                await self.app(scope, receive, send)
                return
        else:
            await self.app(scope, receive, send)
            return
        content_type = next((v for k, v in scope["headers"] if k == b"content-type"), None)
        if content_type is None or content_type.strip().lower() != _JSON:
            await self.app(scope, receive, send)
            return
        body, rest = await _read_body(receive)
        if rest is not None:  # the client went away mid-body: FastAPI sees what it would have seen
            await self.app(scope, _replay(body, receive, rest), send)
            return
        model = _validated(body, target)
        if model is None:
            await self.app(scope, _replay(body, receive), send)
            return
        await self._answer(scope, receive, send, target, model)

    async def _answer(self, scope, receive, send, target: str | None, model: Any) -> None:
        st = self.fastapi_app.state.workup
        try:
            if not st.settings.dev_insecure:
                await require_ehr(Request(scope, receive))
            if target is None:
                response = await recommend_response(st, model)
            else:
                response = await cds_response_for(st, target, model)
        except WorkupError as e:  # the app's handler for coded errors, as FastAPI would call it
            response = self.error_response(e)
        await response(scope, receive, send)


def _validated(body: bytes, target: str | None) -> Any:
    """The route's request model for ``body``, or None when FastAPI should answer instead."""
    if not body:
        return None
    try:
        # as Starlette's Request.json(), which FastAPI uses (orjson would read an integer
        # beyond 64 bits as a float)
        data = json.loads(body)
    except Exception:  # malformed, not UTF-8/16/32, nested too deep (RecursionError): FastAPI's to answer
        return None
    model = RecommendRequest if target is None else HookRequest
    try:
        return model.model_validate(data, from_attributes=True)
    except Exception:  # ValidationError, or anything unforeseen: FastAPI's to answer
        return None


async def _read_body(receive) -> tuple[bytes, dict | None]:
    """The whole body, and the message that interrupted it (a disconnect) if one did."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), message
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), None


def _replay(body: bytes, receive, then: dict | None = None):
    """A ``receive`` that gives ``body`` again (then ``then``, if the body was cut short)."""
    pending = [{"type": "http.request", "body": body, "more_body": then is not None}]
    if then is not None:
        pending.append(then)

    async def again():
        if pending:
            return pending.pop(0)
        return await receive()

    return again
