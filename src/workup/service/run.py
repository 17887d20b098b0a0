"""Running the service under uvicorn (``workup serve``).

``workup serve`` starts one uvicorn worker process per CPU by default (``--workers`` or
``WORKUP_WORKERS`` to choose). Several workers are safe because everything they share
lives in the audit database: the consultations and the JWT replay log (a ``jti`` seen by
one worker is refused by every other one, also after a restart). Each worker builds its
own app from the ``WORKUP_*`` environment (:func:`worker_app`); the command-line
overrides are passed to the workers through that environment.
"""

from __future__ import annotations

import gc
import os
import socket
import sys
import threading
import time

from workup.service.app import INSECURE_BANNER, create_app
from workup.service.config import Settings, get_settings
from workup.service.protocol import PROTOCOL

MAX_DEFAULT_WORKERS = 8
SWITCH_INTERVAL = 0.0005  # seconds; see worker_app
GC_THRESHOLDS = (50_000, 20, 100)  # see worker_app


def settings_for(
    host: str | None = None, port: int | None = None, dev_insecure: bool = False, workers: int | None = None
) -> Settings:
    """The environment's settings with the command-line overrides applied."""
    base = get_settings()
    update: dict = {}
    if host is not None:
        update["host"] = host
    if port is not None:
        update["port"] = port
    if dev_insecure:
        update["dev_insecure"] = True
    if workers is not None:
        update["workers"] = workers
    return base.model_copy(update=update) if update else base


def available_cpus() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def worker_count(settings: Settings) -> int:
    """How many worker processes to run: the setting, else one per CPU (at most 8).

    An in-memory SQLite audit log cannot be shared between processes, so it gets one.
    """
    if settings.audit_url().rstrip("/").endswith(":memory:") or settings.audit_url() == "sqlite://":
        return 1
    if settings.workers is not None:
        return max(1, settings.workers)
    return min(available_cpus(), MAX_DEFAULT_WORKERS)


def _exit_with_parent(parent: int) -> None:
    """Stop this worker when the process that started it is gone (e.g. killed with SIGKILL)."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(1)

    threading.Thread(target=watch, name="workup-parent-watch", daemon=True).start()


WARM_UP = {"text": "Warm-up: 40-year-old with two weeks of low back pain, no trauma.", "facts": {}}


def warm_up(kb) -> None:
    """Read one made-up scenario so the language pipeline is built before the first request."""
    from datetime import date

    from workup.consult import consult_payload

    consult_payload(WARM_UP, kb, date(2026, 1, 1))


def _warm_up_imported(st) -> None:
    """Build the imported table's router before the first request (when a table is imported)."""
    if st.imported is None:
        return
    from workup.imported.route import router
    from workup.imported.table import topic_key

    router(st.imported, frozenset(topic_key(t.source.title) for t in st.kb.topics.values()))


def worker_app():
    """The app of one uvicorn worker, from the environment (``uvicorn --factory``)."""
    app = create_app(get_settings())
    warm_up(app.state.workup.kb)
    _warm_up_imported(app.state.workup)
    # Everything built so far (knowledge pack, language pipelines, app) lives as long as
    # the process: keep it out of the garbage collector's scans, which otherwise walk it
    # again and again under load.
    gc.collect()
    gc.freeze()
    # The audit writer thread takes the GIL back from the busy event loop several times per
    # batch (lock, begin, insert, commit); at the default 5 ms switch interval each of those
    # can wait 5 ms while every request of the batch waits on the commit.
    sys.setswitchinterval(SWITCH_INTERVAL)
    # With 100 requests in flight, every young collection walks their live documents and
    # promotes them, to be walked again in the older generations: at the default threshold
    # (700) that was ~0.07 ms of CPU per request. The service makes almost no reference
    # cycles, so collections are rare at 50,000 and no longer (4-7 ms at most either way).
    gc.set_threshold(*GC_THRESHOLDS)
    if os.environ.get("WORKUP_SUPERVISOR_PID"):
        _exit_with_parent(int(os.environ["WORKUP_SUPERVISOR_PID"]))
    return app


def serve(host: str | None = None, port: int | None = None, dev_insecure: bool = False, workers: int | None = None) -> None:
    """Start the HTTP service: uvicorn with :func:`worker_count` worker processes."""
    import uvicorn

    settings = settings_for(host, port, dev_insecure, workers)
    _check_audit_log(settings)
    if settings.dev_insecure:
        sys.stderr.write("\n" + "!" * 100 + "\n" + INSECURE_BANNER + "\n" + "!" * 100 + "\n\n")
        sys.stderr.flush()
    elif not settings.jwt_issuers:
        sys.stderr.write("workup serve: no trusted issuers (WORKUP_JWT_ISSUERS); every CDS Hooks call will get 401\n")
    n = worker_count(settings)
    # the workers read their settings from the environment: pass the overrides down
    os.environ["WORKUP_HOST"] = settings.host
    os.environ["WORKUP_PORT"] = str(settings.port)
    if settings.dev_insecure:
        os.environ["WORKUP_DEV_INSECURE"] = "true"
    get_settings.cache_clear()
    os.environ.pop("WORKUP_SUPERVISOR_PID", None)  # one worker runs in this process: nothing to watch
    if n > 1:
        os.environ["WORKUP_SUPERVISOR_PID"] = str(os.getpid())
        sys.stderr.write(f"workup serve: {n} worker processes (WORKUP_WORKERS or --workers to change)\n")
        if settings.port != 0 and hasattr(socket, "SO_REUSEPORT"):
            _serve_reuse_port(settings, n)
            return
        # libuv (uvloop) otherwise accepts every pending connection in one go, so one worker
        # takes most of a burst of new keep-alive connections and its queue sets the p99
        os.environ.setdefault("UV_TCP_SINGLE_ACCEPT", "1")
    uvicorn.run(
        "workup.service.run:worker_app", factory=True, workers=n,
        host=settings.host, port=settings.port, access_log=settings.log_phi, log_level="info", http=PROTOCOL,
    )


def _check_audit_log(settings: Settings) -> None:
    """Open the audit log once before any worker starts (creating its tables), so a path that
    cannot be written or a database that cannot be reached is one clear error, not a crash
    in every worker.

    Raises:
        ServiceError: SV501, the audit log cannot be opened.
    """
    from workup.audit.store import AuditStore

    AuditStore(settings.audit_url()).close()


class ReusePortListener:
    """A listening address that each worker process opens for itself with ``SO_REUSEPORT``.

    Handed to uvicorn's supervisor in place of a shared socket: unpickled in a worker, it
    becomes that worker's own socket on the same port, and the kernel spreads incoming
    connections over the workers' sockets. With one shared socket, whichever worker was
    idle took a burst of new keep-alive connections (splits of 84/16 were measured), and
    the busier worker's queue set the p99.
    """

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port

    def __reduce__(self):
        return (reuse_port_socket, (self.host, self.port))


def reuse_port_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to (host, port) with ``SO_REUSEPORT`` (not yet listening)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def port_is_free(host: str, port: int) -> bool:
    """Whether nothing listens on (host, port), another workup server included.

    Bound without ``SO_REUSEPORT``, so a group of sockets that share the port (a running
    ``workup serve``) refuses it too: two servers never split one port's traffic.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _serve_reuse_port(settings: Settings, n: int) -> None:
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    if not port_is_free(settings.host, settings.port):
        sys.stderr.write(f"workup serve: {settings.host}:{settings.port} is already in use\n")
        raise SystemExit(3)
    config = uvicorn.Config(
        "workup.service.run:worker_app", factory=True, workers=n,
        host=settings.host, port=settings.port, access_log=settings.log_phi, log_level="info", http=PROTOCOL,
    )
    sys.stderr.write(f"workup serve: listening on {settings.host}:{settings.port}, one socket per worker (SO_REUSEPORT)\n")
    Multiprocess(config, sockets=[ReusePortListener(settings.host, settings.port)]).run()
