"""The embedded media server as a :class:`server.context.Service`.

RTMP ingest/relay on the RTMP socket, HTTP-FLV / HLS / replay files on the HTTP app, recording,
covers, and the live events (:class:`protocol.live_events.LiveEvent`: begin, end, recording done,
screenshot) delivered in order, in-process and unsigned, through :meth:`ServerContext.live_event`.
"""

from __future__ import annotations

import asyncio
import logging
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from protocol.live_events import LiveEvent, LiveEventType
from protocol.signing import PushAuthError, check_push_auth, userid_from_stream_id
from server.config import LimitsConfig
from server.context import ServerContext
from server.limits import ConnGuard, RateLog, addr_key
from server.media.hls import HlsPlaylist, HlsSegmenter
from server.media.preauth import PreAuthPool
from server.media.record import (
    START_SUFFIX,
    Recorder,
    RecordResult,
    cover_from_keyframe,
    finish_recording,
    is_empty_recording,
    record_sink,
)
from server.media.relay import WORKER_INTERVAL, Hub, LiveStream, ThreadSink
from server.media.session import RtmpSession

if TYPE_CHECKING:
    from fastapi import FastAPI

log = logging.getLogger(__name__)

HLS_KEEP_AFTER_END_S = 30.0
FILE_ID_RE = re.compile(r"^(?P<sid>[0-9A-Za-z]+_[A-Za-z][A-Za-z0-9_]{3,23})_(?P<start>\d{9,11})$")


@dataclass
class MediaSettings:
    """Media-server knobs (defaults in one place; record/hls come from ``[live]``, connection
    limits from ``[limits]``)."""

    record: bool = True
    hls: bool = True
    play_wait: float = 5.0  # a player may arrive this long before its publisher ([live] play_wait)
    cover_delay: float = 0.0  # take the live cover from the first keyframe
    hls_reconnect_grace: float = 30.0  # a reconnect within this continues the live HLS playlist
    publisher_takeover_idle: float = 3.0  # a publisher silent this long yields to a new publish ([live])


class MediaService:
    """Owns the hub, the RTMP listener, recorders, HLS segmenters and the event queue."""

    name = "media"

    def __init__(self, ctx: ServerContext, settings: MediaSettings | None = None) -> None:
        self.ctx = ctx
        cfg = ctx.config
        self.settings = settings or MediaSettings(record=cfg.live.record, hls=cfg.live.hls,
                                                  hls_reconnect_grace=cfg.live.hls_reconnect_grace,
                                                  play_wait=cfg.live.play_wait,
                                                  publisher_takeover_idle=cfg.live.publisher_takeover_idle)
        self.hub = Hub()
        self.limits: LimitsConfig = cfg.limits
        self.idle_timeout = self.limits.rtmp_idle_timeout
        self.rate_log = RateLog(logging.getLogger("server.limits"), self.limits.log_interval)
        self.conns = ConnGuard("rtmp", self.limits.rtmp_max_connections, self.limits.rtmp_max_per_ip, self.rate_log)
        self.preauth = PreAuthPool(self.limits, self.rate_log)
        self.play_wait = self.settings.play_wait
        self.takeover_idle = self.settings.publisher_takeover_idle
        self.record_dir = cfg.media_dir / "record"
        self.vod_dir = cfg.media_dir / "vod"
        self.hls_dir = cfg.media_dir / "hls"
        self.rtmp_port = 0
        self._server: asyncio.base_events.Server | None = None
        self._sessions: set[asyncio.Task[None]] = set()
        self._events: asyncio.Queue[LiveEvent] = asyncio.Queue(maxsize=10000)
        self._event_task: asyncio.Task[None] | None = None
        self._workers: dict[str, list[Any]] = {}
        self._threads: set[Any] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._bg: set[asyncio.Task[Any]] = set()
        self._hls: dict[str, tuple[HlsPlaylist, HlsSegmenter]] = {}  # sid -> playlist, last segmenter
        self._hls_timers: dict[str, asyncio.TimerHandle] = {}

    # --- Service protocol ------------------------------------------------------------------
    def mount(self, app: "FastAPI") -> None:
        from server.media import http, nginx_adapter

        app.include_router(http.router(self))
        app.include_router(nginx_adapter.router(self))

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        for d in (self.record_dir, self.vod_dir, self.hls_dir):
            d.mkdir(parents=True, exist_ok=True)
        sock = self.ctx.rtmp_socket
        if sock is None:
            self._server = await asyncio.start_server(self._on_client, "127.0.0.1", 0)
        else:
            tls = self.ctx.rtmp_ssl  # RTMPS: TLS on the RTMP port (server/tls.py)
            self._server = await asyncio.start_server(self._on_client, sock=sock, backlog=512, ssl=tls,
                                                      ssl_handshake_timeout=10 if tls else None)
        self.rtmp_port = self._server.sockets[0].getsockname()[1]
        self._event_task = asyncio.create_task(self._deliver_events(), name="media-events")
        self._background(self._recover_recordings(), "media-recover")
        log.info("media server: rtmp on port %d", self.rtmp_port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for st in list(self.hub.streams.values()):
            if self.hub.end(st, "server stopping"):
                await self.publish_ended(st)
        for t in list(self._sessions):
            t.cancel()
        threads = list(self._threads)
        if threads:  # let recorders finish their MP4 (bounded wait)
            await asyncio.to_thread(lambda: [th.join(15) for th in threads])
        if self._event_task is not None:
            try:
                await asyncio.wait_for(self._events.join(), 5)
            except asyncio.TimeoutError:
                log.warning("media: %d live events not delivered at shutdown", self._events.qsize())
            self._event_task.cancel()

    # --- RTMP ------------------------------------------------------------------------------
    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        key = addr_key(writer.get_extra_info("peername"))
        if not self.conns.admit(key):
            writer.transport.abort()
            return
        task = asyncio.current_task()
        assert task is not None
        self._sessions.add(task)
        session = RtmpSession(self, reader, writer)
        try:
            if self.preauth.enter(session, key):
                await session.run()
            else:
                writer.transport.abort()
        finally:
            self.preauth.leave(session)
            self.conns.release(key)
            self._sessions.discard(task)

    def authorize_publish(self, app: str, sid: str, query: dict[str, str]) -> None:
        """txSecret/txTime check (SPEC section 2); raises PushAuthError."""
        if userid_from_stream_id(sid) is None:
            raise PushAuthError("bad_name", f"stream id {sid!r} is not {{bizid}}_{{userid}}")
        check_push_auth(self.ctx.config.live.push_key, sid, query.get("txSecret"), query.get("txTime"))

    async def publish_started(self, stream: LiveStream) -> None:
        start = int(stream.start_time)
        file_id = f"{stream.sid}_{start}"
        stream.file_id = file_id
        self.emit(LiveEvent(LiveEventType.STREAM_BEGIN, stream.sid))
        if self.settings.record:
            sink = record_sink(file_id, self.ctx.config.live.record_buffer_mb)
            stream.attach(sink)
            rec = Recorder(sink, file_id, start, self.record_dir, self.vod_dir, self._recorded,
                           hls=self.ctx.config.live.hls_replays)
            self._run_thread(rec)
        if self.settings.hls:
            self._start_hls(stream)
        self._background(self._live_cover(stream, file_id), f"cover-{file_id}")

    async def publish_ended(self, stream: LiveStream) -> None:
        self.emit(LiveEvent(LiveEventType.STREAM_END, stream.sid))
        if stream.sid in self._hls and self._loop is not None:  # the publisher may come back
            self._hls_timer(stream.sid, self.settings.hls_reconnect_grace, self._end_hls)

    # --- live HLS across reconnects ----------------------------------------------------------
    def _start_hls(self, stream: LiveStream) -> None:
        timer = self._hls_timers.pop(stream.sid, None)
        if timer is not None:
            timer.cancel()
        playlist, prev = self._hls.get(stream.sid, (None, None))
        if playlist is None or playlist.ended:
            playlist, prev = HlsPlaylist(stream.sid, self.hls_dir / stream.sid), None
        sink = ThreadSink(f"hls-{stream.sid}", soft_bytes=4 << 20, hard_bytes=16 << 20, min_interval=WORKER_INTERVAL)
        stream.attach(sink)
        seg = HlsSegmenter(sink, playlist, after=prev)
        self._hls[stream.sid] = (playlist, seg)
        self._run_thread(seg)

    def _hls_timer(self, sid: str, delay: float, fn: Any) -> None:
        assert self._loop is not None
        old = self._hls_timers.pop(sid, None)
        if old is not None:
            old.cancel()
        self._hls_timers[sid] = self._loop.call_later(delay, fn, sid)

    def _end_hls(self, sid: str) -> None:
        """No publisher within the grace period: ENDLIST now, the files a little later."""
        entry = self._hls.get(sid)
        if entry is None or sid in self.hub.streams:
            return
        entry[0].end()  # one small file write
        self._hls_timer(sid, HLS_KEEP_AFTER_END_S, self._drop_hls)

    def _drop_hls(self, sid: str) -> None:
        self._hls_timers.pop(sid, None)
        entry = self._hls.get(sid)
        if entry is None or sid in self.hub.streams or not entry[0].ended:
            return
        del self._hls[sid]
        self._background(asyncio.to_thread(shutil.rmtree, self.hls_dir / sid, True), f"hls-rm-{sid}")

    def _background(self, coro: Any, name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        self._bg.add(task)
        task.add_done_callback(self._bg.discard)

    def _run_thread(self, th: Any) -> None:
        self._threads.add(th)
        orig = th.run

        def run() -> None:
            try:
                orig()
            finally:
                self._threads.discard(th)

        th.run = run
        th.start()

    # --- covers and recordings -------------------------------------------------------------
    async def _live_cover(self, stream: LiveStream, file_id: str) -> None:
        for _ in range(100):  # up to ~10 s for the first keyframe
            if stream.ended:
                return
            if stream.first_keyframe is not None and stream.video_header is not None:
                break
            await asyncio.sleep(0.1)
        else:
            return
        vh, kf = stream.video_header.payload, stream.first_keyframe.payload
        path = self.vod_dir / f"{file_id}.jpg"
        try:
            jpeg = await asyncio.to_thread(cover_from_keyframe, vh, kf)
            await asyncio.to_thread(path.write_bytes, jpeg)
        except Exception as e:
            log.warning("live cover for %s failed: %s", stream.sid, e)
            return
        self.emit(LiveEvent(LiveEventType.SCREENSHOT, stream.sid, pic_url=self.url_of(path)))

    def url_of(self, path: Path) -> str:
        return f"{self.ctx.config.http_base}/vod/{path.name}"

    def record_event(self, sid: str, res: RecordResult) -> LiveEvent:
        """The RECORD_DONE event of a finished recording."""
        assert res.mp4 is not None
        return LiveEvent(LiveEventType.RECORD_DONE, sid, video_url=self.url_of(res.mp4), file_id=res.file_id,
                         start_time=res.start_time, end_time=res.end_time, duration=int(round(res.duration)),
                         file_size=res.file_size, pic_url=self.url_of(res.cover) if res.cover is not None else "",
                         hls_play_url=self.url_of(res.hls) if res.hls is not None else "")

    def _recorded(self, res: RecordResult) -> None:
        """Called on the recorder thread when the MP4 is on disk."""
        m = FILE_ID_RE.match(res.file_id)
        if m is None or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self.emit, self.record_event(m.group("sid"), res))

    async def _recover_recordings(self) -> None:
        """FLV recordings left by a killed server become replays on the next start; header-only
        ones are dropped and ones that cannot be remuxed are quarantined once (never retried)."""
        for path in sorted(self.record_dir.glob("*.flv")):
            m = FILE_ID_RE.match(path.stem)
            if m is None or m.group("sid") in self.hub.streams:
                continue
            if is_empty_recording(path):
                path.unlink(missing_ok=True)
                log.info("dropped empty recording %s (no audio or video)", path.name)
                continue
            try:
                res = await asyncio.to_thread(finish_recording, path, self.vod_dir, path.stem, int(m.group("start")),
                                              None, False, self.ctx.config.live.hls_replays)
            except Exception as e:
                await asyncio.to_thread(self._quarantine, path, e)
                continue
            log.info("recovered recording %s (%.1f s)", path.name, res.duration)
            self.emit(self.record_event(m.group("sid"), res))

    def _quarantine(self, path: Path, err: BaseException) -> None:
        qdir = self.ctx.config.media_dir / "quarantine"
        qdir.mkdir(parents=True, exist_ok=True)
        dest = qdir / path.name
        if dest.exists():
            dest = qdir / f"{path.stem}-{int(time.time())}{path.suffix}"
        shutil.move(str(path), dest)
        (self.vod_dir / f"{path.stem}.mp4.tmp").unlink(missing_ok=True)
        path.with_suffix(START_SUFFIX).unlink(missing_ok=True)
        log.warning("recording %s cannot be remuxed (%s); moved to %s, not retried", path.name,
                    str(err)[:200] or type(err).__name__, dest)

    # --- events ----------------------------------------------------------------------------
    def emit(self, event: LiveEvent) -> None:
        """Queue a live event; delivered in order, never blocking the media path."""
        try:
            self._events.put_nowait(event)
        except asyncio.QueueFull:
            log.error("live event queue full; dropping event %d for %s", event.type, event.stream_id)

    async def _deliver_events(self) -> None:
        while True:
            ev = await self._events.get()
            try:
                reply = await self.ctx.live_event(ev)  # in-process: typed, not signed
                if reply.get("code") != 0:
                    log.warning("live event %d for %s refused: %s", ev.type, ev.stream_id, reply)
            except Exception:
                log.exception("live event %d for %s failed", ev.type, ev.stream_id)
            finally:
                self._events.task_done()
