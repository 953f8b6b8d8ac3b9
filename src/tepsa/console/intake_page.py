"""The intake page and the operator's decisions on it; and a new intake typed during a call."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse
from sqlmodel import Session, col, select

from tepsa.assignment.models import Assignment, Worker
from tepsa.audit.service import record
from tepsa.auth.deps import Principal, client_address
from tepsa.console.minimap import MapPoint, render_map
from tepsa.console.session import ConsoleOperator, check_csrf
from tepsa.console.web import render
from tepsa.db import in_transaction
from tepsa.geo.models import Region
from tepsa.intake import actions
from tepsa.intake.actions import OUTCOMES, ActionError, Actor
from tepsa.intake.models import Attachment, Intake
from tepsa.intake.queries import intake_detail
from tepsa.intake.queue import due
from tepsa.phone import InvalidPhone, to_e164
from tepsa.triage.engine import _location_matcher, triage

router = APIRouter(tags=["console"], include_in_schema=False)



def _by_reference(session: Session, reference: str) -> Intake:
    intake = session.exec(select(Intake).where(Intake.reference == actions.normalise_reference(reference))).first()
    if intake is None:
        raise HTTPException(404, "Laporan tidak ditemukan / intake not found")
    return intake


def _region_path(intake: Intake) -> list[tuple[str, str, str]]:
    """(level, kode, name) from village up to province, from the in-memory gazetteer."""
    from tepsa.geo.gazetteer import get_gazetteer

    gaz = get_gazetteer()
    kodes = [k for k in (intake.desa_kode, intake.kecamatan_kode, intake.kabkota_kode) if k]
    if intake.kabkota_kode:
        kodes.append(intake.kabkota_kode.split(".", 1)[0])
    regions = [gaz.region(k) for k in kodes]
    return [(r.level, r.kode, r.nama) for r in regions if r is not None]


def _map(session: Session, intake: Intake, candidates: list[dict]) -> str:
    if not intake.kabkota_kode:
        return ""
    from tepsa.assignment.service import case_point

    lat, lon = case_point(session, intake)
    points = [MapPoint(r.lat, r.lon, "area") for r in session.exec(
        select(Region).where(Region.induk == intake.kabkota_kode)) if r.lat is not None]
    if lat is not None:
        points.append(MapPoint(lat, lon, "child", "Lokasi anak"))
    # Workers near enough to read on a small map (within 30 km); the list beside it has the others.
    ids = [c["worker_id"] for c in candidates[:5] if c["distance_km"] is not None and c["distance_km"] <= 30]
    for w in session.exec(select(Worker).where(col(Worker.id).in_(ids))) if ids else []:
        if w.lat is not None and w.lon is not None:
            points.append(MapPoint(w.lat, w.lon, "unit" if w.jenis == "balai" else "worker", w.kode))
    return render_map(points, title="Peta wilayah laporan")


def page_data(session: Session, intake: Intake) -> dict:
    from datetime import datetime, timezone

    detail = intake_detail(session, intake.id)
    detail["attachments"] = [
        {"kind": a.kind, "content_type": a.content_type, "duration_s": a.duration_s, "created_at": a.created_at,
         "id": a.id}
        for a in session.exec(select(Attachment).where(Attachment.intake_id == intake.id).order_by(col(Attachment.id)))
    ]
    detail["region_path"] = _region_path(intake)
    ranked = [c.as_dict() | {"worker_id": c.worker_id} for c in actions.candidates(session, intake)] if intake.status == "open" else []
    detail["candidates"] = ranked
    detail["map_svg"] = _map(session, intake, ranked)
    detail["duplicates"] = actions.likely_duplicates(session, intake) if intake.status == "open" else []
    detail["overrides"] = dict(intake.overrides or {})
    detail["opened_by"], detail["opened_at"] = intake.opened_by, intake.opened_at
    detail["outcome"], detail["closed_at"] = intake.outcome, intake.closed_at
    detail["duplicate_of"] = (session.get(Intake, intake.duplicate_of).reference if intake.duplicate_of else None)
    detail["contact_safe"], detail["danger_now"] = intake.contact_safe, intake.danger_now
    live = next((a for a in detail["assignments"] if a["status"] in ("offered", "accepted")), None)
    offer_deadline = session.get(Assignment, live["id"]).deadline_at if live else None
    detail["deadline"], detail["deadline_kind"] = due(intake.urgency, intake.created_at, intake.opened_at,
                                                      live["status"] if live else None, offer_deadline) \
        if intake.status == "open" else (None, None)
    detail["now"] = datetime.now(timezone.utc)
    return detail


def _show(request: Request, user: Principal, reference: str, flash: str | None = None, error: str | None = None,
          status_code: int = 200) -> HTMLResponse:
    """The page (runs in a worker thread): opening it marks the intake seen and is audited."""
    actor = Actor.of(user, client_address(request))

    def run():
        with Session(request.app.state.engine, expire_on_commit=False) as session:
            intake = _by_reference(session, reference)
            actions.mark_opened(session, intake, actor)
            record(session, actor=user.username, role=user.role, address=actor.address, action="read_intake",
                   intake_id=intake.id, detail={"via": "console"})
            data = page_data(session, intake)
            session.commit()
            return data

    return render(request, "intake.html", status_code=status_code, user=user, d=run(), flash=flash, error=error,
                  outcomes=OUTCOMES)


@router.get("/laporan/baru", response_class=HTMLResponse)
async def new_intake_form(request: Request, user: Principal = ConsoleOperator) -> HTMLResponse:
    return render(request, "intake_new.html", user=user, form_token=secrets.token_urlsafe(16), body="", phone="")


@router.post("/laporan/baru/pratinjau", response_class=HTMLResponse)
async def new_intake_preview(request: Request, user: Principal = ConsoleOperator, csrf: str = Form(default=""),
                             body: str = Form(default="", max_length=8000),
                             danger_now: str = Form(default="")) -> HTMLResponse:
    """The triage result of what the operator has typed so far (nothing is stored)."""
    check_csrf(request, csrf)
    text = body.replace("\x00", "")
    result = await run_in_threadpool(triage, [text]) if text.strip() else None
    urgency = result.urgency if result else None
    if danger_now and result is not None:
        urgency = "darurat"
    names = {}
    if result and result.kabkota_kode:
        from tepsa.geo.gazetteer import get_gazetteer

        gaz = get_gazetteer()
        for k in (result.desa_kode, result.kecamatan_kode, result.kabkota_kode):
            r = gaz.region(k) if k else None
            if r:
                names[r.level] = r.nama
    return render(request, "triage_result.html", user=user, r=result, urgency=urgency, names=names)


@router.post("/laporan/baru")
async def new_intake_save(request: Request, user: Principal = ConsoleOperator, csrf: str = Form(default=""),
                          body: str = Form(default="", max_length=8000), phone: str = Form(default="", max_length=40),
                          form_token: str = Form(default="", max_length=64), danger_now: str = Form(default=""),
                          contact_safe: str = Form(default="")):
    check_csrf(request, csrf)
    actor = Actor.of(user, client_address(request))
    try:
        number = to_e164(phone) if phone.strip() else None
    except InvalidPhone:
        return render(request, "intake_new.html", 400, user=user, form_token=form_token, body=body, phone="",
                      error="error_phone")
    token = form_token if form_token and len(form_token) >= 16 else secrets.token_urlsafe(16)

    def create(session: Session) -> str:
        intake = actions.new_operator_intake(session, actor, body, token, number, bool(danger_now),
                                             {"ya": True, "tidak": False}.get(contact_safe))
        return intake.reference

    try:
        reference = await run_in_threadpool(in_transaction, request.app.state.engine, create)
    except ActionError as exc:
        return render(request, "intake_new.html", 400, user=user, form_token=token, body=body, phone="",
                      error="error_" + str(exc))
    request.app.state.dispatcher_wake()
    return RedirectResponse(f"/laporan/{reference}?ok=created", status_code=303)


@router.get("/laporan/{reference}", response_class=HTMLResponse)
async def intake_page(request: Request, reference: str, user: Principal = ConsoleOperator) -> HTMLResponse:
    ok = request.query_params.get("ok", "")[:32]
    return await run_in_threadpool(_show, request, user, reference, ("done_" + ok) if ok else None)


def _place_from_text(text: str) -> dict | None:
    """An operator's place ('Kec. Tenayan Raya, Pekanbaru' or a region code) as region codes."""
    text = text.strip()
    if not text:
        return None
    from tepsa.geo.gazetteer import get_gazetteer

    gaz = get_gazetteer()
    code = text.replace(" ", "")
    region = gaz.region(code)
    if region is not None and region.level != "provinsi":
        kab = gaz.kabkota_of(code)
        kec = gaz.kecamatan_of(code)
        return {"kabkota_kode": kab.kode if kab else None, "kecamatan_kode": kec.kode if kec else None,
                "desa_kode": code if region.level not in ("kabupaten", "kota", "kecamatan") else None,
                "lat": region.lat, "lon": region.lon}
    found = _location_matcher().resolve([text])
    if not found.kabkota_kode:
        return None
    return {"kabkota_kode": found.kabkota_kode, "kecamatan_kode": found.kecamatan_kode,
            "desa_kode": found.desa_kode, "lat": None, "lon": None}


async def _act(request: Request, user: Principal, reference: str, csrf: str, done: str, fn) -> HTMLResponse:
    """Run one decision in a transaction; back to the page with a message, or the page with the error."""
    check_csrf(request, csrf)
    actor = Actor.of(user, client_address(request))

    def run(session: Session):
        intake = _by_reference(session, reference)
        fn(session, intake, actor)
        return intake.reference

    try:
        ref = await run_in_threadpool(in_transaction, request.app.state.engine, run)
    except ActionError as exc:
        return await run_in_threadpool(_show, request, user, reference, None, "error_" + str(exc), 400)
    request.app.state.dispatcher_wake()
    return RedirectResponse(f"/laporan/{ref}?ok={done}", status_code=303)


@router.post("/laporan/{reference}/ubah")
async def change(request: Request, reference: str, user: Principal = ConsoleOperator, csrf: str = Form(default=""),
                 urgency: str = Form(default="", max_length=12), category: str = Form(default="", max_length=32),
                 place: str = Form(default="", max_length=200), reason: str = Form(default="", max_length=600)):
    resolved = _place_from_text(place)
    if place.strip() and resolved is None:
        return await run_in_threadpool(_show, request, user, reference, None, "error_unknown_place", 400)
    return await _act(request, user, reference, csrf, "changed", lambda s, i, a: actions.reclassify(
        s, i, a, reason, urgency=urgency or None, category=category or None, place=resolved))


@router.post("/laporan/{reference}/tugaskan")
async def assign(request: Request, reference: str, user: Principal = ConsoleOperator, csrf: str = Form(default=""),
                 worker_kode: str = Form(max_length=64), reason: str = Form(default="", max_length=600)):
    return await _act(request, user, reference, csrf, "assigned",
                      lambda s, i, a: actions.reassign(s, i, a, worker_kode, reason))


@router.post("/laporan/{reference}/catatan")
async def note(request: Request, reference: str, user: Principal = ConsoleOperator, csrf: str = Form(default=""),
               note: str = Form(default="", max_length=2000)):
    return await _act(request, user, reference, csrf, "noted", lambda s, i, a: actions.add_note(s, i, a, note))


@router.post("/laporan/{reference}/duplikat")
async def duplicate(request: Request, reference: str, user: Principal = ConsoleOperator, csrf: str = Form(default=""),
                    of: str = Form(max_length=16), reason: str = Form(default="", max_length=600)):
    return await _act(request, user, reference, csrf, "duplicate",
                      lambda s, i, a: actions.mark_duplicate(s, i, a, of, reason))


@router.post("/laporan/{reference}/tutup")
async def close(request: Request, reference: str, user: Principal = ConsoleOperator, csrf: str = Form(default=""),
                outcome: str = Form(max_length=32), note: str = Form(default="", max_length=2000)):
    return await _act(request, user, reference, csrf, "closed", lambda s, i, a: actions.close(s, i, a, outcome, note))
