"""The operators' queue: open intakes, most urgent first, then the deadline closest to being missed.

``due()`` and ``sort_key()`` are pure (plain values in, plain values out) so the
order can be tested exhaustively; ``queue()`` gathers the rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from sqlalchemy import false, func, or_
from sqlmodel import Session, col, select

from tepsa.assignment.models import ACTIVE_ASSIGNMENT_STATES, Assignment, Worker
from tepsa.crypto import phone_hash
from tepsa.db import as_utc
from tepsa.geo.models import UnitArea
from tepsa.intake.models import Intake
from tepsa.phone import InvalidPhone, to_e164
from tepsa.vocab import URGENCY_RANK

# The triage guide's target responses (shared/spec/triage-guide.md).
OPERATOR_CONTACT = {"darurat": timedelta(minutes=15)}
WORKER_RESPONSE = {"darurat": timedelta(hours=1), "tinggi": timedelta(hours=24), "sedang": timedelta(days=3)}
STATUSES = ("open", "closed", "duplicate", "all")
MAX_ROWS = 200


def due(urgency: str | None, created_at: datetime, opened_at: datetime | None, assignment_status: str | None,
        offer_deadline: datetime | None) -> tuple[datetime | None, str | None]:
    """The next deadline of an open intake and what it is for.

    - a darurat report nobody has opened: operator contact within 15 minutes;
    - an offer waiting for an answer: its accept deadline, or the response target if sooner;
    - no worker yet: the guide's response target for the urgency;
    - accepted: nothing is waiting on the hotline.
    """
    created_at = as_utc(created_at)
    if urgency in OPERATOR_CONTACT and opened_at is None:
        return created_at + OPERATOR_CONTACT[urgency], "operator_contact"
    if assignment_status == "accepted":
        return None, None
    target = WORKER_RESPONSE.get(urgency or "")
    target_at = created_at + target if target else None
    if assignment_status == "offered" and offer_deadline is not None:
        offer_deadline = as_utc(offer_deadline)
        if target_at is None or offer_deadline <= target_at:
            return offer_deadline, "offer_answer"
    return (target_at, "worker_response") if target_at else (None, None)


def sort_key(urgency: str | None, deadline: datetime | None, created_at: datetime) -> tuple:
    """Most urgent first; within a level the deadline closest to being missed; then the oldest."""
    far = datetime.max.replace(tzinfo=timezone.utc)
    return (-URGENCY_RANK.get(urgency or "", -1), as_utc(deadline) or far, as_utc(created_at))


@dataclass
class QueueFilter:
    urgency: str = ""
    category: str = ""
    provinsi: str = ""
    status: str = "open"
    channel: str = ""
    unit: str = ""
    search: str = ""


@dataclass
class QueueRow:
    id: int
    reference: str
    urgency: str | None
    category: str | None
    area: str
    provinsi: str
    channel: str
    status: str
    created_at: datetime
    assignment_status: str | None
    worker_kode: str | None
    deadline: datetime | None
    deadline_kind: str | None
    needs_review: bool
    alert: str | None
    unseen: bool
    tags: list[str] = field(default_factory=list)


def search_terms(raw: str) -> tuple[str | None, str | None]:
    """A reference ('K7M-4QX', 'k7m4qx') or a phone number (as its keyed hash), never the number itself."""
    raw = (raw or "").strip()[:40]
    if not raw:
        return None, None
    digits = sum(ch.isdigit() for ch in raw)
    if digits >= 8:
        try:
            return None, phone_hash(to_e164(raw))
        except InvalidPhone:
            return None, None
    s = "".join(ch for ch in raw.upper() if ch.isalnum())
    return (f"{s[:3]}-{s[3:]}" if len(s) == 6 else raw.upper()), None


def queue(session: Session, f: QueueFilter, now: datetime) -> tuple[list[QueueRow], int]:
    """Rows for the console queue (at most MAX_ROWS) and how many matched."""
    stmt = select(Intake)
    if f.status in ("open", "closed", "duplicate"):
        stmt = stmt.where(Intake.status == f.status)
    if f.urgency:
        stmt = stmt.where(Intake.urgency == f.urgency)
    if f.category:
        stmt = stmt.where(Intake.category == f.category)
    if f.channel:
        stmt = stmt.where(Intake.channel == f.channel)
    if f.provinsi:
        stmt = stmt.where(col(Intake.kabkota_kode).startswith(f.provinsi + "."))
    if f.unit:
        provinces = list(session.exec(select(UnitArea.provinsi_kode).where(UnitArea.unit_kode == f.unit)))
        stmt = stmt.where(or_(false(), *(col(Intake.kabkota_kode).startswith(p + ".") for p in provinces)))
    reference, hashed = search_terms(f.search)
    if reference:
        stmt = stmt.where(Intake.reference == reference)
    elif hashed:
        stmt = stmt.where(Intake.reporter_phone_hash == hashed)
    elif f.search.strip():
        return [], 0
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    # Open queues are small enough to sort in full; other views show the newest.
    limit = 5000 if f.status == "open" else MAX_ROWS
    intakes = list(session.exec(stmt.order_by(col(Intake.created_at).desc()).limit(limit)))
    ids = [i.id for i in intakes]
    live: dict[int, tuple[str, datetime | None, str]] = {}
    if ids:
        for intake_id, status, deadline_at, kode in session.exec(
                select(Assignment.intake_id, Assignment.status, Assignment.deadline_at, Worker.kode)
                .join(Worker, Worker.id == Assignment.worker_id)
                .where(col(Assignment.intake_id).in_(ids), col(Assignment.status).in_(ACTIVE_ASSIGNMENT_STATES))):
            live[intake_id] = (status, deadline_at, kode)
    names = _area_names(intakes)
    rows = []
    for i in intakes:
        status, offer_deadline, kode = live.get(i.id, (None, None, None))
        deadline, kind = due(i.urgency, i.created_at, i.opened_at, status, offer_deadline) if i.status == "open" else (None, None)
        prov = (i.kabkota_kode or "").split(".", 1)[0]
        area = ", ".join(n for n in (names.get(i.kecamatan_kode or ""), names.get(i.kabkota_kode or "")) if n)
        rows.append(QueueRow(
            id=i.id, reference=i.reference, urgency=i.urgency, category=i.category, area=area or "",
            provinsi=names.get(prov, ""), channel=i.channel, status=i.status, created_at=i.created_at,
            assignment_status=status, worker_kode=kode, deadline=deadline, deadline_kind=kind,
            needs_review=i.needs_review, alert=i.alert,
            unseen=i.status == "open" and i.urgency == "darurat" and i.opened_at is None,
        ))
    if f.status == "open":
        rows.sort(key=lambda r: sort_key(r.urgency, r.deadline, r.created_at))
    return rows[:MAX_ROWS], total


def _area_names(intakes: list[Intake]) -> dict[str, str]:
    """Names of the rows' kecamatan, kab/kota and province, from the in-memory gazetteer (no query)."""
    from tepsa.geo.gazetteer import get_gazetteer

    gaz = get_gazetteer()
    names = {}
    for i in intakes:
        for k in (i.kecamatan_kode, i.kabkota_kode, (i.kabkota_kode or "").split(".", 1)[0]):
            r = gaz.region(k) if k else None
            if r is not None:
                names[k] = r.nama
    return names


def change_marker(session: Session) -> tuple:
    """Changes when anything in the queue could have changed: the newest timeline event and intake update."""
    from tepsa.intake.models import TimelineEvent

    return (session.exec(select(func.max(TimelineEvent.id))).one(),
            str(session.exec(select(func.max(Intake.updated_at))).one()))
