"""The field workers' door: the Telegram bot (python-telegram-bot in webhook mode inside the service).

Adapters only: button presses and commands become calls to
``assignment.actions``/``assignment.enrolment``, whose outcomes become
messages. Every button press is answered (answerCallbackQuery). The webhook
checks Telegram's secret header in constant time and handles each
``update_id`` once.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re

from fastapi import APIRouter, HTTPException, Request, Response
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session
from telegram import ForceReply, Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from tepsa.assignment import actions, enrolment
from tepsa.intake.models import ProviderEvent
from tepsa.notify.telegram_sender import keyboard

log = logging.getLogger("tepsa.telegram")
router = APIRouter(tags=["webhooks"])

_REFERENCE = re.compile(r"\b([2-9A-HJ-NP-Z]{3}-[2-9A-HJ-NP-Z]{3})\b")


class TelegramBot:
    def __init__(self, engine, token: str, api_url: str, public_url: str, secret_key: str, detail_minutes: int,
                 wake=lambda: None):
        base = api_url.rstrip("/")
        self.engine = engine
        self.public_url = public_url
        self.secret_key = secret_key
        self.detail_minutes = detail_minutes
        self.wake = wake
        self.app = (Application.builder().token(token).updater(None)
                    .base_url(f"{base}/bot").base_file_url(f"{base}/file/bot").build())
        self._ready = False
        self.app.add_handler(CommandHandler("start", self._start))
        self.app.add_handler(CommandHandler("tugas", self._duty(True)))
        self.app.add_handler(CommandHandler("libur", self._duty(False)))
        self.app.add_handler(CommandHandler("kasus", self._cases))
        self.app.add_handler(CallbackQueryHandler(self._button, pattern=r"^(acc|dec|rsn|det|prg):"))
        self.app.add_handler(MessageHandler(filters.LOCATION, self._location))
        self.app.add_handler(MessageHandler(filters.REPLY & filters.TEXT & ~filters.COMMAND, self._note))
        self.app.add_handler(MessageHandler(filters.ALL, self._help))
        self.app.add_error_handler(self._error)

    # -- lifecycle ---------------------------------------------------------------
    async def ensure_ready(self) -> None:
        if not self._ready:
            await self.app.initialize()  # getMe: retried on the next update if Telegram is down now
            self._ready = True

    async def start(self) -> None:
        try:
            await self.ensure_ready()
        except TelegramError:
            log.warning("telegram: bot not initialised yet (Telegram unreachable); will retry")

    async def stop(self) -> None:
        if self._ready:
            await self.app.shutdown()

    async def process(self, data: dict) -> None:
        await self.ensure_ready()
        await self.app.process_update(Update.de_json(data, self.app.bot))

    # -- plumbing ------------------------------------------------------------------
    def _tx(self, fn, *args):
        with Session(self.engine, expire_on_commit=False) as session:
            outcome = fn(session, *args)
            session.commit()
            return outcome

    async def _run(self, fn, *args):
        outcome = await asyncio.to_thread(self._tx, fn, *args)
        self.wake()
        return outcome

    @staticmethod
    async def _say(update: Update, outcome) -> None:
        markup = ForceReply(selective=True) if outcome.force_reply else keyboard(outcome.buttons)
        await update.effective_chat.send_message(outcome.text, reply_markup=markup)

    async def _error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        log.error("telegram: handler failed", exc_info=context.error)

    # -- handlers --------------------------------------------------------------------
    async def _start(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        chat_id = update.effective_chat.id
        if context.args:
            outcome = await self._run(enrolment.redeem, context.args[0], chat_id)
        else:
            outcome = await self._run(actions.list_cases, chat_id)
        await self._say(update, outcome)

    def _duty(self, on: bool):
        async def handler(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            await self._say(update, await self._run(actions.set_on_duty, update.effective_chat.id, on))
        return handler

    async def _cases(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await self._say(update, await self._run(actions.list_cases, update.effective_chat.id))

    async def _location(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        loc = update.effective_message.location
        await self._say(update, await self._run(actions.set_base_location, update.effective_chat.id,
                                                loc.latitude, loc.longitude))

    async def _note(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        found = _REFERENCE.search(message.reply_to_message.text or "") if message.reply_to_message else None
        outcome = None
        if found:
            outcome = await self._run(actions.add_note, found.group(1), update.effective_chat.id, message.text or "")
        if outcome is None:
            return await self._help(update, context)
        await self._say(update, outcome)

    async def _help(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        from tepsa.texts import text

        if update.effective_chat is not None:
            await update.effective_chat.send_message(text("telegram", "help"))

    async def _button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        chat_id = update.effective_chat.id if update.effective_chat else query.from_user.id
        parts = (query.data or "").split(":")
        try:
            assignment_id = int(parts[1])
        except (IndexError, ValueError):
            await query.answer()
            return
        action = parts[0]
        if action == "acc":
            outcome = await self._run(actions.accept, assignment_id, chat_id)
        elif action == "dec":
            outcome = await self._run(actions.ask_decline_reason, assignment_id, chat_id)
        elif action == "rsn":
            outcome = await self._run(actions.decline, assignment_id, chat_id, parts[2] if len(parts) > 2 else "lain")
        elif action == "prg":
            outcome = await self._run(actions.report_progress, assignment_id, chat_id,
                                      parts[2] if len(parts) > 2 else "")
        else:
            outcome = await self._run(actions.detail_link, assignment_id, chat_id, self.secret_key,
                                      self.public_url, self.detail_minutes)
        await query.answer(outcome.text[:190])
        if not outcome.ok:
            return
        try:  # the pressed message's buttons are spent; the outcome carries the next ones
            await query.edit_message_reply_markup(None)
        except TelegramError:
            pass
        await self._say(update, outcome)


def _seen(engine, update_id: int) -> bool:
    with Session(engine) as session:
        return session.get(ProviderEvent, f"tg:{update_id}") is not None


def _mark(engine, update_id: int) -> None:
    with Session(engine) as session:
        session.add(ProviderEvent(key=f"tg:{update_id}"))
        try:
            session.commit()
        except IntegrityError:
            session.rollback()


@router.post("/webhooks/telegram")
async def telegram_webhook(request: Request) -> Response:
    state = request.app.state
    secret = state.settings.telegram_webhook_secret
    bot: TelegramBot | None = getattr(state, "telegram_bot", None)
    if secret is None or not secret.get_secret_value() or bot is None:
        raise HTTPException(503, "channel not configured")
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if not hmac.compare_digest(given.encode(), secret.get_secret_value().encode()):
        raise HTTPException(403, "wrong secret token")
    try:
        data = await request.json()
    except ValueError:
        raise HTTPException(400, "body is not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        raise HTTPException(400, "not a Telegram update")
    update_id = data["update_id"]
    if await asyncio.to_thread(_seen, state.engine, update_id):
        return Response(status_code=200)
    try:
        await bot.process(data)
    except TelegramError:
        raise HTTPException(503, "Telegram unavailable, retry") from None
    except (KeyError, TypeError, ValueError):
        raise HTTPException(400, "malformed update") from None
    await asyncio.to_thread(_mark, state.engine, update_id)
    return Response(status_code=200)
