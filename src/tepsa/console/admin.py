"""Administration pages (admin role only): console users, the field-worker roster, units and their areas.

Every change is written to the audit trail with who, from where and what changed
(codes and counts, never names, phone numbers or message text).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy import func
from sqlmodel import Session, col, or_, select

from tepsa.audit.service import record
from tepsa.auth.deps import Principal, client_address
from tepsa.console.session import check_csrf, console_user
from tepsa.console.web import lang_of, render, translator

router = APIRouter(tags=["console"], include_in_schema=False)

MAX_ROSTER_BYTES = 1024 * 1024
MAX_PROBLEMS_SHOWN = 50
WORKERS_SHOWN = 100


def _admin(request: Request, user: Principal = Depends(console_user("admin"))) -> Principal:
    """The signed-in admin, checked against the database: a session may outlive a demotion or deactivation."""
    from tepsa.auth.service import is_active_role

    with Session(request.app.state.engine) as session:
        if not is_active_role(session, user.username, "admin"):
            raise HTTPException(403, "Insufficient role")
    return user


Admin = Depends(_admin)



def _audit(session: Session, request: Request, user: Principal, action: str, detail: dict[str, Any]) -> None:
    record(session, actor=user.username, role=user.role, address=client_address(request), action=action, detail=detail)


def _t(request: Request):
    return translator(lang_of(request))


def mask_phone(phone: str | None) -> str:
    """'+6281200000002' -> '••••••••••002': only the last three digits are shown."""
    if not phone:
        return "-"
    digits = [c for c in phone if c.isdigit()]
    if len(digits) <= 3:
        return "•" * len(digits)
    return "•" * (len(digits) - 3) + "".join(digits[-3:])


# --- users -------------------------------------------------------------------------------------------


def _users_page(request: Request, user: Principal, status_code: int = 200, **context) -> HTMLResponse:
    from tepsa.auth.models import ROLES
    from tepsa.auth.service import MIN_ADMIN_PASSWORD, list_users

    with Session(request.app.state.engine) as session:
        users = list_users(session)
    return render(request, "admin_users.html", status_code, user=user, users=users, roles=ROLES,
                  min_password=MIN_ADMIN_PASSWORD, **context)


@router.get("/admin/pengguna", response_class=HTMLResponse)
async def users_page(request: Request, user: Principal = Admin) -> HTMLResponse:
    return await run_in_threadpool(_users_page, request, user)


async def _user_change(request: Request, user: Principal, action: str, change, ok_key: str) -> HTMLResponse:
    """Run ``change(session)`` -> (detail for the audit, values for the message); commit; re-render."""
    from tepsa.auth.service import UserChangeRefused

    t = _t(request)

    def run():
        with Session(request.app.state.engine) as session:
            try:
                detail, values = change(session)
                _audit(session, request, user, action, detail)
                session.commit()
            except UserChangeRefused as exc:
                session.rollback()
                status = 409 if exc.code == "err_user_exists" else 400
                return _users_page(request, user, status, error=t("admin:" + exc.code, **exc.values))
            except IntegrityError:  # another admin added the same username a moment earlier
                session.rollback()
                return _users_page(request, user, 409, error=t("admin:err_user_exists"))
        return _users_page(request, user, flash=t("admin:" + ok_key, **values))

    return await run_in_threadpool(run)


@router.post("/admin/pengguna", response_class=HTMLResponse)
async def add_user(request: Request, user: Principal = Admin, csrf: str = Form(default=""),
                   username: str = Form(default="", max_length=64), role: str = Form(default="", max_length=16),
                   password: str = Form(default="", max_length=200)) -> HTMLResponse:
    from tepsa.auth.service import add_user as add

    check_csrf(request, csrf)

    def change(session):
        new = add(session, username, role, password)
        session.flush()
        return {"target": new.username, "role": new.role}, {"username": new.username}

    return await _user_change(request, user, "user_created", change, "ok_user_added")


@router.post("/admin/pengguna/peran", response_class=HTMLResponse)
async def change_role(request: Request, user: Principal = Admin, csrf: str = Form(default=""),
                      username: str = Form(max_length=64), role: str = Form(max_length=16)) -> HTMLResponse:
    from tepsa.auth.service import change_role as set_role

    check_csrf(request, csrf)
    t = _t(request)

    def change(session):
        before, after = set_role(session, user.username, username, role)
        return ({"target": username, "before": before, "after": after},
                {"username": username, "before": t("role_" + before), "after": t("role_" + after)})

    return await _user_change(request, user, "user_role_changed", change, "ok_role")


@router.post("/admin/pengguna/status", response_class=HTMLResponse)
async def user_status(request: Request, user: Principal = Admin, csrf: str = Form(default=""),
                      username: str = Form(max_length=64), aktif: str = Form(max_length=1)) -> HTMLResponse:
    from tepsa.auth.service import set_user_active

    check_csrf(request, csrf)
    active = aktif == "1"

    def change(session):
        before = set_user_active(session, user.username, username, active)
        return {"target": username, "before": before, "after": active}, {"username": username}

    action = "user_reactivated" if active else "user_deactivated"
    return await _user_change(request, user, action, change, "ok_reactivated" if active else "ok_deactivated")


@router.post("/admin/pengguna/sandi", response_class=HTMLResponse)
async def user_password(request: Request, user: Principal = Admin, csrf: str = Form(default=""),
                        username: str = Form(max_length=64),
                        password: str = Form(default="", max_length=200)) -> HTMLResponse:
    from tepsa.auth.service import reset_password

    check_csrf(request, csrf)

    def change(session):
        reset_password(session, username, password)
        return {"target": username}, {"username": username}

    return await _user_change(request, user, "user_password_reset", change, "ok_password")


# --- field workers -----------------------------------------------------------------------------------


def _workers(session: Session, q: str):
    from tepsa.assignment.models import Worker

    stmt = select(Worker).order_by(Worker.kode).limit(WORKERS_SHOWN)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(or_(col(Worker.kode).ilike(like), col(Worker.nama).ilike(like)))
    return list(session.exec(stmt))


def _workers_page(request: Request, user: Principal, q: str = "", status_code: int = 200, **context) -> HTMLResponse:
    from tepsa.assignment.models import Worker
    from tepsa.geo.models import Region

    with Session(request.app.state.engine) as session:
        workers = _workers(session, q)
        kodes = {w.kabkota_kode for w in workers}
        places = dict(session.exec(select(Region.kode, Region.nama).where(col(Region.kode).in_(kodes))).all()) if kodes else {}
        counts = dict(session.exec(select(Worker.aktif, func.count()).group_by(Worker.aktif)).all())
    return render(request, "workers.html", status_code, user=user, workers=workers, q=q, places=places,
                  mask=mask_phone, total_active=counts.get(True, 0), total_inactive=counts.get(False, 0),
                  shown_max=WORKERS_SHOWN, **context)


@router.get("/admin/petugas", response_class=HTMLResponse)
async def workers_page(request: Request, user: Principal = Admin) -> HTMLResponse:
    q = request.query_params.get("q", "").strip()[:64].replace("\x00", "")
    return await run_in_threadpool(_workers_page, request, user, q)


@router.post("/admin/petugas/tautan", response_class=HTMLResponse)
async def enrolment_link(request: Request, user: Principal = Admin,
                         csrf: str = Form(default=""), kode: str = Form(max_length=64)) -> HTMLResponse:
    from tepsa.assignment.enrolment import EnrolmentError, create_link

    check_csrf(request, csrf)
    settings = request.app.state.settings

    def run():
        with Session(request.app.state.engine) as session:
            link = create_link(session, kode, settings.telegram_bot_username, settings.enrolment_hours,
                               created_by=user.username)
            _audit(session, request, user, "enrolment_link_created", {"worker_kode": kode})
            session.commit()
            return link

    try:
        link = await run_in_threadpool(run)
    except EnrolmentError:
        raise HTTPException(404, "no such worker") from None
    return await run_in_threadpool(lambda: _workers_page(request, user, link=link, link_for=kode,
                                                         hours=settings.enrolment_hours))


@router.post("/admin/petugas/impor", response_class=HTMLResponse)
async def import_workers(request: Request, user: Principal = Admin, csrf: str = Form(default=""),
                         berkas: UploadFile | None = File(default=None)) -> HTMLResponse:
    """Upload a roster CSV: all rows are checked first; one bad line and nothing is imported."""
    from tepsa.assignment.models import Worker
    from tepsa.assignment.roster import RosterError, import_roster, parse_roster
    from tepsa.geo.service import kabkota
    from tepsa.notify.service import release_held_for_worker

    check_csrf(request, csrf)
    t = _t(request)
    raw = await berkas.read(MAX_ROSTER_BYTES + 1) if berkas is not None else b""
    if berkas is not None:
        await berkas.close()
    if not raw:
        return await run_in_threadpool(lambda: _workers_page(request, user, status_code=400,
                                                             error=t("admin:import_no_file")))
    if len(raw) > MAX_ROSTER_BYTES:
        return await run_in_threadpool(lambda: _workers_page(
            request, user, status_code=413, error=t("admin:import_too_big", n=MAX_ROSTER_BYTES // 1024)))
    try:
        content = raw.decode("utf-8")
    except UnicodeDecodeError:
        return await run_in_threadpool(lambda: _workers_page(request, user, status_code=400,
                                                             error=t("admin:import_not_utf8")))

    def run():
        with Session(request.app.state.engine) as session:
            try:
                rows = parse_roster(content, {k for k, _ in kabkota(session)})
            except RosterError as exc:
                _audit(session, request, user, "roster_import_refused", {"problems": len(exc.problems)})
                session.commit()
                return None, exc.problems
            result = import_roster(session, rows)
            session.flush()
            for worker_id in session.exec(select(Worker.id).where(col(Worker.telegram_chat_id).is_not(None))).all():
                release_held_for_worker(session, worker_id)
            _audit(session, request, user, "roster_imported",
                   {"rows": len(rows), "created": result.created, "updated": result.updated,
                    "unchanged": result.unchanged})
            session.commit()
            return result, []

    result, problems = await run_in_threadpool(run)
    if result is None:
        return await run_in_threadpool(lambda: _workers_page(
            request, user, status_code=400, problems=problems[:MAX_PROBLEMS_SHOWN],
            more_problems=max(0, len(problems) - MAX_PROBLEMS_SHOWN)))
    return await run_in_threadpool(lambda: _workers_page(request, user, flash=t(
        "admin:import_ok", created=result.created, updated=result.updated, unchanged=result.unchanged)))


@router.post("/admin/petugas/status", response_class=HTMLResponse)
async def worker_status(request: Request, user: Principal = Admin, csrf: str = Form(default=""),
                        kode: str = Form(max_length=64), aktif: str = Form(max_length=1),
                        q: str = Form(default="", max_length=64)) -> HTMLResponse:
    """Deactivate a worker (assignment stops offering them cases) or reactivate them."""
    from tepsa.assignment.models import ACTIVE_ASSIGNMENT_STATES, Assignment, Worker
    from tepsa.db import utcnow

    check_csrf(request, csrf)
    t = _t(request)
    active = aktif == "1"
    q = q.strip().replace("\x00", "")

    def run():
        with Session(request.app.state.engine) as session:
            worker = session.exec(select(Worker).where(Worker.kode == kode.replace("\x00", ""))).first()
            if worker is None:
                return None, 0
            before = worker.aktif
            worker.aktif, worker.updated_at = active, utcnow()
            session.add(worker)
            live = session.exec(select(func.count()).select_from(Assignment).where(
                Assignment.worker_id == worker.id, col(Assignment.status).in_(ACTIVE_ASSIGNMENT_STATES))).one()
            _audit(session, request, user, "worker_reactivated" if active else "worker_deactivated",
                   {"worker_kode": worker.kode, "before": before, "after": active, "live_cases": live})
            session.commit()
            return worker.kode, live

    done, live = await run_in_threadpool(run)
    if done is None:
        return await run_in_threadpool(lambda: _workers_page(request, user, q, 404, error=t("admin:err_no_worker")))
    message = t("admin:ok_worker_reactivated" if active else "admin:ok_worker_deactivated", kode=done)
    if not active and live:
        message += " " + t("admin:worker_live", n=live)
    return await run_in_threadpool(lambda: _workers_page(request, user, q, flash=message))


# --- units and their service areas -------------------------------------------------------------------


def _units_page(request: Request, user: Principal, status_code: int = 200, **context) -> HTMLResponse:
    from tepsa.geo import service as geo
    from tepsa.geo.models import Unit

    with Session(request.app.state.engine) as session:
        units = list(session.exec(select(Unit).order_by(Unit.kode)))
        provinces = geo.provinces(session)
        covered = geo.coverage(session)
        kabkota = geo.kabkota(session)
    kab_names = dict(kabkota)
    areas: dict[str, list[str]] = {u.kode: [] for u in units}
    for prov, unit_kodes in covered.items():
        for unit_kode in unit_kodes:
            areas.setdefault(unit_kode, []).append(prov)
    for provs in areas.values():
        provs.sort()
    uncovered = [p for p in provinces if p.kode not in covered]
    doubled = [p for p in provinces if len(covered.get(p.kode, ())) > 1]
    return render(request, "admin_units.html", status_code, user=user, units=units, provinces=provinces,
                  prov_names={p.kode: p.nama for p in provinces}, covered=covered, areas=areas,
                  uncovered=uncovered, doubled=doubled, kabkota=kabkota, kab_names=kab_names, **context)


@router.get("/admin/unit", response_class=HTMLResponse)
async def units_page(request: Request, user: Principal = Admin) -> HTMLResponse:
    return await run_in_threadpool(_units_page, request, user)


@router.post("/admin/unit/{kode}", response_class=HTMLResponse)
async def save_unit(request: Request, kode: str, user: Principal = Admin, csrf: str = Form(default=""),
                    nama: str = Form(default="", max_length=400), kota: str = Form(default="", max_length=240),
                    kabkota_kode: str = Form(default="", max_length=16),
                    provinsi: list[str] = Form(default=[])) -> HTMLResponse:
    from tepsa.geo import service as geo

    check_csrf(request, csrf)
    t = _t(request)
    kode = kode[:32].replace("\x00", "")
    chosen = [p[:4].replace("\x00", "") for p in provinsi[:100]]

    def run():
        with Session(request.app.state.engine) as session:
            names = {p.kode: p.nama for p in geo.provinces(session)}
            try:
                change = geo.update_unit(session, kode, nama=nama.replace("\x00", ""), kota=kota.replace("\x00", ""),
                                         kabkota_kode=kabkota_kode.replace("\x00", ""), provinsi=chosen)
            except geo.UnitChangeRefused as exc:
                session.rollback()
                return None, [key for key, _ in exc.problems], [t("admin:" + key, **{k: (f"{names[v]} ({v})" if k == "kode" and v in names else v)
                                                   for k, v in values.items()})
                              for key, values in exc.problems]
            if change.changed:
                _audit(session, request, user, "unit_changed",
                       {"unit_kode": kode, "fields": list(change.fields), "provinces_added": list(change.added),
                        "provinces_removed": list(change.removed)})
            session.commit()
            return change, [], []

    change, keys, problems = await run_in_threadpool(run)
    if change is None:
        form = {"nama": nama, "kota": kota, "kabkota_kode": kabkota_kode, "provinsi": set(chosen)}
        status = 404 if "unit_err_no_unit" in keys else 409
        return await run_in_threadpool(lambda: _units_page(request, user, status, problems=problems,
                                                           form_unit=kode, form=form))
    flash = t("admin:ok_unit", unit=kode) if change.changed else t("admin:ok_unit_nochange")
    return await run_in_threadpool(lambda: _units_page(request, user, flash=flash, saved_unit=kode))
