"""The replay ledger written from the event loop on PostgreSQL: batched, one connection.

Requests answered on the loop (server/api/routes.py, ``nowait``) record their signature here
instead of in a worker thread. Signatures arriving while a write is in flight wait for the next
one, which inserts them all in one statement::

    INSERT INTO used_signatures (sig, expires_at) SELECT * FROM unnest(sigs, expiries)
    ON CONFLICT DO NOTHING RETURNING sig

so under load there is about one round trip per batch, not per request. A signature is fresh
when the statement returned it and it came first in its batch; the table is the same one the
thread-pool path and other nodes write (its unique key decides), so a replay is refused whichever
path or node saw it first. A failed write fails its whole batch (those requests get 500, never a
pass); a connection found dead is replaced and the batch written once more.

Commits are asynchronous (``synchronous_commit off`` on this connection, as on the hot engine,
see server/db/database.py): a crash of the database can lose the last few hundred milliseconds
of entries, which only lets a request signed within that moment be replayed while it is still
fresh (its ``expires``, at most 300 s + 30 s); the in-memory and Redis ledgers promise no more.

The statement is prepared once per connection and sent through libpq directly
(``psycopg.pq``: one Bind/Execute/Sync, parameters as text array literals, the loop's reader
callback for the reply) rather than through a psycopg cursor, whose adaptation and wait machinery
cost ~2x the CPU of the round trip itself (measured: 150 vs 350-400 us per batch of one, on the
same loaded machine, tests/bench/bench_api_vod_list.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from typing import Any

import psycopg
from psycopg import pq

log = logging.getLogger("server.api")

STATEMENT = b"xzb_ledger_insert"
PREPARE = ("PREPARE xzb_ledger_insert (varchar[], bigint[]) AS INSERT INTO used_signatures (sig, expires_at)"
           " SELECT * FROM unnest($1, $2) ON CONFLICT DO NOTHING RETURNING sig")
PURGE = "DELETE FROM used_signatures WHERE expires_at < %s"
MAX_BATCH = 512
PURGE_EVERY = 256  # inserted signatures between two purges of expired ones


def text_array(items: Iterable[str]) -> bytes:
    """A PostgreSQL array literal of quoted elements (any text is safe in it)."""
    return ("{" + ",".join('"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"' for s in items)
            + "}").encode()


class PgLedgerWriter:
    """``await first_use(sig, expires_at)`` on the event loop; see the module docstring."""

    def __init__(self, connect_kwargs: dict[str, Any]) -> None:
        self.connect_kwargs = connect_kwargs
        self._pending: list[tuple[str, int, asyncio.Future[bool]]] = []
        self._task: asyncio.Task[None] | None = None
        self._conn: Any = None
        self._since_purge = 0
        self.batches = self.signatures = 0  # round trips and the signatures they carried

    async def first_use(self, sig: str, expires_at: int) -> bool:
        fut: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append((sig, int(expires_at), fut))
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._drain())
        return await fut

    async def aclose(self) -> None:
        if self._task is not None:
            await asyncio.wait({self._task}, timeout=5)
        await self._drop_connection()
        if self.batches:
            log.info("replay ledger writer: %d signatures in %d batches", self.signatures, self.batches)

    async def _connection(self) -> Any:
        if self._conn is None or self._conn.closed:
            conn = await psycopg.AsyncConnection.connect(**self.connect_kwargs, autocommit=True)
            try:
                await conn.execute("SET synchronous_commit TO off")
                await conn.execute(PREPARE)
            except BaseException:
                await conn.close()
                raise
            conn.pgconn.nonblocking = 1
            self._conn = conn
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
            except BaseException as e:  # also cancelled mid-statement: the connection's state is unknown
                await self._drop_connection()
                for _s, _e, fut in batch:
                    if not fut.done():
                        fut.set_exception(e if isinstance(e, Exception) else asyncio.CancelledError())
                if not isinstance(e, Exception):
                    raise
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
        fresh = await self._insert(conn.pgconn, sigs, expiries)
        self.batches, self.signatures = self.batches + 1, self.signatures + len(sigs)
        self._since_purge += len(fresh)
        if self._since_purge >= PURGE_EVERY:  # forget signatures that can no longer be fresh
            self._since_purge = 0
            await conn.execute(PURGE, (int(time.time()),))
        return fresh

    async def _insert(self, pg: Any, sigs: list[str], expiries: list[int]) -> set[str]:
        """One round trip of the prepared insert on the raw libpq connection: the fresh ones."""
        pg.send_query_prepared(STATEMENT, [text_array(sigs), ("{" + ",".join(map(str, expiries)) + "}").encode()])
        while pg.flush():
            await self._ready(pg.socket, write=True)
        fresh: set[str] = set()
        error: bytes | None = None
        while True:
            pg.consume_input()
            while pg.is_busy():
                await self._ready(pg.socket)
                pg.consume_input()
            res = pg.get_result()
            if res is None:
                break
            if res.status == pq.ExecStatus.TUPLES_OK:
                fresh.update(res.get_value(i, 0).decode() for i in range(res.ntuples))
            else:
                error = res.error_message or b"unexpected reply"
        if error is not None:
            message = error.decode(errors="replace").strip()
            if pg.status != pq.ConnStatus.OK:
                raise psycopg.OperationalError(message)
            raise psycopg.DatabaseError(message)
        return fresh

    @staticmethod
    async def _ready(fd: int, write: bool = False) -> None:
        """Wait until the connection's socket is readable (or writable)."""
        loop = asyncio.get_running_loop()
        fut = loop.create_future()

        def wake() -> None:
            if not fut.done():
                fut.set_result(None)

        if write:
            loop.add_writer(fd, wake)
        else:
            loop.add_reader(fd, wake)
        try:
            await fut
        finally:
            if write:
                loop.remove_writer(fd)
            else:
                loop.remove_reader(fd)
