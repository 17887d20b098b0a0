"""Service settings, read from the environment (prefix ``WORKUP_``) when asked for.

Nothing is read at import time: :func:`get_settings` builds the settings on first call
and caches them; tests build :class:`Settings` directly and pass them to
:func:`workup.service.app.create_app`.

Trusted EHR issuers are configured as JSON in ``WORKUP_JWT_ISSUERS``::

    {"https://ehr.example.org": {"jwks_url": "https://ehr.example.org/.well-known/jwks.json"},
     "https://sandbox.cds-hooks.org": {"jwks": {"keys": [{"kty": "EC", "kid": "...", ...}]}}}
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from workup.errors import ServiceError


class IssuerConfig(BaseModel):
    """One trusted EHR: where its signing keys come from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    jwks_url: str | None = None  # fetched (and cached) when a token names a kid we do not hold
    jwks: dict | None = None  # static keys: a JWK Set {"keys": [...]}
    jku: list[str] = Field(default_factory=list)  # extra key-set URLs a token may name in its `jku` header


class Settings(BaseSettings):
    """Everything the HTTP service can be configured with."""

    model_config = SettingsConfigDict(env_prefix="WORKUP_", extra="ignore", frozen=True)

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int | None = None  # uvicorn worker processes; default one per CPU (see workup.service.run)
    dev_insecure: bool = False  # turn JWT checks off (development only; announced loudly at start-up)
    public_base_url: str | None = None  # e.g. https://cds.example.org when behind a proxy; the JWT `aud` is built from it
    jwt_issuers: dict[str, IssuerConfig] = Field(default_factory=dict)
    jwt_leeway_seconds: int = 60
    jwt_max_lifetime_seconds: int = 3600  # tokens whose exp - iat is longer are refused
    jwks_refresh_floor_seconds: float = 60.0  # at most one fetch of a JWKS URL per this interval, whatever arrives
    jwks_max_age_seconds: float = 300.0  # older key sets are refreshed in the background while they serve
    audit_path: Path = Path("workup-audit.sqlite3")  # the SQLite audit log (WAL)
    database_url: str | None = None  # e.g. postgresql+psycopg://user@localhost/workup; overrides audit_path
    cors_origins: list[str] = Field(default_factory=lambda: ["*"])
    max_body_bytes: int = 1_000_000
    page_max_text_chars: int = 20_000  # the web page's scenario text (textarea maxlength and server check); past it 422 SV424
    max_inflight_body_bytes: int = 16_000_000  # per worker: bodies being read or answered at once; past it 429 SV429
    mirror_system_actions: bool = False  # also put systemActions under extension.systemActions (CDS Hooks sandbox)
    qcdsm_gcode: str | None = None  # CMS G-code of the qualified CDS mechanism, when there is one
    require_patient_prefetch: bool = True  # 412 when the patient cannot be read and the age is unknown
    log_phi: bool = False  # never log request bodies, tokens or free text unless this is set
    source_label: str = "workup · ACR Appropriateness Criteria"
    source_url: str | None = None
    data_dir: Path | None = None  # where `workup kb import` stored the user's table; default the platform's user data dir

    def audit_url(self) -> str:
        """The SQLAlchemy URL of the audit log."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.audit_path}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings from the environment (built once, then cached).

    Raises:
        ServiceError: SV502 when a ``WORKUP_*`` variable holds a value of the wrong kind
            (each problem named by its variable).
    """
    try:
        return Settings()
    except ValidationError as e:
        details = [{"where": f"WORKUP_{str(err['loc'][0]).upper()}" if err.get("loc") else "WORKUP_*",
                    "message": str(err.get("msg", ""))} for err in e.errors()]
        raise ServiceError(f"invalid service settings ({e.error_count()} problem(s))", code="SV502", details=details) from None
