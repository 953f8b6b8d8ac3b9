"""Receiving a report: the use case every channel calls.

One transaction writes the inbound message (unique provider id), joins or
opens the intake, triages it, assigns it when it can, and writes the offer to
the outbox. A provider retry (same ``provider_sid``) finds the stored message
and changes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from tepsa.assignment.service import assign_intake, live_assignment
from tepsa.db import utcnow
from tepsa.intake.models import InboundMessage, Intake, TimelineEvent
from tepsa.intake.reference import new_reference
from tepsa import metrics
from tepsa.triage.engine import triage

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
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Received:
    intake_id: int
    reference: str
    new_intake: bool
    duplicate: bool
    urgency: str | None
    assigned: bool


def _open_intake_for(session: Session, channel: str, phone: str | None, join_hours: int) -> Intake | None:
    if not phone:
        return None
    since = utcnow() - timedelta(hours=join_hours)
    return session.exec(
        select(Intake)
        .where(Intake.channel == channel, Intake.reporter_phone == phone, Intake.status == "open",
               Intake.last_message_at >= since)
        .order_by(col(Intake.id).desc())
    ).first()


def _new_intake(session: Session, channel: str, phone: str | None) -> Intake:
    for _ in range(10):
        intake = Intake(reference=new_reference(), channel=channel, reporter_phone=phone)
        try:
            with session.begin_nested():
                session.add(intake)
                session.flush()
            return intake
        except IntegrityError:
            continue  # reference collision: draw again
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
    result = triage([m.body for m in messages if m.body], pin)
    before = (intake.urgency, intake.category, intake.kabkota_kode)
    intake.urgency = result.urgency
    intake.category = result.category
    intake.categories = list(result.categories)
    intake.kabkota_kode = result.kabkota_kode
    intake.kecamatan_kode = result.kecamatan_kode
    intake.desa_kode = result.desa_kode
    intake.lat, intake.lon = result.lat, result.lon
    intake.age = result.age
    intake.child_sex = result.child_sex
    intake.reporter_role = result.reporter
    intake.needs_review = result.needs_review
    intake.ruleset_version = result.ruleset_version
    intake.triage_reasons = list(result.reasons)
    intake.updated_at = utcnow()
    session.add(intake)
    after = (intake.urgency, intake.category, intake.kabkota_kode)
    if after != before:
        session.add(TimelineEvent(intake_id=intake.id, kind="triaged", data={
            "urgency": result.urgency, "category": result.category, "kabkota_kode": result.kabkota_kode,
            "ruleset_version": result.ruleset_version, "needs_review": result.needs_review,
        }))


def receive_message(session: Session, msg: IncomingMessage, join_hours: int = 24) -> Received:
    """Store ``msg`` and act on it; the caller commits. Idempotent on ``provider_sid``."""
    if msg.provider_sid:
        existing = session.exec(
            select(InboundMessage.id, InboundMessage.intake_id).where(InboundMessage.provider_sid == msg.provider_sid)
        ).first()
        if existing is not None:
            message_id, intake_id = existing
            intake = session.get(Intake, intake_id)
            first_id = session.exec(select(func.min(InboundMessage.id)).where(InboundMessage.intake_id == intake_id)).one()
            log.info("intake: duplicate delivery", extra={"intake_id": intake.id, "channel": msg.channel})
            metrics.inbound_messages.labels(msg.channel, "duplicate").inc()
            # Answer as the first delivery was answered: it opened the intake or joined it.
            return Received(intake.id, intake.reference, message_id == first_id, True, intake.urgency,
                            live_assignment(session, intake.id) is not None)

    intake = _open_intake_for(session, msg.channel, msg.from_phone, join_hours)
    new = intake is None
    if new:
        intake = _new_intake(session, msg.channel, msg.from_phone)
        session.add(TimelineEvent(intake_id=intake.id, kind="opened", data={"channel": msg.channel}))
    now = utcnow()
    session.add(InboundMessage(
        intake_id=intake.id, channel=msg.channel, provider_sid=msg.provider_sid, from_phone=msg.from_phone,
        body=msg.body, lat=msg.lat, lon=msg.lon, num_media=msg.num_media, payload=msg.payload, received_at=now,
    ))
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
    return Received(intake.id, intake.reference, new, False, intake.urgency, assigned)


def receive_and_commit(engine, msg: IncomingMessage, join_hours: int = 24) -> Received:
    """``receive_message`` in its own transaction.

    When two deliveries of the same provider message race (a Twilio retry
    while the first is still being written), the loser's insert hits the
    unique ``provider_sid``; it is retried once and then finds the winner's row.
    """
    for attempt in (1, 2):
        try:
            with Session(engine, expire_on_commit=False) as session:
                received = receive_message(session, msg, join_hours)
                session.commit()
                return received
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")
