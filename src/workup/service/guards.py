"""ASGI guards that keep hostile requests from steering the service.

``RelativeRedirects`` rewrites the ``Location`` of every redirect the application sends
to a relative reference. Starlette's trailing-slash redirect builds an absolute URL from
the request's ``Host`` header, so ``Host: evil.example`` would send a clinician's browser
to another site; a relative ``Location`` always stays on the host the browser asked.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit, urlunsplit


def relative_location(location: str) -> str:
    """The path, query and fragment of ``location``, never a scheme or host.

    A path starting with ``//`` would be read as a host by a browser, so it is collapsed
    to a single slash.
    """
    parts = urlsplit(location)
    path = parts.path or "/"
    if not path.startswith("/"):
        path = "/" + path
    while path.startswith("//"):
        path = path[1:]
    return urlunsplit(("", "", path, parts.query, parts.fragment))


class RelativeRedirects:
    """Make the ``Location`` header of every 3xx response relative."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def guarded_send(message) -> None:
            if message["type"] == "http.response.start" and 300 <= message.get("status", 200) < 400:
                headers = []
                for name, value in message.get("headers", ()):
                    if name.lower() == b"location":
                        value = relative_location(value.decode("latin-1")).encode("latin-1")
                    headers.append((name, value))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, guarded_send)
