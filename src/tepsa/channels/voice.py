"""The voice door (1500-771): Twilio's IVR webhooks, translated to the domain.

Every route here is signed by Twilio (``verified_form``), parses a few plain
values (400 on what Twilio never sends malformed), calls the call use cases in
``tepsa.conversation.voice`` in one committed transaction, and answers TwiML.
Nothing here waits on Telegram or on Twilio's REST API: only the database.

The call, URL by URL (all POST, all under ``TEPSA_PUBLIC_URL``):

- ``/webhooks/twilio/voice``: greeting and menu (``<Gather>`` speech + DTMF).
- ``/webhooks/twilio/voice/menu?n=N``: the choice. 1/darurat opens a
  ``darurat`` intake at once and enqueues the caller in the ``darurat`` queue;
  2/lapor asks for the spoken report; 3/informasi tells what TepSA is; nothing
  or a wrong answer repeats the menu once (``n=2``), then the ``operator`` queue.
- ``/webhooks/twilio/voice/wait?q=QUEUE``: hold message while queued;
  ``<Leave/>`` after ``TEPSA_VOICE_OPERATOR_WAIT_SECONDS``.
- ``/webhooks/twilio/voice/queue?q=QUEUE``: the ``<Enqueue>`` action; when no
  operator took the call it falls back to the spoken report on the same intake.
- ``/webhooks/twilio/voice/report?n=N[&after=queue]``: the spoken report
  (``SpeechResult``) becomes a message of the call's intake, triaged and
  assigned; the caller hears the reference spelled out twice.
- ``/webhooks/twilio/voice/recording``: recording status callback (kept by URL).
- ``/webhooks/twilio/status``: call status callback; 204.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from twilio.twiml.voice_response import Gather, VoiceResponse

from tepsa.channels.twilio_common import verified_form
from tepsa.conversation import voice as calls
from tepsa.db import in_transaction
from tepsa.intake.service import Received
from tepsa.phone import InvalidPhone, to_e164
from tepsa.texts import text

router = APIRouter(tags=["webhooks"])

TWIML = "application/xml"
LANG = "id"
BOOK = "voice"
BASE = "/webhooks/twilio/voice"

EMERGENCY_QUEUE = "darurat"
"""Callers with a child in danger now; operators take this queue first."""
OPERATOR_QUEUE = "operator"
"""Everyone else who is put through to an operator."""
QUEUES = (EMERGENCY_QUEUE, OPERATOR_QUEUE)

MENU_TRIES = 2
REPORT_TRIES = 2
OPERATOR_KEY = "0"
_SID = re.compile(r"^[A-Za-z0-9]{2,48}$")
_STATUS = re.compile(r"^[a-z][a-z-]{1,23}$")
# Twilio re-requests the wait URL when its TwiML ends: a hold message, then a pause of at most this long.
HOLD_PAUSE_SECONDS = 10
# Queue results after which the caller is still on the line and nobody took the call.
_TALKED_OR_GONE = frozenset({"bridged", "bridging-in-process", "hangup", "redirected"})


# --- parsing -----------------------------------------------------------------------------------

def _field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _call_sid(form: FormData) -> str:
    sid = _field(form, "CallSid")
    if not _SID.match(sid):
        raise HTTPException(400, "CallSid missing or malformed")
    return sid


def _caller(form: FormData) -> str | None:
    """The caller's number, or None for withheld/unknown numbers (never a reason to refuse a call)."""
    try:
        return to_e164(_field(form, "From") or _field(form, "Caller"))
    except InvalidPhone:
        return None


def _count(raw: str, name: str, *, low: int = 0, high: int = 10**7) -> int | None:
    if not raw:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise HTTPException(400, f"{name} is not a number") from None
    if not low <= value <= high:
        raise HTTPException(400, f"{name} out of range")
    return value


def _step(request: Request, name: str = "n", high: int = 9) -> int:
    return _count(request.query_params.get(name, "1"), name, low=1, high=high) or 1


def _queue(request: Request) -> str:
    queue = request.query_params.get("q", "")
    if queue not in QUEUES:
        raise HTTPException(400, "unknown queue")
    return queue


def _words(key: str) -> list[str]:
    return [w for lang in ("id", "en") for w in text(BOOK, key, lang).lower().split()]


def _normalise(speech: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", speech.lower())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return re.findall(r"[a-z]+|\d", folded)


def menu_choice(digits: str, speech: str) -> str | None:
    """Key or spoken word -> ``darurat`` | ``lapor`` | ``info`` | None.

    Tolerant: "satu", "Dua.", "saya mau melaporkan", "tolong!" all work; a word
    matches longer words that start with it. When a caller says both danger and
    report words, danger wins: the caller reaches an operator at once.
    """
    key = digits.strip()[:1]
    by_key = {"1": "darurat", "2": "lapor", "3": "info"}
    if key:
        return by_key.get(key)
    tokens = _normalise(speech)
    if not tokens:
        return None
    for choice in ("darurat", "lapor", "info"):
        words = _words(f"words_{choice}")
        if any(t == w or (len(w) > 2 and t.startswith(w)) or (len(w) > 3 and w in t)
               for t in tokens for w in words):
            return choice
    return None


# --- TwiML -------------------------------------------------------------------------------------

def _url(request: Request, path: str, **params: object) -> str:
    url = request.app.state.settings.public_base + path
    return url + ("?" + urlencode(params) if params else "")


def _say(node, key: str, **values: object) -> None:
    node.say(text(BOOK, key, LANG, **values), language=text(BOOK, "language", LANG),
             voice=text(BOOK, "tts_voice", LANG))


def _twiml(response: VoiceResponse) -> Response:
    return Response(content=str(response), media_type=TWIML)


def spell_reference(reference: str, lang: str = LANG) -> list[str]:
    """'K7M-4QX' -> ['ka. tujuh. em.', 'empat. ki. eks.']: one group per part, a pause between."""
    names = dict(pair.split("=", 1) for pair in text(BOOK, "letters", lang).split())
    return [" ".join(f"{names.get(ch, ch)}." for ch in group) for group in reference.split("-") if group]


def _menu(request: Request, response: VoiceResponse, attempt: int, *, after: str | None = None,
          intro: str | None = None) -> None:
    params: dict[str, object] = {"n": attempt}
    if after:
        params["after"] = after
    action = _url(request, BASE + "/menu", **params)
    gather: Gather = response.gather(
        input="speech dtmf", language=text(BOOK, "language", LANG), num_digits=1, timeout=5,
        speech_timeout="auto", action=action, method="POST", action_on_empty_result=True,
        hints=text(BOOK, "menu_hints", LANG))
    if intro:
        _say(gather, intro)
    _say(gather, "menu")
    # Speech-only silence may skip the action: come back to the same step as "no input".
    response.redirect(action, method="POST")


def _enqueue(request: Request, response: VoiceResponse, queue: str) -> None:
    response.enqueue(queue, action=_url(request, BASE + "/queue", q=queue), method="POST",
                     wait_url=_url(request, BASE + "/wait", q=queue), wait_url_method="POST")


def _report_prompt(request: Request, response: VoiceResponse, attempt: int, *, after: str | None,
                   record: bool, again: bool = False) -> None:
    if record:
        _say(response, "recording_notice")
        start = response.start()
        start.recording(recording_status_callback=_url(request, BASE + "/recording"),
                        recording_status_callback_method="POST", recording_status_callback_event="completed",
                        trim="trim-silence")
    params: dict[str, object] = {"n": attempt}
    if after:
        params["after"] = after
    action = _url(request, BASE + "/report", **params)
    gather: Gather = response.gather(
        input="speech dtmf", language=text(BOOK, "language", LANG), num_digits=1, timeout=8,
        speech_timeout="auto", max_speech_time=120, action=action, method="POST",
        action_on_empty_result=True, hints=text(BOOK, "report_hints", LANG))
    _say(gather, "report_again" if again else "report_prompt")
    response.redirect(action, method="POST")


def _reference(response: VoiceResponse, received: Received) -> None:
    _say(response, "report_thanks")
    groups = spell_reference(received.reference)
    for intro in ("reference_intro", "reference_again"):
        _say(response, intro)
        for i, group in enumerate(groups):
            if i:
                response.pause(length=1)
            response.say(group, language=text(BOOK, "language", LANG), voice=text(BOOK, "tts_voice", LANG))
        response.pause(length=1)
    if received.urgency == "darurat":
        _say(response, "danger_note")
    _say(response, "goodbye")
    response.hangup()


async def _in_transaction(request: Request, fn, *args):
    return await run_in_threadpool(in_transaction, request.app.state.engine, fn, *args)


async def _start_report(request: Request, response: VoiceResponse, call_sid: str, *,
                        after: str | None = None) -> None:
    """The spoken-report prompt; the recording notice and recording start once per call when enabled."""
    record = False
    if request.app.state.settings.voice_recording_enabled:
        record = await _in_transaction(request, calls.first_recording_start, call_sid)
    _report_prompt(request, response, 1, after=after, record=record)


# --- routes ------------------------------------------------------------------------------------

@router.post(BASE, response_class=Response)
async def voice_call(request: Request) -> Response:
    """A call comes in: greeting and menu."""
    form = await verified_form(request, request.app.state.settings)
    call_sid, phone = _call_sid(form), _caller(form)
    await _in_transaction(request, calls.call_started, call_sid, phone)
    response = VoiceResponse()
    _menu(request, response, 1, intro="greeting")
    return _twiml(response)


@router.post(BASE + "/menu", response_class=Response)
async def voice_menu(request: Request) -> Response:
    form = await verified_form(request, request.app.state.settings)
    call_sid, phone = _call_sid(form), _caller(form)
    attempt = _step(request)
    after = request.query_params.get("after")
    digits, speech = _field(form, "Digits"), _field(form, "SpeechResult")
    choice = menu_choice(digits, speech)
    response = VoiceResponse()

    if choice is None and not digits and not speech and after == "info":
        await _in_transaction(request, calls.menu_answered, call_sid, phone, None, attempt)
        _say(response, "goodbye")
        response.hangup()
        return _twiml(response)
    if choice is None and attempt < MENU_TRIES:
        await _in_transaction(request, calls.menu_answered, call_sid, phone, None, attempt)
        _menu(request, response, attempt + 1, intro="not_understood")
        return _twiml(response)
    if choice is None:
        await _in_transaction(request, calls.menu_answered, call_sid, phone, "operator", attempt)
        _say(response, "to_operator")
        _enqueue(request, response, OPERATOR_QUEUE)
        return _twiml(response)

    # The emergency intake is committed here, before the caller waits for anyone.
    await _in_transaction(request, calls.menu_answered, call_sid, phone, choice, attempt)
    request.app.state.dispatcher_wake()
    if choice == "darurat":
        _say(response, "to_emergency_operator")
        _enqueue(request, response, EMERGENCY_QUEUE)
    elif choice == "lapor":
        await _start_report(request, response, call_sid)
    else:
        _say(response, "info")
        _menu(request, response, 1, after="info", intro="info_menu")
        # Silence after the information: the menu step answers goodbye.
    return _twiml(response)


@router.post(BASE + "/wait", response_class=Response)
async def voice_wait(request: Request) -> Response:
    """Twilio's waitUrl while the caller is queued: hold message, then leave the queue in time."""
    settings = request.app.state.settings
    form = await verified_form(request, settings)
    _call_sid(form)
    queue = _queue(request)
    waited = _count(_field(form, "QueueTime"), "QueueTime") or 0
    response = VoiceResponse()
    remaining = settings.voice_operator_wait_seconds - waited
    if remaining <= 0:
        response.leave()
        return _twiml(response)
    _say(response, "hold_emergency" if queue == EMERGENCY_QUEUE else "hold_operator")
    response.pause(length=max(1, min(HOLD_PAUSE_SECONDS, remaining)))
    return _twiml(response)


@router.post(BASE + "/queue", response_class=Response)
async def voice_queue_result(request: Request) -> Response:
    """The Enqueue action: after an operator's conversation, goodbye; when nobody took the call, the spoken report."""
    form = await verified_form(request, request.app.state.settings)
    call_sid, phone = _call_sid(form), _caller(form)
    queue = _queue(request)
    result = _field(form, "QueueResult").lower() or "unknown"
    if not _STATUS.match(result):
        raise HTTPException(400, "QueueResult malformed")
    waited = _count(_field(form, "QueueTime"), "QueueTime")
    await _in_transaction(request, calls.queue_left, call_sid, phone, queue, result, waited)
    response = VoiceResponse()
    if result in _TALKED_OR_GONE:
        if result == "bridged":
            _say(response, "after_operator")
        response.hangup()
        return _twiml(response)
    # leave (waited too long), queue-full, error, system-error...: take the report on the same intake.
    _say(response, "operators_busy")
    await _start_report(request, response, call_sid, after="queue")
    return _twiml(response)


@router.post(BASE + "/report", response_class=Response)
async def voice_report(request: Request) -> Response:
    form = await verified_form(request, request.app.state.settings)
    call_sid, phone = _call_sid(form), _caller(form)
    attempt = _step(request)
    after = "queue" if request.query_params.get("after") == "queue" else None
    speech, digits = _field(form, "SpeechResult"), _field(form, "Digits")
    response = VoiceResponse()
    if speech:
        turn = f"q{attempt}" if after else str(attempt)
        payload = {"CallSid": call_sid, "Confidence": _field(form, "Confidence"), "turn": turn}
        received = await _in_transaction(request, calls.spoken_report, call_sid, phone, speech, turn, payload)
        request.app.state.dispatcher_wake()
        _reference(response, received)
        return _twiml(response)
    to_operator = digits == OPERATOR_KEY or (attempt >= REPORT_TRIES and not after)
    if to_operator:
        # The caller asked for an operator, or twice said nothing we could hear.
        await _in_transaction(request, calls.menu_answered, call_sid, phone, "operator", attempt)
        _say(response, "to_operator")
        _enqueue(request, response, OPERATOR_QUEUE)
        return _twiml(response)
    if attempt >= REPORT_TRIES:
        # Already back from the operators' queue: no endless loop, say how to reach us.
        _say(response, "call_again")
        response.hangup()
        return _twiml(response)
    _report_prompt(request, response, attempt + 1, after=after, record=False, again=True)
    return _twiml(response)


@router.post(BASE + "/recording", status_code=204, response_class=Response)
async def voice_recording(request: Request) -> Response:
    """Recording status callback: the finished recording is kept by reference (its URL)."""
    settings = request.app.state.settings
    form = await verified_form(request, settings)
    call_sid, phone = _call_sid(form), _caller(form)
    recording_sid = _field(form, "RecordingSid")
    if not _SID.match(recording_sid):
        raise HTTPException(400, "RecordingSid missing or malformed")
    status = _field(form, "RecordingStatus").lower() or "completed"
    url = _field(form, "RecordingUrl")
    duration = _count(_field(form, "RecordingDuration"), "RecordingDuration")
    if status != "completed":
        return Response(status_code=204)
    if not url.startswith(("https://", "http://")):
        raise HTTPException(400, "RecordingUrl missing or malformed")
    if settings.voice_recording_enabled:
        await _in_transaction(request, calls.recording_done, call_sid, phone, recording_sid, url, duration)
    return Response(status_code=204)


@router.post("/webhooks/twilio/status", status_code=204, response_class=Response)
async def call_status(request: Request) -> Response:
    """Call status callback: how the call ended and how long it took; retries change nothing."""
    form = await verified_form(request, request.app.state.settings)
    call_sid, phone = _call_sid(form), _caller(form)
    status = _field(form, "CallStatus").lower()
    if not _STATUS.match(status):
        raise HTTPException(400, "CallStatus missing or malformed")
    duration = _count(_field(form, "CallDuration"), "CallDuration")
    await _in_transaction(request, calls.call_status, call_sid, status, duration, phone)
    return Response(status_code=204)
