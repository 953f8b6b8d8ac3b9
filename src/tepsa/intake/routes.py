"""Operators' JSON API over intakes: thin, everything is in queries/service."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session

from tepsa.auth.deps import Principal, client_address, require_role
from tepsa.audit.service import record
from tepsa.intake.queries import intake_detail, list_intakes

router = APIRouter(prefix="/api/v1/intakes", tags=["intakes"])

MAX_ID = 2**31 - 1  # what every database's integer column holds; larger numbers are refused with 422



@router.get("")
async def get_intakes(
    request: Request,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0, le=MAX_ID),
    who: Principal = Depends(require_role("operator")),
) -> dict[str, Any]:
    def run():
        with Session(request.app.state.engine) as session:
            items, total = list_intakes(session, limit, offset)
            record(session, actor=who.username, role=who.role, address=client_address(request), action="list_intakes",
                   detail={"intake_ids": [i["id"] for i in items]})
            session.commit()
            return items, total

    items, total = await run_in_threadpool(run)
    return {"items": items, "total": total}


@router.get("/{intake_id}")
async def get_intake(
    request: Request, intake_id: int = Path(ge=1, le=MAX_ID), who: Principal = Depends(require_role("operator"))
) -> dict[str, Any]:
    def run():
        with Session(request.app.state.engine) as session:
            detail = intake_detail(session, intake_id)
            if detail is not None:
                record(session, actor=who.username, role=who.role, address=client_address(request), action="read_intake",
                       intake_id=intake_id)
                session.commit()
            return detail

    detail = await run_in_threadpool(run)
    if detail is None:
        raise HTTPException(404, "Intake not found")
    return detail
