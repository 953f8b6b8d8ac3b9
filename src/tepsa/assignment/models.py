"""Field workers (Sakti Peksos and unit duty desks) and assignments of intakes to them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, text
from sqlmodel import Field, SQLModel

from tepsa.db import utcnow

ACTIVE_ASSIGNMENT_STATES = ("offered", "accepted")


class Worker(SQLModel, table=True):
    """A Sakti Peksos placed in a kab/kota, or the duty desk of a regional unit (jenis 'balai')."""

    id: int | None = Field(default=None, primary_key=True)
    kode: str = Field(max_length=64, unique=True, index=True)
    nama: str = Field(max_length=200)
    jenis: str = Field(max_length=16)
    telepon: str | None = Field(default=None, max_length=32)
    telegram_chat_id: str | None = Field(default=None, max_length=32, index=True)
    kabkota_kode: str = Field(max_length=16, index=True)
    lat: float | None = None
    lon: float | None = None
    aktif: bool = True
    keahlian: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    kapasitas: int = 10
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Assignment(SQLModel, table=True):
    """An offer of an intake to a worker, with the choice's reasons and runners-up."""

    __table_args__ = (
        # At most one live offer per intake, even with several service instances.
        Index(
            "uq_assignment_live_intake",
            "intake_id",
            unique=True,
            sqlite_where=text("status IN ('offered', 'accepted')"),
            postgresql_where=text("status IN ('offered', 'accepted')"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    intake_id: int = Field(foreign_key="intake.id", index=True)
    worker_id: int = Field(foreign_key="worker.id", index=True)
    status: str = Field(default="offered", max_length=16)
    tier: str = Field(max_length=16)
    distance_km: float | None = None
    reasons: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    candidates: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
