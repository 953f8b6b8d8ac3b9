"""Calls to 1500-771: the voice door's use cases, free of any provider library.

The channel adapter (``tepsa.channels.voice``) parses Twilio's forms and builds
TwiML; everything that touches the database is here, as functions taking a
``Session`` and plain values. The caller commits (``tepsa.db.in_transaction`` does it
and retries once when a racing retry of the same webhook won a unique key).

Retries are normal: every function is idempotent on the provider's ids
(``CallSid``; ``(CallSid, CallStatus)``; ``RecordingSid``; the speech turn).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlmodel import Session, select

from tepsa import metrics
from tepsa.conversation.models import VoiceCall
from tepsa.db import utcnow
from tepsa.intake.models import Attachment, Intake, ProviderEvent, TimelineEvent
from tepsa.intake.service import IncomingMessage, Received, open_intake, receive_message

log = logging.getLogger("tepsa.voice")

CHANNEL = "voice"
TERMINAL_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})



@dataclass(frozen=True)
class CallState:
    call_id: int
    intake_id: int | None
    reference: str | None
    new_intake: bool = False


def find_call(session: Session, call_sid: str) -> VoiceCall | None:
    """The call's row, locked for this transaction (PostgreSQL; SQLite already has one writer).

    Two deliveries of the same answer then run one after the other: the second
    sees the intake the first opened instead of opening another.
    """
    return session.exec(select(VoiceCall).where(VoiceCall.call_sid == call_sid).with_for_update()).first()


def get_or_create_call(session: Session, call_sid: str, from_phone: str | None) -> VoiceCall:
    """The call's row, created on its first webhook (any of them: the first may have been lost)."""
    call = find_call(session, call_sid)
    if call is None:
        call = VoiceCall(call_sid=call_sid, from_phone=from_phone)
        session.add(call)
        session.flush()  # a racing retry fails here on the unique call_sid; in_transaction retries
        log.info("voice: call started", extra={"channel": CHANNEL})
    elif call.from_phone is None and from_phone:
        call.from_phone = from_phone
        session.add(call)
    return call


def _state(session: Session, call: VoiceCall, new_intake: bool = False) -> CallState:
    reference = None
    if call.intake_id is not None:
        intake = session.get(Intake, call.intake_id)
        reference = intake.reference if intake else None
    return CallState(call.id, call.intake_id, reference, new_intake)


def call_started(session: Session, call_sid: str, from_phone: str | None) -> CallState:
    return _state(session, get_or_create_call(session, call_sid, from_phone))


def menu_answered(session: Session, call_sid: str, from_phone: str | None, choice: str | None,
                  attempt: int) -> CallState:
    """Record the caller's menu choice (``darurat`` | ``lapor`` | ``info`` | ``operator`` | None).

    ``darurat`` opens the intake at once, at urgency ``darurat``, so the case
    exists even if the call drops before an operator answers; a retry of the
    same answer finds the intake already opened.
    """
    call = get_or_create_call(session, call_sid, from_phone)
    call.menu_attempts = max(call.menu_attempts, attempt)
    if choice and (call.choice != "darurat" or choice == "darurat"):
        call.choice = choice  # a danger choice is never overwritten by a later menu turn
    new = False
    if choice == "darurat":
        if call.intake_id is None:
            intake = open_intake(session, CHANNEL, call.from_phone, urgency_floor="darurat")
            call.intake_id = intake.id
            new = True
            metrics.intakes_opened.labels(CHANNEL, "darurat").inc()
            log.info("voice: emergency intake opened", extra={"intake_id": intake.id, "channel": CHANNEL,
                                                              "urgency": "darurat"})
        else:
            _raise_floor(session, call.intake_id)
    session.add(call)
    session.flush()
    return _state(session, call, new)


def _raise_floor(session: Session, intake_id: int) -> None:
    intake = session.get(Intake, intake_id)
    if intake is None or intake.urgency_floor == "darurat":
        return
    intake.urgency_floor = "darurat"
    intake.urgency = "darurat"
    intake.updated_at = utcnow()
    session.add(intake)
    session.add(TimelineEvent(intake_id=intake.id, kind="triaged", data={
        "urgency": "darurat", "reason": "reporter.floor", "channel": CHANNEL}))


def spoken_report(session: Session, call_sid: str, from_phone: str | None, speech: str, turn: str,
                  payload: dict | None = None) -> Received:
    """The caller's spoken report (speech-to-text) as a message of the call's intake.

    ``turn`` names the speech turn within the call (``"1"``, ``"q1"``...), so the
    message's provider id ``{CallSid}:speech:{turn}`` is the same on a retry.
    The message is triaged and assigned like a WhatsApp report.
    """
    call = get_or_create_call(session, call_sid, from_phone)
    message = IncomingMessage(channel=CHANNEL, provider_sid=f"{call_sid}:speech:{turn}", from_phone=call.from_phone,
                              body=speech, payload=payload or {}, intake_id=call.intake_id)
    received = receive_message(session, message)
    if call.intake_id != received.intake_id:
        call.intake_id = received.intake_id
    if call.choice is None:
        call.choice = "lapor"
    session.add(call)
    session.flush()
    return received


def _first_time(session: Session, key: str) -> bool:
    """True the first time ``key`` is seen; a retried provider event finds its row and is skipped."""
    if session.get(ProviderEvent, key) is not None:
        return False
    session.add(ProviderEvent(key=key))
    session.flush()  # a racing retry fails here on the primary key; in_transaction retries
    return True


def queue_left(session: Session, call_sid: str, from_phone: str | None, queue: str, result: str,
               queue_time_s: int | None) -> CallState:
    """The caller left an operators' queue (answered and done, hung up, timed out...): noted on the intake."""
    call = get_or_create_call(session, call_sid, from_phone)
    if _first_time(session, f"voice-queue:{call_sid}:{queue}:{result}") and call.intake_id is not None:
        session.add(TimelineEvent(intake_id=call.intake_id, kind="call_queue", data={
            "queue": queue, "result": result, "queue_time_s": queue_time_s}))
    return _state(session, call)


def call_status(session: Session, call_sid: str, status: str, duration_s: int | None,
                from_phone: str | None) -> bool:
    """Record how the call went (status callback); False for a retried callback (nothing written)."""
    if not _first_time(session, f"call-status:{call_sid}:{status}"):
        return False
    call = get_or_create_call(session, call_sid, from_phone)
    # Callbacks may arrive out of order: a late "ringing" never overwrites how the call ended.
    if call.status not in TERMINAL_STATUSES or status in TERMINAL_STATUSES:
        call.status = status
    if duration_s is not None:
        call.duration_s = duration_s
    if status in TERMINAL_STATUSES and call.ended_at is None:
        call.ended_at = utcnow()
    session.add(call)
    if call.intake_id is not None:
        session.add(TimelineEvent(intake_id=call.intake_id, kind="call_status",
                                  data={"status": status, "duration_s": duration_s}))
    log.info("voice: call status", extra={"intake_id": call.intake_id, "channel": CHANNEL, "status": status})
    return True


def recording_done(session: Session, call_sid: str, from_phone: str | None, recording_sid: str, url: str,
                   duration_s: int | None) -> bool:
    """Keep a finished recording of the call by reference (its URL); False on a retried callback.

    A call recorded without any recognised speech still gets an intake: the
    caller chose to report, and an operator can listen to what was said.
    """
    if session.exec(select(Attachment.id).where(Attachment.provider_sid == recording_sid)).first() is not None:
        return False
    call = get_or_create_call(session, call_sid, from_phone)
    if call.intake_id is None:
        intake = open_intake(session, CHANNEL, call.from_phone)
        call.intake_id = intake.id
        session.add(call)
        metrics.intakes_opened.labels(CHANNEL, "none").inc()
    session.add(Attachment(intake_id=call.intake_id, kind="recording", url=url,
                           provider_sid=recording_sid, duration_s=duration_s))
    session.add(TimelineEvent(intake_id=call.intake_id, kind="recording",
                              data={"channel": CHANNEL, "duration_s": duration_s}))
    session.flush()  # a racing retry fails here on the unique provider_sid; in_transaction retries
    log.info("voice: recording kept", extra={"intake_id": call.intake_id, "channel": CHANNEL})
    return True


def first_recording_start(session: Session, call_sid: str) -> bool:
    """True once per call: the recording (and its spoken notice) starts only the first time."""
    return _first_time(session, f"voice-recording-start:{call_sid}")
