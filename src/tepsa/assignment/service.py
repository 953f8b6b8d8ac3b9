"""Assigning an intake: gather plain data, call the pure choice, record the offer.

The assignment row, its timeline event and the Telegram offer (an outbox row)
are written in the caller's transaction.
"""

from __future__ import annotations

import logging

from datetime import datetime, timedelta, timezone

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, or_, select

from tepsa import metrics
from tepsa.assignment.choice import BALAI, TIER_UNIT, Candidate, CaseInfo, Choice, UnitInfo, WorkerInfo, choose, provinsi_of
from tepsa.assignment import policy
from tepsa.assignment.models import ACTIVE_ASSIGNMENT_STATES, Assignment, Deadline, Worker
from tepsa.db import utcnow
from tepsa.geo.models import Unit, UnitArea
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
    """Points of regions, from the in-memory gazetteer (the same shipped files as the region table)."""
    from tepsa.geo.gazetteer import get_gazetteer

    gaz = get_gazetteer()
    out = {}
    for k in kodes:
        r = gaz.region(k)
        if r is not None:
            out[k] = (r.lat, r.lon)
    return out


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
            open_cases=open_cases.get(w.id, 0), reachable=w.reachable, on_duty=w.bertugas,
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
    """'Kec. Tenayan Raya, Kota Pekanbaru': names from the in-memory gazetteer, no query."""
    from tepsa.geo.gazetteer import get_gazetteer

    gaz = get_gazetteer()
    kec, kab = gaz.region(intake.kecamatan_kode), gaz.region(intake.kabkota_kode)
    parts = []
    if kec is not None:
        parts.append(f"Kec. {kec.nama}")
    if kab is not None:
        parts.append(kab.nama)
    return ", ".join(parts) or "-"


_ZONES = {"WITA": (8, {"51", "52", "53", "63", "64", "65", "71", "72", "73", "74", "75", "76"}),
          "WIT": (9, {"81", "82", "91", "92"})}


def local_time(moment: datetime, kabkota_kode: str | None) -> str:
    """'21:45 WIB' in the child's time zone (WIB, WITA or WIT), as the worker reads a deadline."""
    prov = (kabkota_kode or "").split(".", 1)[0]
    zone, hours = "WIB", 7
    for name, (offset, provinces) in _ZONES.items():
        if prov in provinces:
            zone, hours = name, offset
    return (moment.astimezone(timezone(timedelta(hours=hours)))).strftime("%d/%m %H:%M") + f" {zone}"


def offer_text(session: Session, intake: Intake, distance_km: float | None, deadline: datetime | None = None,
               lang: str = "id") -> str:
    """The offer as the worker reads it: no name, no number, no report text."""
    distance = text("telegram", "distance_unknown", lang) if distance_km is None else f"{distance_km:.1f} km"
    return text("telegram", "offer", lang,
                reference=intake.reference, urgency=urgency_label(intake.urgency, lang).upper(),
                category=category_label(intake.category, lang), area=area_label(session, intake),
                distance=distance, deadline=local_time(deadline, intake.kabkota_kode) if deadline else "-")


def offer_buttons(assignment_id: int, lang: str = "id") -> list[list[list[str]]]:
    """Inline buttons as [label, callback data] rows: Terima / Tolak, then Detail."""
    return [[[text("telegram", "btn_accept", lang), f"acc:{assignment_id}"],
             [text("telegram", "btn_decline", lang), f"dec:{assignment_id}"]],
            [[text("telegram", "btn_detail", lang), f"det:{assignment_id}"]]]


FAILED_STATES = ("declined", "timed_out", "undeliverable")


def assign_intake(session: Session, intake: Intake, exclude: frozenset[str] = frozenset()) -> Assignment | None:
    """Offer ``intake`` to the best candidate when it is located, needs dispatch and has no live offer."""
    if intake.id is None or not intake.kabkota_kode or intake.urgency in (None, NO_DISPATCH_URGENCY):
        return None
    if intake.status != "open" or live_assignment(session, intake.id) is not None:
        return None
    if session.exec(select(Assignment.id).where(Assignment.intake_id == intake.id)).first() is not None:
        return None  # offered before: moving on is escalate()'s job, never a fresh start
    return _offer_next(session, intake)


def _case(session: Session, intake: Intake) -> CaseInfo:
    lat, lon = case_point(session, intake)
    return CaseInfo(kabkota_kode=intake.kabkota_kode, lat=lat, lon=lon, categories=tuple(intake.categories or ()))


def _offer_next(session: Session, intake: Intake) -> Assignment | None:
    """Offer to the next candidate who has not declined or let an offer lapse; supervisors when none is left."""
    history = list(session.exec(select(Assignment, Worker.kode).join(Worker, Worker.id == Assignment.worker_id)
                                .where(Assignment.intake_id == intake.id)))
    failed = [(a, kode) for a, kode in history if a.status in FAILED_STATES]
    if any(a.tier == TIER_UNIT for a, _ in failed):
        alert_supervisors(session, intake, "desk_no_answer")
        return None
    exclude = frozenset(kode for _, kode in failed)
    workers, units = load_candidates(session, intake.kabkota_kode)
    choice: Choice = choose(_case(session, intake), workers, units, exclude=exclude)
    ranked: list[Candidate] = list(choice.ranked)
    field_tried = sum(1 for a, _ in failed if a.tier != TIER_UNIT)
    if field_tried >= policy.current().max_field_offers:
        ranked = [c for c in ranked if c.tier == TIER_UNIT]
    if not ranked:
        session.add(TimelineEvent(intake_id=intake.id, kind="unassigned", data={"reasons": list(choice.reasons)}))
        log.warning("assignment: no candidate", extra={"intake_id": intake.id, "kabkota_kode": intake.kabkota_kode})
        alert_supervisors(session, intake, "no_candidate")
        return None
    return _make_offer(session, intake, ranked[0], ranked, list(choice.reasons))


def _make_offer(session: Session, intake: Intake, chosen: Candidate, ranked: list[Candidate],
                reasons: list[str]) -> Assignment | None:
    deadline_at = utcnow() + timedelta(seconds=policy.current().accept_seconds(intake.urgency))
    assignment = Assignment(
        intake_id=intake.id, worker_id=chosen.worker_id, status="offered", tier=chosen.tier,
        distance_km=chosen.distance_km, reasons=reasons, candidates=[c.as_dict() for c in ranked],
        deadline_at=deadline_at,
    )
    try:
        with session.begin_nested():
            session.add(assignment)
            session.flush()
    except IntegrityError:
        # Another request offered this intake a moment ago: that offer stands.
        return None
    session.add(Deadline(kind="offer_timeout", assignment_id=assignment.id, due_at=deadline_at))
    session.add(TimelineEvent(intake_id=intake.id, kind="offered", data={
        "assignment_id": assignment.id, "worker_kode": chosen.kode, "tier": chosen.tier,
        "distance_km": assignment.candidates[0]["distance_km"] if assignment.candidates else None,
        "deadline_at": deadline_at.isoformat(),
    }))
    outbox.enqueue(
        session, channel="telegram", dedupe_key=f"offer:{assignment.id}",
        payload={"kind": "offer", "assignment_id": assignment.id,
                 "text": offer_text(session, intake, chosen.distance_km, deadline_at),
                 "buttons": offer_buttons(assignment.id)},
        worker_id=chosen.worker_id, intake_id=intake.id,
    )
    metrics.offers_made.labels(chosen.tier).inc()
    log.info("assignment: offered", extra={"intake_id": intake.id, "assignment_id": assignment.id,
                                           "worker_id": chosen.worker_id, "tier": chosen.tier})
    return assignment


def close_offer(session: Session, assignment: Assignment, status: str, reason: str | None = None) -> None:
    """End an offer (declined, timed out, undeliverable) and cancel its deadline."""
    assignment.status = status
    assignment.responded_at = utcnow()
    assignment.updated_at = utcnow()
    if reason:
        assignment.decline_reason = reason[:64]
    session.add(assignment)
    for deadline in session.exec(select(Deadline).where(Deadline.assignment_id == assignment.id,
                                                        Deadline.status == "pending")):
        deadline.status = "cancelled"
        session.add(deadline)


def escalate(session: Session, assignment: Assignment, status: str, reason: str | None = None) -> Assignment | None:
    """The offer failed (``status``): record it and offer the case to the next candidate."""
    close_offer(session, assignment, status, reason)
    intake = session.get(Intake, assignment.intake_id)
    session.add(TimelineEvent(intake_id=intake.id, kind=status, data={
        "assignment_id": assignment.id, "reason": reason}))
    session.flush()
    if intake.status != "open":
        return None
    return _offer_next(session, intake)


def alert_supervisors(session: Session, intake: Intake, why: str) -> None:
    """Nobody took the case: flag it in the console and tell supervisors on Telegram."""
    from tepsa.auth.models import User

    if intake.alert == why:
        return
    intake.alert = why
    session.add(intake)
    session.add(TimelineEvent(intake_id=intake.id, kind="supervisor_alert", data={"why": why}))
    supervisors = session.exec(select(User).where(col(User.role).in_(["supervisor", "admin"]), User.active == True,  # noqa: E712
                                                  col(User.telegram_chat_id).is_not(None)))
    for user in supervisors:
        outbox.enqueue(session, channel="telegram", dedupe_key=f"alert:{intake.id}:{why}:{user.id}",
                       intake_id=intake.id, payload={
                           "kind": "alert", "chat_id": user.telegram_chat_id,
                           "text": text("telegram", "supervisor_alert", "id", reference=intake.reference,
                                        urgency=urgency_label(intake.urgency).upper(),
                                        area=area_label(session, intake),
                                        why=text("telegram", f"why_{why}", "id"))})
    log.warning("assignment: supervisors alerted", extra={"intake_id": intake.id, "status": why})
