"""The EHRs' signing keys from their JWKS URLs, fetched off the request path.

A request never waits for the network. Each allow-listed key-set URL has one cache
entry; a token naming a ``kid`` the entry does not hold is refused at once, and at most
one background fetch of that URL is started per refresh floor (default 60 s) whatever
arrives, so a flood of forged tokens with made-up ``kid`` values costs the issuer one
fetch a minute and legitimate calls nothing. A key set older than its maximum age is
refreshed in the background while its keys keep serving; a failed fetch keeps the last
good keys. After a key rotation the first token signed with the new key is refused
(its fetch is then under way) and the EHR's next call is accepted.

Only ``urllib`` through :class:`jwt.PyJWKClient` touches the network: no redirects,
a timeout, and the caller's token never leaves the process.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable

import jwt
from jwt import PyJWK, PyJWKClient

log = logging.getLogger("workup.service.keysets")

Fetch = Callable[[str], Any]  # url -> the parsed JWK Set ({"keys": [...]})


class KeyRefused(Exception):
    """No usable key for this token (the reason is for tests and debugging only)."""


def fetch_jwks(url: str, timeout: float = 5.0) -> Any:
    """GET one JWK Set (no redirects, ``timeout`` seconds) with PyJWT's client."""
    return PyJWKClient(url, cache_jwk_set=False, timeout=timeout).fetch_data()


def usable_key(jwk: Any, alg: str) -> Any:
    """The verification key of one JWK for ``alg``.

    Raises:
        KeyRefused: the JWK is for another algorithm or cannot be read.
    """
    if not isinstance(jwk, dict):
        raise KeyRefused("unusable key")
    if jwk.get("alg") not in (None, alg):
        raise KeyRefused("key is for another algorithm")
    try:
        return PyJWK(jwk, algorithm=alg).key
    except (jwt.PyJWKError, jwt.InvalidKeyError, ValueError, TypeError):
        raise KeyRefused("unusable key") from None


@dataclass
class _Entry:
    keys: dict[str, dict] = field(default_factory=dict)  # kid -> JWK, from the last good fetch
    fetched_at: float | None = None  # clock time of the last good fetch
    attempted_at: float | None = None  # clock time the last fetch started (good or not)
    pending: bool = False


class KeySets:
    """Cached JWK Sets, one entry per URL, refreshed by background threads.

    Args:
        refresh_floor_s: at least this long between two fetches of one URL.
        max_age_s: a key set older than this is refreshed (in the background) when used.
        fetch: url -> JWK Set; default :func:`fetch_jwks`. Tests inject their own.
        clock: monotonic seconds; injected by tests.
    """

    def __init__(
        self,
        refresh_floor_s: float = 60.0,
        max_age_s: float = 300.0,
        fetch: Fetch | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.refresh_floor_s = refresh_floor_s
        self.max_age_s = max_age_s
        self._fetch = fetch or fetch_jwks
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._parsed: dict[tuple[str, str, str], Any] = {}  # (url, kid, alg) -> key, cleared on refresh
        self._cond = threading.Condition()
        self.fetches: Counter[str] = Counter()  # fetches started per URL (for operators and tests)

    def prefetch(self, urls: list[str]) -> None:
        """Start fetching these key sets now (at start-up), so the first token finds its key."""
        with self._cond:
            for url in urls:
                self._maybe_refresh(url, self._entry(url))

    def key(self, url: str, kid: str, alg: str) -> Any:
        """The verification key ``kid`` of the key set at ``url``, never waiting for a fetch.

        Raises:
            KeyRefused: the key set does not hold ``kid`` (a refresh may have been started),
                or the key is for another algorithm or unusable.
        """
        with self._cond:
            entry = self._entry(url)
            jwk = entry.keys.get(kid)
            stale = entry.fetched_at is None or self._clock() - entry.fetched_at >= self.max_age_s
            if jwk is None or stale:
                self._maybe_refresh(url, entry)
            if jwk is None:
                raise KeyRefused("unknown kid")
            parsed = self._parsed.get((url, kid, alg))
        if parsed is None:
            parsed = usable_key(jwk, alg)
            with self._cond:
                self._parsed[(url, kid, alg)] = parsed
        return parsed

    def pending(self, url: str) -> bool:
        """Whether a fetch of ``url`` is under way."""
        with self._cond:
            return url in self._entries and self._entries[url].pending

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Wait until no fetch is under way (tests and start-up checks); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while any(e.pending for e in self._entries.values()):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
            return True

    def _entry(self, url: str) -> _Entry:
        entry = self._entries.get(url)
        if entry is None:
            entry = self._entries[url] = _Entry()
        return entry

    def _maybe_refresh(self, url: str, entry: _Entry) -> None:
        # called with the lock held: one fetch in flight per URL, one start per floor
        if entry.pending:
            return
        now = self._clock()
        if entry.attempted_at is not None and now - entry.attempted_at < self.refresh_floor_s:
            return
        entry.pending = True
        entry.attempted_at = now
        self.fetches[url] += 1
        threading.Thread(target=self._refresh, args=(url,), name="workup-jwks", daemon=True).start()

    def _refresh(self, url: str) -> None:
        keys: dict[str, dict] | None = None
        try:
            data = self._fetch(url)
            raw = data.get("keys") if isinstance(data, dict) else None
            if not isinstance(raw, list):
                raise ValueError("not a JWK Set")
            keys = {k["kid"]: k for k in raw if isinstance(k, dict) and isinstance(k.get("kid"), str) and k["kid"]}
        except Exception as e:  # network, status, JSON: keep the last good keys
            log.warning("JWKS fetch failed for %s (%s); keeping %s", url, type(e).__name__, "the last good keys")
        with self._cond:
            entry = self._entry(url)
            if keys is not None:
                entry.keys = keys
                entry.fetched_at = self._clock()
                for k in [k for k in self._parsed if k[0] == url]:
                    del self._parsed[k]
            entry.pending = False
            self._cond.notify_all()
