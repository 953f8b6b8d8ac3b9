#!/usr/bin/env python3
"""Start-up time and resident memory of `tepsa serve`.

    .venv/bin/python bench/startup_bench.py [--db sqlite pg] [--intakes 10000] [--concurrency 16]

For each database kind: a NEW database (a new SQLite file under /tmp; for
PostgreSQL the `bench` database after dropping its public schema), then time
from spawning `tepsa serve` to the first 200 from /readyz (it migrates and loads
the ~91k regions and villages in that time). Then resident memory (VmRSS from
/proc/PID/status) idle, and after N new intakes sent through the signed
WhatsApp webhook (16 connections, as in webhook_bench.py), with VmHWM (peak).
The fictional roster (`tepsa workers import`) is imported after the timed
start (so the start is on an empty database) and before the intakes, so they
get assigned. Finally a second start on the now-filled database is timed.
Target: RSS < 300 MB after 10,000 intakes.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (machine_load, PG_URL, TEPSA, command_line, count_rows, free_port, pin_self, reset_pg, rss_mb,  # noqa: E402
                     run_load, service_env, signed_requests, start_server, stop_server, wait_ready, write_roster)


def run(kind: str, tmp: Path, intakes: int, concurrency: int, pin: bool) -> dict:
    if kind == "pg":
        reset_pg()
        url = PG_URL
    else:
        url = f"sqlite:///{tmp / 'startup.db'}"
    port = free_port()
    env = service_env(url, port)
    proc = start_server([TEPSA, "serve", "--host", "127.0.0.1", "--port", str(port)], env, tmp,
                        tmp / f"startup-{kind}.log", pin)
    try:
        ready_new = wait_ready(port, proc)
        time.sleep(2.0)
        idle = rss_mb(proc.pid)
        roster = tmp / "roster.csv"
        write_roster(roster)
        subprocess.run([TEPSA, "workers", "import", str(roster)], env=env, cwd=tmp, check=True, capture_output=True)
        reqs = signed_requests(intakes, f"http://127.0.0.1:{port}", f"ST{int(time.time()) % 100000:05d}")
        res = run_load(port, reqs, concurrency)
        # Reports a busy webhook only stored are turned into intakes by the inbox worker: wait for it.
        t0 = time.perf_counter()
        while count_rows(url, "inbox", "status = 'pending'") and time.perf_counter() - t0 < 1200:
            time.sleep(1.0)
        time.sleep(2.0)
        after = rss_mb(proc.pid)
    finally:
        stop_server(proc)
    # a second start on the now-populated database (migrations done, reference data present)
    proc = start_server([TEPSA, "serve", "--host", "127.0.0.1", "--port", str(port)], env, tmp,
                        tmp / f"restart-{kind}.log", pin)
    try:
        ready_again = wait_ready(port, proc)
    finally:
        stop_server(proc)
    return {"db": kind, "ready_new_db_s": round(ready_new, 2), "ready_existing_db_s": round(ready_again, 2),
            "rss_idle_mb": idle["VmRSS"], "intakes_sent": res.sent, "ok_2xx": res.ok,
            "rows_intake": count_rows(url, "intake"), "req_per_s": round(res.sent / res.elapsed, 1),
            "rss_after_mb": after["VmRSS"], "rss_peak_mb": after["VmHWM"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--db", nargs="+", choices=["sqlite", "pg"], default=["sqlite", "pg"])
    ap.add_argument("--intakes", type=int, default=10000)
    ap.add_argument("--concurrency", type=int, default=16)
    ap.add_argument("--no-pin", action="store_true")
    a = ap.parse_args()
    pin_self(not a.no_pin)
    rows = []
    with tempfile.TemporaryDirectory(prefix="tepsa-startup-", dir="/tmp") as d:
        for kind in a.db:
            print(f"running {kind} ...", flush=True)
            rows.append(run(kind, Path(d), a.intakes, a.concurrency, not a.no_pin))
            print("  ", rows[-1], flush=True)
    print()
    print(f"{'db':6s} {'ready new db s':>14s} {'ready again s':>13s} {'RSS idle MB':>11s} {'intakes':>8s} "
          f"{'RSS after MB':>12s} {'peak MB':>8s} {'target <300MB':>13s}")
    for r in rows:
        print(f"{r['db']:6s} {r['ready_new_db_s']:14.2f} {r['ready_existing_db_s']:13.2f} {r['rss_idle_mb']:11.1f} "
              f"{r['rows_intake']:8d} {r['rss_after_mb']:12.1f} {r['rss_peak_mb']:8.1f} "
              f"{'met' if r['rss_after_mb'] < 300 else 'MISSED':>13s}")
    print(f"machine: {machine_load()}")
    print(f"command: {command_line()}")


if __name__ == "__main__":
    main()
