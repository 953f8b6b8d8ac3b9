"""Console pages: sign-in, and the training simulator of the two doors."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from sqlmodel import Session

from tepsa.audit.service import record
from tepsa.auth.deps import Principal, public
from tepsa.auth.service import BLOCKED, sign_in
from tepsa.channels.simulator import AsyncSimulator
from tepsa.console.session import (
    ConsoleOperator, check_csrf, console_user, csrf_token, end_session, set_csrf_cookie, start_session,
)

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
router = APIRouter(tags=["console"], include_in_schema=False)
MAX_LOG = 30


def _render(request: Request, name: str, status_code: int = 200, **context) -> HTMLResponse:
    context.setdefault("user", None)
    context["csrf"] = csrf_token(request)
    response = templates.TemplateResponse(request, name, context, status_code=status_code)
    set_csrf_cookie(request, response)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/masuk", response_class=HTMLResponse, dependencies=[Depends(public("sign-in page"))])
async def login_page(request: Request) -> HTMLResponse:
    return _render(request, "login.html")


@router.post("/masuk", dependencies=[Depends(public("sign-in form, rate limited, CSRF checked"))])
async def login(request: Request, username: str = Form(max_length=64), password: str = Form(max_length=200),
                csrf: str = Form(default="")):
    check_csrf(request, csrf)
    address = request.client.host if request.client else "unknown"

    def check():
        with Session(request.app.state.engine, expire_on_commit=False) as session:
            user = sign_in(session, username, password, address, "console")
            session.commit()
            return user

    user = await run_in_threadpool(check)
    if user == BLOCKED:
        return _render(request, "login.html", 429, error="Terlalu banyak percobaan. Coba lagi satu menit lagi.")
    if user is None:
        return _render(request, "login.html", 401, error="Nama pengguna atau kata sandi salah.")
    response = RedirectResponse("/simulator", status_code=303)
    start_session(response, request, user.username, user.role)
    return response


@router.post("/keluar", dependencies=[Depends(public("sign-out, CSRF checked"))])
async def logout(request: Request, csrf: str = Form(default="")):
    check_csrf(request, csrf)
    response = RedirectResponse("/masuk", status_code=303)
    end_session(response)
    return response


def _simulator(request: Request, phone: str, call_sid: str | None = None) -> AsyncSimulator:
    settings = request.app.state.settings
    token = settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else ""
    if not token:
        raise HTTPException(503, "Twilio channel not configured (TEPSA_TWILIO_AUTH_TOKEN)")
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=request.app), base_url=settings.public_base,
                               timeout=15)
    return AsyncSimulator(settings.public_base, token, client, phone=phone, call_sid=call_sid)


@router.get("/simulator", response_class=HTMLResponse)
async def simulator_page(request: Request, user: Principal = ConsoleOperator) -> HTMLResponse:
    return _render(request, "simulator.html", user=user, log=[], log_json="[]", phone="+6281200000001", said=[])


@router.post("/simulator", response_class=HTMLResponse)
async def simulator_step(
    request: Request,
    user: Principal = ConsoleOperator,
    csrf: str = Form(default=""),
    mode: str = Form(default="whatsapp", max_length=16),
    phone: str = Form(default="+6281200000001", max_length=32),
    body: str = Form(default="", max_length=4000),
    lat: str = Form(default="", max_length=32),
    lon: str = Form(default="", max_length=32),
    log: str = Form(default="[]", max_length=60000),
    step: str = Form(default="call", max_length=16),
    call_sid: str = Form(default="", max_length=64),
    action: str = Form(default="", max_length=500),
    enqueue_action: str = Form(default="", max_length=500),
    digits: str = Form(default="", max_length=3),
    speech: str = Form(default="", max_length=1000),
) -> HTMLResponse:
    check_csrf(request, csrf)
    try:
        history = [tuple(x) for x in json.loads(log)][-MAX_LOG:]
    except (ValueError, TypeError):
        history = []
    context = {"user": user, "phone": phone, "log": history, "said": []}
    sim = _simulator(request, phone, call_sid or None)
    try:
        if mode == "whatsapp":
            try:
                point = (float(lat), float(lon)) if lat.strip() and lon.strip() else (None, None)
            except ValueError:
                point = (None, None)
            history.append(("you", body or (f"📍 {point[0]}, {point[1]}" if point[0] is not None else "")))
            for reply in await sim.whatsapp(body, *point):
                history.append(("tepsa", reply))
        else:
            if step == "leave" and enqueue_action:
                voice = await sim.leave_queue(enqueue_action)
            elif step == "answer" and action:
                voice = await sim.answer(action, digits=digits or None, speech=speech or None)
            else:
                voice = await sim.call()
            context.update(said=voice.said, call_sid=sim.call_sid if not voice.hangup else None,
                           action=voice.gather_action, enqueue_action=voice.enqueue_action, queue=voice.enqueued)
    except httpx.HTTPStatusError as exc:
        context["error"] = f"Webhook menjawab {exc.response.status_code}."
    finally:
        await sim.http.aclose()
    context["log"] = history[-MAX_LOG:]
    context["log_json"] = json.dumps(context["log"], ensure_ascii=False)
    return _render(request, "simulator.html", **context)


@router.get("/audit", response_class=HTMLResponse)
async def audit_page(request: Request, user: Principal = Depends(console_user("supervisor"))) -> HTMLResponse:
    from tepsa.audit.service import list_events

    raw_id = request.query_params.get("intake_id", "").strip()
    intake_id = int(raw_id) if raw_id.isdigit() and len(raw_id) < 10 else None
    actor = request.query_params.get("actor", "").strip()[:64] or None

    def run():
        with Session(request.app.state.engine) as session:
            items, total = list_events(session, intake_id, actor, 200, 0)
            record(session, actor=user.username, role=user.role, address=request.client.host if request.client else None,
                   action="read_audit", intake_id=intake_id, detail={"via": "console"})
            session.commit()
            return items, total

    items, total = await run_in_threadpool(run)
    return _render(request, "audit.html", user=user, items=items, total=total, intake_id=intake_id, actor=actor)


def _workers(session: Session, q: str):
    from sqlmodel import col, or_, select

    from tepsa.assignment.models import Worker

    stmt = select(Worker).order_by(Worker.kode).limit(100)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(col(Worker.kode).ilike(like), col(Worker.nama).ilike(like)))
    return list(session.exec(stmt))


@router.get("/admin/petugas", response_class=HTMLResponse)
async def workers_page(request: Request, user: Principal = Depends(console_user("admin"))) -> HTMLResponse:
    q = request.query_params.get("q", "").strip()[:64].replace("\x00", "")

    def run():
        with Session(request.app.state.engine) as session:
            return _workers(session, q)

    return _render(request, "workers.html", user=user, workers=await run_in_threadpool(run), q=q)


@router.post("/admin/petugas/tautan", response_class=HTMLResponse)
async def enrolment_link(request: Request, user: Principal = Depends(console_user("admin")),
                         csrf: str = Form(default=""), kode: str = Form(max_length=64)) -> HTMLResponse:
    from tepsa.assignment.enrolment import EnrolmentError, create_link

    check_csrf(request, csrf)
    settings = request.app.state.settings

    def run():
        with Session(request.app.state.engine) as session:
            link = create_link(session, kode, settings.telegram_bot_username, settings.enrolment_hours,
                               created_by=user.username)
            record(session, actor=user.username, role=user.role,
                   address=request.client.host if request.client else None, action="enrolment_link_created",
                   detail={"worker_kode": kode})
            session.commit()
            return link, _workers(session, "")

    try:
        link, workers = await run_in_threadpool(run)
    except EnrolmentError:
        raise HTTPException(404, "no such worker") from None
    return _render(request, "workers.html", user=user, workers=workers, q="", link=link, link_for=kode,
                   hours=settings.enrolment_hours)
