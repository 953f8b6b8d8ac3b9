"""Intakes, the messages that make them, and their timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Text
from sqlmodel import Field, SQLModel

from tepsa.db import utcnow
from tepsa.dbtypes import EncryptedJSON, EncryptedText


class Intake(SQLModel, table=True):
    """One report about one child situation, as triaged and handled."""

    id: int | None = Field(default=None, primary_key=True)
    reference: str = Field(max_length=16, unique=True, index=True)
    channel: str = Field(max_length=16)
    status: str = Field(default="open", max_length=16, index=True)
    reporter_phone: str | None = Field(default=None, sa_column=Column(EncryptedText))
    reporter_phone_hash: str | None = Field(default=None, max_length=64, index=True)
    """Keyed hash of the number: lookups without decrypting (tepsa.crypto)."""

    urgency: str | None = Field(default=None, max_length=12, index=True)
    category: str | None = Field(default=None, max_length=32)
    categories: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    kabkota_kode: str | None = Field(default=None, max_length=16, index=True)
    kecamatan_kode: str | None = Field(default=None, max_length=16)
    desa_kode: str | None = Field(default=None, max_length=16)
    lat: float | None = None
    lon: float | None = None
    age: int | None = None
    child_sex: str | None = Field(default=None, max_length=1)
    reporter_role: str | None = Field(default=None, max_length=16)
    needs_review: bool = False
    alert: str | None = Field(default=None, max_length=32)
    """Set when the case needs a supervisor (nobody accepted it): shown in the console until handled."""
    urgency_floor: str | None = Field(default=None, max_length=12)
    """Set by what the reporter said or pressed (IVR key 1, DARURAT, "yes, in danger now"); triage never goes below it."""
    danger_now: bool | None = None
    contact_safe: bool | None = None
    contact_time: str | None = Field(default=None, sa_column=Column(EncryptedText))
    consent: bool | None = None
    ruleset_version: str | None = Field(default=None, max_length=32)
    triage_reasons: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(EncryptedJSON, nullable=False))
    """Encrypted: the matched words come from the report text."""

    created_at: datetime = Field(default_factory=utcnow, index=True)
    updated_at: datetime = Field(default_factory=utcnow)
    last_message_at: datetime = Field(default_factory=utcnow)
    opened_at: datetime | None = None
    """When an operator first opened the intake in the console: a darurat intake alarms until then."""
    opened_by: str | None = Field(default=None, max_length=64)
    overrides: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}"))
    """An operator's decisions (urgency, category, place) that later triage runs keep."""
    duplicate_of: int | None = Field(default=None, foreign_key="intake.id")
    outcome: str | None = Field(default=None, max_length=32)
    closed_at: datetime | None = None
    anonymised_at: datetime | None = None
    """Set by retention: raw messages deleted, the reporter's number and exact place removed."""


class InboundMessage(SQLModel, table=True):
    """A message as received from a channel, written before the webhook answers."""

    __tablename__ = "inbound_message"

    id: int | None = Field(default=None, primary_key=True)
    intake_id: int = Field(foreign_key="intake.id", index=True)
    channel: str = Field(max_length=16)
    provider_sid: str | None = Field(default=None, max_length=64, unique=True)
    from_phone: str | None = Field(default=None, sa_column=Column(EncryptedText))
    body: str = Field(default="", sa_column=Column(EncryptedText, nullable=False))
    lat: float | None = None
    lon: float | None = None
    num_media: int = 0
    kind: str = Field(default="report", max_length=16)
    """report (triaged), answer (to a yes/no or age question) or command (STATUS, DARURAT, BATAL)."""
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(EncryptedJSON, nullable=False))
    reply_text: str | None = Field(default=None, sa_column=Column(Text))
    """What we answered, so a provider's retry is answered the same way."""
    received_at: datetime = Field(default_factory=utcnow)


class TimelineEvent(SQLModel, table=True):
    """Something that happened to an intake, in order, for operators and audit."""

    __tablename__ = "timeline_event"

    id: int | None = Field(default=None, primary_key=True)
    intake_id: int = Field(foreign_key="intake.id", index=True)
    at: datetime = Field(default_factory=utcnow)
    kind: str = Field(max_length=32)
    actor: str = Field(default="system", max_length=64)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(EncryptedJSON, nullable=False))
    """Encrypted: worker notes and reasons may quote the report."""


class Attachment(SQLModel, table=True):
    """A photo, voice note, document or call recording kept by reference (URL, type)."""

    id: int | None = Field(default=None, primary_key=True)
    intake_id: int = Field(foreign_key="intake.id", index=True)
    message_id: int | None = Field(default=None, foreign_key="inbound_message.id")
    kind: str = Field(max_length=16)  # image | audio | video | document | recording | other
    content_type: str | None = Field(default=None, max_length=100)
    url: str = Field(sa_column=Column(Text, nullable=False))
    provider_sid: str = Field(max_length=80, unique=True)
    duration_s: int | None = None
    created_at: datetime = Field(default_factory=utcnow)


class ProviderEvent(SQLModel, table=True):
    """A provider event already handled (call status, recording, Telegram update): retries find it here."""

    __tablename__ = "provider_event"

    key: str = Field(primary_key=True, max_length=128)
    received_at: datetime = Field(default_factory=utcnow)


class Inbox(SQLModel, table=True):
    """A webhook's message, written before the webhook answers and worked off afterwards.

    When the service is idle the webhook works it off at once and answers with
    the conversation's reply; in a burst it answers "received" and the inbox
    worker works the backlog off in order, sending replies through the outbox.
    Either way a message that was answered 200 is in the database first.
    """

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(max_length=16)
    provider_sid: str = Field(max_length=64, unique=True)
    message: dict[str, Any] = Field(default_factory=dict, sa_column=Column(EncryptedJSON, nullable=False))
    """The provider-neutral message (encrypted); emptied once worked off."""
    status: str = Field(default="pending", max_length=12, index=True)  # pending | done | failed
    attempts: int = 0
    locked_until: datetime | None = None
    received_at: datetime = Field(default_factory=utcnow)
    done_at: datetime | None = None
