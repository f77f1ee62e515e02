"""The replay ledger written from the event loop on PostgreSQL: batched, one connection.

Requests answered on the loop (server/api/routes.py, ``nowait``) record their signature here
instead of in a worker thread. Signatures arriving while a write is in flight wait for the next
one, which inserts them all in one statement::

    INSERT INTO used_signatures (sig, expires_at) SELECT * FROM unnest(sigs, expiries)
    ON CONFLICT DO NOTHING RETURNING sig

so under load there is about one round trip per batch, not per request. A signature is fresh
when the statement returned it and it came first in its batch; the table is the same one the
thread-pool path and other nodes write, so a replay is refused whichever path or node saw it
first. Commits are asynchronous (``synchronous_commit off``, as on the hot engine, see
server/db/database.py). A failed write fails its whole batch (those requests get 500, never a
pass); a connection found dead is replaced and the batch written once more.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import psycopg

log = logging.getLogger("server.api")

INSERT = ("INSERT INTO used_signatures (sig, expires_at) SELECT * FROM unnest(%s::varchar[], %s::bigint[])"
          " ON CONFLICT DO NOTHING RETURNING sig")
PURGE = "DELETE FROM used_signatures WHERE expires_at < %s"
MAX_BATCH = 512
PURGE_EVERY = 256  # inserted signatures between two purges of expired ones


class PgLedgerWriter:
    """``await first_use(sig, expires_at)`` on the event loop; see the module docstring."""

    def __init__(self, connect_kwargs: dict[str, Any]) -> None:
        self.connect_kwargs = connect_kwargs
        self._pending: list[tuple[str, int, asyncio.Future[bool]]] = []
        self._task: asyncio.Task[None] | None = None
        self._conn: Any = None
        self._since_purge = 0

    async def first_use(self, sig: str, expires_at: int) -> bool:
        fut: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append((sig, int(expires_at), fut))
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._drain())
        return await fut

    async def aclose(self) -> None:
        if self._task is not None:
            await asyncio.wait({self._task}, timeout=5)
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def _connection(self) -> Any:
        if self._conn is None or self._conn.closed:
            self._conn = await psycopg.AsyncConnection.connect(**self.connect_kwargs, autocommit=True)
            await self._conn.execute("SET synchronous_commit TO off")
        return self._conn

    async def _drain(self) -> None:
        while self._pending:
            batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
            sigs, expiries = [sig for sig, _e, _f in batch], [e for _s, e, _f in batch]
            try:
                try:
                    fresh = await self._write(sigs, expiries)
                except psycopg.OperationalError as e:  # the connection died (a database restart?)
                    await self._drop_connection()
                    log.warning("replay ledger connection lost, retrying once: %s", e)
                    fresh = await self._write(sigs, expiries)
            except Exception as e:
                await self._drop_connection()
                for _s, _e, fut in batch:
                    if not fut.done():
                        fut.set_exception(e)
                continue
            for sig, _e, fut in batch:
                if not fut.done():
                    fut.set_result(sig in fresh)
                    fresh.discard(sig)  # the same signature twice in one batch: only the first passes

    async def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                await conn.close()
            except Exception:
                pass

    async def _write(self, sigs: list[str], expiries: list[int]) -> set[str]:
        conn = await self._connection()
        cur = await conn.execute(INSERT, (sigs, expiries))
        fresh = {row[0] for row in await cur.fetchall()}
        self._since_purge += len(fresh)
        if self._since_purge >= PURGE_EVERY:  # forget signatures that can no longer be fresh
            self._since_purge = 0
            await conn.execute(PURGE, (int(time.time()),))
        return fresh
