"""Live queue updates: one poller per process tells every open console page that the queue changed.

The poller reads a cheap change marker from the database (newest timeline event,
newest intake update) every couple of seconds, so an intake written by any
instance of the service reaches every console, whichever instance serves it.
Pages then fetch their own filtered rows; the event carries no data.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi.concurrency import run_in_threadpool
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from tepsa.intake.queue import change_marker

log = logging.getLogger("tepsa.console")


class QueueWatch:
    def __init__(self, engine: Engine, interval: float = 2.0) -> None:
        self.engine = engine
        self.interval = interval
        self._subscribers: set[asyncio.Queue] = set()
        self._task: asyncio.Task | None = None
        self._marker: tuple | None = None

    def _read(self) -> tuple:
        with Session(self.engine) as session:
            return change_marker(session)

    async def _run(self) -> None:
        while self._subscribers:
            try:
                marker = await run_in_threadpool(self._read)
            except SQLAlchemyError:
                marker = None  # database away: keep the pages, try again
                log.warning("console: queue watch could not read the database")
            if marker is not None and marker != self._marker:
                first = self._marker is None
                self._marker = marker
                if not first:
                    for q in list(self._subscribers):
                        if q.empty():
                            q.put_nowait("changed")
            await asyncio.sleep(self.interval)
        self._task = None

    def subscribe(self) -> asyncio.Queue:
        q: asyncio.Queue = asyncio.Queue(maxsize=1)
        self._subscribers.add(q)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run())
        return q

    def unsubscribe(self, q: asyncio.Queue) -> None:
        self._subscribers.discard(q)

    async def stop(self) -> None:
        self._subscribers.clear()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):  # noqa: BLE001 - shutting down
                pass
            self._task = None
