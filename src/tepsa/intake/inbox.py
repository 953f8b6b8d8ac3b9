"""The inbox: webhook messages stored before the answer, worked off inline or by the inbox worker.

``store`` is the only thing a webhook must do before answering 200: one small
insert. Whether the message is then worked off in the request (the service is
idle, nothing older is waiting) or left to the worker (a burst) is decided by
the caller; ``claim`` hands pending rows to workers in order, safely with
several instances (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, leases).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta

from sqlalchemy import delete, func, insert, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, or_, select

from tepsa.db import as_utc, utcnow
from tepsa.intake.models import Inbox
from tepsa.intake.service import IncomingMessage

LEASE = timedelta(seconds=60)
MAX_ATTEMPTS = 10
"""A message that fails this often is set aside ('failed', kept for a person to look at), so it
neither loops forever nor holds back the messages behind it."""
KEEP_DONE = timedelta(days=7)
"""Done rows (without the message) answer provider retries quickly for a week, then go."""


@dataclass(frozen=True)
class Stored:
    id: int
    status: str  # pending | done
    inline: bool
    """True when this request holds the lease and should work the message off itself."""
    quiet: bool = False
    """The number is blocked: no automatic answer, not even "received"."""
    in_hand: bool = False
    """A retry of a message another request is working off right now (its answer comes in a moment)."""


def to_row(msg: IncomingMessage) -> dict:
    data = asdict(msg)
    data["media"] = [list(m) for m in msg.media]
    return data


def from_row(data: dict) -> IncomingMessage:
    data = dict(data)
    data["media"] = tuple(tuple(m) for m in data.get("media") or ())
    return IncomingMessage(**data)


def store(engine: Engine, msg: IncomingMessage, want_inline: bool) -> Stored:
    """Write the message (once per provider id) and say who works it off.

    ``want_inline``: the caller would work it off now. It gets to only when no
    older message is still waiting, so a reporter's messages are handled in order.
    Core statements on one connection: this is the whole cost of answering in a burst.
    """
    from tepsa.crypto import phone_hash
    from tepsa.privacy.models import BlockedNumber

    now = utcnow()
    table = Inbox.__table__
    try:
        with engine.begin() as conn:
            new_id = conn.execute(insert(table).values(
                channel=msg.channel, provider_sid=msg.provider_sid, message=to_row(msg), status="pending",
                attempts=0, received_at=now, locked_until=now + LEASE if want_inline else None,
            ).returning(table.c.id)).scalar_one()
            inline = want_inline and conn.execute(
                select(table.c.id).where(table.c.status == "pending", table.c.id < new_id).limit(1)).first() is None
            if want_inline and not inline:
                conn.execute(update(table).where(table.c.id == new_id).values(locked_until=None))
            quiet = not inline and bool(msg.from_phone) and conn.execute(
                select(BlockedNumber.__table__.c.phone_hash)
                .where(BlockedNumber.__table__.c.phone_hash == phone_hash(msg.from_phone))).first() is not None
            return Stored(new_id, "pending", inline, quiet)
    except IntegrityError:
        with engine.connect() as conn:
            status, locked_until, row_id = conn.execute(
                select(table.c.status, table.c.locked_until, table.c.id)
                .where(table.c.provider_sid == msg.provider_sid)).one()
        # A retry: done -> answer as before; pending -> whoever holds it finishes it.
        held = status == "pending" and locked_until is not None and as_utc(locked_until) > now
        return Stored(row_id, status, status == "done", in_hand=held)


def _older_pending(session: Session, inbox_id: int) -> bool:
    return session.exec(select(Inbox.id).where(Inbox.status == "pending", Inbox.id < inbox_id).limit(1)).first() is not None


def is_done(engine: Engine, provider_sid: str) -> bool:
    with Session(engine) as session:
        return session.exec(select(Inbox.status).where(Inbox.provider_sid == provider_sid)).first() == "done"


def mark_done(session: Session, provider_sid: str) -> None:
    """In the transaction that worked the message off: it is done and its content is dropped."""
    session.execute(update(Inbox).where(Inbox.provider_sid == provider_sid)
                    .values(status="done", done_at=utcnow(), message={}, locked_until=None))


def release(engine: Engine, provider_sid: str) -> None:
    """Working it off inline failed: leave it to the worker at once."""
    with Session(engine) as session:
        session.execute(update(Inbox).where(Inbox.provider_sid == provider_sid, Inbox.status == "pending")
                        .values(locked_until=None))
        session.commit()


def claim(engine: Engine, limit: int = 20) -> list[IncomingMessage]:
    """Lease the oldest pending messages to this worker (in order; skipped when another holds them)."""
    now = utcnow()
    with Session(engine) as session:
        session.execute(update(Inbox).where(Inbox.status == "pending", Inbox.attempts >= MAX_ATTEMPTS,
                                            or_(col(Inbox.locked_until).is_(None), col(Inbox.locked_until) < now))
                        .values(status="failed"))
        rows = list(session.exec(
            select(Inbox).where(Inbox.status == "pending",
                                or_(col(Inbox.locked_until).is_(None), col(Inbox.locked_until) < now))
            .order_by(col(Inbox.id)).limit(limit).with_for_update(skip_locked=True)))
        for row in rows:
            row.locked_until = now + LEASE
            row.attempts += 1
            session.add(row)
        messages = [from_row(r.message) for r in rows]
        session.commit()
        return messages


def backlog(session: Session) -> int:
    return session.exec(select(func.count()).select_from(Inbox).where(Inbox.status == "pending")).one()


def purge_done(session: Session) -> int:
    """Done rows older than a week (called by the privacy sweep)."""
    cutoff = utcnow() - KEEP_DONE
    return session.execute(delete(Inbox).where(Inbox.status == "done", Inbox.done_at < cutoff)).rowcount or 0
