"""Console and API users, and secrets the service generates for itself."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

from tepsa.db import utcnow

ROLES = ("operator", "supervisor", "admin")


class User(SQLModel, table=True):
    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True, index=True)
    password_hash: str = Field(max_length=255)
    role: str = Field(max_length=16)
    active: bool = True
    telegram_chat_id: str | None = Field(default=None, max_length=32)
    """Where supervisors get escalation alerts on Telegram."""
    created_at: datetime = Field(default_factory=utcnow)


class AppSecret(SQLModel, table=True):
    """A secret generated on first run (e.g. the token-signing key) and shared by all instances."""

    __tablename__ = "app_secret"

    name: str = Field(primary_key=True, max_length=64)
    value: str = Field(max_length=255)
    created_at: datetime = Field(default_factory=utcnow)
