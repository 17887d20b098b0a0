"""``/docs`` served offline: Swagger UI from the ``swagger-ui-bundle`` package.

FastAPI's default ``/docs`` and ``/redoc`` load their scripts from a CDN, so on a
hospital network without internet they are blank pages. Here ``/docs`` is built with the
Swagger UI files the ``swagger-ui-bundle`` wheel carries, served under ``/docs-assets``;
``/redoc`` (no bundled copy) is switched off in :func:`workup.service.app.create_app`.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

ASSETS = "/docs-assets"


def mount_docs(app: FastAPI) -> None:
    """Serve ``/docs`` and its assets from the installed Swagger UI bundle."""
    import swagger_ui_bundle

    app.mount(ASSETS, StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def _docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title=f"{app.title} — API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
        )
