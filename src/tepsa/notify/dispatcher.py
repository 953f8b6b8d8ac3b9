"""The outbox dispatcher: a loop inside the service that delivers outbox rows.

It leases due rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several
instances share the work), sends each outside any transaction, and records the
outcome: sent, retried with backoff, or held/failed. It is woken at once when a
request commits new rows and otherwise polls, so rows written by another
instance or left by a crash are picked up too.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from sqlalchemy.engine import Engine
from sqlmodel import Session

from tepsa import metrics
from tepsa.notify import service
from tepsa.notify.senders import NotReachable, PermanentSendError, RetryAfter, Sender, TransientSendError
from tepsa.workloop import WorkLoop

log = logging.getLogger("tepsa.notify")


class Dispatcher(WorkLoop):
    name = "outbox"

    def __init__(self, engine: Engine, senders: Sequence[Sender], poll_seconds: float = 1.0,
                 backoff_base_seconds: float = 1.0, on_permanent_failure=None):
        """``on_permanent_failure(session, outbox_id)`` lets the owning domain react (it commits)."""
        super().__init__(poll_seconds, log)
        self.engine = engine
        self.on_permanent_failure = on_permanent_failure
        self.backoff_base_seconds = backoff_base_seconds
        self.senders = {s.channel: s for s in senders}

    async def start(self) -> None:
        for sender in self.senders.values():
            await sender.start()
        await super().start()

    async def stop(self) -> None:
        await super().stop()
        for sender in self.senders.values():
            await sender.stop()

    async def work_once(self) -> int:
        return await self.dispatch_once()

    def _claim(self) -> list[service.Claimed]:
        with Session(self.engine, expire_on_commit=False) as session:
            return service.claim(session, list(self.senders))

    def _record(self, fn, *args) -> None:
        with Session(self.engine) as session:
            fn(session, *args)

    def _after_failure(self, outbox_id: int) -> None:
        with Session(self.engine) as session:
            self.on_permanent_failure(session, outbox_id)
            session.commit()

    async def dispatch_once(self) -> int:
        """Send every due row once; return how many were handled."""
        if not self.senders:
            return 0
        batch = await asyncio.to_thread(self._claim)
        for msg in batch:
            sender = self.senders[msg.channel]
            try:
                provider_id = await sender.send(msg)
            except RetryAfter as exc:
                await asyncio.to_thread(self._record, service.mark_retry, msg.id, "rate limited", exc.seconds)
                log.info("outbox: rate limited", extra={"outbox_id": msg.id, "delay_s": exc.seconds})
            except TransientSendError as exc:
                delay = service.backoff_seconds(msg.attempts, self.backoff_base_seconds)
                await asyncio.to_thread(self._record, service.mark_retry, msg.id, str(exc), delay)
                log.info("outbox: send failed, retrying", extra={"outbox_id": msg.id, "attempts": msg.attempts,
                                                                  "delay_s": round(delay, 1)})
            except NotReachable as exc:
                await asyncio.to_thread(self._record, service.mark_final, msg.id, "held", str(exc))
                log.info("outbox: held, recipient not reachable", extra={"outbox_id": msg.id})
            except PermanentSendError as exc:
                await asyncio.to_thread(self._record, service.mark_final, msg.id, "failed", str(exc))
                metrics.outbox_results.labels(msg.channel, "failed").inc()
                log.warning("outbox: permanent failure", extra={"outbox_id": msg.id})
                if self.on_permanent_failure is not None:
                    await asyncio.to_thread(self._after_failure, msg.id)
            else:
                await asyncio.to_thread(self._record, service.mark_sent, msg.id, provider_id)
                metrics.outbox_results.labels(msg.channel, "sent").inc()
                log.info("outbox: sent", extra={"outbox_id": msg.id, "channel": msg.channel})
        return len(batch)
