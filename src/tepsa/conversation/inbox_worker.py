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

from tepsa.conversation.whatsapp import handle_and_commit
from tepsa.intake import inbox
from tepsa.workloop import WorkLoop

log = logging.getLogger("tepsa.inbox")


class InboxWorker(WorkLoop):
    name = "inbox"

    def __init__(self, engine: Engine, idle_hours: int, poll_seconds: float = 1.0, after_work=None,
                 busy=None, pace_seconds: float = 0.1) -> None:
        """``busy()`` says webhooks are arriving right now: the worker then pauses ``pace_seconds``
        between messages, so answering (and storing) new reports comes first in a burst while the
        backlog still moves; once the burst eases it works at full speed."""
        super().__init__(poll_seconds, log)
        self.engine = engine
        self.idle_hours = idle_hours
        self.after_work = after_work or (lambda: None)
        self.busy = busy or (lambda: False)
        self.pace_seconds = pace_seconds

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
