"""Blocking numbers that abuse the line (supervisors). Numbers travel in bodies, never in URLs or logs."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from sqlmodel import Session

from tepsa.auth.deps import Principal, require_role
from tepsa.phone import InvalidPhone, to_e164
from tepsa.privacy.service import block_number, unblock_number

router = APIRouter(prefix="/api/v1/blocked-numbers", tags=["privacy"])


class BlockRequest(BaseModel):
    number: str = Field(min_length=3, max_length=40)
    reason: str = Field(default="", max_length=200)


def _number(raw: str) -> str:
    try:
        return to_e164(raw)
    except InvalidPhone:
        raise HTTPException(422, [{"loc": ["body", "number"], "msg": "not a phone number",
                                   "type": "value_error"}]) from None


@router.post("", status_code=204)
async def block(request: Request, body: BlockRequest, who: Principal = Depends(require_role("supervisor"))) -> None:
    number = _number(body.number)

    def run():
        with Session(request.app.state.engine) as session:
            block_number(session, number, who.username, who.role, body.reason)
            session.commit()

    await run_in_threadpool(run)


@router.post("/unblock", status_code=204)
async def unblock(request: Request, body: BlockRequest, who: Principal = Depends(require_role("supervisor"))) -> None:
    number = _number(body.number)

    def run():
        with Session(request.app.state.engine) as session:
            found = unblock_number(session, number, who.username, who.role)
            session.commit()
            return found

    if not await run_in_threadpool(run):
        raise HTTPException(404, "number is not blocked")
