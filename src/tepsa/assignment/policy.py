"""How long a worker has to answer and how far an offer travels before supervisors step in.

Set once per process from the settings (``configure``); the defaults are the
service's (darurat 10 minutes, tinggi 60 minutes, sedang 24 hours; three field
workers, then the unit's duty desk).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OfferPolicy:
    darurat_seconds: int = 10 * 60
    tinggi_seconds: int = 60 * 60
    sedang_seconds: int = 24 * 60 * 60
    override_seconds: int | None = None
    max_field_offers: int = 3

    def accept_seconds(self, urgency: str | None) -> int:
        if self.override_seconds is not None:
            return self.override_seconds
        return {"darurat": self.darurat_seconds, "tinggi": self.tinggi_seconds}.get(urgency or "", self.sedang_seconds)

    @classmethod
    def from_settings(cls, settings) -> "OfferPolicy":
        return cls(settings.accept_timeout_darurat_seconds, settings.accept_timeout_tinggi_seconds,
                   settings.accept_timeout_sedang_seconds, settings.accept_timeout_seconds, settings.max_field_offers)


_current = OfferPolicy()


def configure(policy: OfferPolicy) -> None:
    global _current
    _current = policy


def current() -> OfferPolicy:
    return _current
