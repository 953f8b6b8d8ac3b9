"""The WhatsApp door: Twilio's inbound message webhook, translated to the domain."""

from __future__ import annotations

import asyncio
import time

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from twilio.twiml.messaging_response import MessagingResponse

from tepsa.channels.twilio_common import verified_form
from tepsa import texts
from tepsa.conversation.whatsapp import handle_and_commit
from tepsa.intake import inbox
from tepsa.intake.service import IncomingMessage
from tepsa.phone import InvalidPhone, to_e164

router = APIRouter(tags=["webhooks"])

TWIML = "application/xml"


def _coordinate(form: FormData, name: str, bound: float) -> float | None:
    raw = (form.get(name) or "").strip()
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise HTTPException(400, f"{name} is not a number") from None
    if not -bound <= value <= bound:
        raise HTTPException(400, f"{name} out of range")
    return value


def parse_whatsapp(form: FormData) -> IncomingMessage:
    """Twilio's form -> IncomingMessage; 400 for what Twilio never sends."""
    sid = (form.get("MessageSid") or form.get("SmsMessageSid") or "").strip()
    if not sid or len(sid) > 64:
        raise HTTPException(400, "MessageSid missing or malformed")
    try:
        phone = to_e164(form.get("From") or "")
    except InvalidPhone:
        raise HTTPException(400, "From missing or not a phone number") from None
    lat, lon = _coordinate(form, "Latitude", 90), _coordinate(form, "Longitude", 180)
    if (lat is None) != (lon is None):
        lat = lon = None
    try:
        num_media = max(0, int(form.get("NumMedia") or 0))
    except ValueError:
        raise HTTPException(400, "NumMedia is not a number") from None
    media = []
    for n in range(min(num_media, 10)):
        url = (form.get(f"MediaUrl{n}") or "").strip()
        if url:
            media.append((url[:2000], (form.get(f"MediaContentType{n}") or "").strip()[:100] or None))
    payload = {k: form.getlist(k)[0] if len(form.getlist(k)) == 1 else form.getlist(k) for k in form.keys()}
    return IncomingMessage(channel="whatsapp", provider_sid=sid, from_phone=phone, body=(form.get("Body") or ""),
                           lat=lat, lon=lon, num_media=num_media, media=tuple(media), payload=payload)


@router.post("/webhooks/twilio/whatsapp", response_class=Response)
async def whatsapp_webhook(request: Request) -> Response:
    """Store the message, then answer: with the conversation's reply when idle, "received" in a burst.

    The message is in the database before any 200. When no other WhatsApp
    request is being handled by this instance (and nothing older waits), the
    message is worked off here and the reply is the TwiML answer, as a reporter
    expects in a chat. Otherwise the answer is a short "received" and the inbox
    worker sends the real reply through the outbox moments later.
    """
    state = request.app.state
    form = await verified_form(request, state.settings)
    message = parse_whatsapp(form)
    state.whatsapp_inflight += 1
    state.whatsapp_last_at = time.monotonic()
    try:
        want_inline = state.settings.inbox_inline and state.whatsapp_inflight == 1
        stored = await run_in_threadpool(inbox.store, state.engine, message, want_inline)
        if stored.in_hand:
            # Twilio's retry while another request (maybe another instance) works the first delivery
            # off: wait a moment for it, so that both are answered alike.
            for _ in range(30):
                await asyncio.sleep(0.1)
                if await run_in_threadpool(inbox.is_done, state.engine, message.provider_sid):
                    stored = inbox.Stored(stored.id, "done", True)
                    break
        if stored.inline or stored.status == "done":
            try:
                reply = await run_in_threadpool(handle_and_commit, state.engine, message,
                                                state.settings.conversation_idle_hours)
            except BaseException:
                await run_in_threadpool(inbox.release, state.engine, message.provider_sid)
                state.inbox_wake()
                raise
            text_out = reply.text
        else:
            state.inbox_wake()
            text_out = "" if stored.quiet else texts.text("whatsapp", "received_later", "id")
    finally:
        state.whatsapp_inflight -= 1
    state.dispatcher_wake()
    twiml = MessagingResponse()
    if text_out:  # a blocked number gets no automatic answer
        twiml.message(text_out)
    return Response(content=str(twiml), media_type=TWIML)
