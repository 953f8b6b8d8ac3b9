"""Settings from ``TEPSA_*`` environment variables and ``.env``.

The names are part of the deployment interface (shared/spec/interfaces.md):
keep them stable.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TEPSA_",
        env_file=".env",
        env_nested_delimiter="__",
        extra="ignore",
    )

    database_url: str = "sqlite:///./tepsa.db"
    public_url: str = "http://127.0.0.1:8000"

    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_api_url: str | None = None
    whatsapp_from: str = "whatsapp:+6281238888002"

    telegram_bot_token: SecretStr | None = None
    telegram_api_url: str = "https://api.telegram.org"
    telegram_webhook_secret: SecretStr | None = None

    secret_key: SecretStr | None = None
    data_keys: SecretStr | None = None
    """Encryption keys for personal data as JSON (tepsa.crypto); else the key file below."""
    data_key_file: str = "tepsa-data.key"
    """Created (mode 0600) on first run when missing; keep it apart from the database and back it up."""
    accept_timeout_seconds: int | None = None
    """Overrides the per-urgency time to accept an offer (drills and tests)."""

    # Field workers on Telegram (not part of the fixed interface; safe defaults).
    accept_timeout_darurat_seconds: int = 10 * 60
    accept_timeout_tinggi_seconds: int = 60 * 60
    accept_timeout_sedang_seconds: int = 24 * 60 * 60
    max_field_offers: int = 3
    """After this many workers declined or did not answer, the case goes to the unit's duty desk."""
    telegram_bot_username: str = "TepsaBot"
    enrolment_hours: int = 72
    detail_link_minutes: int = 15
    sms_from: str | None = None
    """Sender for the SMS fallback when Telegram refuses delivery; unset means no SMS."""
    scheduler_poll_seconds: float = 1.0
    retention_closed_days: int = 730
    """Closed intakes older than this are anonymised and their raw messages deleted."""
    retention_every_hours: float = 6.0

    # Operational knobs (not part of the fixed interface, safe defaults).
    log_level: str = "INFO"
    access_token_minutes: int = 8 * 60
    voice_recording_enabled: bool = False
    """Record the spoken report (after a spoken notice); recordings are kept by reference only."""
    voice_operator_wait_seconds: int = 60
    """How long a caller waits in the operators' queue before the call falls back to a spoken report."""
    whatsapp_template_sid: str | None = None
    """Approved template (ContentSid HX...) for updates outside WhatsApp's 24-hour window."""
    conversation_idle_hours: int = 24
    """A WhatsApp conversation closes after this much silence; a later message is a follow-up on the open intake."""
    dispatcher_enabled: bool = True
    """Also runs the inbox worker and the scheduler (off only in special test set-ups)."""
    inbox_inline: bool = True
    """Work a WhatsApp message off inside its webhook when the instance is idle (the reply is the TwiML
    answer); in a burst, or when false, the webhook only stores it and the inbox worker replies."""
    inbox_poll_seconds: float = 1.0
    inbox_busy_pace_seconds: float = 0.1
    """While webhooks keep arriving, the inbox worker pauses this long between messages (answers first)."""
    dispatcher_poll_seconds: float = 1.0
    outbox_backoff_base_seconds: float = 1.0
    migrate_on_start: bool = True

    @property
    def public_base(self) -> str:
        return self.public_url.rstrip("/")

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
