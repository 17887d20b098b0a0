"""Request dependencies shared by the routes: the app state and the EHR's JWT."""

from __future__ import annotations

import os
import random
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from workup.audit.store import AuditStore
from workup.kb.load import KnowledgeBase
from workup.service.config import Settings
from workup.service.security import TokenVerifier


@dataclass
class State:
    """Everything a request handler needs, built once by ``create_app``."""

    settings: Settings
    kb: KnowledgeBase
    store: AuditStore
    verifier: TokenVerifier
    clock: Callable[[], datetime]
    new_id: Callable[[], str]
    imported: Any = None  # the imported ACR table (workup.imported.pack.ImportedPack), when there is one


_rng: random.Random | None = None


def new_uuid() -> str:
    """A random version-4 UUID (ids come from the boundary, never from the engine).

    Drawn from a generator seeded once per process from the OS: ids must be unique, not
    secret, and ``os.urandom`` costs ~0.4 ms a call on the measured VMs.
    """
    global _rng
    if _rng is None:
        _rng = random.Random(os.urandom(32))
    # what str(uuid.UUID(int=n, version=4)) writes, without building the UUID object
    h = "%032x" % ((_rng.getrandbits(128) & _CLEAR) | _SET)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))  # variant and version bits
_SET = (0x8000 << 48) | (4 << 76)  # RFC 4122 variant, version 4


def _reseed_after_fork() -> None:
    global _rng
    _rng = None  # a forked worker must not repeat its parent's ids


os.register_at_fork(after_in_child=_reseed_after_fork)


def state(request: Request) -> State:
    return request.app.state.workup


def audience(request: Request, settings: Settings) -> str:
    """The URL the EHR must have put in the token's ``aud``: this endpoint, without the query."""
    if settings.public_base_url:
        return settings.public_base_url.rstrip("/") + request.url.path
    return f"{request.url.scheme}://{request.url.netloc}{request.url.path}"


async def require_ehr(request: Request) -> dict[str, Any] | None:
    """Verify the caller's bearer JWT (skipped only in --dev-insecure mode).

    Verification runs in the thread pool: a JWKS fetch on a key-cache miss must not stall
    the event loop.
    """
    st = state(request)
    if st.settings.dev_insecure:
        return None
    return await run_in_threadpool(st.verifier.verify, request.headers.get("authorization"), audience(request, st.settings))
