"""The peer of bench_api_vod_list.py: a bare FastAPI endpoint serving the same replay pages.

No signature, no token, no replay check, no middleware. ``--peer memory`` (the default, the
framework's floor): every row is read once at start and an ``async def`` endpoint returns the
requested page of the same JSON shape from memory. ``--peer db``: a plain ``def`` endpoint (run in
FastAPI's thread pool) reads the page with one naive SQLAlchemy Core query (LIMIT/OFFSET).

    python3 tests/bench/bare_vod_app.py --db URL --port N [--peer memory|db]
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI
from fastapi.responses import JSONResponse
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from server.db.database import normalize_url  # noqa: E402

PAGE = text(
    "SELECT v.userid, v.file_id, v.title, v.like_count, v.viewer_count, v.frontcover, v.location, v.play_url,"
    " v.create_time, v.hls_play_url, v.start_time, u.nickname, u.avatar FROM vods v"
    " LEFT JOIN users u ON u.userid = v.userid WHERE v.listed ORDER BY v.create_time DESC, v.id DESC"
    " LIMIT :count OFFSET :index")


def fmt_time(ts: int) -> str:
    return datetime.fromtimestamp(int(ts), timezone.utc).strftime("%Y-%m-%d %H:%M:%S") if ts else ""


def row_json(r: Any) -> dict[str, Any]:
    return {"userid": r["userid"], "nickname": r["nickname"] or r["userid"], "avatar": r["avatar"] or "",
            "file_id": r["file_id"], "title": r["title"], "like_count": r["like_count"],
            "viewer_count": r["viewer_count"], "frontcover": r["frontcover"], "location": r["location"],
            "play_url": r["play_url"], "create_time": fmt_time(r["create_time"]),
            "hls_play_url": r["hls_play_url"], "start_time": fmt_time(r["start_time"])}


def make_memory_app(url: str) -> FastAPI:
    url = normalize_url(url)
    engine = create_engine(url)
    with engine.connect() as c:
        rows = [row_json(r) for r in c.execute(PAGE, {"index": 0, "count": 1 << 30}).mappings()]
    engine.dispose()
    app = FastAPI()

    @app.post("/get_vod_list")
    async def vod_list(body: dict[str, Any]) -> JSONResponse:
        index, count = int(body.get("index", 0)), int(body.get("count", 20))
        return JSONResponse({"code": 200, "message": "OK", "data": {"list": rows[index:index + count]}})

    return app


def make_app(url: str) -> FastAPI:
    url = normalize_url(url)
    kw: dict[str, Any] = {"connect_args": {"check_same_thread": False}} if url.startswith("sqlite") else {
        "pool_size": 10, "max_overflow": 20}
    engine = create_engine(url, **kw)
    app = FastAPI()

    @app.post("/get_vod_list")
    def vod_list(body: dict[str, Any]) -> JSONResponse:
        index, count = int(body.get("index", 0)), int(body.get("count", 20))
        with engine.connect() as c:
            rows = c.execute(PAGE, {"index": index, "count": count}).mappings().all()
        return JSONResponse({"code": 200, "message": "OK", "data": {"list": [row_json(r) for r in rows]}})

    return app


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--peer", choices=["memory", "db"], default="memory")
    args = ap.parse_args()
    app = make_memory_app(args.db) if args.peer == "memory" else make_app(args.db)
    print(json.dumps({"bare": args.port}), flush=True)
    # uvicorn's defaults (uvloop and httptools when installed), as a plain FastAPI service runs
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_config=None, access_log=False)


if __name__ == "__main__":
    main()
