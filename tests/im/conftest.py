"""Several ``xiaozhibo server`` processes linked through the machine's Redis and one PostgreSQL
database, each test on its own Redis key prefix and scratch database (both removed afterwards)."""

from __future__ import annotations

import secrets
import shutil
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import tomli_w
from sqlalchemy import create_engine, text

from server.config import load
from tests.conftest import ServerProcess, start_server

REDIS = "redis://127.0.0.1:6379/0"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


class RedisCluster:
    """Start nodes with :meth:`start`; ``redis`` is a client on the same Redis, ``prefix`` the keys'."""

    def __init__(self, tmp: Path, db: str, r: redis.Redis) -> None:
        self.tmp, self.db, self.redis = tmp, db, r
        self.prefix = f"xzbtest{secrets.token_hex(4)}:"
        self.nodes: list[ServerProcess] = []

    def key(self, kind: str, key: str) -> str:
        return f"{self.prefix}im:{kind}:{key}"

    def start(self, count: int = 2, extra: tuple[str, ...] = (), urls: tuple[str, ...] = (),
              **im_settings: Any) -> list[ServerProcess]:
        """``count`` nodes sharing one config.toml (same secrets) with extra ``[im]`` settings;
        node ``i`` uses Redis URL ``urls[i]`` when given (e.g. its own Redis user)."""
        first = self.tmp / "n0"
        load(first)
        doc = tomllib.loads((first / "config.toml").read_text())
        doc["im"].update(redis_prefix=self.prefix, **im_settings)
        (first / "config.toml").write_text(tomli_w.dumps(doc))
        started = []
        for i in range(count):
            d = self.tmp / f"n{i}"
            if i:
                d.mkdir()
                shutil.copy(first / "config.toml", d / "config.toml")
            sp = start_server(d, "--db", self.db, "--redis", urls[i] if i < len(urls) else REDIS, *extra)
            self.nodes.append(sp)
            started.append(sp)
        return started


@pytest.fixture
def redis_cluster(tmp_path: Path) -> Iterator[RedisCluster]:
    r = redis.Redis.from_url(REDIS, decode_responses=True)
    try:
        r.ping()
    except redis.RedisError as e:
        pytest.fail(f"Redis is not reachable on 127.0.0.1:6379 ({e})")
    name = f"xzb_test_{secrets.token_hex(4)}"
    eng = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(text(f"CREATE DATABASE {name}"))
    cluster = RedisCluster(tmp_path, f"postgresql://postgres@127.0.0.1:5432/{name}", r)
    try:
        yield cluster
    finally:
        for n in cluster.nodes:
            n.stop()
        keys = list(r.scan_iter(match=cluster.prefix + "*", count=1000))
        if keys:
            r.delete(*keys)
        r.close()
        with eng.connect() as c:
            c.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        eng.dispose()
