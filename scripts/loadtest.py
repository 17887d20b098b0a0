#!/usr/bin/env python3
"""Load test on loopback: latency percentiles at a fixed number of concurrent requests.

Starts ``workup serve --dev-insecure`` on 127.0.0.1 with a throw-away audit log, sends
consultations (POST /v1/recommend with the seed patient's facts or text and an ordered
MRI, or the seed CDS Hooks order-sign call) from ``--concurrency`` concurrent clients,
and reports p50/p90/p99/max latency and throughput. Bounded in requests and in time;
loopback only.

By default every request is a different patient: the seed body with its numbers, dates and
ids varied (seeded, so runs repeat), built before timing and never sent twice in a run. The
service memoises pure functions of its input (parsed FHIR resources and Bundles, text
readings), so sending one body again and again would measure memo hits rather than EHR
traffic, where each patient differs. ``--same-body`` sends the seed body every time (the
old behaviour), for comparison. A sample of the answers is checked for a rating.

    python scripts/loadtest.py                 # 3,000 distinct patients at 100 concurrent
    python scripts/loadtest.py --same-body     # the seed body 3,000 times
    python scripts/loadtest.py --short         # 400 requests (CI)

Open loop (``--rate`` or ``--sweep``): requests arrive on a clock of their own (seeded
Poisson arrivals by default, ``--arrivals uniform`` for a fixed gap), never waiting for an
answer, so when the service falls behind the latency shows the queue, and ``--sweep``
finds the throughput at saturation:

    python scripts/loadtest.py --rate 500 --duration 20                # /v1/recommend with facts
    python scripts/loadtest.py --kind cds --rate 500 --duration 20     # CDS order-sign
    python scripts/loadtest.py --kind cds-select --rate 500 --duration 20  # CDS order-select
    python scripts/loadtest.py --sweep 1000,2000,3000,4000 --duration 5
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
MRI = "MRI Cervical Spine Without IV Contrast"
TEXT = ("58-year-old, two years after C5-C6 ACDF, a month of increasing neck pain and new right arm "
        "tingling. Denies trauma, fever or weight loss.")
TEXT_VARIED = ("{age}-year-old, {after} after C5-C6 ACDF, {weeks} of increasing neck pain and new right "
               "arm tingling. Denies trauma, fever or weight loss.")
SEED = 2026
LEVELS = ("C3-C4", "C4-C5", "C5-C6", "C6-C7", "C4-C5 and C5-C6", "C5-C6 and C6-C7")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(audit_path: Path, port: int, extra_env: dict | None = None) -> subprocess.Popen:
    """Start the service in its own process (we keep its pid; nothing else is ever signalled).

    Its log (start-up lines only: no requests are logged) goes to a file beside the audit
    log, which :func:`wait_ready` reads to know when every worker is serving.
    """
    env = {**os.environ, "WORKUP_AUDIT_PATH": str(audit_path), **(extra_env or {})}
    cmd = [sys.executable, "-m", "workup.cli", "serve", "--dev-insecure", "--host", "127.0.0.1", "--port", str(port)]
    log_path = Path(str(audit_path) + f".{port}.log")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=log, start_new_session=True)
    proc.log_path = log_path  # type: ignore[attr-defined]
    return proc


def wait_ready(port: int, timeout: float = 60.0, proc: subprocess.Popen | None = None) -> None:
    """Wait until /healthz answers and, given the server process, until every worker has started.

    With one listening socket per worker, connections made while a worker is still
    starting all go to the others: a load run must not begin before every worker listens.
    """
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1.0).status_code == 200 and _all_workers_up(proc):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"server on port {port} did not become ready in {timeout:.0f}s")


def _all_workers_up(proc: subprocess.Popen | None) -> bool:
    log_path = getattr(proc, "log_path", None)
    if log_path is None:
        return True
    text = Path(log_path).read_text(encoding="utf-8", errors="replace")
    m = re.search(r"workup serve: (\d+) worker processes", text)
    return text.count("Application startup complete") >= (int(m.group(1)) if m else 1)


def stop_server(proc: subprocess.Popen) -> None:
    """SIGTERM the server (its workers stop with it); SIGKILL its process group if it hangs."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            kill_group(proc)
    else:
        kill_group(proc)  # the supervisor is gone: make sure no worker of it is left


def kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the server and its workers: the process group this script started it in."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def request_for(kind: str) -> tuple[str, dict]:
    """(path, JSON body) of one consultation."""
    facts = json.loads((ROOT / "examples" / "seed-post-acdf.json").read_text(encoding="utf-8"))
    if kind == "recommend":
        return "/v1/recommend", {"facts": facts, "order": MRI}
    if kind == "text":
        return "/v1/recommend", {"text": TEXT, "order": MRI}
    body = json.loads((ROOT / "tests" / "service" / "fixtures" / "seed-post-acdf-order-sign.json").read_text(encoding="utf-8"))
    body = {k: v for k, v in body.items() if not k.startswith("_")}
    body["context"]["draftOrders"]["entry"][0]["resource"].pop("note", None)  # coded data only: no NLP in the hot path
    if kind == "cds-select":  # the same call at order-select, the draft order selected
        body["hook"] = "order-select"
        body["context"]["selections"] = [f"ServiceRequest/{body['context']['draftOrders']['entry'][0]['resource']['id']}"]
        return "/cds-services/workup-order-select", body
    return "/cds-services/workup-order-sign", body


def bodies_for(kind: str, n: int, seed: int = SEED) -> tuple[str, list[dict]]:
    """(path, ``n`` distinct JSON bodies): the seed body of ``kind`` as different patients.

    Deterministic for a seed. ``recommend``: age, sex, symptom duration, days since surgery
    and one secondary fact (one whose policy is ``ignore``, so it never decides the
    scenario) vary. ``text``: the age, time since surgery and symptom duration written in the
    note vary. ``cds``: birth date, surgery date and level, and every id (hook instance,
    patient, encounter, conditions, procedure, order) vary; the order stays coded only.
    """
    path, base = request_for(kind)
    rng = random.Random(f"{seed}:{kind}")
    make = {"recommend": _recommend_body, "text": _text_body, "cds": _cds_body, "cds-select": _cds_body}[kind]
    seen: set[str] = set()
    out: list[dict] = []
    extra = _secondary_facts() if kind == "recommend" else None
    while len(out) < n:
        body = make(base, rng, len(out), extra)
        key = json.dumps(body, sort_keys=True)
        if key not in seen:  # drawn again if it repeats an earlier one
            seen.add(key)
            out.append(body)
    return path, out


def _secondary_facts() -> list[str]:
    """Bool facts whose policy is ``ignore`` (never decide the scenario), from the knowledge pack.

    Scope facts are left out: unknown they change nothing, but given they say what the note is about.
    """
    from workup.kb import load

    return sorted(f.id for f in load().facts.values()
                  if f.type == "bool" and f.when_unknown == "ignore" and f.group != "scope")


def _recommend_body(base: dict, rng: random.Random, i: int, secondary: list[str]) -> dict:
    facts = dict(base["facts"])
    facts["age"] = rng.randint(18, 95)
    facts["sex"] = rng.choice(("male", "female"))
    facts["symptom_duration_days"] = rng.randint(1, 400)
    facts["days_since_surgery"] = rng.randint(5, 3000)
    fid = rng.choice(secondary)
    facts[fid] = rng.random() < 0.5 and (fid != "pregnant" or facts["sex"] == "female")
    return {**base, "facts": facts}


def _plural(n: int, unit: str) -> str:
    return f"{n} {unit}" + ("" if n == 1 else "s")


def _text_body(base: dict, rng: random.Random, i: int, _extra=None) -> dict:
    after = rng.randint(2, 120)
    text = TEXT_VARIED.format(age=rng.randint(18, 95), weeks=_plural(rng.randint(1, 20), "week"),
                              after=_plural(after, "month") if after < 24 else _plural(after // 12, "year"))
    return {**base, "text": text}


def _cds_body(base: dict, rng: random.Random, i: int, _extra=None) -> dict:
    body = json.loads(json.dumps(base))
    pid = f"pt-{i:06d}-{rng.randrange(16**6):06x}"
    born = date(1930, 1, 1) + timedelta(days=rng.randint(0, (date(2006, 12, 31) - date(1930, 1, 1)).days))
    operated = date(2012, 1, 1) + timedelta(days=rng.randint(0, (date(2026, 6, 30) - date(2012, 1, 1)).days))
    body["hookInstance"] = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    ctx = body["context"]
    ctx["patientId"], ctx["encounterId"] = pid, f"enc-{i:06d}"
    pre = body["prefetch"]
    pre["patient"].update(id=pid, birthDate=born.isoformat())
    resources = [ctx["draftOrders"]["entry"][0]["resource"]]
    resources += [e["resource"] for e in pre["conditions"]["entry"] + pre["procedures"]["entry"]]
    for r in resources:
        r["id"] = f"{r['id']}-{i:06d}"
        r["subject"]["reference"] = f"Patient/{pid}"
    if "selections" in ctx:  # order-select: the renamed draft order stays the selected one
        ctx["selections"] = [f"ServiceRequest/{resources[0]['id']}"]
    proc = pre["procedures"]["entry"][0]["resource"]
    proc["performedDateTime"] = operated.isoformat()
    proc["code"]["text"] = f"Anterior cervical discectomy and fusion {rng.choice(LEVELS)}"
    return body


def encode(port: int, path: str, bodies: list[dict]) -> list[bytes]:
    """The HTTP/1.1 request bytes of each body (built before timing: the client shares the cores)."""
    out = []
    for body in bodies:
        payload = json.dumps(body).encode()
        out.append((f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(payload)}\r\n\r\n").encode() + payload)
    return out


def rating_of(reply: Reply) -> int | None:
    """The ACR rating of the ordered study in a 200 answer (API document or CDS Hooks response)."""
    if reply.status != 200:
        return None
    doc = json.loads(reply.body)
    if "systemActions" in doc:
        for action in doc["systemActions"]:
            for ext in action["resource"].get("extension", []):
                for c in ext.get("valueCodeableConcept", {}).get("coding", []):
                    if c.get("system") == "urn:workup:codesystem:acr-rating":
                        return int(c["code"])
        return None
    if doc.get("status") != "rated":
        return None
    return ((doc.get("order") or {}).get("procedure") or {}).get("rating")


class Reply:
    """A parsed HTTP/1.1 response: status, head (headers parsed when asked for), body."""

    __slots__ = ("status", "head", "body", "_headers")

    def __init__(self, status: int, head: bytes, body: bytes) -> None:
        self.status, self.head, self.body, self._headers = status, head, body, None

    @property
    def headers(self) -> dict[str, str]:
        """Lower-case header names → values."""
        if self._headers is None:
            self._headers = {}
            for line in self.head.decode("latin-1").split("\r\n")[1:]:
                if ":" in line:
                    k, v = line.split(":", 1)
                    self._headers[k.strip().lower()] = v.strip()
        return self._headers


def consult_id_of(reply: Reply) -> str | None:
    """The consultation id the service acknowledged, if any."""
    if reply.status != 200:
        return None
    cid = reply.headers.get("x-workup-consult-id")
    if cid:
        return cid
    for action in json.loads(reply.body).get("systemActions", []):
        for ext in action["resource"].get("extension", []):
            if ext["url"].endswith("pama-rating-consult-id"):
                return ext["valueUri"]
    return None


_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.I)


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> Reply:
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])  # "HTTP/1.1 200 OK"
    m = _CONTENT_LENGTH.search(head)
    body = await reader.readexactly(int(m.group(1)) if m else 0)
    return Reply(status, head, body)


async def run_load(port: int, path: str, body: dict | list[dict], total: int, concurrency: int, max_seconds: float,
                   on_ack=None, should_stop=None, sample_every: int = 0) -> dict:
    """Send ``total`` requests over ``concurrency`` keep-alive connections; latencies and counts.

    ``body`` is one body sent every time, or a list of bodies sent in turn (request ``k``
    sends ``body[k % len(body)]``). Every ``sample_every``-th answer is kept (in
    ``samples``) for checking after the run.

    A minimal asyncio HTTP/1.1 client: httpx's pool collapses at 100 connections on 2 cores
    (measured: /healthz 132 req/s through httpx against 1,200 req/s here), which would
    measure the client rather than the service.
    """
    requests = encode(port, path, body if isinstance(body, list) else [body])
    latencies: list[float] = []
    samples: list[Reply] = []
    errors = 0
    sent = 0
    deadline = time.monotonic() + max_seconds

    async def worker() -> None:
        nonlocal errors, sent
        conn = None
        while sent < total and time.monotonic() < deadline:
            if should_stop is not None and should_stop():
                break
            k = sent
            sent += 1
            request = requests[k % len(requests)]
            t0 = time.perf_counter()
            try:
                if conn is None:
                    conn = await asyncio.open_connection("127.0.0.1", port)
                reply = await asyncio.wait_for(_exchange(*conn, request), timeout=30)
            except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError, IndexError):
                errors += 1
                if conn is not None:
                    conn[1].close()
                conn = None
                continue
            dt = time.perf_counter() - t0
            if reply.status != 200:
                errors += 1
                continue
            latencies.append(dt)
            if sample_every and k % sample_every == 0:
                samples.append(reply)
            if on_ack is not None:
                on_ack(consult_id_of(reply))
        if conn is not None:
            conn[1].close()

    t_start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - t_start
    return {"latencies": latencies, "errors": errors, "elapsed": elapsed, "samples": samples}


def arrival_offsets(rate: float, duration: float, arrivals: str = "poisson", seed: int = SEED) -> list[float]:
    """When each request of an open-loop run is due, in seconds from the start.

    ``uniform``: every ``1 / rate`` s. ``poisson``: independent arrivals (exponential gaps,
    seeded), what many clinicians ordering independently look like; same mean rate, burstier.
    """
    if rate <= 0 or duration <= 0:
        raise ValueError("rate and duration must be positive")
    n = max(1, int(rate * duration))
    if arrivals == "uniform":
        return [k / rate for k in range(n)]
    rng = random.Random(f"{seed}:arrivals:{rate}")
    out, t = [], 0.0
    for _ in range(n):
        out.append(t)
        t += rng.expovariate(rate)
    return out


async def run_open_loop(port: int, path: str, bodies: list[dict], offsets: list[float], max_connections: int = 512,
                        timeout: float = 30.0, sample_every: int = 0) -> dict:
    """Offer requests at the times ``offsets`` (seconds), whatever the answers do; latency from each arrival.

    Open loop: request ``k`` is due at ``start + offsets[k]`` on a clock that never waits for
    an answer. A due request goes out on an idle keep-alive connection, or on a new one while
    fewer than ``max_connections`` are open; otherwise it waits in the client for a
    connection. Its latency runs from the moment it was *due* to the end of its answer, so
    queueing anywhere (this client, the kernel's accept queue, the server's workers) counts,
    and a slow answer cannot hold back the requests behind it (no coordinated omission).
    ``lag`` is how late the scheduler itself handed each request over: large values mean
    this client, sharing the CPUs with the server, could not keep the schedule.
    """
    requests = encode(port, path, bodies)
    queue: asyncio.Queue = asyncio.Queue()
    latencies: list[float] = []
    lag: list[float] = []
    samples: list[Reply] = []
    statuses: dict[int, int] = {}
    errors = 0
    idle = 0
    last_done = 0.0
    tasks: list[asyncio.Task] = []

    async def connection() -> None:
        nonlocal errors, idle, last_done
        conn = None
        while True:
            idle += 1
            item = await queue.get()
            idle -= 1
            if item is None:
                break
            k, due = item
            try:
                if conn is None:
                    conn = await asyncio.open_connection("127.0.0.1", port)
                reply = await asyncio.wait_for(_exchange(*conn, requests[k % len(requests)]), timeout=timeout)
            except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError, IndexError):
                errors += 1
                statuses[0] = statuses.get(0, 0) + 1  # no answer: refused, reset or timed out
                if conn is not None:
                    conn[1].close()
                conn = None
                continue
            done = time.perf_counter()
            last_done = max(last_done, done)
            statuses[reply.status] = statuses.get(reply.status, 0) + 1
            if reply.status != 200:
                errors += 1
                continue
            latencies.append(done - due)
            if sample_every and k % sample_every == 0:
                samples.append(reply)
        if conn is not None:
            conn[1].close()

    start = time.perf_counter() + 0.05
    for k, off in enumerate(offsets):
        due = start + off
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        lag.append(max(0.0, time.perf_counter() - due))
        queue.put_nowait((k, due))
        if queue.qsize() > idle and len(tasks) < max_connections:
            tasks.append(asyncio.ensure_future(connection()))
    scheduled = time.perf_counter()
    for _ in tasks:
        queue.put_nowait(None)  # after every request: each connection finishes what is queued, then stops
    await asyncio.gather(*tasks)
    end = max(last_done, scheduled)
    return {"latencies": latencies, "errors": errors, "statuses": statuses, "lag": lag, "samples": samples,
            "offered_seconds": offsets[-1] if len(offsets) > 1 else 0.0, "elapsed": end - start,
            "connections": len(tasks), "requests": len(offsets)}


def run_loop(coro):
    """Run the client on uvloop when it is installed (uvicorn's own loop): the client shares
    the two cores with the server, and uvloop halves its CPU per request."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


def percentile(values: list[float], p: float) -> float:
    s = sorted(values)
    if not s:
        return float("nan")
    k = min(len(s) - 1, max(0, int(round(p / 100 * (len(s) - 1)))))
    return s[k]


class CpuShare:
    """CPU used during a run, from ``/proc`` (Linux): the whole machine, this client, the server.

    The load average counts runnable processes, not whose they are; on a shared machine the
    question is how much of the CPUs the server and this client had. ``other`` is every busy
    CPU tick that was neither (short-lived processes included, since it is the machine's total
    less ours). Percentages of one CPU (the machine has ``os.cpu_count()`` × 100 %). None where
    ``/proc`` is missing, and ``server`` None when the server is not one this script started.
    """

    def __init__(self, server_pid: int | None) -> None:
        self.server_pid = server_pid
        self.hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self.start = self._read()

    @staticmethod
    def _busy() -> int | None:
        try:
            with open("/proc/stat", encoding="ascii") as f:
                v = [int(x) for x in f.readline().split()[1:9]]
        except (OSError, ValueError):
            return None
        return sum(v) - v[3] - v[4]  # all but idle and iowait (user, nice, system, irq, softirq, steal)

    @staticmethod
    def _ticks(pids) -> int:
        total = 0
        for pid in pids:
            try:
                with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime + stime, every thread of the process
        return total

    def _tree(self) -> list[int]:
        """The server process and its descendants (its worker processes)."""
        if self.server_pid is None:
            return []
        children: dict[int, list[int]] = {}
        for name in os.listdir("/proc"):
            if name.isdigit():
                try:
                    with open(f"/proc/{name}/stat", encoding="ascii", errors="replace") as f:
                        ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                except (OSError, ValueError, IndexError):
                    continue
                children.setdefault(ppid, []).append(int(name))
        out, todo = [], [self.server_pid]
        while todo:
            pid = todo.pop()
            out.append(pid)
            todo.extend(children.get(pid, ()))
        return out

    def _read(self) -> tuple[float, int | None, int, int] | None:
        busy = self._busy()
        if busy is None:
            return None
        return time.monotonic(), busy, self._ticks([os.getpid()]), self._ticks(self._tree())

    def result(self) -> dict:
        """CPU percentages since construction: machine busy, client, server, other."""
        end = self._read()
        if self.start is None or end is None:
            return {"cpu_busy_pct": None, "cpu_client_pct": None, "cpu_server_pct": None, "cpu_other_pct": None}
        seconds = end[0] - self.start[0]
        pct = (lambda ticks: round(ticks / self.hz / seconds * 100)) if seconds > 0 else (lambda ticks: None)
        busy, client = pct(end[1] - self.start[1]), pct(end[2] - self.start[2])
        # worker processes started after the first reading would count from zero: none do during a run
        server = pct(end[3] - self.start[3]) if self.server_pid is not None else None
        other = None if busy is None else max(0, busy - (client or 0) - (server or 0))
        return {"cpu_busy_pct": busy, "cpu_client_pct": client, "cpu_server_pct": server, "cpu_other_pct": other}


def open_loop_step(port: int, kind: str, rate: float, duration: float, args, step: int = 0) -> dict:
    """One open-loop run at ``rate`` for ``duration`` s against the server on ``port``: its figures."""
    offsets = arrival_offsets(rate, duration, args.arrivals, args.seed + step)
    n = len(offsets)
    if args.same_body:
        path, body = request_for(kind)
        bodies = [body]
    else:  # a new patient per request, never sent before in this run (seeded per step)
        path, bodies = bodies_for(kind, min(n, MAX_OPEN_LOOP_BODIES), args.seed + 1000 * (step + 1))
    load_before = [round(x, 2) for x in os.getloadavg()]
    t_wall = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())  # dated: figures are quoted with their day
    cpu = CpuShare(getattr(args, "server_pid", None))
    res = run_loop(run_open_loop(port, path, bodies, offsets, args.max_connections,
                                 sample_every=max(1, n // 100)))
    cpu_share = cpu.result()
    lat, lag = res["latencies"], res["lag"]
    ratings = [rating_of(r) for r in res["samples"]]
    achieved = round(len(lat) / res["elapsed"], 1) if res["elapsed"] > 0 else None
    # the rate the drawn arrivals really offered (Poisson gaps make a short run's differ from --rate)
    offered = round((n - 1) / res["offered_seconds"], 1) if res["offered_seconds"] > 0 else rate
    out = {
        "start_utc": t_wall,
        "kind": kind,
        "arrivals": args.arrivals,
        "offered_rps": rate,
        "offered_drawn_rps": offered,
        "duration_s": duration,
        "requests": n,
        "ok": len(lat),
        "errors": res["errors"],
        "statuses": {str(k): v for k, v in sorted(res["statuses"].items())},
        "bodies": "same" if args.same_body else "distinct",
        "distinct_bodies": len(bodies),
        "achieved_rps": achieved,
        "p50_ms": round(percentile(lat, 50) * 1000, 1),
        "p90_ms": round(percentile(lat, 90) * 1000, 1),
        "p99_ms": round(percentile(lat, 99) * 1000, 1),
        "max_ms": round(max(lat) * 1000, 1) if lat else None,
        "client_lag_p99_ms": round(percentile(lag, 99) * 1000, 1),
        "connections": res["connections"],
        "load_average_before": load_before,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        **cpu_share,
        "checked": len(ratings),
        "checked_rated": sum(r is not None for r in ratings),
        "checked_ratings": sorted({r for r in ratings if r is not None}),
    }
    # saturated: the service no longer keeps up with what is offered (answers fall behind the arrivals)
    out["saturated"] = bool(achieved is None or achieved < 0.95 * offered or res["errors"])
    return out


MAX_OPEN_LOOP_BODIES = 40_000  # distinct bodies built per step; longer steps send them again in turn


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--short", action="store_true", help="a quick run for CI (400 requests; open loop: 2 s)")
    ap.add_argument("--requests", type=int, default=None)
    ap.add_argument("--concurrency", type=int, default=100)
    ap.add_argument("--kind", choices=("recommend", "text", "cds", "cds-select"), default="recommend",
                    help="recommend: /v1/recommend with facts; text: with free text; cds: order-sign; "
                         "cds-select: order-select (the draft order selected)")
    ap.add_argument("--same-body", action="store_true",
                    help="send the seed body every time (measures the service's memos, not new patients)")
    ap.add_argument("--seed", type=int, default=SEED, help="seed of the distinct patients")
    ap.add_argument("--workers", type=int, default=None, help="server worker processes (default: workup serve's)")
    ap.add_argument("--max-seconds", type=float, default=120.0)
    ap.add_argument("--target-p99-ms", type=float, default=None,
                    help="the p99 bar (default 50 ms; open loop: 50 ms recommend, text and cds-select, 100 ms cds, i.e. order-sign)")
    ap.add_argument("--rate", type=float, default=None,
                    help="open loop: offer this many requests per second, whatever the answers do")
    ap.add_argument("--sweep", default=None,
                    help="open loop: comma-separated rates run in turn (each for --duration); "
                         "reports the throughput at saturation")
    ap.add_argument("--duration", type=float, default=None, help="open loop: seconds per rate (default 20; --short 2)")
    ap.add_argument("--arrivals", choices=("poisson", "uniform"), default="poisson",
                    help="open loop: seeded exponential gaps (default) or a fixed gap of 1/rate")
    ap.add_argument("--max-connections", type=int, default=512,
                    help="open loop: keep-alive connections the client may open; past it requests wait in the client "
                         "(and that wait is part of their latency)")
    ap.add_argument("--port", type=int, default=None,
                    help="load a server already listening on 127.0.0.1:PORT (started with --dev-insecure) "
                         "instead of starting one")
    ap.add_argument("--json", action="store_true", help="print the result as one JSON object")
    args = ap.parse_args(argv)
    if args.rate is not None or args.sweep is not None:
        return open_loop_main(args)
    target = args.target_p99_ms if args.target_p99_ms is not None else 50.0
    total = args.requests or (400 if args.short else 3000)
    warm = min(200, total)
    if args.same_body:
        path, body = request_for(args.kind)
        warm_bodies, bodies = [body], [body]
    else:  # warm-up patients are not sent again in the timed run
        path, pool = bodies_for(args.kind, warm + total, args.seed)
        warm_bodies, bodies = pool[:warm], pool[warm:]
    sample_every = max(1, total // 100)
    with serving(args) as port:
        run_loop(run_load(port, path, warm_bodies, warm, args.concurrency, args.max_seconds))  # warm-up
        res = run_loop(run_load(port, path, bodies, total, args.concurrency, args.max_seconds,
                                sample_every=sample_every))
    lat = res["latencies"]
    ratings = [rating_of(r) for r in res["samples"]]
    out = {
        "kind": args.kind,
        "bodies": "same" if args.same_body else "distinct",
        "distinct_bodies": len(bodies),
        "requests": len(lat) + res["errors"],
        "ok": len(lat),
        "errors": res["errors"],
        "concurrency": args.concurrency,
        "cpus": os.cpu_count(),
        "workers": args.workers or "default",
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "throughput_rps": round(len(lat) / res["elapsed"], 1) if res["elapsed"] else None,
        "p50_ms": round(percentile(lat, 50) * 1000, 1),
        "p90_ms": round(percentile(lat, 90) * 1000, 1),
        "p99_ms": round(percentile(lat, 99) * 1000, 1),
        "max_ms": round(max(lat) * 1000, 1) if lat else None,
        "target_p99_ms": target,
        "checked": len(ratings),
        "checked_rated": sum(r is not None for r in ratings),
        "checked_ratings": sorted({r for r in ratings if r is not None}),
    }
    out["meets_target"] = bool(lat) and out["p99_ms"] <= target
    _print(out, args.json)
    rated = ratings and out["checked_rated"] == len(ratings)
    return 0 if lat and not res["errors"] and rated else 1


def open_loop_main(args) -> int:
    """``--rate`` or ``--sweep``: open-loop runs; one result object (a sweep: its steps and the saturation throughput)."""
    duration = args.duration or (2.0 if args.short else 20.0)
    rates = [float(r) for r in args.sweep.split(",")] if args.sweep else [args.rate]
    target = args.target_p99_ms if args.target_p99_ms is not None else (100.0 if args.kind == "cds" else 50.0)
    steps = []
    with serving(args) as port:
        path, warm = bodies_for(args.kind, 200, args.seed)  # warm-up patients, never sent again
        run_loop(run_load(port, path, warm, len(warm), 20, args.max_seconds))
        for i, rate in enumerate(rates):
            steps.append(open_loop_step(port, args.kind, rate, duration, args, step=i))
    for s in steps:
        s["target_p99_ms"] = target
        s["meets_target"] = bool(s["ok"]) and not s["saturated"] and s["p99_ms"] <= target
    common = {"mode": "open-loop", "kind": args.kind, "cpus": os.cpu_count(), "workers": args.workers or "default",
              "server": f"127.0.0.1:{args.port}" if args.port else "started by this script (workup serve --dev-insecure)"}
    if args.sweep:
        out = {**common, "steps": steps,
               "saturation_rps": max((s["achieved_rps"] or 0) for s in steps),
               "saturated_from_rps": next((s["offered_rps"] for s in steps if s["saturated"]), None)}
        if not args.json:
            cols = ("start_utc", "offered_rps", "achieved_rps", "p50_ms", "p90_ms", "p99_ms", "max_ms", "errors",
                    "connections", "load_average_before", "cpu_server_pct", "cpu_other_pct", "saturated")
            print(" | ".join(cols))
            for s in steps:
                print(" | ".join(str(s[c]) for c in cols))
            print(f"saturation_rps {out['saturation_rps']}  saturated_from_rps {out['saturated_from_rps']}")
        else:
            print(json.dumps(out))
        return 0 if all(s["ok"] and s["checked_rated"] == s["checked"] for s in steps) else 1
    out = {**common, **steps[0]}
    _print(out, args.json)
    ok = out["ok"] and not out["errors"] and out["checked_rated"] == out["checked"]
    return 0 if ok else 1


def _print(out: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            print(f"{k:20} {v}")


@contextlib.contextmanager
def serving(args):
    """The port of the server under load: ``--port``'s, or one this script starts (and stops) itself."""
    if args.port:
        wait_ready(args.port)
        yield args.port
        return
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="workup-load-") as tmp:
        env = {"WORKUP_WORKERS": str(args.workers)} if args.workers else None
        proc = start_server(Path(tmp) / "audit.sqlite3", port, env)
        args.server_pid = proc.pid  # whose CPU the open-loop steps report
        try:
            wait_ready(port, proc=proc)
            yield port
        finally:
            stop_server(proc)


if __name__ == "__main__":
    sys.exit(main())
