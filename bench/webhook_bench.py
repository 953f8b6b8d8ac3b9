#!/usr/bin/env python3
"""WhatsApp webhook throughput and latency: the service against a FLOOR app, same database kind.

    .venv/bin/python bench/webhook_bench.py --db sqlite|pg [--requests 3000] [--concurrency 16] [--no-pin]

For each of FLOOR (bench/floor_app.py: signature check + one durable insert +
TwiML) and SERVICE (`tepsa serve`: signature, inbox insert; then, inline when
idle or by the inbox worker in a burst, intake, triage, assignment, outbox,
conversation), on a fresh database:
- start the server as a subprocess pinned to CPU 0 (the load generator runs on CPU 1);
- the service gets a fictional roster first (`tepsa workers import`), no
  Telegram token (offers wait in the outbox, status held);
- send 50 warm-up requests, then N signed webhooks (new reporter and unique
  MessageSid each; realistic Indonesian texts, most naming a kecamatan)
  over 16 keep-alive connections with a small asyncio HTTP/1.1 client
  (pre-built, pre-signed requests, so the generator's CPU cost is small);
- afterwards wait until the service's inbox is worked off, then count the rows:
  every 2xx must be a stored message (and an intake).
Targets: service/floor ratio >= 0.5, service p99 < 100 ms, no non-2xx.
SQLite files go under /tmp; PostgreSQL uses the database `bench` (its public
schema is dropped and recreated before each server).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (machine_load, PG_URL, PY, ROOT, TEPSA, command_line, count_rows, free_port, pin_self, reset_pg,  # noqa: E402
                     run_load, service_env, signed_requests, start_server, stop_server, wait_ready, write_roster,
                     rss_mb)

WARMUP = 50


def fresh_url(kind: str, tmp: Path, name: str) -> str:
    if kind == "pg":
        reset_pg()
        return PG_URL
    return f"sqlite:///{tmp / (name + '.db')}"


def run_one(label: str, kind: str, tmp: Path, n: int, concurrency: int, pin: bool, extra_env=()) -> dict:
    url = fresh_url(kind, tmp, label)
    port = free_port()
    env = service_env(url, port, **dict(e.split("=", 1) for e in extra_env))
    if label == "service":
        roster = tmp / "roster.csv"
        workers = write_roster(roster)
        t0 = time.perf_counter()
        import subprocess

        subprocess.run([TEPSA, "workers", "import", str(roster)], env=env, cwd=tmp, check=True,
                       capture_output=True)
        print(f"  [{label}] roster: {workers} fictional workers imported (+ migration and reference data) "
              f"in {time.perf_counter() - t0:.1f} s", flush=True)
        argv = [TEPSA, "serve", "--host", "127.0.0.1", "--port", str(port)]
    else:
        argv = [PY, str(ROOT / "bench" / "floor_app.py"), "--port", str(port)]
    proc = start_server(argv, env, tmp, tmp / f"{label}.log", pin)
    try:
        ready = wait_ready(port, proc)
        tag = f"{label[:2].upper()}{int(time.time()) % 100000:05d}"
        reqs = signed_requests(WARMUP + n, f"http://127.0.0.1:{port}", tag)
        warm = run_load(port, reqs[:WARMUP], concurrency)
        res = run_load(port, reqs[WARMUP:], concurrency)
        drain_s = 0.0
        if label == "service":
            # Messages a busy webhook only stored ("received") are worked off by the inbox worker.
            t0 = time.perf_counter()
            while count_rows(url, "inbox", "status = 'pending'") and time.perf_counter() - t0 < 600:
                time.sleep(0.5)
            drain_s = time.perf_counter() - t0
        time.sleep(1.0)
        mem = rss_mb(proc.pid)
    finally:
        stop_server(proc)
    table = "inbound_message" if label == "service" else "floor_message"
    stored = count_rows(url, table)
    out = {"label": label, "ready_s": round(ready, 2), **res.summary(), "rss_mb": mem, "drain_s": round(drain_s, 1),
           "expected_rows": warm.ok + res.ok, f"rows_{table}": stored}
    if label == "service":
        out["rows_intake"] = count_rows(url, "intake")
        out["rows_assignment"] = count_rows(url, "assignment")
        out["rows_outbox"] = count_rows(url, "outbox")
    out["all_accepted_stored"] = stored == warm.ok + res.ok
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", choices=["sqlite", "pg"], default="sqlite")
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--no-pin", action="store_true", help="do not pin server to CPU 0 and generator to CPU 1")
    ap.add_argument("--service-env", action="append", default=[], metavar="TEPSA_X=VALUE",
                    help="a setting for the service under test (e.g. TEPSA_INBOX_BUSY_PACE_SECONDS=0.2)")
    a = ap.parse_args()
    pin = not a.no_pin
    pin_self(pin)
    results = {}
    print(f"machine at start: {machine_load()}", flush=True)
    with tempfile.TemporaryDirectory(prefix="tepsa-bench-", dir="/tmp") as d:
        tmp = Path(d)
        for label in ("floor", "service"):
            print(f"running {label} on {a.db}: {a.requests} requests, {a.concurrency} connections", flush=True)
            results[label] = run_one(label, a.db, tmp, a.requests, a.concurrency, pin,
                                     a.service_env if label == "service" else ())
            print("  " + json.dumps(results[label], ensure_ascii=False), flush=True)
    f, s = results["floor"], results["service"]
    ratio = s["req_per_s"] / f["req_per_s"] if f["req_per_s"] else 0
    print()
    print(f"{'':10s} {'req/s':>8s} {'p50 ms':>8s} {'p99 ms':>8s} {'non-2xx':>8s} {'stored':>12s}")
    for r in (f, s):
        rows = r.get("rows_inbound_message", r.get("rows_floor_message"))
        print(f"{r['label']:10s} {r['req_per_s']:8.1f} {r['p50_ms']:8.2f} {r['p99_ms']:8.2f} {r['non_2xx']:8d} "
              f"{rows:>5d}/{r['expected_rows']:<6d}")
    print(f"ratio service/floor: {ratio:.2f}   (target >= 0.5: {'met' if ratio >= 0.5 else 'MISSED'})")
    print(f"service p99 {s['p99_ms']} ms   (target < 100 ms: {'met' if s['p99_ms'] < 100 else 'MISSED'})")
    print(f"service non-2xx {s['non_2xx']}   (target 0: {'met' if s['non_2xx'] == 0 else 'MISSED'})")
    print(f"every accepted request stored: floor {f['all_accepted_stored']}, service {s['all_accepted_stored']} "
          f"(service backlog worked off {s['drain_s']} s after the last answer)")
    print(f"load generator: asyncio raw HTTP/1.1 keep-alive client, {'pinned to CPU 1, servers to CPU 0' if pin else 'unpinned'}")
    print(f"machine: {machine_load()}")
    print(f"command: {command_line()}")


if __name__ == "__main__":
    main()
