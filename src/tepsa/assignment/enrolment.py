"""One-time enrolment links binding a worker's Telegram chat: random, stored hashed, expiring, single use."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, timedelta

from sqlmodel import Session, select

from tepsa.assignment.actions import Outcome
from tepsa.assignment.models import EnrolmentToken, Worker
from tepsa.db import utcnow
from tepsa.notify.service import release_held_for_worker
from tepsa.texts import text


class EnrolmentError(ValueError):
    pass


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_link(session: Session, worker_kode: str, bot_username: str, hours: int, created_by: str = "system") -> str:
    """``https://t.me/<bot>?start=<token>``; only the token's hash is stored. The caller commits."""
    worker = session.exec(select(Worker).where(Worker.kode == worker_kode)).first()
    if worker is None:
        raise EnrolmentError(f"no worker with kode {worker_kode!r}")
    token = secrets.token_urlsafe(32)  # 43 characters of [A-Za-z0-9_-]: a valid deep-link payload
    session.add(EnrolmentToken(worker_id=worker.id, token_hash=_hash(token),
                               expires_at=utcnow() + timedelta(hours=hours), created_by=created_by))
    return f"https://t.me/{bot_username}?start={token}"


def redeem(session: Session, token: str, chat_id: int | str) -> Outcome:
    """``/start <token>``: bind this chat to the token's worker, once, before it expires."""
    row = session.exec(select(EnrolmentToken).where(EnrolmentToken.token_hash == _hash(token or ""))
                       .with_for_update()).first()
    if row is None:
        return Outcome(text("telegram", "enrol_refused"), ok=False)
    expires = row.expires_at if row.expires_at.tzinfo else row.expires_at.replace(tzinfo=UTC)
    if row.used_at is not None or expires <= utcnow():
        return Outcome(text("telegram", "enrol_refused"), ok=False)
    row.used_at = utcnow()
    session.add(row)
    for other in session.exec(select(Worker).where(Worker.telegram_chat_id == str(chat_id))):
        other.telegram_chat_id = None  # one chat speaks for one worker
        session.add(other)
    session.flush()
    worker = session.get(Worker, row.worker_id)
    worker.telegram_chat_id, worker.reachable, worker.updated_at = str(chat_id), True, utcnow()
    session.add(worker)
    session.flush()
    release_held_for_worker(session, worker.id)
    return Outcome(text("telegram", "enrolled", name=worker.nama.split(" ")[0]))
