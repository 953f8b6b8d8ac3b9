"""What an operator decides about an intake, each with a reason, a timeline event and an audit row.

Decisions about urgency, category and place are kept in ``Intake.overrides``
so that a later message, re-triaged, does not undo them. Every function here
runs in the caller's transaction; the caller commits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from rapidfuzz import fuzz
from sqlmodel import Session, col, or_, select

from tepsa.assignment.choice import Candidate, choose
from tepsa.assignment.models import Assignment
from tepsa.assignment.service import (
    _case, _make_offer, assign_intake, close_offer, live_assignment, load_candidates,
)
from tepsa.audit.service import record
from tepsa.auth.deps import Principal
from tepsa.db import utcnow
from tepsa.intake.models import InboundMessage, Intake, TimelineEvent
from tepsa.intake.service import IncomingMessage, apply_overrides, open_intake, receive_message
from tepsa.notify import service as outbox
from tepsa.texts import text
from tepsa.vocab import CATEGORIES, URGENCIES

log = logging.getLogger("tepsa.intake")

OUTCOMES = ("ditangani", "dirujuk", "informasi_diberikan", "tidak_dapat_dihubungi", "bukan_kasus")
MAX_REASON = 500


class ActionError(ValueError):
    """The decision cannot be taken as asked; the message says why (shown to the operator)."""


@dataclass(frozen=True)
class Actor:
    username: str
    role: str
    address: str | None = None

    @classmethod
    def of(cls, principal: Principal, address: str | None) -> "Actor":
        return cls(principal.username, principal.role, address)


def _reason(reason: str | None, required: bool = True) -> str:
    reason = (reason or "").replace("\x00", "").strip()[:MAX_REASON]
    if required and len(reason) < 3:
        raise ActionError("reason_required")
    return reason


def _event(session: Session, intake: Intake, kind: str, actor: Actor, **data) -> None:
    session.add(TimelineEvent(intake_id=intake.id, kind=kind, actor=actor.username, data=data))
    record(session, actor=actor.username, role=actor.role, address=actor.address, action=f"intake_{kind}",
           intake_id=intake.id, detail={k: v for k, v in data.items() if k not in ("reason", "note")})
    intake.updated_at = utcnow()
    session.add(intake)


def mark_opened(session: Session, intake: Intake, actor: Actor) -> bool:
    """The first time an operator opens the intake: the darurat alarm for it stops."""
    if intake.opened_at is not None:
        return False
    intake.opened_at, intake.opened_by = utcnow(), actor.username
    _event(session, intake, "opened_by_operator", actor)
    return True


def _withdraw_live_offer(session: Session, intake: Intake, status: str, reason: str) -> Assignment | None:
    """End the live offer (telling the worker) before the case moves elsewhere or closes."""
    live = live_assignment(session, intake.id)
    if live is None:
        return None
    was = live.status
    close_offer(session, live, status if was == "offered" else ("completed" if status == "closed" else status), reason)
    outbox.enqueue(session, channel="telegram", dedupe_key=f"withdrawn:{live.id}", worker_id=live.worker_id,
                   intake_id=intake.id, payload={"kind": "withdrawn", "assignment_id": live.id,
                                                 "text": text("telegram", "offer_withdrawn", "id",
                                                              reference=intake.reference)})
    return live


def reclassify(session: Session, intake: Intake, actor: Actor, reason: str, urgency: str | None = None,
               category: str | None = None, place: dict | None = None) -> list[str]:
    """Change urgency, category and/or place; returns the fields that changed."""
    reason = _reason(reason)
    if urgency is not None and urgency not in URGENCIES:
        raise ActionError("unknown_urgency")
    if category is not None and category not in CATEGORIES:
        raise ActionError("unknown_category")
    overrides = dict(intake.overrides or {})
    before = {"urgency": intake.urgency, "category": intake.category, "kabkota_kode": intake.kabkota_kode,
              "kecamatan_kode": intake.kecamatan_kode, "desa_kode": intake.desa_kode}
    if urgency and urgency != intake.urgency:
        overrides["urgency"] = urgency
    if category and category != intake.category:
        overrides["category"] = category
    codes = ("kabkota_kode", "kecamatan_kode", "desa_kode")
    if place and place.get("kabkota_kode") and any(place.get(k) != getattr(intake, k) for k in codes):
        overrides["place"] = {k: place.get(k) for k in ("kabkota_kode", "kecamatan_kode", "desa_kode", "lat", "lon")}
    if overrides == (intake.overrides or {}):
        raise ActionError("nothing_changed")
    intake.overrides = overrides
    apply_overrides(intake)
    after = {k: getattr(intake, k) for k in before}
    changed = [k for k in before if before[k] != after[k]]
    _event(session, intake, "reclassified", actor, reason=reason,
           before={k: before[k] for k in changed}, after={k: after[k] for k in changed})
    session.flush()
    assign_intake(session, intake)  # a case that now needs dispatch (or now has a place) is offered
    return changed


def candidates(session: Session, intake: Intake) -> list[Candidate]:
    """Who could take the case now, best first (the same pure choice as automatic assignment)."""
    if not intake.kabkota_kode:
        return []
    workers, units = load_candidates(session, intake.kabkota_kode)
    return list(choose(_case(session, intake), workers, units).ranked)


def reassign(session: Session, intake: Intake, actor: Actor, worker_kode: str, reason: str) -> Assignment:
    """Offer the case to a worker the operator picked from the suggested candidates."""
    reason = _reason(reason)
    if intake.status != "open":
        raise ActionError("intake_not_open")
    ranked = candidates(session, intake)
    chosen = next((c for c in ranked if c.kode == worker_kode), None)
    if chosen is None:
        raise ActionError("not_a_candidate")
    live = live_assignment(session, intake.id)
    if live is not None and live.worker_id == chosen.worker_id:
        raise ActionError("already_assigned")
    if live is not None:
        _withdraw_live_offer(session, intake, "reassigned", "operator")
        session.flush()
    assignment = _make_offer(session, intake, chosen, ranked, [f"chosen by operator {actor.username}"])
    if assignment is None:
        raise ActionError("concurrent_change")
    intake.alert = None
    _event(session, intake, "reassigned", actor, reason=reason, worker_kode=chosen.kode,
           previous=None if live is None else live.id)
    return assignment


def add_note(session: Session, intake: Intake, actor: Actor, note: str) -> None:
    note = _reason(note)
    _event(session, intake, "note", actor, note=note)


def mark_duplicate(session: Session, intake: Intake, actor: Actor, of_reference: str, reason: str | None) -> Intake:
    reason = _reason(reason, required=False)
    other = session.exec(select(Intake).where(Intake.reference == normalise_reference(of_reference))).first()
    if other is None:
        raise ActionError("unknown_reference")
    if other.id == intake.id:
        raise ActionError("duplicate_of_itself")
    if other.duplicate_of == intake.id:
        raise ActionError("duplicate_cycle")
    if intake.status != "open":
        raise ActionError("intake_not_open")
    _withdraw_live_offer(session, intake, "cancelled", "duplicate")
    intake.status, intake.duplicate_of, intake.closed_at, intake.alert = "duplicate", other.id, utcnow(), None
    _event(session, intake, "marked_duplicate", actor, of=other.reference, reason=reason)
    _event(session, other, "duplicate_linked", actor, reference=intake.reference)
    return other


def close(session: Session, intake: Intake, actor: Actor, outcome: str, note: str | None) -> None:
    if outcome not in OUTCOMES:
        raise ActionError("unknown_outcome")
    if intake.status != "open":
        raise ActionError("intake_not_open")
    note = _reason(note, required=False)
    _withdraw_live_offer(session, intake, "cancelled", "closed")
    intake.status, intake.outcome, intake.closed_at, intake.alert = "closed", outcome, utcnow(), None
    _event(session, intake, "closed", actor, outcome=outcome, note=note)


def normalise_reference(raw: str) -> str:
    """'k7m4qx', 'K7M 4QX', 'K7M-4QX' -> 'K7M-4QX'."""
    s = "".join(ch for ch in (raw or "").upper() if ch.isalnum())
    return f"{s[:3]}-{s[3:]}" if len(s) == 6 else (raw or "").strip().upper()


def _report_texts(session: Session, intake_ids: list[int]) -> dict[int, str]:
    """Each intake's report messages as one lower-case text, in one query."""
    texts: dict[int, list[str]] = {}
    for intake_id, body in session.exec(select(InboundMessage.intake_id, InboundMessage.body).where(
            col(InboundMessage.intake_id).in_(intake_ids), InboundMessage.kind == "report")
            .order_by(col(InboundMessage.id))):
        texts.setdefault(intake_id, []).append(body)
    return {k: " ".join(v).lower() for k, v in texts.items()}


def likely_duplicates(session: Session, intake: Intake, limit: int = 5) -> list[dict]:
    """Recent intakes about the same area or from the same number, ranked by how alike their reports read."""
    since = intake.created_at - timedelta(days=14)
    same = []
    if intake.kabkota_kode:
        same.append(Intake.kabkota_kode == intake.kabkota_kode)
    if intake.reporter_phone_hash:
        same.append(Intake.reporter_phone_hash == intake.reporter_phone_hash)
    if not same:
        return []
    others = list(session.exec(select(Intake).where(Intake.id != intake.id, Intake.created_at >= since,
                                                    Intake.status != "duplicate", or_(*same))
                               .order_by(col(Intake.created_at).desc()).limit(40)))
    texts = _report_texts(session, [intake.id, *(o.id for o in others)])
    mine = texts.get(intake.id, "")
    scored = []
    for other in others:
        score = fuzz.token_set_ratio(mine, texts.get(other.id, "")) if mine else 0.0
        why = []
        if intake.reporter_phone_hash and other.reporter_phone_hash == intake.reporter_phone_hash:
            score += 30
            why.append("same_number")
        if other.kabkota_kode and other.kabkota_kode == intake.kabkota_kode:
            why.append("same_area")
            if other.kecamatan_kode and other.kecamatan_kode == intake.kecamatan_kode:
                score += 10
        if other.category and other.category == intake.category:
            score += 10
            why.append("same_category")
        if score >= 50:
            scored.append({"id": other.id, "reference": other.reference, "score": round(min(score, 100.0)),
                           "why": why, "created_at": other.created_at, "urgency": other.urgency,
                           "category": other.category, "status": other.status})
    scored.sort(key=lambda d: -d["score"])
    return scored[:limit]


def new_operator_intake(session: Session, actor: Actor, body: str, form_token: str, phone: str | None,
                        danger_now: bool, contact_safe: bool | None) -> Intake:
    """An intake typed by an operator during a call; the form's token makes a double submit harmless."""
    body = (body or "").replace("\x00", "").strip()
    if len(body) < 3:
        raise ActionError("report_required")
    sid = f"operator:{form_token}"
    existing = session.exec(select(InboundMessage.intake_id).where(InboundMessage.provider_sid == sid)).first()
    if existing is not None:
        return session.get(Intake, existing)
    intake = open_intake(session, "operator", phone, urgency_floor="darurat" if danger_now else None,
                         actor=actor.username)
    intake.danger_now = danger_now or None
    intake.contact_safe = contact_safe
    intake.opened_at, intake.opened_by = utcnow(), actor.username  # the operator is on the call
    receive_message(session, IncomingMessage(channel="operator", provider_sid=sid, from_phone=phone, body=body,
                                             intake_id=intake.id))
    record(session, actor=actor.username, role=actor.role, address=actor.address, action="intake_created",
           intake_id=intake.id, detail={"channel": "operator"})
    return intake
