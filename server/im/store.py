"""Background batch writer: danmaku/text rows and live-session like/viewer counters.

The hub records facts on the loop without waiting (:meth:`RoomLog.danmaku`, :meth:`RoomLog.like`,
:meth:`RoomLog.viewer`); a task flushes them to the database every ``flush_s`` seconds from a
worker thread. A danmaku row's ``offset_ms`` is measured from its stream's ``LiveStream.started_at``
(the live session start written by the stream-begin callback) so a replay can show it in time.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, deque
from dataclasses import dataclass

from sqlalchemy import delete, select, update

from server.db.database import Database
from server.db.models import Danmaku, LiveStream

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DanmakuRow:
    stream_id: str
    sent_at_ms: int
    userid: str
    nickname: str
    type: str  # text | danmaku
    msg: str


class RoomLog:
    def __init__(self, db: Database, flush_s: float = 0.5, max_rows: int = 50000) -> None:
        self.db = db
        self.flush_s = flush_s
        self.max_rows = max_rows
        self._rows: deque[DanmakuRow] = deque()
        self._likes: Counter[str] = Counter()
        self._viewers: Counter[str] = Counter()
        self._removed: list[tuple[str, str, int, str]] = []
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self.dropped = 0
        self.written = 0

    def danmaku(self, row: DanmakuRow) -> None:
        if len(self._rows) >= self.max_rows:
            self.dropped += 1  # database far behind: keep the oldest, say so
            if self.dropped in (1, 100) or self.dropped % 10000 == 0:
                log.error("danmaku writer %d rows behind; %d rows dropped", len(self._rows), self.dropped)
            return
        self._rows.append(row)

    def remove(self, stream_id: str, userid: str, t_s: int, msg: str) -> None:
        """Delete a removed message's row (sent by ``userid`` in second ``t_s`` with text ``msg``),
        whether still waiting here or already written."""
        self._rows = deque(r for r in self._rows if not _matches(r, stream_id, userid, t_s, msg))
        if len(self._removed) < self.max_rows:
            self._removed.append((stream_id, userid, t_s, msg))

    def like(self, stream_id: str, n: int = 1) -> None:
        self._likes[stream_id] += n

    def viewer(self, stream_id: str) -> None:
        self._viewers[stream_id] += 1

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="im-roomlog")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        await self.flush()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.flush_s)
            try:
                await self.flush()
            except Exception:
                log.exception("danmaku/like flush failed; will retry")

    async def flush(self) -> None:
        if not (self._rows or self._likes or self._viewers or self._removed):
            return
        removed, self._removed = self._removed, []
        rows, self._rows = list(self._rows), deque()
        likes, self._likes = self._likes, Counter()
        viewers, self._viewers = self._viewers, Counter()
        try:
            await asyncio.to_thread(self._write, rows, likes, viewers, removed)
            self.written += len(rows)
        except Exception:
            # put everything back (in front of newer rows) so nothing is lost on a transient error
            self._rows.extendleft(reversed(rows))
            self._likes.update(likes)
            self._viewers.update(viewers)
            self._removed[:0] = removed
            raise

    def _write(self, rows: list[DanmakuRow], likes: Counter[str], viewers: Counter[str],
               removed: list[tuple[str, str, int, str]] | None = None) -> None:
        sids = {r.stream_id for r in rows} | set(likes) | set(viewers)
        with self.db.session() as s:
            started = dict(s.execute(select(LiveStream.stream_id, LiveStream.started_at)
                                     .where(LiveStream.stream_id.in_(sids))).all())
            for r in rows:
                start_ms = int(started.get(r.stream_id) or 0) * 1000
                offset = max(0, r.sent_at_ms - start_ms) if start_ms else 0
                s.add(Danmaku(stream_id=r.stream_id, sent_at_ms=r.sent_at_ms, offset_ms=offset, userid=r.userid,
                              nickname=r.nickname, type=r.type, msg=r.msg))
            for sid in set(likes) | set(viewers):
                if sid not in started:
                    continue  # no live session row: nothing to total into
                s.execute(update(LiveStream).where(LiveStream.stream_id == sid).values(
                    like_count=LiveStream.like_count + likes.get(sid, 0),
                    viewer_count=LiveStream.viewer_count + viewers.get(sid, 0)))
            for sid, uid, t_s, msg in removed or ():
                s.execute(delete(Danmaku).where(Danmaku.stream_id == sid, Danmaku.userid == uid, Danmaku.msg == msg,
                                                Danmaku.sent_at_ms.between(t_s * 1000, t_s * 1000 + 999)))


def _matches(r: DanmakuRow, stream_id: str, userid: str, t_s: int, msg: str) -> bool:
    return (r.stream_id, r.userid, r.sent_at_ms // 1000, r.msg) == (stream_id, userid, t_s, msg)
