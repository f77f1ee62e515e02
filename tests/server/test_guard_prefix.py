"""The API guards (signature ledger, rate limits) keep their Redis keys under the deployment's
prefix (``[im] redis_prefix``), like IM and RoomService: two deployments (or two parallel test
servers) on one Redis do not share rate limits."""

from __future__ import annotations

import secrets
import tomllib
from pathlib import Path

import pytest
import redis
import tomli_w

from server.api.guards import make_guards
from server.config import load
from server.context import ServerContext
from server.db.database import Database

REDIS = "redis://127.0.0.1:6379/0"


def test_guards_use_the_deployment_prefix(tmp_path: Path) -> None:
    r = redis.Redis.from_url(REDIS)
    try:
        r.ping()
    except redis.RedisError as e:
        pytest.fail(f"Redis is not reachable on 127.0.0.1:6379 ({e})")
    prefix = f"xzbgp{secrets.token_hex(4)}:"
    load(tmp_path)  # writes config.toml
    doc = tomllib.loads((tmp_path / "config.toml").read_text())
    doc.setdefault("im", {})["redis_prefix"] = prefix
    (tmp_path / "config.toml").write_text(tomli_w.dumps(doc))
    cfg = load(tmp_path, {"server.redis_url": REDIS})
    db = Database(cfg.db_url)
    try:
        ledger, limiter = make_guards(ServerContext(config=cfg, db=db, storage=None))  # type: ignore[arg-type]
        assert limiter.allow("register", "10.0.0.1", 5)
        assert ledger.first_use("sig-" + secrets.token_hex(8), 2_000_000_000)
        assert len(list(r.scan_iter(f"{prefix}*"))) == 2
    finally:
        for k in r.scan_iter(f"{prefix}*"):
            r.delete(k)
        db.dispose()
