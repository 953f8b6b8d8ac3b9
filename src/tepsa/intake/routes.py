"""Operators' JSON API over intakes: thin, everything is in queries/service."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session

from tepsa.auth.deps import Principal, require_role
from tepsa.intake.queries import intake_detail, list_intakes

router = APIRouter(prefix="/api/v1/intakes", tags=["intakes"])


@router.get("")
async def get_intakes(
    request: Request,
    limit: int = Query(50, ge=1, le=500),
    offset: int = Query(0, ge=0),
    _: Principal = Depends(require_role("operator")),
) -> dict[str, Any]:
    def run():
        with Session(request.app.state.engine) as session:
            return list_intakes(session, limit, offset)

    items, total = await run_in_threadpool(run)
    return {"items": items, "total": total}


@router.get("/{intake_id}")
async def get_intake(
    request: Request, intake_id: int, _: Principal = Depends(require_role("operator"))
) -> dict[str, Any]:
    def run():
        with Session(request.app.state.engine) as session:
            return intake_detail(session, intake_id)

    detail = await run_in_threadpool(run)
    if detail is None:
        raise HTTPException(404, "Intake not found")
    return detail
