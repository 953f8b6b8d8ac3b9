"""The WhatsApp conversation: store and act on every message, then ask what is still missing.

Every message is stored and triaged as it arrives (``intake.service``), so a
located ``darurat`` report is offered at once and an unlocated one as soon as
the place is known. The dialogue's state is a database row; one conversation
belongs to one intake, and after ``idle_hours`` of silence a later message is
a follow-up on the same open intake. No provider SDK here: the channel
adapter turns the returned text into TwiML.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import timedelta

from sqlmodel import Session, col, select

from tepsa.assignment.service import assign_intake, live_assignment
from tepsa.conversation.dialogue import YES_NO_QUESTIONS, Facts, age_of, command_of, next_question, yes_no
from tepsa.conversation.models import Conversation
from tepsa.crypto import phone_hash
from tepsa.db import as_utc, in_transaction, utcnow
from tepsa.intake.models import InboundMessage, Intake, TimelineEvent
from tepsa.intake.service import (IncomingMessage, Received, apply_triage, open_intake, open_intake_for,
                                  receive_message)
from tepsa.notify import service as outbox
from tepsa.privacy.service import is_blocked, request_erasure
from tepsa.texts import text
from tepsa.vocab import urgency_label

log = logging.getLogger("tepsa.conversation")

_STORY_RULE_PREFIXES = ("default.", "location.", "age", "reporter.", "sex")


@dataclass(frozen=True)
class Reply:
    text: str
    intake_id: int | None
    reference: str | None


def facts_of(intake: Intake) -> Facts:
    story = any(not str(r.get("rule", "")).startswith(_STORY_RULE_PREFIXES) for r in intake.triage_reasons or [])
    return Facts(
        has_story=story,
        located=intake.kabkota_kode is not None,
        age_known=intake.age is not None,
        danger_known=intake.urgency == "darurat" or intake.danger_now is not None,
        contact_safe=intake.contact_safe,
        contact_time_known=bool(intake.contact_time),
        consent_known=intake.consent is not None,
        # A recognised information request or non-case has no child to ask about.
        needs_questions=not (story and intake.urgency == "rendah"),
        emergency=intake.urgency_floor == "darurat",
    )


def _active_conversation(session: Session, phone: str, idle_hours: int) -> tuple[Conversation | None, bool]:
    """The number's current conversation (active, or stopped by BATAL) and whether one just went idle.

    After ``idle_hours`` of silence the conversation closes: the next message
    starts a follow-up conversation on the same open intake.
    """
    conv = session.exec(select(Conversation).where(Conversation.phone_hash == phone_hash(phone))
                        .order_by(col(Conversation.id).desc())).first()
    if conv is None or conv.state == "closed":
        return None, False
    if utcnow() - as_utc(conv.last_inbound_at) > timedelta(hours=idle_hours):
        conv.state, conv.closed_at = "closed", utcnow()
        session.add(conv)
        session.flush()
        return None, True
    return conv, False


def _start_conversation(session: Session, intake: Intake, phone: str) -> Conversation:
    conv = Conversation(intake_id=intake.id, phone_hash=phone_hash(phone))
    with session.begin_nested():
        session.add(conv)
        session.flush()
    return conv


def notify_reporter(session: Session, intake: Intake, key: str, lang: str = "id") -> None:
    """A WhatsApp update outside the webhook's answer: only when the reporter said contact is safe."""
    if intake.channel != "whatsapp" or intake.contact_safe is not True or not intake.reporter_phone:
        return
    if not intake.reporter_phone.startswith("+"):
        return
    outbox.enqueue(
        session, channel="whatsapp", dedupe_key=f"wa:{key}:{intake.id}", intake_id=intake.id,
        payload={"to": intake.reporter_phone, "text": text("whatsapp", key, lang, reference=intake.reference),
                 "reference": intake.reference,
                 "window_until": (as_utc(intake.last_message_at) + timedelta(hours=24)).isoformat()},
    )


def _status_reply(session: Session, intake: Intake | None, lang: str) -> str:
    if intake is None:
        return text("whatsapp", "status_none", lang)
    assigned = live_assignment(session, intake.id) is not None
    return text("whatsapp", "status", lang, reference=intake.reference,
                status=text("whatsapp", "status_open" if intake.status == "open" else "status_closed", lang),
                urgency=urgency_label(intake.urgency, lang),
                assignment=text("whatsapp", "status_assigned" if assigned else "status_waiting", lang)).strip()


def _latest_intake(session: Session, phone: str) -> Intake | None:
    return open_intake_for(session, "whatsapp", phone) or session.exec(
        select(Intake).where(Intake.channel == "whatsapp", Intake.reporter_phone_hash == phone_hash(phone))
        .order_by(col(Intake.id).desc())).first()


def _apply_answer(session: Session, intake: Intake, key: str, body: str) -> bool:
    """Record the reporter's answer to ``key``; False when a yes/no answer was neither."""
    if key in YES_NO_QUESTIONS:
        answer = yes_no(body)
        if answer is None:
            return False
        if key == "danger":
            intake.danger_now = answer
            if answer:
                intake.urgency_floor = "darurat"
        elif key == "contact_safe":
            intake.contact_safe = answer
        elif key == "consent":
            intake.consent = answer
    elif key == "age":
        age = age_of(body)
        if age is not None:
            intake.age = age
    elif key == "contact_time":
        intake.contact_time = body.strip()[:200] or None
    session.add(intake)
    session.add(TimelineEvent(intake_id=intake.id, kind="answer", data={"question": key}))
    return True


def handle_whatsapp(session: Session, msg: IncomingMessage, idle_hours: int = 24, lang: str = "id") -> Reply:
    """Store ``msg``, act on it and decide the reply; the caller commits."""
    try:
        return _handle(session, msg, idle_hours, lang)
    except _AnsweredBefore as done:
        return done.reply


class _AnsweredBefore(Exception):
    """A racing retry found the first delivery stored: its reply stands and nothing more happens."""

    def __init__(self, reply: Reply) -> None:
        self.reply = reply


def _receive(session: Session, msg: IncomingMessage, lang: str) -> Received:
    """``receive_message``, stopping the conversation when the message turns out to be a retry."""
    received = receive_message(session, msg)
    if received.duplicate:
        raise _AnsweredBefore(_as_before(session, received, lang))
    return received


def _handle(session: Session, msg: IncomingMessage, idle_hours: int, lang: str) -> Reply:
    phone = msg.from_phone or ""
    if msg.provider_sid:
        stored = session.exec(select(InboundMessage).where(InboundMessage.provider_sid == msg.provider_sid)).first()
        if stored is not None:  # a provider retry: same answer, nothing new
            intake = session.get(Intake, stored.intake_id)
            return Reply(stored.reply_text if stored.reply_text is not None
                         else text("whatsapp", "thanks_more", lang, reference=intake.reference),
                         intake.id, intake.reference)

    if is_blocked(session, phone):
        # A number a supervisor blocked: kept and marked, never answered automatically.
        intake = open_intake_for(session, "whatsapp", phone)
        if intake is None:
            intake = open_intake(session, "whatsapp", phone)
            intake.status = "blocked"
            session.add(intake)
        received = _receive(session, replace(msg, kind="blocked", intake_id=intake.id), lang)
        return _finish(session, received.message_id, Reply("", intake.id, intake.reference))

    command = command_of(msg.body) if msg.body and msg.lat is None and not msg.num_media else None
    if command == "erase":
        request_erasure(session, phone)
        return Reply(text("whatsapp", "erase_requested", lang), None, None)
    if command in ("status", "stop"):
        intake = _latest_intake(session, phone)
        if intake is None:
            return Reply(text("whatsapp", "status_none", lang), None, None)
        received = _receive(session, replace(msg, kind="command", intake_id=intake.id), lang)
        if command == "stop":
            conv, _ = _active_conversation(session, phone, idle_hours)
            if conv is not None and conv.state == "active":
                conv.state, conv.awaiting, conv.closed_at = "stopped", None, utcnow()
                session.add(conv)
            reply = text("whatsapp", "stopped", lang, reference=intake.reference)
        else:
            reply = _status_reply(session, intake, lang)
        return _finish(session, received.message_id, Reply(reply, intake.id, intake.reference))

    conv, followup = _active_conversation(session, phone, idle_hours)
    if command == "darurat":
        intake = open_intake_for(session, "whatsapp", phone) or open_intake(session, "whatsapp", phone)
        intake.urgency_floor = "darurat"
        received = _receive(session, replace(msg, kind="command", intake_id=intake.id), lang)
        if conv is None:
            conv = _start_conversation(session, intake, phone)
        question = next_question(facts_of(intake), conv.asked)
        reply = text("whatsapp", "darurat", lang, reference=intake.reference)
        return _finish(session, received.message_id, _ask(session, conv, question, reply, lang, intake))

    awaiting = conv.awaiting if conv is not None else None
    answer_only = awaiting in YES_NO_QUESTIONS | {"age", "contact_time"} and len(msg.body.split()) <= 6 \
        and msg.lat is None and not msg.num_media
    received = _receive(session, replace(msg, kind="answer" if answer_only else "report"), lang)
    intake = session.get(Intake, received.intake_id)
    if conv is None or conv.intake_id != intake.id:
        conv = _start_conversation(session, intake, phone)
        if followup or not received.new_intake:
            session.add(TimelineEvent(intake_id=intake.id, kind="follow_up", data={"channel": "whatsapp"}))
    conv.last_inbound_at = utcnow()

    prefix = ""
    if awaiting is not None and awaiting != "where" and awaiting != "what":
        understood = _apply_answer(session, intake, awaiting, msg.body)
        if not understood and awaiting in YES_NO_QUESTIONS and conv.asked.count(awaiting) < 2:
            conv.asked = [*conv.asked, awaiting]
            session.add(conv)
            return _finish(session, received.message_id,
                           Reply(text("whatsapp", "ask_yes_no_again", lang), intake.id, intake.reference))
        if awaiting == "danger" and intake.danger_now:
            apply_triage(session, intake)
            assign_intake(session, intake)
        if awaiting == "contact_safe" and intake.contact_safe and live_assignment(session, intake.id):
            notify_reporter(session, intake, "assigned_update", lang)

    if received.new_intake:
        prefix = text("whatsapp", "thanks_new", lang, reference=intake.reference)
        if intake.urgency == "darurat":
            prefix += "\n\n" + text("whatsapp", "danger_note", lang)
    elif followup:
        prefix = text("whatsapp", "followup", lang, reference=intake.reference)
    if received.assigned:
        notify_reporter(session, intake, "assigned_update", lang)
    if conv.state != "active":
        return _finish(session, received.message_id,
                       Reply(prefix or text("whatsapp", "thanks_more", lang, reference=intake.reference),
                             intake.id, intake.reference))
    question = next_question(facts_of(intake), conv.asked)
    return _finish(session, received.message_id, _ask(session, conv, question, prefix, lang, intake))


def _as_before(session: Session, received: Received, lang: str) -> Reply:
    """The first delivery of this message was stored while this one was handled (a racing retry).

    Answer as that one was answered, and write nothing: the conversation must not move on.
    """
    session.rollback()
    reply = received.reply_text
    return Reply(text("whatsapp", "thanks_more", lang, reference=received.reference) if reply is None else reply,
                 received.intake_id, received.reference)


def _ask(session: Session, conv: Conversation, question: str | None, prefix: str, lang: str,
         intake: Intake) -> Reply:
    conv.awaiting = question
    if question is not None:
        conv.asked = [*conv.asked, question]
        body = text("whatsapp", f"ask_{question}", lang)
    elif "done" not in conv.answers:
        conv.answers = {**conv.answers, "done": True}
        body = "" if intake.urgency == "rendah" and prefix else text("whatsapp", "done", lang, reference=intake.reference)
    else:
        body = "" if prefix else text("whatsapp", "thanks_more", lang, reference=intake.reference)
    session.add(conv)
    reply = "\n\n".join(part for part in (prefix, body) if part)
    return Reply(reply, intake.id, intake.reference)


def _finish(session: Session, message_id: int | None, reply: Reply) -> Reply:
    if message_id is not None:
        message = session.get(InboundMessage, message_id)
        message.reply_text = reply.text
        session.add(message)
    return reply


def handle_and_commit(engine, msg: IncomingMessage, idle_hours: int = 24, deliver: bool = False) -> Reply:
    """``handle_whatsapp`` in its own transaction (retried once when a racing retry won).

    The inbox row is marked done in the same transaction. ``deliver``: the
    webhook has already answered ("received"), so the reply goes to the
    reporter through the outbox (Twilio's REST API) instead of TwiML.
    """
    from tepsa.intake import inbox

    def work(session: Session) -> Reply:
        reply = handle_whatsapp(session, msg, idle_hours)
        if msg.provider_sid:
            inbox.mark_done(session, msg.provider_sid)
        if deliver and reply.text and msg.from_phone:
            outbox.enqueue(session, channel="whatsapp", dedupe_key=f"reply:{msg.provider_sid}",
                           intake_id=reply.intake_id,
                           payload={"to": msg.from_phone, "text": reply.text, "reference": reply.reference or "",
                                    "window_until": (utcnow() + timedelta(hours=24)).isoformat()})
        return reply

    return in_transaction(engine, work)
