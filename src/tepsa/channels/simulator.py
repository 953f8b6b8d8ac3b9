"""A simulator of Twilio for training and demos: the same signed webhooks, the same code path.

It signs each request with the configured Twilio auth token, exactly as
Twilio does, posts it to the service's own webhook URLs and reads the TwiML
answers: WhatsApp replies, and for calls the spoken prompts, the menu's
Gather, queues and redirects. ``tepsa simulate`` drives it from a terminal.
"""

from __future__ import annotations

import secrets
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from urllib.parse import urljoin

import httpx
from twilio.request_validator import RequestValidator


@dataclass
class VoiceStep:
    """What the caller hears and what the call waits for next."""

    said: list[str] = field(default_factory=list)
    gather_action: str | None = None
    gather_input: str | None = None
    enqueued: str | None = None
    enqueue_action: str | None = None
    dial: str | None = None
    hangup: bool = False


def read_step(twiml: str) -> tuple[VoiceStep, str | None]:
    """What the caller hears and waits for, and a Redirect Twilio would follow at once (if any).

    A Redirect placed after a Gather runs only when the caller gives no input, so it is not returned.
    """
    step, redirect = VoiceStep(), None
    for el in ET.fromstring(twiml).iter():
        if el.tag == "Say" and el.text:
            step.said.append(el.text.strip())
        elif el.tag == "Gather":
            step.gather_action, step.gather_input = el.get("action"), el.get("input")
        elif el.tag == "Enqueue":
            step.enqueued, step.enqueue_action = (el.text or "").strip(), el.get("action")
        elif el.tag == "Dial":
            step.dial = (el.text or "").strip() or "operator"
        elif el.tag == "Hangup":
            step.hangup = True
        elif el.tag == "Redirect" and el.text and step.gather_action is None:
            redirect = el.text.strip()
            break
    return step, redirect


class Simulator:
    def __init__(self, base_url: str, auth_token: str, phone: str = "+6281200000001",
                 hotline_whatsapp: str = "whatsapp:+6281238888002", hotline_voice: str = "+621500771",
                 client: httpx.Client | None = None):
        self.base = base_url.rstrip("/")
        self.validator = RequestValidator(auth_token)
        self.phone = phone
        self.hotline_whatsapp = hotline_whatsapp
        self.hotline_voice = hotline_voice
        self.http = client or httpx.Client(timeout=15)
        self.call_sid: str | None = None

    # -- plumbing ---------------------------------------------------------------
    def _post(self, url: str, params: dict[str, str]) -> str:
        absolute = url if url.startswith("http") else urljoin(self.base + "/", url.lstrip("/"))
        signature = self.validator.compute_signature(absolute, params)
        response = self.http.post(absolute, data=params, headers={"X-Twilio-Signature": signature})
        response.raise_for_status()
        return response.text

    # -- WhatsApp ---------------------------------------------------------------
    def whatsapp(self, body: str = "", lat: float | None = None, lon: float | None = None) -> list[str]:
        """Send one WhatsApp message; return the reply texts."""
        params = {"MessageSid": "SM" + secrets.token_hex(16), "AccountSid": "AC" + "0" * 32,
                  "From": f"whatsapp:{self.phone}", "To": self.hotline_whatsapp, "Body": body, "NumMedia": "0"}
        if lat is not None and lon is not None:
            params.update(Latitude=str(lat), Longitude=str(lon))
        root = ET.fromstring(self._post("/webhooks/twilio/whatsapp", params))
        return [(m.text or "").strip() for m in root.iter("Message")]

    # -- voice ------------------------------------------------------------------
    def _call_params(self, **extra: str) -> dict[str, str]:
        params = {"CallSid": self.call_sid or "", "AccountSid": "AC" + "0" * 32, "From": self.phone,
                  "To": self.hotline_voice, "CallStatus": "in-progress", "Direction": "inbound"}
        params.update(extra)
        return params

    def _step(self, twiml: str, depth: int = 0) -> VoiceStep:
        step, redirect = read_step(twiml)
        if redirect and depth < 5:
            nxt = self._step(self._post(redirect, self._call_params()), depth + 1)
            nxt.said[:0] = step.said
            return nxt
        return step

    def call(self) -> VoiceStep:
        """Start a call to 1500-771."""
        self.call_sid = "CA" + secrets.token_hex(16)
        return self._step(self._post("/webhooks/twilio/voice", self._call_params(CallStatus="ringing")))

    def answer(self, step: VoiceStep, digits: str | None = None, speech: str | None = None) -> VoiceStep:
        """Answer the current Gather with keys or words (empty: the caller said nothing)."""
        if step.gather_action is None:
            raise ValueError("the call is not waiting for input")
        extra = {}
        if digits:
            extra["Digits"] = digits
        if speech:
            extra.update(SpeechResult=speech, Confidence="0.9")
        return self._step(self._post(step.gather_action, self._call_params(**extra)))

    def leave_queue(self, step: VoiceStep, result: str = "leave") -> VoiceStep:
        """Nobody answered in the queue: Twilio calls the Enqueue action with QueueResult."""
        if not step.enqueue_action:
            raise ValueError("the call is not in a queue")
        return self._step(self._post(step.enqueue_action, self._call_params(QueueResult=result, QueueTime="60")))

    def hang_up(self, duration_s: int = 60) -> None:
        self._post("/webhooks/twilio/status", self._call_params(CallStatus="completed", CallDuration=str(duration_s)))


class AsyncSimulator:
    """The same simulator for async callers: the console's simulator page posts to its own app in-process."""

    def __init__(self, base_url: str, auth_token: str, client: httpx.AsyncClient, phone: str = "+6281200000001",
                 call_sid: str | None = None):
        self._sync = Simulator(base_url, auth_token, phone=phone, client=httpx.Client())
        self._sync.call_sid = call_sid
        self.http = client

    @property
    def call_sid(self) -> str | None:
        return self._sync.call_sid

    async def _post(self, url: str, params: dict[str, str]) -> str:
        base = self._sync.base
        absolute = url if url.startswith("http") else urljoin(base + "/", url.lstrip("/"))
        signature = self._sync.validator.compute_signature(absolute, params)
        response = await self.http.post(absolute, data=params, headers={"X-Twilio-Signature": signature})
        response.raise_for_status()
        return response.text

    async def whatsapp(self, body: str = "", lat: float | None = None, lon: float | None = None) -> list[str]:
        params = {"MessageSid": "SM" + secrets.token_hex(16), "AccountSid": "AC" + "0" * 32,
                  "From": f"whatsapp:{self._sync.phone}", "To": self._sync.hotline_whatsapp, "Body": body,
                  "NumMedia": "0"}
        if lat is not None and lon is not None:
            params.update(Latitude=str(lat), Longitude=str(lon))
        root = ET.fromstring(await self._post("/webhooks/twilio/whatsapp", params))
        return [(m.text or "").strip() for m in root.iter("Message")]

    async def _step(self, twiml: str, depth: int = 0) -> VoiceStep:
        step, redirect = read_step(twiml)
        if redirect and depth < 5:
            nxt = await self._step(await self._post(redirect, self._sync._call_params()), depth + 1)
            nxt.said[:0] = step.said
            return nxt
        return step

    async def call(self) -> VoiceStep:
        self._sync.call_sid = "CA" + secrets.token_hex(16)
        return await self._step(await self._post("/webhooks/twilio/voice",
                                                 self._sync._call_params(CallStatus="ringing")))

    async def answer(self, action: str, digits: str | None = None, speech: str | None = None) -> VoiceStep:
        extra = {}
        if digits:
            extra["Digits"] = digits
        if speech:
            extra.update(SpeechResult=speech, Confidence="0.9")
        return await self._step(await self._post(action, self._sync._call_params(**extra)))

    async def leave_queue(self, action: str) -> VoiceStep:
        return await self._step(await self._post(action, self._sync._call_params(QueueResult="leave", QueueTime="60")))
