"""Verifying the EHR's JWT on CDS Hooks calls (CDS Hooks 2.0, "Trusting CDS Clients").

Only ES384 and RS384 signatures are accepted (``none`` and HMAC never); the issuer must
be on the allow-list with its keys (static JWKS, or a JWKS URL fetched in the background and
cached, see :mod:`workup.service.keysets`: no request waits for a fetch); the
audience must be the exact endpoint URL; ``exp``, ``iat`` and ``jti`` are required and a
``jti`` seen before is refused. The service keeps the replay log in the audit database,
shared by every worker process and kept across restarts; tokens issued before that log
began are refused, since they may have been used before anything was recording them. Any failure is a bare 401: the reason
is never sent back and never logged with the token.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable, Protocol

import jwt

from workup.errors import ServiceError
from workup.service.config import IssuerConfig, Settings
from workup.service.keysets import KeyRefused, KeySets, usable_key

ALGORITHMS = ("ES384", "RS384")
log = logging.getLogger("workup.service.security")


class Unauthorized(ServiceError):
    """The request carries no acceptable bearer token (HTTP 401, reason withheld)."""

    code = "SV401"

    def __init__(self, reason: str = "") -> None:
        super().__init__("unauthorized")
        self.reason = reason  # for debugging in tests; never sent to the client


class ReplayCache:
    """Remembers (issuer, jti) until the token expires, so a token cannot be used twice."""

    def __init__(self, max_entries: int = 100_000, clock: Callable[[], float] = time.time) -> None:
        self._seen: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()
        self._max = max_entries
        self._clock = clock

    def check_and_add(self, iss: str, jti: str, exp: float) -> bool:
        """Record the token; False when it was seen before and has not expired."""
        now = self._clock()
        with self._lock:
            seen = self._seen.get((iss, jti))
            if seen is not None and seen >= now:
                return False
            if len(self._seen) >= self._max:
                for k in [k for k, e in self._seen.items() if e < now]:
                    del self._seen[k]
                if len(self._seen) >= self._max:  # still full of live tokens: refuse rather than forget
                    return False
            self._seen[(iss, jti)] = exp
            return True


class ReplayGuard(Protocol):
    """Where seen tokens are recorded: :class:`ReplayCache` (one process) or the audit store (shared)."""

    def check_and_add(self, iss: str, jti: str, exp: float) -> bool: ...


class StoreReplay:
    """The replay log in the audit database, shared by every worker process (see ``AuditStore``)."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def check_and_add(self, iss: str, jti: str, exp: float) -> bool:
        """Record the token; False when it was seen before and has not expired."""
        return self.store.check_and_add_token(iss, jti, exp)


class TokenVerifier:
    """Checks bearer tokens against the allow-listed issuers in the settings.

    Args:
        settings: the service settings (issuers, leeway, maximum lifetime).
        replay: where seen ``jti`` values are kept; default an in-memory cache of this process.
        not_before: tokens issued before this time (epoch seconds, less the leeway) are
            refused because the replay record may not cover them; default now, which is
            right for the in-memory cache. The service passes the time its shared replay
            log began.
        keysets: the cache of keys from JWKS URLs; default one with the settings' refresh
            floor and maximum age. Call :meth:`prefetch` to fetch them before the first call.
    """

    def __init__(
        self,
        settings: Settings,
        replay: ReplayGuard | None = None,
        not_before: float | None = None,
        keysets: KeySets | None = None,
    ) -> None:
        self.issuers: dict[str, IssuerConfig] = dict(settings.jwt_issuers)
        self.leeway = settings.jwt_leeway_seconds
        self.max_lifetime = settings.jwt_max_lifetime_seconds
        self.replay: ReplayGuard = replay if replay is not None else ReplayCache()
        # A token issued before the replay record began may have been used already, so it
        # is refused (EHRs sign a token per call).
        self.started_at = time.time() if not_before is None else not_before
        self.keysets = keysets or KeySets(
            refresh_floor_s=settings.jwks_refresh_floor_seconds, max_age_s=settings.jwks_max_age_seconds
        )

    def prefetch(self) -> None:
        """Start fetching every issuer's JWKS URL in the background (at start-up)."""
        self.keysets.prefetch(sorted({u for i in self.issuers.values() for u in [i.jwks_url, *i.jku] if u}))

    def _key(self, issuer: IssuerConfig, header: dict[str, Any], alg: str) -> Any:
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthorized("no kid")
        jku = header.get("jku")
        allowed_urls = [u for u in [issuer.jwks_url, *issuer.jku] if u]
        if jku is not None and jku not in allowed_urls:
            raise Unauthorized("jku not allow-listed")
        if issuer.jwks and jku is None:
            for k in issuer.jwks.get("keys", []):
                if isinstance(k, dict) and k.get("kid") == kid:
                    try:
                        return usable_key(k, alg)
                    except KeyRefused as e:
                        raise Unauthorized(str(e)) from None
        url = jku or issuer.jwks_url
        if url is None:
            raise Unauthorized("unknown kid")
        try:
            return self.keysets.key(url, kid, alg)  # never waits: an unknown kid is refused at once
        except KeyRefused as e:
            raise Unauthorized(str(e)) from None

    def verify(self, authorization: str | None, audience: str) -> dict[str, Any]:
        """Return the verified claims of ``Authorization: Bearer <JWT>``.

        Raises:
            Unauthorized: on any problem with the token.
        """
        if not authorization:
            raise Unauthorized("no token")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("not a bearer token")
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError:
            raise Unauthorized("malformed") from None
        alg = header.get("alg")
        if alg not in ALGORITHMS:
            raise Unauthorized("algorithm not allowed")
        typ = header.get("typ")
        if typ is not None and str(typ).upper() != "JWT":
            raise Unauthorized("typ")
        iss = unverified.get("iss")
        issuer = self.issuers.get(iss) if isinstance(iss, str) else None
        if issuer is None:
            raise Unauthorized("issuer not allow-listed")
        key = self._key(issuer, header, alg)
        try:
            claims = jwt.decode(
                token,
                key=key,
                algorithms=[alg],
                audience=audience,
                issuer=iss,
                leeway=self.leeway,
                options={"require": ["iss", "aud", "exp", "iat", "jti"]},
            )
        except jwt.PyJWTError as e:
            raise Unauthorized(type(e).__name__) from None
        exp, iat, jti = claims["exp"], claims["iat"], claims["jti"]
        if not isinstance(jti, str) or not jti:
            raise Unauthorized("jti")
        if exp - iat > self.max_lifetime:
            raise Unauthorized("lifetime too long")
        if iat < self.started_at - self.leeway:
            raise Unauthorized("issued before the replay log began")
        if not self.replay.check_and_add(iss, jti, float(exp) + self.leeway):
            raise Unauthorized("replayed jti")
        return claims
