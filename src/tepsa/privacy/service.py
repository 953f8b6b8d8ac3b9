"""Erasing a reporter's number, blocking abusive numbers, and retention of closed intakes."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import delete, update
from sqlmodel import Session, col, select

from tepsa.audit.service import record
from tepsa.conversation.models import Conversation, VoiceCall
from tepsa.crypto import phone_hash
from tepsa.db import utcnow
from tepsa.intake.models import Attachment, InboundMessage, Intake, TimelineEvent
from tepsa.notify.models import Outbox
from tepsa.privacy.models import BlockedNumber, ErasureRequest

log = logging.getLogger("tepsa.privacy")

ERASURE_DEADLINE = timedelta(hours=72)
_IDENTIFYING_FORM_FIELDS = ("From", "WaId", "ProfileName", "Caller", "CallerName", "Called", "To")


def request_erasure(session: Session, phone: str) -> ErasureRequest:
    """HAPUS: record the request; the scheduler carries it out at once (the law allows 3x24 hours)."""
    req = ErasureRequest(phone_hash=phone_hash(phone), due_at=utcnow() + ERASURE_DEADLINE)
    session.add(req)
    record(session, actor="reporter", role="reporter", address=None, action="erasure_requested",
           detail={"due_at": req.due_at.isoformat()})
    return req


def _scrub_payload(payload: dict) -> dict:
    return {k: v for k, v in (payload or {}).items() if k not in _IDENTIFYING_FORM_FIELDS}


def erase_number(session: Session, hashed: str) -> int:
    """Remove a reporter's number from every place it is kept; the reports about the child stay."""
    changed = 0
    intakes = list(session.exec(select(Intake).where(Intake.reporter_phone_hash == hashed)))
    for intake in intakes:
        intake.reporter_phone = None
        intake.reporter_phone_hash = None
        intake.contact_time = None
        intake.contact_safe = False  # nobody may call a number we no longer hold
        session.add(intake)
        session.add(TimelineEvent(intake_id=intake.id, kind="number_erased", data={}))
        changed += 1
        for message in session.exec(select(InboundMessage).where(InboundMessage.intake_id == intake.id)):
            message.from_phone = None
            message.payload = _scrub_payload(message.payload)
            session.add(message)
            changed += 1
        for call in session.exec(select(VoiceCall).where(VoiceCall.intake_id == intake.id)):
            call.from_phone = None
            session.add(call)
        for row in session.exec(select(Outbox).where(Outbox.intake_id == intake.id, Outbox.channel == "whatsapp",
                                                     col(Outbox.status).in_(["pending", "held", "sending"]))):
            row.status, row.payload = "cancelled", {}
            session.add(row)
    changed += session.execute(delete(Conversation).where(Conversation.phone_hash == hashed)).rowcount or 0
    return changed


def process_erasures(session: Session) -> int:
    """Carry out every pending erasure request; the caller commits."""
    done = 0
    for req in session.exec(select(ErasureRequest).where(ErasureRequest.done_at == None)  # noqa: E711
                            .with_for_update(skip_locked=True)):
        req.rows_changed = erase_number(session, req.phone_hash)
        req.done_at = utcnow()
        session.add(req)
        record(session, actor="system", role="system", address=None, action="number_erased",
               detail={"request_id": req.id, "rows_changed": req.rows_changed})
        done += 1
    return done


def is_blocked(session: Session, phone: str | None) -> bool:
    return bool(phone) and session.get(BlockedNumber, phone_hash(phone)) is not None


def block_number(session: Session, phone: str, by: str, role: str, reason: str) -> None:
    hashed = phone_hash(phone)
    if session.get(BlockedNumber, hashed) is None:
        session.add(BlockedNumber(phone_hash=hashed, blocked_by=by, reason=reason[:200]))
    record(session, actor=by, role=role, address=None, action="number_blocked", detail={"reason": reason[:200]})


def unblock_number(session: Session, phone: str, by: str, role: str) -> bool:
    row = session.get(BlockedNumber, phone_hash(phone))
    if row is None:
        return False
    session.delete(row)
    record(session, actor=by, role=role, address=None, action="number_unblocked")
    return True


def run_retention(session: Session, closed_days: int) -> dict[str, int]:
    """Closed (or duplicate) intakes older than ``closed_days``: raw messages deleted, intake anonymised.

    What stays is what the ministry's statistics need: channel, urgency,
    categories, kab/kota, age, dates. The caller commits.
    """
    cutoff = utcnow() - timedelta(days=closed_days)
    old = list(session.exec(select(Intake).where(col(Intake.status).in_(("closed", "duplicate")), Intake.updated_at < cutoff,
                                                 Intake.anonymised_at == None)))  # noqa: E711
    counts = {"intakes": 0, "messages": 0}
    for intake in old:
        ids = [intake.id]
        counts["messages"] += session.execute(delete(Attachment).where(col(Attachment.intake_id).in_(ids))).rowcount or 0
        counts["messages"] += session.execute(
            delete(InboundMessage).where(col(InboundMessage.intake_id).in_(ids))).rowcount or 0
        session.execute(delete(Conversation).where(col(Conversation.intake_id).in_(ids)))
        session.execute(update(VoiceCall).where(col(VoiceCall.intake_id).in_(ids)).values(from_phone=None))
        for event in session.exec(select(TimelineEvent).where(TimelineEvent.intake_id == intake.id)):
            event.data = {}
            session.add(event)
        intake.reporter_phone = None
        intake.reporter_phone_hash = None
        intake.anonymised_at = utcnow()
        intake.contact_time = None
        intake.triage_reasons = []
        intake.desa_kode = None
        intake.lat = intake.lon = None
        session.add(intake)
        counts["intakes"] += 1
    if counts["intakes"]:
        record(session, actor="system", role="system", address=None, action="retention_run", detail=counts)
    return counts
