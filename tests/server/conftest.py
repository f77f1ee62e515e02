"""Business API fixtures: the ASGI app in-process, on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from protocol.signing import liteav_sig, wire_password
from server.app import build_context, create_app
from server.config import load

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
MY_ADMIN = "mysql+pymysql://root@127.0.0.1:3306/mysql"


def _scratch_db(kind: str) -> Iterator[str]:
    """A fresh database on the machine's PostgreSQL or MariaDB, dropped afterwards."""
    name = f"xzb_test_{secrets.token_hex(4)}"
    admin = PG_ADMIN if kind == "postgresql" else MY_ADMIN
    try:
        eng = create_engine(admin, isolation_level="AUTOCOMMIT")
        with eng.connect() as c:
            c.execute(text(f"CREATE DATABASE {name}"))
    except Exception as e:  # the service is part of the machine; say clearly if it is missing
        pytest.fail(f"{kind} is not reachable on 127.0.0.1 ({e}); start it (see .ci/run)")
    try:
        if kind == "postgresql":
            yield f"postgresql://postgres@127.0.0.1:5432/{name}"
        else:
            yield f"mysql://root@127.0.0.1:3306/{name}"
    finally:
        with eng.connect() as c:
            if kind == "postgresql":
                c.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            else:
                c.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        eng.dispose()


@pytest.fixture(params=["sqlite", "postgresql", "mariadb"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield ""
    else:
        yield from _scratch_db(request.param)


class Api:
    """A thin raw-HTTP driver: builds signed bodies the way a client does, returns the JSON."""

    def __init__(self, client: TestClient, ctx: Any) -> None:
        self.http = client
        self.ctx = ctx

    def post(self, path: str, body: Any = None, raw: bytes | None = None, sig: str | None = None,
             headers: dict[str, str] | None = None) -> dict[str, Any]:
        data = raw if raw is not None else json.dumps(body).encode()
        h = {"Content-Type": "application/json", **(headers or {})}
        if sig is not None:
            h["Liteav-Sig"] = sig
        r = self.http.post(path, content=data, headers=h)
        assert r.status_code < 500, r.text
        return r.json()

    def register(self, userid: str, password: str = "secret1") -> dict[str, Any]:
        return self.post("/register", {"userid": userid, "password": wire_password(password, userid)})

    def login(self, userid: str, password: str = "secret1") -> dict[str, Any]:
        return self.post("/login", {"userid": userid, "password": wire_password(password, userid)})

    def user(self, userid: str, password: str = "secret1") -> "User":
        assert self.register(userid, password)["code"] == 200
        d = self.login(userid, password)
        assert d["code"] == 200, d
        return User(self, userid, d["data"])


class User:
    def __init__(self, api: Api, userid: str, login: dict[str, Any]) -> None:
        self.api, self.userid, self.login = api, userid, login
        self.token = login["token"]

    def body(self, **fields: Any) -> dict[str, Any]:
        return {"userid": self.userid, "timestamp": int(time.time()), "expires": 10,
                "nonce": secrets.token_hex(6), **fields}

    def call(self, path: str, token: str | None = None, **fields: Any) -> dict[str, Any]:
        raw = json.dumps(self.body(**fields)).encode()
        return self.api.post(path, raw=raw, sig=liteav_sig(token or self.token, raw))


def make_api(data_dir: Path, db: str = "", **overrides: Any) -> Iterator[Api]:
    cfg = load(data_dir, {"server.db_url": db or None, **overrides})
    ctx = build_context(cfg)
    with TestClient(create_app(ctx), raise_server_exceptions=True) as client:
        yield Api(client, ctx)
    ctx.db.dispose()


@pytest.fixture
def api(tmp_path: Path, db_url: str) -> Iterator[Api]:
    """The business API on each database backend."""
    yield from make_api(tmp_path / "data", db_url, **{"server.register_per_minute": 1000,
                                                      "server.login_per_minute": 1000})


@pytest.fixture
def sqlite_api(tmp_path: Path) -> Iterator[Api]:
    yield from make_api(tmp_path / "data", "", **{"server.register_per_minute": 1000,
                                                  "server.login_per_minute": 1000})
