"""Demux stage: owns the container; opens, reads, seeks and reopens a stalled live source."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import av

from app.play.errors import PlayCode, PlayError
from app.play.interrupt import interruptible
from app.play.layout import LayoutWatch
from app.play.pipe import END, PKT, Pipe
from app.play.settings import SourceKind, open_options, read_timeout
from protocol.signing import redact_url

log = logging.getLogger(__name__)

LOW_DELAY = 1 << 19  # AV_CODEC_FLAG_LOW_DELAY
_MAX_NEW_STREAMS = 64  # streams appearing after the open before playback gives up (see _stream_appeared)
# A live stream that gains a kind it lacked (audio joining a video-only start) is reopened to
# pick it up: at most this many times per play, at most this many reopens that found nothing
# new (a data stream, corrupt bytes), and not twice within this many seconds.
_MAX_REJOINS = 3
_MAX_FUTILE_REJOINS = 2
_REJOIN_SPACING = 5.0
# On the reopen the server may have restarted its time (some servers start every player at 0).
# The same time goes on only if the reopen's first packet lies between the newest keyframe the
# connection before had (a GOP cache starts at it or at a newer one; without video: this many
# seconds before where playback was) and this many seconds after its newest packet.
_REJOIN_BEFORE, _REJOIN_AFTER = 10.0, 3.0


def _open_error(url: str, exc: BaseException) -> PlayError:
    text = redact_url(f"{url}: {exc}")
    if isinstance(exc, (av.error.HTTPNotFoundError, av.error.FileNotFoundError, FileNotFoundError)):
        return PlayError(PlayCode.NOT_FOUND, text)
    if isinstance(exc, av.error.HTTPForbiddenError):
        return PlayError(PlayCode.OPEN_FAILED, f"refused by the server: {text}")
    return PlayError(PlayCode.OPEN_FAILED, text)


class Demuxer:
    """Thread body ``run()``: packets into ``pipe.vq`` / ``pipe.aq`` until stop or the end."""

    def __init__(self, pipe: Pipe) -> None:
        self.pipe = pipe
        self.container: Any = None
        self._close_lock = threading.Lock()  # the container is closed once (stop() and run() may race)
        self.vstream: Any = None
        self.astream: Any = None
        self._iter: Any = None
        self._new_streams = 0  # streams that appeared after the open
        self._watch: LayoutWatch | None = None  # live FLV lacking audio or video: see _layout_changed
        self.rejoins = 0  # reopens to pick up a stream that appeared (this play)
        self._futile = 0  # of them, those that found no new audio/video stream
        self._last_rejoin: float | None = None
        self._rejoin_at: tuple[float, float] | None = None  # source times the reopen must start in
        self._last_key: float | None = None  # source time of the newest keyframe of this connection
        self._need_key = True
        self._eof = False
        self._seek_retry: tuple[int, Any] | None = None
        self._last_ts: dict[int, float] = {}
        self.epoch = pipe.epoch  # the epoch of the packets this stage reads now

    # -- open ----------------------------------------------------------------------------------
    def open(self, open_timeout: float | None = None, keep_time: bool = False) -> None:
        """Open the URL and pick the streams. Raises :class:`PlayError`.

        ``keep_time``: a live source goes on with the media time of the connection before (the
        offset is kept; see :meth:`_rejoin`)."""
        p, s = self.pipe, self.pipe.settings
        live_hint = s.live if s.live is not None else p.kind in (SourceKind.RTMP, SourceKind.HTTP_FLV)
        opts = open_options(p.url, p.kind, s, live_hint)
        try:
            with interruptible(p.stop):  # a stop cuts the connect/probe short (also from open())
                c = av.open(p.url, options=opts, timeout=(open_timeout or s.open_timeout, read_timeout(p.kind, s)))
        except av.FFmpegError as exc:
            raise _open_error(p.url, exc) from exc
        except OSError as exc:
            raise _open_error(p.url, exc) from exc
        try:
            # a stream FFmpeg has no decoder for (corrupt bytes read as a tag of an unknown
            # codec) is not played: its packets would only be dropped, and the clock wait for it
            v = next((x for x in c.streams.video if x.codec_context is not None), None) if s.video else None
            a = next((x for x in c.streams.audio if x.codec_context is not None), None) if s.audio else None
            if v is None and a is None:
                raise PlayError(PlayCode.NO_MEDIA, f"{p.url}: no audio or video stream")
            live = s.live
            if live is None:
                live = p.kind in (SourceKind.RTMP, SourceKind.HTTP_FLV) or (
                    p.kind is SourceKind.HLS and not c.duration)
            if v is not None:
                cc = v.codec_context
                cc.thread_count = max(1, s.video_threads)
                cc.thread_type = "SLICE" if live else "AUTO"
                if live:
                    cc.flags = int(cc.flags) | LOW_DELAY
        except BaseException:
            c.close()
            raise
        self.close()
        self.container, self.vstream, self.astream = c, v, a
        self._watch = LayoutWatch() if self._may_rejoin(bool(live)) else None
        self._rejoin_at = self._last_key = None
        self._iter = self._demux()
        self._new_streams = 0
        self._need_key = True
        self._last_ts = {}
        with p.lock:
            self.epoch = p.epoch
            p.live = bool(live)
            p.has_video, p.has_audio = v is not None, a is not None
            p.duration = (c.duration / 1e6) if (not live and c.duration) else None
            if v is not None:
                p.width, p.height = v.codec_context.width, v.codec_context.height
            if live:
                if not keep_time:
                    p.offset = None  # set from the first keyframe
            else:
                st = c.start_time
                p.offset = st / 1e6 if st is not None and st > 0 else 0.0
            p.last_packet = time.monotonic()
        p.events.opened()

    def _open_any(self) -> bool:
        """Open the first URL of the failover list that answers; False (reported) when none does."""
        p = self.pipe
        for _ in range(max(1, len(p.urls))):
            try:
                self.open()
                return True
            except PlayError as exc:
                if p.stop.is_set():  # the open was cut by a stop: not an error
                    log.info("open abandoned: stopped")
                    return False
                if not p.next_url():
                    p.events.fatal(exc.code, exc.text)
                    return False
                log.info("open failed (%s): trying %s", exc.text, redact_url(p.url))
        p.events.fatal(PlayCode.OPEN_FAILED, "no play URL could be opened")
        return False

    def close(self) -> None:
        """Close the container (once: whoever takes it closes it). Never while a read runs:
        the demux thread closes it itself, and :meth:`Player.stop` only once that thread is gone."""
        with self._close_lock:
            c, self.container, self._iter = self.container, None, None
        if c is not None:
            try:
                c.close()
            except Exception:  # closing a broken connection
                log.debug("close failed", exc_info=True)

    # -- loop ----------------------------------------------------------------------------------
    def run(self) -> None:
        p = self.pipe
        # Every read (open, packet, seek, reopen) of this thread gives up within ~0.1 s of a stop
        # (app.play.interrupt), instead of at its timeout: a stop does not wait for the network.
        with interruptible(p.stop):
            self._run()

    def _run(self) -> None:
        p = self.pipe
        try:
            if self.container is None and not self._open_any():
                return
            while not p.stop.is_set():
                if p.pending_seek is not None:
                    self._do_seek()
                t_read = time.monotonic()
                try:
                    pkt = next(self._iter)
                except (StopIteration, EOFError):
                    if p.stop.is_set():  # an interrupted HLS read ends its stream
                        return
                    if self._seek_retry is not None:
                        self._retry_seek()
                        continue
                    if not self._at_end("end of stream"):
                        return
                    continue
                except av.FFmpegError as exc:
                    if p.stop.is_set():
                        return
                    if not self._at_end(f"read failed: {exc}", exc):
                        return
                    continue
                except IndexError:
                    if p.stop.is_set() or not self._stream_appeared():
                        return
                    continue
                if self._watch is not None and self._watch.see(pkt.stream.index, pkt.pos, pkt.size):
                    before = self.container
                    if not self._layout_changed("another stream's tags come between ours"):
                        return
                    if self.container is not before:
                        continue  # reopened: the packet was the old connection's
                if pkt.stream is not self.vstream and pkt.stream is not self.astream:
                    continue  # a stream not played (demuxed to account its bytes: LayoutWatch)
                self._route(pkt)
                if self._timed_out(t_read) and not self._at_end("no new segment within the read timeout"):
                    return
        except Exception as exc:  # a bug must end playback with an error, not hang it
            log.exception("demux stage failed")
            if not p.stop.is_set():  # a user's stop is no error
                p.events.fatal(PlayCode.READ_FAILED, f"demux failed: {exc}")
        finally:
            self.close()

    def _timed_out(self, t_read: float) -> bool:
        """True when the last read of a live HLS source was cut by the read timeout.

        FFmpeg's HLS reader waits for the next segment inside one read; once the timeout has
        interrupted that wait it fetches no segment any more: it hands out what it had and then,
        one more read timeout later, the end of the stream. Reconnect at once instead."""
        p = self.pipe
        return (p.live and p.kind is SourceKind.HLS
                and time.monotonic() - t_read >= read_timeout(p.kind, p.settings) - 0.05)

    def _route(self, pkt: Any) -> None:
        p = self.pipe
        if pkt.size == 0 or (pkt.pts is None and pkt.dts is None):
            return  # demuxer flush packet
        self._seek_retry = None
        p.stats.add_bytes(pkt.size)
        p.last_packet = time.monotonic()
        epoch = self.epoch  # not p.epoch: a packet read before a pending seek belongs to the old one
        ts = pkt.pts if pkt.pts is not None else pkt.dts
        t = float(ts * pkt.time_base)
        if p.live and self._discontinuity(pkt.stream.index, t):
            epoch = self.epoch
        dur = float(pkt.duration * pkt.time_base) if pkt.duration else self._nominal_duration(pkt)
        if pkt.stream is self.vstream:
            if pkt.is_keyframe:
                self._last_key = t
            if self._need_key:
                if not pkt.is_keyframe:
                    return
                self._need_key = False
                if p.offset is None:
                    p.offset = t
                elif self._rejoin_at is not None:
                    self._rejoin_time(t)
            rel = t - (p.offset or 0.0)
            if not p.put(p.vq, (PKT, epoch, pkt), block=not p.live):
                if epoch == p.epoch and p.live:  # live congestion: drop up to the next keyframe
                    p.stats.add_dropped()
                    self._need_key = True
                return
        else:
            if p.offset is None:
                if p.live and self.vstream is not None:
                    return  # live: audio starts with the first video keyframe
                p.offset = t
            elif self._rejoin_at is not None and self.vstream is None:
                self._rejoin_time(t)
            rel = t - p.offset
            if p.live and self.vstream is not None and rel < -0.001:
                return
            if not p.put(p.aq, (PKT, epoch, pkt), block=not p.live):
                return
        p.note_pts(epoch, rel + dur, audio=pkt.stream is not self.vstream)

    def _nominal_duration(self, pkt: Any) -> float:
        """A packet's duration when the container gives none: an audio frame's samples / rate
        (1024 for AAC), a video frame's 1 / frame rate. The buffer ends where the media ends."""
        st = pkt.stream
        try:
            if st is self.vstream:
                rate = st.average_rate or st.guessed_rate or st.base_rate
                return float(1 / rate) if rate else 0.0
            cc = st.codec_context
            n = cc.frame_size or 1024
            return n / cc.sample_rate if cc.sample_rate else 0.0
        except (AttributeError, ZeroDivisionError, TypeError, ValueError):
            return 0.0

    def _discontinuity(self, index: int, t: float) -> bool:
        """A live stream whose time jumps (the anchor's encoder restarted behind the same
        connection: the server keeps us subscribed) starts a new epoch, like a reconnect."""
        last = self._last_ts.get(index)
        self._last_ts[index] = t
        if last is None or -0.5 <= t - last <= 5.0:
            return False
        log.info("live timestamps jumped %.3f -> %.3f s: resynchronising", last, t)
        self._last_ts = {index: t}
        self.epoch = self.pipe.new_epoch(keep_offset=False)
        self._need_key = self.vstream is not None
        self.pipe.events.reconnecting("timestamp discontinuity")
        return True

    # -- end, errors, reconnect ----------------------------------------------------------------
    def _at_end(self, why: str, exc: BaseException | None = None) -> bool:
        """Handle end of input. Returns False when the stage should exit."""
        p = self.pipe
        if not p.live:
            if exc is not None:
                p.events.fatal(PlayCode.READ_FAILED, f"{p.url}: {why}")
                return False
            epoch = self.epoch
            self._eof = True
            for q in (p.vq, p.aq):
                p.put(q, (END, epoch, None), block=True)
            while not p.stop.is_set() and p.pending_seek is None:  # a replay can seek back
                time.sleep(0.02)
            return not p.stop.is_set()
        return self._reconnect(why)

    def _reconnect(self, why: str) -> bool:
        p, s = self.pipe, self.pipe.settings
        log.info("live source lost (%s); reconnecting", why)
        deadline = p.last_packet + s.reconnect_window
        self.close()
        if p.stop.is_set():
            return False
        self.epoch = p.new_epoch(keep_offset=False)
        p.events.reconnecting(why)
        if p.next_url():  # several URLs (edges): the lost one is the last to try again
            log.info("failing over to %s", redact_url(p.url))
        failed = 0
        while not p.stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                p.events.stream_ended()
                return False
            try:
                self.open(open_timeout=max(0.5, min(s.open_timeout, left)))
                with p.lock:
                    p.offset = None
                log.info("live source reopened")
                return True
            except PlayError as exc:
                log.info("reopen failed: %s", exc)
                failed += 1
                if p.next_url() and failed % len(p.urls):
                    continue  # another edge may answer at once; pause after each round
                p.stop.wait(min(s.reconnect_interval, max(0.0, deadline - time.monotonic())))
        return False

    def _do_seek(self) -> None:
        p = self.pipe
        with p.lock:
            pending, p.pending_seek = p.pending_seek, None
        if pending is None or self.container is None:
            return
        target, self.epoch = pending
        stream = self.vstream or self.astream
        ts = int((target + (p.offset or 0.0)) / stream.time_base)
        try:
            with p.vlock, p.alock:
                self.container.seek(ts, stream=stream, backward=True, any_frame=False)
            # Once FFmpeg's http reader has read a body to its end it may answer the first read
            # after a seek with EOF; then the seek is made once more (see run()).
            self._seek_retry = (ts, stream)
            self._eof = False
        except av.FFmpegError as exc:
            if p.stop.is_set():  # the seek was cut by a stop
                return
            # No index (an FLV without keyframe table...): read again from the start and let the
            # decoders discard everything before the target.
            log.info("seek to %.3f failed (%s): reopening and decoding forward", target, exc)
            try:
                self.open()
            except PlayError as err:
                if p.stop.is_set():
                    return
                p.events.error(PlayCode.SEEK_FAILED, f"seek failed: {exc}; reopen failed: {err.text}")
            return
        self._iter = self._demux()
        self._need_key = self.vstream is not None

    def _demux(self) -> Any:
        """A demux generator over the streams played, or over every stream of the container while
        the layout is watched (the bytes of the streams not played are then not foreign)."""
        assert self.container is not None
        if self._watch is not None:
            return self.container.demux()
        return self.container.demux(*[x for x in (self.vstream, self.astream) if x is not None])

    def _stream_appeared(self) -> bool:
        """A stream appeared after the open (PyAV says so with an IndexError). False when the
        stage should exit.

        FLV makes a stream when its first tag comes (audio joining a video-only stream, or corrupt
        bytes read as a tag of a new kind). PyAV's demux generator cannot hand out that stream's
        packet (its stream list is the open's) and is finished by it. A live source lacking audio
        or video is reopened to pick the stream up (:meth:`_layout_changed`); otherwise a new
        generator selects the same streams and skips the new one (the demux stage used to die
        here, "demux failed", ending playback)."""
        self._new_streams += 1
        if self._new_streams > _MAX_NEW_STREAMS:
            raise PlayError(PlayCode.READ_FAILED, "the stream keeps changing its layout")
        if self._watch is not None:
            return self._layout_changed("a stream appeared")
        if self._new_streams == 1:
            log.warning("%s: a stream appeared after the start; playing on with the streams found at the start",
                        redact_url(self.pipe.url))
        self._iter = self._demux()
        return True

    # -- a stream joining a live source ----------------------------------------------------------
    def _may_rejoin(self, live: bool) -> bool:
        """Whether the source is one to watch for a stream it lacks: live FLV (RTMP, HTTP-FLV)
        without the audio or the video the settings ask for, the reopens not used up."""
        p, s = self.pipe, self.pipe.settings
        lacks = (s.video and self.vstream is None) or (s.audio and self.astream is None)
        return (live and lacks and p.kind in (SourceKind.RTMP, SourceKind.HTTP_FLV)
                and self.rejoins < _MAX_REJOINS and self._futile < _MAX_FUTILE_REJOINS)

    def _layout_changed(self, why: str) -> bool:
        """A live source lacking audio or video gained a stream: reopen it (the server answers
        at once from its GOP cache, whose sequence headers make the open find the stream) and go
        on where playback was, now with both. Bounded: a stream that is not audio or video (data,
        corrupt bytes) finds nothing new on the reopen; after a few of those, or a few reopens in
        all, the player plays on with what it has. False when the stage should exit."""
        assert self._watch is not None and self.container is not None
        self._watch.clear()
        now = time.monotonic()
        if self._last_rejoin is not None and now - self._last_rejoin < _REJOIN_SPACING:
            if why == "a stream appeared":  # the generator is finished: a new one, as before
                self._iter = self._demux()
            return True
        return self._rejoin(why)

    def _rejoin(self, why: str) -> bool:
        p = self.pipe
        had = (self.vstream is not None, self.astream is not None)
        with p.lock:
            offset, latest = p.offset, p.latest_pts
        pos = p.clock.now()  # media time playing now: the new connection goes on from there
        key = self._last_key
        keep = pos is not None and offset is not None
        self.rejoins += 1
        self._last_rejoin = time.monotonic()
        log.info("live source %s (%s): reopening it to play the new stream (%d of at most %d)",
                 redact_url(p.url), why, self.rejoins, _MAX_REJOINS)
        self.close()
        if p.stop.is_set():
            return False
        self.epoch = p.new_epoch(seek_target=pos if keep else None, keep_offset=keep)
        try:
            self.open(keep_time=keep)
        except PlayError as exc:
            return self._reconnect(f"reopen failed: {exc.text}")
        if keep:
            assert pos is not None and offset is not None
            lo = key - 0.1 if key is not None else pos + offset - _REJOIN_BEFORE
            self._rejoin_at = (lo, max(pos, latest or 0.0) + offset + _REJOIN_AFTER)
        found = (self.vstream is not None, self.astream is not None)
        if found == had:
            self._futile += 1
            log.warning("%s: the new stream is not audio or video the player lacked; playing on (%d)",
                        redact_url(p.url), self._futile)
            if self._futile >= _MAX_FUTILE_REJOINS:
                self._watch = None  # no more reopens: what comes between ours is not for us
        else:
            log.info("playing %s now", "audio and video" if all(found) else "audio" if found[1] else "video")
        return True

    def _rejoin_time(self, t: float) -> None:
        """The first packet after a rejoin (``t`` s, the source's time): near where playback was,
        it goes on from there (frames before it are decoded, not shown); far from it (the server
        restarted its time for the new connection) playback starts again at this packet."""
        at, self._rejoin_at = self._rejoin_at, None
        if at is None or at[0] <= t <= at[1]:
            return
        log.info("the reopened source's time (%.3f s) is not where playback was (%.3f-%.3f s): starting at it",
                 t, *at)
        with self.pipe.lock:
            self.pipe.offset = t
            self.pipe.seek_target = None

    def _retry_seek(self) -> None:
        assert self._seek_retry is not None
        ts, stream = self._seek_retry
        self._seek_retry = None
        try:
            with self.pipe.vlock, self.pipe.alock:
                self.container.seek(ts, stream=stream, backward=True, any_frame=False)
        except av.FFmpegError as exc:
            if self.pipe.stop.is_set():
                return
            self.pipe.events.error(PlayCode.SEEK_FAILED, f"seek failed: {exc}")
        self._iter = self._demux()
