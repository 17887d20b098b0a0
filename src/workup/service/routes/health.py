"""Liveness and version."""

from __future__ import annotations

from fastapi import APIRouter, Request

from workup import __version__
from workup.service.deps import state

router = APIRouter(tags=["health"])


@router.get("/healthz", summary="Liveness, software and content versions")
def health(request: Request) -> dict:
    st = state(request)
    return {
        "status": "ok",
        "version": __version__,
        "content_version": st.kb.version,
        "auth": "off" if st.settings.dev_insecure else "jwt",
    }
