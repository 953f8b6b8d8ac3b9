"""Assigning an intake: gather plain data, call the pure choice, record the offer.

The assignment row, its timeline event and the Telegram offer (an outbox row)
are written in the caller's transaction.
"""

from __future__ import annotations

import logging

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, or_, select

from tepsa import metrics
from tepsa.assignment.choice import BALAI, CaseInfo, Choice, UnitInfo, WorkerInfo, choose, provinsi_of
from tepsa.assignment.models import ACTIVE_ASSIGNMENT_STATES, Assignment, Worker
from tepsa.geo.models import Region, Unit, UnitArea
from tepsa.intake.models import Intake, TimelineEvent
from tepsa.notify import service as outbox
from tepsa.texts import text
from tepsa.vocab import category_label, urgency_label

log = logging.getLogger("tepsa.assignment")

NO_DISPATCH_URGENCY = "rendah"


def live_assignment(session: Session, intake_id: int) -> Assignment | None:
    return session.exec(
        select(Assignment).where(Assignment.intake_id == intake_id,
                                 col(Assignment.status).in_(ACTIVE_ASSIGNMENT_STATES))
    ).first()


def _points(session: Session, kodes: set[str]) -> dict[str, tuple[float | None, float | None]]:
    if not kodes:
        return {}
    rows = session.exec(select(Region.kode, Region.lat, Region.lon).where(col(Region.kode).in_(kodes))).all()
    return {k: (lat, lon) for k, lat, lon in rows}


def load_candidates(session: Session, kabkota_kode: str) -> tuple[list[WorkerInfo], list[UnitInfo]]:
    """Workers of the child's province and every duty desk, with their open caseloads."""
    prov = provinsi_of(kabkota_kode)
    workers = list(session.exec(
        select(Worker).where(Worker.aktif == True,  # noqa: E712
                             or_(col(Worker.kabkota_kode).startswith(prov + "."), Worker.jenis == BALAI))
    ))
    ids = [w.id for w in workers]
    open_cases: dict[int, int] = {}
    if ids:
        open_cases = dict(session.exec(
            select(Assignment.worker_id, func.count())
            .where(col(Assignment.worker_id).in_(ids), col(Assignment.status).in_(ACTIVE_ASSIGNMENT_STATES))
            .group_by(Assignment.worker_id)
        ).all())
    units = list(session.exec(select(Unit)))
    areas: dict[str, set[str]] = {}
    for unit_kode, prov_kode in session.exec(select(UnitArea.unit_kode, UnitArea.provinsi_kode)).all():
        areas.setdefault(unit_kode, set()).add(prov_kode)
    points = _points(session, {w.kabkota_kode for w in workers} | {u.kabkota_kode for u in units})
    infos = []
    for w in workers:
        lat, lon = (w.lat, w.lon) if w.lat is not None and w.lon is not None else points.get(w.kabkota_kode, (None, None))
        infos.append(WorkerInfo(
            id=w.id, kode=w.kode, jenis=w.jenis, kabkota_kode=w.kabkota_kode, lat=lat, lon=lon,
            aktif=w.aktif, keahlian=frozenset(w.keahlian or ()), kapasitas=w.kapasitas,
            open_cases=open_cases.get(w.id, 0),
        ))
    unit_infos = [
        UnitInfo(kode=u.kode, kabkota_kode=u.kabkota_kode, lat=points.get(u.kabkota_kode, (None, None))[0],
                 lon=points.get(u.kabkota_kode, (None, None))[1], provinces=frozenset(areas.get(u.kode, ())))
        for u in units
    ]
    return infos, unit_infos


def case_point(session: Session, intake: Intake) -> tuple[float | None, float | None]:
    if intake.lat is not None and intake.lon is not None:
        return intake.lat, intake.lon
    for kode in (intake.desa_kode, intake.kecamatan_kode, intake.kabkota_kode):
        if kode:
            lat, lon = _points(session, {kode}).get(kode, (None, None))
            if lat is not None and lon is not None:
                return lat, lon
    return None, None


def area_label(session: Session, intake: Intake) -> str:
    names = dict(session.exec(
        select(Region.kode, Region.nama).where(col(Region.kode).in_([k for k in (intake.kecamatan_kode, intake.kabkota_kode) if k]))
    ).all())
    parts = []
    if intake.kecamatan_kode and intake.kecamatan_kode in names:
        parts.append(f"Kec. {names[intake.kecamatan_kode]}")
    if intake.kabkota_kode and intake.kabkota_kode in names:
        parts.append(names[intake.kabkota_kode])
    return ", ".join(parts) or "-"


def offer_text(session: Session, intake: Intake, distance_km: float | None, lang: str = "id") -> str:
    """The offer as the worker reads it: no name, no number, no report text."""
    distance = text("telegram", "distance_unknown", lang) if distance_km is None else f"{distance_km:.1f} km"
    return text("telegram", "offer", lang,
                reference=intake.reference, urgency=urgency_label(intake.urgency, lang).upper(),
                category=category_label(intake.category, lang), area=area_label(session, intake),
                distance=distance)


def assign_intake(session: Session, intake: Intake, exclude: frozenset[str] = frozenset()) -> Assignment | None:
    """Offer ``intake`` to the best candidate when it is located, needs dispatch and has no live offer."""
    if intake.id is None or not intake.kabkota_kode or intake.urgency in (None, NO_DISPATCH_URGENCY):
        return None
    if intake.status != "open" or live_assignment(session, intake.id) is not None:
        return None
    workers, units = load_candidates(session, intake.kabkota_kode)
    lat, lon = case_point(session, intake)
    case = CaseInfo(kabkota_kode=intake.kabkota_kode, lat=lat, lon=lon, categories=tuple(intake.categories or ()))
    choice: Choice = choose(case, workers, units, exclude=exclude)
    if choice.chosen is None:
        session.add(TimelineEvent(intake_id=intake.id, kind="unassigned", data={"reasons": list(choice.reasons)}))
        log.warning("assignment: no candidate", extra={"intake_id": intake.id, "kabkota_kode": intake.kabkota_kode})
        return None
    chosen = choice.chosen
    assignment = Assignment(
        intake_id=intake.id, worker_id=chosen.worker_id, status="offered", tier=chosen.tier,
        distance_km=chosen.distance_km, reasons=list(choice.reasons),
        candidates=[c.as_dict() for c in choice.ranked],
    )
    try:
        with session.begin_nested():
            session.add(assignment)
            session.flush()
    except IntegrityError:
        # Another request offered this intake a moment ago: that offer stands.
        return None
    session.add(TimelineEvent(intake_id=intake.id, kind="offered", data={
        "assignment_id": assignment.id, "worker_kode": chosen.kode, "tier": chosen.tier,
        "distance_km": assignment.candidates[0]["distance_km"],
    }))
    outbox.enqueue(
        session, channel="telegram", dedupe_key=f"offer:{assignment.id}",
        payload={"kind": "offer", "assignment_id": assignment.id, "text": offer_text(session, intake, chosen.distance_km)},
        worker_id=chosen.worker_id, intake_id=intake.id,
    )
    metrics.offers_made.labels(chosen.tier).inc()
    log.info("assignment: offered", extra={"intake_id": intake.id, "assignment_id": assignment.id,
                                           "worker_id": chosen.worker_id, "tier": chosen.tier})
    return assignment
