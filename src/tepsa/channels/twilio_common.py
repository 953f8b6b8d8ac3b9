"""Twilio webhook plumbing shared by the WhatsApp and voice doors.

Signatures are checked against TEPSA_PUBLIC_URL + path (never a URL rebuilt
from proxy headers); without an auth token the channel is closed (503) and
never accepts unsigned requests.
"""

from __future__ import annotations

from fastapi import HTTPException, Request
from starlette.datastructures import FormData
from twilio.request_validator import RequestValidator

from tepsa.config import Settings


async def verified_form(request: Request, settings: Settings) -> FormData:
    if settings.twilio_auth_token is None or not settings.twilio_auth_token.get_secret_value():
        raise HTTPException(503, "channel not configured")
    signature = request.headers.get("X-Twilio-Signature")
    if not signature:
        raise HTTPException(403, "missing Twilio signature")
    try:
        form = await request.form()
    except Exception:
        raise HTTPException(400, "malformed form body") from None
    url = settings.public_base + request.url.path
    if request.url.query:
        url += "?" + request.url.query
    validator = RequestValidator(settings.twilio_auth_token.get_secret_value())
    if not validator.validate(url, form, signature):
        raise HTTPException(403, "invalid Twilio signature")
    return form
