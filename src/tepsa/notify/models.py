"""The outbox: every outgoing message is a row written with the change that caused it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from tepsa.db import utcnow
from tepsa.dbtypes import EncryptedJSON


class Outbox(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)  # telegram | whatsapp | sms
    dedupe_key: str = Field(max_length=128, unique=True)
    status: str = Field(default="pending", max_length=16, index=True)  # pending|sending|sent|held|failed
    worker_id: int | None = Field(default=None, foreign_key="worker.id", index=True)
    intake_id: int | None = Field(default=None, foreign_key="intake.id", index=True)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(EncryptedJSON, nullable=False))
    """Encrypted: a reporter's number and the update's text."""
    attempts: int = 0
    available_at: datetime = Field(default_factory=utcnow, index=True)
    locked_until: datetime | None = None
    last_error: str | None = Field(default=None, sa_column=Column(Text))
    provider_message_id: str | None = Field(default=None, max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None
