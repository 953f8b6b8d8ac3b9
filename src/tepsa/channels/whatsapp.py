"""The WhatsApp door: Twilio's inbound message webhook, translated to the domain."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from twilio.twiml.messaging_response import MessagingResponse

from tepsa.channels.twilio_common import verified_form
from tepsa.conversation.whatsapp import handle_and_commit
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
    state = request.app.state
    form = await verified_form(request, state.settings)
    message = parse_whatsapp(form)
    reply = await run_in_threadpool(handle_and_commit, state.engine, message, state.settings.conversation_idle_hours)
    state.dispatcher_wake()
    twiml = MessagingResponse()
    if reply.text:  # a blocked number gets no automatic answer
        twiml.message(reply.text)
    return Response(content=str(twiml), media_type=TWIML)
