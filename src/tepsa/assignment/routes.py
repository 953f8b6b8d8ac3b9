"""The worker's detail page: reached only through a signed 15-minute link from the bot."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse
from sqlmodel import Session, col, select

from tepsa.assignment.actions import read_detail_token
from tepsa.assignment.models import ACTIVE_ASSIGNMENT_STATES, Assignment
from tepsa.assignment.service import area_label
from tepsa.audit.service import record
from tepsa.intake.models import InboundMessage, Intake
from tepsa.vocab import category_label, urgency_label

router = APIRouter(tags=["workers"])


def _page(session: Session, assignment_id: int, worker_id: int) -> str | None:
    assignment = session.get(Assignment, assignment_id)
    if assignment is None or assignment.worker_id != worker_id or assignment.status not in ACTIVE_ASSIGNMENT_STATES:
        return None
    intake = session.get(Intake, assignment.intake_id)
    record(session, actor=f"worker:{worker_id}", role="worker", address="link", action="read_intake",
           intake_id=intake.id, detail={"assignment_id": assignment_id})
    session.commit()
    messages = session.exec(select(InboundMessage).where(InboundMessage.intake_id == intake.id,
                                                         InboundMessage.kind == "report")
                            .order_by(col(InboundMessage.id))).all()
    rows = [("Nomor laporan", intake.reference), ("Urgensi", urgency_label(intake.urgency)),
            ("Kategori", category_label(intake.category)), ("Wilayah", area_label(session, intake)),
            ("Umur anak", "-" if intake.age is None else f"{intake.age} tahun")]
    if intake.lat is not None and intake.lon is not None:
        rows.append(("Titik lokasi", f"{intake.lat:.5f}, {intake.lon:.5f}"))
    if intake.contact_safe is True and intake.reporter_phone and intake.reporter_phone.startswith("+"):
        rows.append(("Kontak pelapor", intake.reporter_phone + (f" ({intake.contact_time})" if intake.contact_time else "")))
    else:
        rows.append(("Kontak pelapor", "jangan dihubungi langsung (tidak aman / tanpa izin)"))
    table = "".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>" for k, v in rows)
    texts = "".join(f"<li>{escape(m.body)}</li>" for m in messages if m.body)
    return (
        "<!doctype html><html lang='id'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'><meta name='robots' content='noindex'>"
        f"<title>Kasus {escape(intake.reference)}</title><style>body{{font:16px/1.45 system-ui,sans-serif;"
        "margin:0 auto;max-width:40rem;padding:1rem}th{text-align:left;padding-right:1rem;vertical-align:top}"
        "li{margin:.4rem 0}</style></head><body>"
        f"<h1>Kasus {escape(intake.reference)}</h1><p>Rahasia: jangan diteruskan atau difoto.</p>"
        f"<table>{table}</table><h2>Laporan</h2><ol>{texts}</ol></body></html>"
    )


@router.get("/w/kasus/{token}", response_class=HTMLResponse)
async def worker_detail(request: Request, token: str) -> HTMLResponse:
    ids = read_detail_token(token, request.app.state.secret_key)
    if ids is None:
        raise HTTPException(404, "Tautan tidak berlaku / link not valid")

    def run():
        with Session(request.app.state.engine) as session:
            return _page(session, *ids)

    page = await run_in_threadpool(run)
    if page is None:
        raise HTTPException(404, "Tautan tidak berlaku / link not valid")
    return HTMLResponse(page, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})
