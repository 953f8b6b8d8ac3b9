"""A background loop inside the service: woken after a commit, polling otherwise.

The outbox dispatcher and the inbox worker share it. Work left by a crash or
written by another instance is found by the poll; a database outage is logged
and retried, and no error ends the loop.
"""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.exc import DBAPIError


class WorkLoop:
    name = "work"

    def __init__(self, poll_seconds: float, log: logging.Logger) -> None:
        self.poll_seconds = poll_seconds
        self.log = log
        self._wake = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task | None = None
        self._stopping = False

    async def work_once(self) -> int:
        """Do one batch; the number of items done (0: nothing to do, wait for a wake or the poll)."""
        raise NotImplementedError

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.create_task(self._run(), name=f"tepsa-{self.name}")

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task

    def wake(self) -> None:
        """Callable from any thread after a commit that wrote work for this loop."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._wake.set)

    async def _run(self) -> None:
        while not self._stopping:
            try:
                done = await self.work_once()
            except DBAPIError:
                self.log.warning(f"{self.name}: database unavailable, will retry")
                done = 0
            except Exception:  # never let the loop die
                self.log.exception(f"{self.name}: error")
                done = 0
            if done:
                continue
            self._wake.clear()
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
            except TimeoutError:
                pass
