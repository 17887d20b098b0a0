"""Running the service under uvicorn (``workup serve``)."""

from __future__ import annotations

import sys

from workup.service.app import INSECURE_BANNER, create_app
from workup.service.config import Settings, get_settings


def settings_for(host: str | None = None, port: int | None = None, dev_insecure: bool = False) -> Settings:
    """The environment's settings with the command-line overrides applied."""
    base = get_settings()
    update: dict = {}
    if host is not None:
        update["host"] = host
    if port is not None:
        update["port"] = port
    if dev_insecure:
        update["dev_insecure"] = True
    return base.model_copy(update=update) if update else base


def serve(host: str | None = None, port: int | None = None, dev_insecure: bool = False) -> None:
    """Start the HTTP service in this process (one worker: the jti replay cache is per process)."""
    import uvicorn

    settings = settings_for(host, port, dev_insecure)
    if settings.dev_insecure:
        sys.stderr.write("\n" + "!" * 100 + "\n" + INSECURE_BANNER + "\n" + "!" * 100 + "\n\n")
        sys.stderr.flush()
    elif not settings.jwt_issuers:
        sys.stderr.write("workup serve: no trusted issuers (WORKUP_JWT_ISSUERS); every CDS Hooks call will get 401\n")
    app = create_app(settings)
    uvicorn.run(app, host=settings.host, port=settings.port, access_log=settings.log_phi, log_level="info")
