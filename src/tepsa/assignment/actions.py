"""What field workers do from their phones: accept, decline, report progress, set availability.

Provider-neutral: the Telegram adapter (channels/telegram.py) turns button
presses and commands into these calls and their ``Outcome`` into messages.
Every action checks that the chat belongs to the worker the offer was made
to, and takes a row lock on the assignment, so a button pressed twice or
after the offer moved on changes nothing and says what happened.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

import jwt
from sqlmodel import Session, col, select

from tepsa.assignment.models import ACTIVE_ASSIGNMENT_STATES, Assignment, Deadline, Worker
from tepsa.assignment.service import area_label, escalate
from tepsa.audit.service import record
from tepsa.db import utcnow
from tepsa.intake.models import Intake, TimelineEvent
from tepsa.notify import service as outbox
from tepsa.texts import text
from tepsa.vocab import category_label, urgency_label

log = logging.getLogger("tepsa.workers")

DECLINE_REASONS = ("jauh", "penuh", "cuti", "lain")
PROGRESS_STEPS = ("on_the_way", "met_child", "referred", "closed")


@dataclass(frozen=True)
class Outcome:
    text: str
    ok: bool = True
    assignment_id: int | None = None
    reference: str | None = None
    buttons: list[list[list[str]]] = field(default_factory=list)
    """[label, callback data] rows to show under the answer (empty: remove the buttons)."""
    force_reply: bool = False


def worker_by_chat(session: Session, chat_id: int | str) -> Worker | None:
    return session.exec(select(Worker).where(Worker.telegram_chat_id == str(chat_id))).first()


def _locked(session: Session, assignment_id: int) -> Assignment | None:
    return session.exec(select(Assignment).where(Assignment.id == assignment_id).with_for_update()).first()


def _owned(session: Session, assignment_id: int, chat_id: int | str) -> tuple[Assignment | None, Intake | None, Outcome | None]:
    assignment = _locked(session, assignment_id)
    worker = worker_by_chat(session, chat_id)
    if assignment is None or worker is None or assignment.worker_id != worker.id:
        return None, None, Outcome(text("telegram", "not_yours"), ok=False)
    return assignment, session.get(Intake, assignment.intake_id), None


def _audit(session: Session, assignment: Assignment, action: str, before: str | None, after: str | None) -> None:
    record(session, actor=f"worker:{assignment.worker_id}", role="worker", address="telegram", action=action,
           intake_id=assignment.intake_id, detail={"assignment_id": assignment.id,
                                                   "before": {"status": before}, "after": {"status": after}})


def _already(assignment: Assignment, intake: Intake) -> Outcome:
    return Outcome(text("telegram", "already", reference=intake.reference,
                        status=text("telegram", f"status_{assignment.status}")), ok=False,
                   assignment_id=assignment.id, reference=intake.reference,
                   buttons=progress_buttons(assignment.id) if assignment.status == "accepted" else [])


def progress_buttons(assignment_id: int) -> list[list[list[str]]]:
    return [[[text("telegram", "progress_on_the_way"), f"prg:{assignment_id}:on_the_way"],
             [text("telegram", "progress_met_child"), f"prg:{assignment_id}:met_child"]],
            [[text("telegram", "progress_referred"), f"prg:{assignment_id}:referred"],
             [text("telegram", "progress_closed"), f"prg:{assignment_id}:closed"]]]


def accept(session: Session, assignment_id: int, chat_id: int | str) -> Outcome:
    assignment, intake, refused = _owned(session, assignment_id, chat_id)
    if refused:
        return refused
    if assignment.status != "offered":
        return _already(assignment, intake)
    _audit(session, assignment, "offer_accepted", assignment.status, "accepted")
    assignment.status, assignment.responded_at, assignment.updated_at = "accepted", utcnow(), utcnow()
    session.add(assignment)
    for deadline in session.exec(select(Deadline).where(Deadline.assignment_id == assignment.id,
                                                        Deadline.status == "pending")):
        deadline.status = "cancelled"
        session.add(deadline)
    if intake.alert:
        intake.alert = None
        session.add(intake)
    session.add(TimelineEvent(intake_id=intake.id, kind="accepted", actor=f"worker:{assignment.worker_id}",
                              data={"assignment_id": assignment.id}))
    _notify_reporter(session, intake, "assigned_update")
    log.info("worker: accepted", extra={"intake_id": intake.id, "assignment_id": assignment.id})
    return Outcome(text("telegram", "accepted", reference=intake.reference), assignment_id=assignment.id,
                   reference=intake.reference, buttons=progress_buttons(assignment.id))


def ask_decline_reason(session: Session, assignment_id: int, chat_id: int | str) -> Outcome:
    assignment, intake, refused = _owned(session, assignment_id, chat_id)
    if refused:
        return refused
    if assignment.status != "offered":
        return _already(assignment, intake)
    rows = [[[text("telegram", f"reason_{r}"), f"rsn:{assignment.id}:{r}"]] for r in DECLINE_REASONS]
    return Outcome(text("telegram", "decline_ask", reference=intake.reference), assignment_id=assignment.id,
                   reference=intake.reference, buttons=rows)


def decline(session: Session, assignment_id: int, chat_id: int | str, reason: str) -> Outcome:
    assignment, intake, refused = _owned(session, assignment_id, chat_id)
    if refused:
        return refused
    if assignment.status != "offered":
        return _already(assignment, intake)
    reason = reason if reason in DECLINE_REASONS else "lain"
    _audit(session, assignment, "offer_declined", assignment.status, "declined")
    escalate(session, assignment, "declined", reason)
    log.info("worker: declined", extra={"intake_id": intake.id, "assignment_id": assignment.id})
    return Outcome(text("telegram", "declined", reference=intake.reference,
                        reason=text("telegram", f"reason_{reason}")), assignment_id=assignment.id,
                   reference=intake.reference)


def report_progress(session: Session, assignment_id: int, chat_id: int | str, step: str) -> Outcome:
    assignment, intake, refused = _owned(session, assignment_id, chat_id)
    if refused:
        return refused
    if assignment.status != "accepted" or step not in PROGRESS_STEPS:
        return _already(assignment, intake)
    _audit(session, assignment, "progress_" + step, assignment.progress or assignment.status, step)
    assignment.progress, assignment.updated_at = step, utcnow()
    session.add(TimelineEvent(intake_id=intake.id, kind="progress", actor=f"worker:{assignment.worker_id}",
                              data={"assignment_id": assignment.id, "step": step}))
    buttons = progress_buttons(assignment.id)
    if step == "closed":
        assignment.status = "completed"
        intake.status = "closed"
        intake.updated_at = utcnow()
        session.add(intake)
        buttons = []
    session.add(assignment)
    _notify_reporter(session, intake, f"progress_{step}")
    return Outcome(text("telegram", "progress_saved", reference=intake.reference,
                        step=text("telegram", f"progress_{step}")), assignment_id=assignment.id,
                   reference=intake.reference, buttons=buttons, force_reply=not buttons)


def add_note(session: Session, reference: str, chat_id: int | str, note: str) -> Outcome | None:
    """A reply to a progress message: a short note on the worker's own case."""
    worker = worker_by_chat(session, chat_id)
    intake = session.exec(select(Intake).where(Intake.reference == reference)).first()
    if worker is None or intake is None:
        return None
    mine = session.exec(select(Assignment).where(Assignment.intake_id == intake.id,
                                                 Assignment.worker_id == worker.id,
                                                 col(Assignment.status).in_(("accepted", "completed")))).first()
    if mine is None:
        return Outcome(text("telegram", "not_yours"), ok=False)
    session.add(TimelineEvent(intake_id=intake.id, kind="worker_note", actor=f"worker:{worker.id}",
                              data={"assignment_id": mine.id, "note": note.strip()[:500]}))
    return Outcome(text("telegram", "note_saved", reference=reference), reference=reference)


def set_on_duty(session: Session, chat_id: int | str, on_duty: bool) -> Outcome:
    worker = worker_by_chat(session, chat_id)
    if worker is None:
        return Outcome(text("telegram", "not_enrolled"), ok=False)
    worker.bertugas, worker.updated_at = on_duty, utcnow()
    session.add(worker)
    return Outcome(text("telegram", "on_duty" if on_duty else "off_duty"))


def list_cases(session: Session, chat_id: int | str) -> Outcome:
    worker = worker_by_chat(session, chat_id)
    if worker is None:
        return Outcome(text("telegram", "not_enrolled"), ok=False)
    rows = session.exec(select(Assignment, Intake).join(Intake, Intake.id == Assignment.intake_id)
                        .where(Assignment.worker_id == worker.id,
                               col(Assignment.status).in_(ACTIVE_ASSIGNMENT_STATES))
                        .order_by(col(Assignment.id))).all()
    if not rows:
        return Outcome(text("telegram", "cases_none"))
    lines = [text("telegram", "cases_header")]
    for assignment, intake in rows:
        lines.append(text("telegram", "case_line", reference=intake.reference,
                          urgency=urgency_label(intake.urgency), category=category_label(intake.category),
                          area=area_label(session, intake), status=assignment.progress or assignment.status))
    return Outcome("\n".join(lines))


def set_base_location(session: Session, chat_id: int | str, lat: float, lon: float) -> Outcome:
    worker = worker_by_chat(session, chat_id)
    if worker is None:
        return Outcome(text("telegram", "not_enrolled"), ok=False)
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return Outcome(text("telegram", "help"), ok=False)
    worker.lat, worker.lon, worker.updated_at = lat, lon, utcnow()
    session.add(worker)
    return Outcome(text("telegram", "location_saved"))


DETAIL_AUDIENCE = "tepsa-worker-detail"


def detail_link(session: Session, assignment_id: int, chat_id: int | str, key: str, base_url: str,
                minutes: int) -> Outcome:
    """A signed link, valid ``minutes``, to the full intake for the worker it was offered to."""
    assignment, intake, refused = _owned(session, assignment_id, chat_id)
    if refused:
        return refused
    if assignment.status not in ACTIVE_ASSIGNMENT_STATES:
        return _already(assignment, intake)
    token = jwt.encode({"a": assignment.id, "w": assignment.worker_id, "aud": DETAIL_AUDIENCE,
                        "exp": utcnow() + timedelta(minutes=minutes)}, key, algorithm="HS256")
    url = f"{base_url.rstrip('/')}/w/kasus/{token}"
    return Outcome(text("telegram", "detail_link", reference=intake.reference, minutes=minutes, url=url),
                   assignment_id=assignment.id, reference=intake.reference,
                   buttons=progress_buttons(assignment.id) if assignment.status == "accepted" else [])


def read_detail_token(token: str, key: str) -> tuple[int, int] | None:
    try:
        claims = jwt.decode(token, key, algorithms=["HS256"], audience=DETAIL_AUDIENCE)
        return int(claims["a"]), int(claims["w"])
    except (jwt.PyJWTError, KeyError, ValueError, TypeError):
        return None


def _notify_reporter(session: Session, intake: Intake, key: str) -> None:
    from tepsa.conversation.whatsapp import notify_reporter

    notify_reporter(session, intake, key)


def handle_deadline(session: Session, deadline: Deadline) -> None:
    """The scheduler found this deadline due: an unanswered offer moves on."""
    if deadline.kind != "offer_timeout" or deadline.assignment_id is None:
        return
    assignment = _locked(session, deadline.assignment_id)
    if assignment is None or assignment.status != "offered":
        return
    log.info("worker: offer timed out", extra={"assignment_id": assignment.id, "intake_id": assignment.intake_id})
    escalate(session, assignment, "timed_out")


def handle_undeliverable(session: Session, outbox_id: int) -> None:
    """Telegram refused an offer for good: mark the worker unreachable, try SMS, move the offer on."""
    from tepsa.notify.models import Outbox

    row = session.get(Outbox, outbox_id)
    if row is None or row.payload.get("kind") != "offer" or row.worker_id is None:
        return
    worker = session.get(Worker, row.worker_id)
    worker.reachable, worker.updated_at = False, utcnow()
    session.add(worker)
    assignment = _locked(session, row.payload["assignment_id"])
    intake = session.get(Intake, row.intake_id) if row.intake_id else None
    if worker.telepon and intake is not None:
        outbox.enqueue(session, channel="sms", dedupe_key=f"sms:offer:{row.payload['assignment_id']}",
                       worker_id=worker.id, intake_id=intake.id,
                       payload={"kind": "sms_fallback", "to": worker.telepon,
                                "text": text("telegram", "sms_fallback", reference=intake.reference)})
    if intake is not None:
        session.add(TimelineEvent(intake_id=intake.id, kind="worker_unreachable",
                                  data={"worker_id": worker.id, "sms_fallback": bool(worker.telepon)}))
    if assignment is not None and assignment.status == "offered":
        escalate(session, assignment, "undeliverable")
