""""Drop your copy of X": invalidation messages between the processes sharing one database.

In-memory caches on the request path (access tokens, server/api/token_cache.py) must forget an
entry in every process the moment it changes anywhere. An :class:`InvalidationBus` carries
``topic:key`` messages to every process and tells each subscriber when it may trust its cache:

- :class:`LocalBus` (SQLite without Redis: one process owns the data dir): nothing to send;
  always live.
- :class:`RedisBus` (``--redis``): pub/sub on ``{prefix}inv``.
- :class:`PostgresBus` (PostgreSQL without Redis): ``LISTEN``/``NOTIFY`` on the database every node
  already shares, so no other service is needed for the caches to be safe across nodes.
- MySQL/MariaDB without Redis: no bus, hence no cache (:func:`make_bus` returns None).

A bus is live only while its listener is subscribed. On every (re)subscription and on every
failure each subscriber's ``reset`` runs (drop everything: messages may have been missed), so a
cache is trusted only from the moment nothing can be missed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Generator
from typing import Any

log = logging.getLogger("server.api")

OnMessage = Callable[[str], None]
OnReset = Callable[[], None]


class InvalidationBus:
    """Base: subscribers per topic, the listener thread and its live flag."""

    def __init__(self) -> None:
        self._subs: dict[str, tuple[OnMessage, OnReset]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.live = False

    def subscribe(self, topic: str, on_message: OnMessage, on_reset: OnReset) -> None:
        self._subs[topic] = (on_message, on_reset)

    def publish(self, topic: str, key: str) -> None:
        """Tell every other process (this one drops its own copy itself)."""
        try:
            self._send(f"{topic}:{key}")
        except Exception as e:  # the others then bypass or expire their copy (see the subclasses)
            log.warning("cannot publish an invalidation (%s): %s", topic, e)

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="invalidation-bus", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.live = False

    # --- for the subclasses ---------------------------------------------------------------

    def _send(self, message: str) -> None:
        raise NotImplementedError

    def _listen(self) -> Generator[str | None, None, None]:
        """Subscribe, yield None once subscribed, then every message (None now and then so the
        stop flag is checked); raise when the connection fails."""
        raise NotImplementedError
        yield None

    def _deliver(self, message: str) -> None:
        topic, _, key = message.partition(":")
        sub = self._subs.get(topic)
        if sub is not None:
            sub[0](key)

    def _reset(self) -> None:
        for _on_message, on_reset in list(self._subs.values()):
            on_reset()

    def _run(self) -> None:
        while not self._stop.is_set():
            messages = self._listen()
            try:
                for message in messages:
                    if self._stop.is_set():
                        break
                    if message is None:
                        if not self.live:  # subscribed: nothing is missed from now on
                            self._reset()
                            self.live = True
                        continue
                    self._deliver(message)
            except Exception as e:
                if self.live:
                    log.warning("caches off until the invalidation bus is back: %s", e)
            finally:
                messages.close()
            self.live = False
            self._reset()
            self._stop.wait(1.0)


class LocalBus(InvalidationBus):
    """One process: every invalidation is already local."""

    def __init__(self) -> None:
        super().__init__()
        self.live = True

    def publish(self, topic: str, key: str) -> None:
        pass

    def start(self) -> None:
        pass

    def stop(self) -> None:
        pass


class RedisBus(InvalidationBus):
    def __init__(self, redis: Any, channel: str) -> None:
        super().__init__()
        self.redis, self.channel = redis, channel

    def _send(self, message: str) -> None:
        self.redis.publish(self.channel, message)

    def _listen(self) -> Generator[str | None, None, None]:
        pubsub = self.redis.pubsub()
        try:
            pubsub.subscribe(self.channel)
            while not self._stop.is_set():
                msg = pubsub.get_message(timeout=1.0)
                if msg and msg.get("type") == "subscribe":  # Redis confirmed the subscription
                    yield None
                elif msg and msg.get("type") == "message":
                    data = msg["data"]
                    yield data.decode() if isinstance(data, bytes) else str(data)
        finally:
            try:
                pubsub.close()
            except Exception:
                pass


class PostgresBus(InvalidationBus):
    """``NOTIFY``/``LISTEN`` on ``channel``; the listener holds one connection of its own."""

    def __init__(self, db: Any, channel: str = "xzb_inv") -> None:
        super().__init__()
        self.db, self.channel = db, channel

    def _send(self, message: str) -> None:
        from sqlalchemy import func, select

        stmt = select(func.pg_notify(self.channel, message))
        self.db.hot(lambda c: c.execute(stmt).all())  # autocommit: delivered at once

    def _listen(self) -> Generator[str | None, None, None]:
        import psycopg
        from psycopg import sql

        with psycopg.connect(**self.db.connect_kwargs(), autocommit=True) as conn:
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
            yield None  # LISTEN returned: subscribed
            while not self._stop.is_set():
                for n in conn.notifies(timeout=1.0):
                    yield n.payload
                yield None


def make_bus(db: Any, redis: Any, prefix: str) -> InvalidationBus | None:
    """The bus of this deployment (see the module docstring); started."""
    bus: InvalidationBus | None
    if redis is not None:
        bus = RedisBus(redis, f"{prefix}inv")
    elif db.url.startswith("sqlite"):
        bus = LocalBus()
    elif db.url.startswith("postgresql"):
        bus = PostgresBus(db)
    else:
        return None
    bus.start()
    return bus
