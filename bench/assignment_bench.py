#!/usr/bin/env python3
"""Time the pure assignment choice ``choose()`` among 1,000 and 10,000 synthetic workers.

    .venv/bin/python bench/assignment_bench.py [--sizes 1000 10000] [--calls 2000]

Workers are fictional and spread over Indonesia like the kab/kota: each sits
near the centre of a kab/kota drawn at random (so a case's province and kab/kota
usually hold some), 5% inactive, 5% off duty, 10% not yet reachable, random open
caseloads (some full), random training; one duty desk per regional unit
(units.csv, with their service areas). Each call is a case in a random kab/kota
(at a kecamatan's coordinates) with one or two categories; one core, fresh
process. Each size is timed twice: all workers passed to choose() (the brief's
figure), and as the service calls it (load_candidates keeps only the child's
province's workers plus every duty desk; shown as N/prov~average pool size).
Target: p99 < 5 ms per call at 10,000 workers.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import command_line, machine_load, regions, units  # noqa: E402

from tepsa.assignment.choice import CaseInfo, UnitInfo, WorkerInfo, choose  # noqa: E402

CATS = ["kekerasan_fisik_psikis", "kejahatan_seksual", "penelantaran", "eksploitasi", "abh", "pengasuhan",
        "pornografi", "perdagangan"]


def build(n: int, rnd: random.Random):
    regs = regions()
    by_kode = {r.kode: r for r in regs}
    kabkota = [r for r in regs if r.level in ("kabupaten", "kota") and r.lat is not None]
    kecs = [r for r in regs if r.level == "kecamatan" and r.lat is not None and r.induk in by_kode]
    workers = []
    for i in range(n):
        k = rnd.choice(kabkota)
        workers.append(WorkerInfo(
            id=i + 1, kode=f"W{i:05d}", jenis="sakti_peksos", kabkota_kode=k.kode,
            lat=k.lat + rnd.uniform(-0.3, 0.3), lon=k.lon + rnd.uniform(-0.3, 0.3),
            aktif=rnd.random() > 0.05, on_duty=rnd.random() > 0.05, reachable=rnd.random() > 0.10,
            keahlian=frozenset(rnd.sample(CATS, rnd.randint(0, 2))), kapasitas=10, open_cases=rnd.randint(0, 10)))
    unit_infos = []
    for j, u in enumerate(units()):
        k = by_kode.get(u["kabkota_kode"])
        provs = frozenset(p for p in u["provinsi_jangkauan"].split(";") if p)
        unit_infos.append(UnitInfo(kode=u["kode"], kabkota_kode=u["kabkota_kode"], lat=k.lat if k else None,
                                   lon=k.lon if k else None, provinces=provs))
        workers.append(WorkerInfo(id=n + j + 1, kode=f"DESK-{u['kode']}", jenis="balai",
                                  kabkota_kode=u["kabkota_kode"], lat=k.lat if k else None,
                                  lon=k.lon if k else None, kapasitas=50))
    rnd.shuffle(workers)
    cases = []
    for _ in range(500):
        kc = rnd.choice(kecs)
        cases.append(CaseInfo(kabkota_kode=kc.induk, lat=kc.lat, lon=kc.lon,
                              categories=tuple(rnd.sample(CATS, rnd.randint(1, 2)))))
    return workers, unit_infos, cases


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--calls", type=int, default=2000)
    a = ap.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    rnd = random.Random(2024)
    print(f"{'workers passed':>16s} {'calls':>6s} {'p50 ms':>8s} {'p99 ms':>8s} {'max ms':>8s} {'chosen in kab/kota':>19s} "
          f"{'province':>9s} {'unit desk':>9s}")
    results = {}
    for n in a.sizes:
        workers, unit_infos, cases = build(n, rnd)
        by_prov: dict[str, list] = {}
        desks = [w for w in workers if w.jenis == "balai"]
        for w in workers:
            if w.jenis != "balai":
                by_prov.setdefault(w.kabkota_kode.split(".")[0], []).append(w)
        for mode in ("all", "province"):
            # "all": every worker in the country passed to choose();
            # "province": as the service calls it (load_candidates keeps the province's workers + every desk)
            pool = (lambda case: workers) if mode == "all" else \
                (lambda case: by_prov.get(case.kabkota_kode.split(".")[0], []) + desks)
            for c in cases[:50]:  # warm-up
                choose(c, pool(c), unit_infos)
            lat, tiers, sizes = [], {"kabkota": 0, "provinsi": 0, "unit": 0, None: 0}, []
            for i in range(a.calls):
                case = cases[i % len(cases)]
                ws = pool(case)
                sizes.append(len(ws))
                s = time.perf_counter()
                ch = choose(case, ws, unit_infos)
                lat.append(time.perf_counter() - s)
                tiers[ch.chosen.tier if ch.chosen else None] += 1
            lat.sort()
            p50, p99 = lat[len(lat) // 2] * 1000, lat[int(len(lat) * 0.99) - 1] * 1000
            if mode == "all":
                results[n] = p99
            label = f"{n}" if mode == "all" else f"{n}/prov~{sum(sizes) // len(sizes)}"
            print(f"{label:>16s} {a.calls:6d} {p50:8.3f} {p99:8.3f} {lat[-1] * 1000:8.3f} {tiers['kabkota']:19d} "
                  f"{tiers['provinsi']:9d} {tiers['unit']:9d}")
    if 10000 in results:
        print(f"target p99 < 5 ms at 10,000 workers: {'met' if results[10000] < 5 else 'MISSED'} "
              f"({results[10000]:.3f} ms)")
    print(f"machine: {machine_load()}")
    print(f"command: {command_line()}")


if __name__ == "__main__":
    main()
