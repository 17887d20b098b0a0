"""Request bodies in flight are bounded per worker, against a real uvicorn server.

Held-open connections each declare a large body and send part of it; once their
reservations reach ``max_inflight_body_bytes`` the next body is refused at once with 429
``SV429`` and ``Retry-After``, unread, and the budget comes back when they close. A
declared ``Content-Length`` over the body limit is refused with 413 before any body byte
is sent. (Memory returned after such a burst is measured by
``scripts/bench_body_memory.py``, not asserted here.)
"""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest
import uvicorn

from workup.service.app import create_app
from workup.service.config import Settings

BODY_LIMIT = 1_000_000
BUDGET = 3_000_000


@pytest.fixture()
def server(tmp_path):
    app = create_app(Settings(dev_insecure=True, audit_path=tmp_path / "audit.sqlite3",
                              max_body_bytes=BODY_LIMIT, max_inflight_body_bytes=BUDGET))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    srv = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    t = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    t.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    yield port
    srv.should_exit = True
    t.join(10)


def _open(port: int, length: int, send_bytes: int) -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall((f"POST /v1/recommend HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
               f"Content-Length: {length}\r\n\r\n").encode() + b" " * send_bytes)
    return s


def _answer(s: socket.socket) -> tuple[int, dict, dict]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, v in (ln.split(":", 1) for ln in lines[1:])}
    want = int(headers.get("content-length", "0"))
    while len(body) < want:
        chunk = s.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(lines[0].split()[1]), headers, json.loads(body or b"{}")


def test_bodies_past_the_in_flight_budget_are_refused_with_429_and_the_budget_returns(server):
    held = [_open(server, 900_000, 100_000) for _ in range(3)]  # 2.7 MB reserved of 3 MB
    time.sleep(0.3)
    extra = [_open(server, 900_000, 0) for _ in range(5)]
    for s in extra:
        status, headers, body = _answer(s)
        assert status == 429
        assert body["error"]["code"] == "SV429"
        assert headers["retry-after"] == "1"
        s.close()
    for s in held:
        s.close()
    time.sleep(0.3)
    body = json.dumps({"facts": {}}).encode()
    s = _open(server, len(body), 0)
    s.sendall(body)
    status, _, answer = _answer(s)
    s.close()
    assert status != 429 and answer.get("error", {}).get("code") != "SV429"


def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_sent(server):
    s = _open(server, BODY_LIMIT + 1, 0)
    status, _, body = _answer(s)
    s.close()
    assert status == 413
    assert body["error"]["code"] == "SV413"
