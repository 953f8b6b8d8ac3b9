"""The deadline sweeper: timers are rows, fired once even with several instances.

Each due deadline is claimed with ``FOR UPDATE SKIP LOCKED`` (PostgreSQL; SQLite
has a single writer) and handled in the same transaction that marks it fired,
so a crash before the commit leaves it due and a second instance skips it.
"""

from __future__ import annotations

import asyncio
import logging
import time

from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, col, select

from tepsa.assignment.actions import handle_deadline
from tepsa.assignment.models import Deadline
from tepsa.db import utcnow

log = logging.getLogger("tepsa.scheduler")


def fire_due(engine: Engine, limit: int = 50) -> int:
    """Fire every due deadline once; return how many fired."""
    fired = 0
    for _ in range(limit):
        with Session(engine) as session:
            deadline = session.exec(
                select(Deadline).where(Deadline.status == "pending", Deadline.due_at <= utcnow())
                .order_by(col(Deadline.due_at)).limit(1).with_for_update(skip_locked=True)
            ).first()
            if deadline is None:
                return fired
            deadline.status, deadline.fired_at = "fired", utcnow()
            session.add(deadline)
            handle_deadline(session, deadline)
            session.commit()
            fired += 1
    return fired


def privacy_sweep(engine: Engine, retention_days: int | None) -> None:
    """Erasure requests at once (HAPUS); retention when asked to."""
    from tepsa.privacy.service import process_erasures, run_retention

    with Session(engine) as session:
        process_erasures(session)
        if retention_days is not None:
            from tepsa.intake.inbox import purge_done

            run_retention(session, retention_days)
            purge_done(session)
        session.commit()


class Scheduler:
    def __init__(self, engine: Engine, poll_seconds: float = 1.0, after_fire=None, retention_days: int = 730,
                 retention_every_seconds: float = 6 * 3600):
        self.engine = engine
        self.retention_days = retention_days
        self.retention_every_seconds = retention_every_seconds
        self._last_retention = 0.0
        self.poll_seconds = poll_seconds
        self.after_fire = after_fire or (lambda: None)
        self._task: asyncio.Task | None = None
        self._stop = asyncio.Event()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="tepsa-deadline-scheduler")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if await asyncio.to_thread(fire_due, self.engine):
                    self.after_fire()  # new offers are waiting in the outbox
                now = time.monotonic()
                due = now - self._last_retention >= self.retention_every_seconds
                await asyncio.to_thread(privacy_sweep, self.engine, self.retention_days if due else None)
                if due:
                    self._last_retention = now
            except DBAPIError:
                log.warning("scheduler: database unavailable, will retry")
            except Exception:
                log.exception("scheduler: error")
            try:
                await asyncio.wait_for(self._stop.wait(), timeout=self.poll_seconds)
            except TimeoutError:
                pass
