"""Choosing who gets an intake: a pure function over plain data.

Order (the foundation issue and the triage guide's target responses):
1. Sakti Peksos serving the child's kab/kota, nearest first;
2. Sakti Peksos elsewhere in the same province, nearest first;
3. the duty desk of the regional unit whose service area covers the province
   (the nearest unit when no area covers it).
Within a tier, distances are compared to the kilometre; equal distances are
broken by training in the case's categories (`keahlian`), then by the lighter
open caseload. Workers who are inactive, off duty, unreachable, excluded (declined or
timed out before) or at capacity are skipped; a duty desk is never skipped for
caseload because it is the last resort.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from tepsa.geo.distance import haversine_km

SAKTI_PEKSOS = "sakti_peksos"
BALAI = "balai"

TIER_KABKOTA = "kabkota"
TIER_PROVINSI = "provinsi"
TIER_UNIT = "unit"
_TIER_RANK = {TIER_KABKOTA: 0, TIER_PROVINSI: 1, TIER_UNIT: 2}


def provinsi_of(kabkota_kode: str) -> str:
    return kabkota_kode.split(".", 1)[0]


@dataclass(frozen=True)
class WorkerInfo:
    id: int
    kode: str
    jenis: str
    kabkota_kode: str
    lat: float | None
    lon: float | None
    aktif: bool = True
    keahlian: frozenset[str] = frozenset()
    kapasitas: int = 10
    open_cases: int = 0
    reachable: bool = True
    on_duty: bool = True


@dataclass(frozen=True)
class UnitInfo:
    kode: str
    kabkota_kode: str
    lat: float | None
    lon: float | None
    provinces: frozenset[str]


@dataclass(frozen=True)
class CaseInfo:
    kabkota_kode: str
    lat: float | None
    lon: float | None
    categories: tuple[str, ...] = ()


@dataclass(frozen=True)
class Candidate:
    worker_id: int
    kode: str
    tier: str
    distance_km: float | None
    trained: bool
    open_cases: int
    unit_kode: str | None = None

    def as_dict(self) -> dict:
        return {
            "worker_id": self.worker_id,
            "kode": self.kode,
            "tier": self.tier,
            "distance_km": None if self.distance_km is None else round(self.distance_km, 2),
            "trained": self.trained,
            "open_cases": self.open_cases,
            "unit_kode": self.unit_kode,
        }


@dataclass(frozen=True)
class Choice:
    chosen: Candidate | None
    ranked: tuple[Candidate, ...]
    reasons: tuple[str, ...] = field(default=())

    @property
    def runners_up(self) -> tuple[Candidate, ...]:
        return self.ranked[1:]


def _distance(case: CaseInfo, lat: float | None, lon: float | None) -> float | None:
    if None in (case.lat, case.lon, lat, lon):
        return None
    return haversine_km(case.lat, case.lon, lat, lon)  # type: ignore[arg-type]


def _sort_key(c: Candidate) -> tuple:
    far = float("inf") if c.distance_km is None else c.distance_km
    return (_TIER_RANK[c.tier], round(far) if far != float("inf") else far, not c.trained, c.open_cases, far, c.kode)


def covering_unit(case: CaseInfo, units: Sequence[UnitInfo]) -> tuple[UnitInfo | None, str]:
    """The unit whose service area covers the child's province, else the nearest unit."""
    prov = provinsi_of(case.kabkota_kode)
    covering = [u for u in units if prov in u.provinces]
    pool, why = (covering, "covers") if covering else (list(units), "nearest")
    if not pool:
        return None, "none"
    pool.sort(key=lambda u: (_distance(case, u.lat, u.lon) or float("inf"), u.kode))
    return pool[0], why


def choose(
    case: CaseInfo,
    workers: Iterable[WorkerInfo],
    units: Sequence[UnitInfo],
    exclude: frozenset[str] = frozenset(),
    limit: int = 10,
) -> Choice:
    """Rank the candidates for ``case``; the first is the offer, the rest runners-up."""
    prov = provinsi_of(case.kabkota_kode)
    wanted = set(case.categories)
    reasons: list[str] = []
    desks: list[WorkerInfo] = []
    skipped = {"inactive": 0, "off duty": 0, "unreachable": 0, "excluded": 0, "full": 0}

    prefix = prov + "."
    counts = {TIER_KABKOTA: 0, TIER_PROVINSI: 0}
    pool: list[tuple] = []
    no_point = case.lat is None or case.lon is None
    inf = float("inf")
    for w in workers:
        # Most of a national roster is in other provinces: drop them first, with one string test.
        if w.jenis != BALAI and not w.kabkota_kode.startswith(prefix):
            continue
        if not w.aktif:
            skipped["inactive"] += 1
            continue
        if not w.on_duty:
            skipped["off duty"] += 1
            continue
        if not w.reachable:
            skipped["unreachable"] += 1
            continue
        if w.kode in exclude:
            skipped["excluded"] += 1
            continue
        if w.jenis == BALAI:
            desks.append(w)
            continue
        if w.jenis != SAKTI_PEKSOS:
            continue
        tier = TIER_KABKOTA if w.kabkota_kode == case.kabkota_kode else TIER_PROVINSI
        if w.open_cases >= w.kapasitas:
            skipped["full"] += 1
            continue
        counts[tier] += 1
        # Rank on plain tuples; Candidate objects only for the few that are kept.
        dist = None if no_point or w.lat is None or w.lon is None else haversine_km(case.lat, case.lon, w.lat, w.lon)
        trained = bool(wanted & w.keahlian)
        far = inf if dist is None else dist
        pool.append(((_TIER_RANK[tier], round(far) if dist is not None else inf, not trained, w.open_cases, far, w.kode),
                     w, tier, dist, trained))

    ranked = [Candidate(worker_id=w.id, kode=w.kode, tier=tier, distance_km=dist, trained=trained,
                        open_cases=w.open_cases)
              for _, w, tier, dist, trained in heapq.nsmallest(limit, pool, key=lambda item: item[0])]

    unit, why = covering_unit(case, units)
    if unit is not None:
        desk_candidates = sorted(
            (Candidate(worker_id=d.id, kode=d.kode, tier=TIER_UNIT, distance_km=_distance(case, d.lat, d.lon),
                       trained=bool(wanted & d.keahlian), open_cases=d.open_cases, unit_kode=unit.kode)
             for d in desks if d.kabkota_kode == unit.kabkota_kode),
            key=_sort_key,
        )
        ranked.extend(desk_candidates[:1])
        reasons.append(f"unit {unit.kode} ({'covers province ' + prov if why == 'covers' else 'nearest unit; no unit covers province ' + prov})"
                       + ("" if desk_candidates else ": no active duty desk"))

    reasons.insert(0, f"{counts[TIER_KABKOTA]} worker(s) in kab/kota {case.kabkota_kode}, "
                      f"{counts[TIER_PROVINSI]} elsewhere in province {prov}")
    if any(skipped.values()):
        reasons.append("skipped: " + ", ".join(f"{k} {v}" for k, v in skipped.items() if v))
    chosen = ranked[0] if ranked else None
    if chosen is not None:
        dist = "unknown distance" if chosen.distance_km is None else f"{chosen.distance_km:.1f} km"
        reasons.append(f"chose {chosen.kode} ({chosen.tier}, {dist}"
                       + (", trained for the category" if chosen.trained else "") + ")")
    else:
        reasons.append("no candidate: nobody to offer to")
    return Choice(chosen=chosen, ranked=tuple(ranked), reasons=tuple(reasons))
