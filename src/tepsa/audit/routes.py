"""GET /api/v1/audit: the trail, for supervisors and administrators. There is no route that changes it."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session

from tepsa.audit.service import list_events, record
from tepsa.auth.deps import Principal, client_address, require_role

router = APIRouter(prefix="/api/v1/audit", tags=["audit"])


@router.get("")
async def get_audit(
    request: Request,
    intake_id: int | None = Query(None, ge=1, le=2**31 - 1),
    actor: str | None = Query(None, max_length=64),
    limit: int = Query(100, ge=1, le=1000),
    offset: int = Query(0, ge=0, le=2**31 - 1),
    who: Principal = Depends(require_role("supervisor")),
) -> dict[str, Any]:
    def run():
        with Session(request.app.state.engine) as session:
            items, total = list_events(session, intake_id, actor, limit, offset)
            record(session, actor=who.username, role=who.role,
                   address=client_address(request), action="read_audit",
                   intake_id=intake_id)
            session.commit()
            return items, total

    items, total = await run_in_threadpool(run)
    return {"items": items, "total": total}
