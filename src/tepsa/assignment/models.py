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
    bertugas: bool = True
    """On duty (/tugas) or off duty (/libur): off-duty workers get no offers."""
    reachable: bool = True
    """False once Telegram refused delivery (bot blocked, chat gone): no offers until they link again."""
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
    deadline_at: datetime | None = None
    responded_at: datetime | None = None
    decline_reason: str | None = Field(default=None, max_length=64)
    progress: str | None = Field(default=None, max_length=24)
    """After acceptance: on_the_way, met_child, referred, closed."""
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Deadline(SQLModel, table=True):
    """A timer as a row: swept by the scheduler, fired once even with several instances."""

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)  # offer_timeout
    assignment_id: int | None = Field(default=None, foreign_key="assignment.id", index=True)
    due_at: datetime = Field(index=True)
    status: str = Field(default="pending", max_length=16, index=True)  # pending | fired | cancelled
    fired_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class EnrolmentToken(SQLModel, table=True):
    """A one-time link binding a Telegram chat to a worker; only its hash is stored."""

    __tablename__ = "enrolment_token"

    id: int | None = Field(default=None, primary_key=True)
    worker_id: int = Field(foreign_key="worker.id", index=True)
    token_hash: str = Field(max_length=64, unique=True)
    expires_at: datetime
    used_at: datetime | None = None
    created_by: str = Field(default="system", max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
