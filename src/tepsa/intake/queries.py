"""Read models of intakes for the operators' API and console."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from tepsa.assignment.models import ACTIVE_ASSIGNMENT_STATES, Assignment, Worker
from tepsa.intake.models import InboundMessage, Intake, TimelineEvent


def _assignment_summaries(session: Session, intake_ids: list[int]) -> dict[int, dict[str, str]]:
    """The live (offered/accepted) assignment of each intake, else its latest one."""
    if not intake_ids:
        return {}
    rows = session.exec(
        select(Assignment.intake_id, Assignment.status, Worker.kode, Assignment.id)
        .join(Worker, Worker.id == Assignment.worker_id)
        .where(col(Assignment.intake_id).in_(intake_ids))
        .order_by(col(Assignment.id))
    ).all()
    out: dict[int, dict[str, str]] = {}
    for intake_id, status, kode, _ in rows:
        current = out.get(intake_id)
        if current is None or current["status"] not in ACTIVE_ASSIGNMENT_STATES or status in ACTIVE_ASSIGNMENT_STATES:
            out[intake_id] = {"worker_kode": kode, "status": status}
    return out


def intake_summary(intake: Intake, assignment: dict[str, str] | None) -> dict[str, Any]:
    return {
        "id": intake.id,
        "reference": intake.reference,
        "channel": intake.channel,
        "status": intake.status,
        "urgency": intake.urgency,
        "category": intake.category,
        "categories": list(intake.categories or []),
        "kabkota_kode": intake.kabkota_kode,
        "kecamatan_kode": intake.kecamatan_kode,
        "desa_kode": intake.desa_kode,
        "age": intake.age,
        "needs_review": intake.needs_review,
        "alert": intake.alert,
        "created_at": intake.created_at,
        "updated_at": intake.updated_at,
        "assignment": assignment,
    }


def list_intakes(session: Session, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
    total = session.exec(select(func.count()).select_from(Intake)).one()
    intakes = list(session.exec(select(Intake).order_by(col(Intake.id).desc()).offset(offset).limit(limit)))
    summaries = _assignment_summaries(session, [i.id for i in intakes])
    return [intake_summary(i, summaries.get(i.id)) for i in intakes], total


def intake_detail(session: Session, intake_id: int) -> dict[str, Any] | None:
    intake = session.get(Intake, intake_id)
    if intake is None:
        return None
    detail = intake_summary(intake, _assignment_summaries(session, [intake.id]).get(intake.id))
    detail["reporter_phone"] = intake.reporter_phone
    detail["child_sex"] = intake.child_sex
    detail["reporter"] = intake.reporter_role
    detail["lat"], detail["lon"] = intake.lat, intake.lon
    detail["triage"] = {
        "ruleset_version": intake.ruleset_version,
        "needs_review": intake.needs_review,
        "reasons": list(intake.triage_reasons or []),
    }
    detail["messages"] = [
        {"id": m.id, "channel": m.channel, "body": m.body, "lat": m.lat, "lon": m.lon,
         "num_media": m.num_media, "received_at": m.received_at}
        for m in session.exec(select(InboundMessage).where(InboundMessage.intake_id == intake.id)
                              .order_by(col(InboundMessage.id)))
    ]
    detail["assignments"] = [
        {"id": a.id, "worker_kode": kode, "status": a.status, "tier": a.tier,
         "distance_km": None if a.distance_km is None else round(a.distance_km, 2),
         "reasons": list(a.reasons or []), "candidates": list(a.candidates or []), "created_at": a.created_at}
        for a, kode in session.exec(
            select(Assignment, Worker.kode).join(Worker, Worker.id == Assignment.worker_id)
            .where(Assignment.intake_id == intake.id).order_by(col(Assignment.id)))
    ]
    detail["timeline"] = [
        {"at": e.at, "kind": e.kind, "actor": e.actor, "data": dict(e.data or {})}
        for e in session.exec(select(TimelineEvent).where(TimelineEvent.intake_id == intake.id)
                              .order_by(col(TimelineEvent.id)))
    ]
    return detail
