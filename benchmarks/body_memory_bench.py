"""RSS of one worker before, during and after a burst of large request bodies (issue 13, item 4).

Starts one uvicorn worker in a child process, opens ``--connections`` sockets that each
declare a ``--body-bytes`` body and send all but its last byte (all held in flight at
once), then send the last bytes, closes them and reads the
worker's resident set size (``/proc/<pid>/status``) at each stage. Run by hand, not in CI:
``python benchmarks/body_memory_bench.py``.
"""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import tempfile
import time

CHILD = """
import sys, uvicorn
from workup.service.app import create_app
from workup.service.config import Settings
uvicorn.run(create_app(Settings(dev_insecure=True, audit_path=sys.argv[2])), host="127.0.0.1",
            port=int(sys.argv[1]), log_level="warning")
"""


def rss_mb(pid: int) -> float:
    """The resident set size of ``pid`` in MB."""
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> None:
    """Run the burst and print the RSS figures as JSON."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--connections", type=int, default=400)
    ap.add_argument("--body-bytes", type=int, default=900_000)
    a = ap.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with tempfile.TemporaryDirectory() as tmp:
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(port), f"{tmp}/audit.sqlite3"])
        try:
            for _ in range(300):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.1)
            out = {"before_mb": round(rss_mb(child.pid), 1)}
            socks, statuses = [], {}
            head = (f"POST /v1/recommend HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {a.body_bytes}\r\n\r\n").encode()
            for _ in range(a.connections):
                c = socket.create_connection(("127.0.0.1", port), timeout=30)
                try:
                    c.sendall(head + b" " * (a.body_bytes - 1))  # all but the last byte: held in flight
                except OSError:
                    pass
                socks.append(c)
            time.sleep(1.0)
            out["during_mb"] = round(rss_mb(child.pid), 1)
            for c in socks:
                try:
                    c.sendall(b" ")
                except OSError:
                    pass
            for c in socks:
                try:
                    c.settimeout(5)
                    status = c.recv(64).split(b" ")[1].decode()
                except (OSError, IndexError):
                    status = "none"
                statuses[status] = statuses.get(status, 0) + 1
                c.close()
            time.sleep(2.0)
            out["after_mb"] = round(rss_mb(child.pid), 1)
            out["statuses"] = statuses
            out.update(connections=a.connections, body_bytes=a.body_bytes)
            print(json.dumps(out))
        finally:
            child.terminate()
            child.wait(10)


if __name__ == "__main__":
    main()
