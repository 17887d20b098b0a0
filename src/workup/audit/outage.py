"""When the audit log cannot be written: a full disk said plainly, logged once per interval.

A consultation is acknowledged only once it is stored, so a full disk must refuse the
request. It is refused with ``SV503`` (HTTP 503 with ``Retry-After``) naming the audit
log, never as a wall of tracebacks: the first failure in each interval is logged, the
rest are counted and reported with the next log line.
"""

from __future__ import annotations

import errno
import logging
import threading
import time
from typing import Callable

from workup.errors import ServiceError

log = logging.getLogger("workup.audit")

RETRY_AFTER_S = 30  # what a refused caller is told to wait; about the time an operator needs to free space
LOG_INTERVAL_S = 60.0

_FULL_WORDS = ("database or disk is full", "no space left on device", "disk full", "disk i/o error")


class AuditUnavailable(ServiceError):
    """The audit log cannot be written (full disk): the consultation was not stored."""

    code = "SV503"


def is_disk_full(exc: BaseException) -> bool:
    """Whether ``exc`` (or what it wraps) says the disk or database is full."""
    seen: set[int] = set()
    stack: list[BaseException | None] = [exc]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, OSError) and e.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if getattr(e, "sqlstate", None) == "53100" or getattr(e, "pgcode", None) == "53100":  # PostgreSQL disk_full
            return True
        if any(w in str(e).lower() for w in _FULL_WORDS):
            return True
        stack.extend([getattr(e, "orig", None), e.__cause__, e.__context__])
    return False


class OutageLog:
    """Log a repeated failure once per ``interval`` seconds, with how many were not logged."""

    def __init__(self, interval: float = LOG_INTERVAL_S, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval = interval
        self.clock = clock
        self._lock = threading.Lock()
        self._last: float | None = None
        self._quiet = 0

    def failed(self, message: str) -> bool:
        """Record one failure; True when it was logged."""
        with self._lock:
            now = self.clock()
            if self._last is not None and now - self._last < self.interval:
                self._quiet += 1
                return False
            quiet, self._quiet, self._last = self._quiet, 0, now
        suffix = f" ({quiet} more since the last report)" if quiet else ""
        log.error("%s%s", message, suffix)
        return True

    def recovered(self, message: str) -> None:
        """Log that writes work again (once, after a failure)."""
        with self._lock:
            if self._last is None:
                return
            quiet, self._quiet, self._last = self._quiet, 0, None
        log.warning("%s%s", message, f" ({quiet} failures not logged)" if quiet else "")


def unavailable(where: str) -> AuditUnavailable:
    """The coded error for a full disk under the audit log at ``where``."""
    return AuditUnavailable(
        f"the audit log ({where}) cannot be written: the disk is full; the consultation was not stored, try again later",
        details=[{"retry_after_s": RETRY_AFTER_S}],
    )
