"""Live events in-process: the embedded media server's typed events are stored without a sign;
the HTTP callback's JSON still needs one; subscribers get the typed event."""

from __future__ import annotations

import asyncio
from pathlib import Path

from protocol.live_events import LiveEvent, LiveEventType
from server.api.callbacks import handle_live_event
from server.config import load
from server.context import ServerContext
from server.db.database import Database
from server.db.models import LiveStream, Vod


def test_in_process_events_are_applied_unsigned(tmp_path: Path) -> None:
    cfg = load(tmp_path)
    db = Database(cfg.db_url)
    try:
        ctx = ServerContext(config=cfg, db=db, storage=None, node_id="node-a")  # type: ignore[arg-type]
        seen: list[LiveEvent] = []
        ctx.events.subscribe(seen.append)
        sid = f"{cfg.live.bizid}_inproc01"
        begin = LiveEvent(LiveEventType.STREAM_BEGIN, sid, event_time=100)
        rec = LiveEvent(LiveEventType.RECORD_DONE, sid, file_id=f"{sid}_100", video_url="http://h/v.mp4",
                        start_time=100, end_time=200, duration=100)

        async def run() -> list[dict]:  # type: ignore[type-arg]
            return [await ctx.live_event(begin), await ctx.live_event(rec),
                    await handle_live_event(ctx, begin.to_json()),  # JSON without t/sign: refused
                    await handle_live_event(ctx, {**begin.to_json(), "event_type": 7, **_sign(cfg)})]

        replies = asyncio.run(run())
        assert [r["code"] for r in replies] == [0, 0, 498, 0]  # unknown type: acknowledged, ignored
        assert seen == [begin, rec]
        with db.session() as s:
            st = s.get(LiveStream, sid)
            assert st is not None and st.live and st.started_at == 100 and st.node == "node-a"
            vod = s.query(Vod).filter_by(file_id=f"{sid}_100").one()
            assert (vod.play_url, vod.duration) == ("http://h/v.mp4", 100)
    finally:
        db.dispose()


def _sign(cfg) -> dict:  # type: ignore[no-untyped-def,type-arg]
    body = LiveEvent(LiveEventType.STREAM_END, "1_x_unused").signed_json(cfg.live.api_key)
    return {"t": body["t"], "sign": body["sign"]}
