"""POST /api/v1/triage: the engine over the API (any signed-in user)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from tepsa.auth.deps import Principal, require_role
from tepsa.triage.engine import triage

router = APIRouter(prefix="/api/v1", tags=["triage"])


class LocationPin(BaseModel):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)


class TriageRequest(BaseModel):
    messages: list[str] = Field(max_length=200)
    location_pin: LocationPin | None = None


@router.post("/triage")
def triage_messages(body: TriageRequest, _: Principal = Depends(require_role("operator"))) -> dict[str, Any]:
    pin = body.location_pin.model_dump() if body.location_pin else None
    return triage(body.messages, pin).to_dict()
