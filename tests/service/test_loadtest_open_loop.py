"""scripts/loadtest.py's open loop: arrivals keep their clock when the service is slow.

Against a stand-in server that answers one request at a time in 100 ms, a closed-loop
client would report 100 ms for every call. An open-loop client offering 20 calls/s must
report the queue that builds up (latency measured from when each call was due), and with
enough connections (no queue in the client, each call served alone) ~100 ms again.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
import loadtest  # noqa: E402

SERVICE_S = 0.1
BODY = b'{"ok": true}'


async def _with_slow_server(serial: bool, run):
    lock = asyncio.Lock()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                n = int(loadtest._CONTENT_LENGTH.search(head).group(1))
                await reader.readexactly(n)
                if serial:
                    async with lock:  # one call at a time, like one busy worker
                        await asyncio.sleep(SERVICE_S)
                else:
                    await asyncio.sleep(SERVICE_S)
                writer.write(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                             b"content-length: %d\r\n\r\n" % len(BODY) + BODY)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        return await run(port)
    finally:
        server.close()


def _open_loop(serial: bool, max_connections: int) -> dict:
    offsets = loadtest.arrival_offsets(20, 1.0, "uniform")  # 20 calls at 20/s
    return asyncio.run(_with_slow_server(serial, lambda port: loadtest.run_open_loop(
        port, "/v1/recommend", [{"n": 1}], offsets, max_connections=max_connections, timeout=10)))


def test_open_loop_latency_includes_the_queue_behind_a_slow_service():
    res = _open_loop(serial=True, max_connections=1)
    lat = sorted(res["latencies"])
    assert res["requests"] == len(lat) == 20 and res["errors"] == 0
    # served at 10/s while offered at 20/s: the k-th call waits ~50 ms × k; the last ~1 s
    assert lat[0] < 0.2
    assert lat[-1] > 0.8
    assert loadtest.percentile(lat, 50) > 0.4
    # the arrivals kept their schedule although answers lagged (the clock is not the answers')
    assert max(res["lag"]) < 0.05
    # throughput is the service's (10/s), not the offered 20/s
    assert len(lat) / res["elapsed"] < 12


def test_open_loop_opens_connections_instead_of_waiting():
    res = _open_loop(serial=False, max_connections=50)
    lat = res["latencies"]
    assert len(lat) == 20 and res["errors"] == 0
    assert res["connections"] >= 2  # 2 calls in flight at 20/s × 100 ms
    assert max(lat) < 0.3


@pytest.mark.parametrize("arrivals", ["poisson", "uniform"])
def test_arrival_offsets_offer_the_rate_and_repeat(arrivals: str):
    a = loadtest.arrival_offsets(500, 20, arrivals)
    assert len(a) == 10_000 and a == loadtest.arrival_offsets(500, 20, arrivals)
    assert a == sorted(a) and a[0] == 0.0
    assert 19.0 < a[-1] < 21.0


def test_order_select_bodies_select_their_own_renamed_draft_order():
    path, bodies = loadtest.bodies_for("cds-select", 5)
    assert path == "/cds-services/workup-order-select"
    ids = set()
    for body in bodies:
        assert body["hook"] == "order-select"
        order = body["context"]["draftOrders"]["entry"][0]["resource"]
        assert body["context"]["selections"] == [f"ServiceRequest/{order['id']}"]
        ids.add(order["id"])
    assert len(ids) == 5  # a new order per patient, each one the selected order


@pytest.mark.skipif(not Path("/proc/stat").exists(), reason="reads /proc (Linux)")
def test_cpu_share_counts_the_client_and_the_server_tree():
    import os
    import time

    t0 = time.monotonic()
    share = loadtest.CpuShare(os.getpid())  # this process stands for the server too
    spent = time.process_time() + 0.2
    while time.process_time() < spent:  # 0.2 s of CPU, however long the shared machine takes
        pass
    got = share.result()
    assert got["cpu_client_pct"] > 0 and got["cpu_server_pct"] > 0
    # the machine's and the process's counters are read apart, each to a clock tick: over 0.2 s a
    # tick at either end is several percent, so the machine-wide share may trail the process's by that
    ticks_pct = 2 * 2 * 100 / (share.hz * (time.monotonic() - t0))
    assert got["cpu_busy_pct"] >= got["cpu_client_pct"] - ticks_pct
    assert loadtest.CpuShare(None).result()["cpu_server_pct"] is None
