"""Engine, sessions and migrations. SQLite (WAL) by default; PostgreSQL/MySQL by URL.

The server runs database work in worker threads (FastAPI runs sync endpoints in a thread pool),
never on the asyncio loop.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

T = TypeVar("T")


def normalize_url(url: str) -> str:
    """Pick the driver we ship for bare ``postgresql://`` and ``mysql://`` URLs."""
    u = make_url(url)
    if u.drivername in ("postgresql", "postgres"):
        u = u.set(drivername="postgresql+psycopg")
    elif u.drivername in ("mysql", "mariadb"):
        u = u.set(drivername="mysql+pymysql")
        if "charset" not in u.query:
            u = u.update_query_dict({"charset": "utf8mb4"})
    return u.render_as_string(hide_password=False)


def _private_sqlite(url: str) -> None:
    """Create the SQLite file (and chmod it, its -wal and -shm) with mode 0600: it holds password
    hashes and sessions. SQLite gives -wal/-shm the database file's mode."""
    db = make_url(url).database
    if not db or db == ":memory:" or db.startswith("file:"):
        return
    path = Path(db)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    except OSError:
        return
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if p.exists() and p.stat().st_mode & 0o777 != 0o600:
                os.chmod(p, 0o600)
        except OSError:
            pass


def make_engine(url: str, sqlite_cache_kib: int = 128) -> Engine:
    """An engine for ``url``; SQLite gets WAL and a page cache of ``sqlite_cache_kib`` per pooled
    connection (SQLite's default, 2 MB each, filled slowly as tables grow: up to 30 MB of RSS)."""
    url = normalize_url(url)
    if url.startswith("sqlite"):
        _private_sqlite(url)
        # pool as large as the thread pool's usual concurrency: connections over pool_size are
        # closed on return, and a new one costs a connect plus the pragmas below (measured)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30},
                               pool_size=20, max_overflow=20)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _rec):  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA cache_size=-{max(64, int(sqlite_cache_kib))}")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def make_hot_engine(url: str) -> Engine:
    """PostgreSQL/MySQL: the engine of the per-request hot path (:meth:`Database.hot`).

    Autocommit (a read is one round trip: no BEGIN, no ROLLBACK on return) and no pre-ping (one
    more round trip per checkout; a connection that died is retried once instead). On PostgreSQL
    its connections commit without waiting for the WAL flush: the hot path writes only the replay
    ledger (server/api/guards.py), whose entries live for minutes and, like the in-memory and
    Redis ledgers, are not meant to outlive a crash of the store that holds them.
    """
    url = normalize_url(url)
    engine = create_engine(url, isolation_level="AUTOCOMMIT", pool_size=10, max_overflow=10)
    if url.startswith("postgresql"):

        @event.listens_for(engine, "connect")
        def _async_commit(dbapi_conn, _rec):  # type: ignore[no-untyped-def]
            dbapi_conn.execute("SET synchronous_commit TO off")

    return engine


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest Alembic revision."""
    from alembic import command
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


class Database:
    def __init__(self, url: str, migrate: bool = True, sqlite_cache_kib: int = 128) -> None:
        self.url = normalize_url(url)
        self.engine = make_engine(self.url, sqlite_cache_kib)
        self.hot_engine = self.engine if self.url.startswith("sqlite") else make_hot_engine(self.url)
        if migrate:
            upgrade(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A transaction: commits on success, rolls back on any error."""
        with self._sessions() as s:
            with s.begin():
                yield s

    def connect_kwargs(self) -> dict[str, Any]:
        """``psycopg.connect`` keyword arguments for a connection of one's own (PostgreSQL)."""
        args, kwargs = self.hot_engine.dialect.create_connect_args(self.hot_engine.url)
        kwargs.pop("context", None)  # SQLAlchemy's adapters, not libpq's
        return {**kwargs, "connect_timeout": 5}

    def hot(self, fn: Callable[[Connection], T]) -> T:
        """``fn(connection)`` for the per-request hot path (one statement or a few, no
        transaction on PostgreSQL/MySQL: each commits on its own, see :func:`make_hot_engine`).

        A pooled connection found dead (the database restarted) is discarded with every other
        connection of the pool, and ``fn`` runs once more on a new one: ``fn`` must be safe to
        repeat (a read, or a write that was not applied).
        """
        try:
            with self.hot_engine.connect() as c:
                return fn(c)
        except DBAPIError as e:
            if not e.connection_invalidated:
                raise
            log.warning("database connection lost, retrying once: %s", e.orig)
        with self.hot_engine.connect() as c:
            return fn(c)

    def dispose(self) -> None:
        self.engine.dispose()
        if self.hot_engine is not self.engine:
            self.hot_engine.dispose()
