"""Database engine and sessions.

SQLite is the embedded default (WAL, foreign keys, synchronous=FULL so an
acknowledged report survives a crash); PostgreSQL is used in production.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, SQLModel, create_engine

# Stable constraint names so Alembic migrations work on SQLite (batch mode)
# and PostgreSQL alike. Must be set before any model is defined.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime | None) -> datetime | None:
    """A stored timestamp as an aware UTC time (SQLite hands them back naive)."""
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    # Let SQLAlchemy's "begin" event below open every transaction itself.
    dbapi_connection.isolation_level = None
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def _sqlite_begin_immediate(conn) -> None:
    """Take SQLite's write lock at BEGIN.

    A deferred transaction that reads and then writes fails at once with
    SQLITE_BUSY when another writer committed in between (busy_timeout does
    not help then); BEGIN IMMEDIATE waits for the lock instead, so concurrent
    webhooks queue rather than fail.
    """
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10, hide_parameters=True)


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session that commits on success and rolls back on error."""
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


T = TypeVar("T")


def in_transaction(engine: Engine, fn: Callable[..., T], *args, **kwargs) -> T:
    """``fn(session, ...)`` in its own transaction, committed before the webhook answers.

    Two deliveries of one provider event racing each other (a retry while the
    first is still being written): the loser hits a unique key (message SID,
    call SID, event key), is retried once, and then finds the winner's rows.
    """
    for attempt in (1, 2):
        try:
            with Session(engine, expire_on_commit=False) as session:
                result = fn(session, *args, **kwargs)
                session.commit()
                return result
        except IntegrityError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")
