"""Bring a database up to date: migrations, then reference data.

Safe with several instances starting at once on PostgreSQL: the work runs
under a transaction-level advisory lock, so one instance migrates and loads
while the others wait and then find nothing to do.
"""

from __future__ import annotations

import logging
import time

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Engine

from tepsa.geo.refdata import load_reference_data
from tepsa.resources import data_dir

log = logging.getLogger("tepsa.bootstrap")

_LOCK_ID = 0x7E95A  # arbitrary, fixed: "TEPSA"


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(data_dir("alembic")))
    return cfg


def configure_runtime(settings) -> None:
    """Process-wide configuration the domain needs: data keys, offer deadlines."""
    from tepsa import crypto
    from tepsa.assignment import policy

    crypto.configure(crypto.load_keys(settings.data_keys.get_secret_value() if settings.data_keys else None,
                                      settings.data_key_file))
    policy.configure(policy.OfferPolicy.from_settings(settings))


def _lock(conn) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK_ID})


def migrate(engine: Engine) -> None:
    """Apply Alembic migrations up to head."""
    cfg = alembic_config()
    with engine.begin() as conn:
        _lock(conn)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def prepare_database(engine: Engine) -> dict[str, int]:
    """Migrate and load reference data in one locked transaction."""
    started = time.perf_counter()
    cfg = alembic_config()
    with engine.begin() as conn:
        _lock(conn)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
        inserted = load_reference_data(conn)
    log.info("database ready", extra={"inserted": inserted, "seconds": round(time.perf_counter() - started, 2)})
    return inserted
