"""The small interface between the dispatcher and the providers' SDKs."""

from __future__ import annotations

from typing import Protocol

from tepsa.notify.service import Claimed


class TransientSendError(Exception):
    """Try again later (network, 5xx)."""


class RetryAfter(Exception):
    """The provider asked us to wait this many seconds (e.g. Telegram 429)."""

    def __init__(self, seconds: float):
        super().__init__(f"retry after {seconds}s")
        self.seconds = seconds


class PermanentSendError(Exception):
    """Sending this message again will not help (bot blocked, chat not found)."""


class NotReachable(Exception):
    """The recipient has no address on this channel yet; hold the message."""


class Sender(Protocol):
    channel: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, message: Claimed) -> str | None:
        """Deliver ``message``; return the provider's message id."""
        ...
