"""Receiving a report: the use case every channel calls.

One transaction writes the inbound message (unique provider id), joins or
opens the intake, triages it, assigns it when it can, and writes the offer to
the outbox. A provider retry (same ``provider_sid``) finds the stored message
and changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from tepsa.assignment.service import assign_intake, live_assignment
from tepsa.crypto import phone_hash
from tepsa.db import utcnow
from tepsa.intake.models import Attachment, InboundMessage, Intake, TimelineEvent
from tepsa.intake.reference import new_reference
from tepsa import metrics
from tepsa.triage.engine import triage
from tepsa.vocab import URGENCY_RANK

log = logging.getLogger("tepsa.intake")


@dataclass(frozen=True)
class IncomingMessage:
    """A reporter's message as a channel adapter hands it over (provider-neutral)."""

    channel: str
    provider_sid: str | None
    from_phone: str | None
    body: str
    lat: float | None = None
    lon: float | None = None
    num_media: int = 0
    media: tuple[tuple[str, str | None], ...] = ()
    """(url, content type) of each attached photo, voice note or document."""
    payload: dict[str, Any] = field(default_factory=dict)
    intake_id: int | None = None
    """Set when the channel already knows the intake (a voice call's spoken report)."""
    kind: str = "report"
    """report (triaged), answer (to a yes/no or age question) or command; only reports are triaged."""


@dataclass(frozen=True)
class Received:
    intake_id: int
    reference: str
    new_intake: bool
    duplicate: bool
    urgency: str | None
    assigned: bool
    message_id: int | None = None
    reply_text: str | None = None
    """For a duplicate: what the first delivery was answered."""


def open_intake_for(session: Session, channel: str, phone: str | None) -> Intake | None:
    """The number's open intake on this channel: later messages are follow-ups on it, not new cases."""
    if not phone:
        return None
    return session.exec(
        select(Intake)
        .where(Intake.channel == channel, Intake.reporter_phone_hash == phone_hash(phone), Intake.status == "open")
        .order_by(col(Intake.id).desc())
    ).first()


def open_intake(session: Session, channel: str, phone: str | None, urgency_floor: str | None = None,
                actor: str = "system") -> Intake:
    """A new intake with a fresh reference (and a floor on its urgency when the reporter set one)."""
    for _ in range(10):
        intake = Intake(reference=new_reference(), channel=channel, reporter_phone=phone,
                        reporter_phone_hash=phone_hash(phone),
                        urgency_floor=urgency_floor, urgency=urgency_floor)
        try:
            with session.begin_nested():
                session.add(intake)
                session.flush()
        except IntegrityError:
            continue  # reference collision: draw again
        session.add(TimelineEvent(intake_id=intake.id, kind="opened", actor=actor,
                                  data={"channel": channel, "urgency_floor": urgency_floor}))
        return intake
    raise RuntimeError("could not draw a unique reference")


def apply_triage(session: Session, intake: Intake) -> None:
    """Triage the intake's messages (in order, with the latest pin) and record what changed."""
    messages = list(session.exec(
        select(InboundMessage).where(InboundMessage.intake_id == intake.id).order_by(col(InboundMessage.id))
    ))
    pin = None
    for m in messages:
        if m.lat is not None and m.lon is not None:
            pin = {"lat": m.lat, "lon": m.lon}
    result = triage([m.body for m in messages if m.body and m.kind == "report"], pin)
    before = (intake.urgency, intake.category, intake.kabkota_kode)
    reasons = list(result.reasons)
    urgency = result.urgency
    if intake.urgency_floor and URGENCY_RANK[intake.urgency_floor] > URGENCY_RANK[urgency]:
        urgency = intake.urgency_floor
        reasons.append({"rule": "reporter.floor", "effect": f"urgency>={intake.urgency_floor}",
                        "matched": ["pelapor menyatakan anak dalam bahaya sekarang"]})
    intake.urgency = urgency
    intake.category = result.category
    intake.categories = list(result.categories)
    intake.kabkota_kode = result.kabkota_kode
    intake.kecamatan_kode = result.kecamatan_kode
    intake.desa_kode = result.desa_kode
    intake.lat, intake.lon = result.lat, result.lon
    # An age the reporter answered directly stays when the texts give none.
    intake.age = result.age if result.age is not None else intake.age
    intake.child_sex = result.child_sex
    intake.reporter_role = result.reporter
    intake.needs_review = result.needs_review
    intake.ruleset_version = result.ruleset_version
    intake.triage_reasons = reasons
    apply_overrides(intake)
    intake.updated_at = utcnow()
    session.add(intake)
    after = (intake.urgency, intake.category, intake.kabkota_kode)
    if after != before:
        session.add(TimelineEvent(intake_id=intake.id, kind="triaged", data={
            "urgency": intake.urgency, "category": result.category, "kabkota_kode": result.kabkota_kode,
            "ruleset_version": result.ruleset_version, "needs_review": result.needs_review,
        }))


def apply_overrides(intake: Intake) -> None:
    """Put the operator's decisions over what triage found (called after every triage run)."""
    o = intake.overrides or {}
    if o.get("urgency"):
        intake.urgency = o["urgency"]
    if o.get("category"):
        intake.category = o["category"]
        cats = [c for c in (intake.categories or []) if c != o["category"]]
        intake.categories = [o["category"], *cats]
    if o.get("place"):
        p = o["place"]
        intake.kabkota_kode, intake.kecamatan_kode, intake.desa_kode = p.get("kabkota_kode"), p.get("kecamatan_kode"), p.get("desa_kode")
        intake.lat, intake.lon = p.get("lat"), p.get("lon")



def media_kind(content_type: str | None) -> str:
    major = (content_type or "").split("/", 1)[0]
    return {"image": "image", "audio": "audio", "video": "video"}.get(major, "document" if major == "application" else "other")


def receive_message(session: Session, msg: IncomingMessage) -> Received:
    """Store ``msg`` and act on it; the caller commits. Idempotent on ``provider_sid``."""
    if msg.provider_sid:
        existing = session.exec(
            select(InboundMessage.id, InboundMessage.intake_id).where(InboundMessage.provider_sid == msg.provider_sid)
        ).first()
        if existing is not None:
            message_id, intake_id = existing
            intake = session.get(Intake, intake_id)
            reply = session.get(InboundMessage, message_id).reply_text
            first_id = session.exec(select(func.min(InboundMessage.id)).where(InboundMessage.intake_id == intake_id)).one()
            log.info("intake: duplicate delivery", extra={"intake_id": intake.id, "channel": msg.channel})
            metrics.inbound_messages.labels(msg.channel, "duplicate").inc()
            # Answer as the first delivery was answered: it opened the intake or joined it.
            return Received(intake.id, intake.reference, message_id == first_id, True, intake.urgency,
                            live_assignment(session, intake.id) is not None, message_id, reply)

    intake = session.get(Intake, msg.intake_id) if msg.intake_id else open_intake_for(session, msg.channel, msg.from_phone)
    new = intake is None
    if new:
        intake = open_intake(session, msg.channel, msg.from_phone)
    now = utcnow()
    message = InboundMessage(
        intake_id=intake.id, channel=msg.channel, provider_sid=msg.provider_sid, from_phone=msg.from_phone,
        body=msg.body, lat=msg.lat, lon=msg.lon, num_media=msg.num_media, payload=msg.payload, received_at=now,
        kind=msg.kind,
    )
    session.add(message)
    session.flush()
    for n, (url, content_type) in enumerate(msg.media):
        session.add(Attachment(intake_id=intake.id, message_id=message.id, kind=media_kind(content_type),
                               content_type=content_type, url=url, provider_sid=f"{msg.provider_sid or message.id}:{n}"))
    intake.last_message_at = now
    session.add(TimelineEvent(intake_id=intake.id, kind="message", data={"channel": msg.channel,
                                                                        "num_media": msg.num_media}))
    session.flush()
    apply_triage(session, intake)
    assignment = assign_intake(session, intake)
    assigned = assignment is not None or live_assignment(session, intake.id) is not None
    metrics.inbound_messages.labels(msg.channel, "stored").inc()
    if new:
        metrics.intakes_opened.labels(msg.channel, intake.urgency or "none").inc()
    log.info("intake: message received", extra={
        "intake_id": intake.id, "channel": msg.channel, "new_intake": new,
        "urgency": intake.urgency, "category": intake.category, "kabkota_kode": intake.kabkota_kode,
    })
    return Received(intake.id, intake.reference, new, False, intake.urgency, assigned, message.id)
