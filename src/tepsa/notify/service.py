"""Writing outbox rows, and the state changes the dispatcher makes to them.

Rows are written in the same transaction as the change that causes them, so a
message exists exactly when its cause does; ``dedupe_key`` makes a retried
webhook or a repeated call write nothing new.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlmodel import Session, select

from tepsa.assignment.models import Worker
from tepsa.db import utcnow
from tepsa.notify.models import Outbox

LEASE = timedelta(seconds=60)
MAX_BACKOFF_SECONDS = 300


def enqueue(
    session: Session,
    *,
    channel: str,
    dedupe_key: str,
    payload: dict[str, Any],
    worker_id: int | None = None,
    intake_id: int | None = None,
) -> Outbox | None:
    """Add an outbox row unless one with ``dedupe_key`` exists; the caller commits."""
    if session.exec(select(Outbox.id).where(Outbox.dedupe_key == dedupe_key)).first() is not None:
        return None
    row = Outbox(channel=channel, dedupe_key=dedupe_key, payload=payload, worker_id=worker_id, intake_id=intake_id)
    session.add(row)
    return row


@dataclass(frozen=True)
class Claimed:
    """A row handed to a sender: plain data, so sending happens outside any transaction."""

    id: int
    channel: str
    payload: dict[str, Any]
    attempts: int
    chat_id: str | None


def claim(session: Session, channels: list[str], limit: int = 20) -> list[Claimed]:
    """Lease due rows to this dispatcher. Safe with several dispatchers on PostgreSQL.

    Rows left in ``sending`` by a dispatcher that died are taken again once
    their lease ends (at-least-once delivery: at most one duplicate per crash).
    """
    now = utcnow()
    stmt = (
        select(Outbox)
        .where(Outbox.channel.in_(channels))
        .where(or_(
            (Outbox.status == "pending") & (Outbox.available_at <= now),
            (Outbox.status == "sending") & (Outbox.locked_until < now),
        ))
        .order_by(Outbox.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = list(session.exec(stmt))
    if not rows:
        return []
    worker_ids = {r.worker_id for r in rows if r.worker_id is not None}
    chats = {}
    if worker_ids:
        chats = dict(session.exec(select(Worker.id, Worker.telegram_chat_id).where(Worker.id.in_(worker_ids))).all())
    claimed = []
    for r in rows:
        r.status = "sending"
        r.attempts += 1
        r.locked_until = now + LEASE
        session.add(r)
        claimed.append(Claimed(r.id, r.channel, dict(r.payload), r.attempts,
                               r.payload.get("chat_id") or chats.get(r.worker_id)))
    session.commit()
    return claimed


def mark_sent(session: Session, outbox_id: int, provider_message_id: str | None) -> None:
    session.execute(
        update(Outbox).where(Outbox.id == outbox_id)
        .values(status="sent", sent_at=utcnow(), locked_until=None, last_error=None,
                provider_message_id=provider_message_id)
    )
    session.commit()


def backoff_seconds(attempts: int, base: float = 1.0) -> float:
    """Exponential backoff with jitter (50-100% of the step), capped at five minutes."""
    return random.uniform(0.5, 1.0) * min(MAX_BACKOFF_SECONDS, base * 2 ** attempts)


def mark_retry(session: Session, outbox_id: int, error: str, delay_seconds: float) -> None:
    session.execute(
        update(Outbox).where(Outbox.id == outbox_id)
        .values(status="pending", locked_until=None, last_error=error[:500],
                available_at=utcnow() + timedelta(seconds=delay_seconds))
    )
    session.commit()


def mark_final(session: Session, outbox_id: int, status: str, error: str) -> None:
    """``held`` (waits for something, e.g. the worker linking the bot) or ``failed``."""
    session.execute(
        update(Outbox).where(Outbox.id == outbox_id)
        .values(status=status, locked_until=None, last_error=error[:500])
    )
    session.commit()


def release_held_for_worker(session: Session, worker_id: int) -> int:
    """A worker just became reachable: their held messages go out now."""
    result = session.execute(
        update(Outbox).where(Outbox.worker_id == worker_id, Outbox.status == "held")
        .values(status="pending", available_at=utcnow())
    )
    return result.rowcount or 0
