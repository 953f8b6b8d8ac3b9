"""The console's home page: the queue of open intakes, live over server-sent events."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from sqlmodel import Session, select
from sse_starlette import EventSourceResponse

from tepsa.audit.service import record
from tepsa.auth.deps import Principal, client_address
from tepsa.console.live import QueueWatch
from tepsa.console.session import ConsoleOperator, check_csrf
from tepsa.console.web import render
from tepsa.db import utcnow
from tepsa.geo.models import Region, Unit
from tepsa.intake.queue import STATUSES, QueueFilter, queue

router = APIRouter(tags=["console"], include_in_schema=False)
CHANNELS = ("whatsapp", "voice", "operator")


def _choices(session: Session) -> dict:
    return {
        "provinces": list(session.exec(select(Region.kode, Region.nama).where(Region.level == "provinsi")
                                       .order_by(Region.nama)).all()),
        "units": list(session.exec(select(Unit.kode, Unit.nama).order_by(Unit.nama)).all()),
    }


def _rows(request: Request, user: Principal, f: QueueFilter):
    with Session(request.app.state.engine) as session:
        rows, total = queue(session, f, utcnow())
        if f.search:
            # A search by number reads personal data: audited (the number itself is not stored).
            record(session, actor=user.username, role=user.role,
                   address=client_address(request), action="queue_search",
                   detail={"results": [r.id for r in rows][:20]})
            session.commit()
        return rows, total


@router.get("/", response_class=HTMLResponse)
async def queue_page(request: Request, user: Principal = ConsoleOperator) -> HTMLResponse:
    def run():
        with Session(request.app.state.engine) as session:
            return _choices(session)

    return render(request, "queue.html", user=user, statuses=STATUSES, channels=CHANNELS,
                  **await run_in_threadpool(run))


@router.post("/antrian/baris", response_class=HTMLResponse)
async def queue_rows(
    request: Request,
    user: Principal = ConsoleOperator,
    csrf: str = Form(default=""),
    urgency: str = Form(default="", max_length=12),
    category: str = Form(default="", max_length=32),
    provinsi: str = Form(default="", max_length=4),
    status: str = Form(default="open", max_length=12),
    channel: str = Form(default="", max_length=16),
    unit: str = Form(default="", max_length=32),
    q: str = Form(default="", max_length=40),
) -> HTMLResponse:
    """The rows for the current filters; a POST so that a searched number never lands in a URL or a log."""
    check_csrf(request, csrf)
    f = QueueFilter(urgency=urgency, category=category, provinsi=provinsi,
                    status=status if status in STATUSES else "open", channel=channel, unit=unit,
                    search=q.replace("\x00", ""))
    rows, total = await run_in_threadpool(_rows, request, user, f)
    return render(request, "queue_rows.html", user=user, rows=rows, total=total, now=utcnow(), f=f)


def queue_watch(request: Request) -> QueueWatch:
    watch = getattr(request.app.state, "queue_watch", None)
    if watch is None:
        watch = request.app.state.queue_watch = QueueWatch(request.app.state.engine)
    return watch


@router.get("/antrian/langsung")
async def queue_events(request: Request, user: Principal = ConsoleOperator) -> EventSourceResponse:
    """Server-sent events: 'queue' whenever intakes may have changed; the page then reloads its rows."""
    watch = queue_watch(request)
    inbox = watch.subscribe()

    async def events():
        try:
            yield {"event": "hello", "data": "ok"}
            while True:
                try:
                    await asyncio.wait_for(inbox.get(), timeout=25)
                except TimeoutError:
                    continue  # sse-starlette sends the keep-alive pings
                yield {"event": "queue", "data": "changed"}
        finally:
            watch.unsubscribe(inbox)

    return EventSourceResponse(events(), ping=15, headers={"X-Accel-Buffering": "no", "Cache-Control": "no-store"})
