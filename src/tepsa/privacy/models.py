"""Reporters' rights and abuse of the line: erasure requests and blocked numbers."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from tepsa.db import utcnow


class ErasureRequest(SQLModel, table=True):
    """A reporter asked (HAPUS) to erase their number; UU PDP gives us 3x24 hours."""

    __tablename__ = "erasure_request"

    id: int | None = Field(default=None, primary_key=True)
    phone_hash: str = Field(max_length=64, index=True)
    requested_at: datetime = Field(default_factory=utcnow)
    due_at: datetime
    done_at: datetime | None = None
    rows_changed: int = 0


class BlockedNumber(SQLModel, table=True):
    """A number a supervisor blocked for abusing the line: still stored, never answered automatically."""

    __tablename__ = "blocked_number"

    phone_hash: str = Field(primary_key=True, max_length=64)
    blocked_by: str = Field(max_length=64)
    reason: str = Field(max_length=200)
    blocked_at: datetime = Field(default_factory=utcnow)
