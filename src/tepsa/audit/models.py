"""The audit trail: who read or changed which intake, when, from where. Rows are only ever added."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from tepsa.db import utcnow


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    actor: str = Field(max_length=64, index=True)
    role: str = Field(max_length=16)
    address: str | None = Field(default=None, max_length=64)
    action: str = Field(max_length=48)
    intake_id: int | None = Field(default=None, index=True)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    """For changes: {"before": ..., "after": ...}; for reads: what was read (ids, counts)."""


class LoginFailure(SQLModel, table=True):
    """A failed sign-in, counted per user and per address to slow down guessing."""

    __tablename__ = "login_failure"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    username: str = Field(max_length=64, index=True)
    address: str = Field(max_length=64, index=True)
