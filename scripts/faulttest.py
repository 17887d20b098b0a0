#!/usr/bin/env python3
"""Fault test: SIGKILL the server under load; every acknowledged consultation must be in the audit log.

Starts ``workup serve --dev-insecure`` on loopback with a fresh SQLite audit log, sends
consultations from concurrent clients, kills the server process with SIGKILL in the middle
of the load, then opens the audit log and checks that every consultation id a client
received (HTTP 200) was stored. Finally restarts the server on the same log to show it
recovers and keeps writing. Exit status 0 only when nothing acknowledged is missing.

    python scripts/faulttest.py            # kill after 5 s of load
    python scripts/faulttest.py --short    # kill after 1.5 s (CI)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import loadtest  # noqa: E402


async def load_until_killed(port: int, path: str, body: dict, concurrency: int, kill_after: float, proc) -> dict:
    acked: list[str] = []

    def on_ack(cid: str | None) -> None:
        if cid:
            acked.append(cid)

    async def killer() -> float:
        await asyncio.sleep(kill_after)
        # the server and its workers: the process group this script started it in, nothing else
        os.killpg(proc.pid, signal.SIGKILL)
        return time.monotonic()

    # warm up first (the first free-text read loads the language model), then start the clock
    await loadtest.run_load(port, path, body, 5, 1, 120, on_ack=on_ack)
    kill_task = asyncio.create_task(killer())
    res = await loadtest.run_load(port, path, body, 10**9, concurrency, kill_after + 30, on_ack=on_ack,
                                  should_stop=lambda: kill_task.done())
    await kill_task
    return {"acked": acked, "errors": res["errors"]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--short", action="store_true", help="kill after 1.5 s of load (CI)")
    ap.add_argument("--kill-after", type=float, default=None, help="seconds of load before SIGKILL")
    ap.add_argument("--concurrency", type=int, default=50)
    ap.add_argument("--kind", choices=("recommend", "cds"), default="recommend")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    kill_after = args.kill_after or (1.5 if args.short else 5.0)
    path, body = loadtest.request_for(args.kind)
    from workup.audit.store import AuditStore

    with tempfile.TemporaryDirectory(prefix="workup-fault-") as tmp:
        audit = Path(tmp) / "audit.sqlite3"
        port = loadtest.free_port()
        proc = loadtest.start_server(audit, port)
        try:
            loadtest.wait_ready(port, proc=proc)
            res = asyncio.run(load_until_killed(port, path, body, args.concurrency, kill_after, proc))
            proc.wait(timeout=10)
        finally:
            loadtest.stop_server(proc)
        killed_by = -proc.returncode if proc.returncode is not None and proc.returncode < 0 else None
        store = AuditStore(f"sqlite:///{audit}")
        stored = store.consult_ids()
        store.close()
        acked = set(res["acked"])
        missing = sorted(acked - stored)
        # the log must recover and keep working after the crash
        port2 = loadtest.free_port()
        proc2 = loadtest.start_server(audit, port2)
        try:
            loadtest.wait_ready(port2, proc=proc2)
            after = asyncio.run(loadtest.run_load(port2, path, body, 20, 5, 30))
        finally:
            loadtest.stop_server(proc2)
        store = AuditStore(f"sqlite:///{audit}")
        stored_after = len(store.consult_ids())
        store.close()
    out = {
        "kind": args.kind,
        "kill_after_s": kill_after,
        "killed_by_signal": signal.Signals(killed_by).name if killed_by else None,
        "acknowledged": len(acked),
        "stored": len(stored),
        "stored_not_acknowledged": len(stored - acked),
        "missing": len(missing),
        "failed_requests_at_kill": res["errors"],
        "restart_ok": len(after["latencies"]),
        "stored_after_restart": stored_after,
    }
    ok = (not missing and len(acked) > 0 and out["killed_by_signal"] == "SIGKILL"
          and out["restart_ok"] == 20 and stored_after == len(stored) + 20)
    out["result"] = "PASS" if ok else "FAIL"
    if args.json:
        print(json.dumps(out))
    else:
        for k, v in out.items():
            print(f"{k:26} {v}")
        if missing:
            print("missing:", ", ".join(missing[:10]))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
