"""Recording and reading the audit trail; counting failed sign-ins."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from tepsa.audit.models import AuditEvent, LoginFailure
from tepsa.db import utcnow

MAX_FAILURES_PER_MINUTE = 10
LOCKOUT = timedelta(minutes=1)


def record(session: Session, *, actor: str, role: str, address: str | None, action: str,
           intake_id: int | None = None, detail: dict[str, Any] | None = None) -> None:
    """Add an audit row in the caller's transaction (a read's row commits with the read)."""
    session.add(AuditEvent(actor=actor.replace("\x00", ""), role=role, address=address, action=action, intake_id=intake_id,
                           detail=detail or {}))


def list_events(session: Session, intake_id: int | None, actor: str | None, limit: int, offset: int):
    stmt = select(AuditEvent)
    count = select(func.count()).select_from(AuditEvent)
    if intake_id is not None:
        stmt, count = stmt.where(AuditEvent.intake_id == intake_id), count.where(AuditEvent.intake_id == intake_id)
    actor = (actor or "").replace("\x00", "")
    if actor:
        stmt, count = stmt.where(AuditEvent.actor == actor), count.where(AuditEvent.actor == actor)
    rows = session.exec(stmt.order_by(col(AuditEvent.id).desc()).offset(offset).limit(limit)).all()
    return [r.model_dump() for r in rows], session.exec(count).one()


def sign_in_blocked(session: Session, username: str, address: str) -> bool:
    """True after too many failures in the last minute for this user or this address."""
    username = username.replace("\x00", "")
    since = utcnow() - LOCKOUT
    failures = session.exec(select(func.count()).select_from(LoginFailure).where(
        LoginFailure.at >= since, or_(LoginFailure.username == username, LoginFailure.address == address))).one()
    return failures >= MAX_FAILURES_PER_MINUTE


def note_failure(session: Session, username: str, address: str) -> None:
    session.add(LoginFailure(username=username.replace("\x00", "")[:64], address=address[:64]))
