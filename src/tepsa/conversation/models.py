"""Conversations on the reporter's channels: the WhatsApp dialogue and voice calls."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, text
from sqlmodel import Field, SQLModel

from tepsa.db import utcnow
from tepsa.dbtypes import EncryptedText


class Conversation(SQLModel, table=True):
    """Where the WhatsApp dialogue with one number stands; survives restarts."""

    __table_args__ = (
        # One active conversation per number, even with several instances.
        Index("uq_conversation_active_phone", "phone_hash", unique=True,
              sqlite_where=text("state = 'active'"), postgresql_where=text("state = 'active'")),
    )

    id: int | None = Field(default=None, primary_key=True)
    intake_id: int = Field(foreign_key="intake.id", index=True)
    phone_hash: str = Field(max_length=64, index=True)
    """Keyed hash of the reporter's number (the number itself is kept, encrypted, on the intake)."""
    state: str = Field(default="active", max_length=16)  # active | stopped | closed
    awaiting: str | None = Field(default=None, max_length=32)
    asked: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    answers: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    opened_at: datetime = Field(default_factory=utcnow)
    last_inbound_at: datetime = Field(default_factory=utcnow)
    closed_at: datetime | None = None


class VoiceCall(SQLModel, table=True):
    """One call to 1500-771: its intake (once there is one), menu progress and how it ended."""

    __tablename__ = "voice_call"

    id: int | None = Field(default=None, primary_key=True)
    call_sid: str = Field(max_length=64, unique=True)
    intake_id: int | None = Field(default=None, foreign_key="intake.id", index=True)
    from_phone: str | None = Field(default=None, sa_column=Column(EncryptedText))
    menu_attempts: int = 0
    choice: str | None = Field(default=None, max_length=16)  # darurat | lapor | info | operator
    status: str | None = Field(default=None, max_length=24)
    duration_s: int | None = None
    started_at: datetime = Field(default_factory=utcnow)
    ended_at: datetime | None = None
