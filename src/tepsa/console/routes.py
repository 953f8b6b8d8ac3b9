"""Console pages: sign-in, language, the audit page and the training simulator of the two doors."""

from __future__ import annotations

import json

import httpx
from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse
from sqlmodel import Session

from tepsa.audit.service import record
from tepsa.auth.deps import Principal, client_address, public
from tepsa.auth.service import BLOCKED, sign_in
from tepsa.channels.simulator import AsyncSimulator
from tepsa.console.session import ConsoleOperator, check_csrf, console_user, end_session, start_session
from tepsa.console.web import LANG_COOKIE, LANGS, STATIC_DIR, render

router = APIRouter(tags=["console"], include_in_schema=False)
MAX_LOG = 30


@router.get("/masuk", response_class=HTMLResponse, dependencies=[Depends(public("sign-in page"))])
async def login_page(request: Request) -> HTMLResponse:
    return render(request, "login.html")


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
        return render(request, "login.html", 429, error_key="sign_in_blocked")
    if user is None:
        return render(request, "login.html", 401, error_key="sign_in_wrong")
    response = RedirectResponse("/", status_code=303)
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
    return render(request, "simulator.html", user=user, log=[], log_json="[]", phone="+6281200000001", said=[])


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
    return render(request, "simulator.html", **context)


@router.get("/audit", response_class=HTMLResponse)
async def audit_page(request: Request, user: Principal = Depends(console_user("supervisor"))) -> HTMLResponse:
    from tepsa.audit.service import list_events

    raw_id = request.query_params.get("intake_id", "").strip()
    intake_id = int(raw_id) if raw_id.isdigit() and len(raw_id) < 10 else None
    actor = request.query_params.get("actor", "").strip()[:64] or None

    def run():
        with Session(request.app.state.engine) as session:
            items, total = list_events(session, intake_id, actor, 200, 0)
            record(session, actor=user.username, role=user.role, address=client_address(request),
                   action="read_audit", intake_id=intake_id, detail={"via": "console"})
            session.commit()
            return items, total

    items, total = await run_in_threadpool(run)
    return render(request, "audit.html", user=user, items=items, total=total, intake_id=intake_id, actor=actor)




@router.get("/bahasa/{lang}", dependencies=[Depends(public("language preference cookie only"))])
async def choose_language(request: Request, lang: str) -> RedirectResponse:
    """Switch the console between Bahasa Indonesia and English, back to the same page."""
    back = request.query_params.get("ke", "/")
    if not back.startswith("/") or back.startswith("//"):
        back = "/"  # never an open redirect
    response = RedirectResponse(back, status_code=303)
    if lang in LANGS:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 86400, samesite="lax", path="/",
                            secure=request.app.state.settings.public_base.startswith("https://"))
    return response


_STATIC_TYPES = {".js": "text/javascript", ".css": "text/css", ".svg": "image/svg+xml", ".png": "image/png"}


@router.get("/static/{name:path}", dependencies=[Depends(public("the console's own scripts and styles"))])
async def static_file(name: str) -> FileResponse:
    """The console's stylesheet and vendored scripts; versioned vendor files are cached for a year."""
    path = (STATIC_DIR / name).resolve()
    if STATIC_DIR.resolve() not in path.parents or not path.is_file() or path.suffix not in _STATIC_TYPES:
        raise HTTPException(404, "not found")
    cache = "public, max-age=31536000, immutable" if name.startswith("vendor/") else "no-cache"
    return FileResponse(path, media_type=_STATIC_TYPES[path.suffix], headers={"Cache-Control": cache})
