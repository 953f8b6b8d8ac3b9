"""Re-encrypting every protected value under the current data key (``tepsa keys rotate``)."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.engine import Engine

from tepsa.models import InboundMessage, Intake, Outbox, TimelineEvent, VoiceCall

# Tables and their encrypted columns. Conversation rows hold only a keyed hash, which never rotates.
PROTECTED = [
    (Intake, ["reporter_phone", "contact_time", "triage_reasons"]),
    (InboundMessage, ["from_phone", "body", "payload"]),
    (TimelineEvent, ["data"]),
    (VoiceCall, ["from_phone"]),
    (Outbox, ["payload"]),
]


def reencrypt_all(engine: Engine, batch: int = 500) -> dict[str, int]:
    """Read each row through the decrypting column types and write it back under the current key.

    Runs in batches, each its own transaction, so a large database is never
    locked for long; values written before encryption was on are sealed too.
    """
    counts: dict[str, int] = {}
    for model, columns in PROTECTED:
        table = model.__table__
        pk = table.c.id
        done, last = 0, 0
        while True:
            with engine.begin() as conn:
                rows = conn.execute(select(pk, *[table.c[c] for c in columns])
                                    .where(pk > last).order_by(pk).limit(batch)).all()
                if not rows:
                    break
                for row in rows:
                    last = row[0]
                    values = dict(zip(columns, row[1:]))
                    conn.execute(update(table).where(pk == row[0]).values(**values))
                    done += 1
        counts[table.name] = done
    return counts
