"""The inbox worker: works off WhatsApp messages that a busy webhook acknowledged without handling.

A loop inside the service, like the outbox dispatcher: woken by the webhook,
polling otherwise (rows left by a crash or by another instance), taking the
oldest pending messages in order. Each message is handled exactly as the
webhook would have handled it, and the reply goes out through the outbox.
"""

from __future__ import annotations

import asyncio
import logging

from fastapi.concurrency import run_in_threadpool
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from tepsa.conversation.whatsapp import handle_and_commit
from tepsa.intake import inbox

log = logging.getLogger("tepsa.inbox")


class InboxWorker:
    def __init__(self, engine: Engine, idle_hours: int, poll_seconds: float = 1.0, after_work=None,
                 busy=None, pace_seconds: float = 0.1) -> None:
        """``busy()`` says webhooks are arriving right now: the worker then pauses ``pace_seconds``
        between messages, so answering (and storing) new reports comes first in a burst while the
        backlog still moves; once the burst eases it works at full speed."""
        self.engine = engine
        self.busy = busy or (lambda: False)
        self.pace_seconds = pace_seconds
        self.idle_hours = idle_hours
        self.poll_seconds = poll_seconds
        self.after_work = after_work or (lambda: None)
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task | None = None
        self._stopping = False

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._run(), name="tepsa-inbox-worker")

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task

    def wake(self) -> None:
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)

    async def _run(self) -> None:
        while not self._stopping:
            try:
                done = await self.work_once()
            except DBAPIError:
                log.warning("inbox: database unavailable, will retry")
                done = 0
            except Exception:  # never let the loop die
                log.exception("inbox: worker error")
                done = 0
            if done:
                continue
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
            except TimeoutError:
                pass

    async def work_once(self, limit: int = 20) -> int:
        messages = await run_in_threadpool(inbox.claim, self.engine, limit)
        for msg in messages:
            if self._stopping:
                break  # leased rows are taken again after the lease
            await run_in_threadpool(handle_and_commit, self.engine, msg, self.idle_hours, True)
            self.after_work()
            await asyncio.sleep(self.pace_seconds if self.busy() else 0)
        if messages:
            log.info("inbox: worked off", extra={"count": len(messages)})
        return len(messages)
