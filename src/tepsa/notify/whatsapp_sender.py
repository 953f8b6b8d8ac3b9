"""Sends WhatsApp updates to reporters through Twilio's REST API (twilio client).

Free-form text only inside WhatsApp's 24-hour window after the reporter's last
message; outside it, the approved template (ContentSid) when one is
configured, else the update is not sent (a free-form message there fails
with Twilio error 63016 anyway).
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime

from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

from tepsa.db import utcnow
from tepsa.notify.senders import PermanentSendError, RetryAfter, TransientSendError
from tepsa.notify.service import Claimed


class WhatsAppSender:
    channel = "whatsapp"

    def __init__(self, account_sid: str, auth_token: str, sender: str, api_url: str | None = None,
                 template_sid: str | None = None):
        self.client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=10))
        if api_url:
            self.client.api.base_url = api_url.rstrip("/")
        self.sender = sender
        self.template_sid = template_sid

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    def _params(self, message: Claimed) -> dict:
        payload = message.payload
        to = payload["to"] if payload["to"].startswith("whatsapp:") else f"whatsapp:{payload['to']}"
        params = {"from_": self.sender, "to": to}
        window = payload.get("window_until")
        inside = window is None or utcnow() < datetime.fromisoformat(window)
        if inside:
            params["body"] = payload["text"]
        elif self.template_sid:
            params["content_sid"] = self.template_sid
            params["content_variables"] = json.dumps({"1": payload.get("reference", "")})
        else:
            raise PermanentSendError("outside the 24-hour window and no template (TEPSA_WHATSAPP_TEMPLATE_SID)")
        return params

    async def send(self, message: Claimed) -> str | None:
        params = self._params(message)
        try:
            sent = await asyncio.to_thread(self.client.messages.create, **params)
        except TwilioRestException as exc:
            if exc.status == 429:
                raise RetryAfter(30) from None
            if exc.status >= 500:
                raise TransientSendError(f"twilio {exc.status}") from None
            raise PermanentSendError(f"twilio {exc.status} code {exc.code}") from None
        except Exception as exc:  # connection errors from requests
            raise TransientSendError(type(exc).__name__) from None
        return sent.sid


class SmsSender:
    """The SMS fallback to a worker Telegram cannot reach (reference only, no child identifiers)."""

    channel = "sms"

    def __init__(self, account_sid: str, auth_token: str, sender: str, api_url: str | None = None):
        self.client = Client(account_sid, auth_token, http_client=TwilioHttpClient(timeout=10))
        if api_url:
            self.client.api.base_url = api_url.rstrip("/")
        self.sender = sender

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def send(self, message: Claimed) -> str | None:
        try:
            sent = await asyncio.to_thread(self.client.messages.create, from_=self.sender,
                                           to=message.payload["to"], body=message.payload["text"])
        except TwilioRestException as exc:
            if exc.status == 429 or exc.status >= 500:
                raise TransientSendError(f"twilio {exc.status}") from None
            raise PermanentSendError(f"twilio {exc.status} code {exc.code}") from None
        except Exception as exc:
            raise TransientSendError(type(exc).__name__) from None
        return sent.sid
