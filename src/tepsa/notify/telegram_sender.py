"""Sends outbox rows to Telegram with python-telegram-bot (the only place the domain meets it)."""

from __future__ import annotations

import os
from datetime import timedelta

# Opt in to python-telegram-bot's coming timedelta form of retry_after (handled below either way).
os.environ.setdefault("PTB_TIMEDELTA", "1")

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter as TgRetryAfter, TelegramError
from telegram.request import HTTPXRequest

from tepsa.notify.senders import NotReachable, PermanentSendError, RetryAfter, TransientSendError
from tepsa.notify.service import Claimed


def keyboard(rows: list | None) -> InlineKeyboardMarkup | None:
    """[[label, callback data], ...] rows -> Telegram's inline keyboard."""
    if not rows:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data) for label, data in row]
                                 for row in rows])


class TelegramSender:
    channel = "telegram"

    def __init__(self, token: str, api_url: str):
        base = api_url.rstrip("/")
        self.bot = Bot(
            token,
            base_url=f"{base}/bot",
            base_file_url=f"{base}/file/bot",
            request=HTTPXRequest(connect_timeout=5, read_timeout=10, write_timeout=10),
        )
        self._started = False

    async def start(self) -> None:
        # Bot.initialize() calls getMe; a Telegram outage at start-up must not
        # stop the service, so initialisation is retried on the first send.
        try:
            await self.bot.initialize()
            self._started = True
        except TelegramError:
            self._started = False

    async def stop(self) -> None:
        if self._started:
            await self.bot.shutdown()

    async def send(self, message: Claimed) -> str | None:
        if not message.chat_id:
            raise NotReachable("worker has not linked the Telegram bot")
        try:
            if not self._started:
                await self.bot.initialize()
                self._started = True
            sent = await self.bot.send_message(chat_id=message.chat_id, text=message.payload["text"],
                                               reply_markup=keyboard(message.payload.get("buttons")))
        except TgRetryAfter as exc:
            wait = exc.retry_after
            seconds = wait.total_seconds() if isinstance(wait, timedelta) else float(wait)
            raise RetryAfter(seconds) from None
        except Forbidden as exc:
            raise PermanentSendError(f"forbidden: {exc.message}") from None
        except BadRequest as exc:
            raise PermanentSendError(f"bad request: {exc.message}") from None
        except (NetworkError, TelegramError) as exc:
            raise TransientSendError(type(exc).__name__) from None
        return str(sent.message_id)
