"""One replay per co-hosted live, showing what its viewers saw (混流回放).

While a room is mixed (co-hosts or a PK), its viewers watch the mixed stream
``{bizid}mix_{userid}``; the rest of the live they watch the anchor's own stream. Both are
recorded as usual. This module turns the anchor's recording plus the mix recordings that overlap
it into ONE replay: the anchor's pictures outside the mixed spans, the mix's inside, on the
anchor's timeline (so replay danmaku offsets stay right).

:func:`stitch` writes ``{file_id}_mixed.mp4`` (faststart) and ``{file_id}_mixed.m3u8`` +
``{file_id}_mixed_{8 hex}.ts`` (HLS VOD, byte ranges, ``EXT-X-DISCONTINUITY`` where the source switches)
beside the anchor's own files, without re-encoding video: H.264 is copied and every keyframe carries
its own SPS/PPS in-band, so a decoder follows the switch between the two encoders (FFmpeg-based
players such as ours do; hls.js re-initialises at each discontinuity). The mix's audio is copied
when it has the anchor's sample rate and channels, else re-encoded to them (cheap) so one audio
track plays throughout. Switches happen on keyframes: into the mix at its first keyframe, back to
the anchor at the anchor's last keyframe before the mix ends.

:class:`MixReplays` (owned by RoomService, which runs the mixer) keeps the mix recordings unlisted
(a replay hider) and, on every finished recording of an anchor or of its mix, re-stitches the
anchor's replay and points its row's ``play_url`` / ``hls_play_url`` at the stitched files.
Nothing is deleted: the anchor's own ``{file_id}.mp4`` and the mix's files stay on disk.
Recordings are aligned by the wall-clock arrival of their first frame (``{file_id}.start``,
written by the recorder), to a tenth of a second; without it (nginx-rtmp) by their whole-second
start times.
When stitching is impossible (a file not on this node, HEVC/AV1 on either side, no video), the
anchor's own recording stays the replay and a WARNING says why.

A server killed after the recordings were done but before their join finished would leave the
anchor-only replay for good: on start (worker 0, in the background) :meth:`MixReplays.sweep` joins
the replays whose join is not finished, those of the last ``[mixer] replay_sweep_days`` days, at
most ``[mixer] replay_sweep_max`` per start, newest first. A join that failed
``MAX_JOIN_FAILURES`` times (``{stem}.failed`` counts them) is no longer retried at start-up until
one of its recordings changes: a WARNING says so once.

Outputs are written under temporary names of the writing process (``{stem}.mp4.{pid}.tmp``,
``.{stem}.{pid}.hls/``) and renamed into place, so a crash never leaves a half-written file under a
served name; the start-up healing (server/heal.py) removes the leftovers. Joins of one replay are
serialised across processes (``--workers``: nginx-rtmp's recording callbacks reach any worker) by
an ``flock`` on ``.{stem}.lock``. The HLS copy's TS has a new name each join
(``{stem}_{8 hex}.ts``), published before the playlist that refers to it, so a playlist always
refers to a complete TS of its own; the TS of the replaced playlist is kept (a viewer who loaded it
still plays) until the next join.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import math
import os
import re
import secrets
import shutil
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import av

from protocol.live_events import LiveEvent, LiveEventType
from protocol.signing import stream_id, userid_from_stream_id
from server.media.mixctl import MIX_MARK, is_mix_stream, mix_stream_id
from server.media.record import START_SUFFIX, read_start
from server.media.vod_hls import SEGMENT_S

if TYPE_CHECKING:
    from server.context import ServerContext

log = logging.getLogger(__name__)
MIXED_SUFFIX = "_mixed"  # {file_id}_mixed.mp4 / .m3u8 / _{8 hex}.ts
MIN_SPAN_S = 0.5  # a mixed span shorter than this is not switched to
MAX_JOIN_FAILURES = 3  # failed joins of one replay before the start-up sweep gives up on it
FAILED_SUFFIX = ".failed"  # {stem}.failed: {"count": failed joins, "error": the last one's}


@contextlib.contextmanager
def join_lock(vod: Path, stem: str) -> Iterator[None]:
    """Hold the join of ``stem`` (``{file_id}_mixed``) in ``vod``: an exclusive ``flock`` on
    ``.{stem}.lock``, so joins of one replay run one at a time across processes and threads."""
    fd = os.open(vod / f".{stem}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def hls_segment_name(stem: str) -> str:
    """A new name for the TS of ``stem``'s HLS copy (never the one a served playlist refers to)."""
    return f"{stem}_{secrets.token_hex(4)}.ts"


def playlist_segment(playlist: Path) -> str | None:
    """The TS file a stitched playlist refers to (None: no playlist or none named)."""
    try:
        text = playlist.read_text()
    except (OSError, UnicodeDecodeError):
        return None
    names = {line for line in text.splitlines() if line and not line.startswith("#")}
    return names.pop() if len(names) == 1 else None


class CannotStitch(Exception):
    """The recordings cannot be joined by copying (codec, files); the anchor's own replay stays."""


@dataclass
class Recording:
    """A finished recording: its MP4 and the wall-clock time of its time 0 (the recorder's
    ``{file_id}.start`` sidecar, else the whole second its stream started)."""

    mp4: Path
    start: float


@dataclass
class Part:
    """One piece of the stitched replay: ``src`` from its own time ``begin`` to ``end`` (seconds),
    shifted by ``offset`` onto the anchor's timeline."""

    src: Path
    begin: float
    end: float
    offset: float
    mixed: bool


@dataclass
class Stitched:
    mp4: Path
    hls: Path | None
    parts: list[Part]
    file_size: int


# --- H.264 parameter sets ---------------------------------------------------------------------

def _avcc_parameter_sets(extradata: bytes | None) -> tuple[int, bytes]:
    """(NAL length size, SPS+PPS as length-prefixed NAL units) of an ``avcC`` record."""
    if not extradata or len(extradata) < 7 or extradata[0] != 1:
        raise CannotStitch("H.264 without an avcC record")
    size = (extradata[4] & 3) + 1
    out: list[bytes] = []
    pos = 5
    for _ in range(2):  # SPS then PPS
        if pos >= len(extradata):
            raise CannotStitch("truncated avcC")
        count = extradata[pos] & (0x1F if not out else 0xFF)
        pos += 1
        for _ in range(count):
            (n,) = struct.unpack_from(">H", extradata, pos)
            nal = extradata[pos + 2:pos + 2 + n]
            out.append(len(nal).to_bytes(size, "big") + nal)
            pos += 2 + n
    return size, b"".join(out)


def _has_sps(data: bytes, size: int) -> bool:
    pos = 0
    while pos + size < len(data):
        n = int.from_bytes(data[pos:pos + size], "big")
        if data[pos + size] & 0x1F == 7:
            return True
        pos += size + n
    return False


# --- reading recordings -----------------------------------------------------------------------

def _keyframes(mp4: Path) -> tuple[list[float], float]:
    """(video keyframe times, duration) of a recording, read from its packets (no decoding)."""
    keys: list[float] = []
    end = 0.0
    with av.open(str(mp4)) as c:
        if not c.streams.video:
            raise CannotStitch(f"{mp4.name} has no video")
        v = c.streams.video[0]
        if v.codec_context.name != "h264":
            raise CannotStitch(f"{mp4.name} is {v.codec_context.name}, only H.264 is joined by copying")
        for pkt in c.demux(v):
            if pkt.pts is None or pkt.size == 0:
                continue
            t = float(pkt.pts * pkt.time_base)
            if pkt.is_keyframe:
                keys.append(t)
            end = max(end, t + float((pkt.duration or 0) * pkt.time_base))
    if not keys:
        raise CannotStitch(f"{mp4.name} has no keyframe")
    return keys, end


def plan(anchor: Recording, mixes: list[Recording]) -> list[Part]:
    """The pieces of the replay: the anchor's recording, with each mix recording's span (from its
    first keyframe to the anchor's last keyframe before the mix ends, or to the end when the live
    ended mixed) taken from the mix."""
    a_keys, a_end = _keyframes(anchor.mp4)
    parts: list[Part] = []
    cursor = 0.0  # anchor time already planned
    for mix in sorted(mixes, key=lambda m: m.start):
        off = mix.start - anchor.start
        try:
            m_keys, m_end = _keyframes(mix.mp4)
        except CannotStitch as e:
            log.warning("mix recording left out of the replay: %s", e)
            continue
        into = next((k + off for k in m_keys if k + off >= cursor), None)
        stop = min(m_end + off, a_end)
        if into is None or stop - into < MIN_SPAN_S:
            continue
        if m_end + off >= a_end:  # the live ended mixed (the mixer stops after the anchor)
            out = stop = a_end
        else:
            back = [k for k in a_keys if into < k <= stop]
            out = back[-1] if back else next((k for k in a_keys if k > stop), a_end)
        if into > cursor:
            parts.append(Part(anchor.mp4, cursor, into, 0.0, False))
        parts.append(Part(mix.mp4, into - off, min(out, stop) - off, off, True))
        cursor = out
    if not any(p.mixed for p in parts):
        return []
    if cursor < a_end:
        parts.append(Part(anchor.mp4, cursor, a_end, 0.0, False))
    return parts


# --- writing ----------------------------------------------------------------------------------

class _AudioFit:
    """The mix's audio re-encoded to the anchor's AAC sample rate and channels."""

    def __init__(self, tmpl: Any) -> None:
        cc = tmpl.codec_context
        self.rate, self.layout = cc.sample_rate, cc.layout.name
        self.enc: Any = av.CodecContext.create("aac", "w")
        self.enc.sample_rate, self.enc.layout, self.enc.format = self.rate, self.layout, "fltp"
        self.enc.bit_rate = cc.bit_rate or 128_000
        self.enc.time_base = Fraction(1, self.rate)
        self.res = av.AudioResampler(format="fltp", layout=self.layout, rate=self.rate)
        self.next: int | None = None  # samples on the output timeline

    def packets(self, frame: Any, at: float) -> Iterator[Any]:
        for f in self.res.resample(frame) if frame is not None else self.res.resample(None):
            if self.next is None:
                self.next = int(round(at * self.rate))
            f.pts, f.time_base = self.next, Fraction(1, self.rate)
            self.next += f.samples
            yield from self.enc.encode(f)
        if frame is None:
            yield from self.enc.encode(None)


def _write_mp4(anchor: Path, parts: list[Part], dst: Path) -> list[float]:
    """Write the parts into ``dst`` (faststart MP4 with the anchor's streams); returns where each
    part begins on the output timeline."""
    starts: list[float] = []
    tmp = dst.with_name(f"{dst.name}.{os.getpid()}.tmp")  # this process's: see join_lock
    try:
        with av.open(str(anchor)) as tmpl, av.open(str(tmp), "w", format="mp4",
                                                    options={"movflags": "+faststart"}) as out:
            tv = tmpl.streams.video[0]
            ta = tmpl.streams.audio[0] if tmpl.streams.audio else None
            if ta is not None and ta.codec_context.name != "aac":
                raise CannotStitch(f"anchor audio is {ta.codec_context.name}, not AAC")
            size, _ = _avcc_parameter_sets(tv.codec_context.extradata)
            ov = out.add_stream_from_template(tv)
            oa = out.add_stream_from_template(ta) if ta is not None else None
            last = {"v": -math.inf, "a": -math.inf}
            for i, part in enumerate(parts):
                starts.append(part.begin + part.offset)
                # with B-frames a keyframe's dts precedes its pts: the part before it ends earlier
                limit = _first_key_dts(parts[i + 1]) if i + 1 < len(parts) else math.inf
                _copy_part(part, out, ov, oa, size, last, limit)
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)
    return starts


def _first_key_dts(part: Part) -> float:
    """Decode time (output timeline) of the keyframe ``part`` starts with."""
    with av.open(str(part.src)) as c:
        v = c.streams.video[0]
        assert v.time_base is not None
        c.seek(max(0, int(part.begin / v.time_base)), stream=v, backward=True, any_frame=False)
        for pkt in c.demux(v):
            if pkt.pts is not None and pkt.dts is not None and pkt.is_keyframe \
                    and float(pkt.pts * pkt.time_base) >= part.begin - 1e-3:
                return float(pkt.dts * pkt.time_base) + part.offset
    return part.begin + part.offset


def _copy_part(part: Part, out: Any, ov: Any, oa: Any, size: int, last: dict[str, float],
               dts_limit: float = math.inf) -> None:
    """Copy ``part`` into ``out``: video from the keyframe at ``begin`` to ``end`` (decode times
    below ``dts_limit`` on the output timeline), audio by time."""
    eps = 1e-3
    with av.open(str(part.src)) as c:
        v = c.streams.video[0]
        src_size, ps = _avcc_parameter_sets(v.codec_context.extradata)
        if src_size != size:
            raise CannotStitch("NAL length sizes differ")
        a = c.streams.audio[0] if c.streams.audio and oa is not None else None
        fit: _AudioFit | None = None
        if a is not None:
            acc, occ = a.codec_context, oa.codec_context
            if (acc.name, acc.sample_rate, acc.channels) != (occ.name, occ.sample_rate, occ.channels):
                fit = _AudioFit(oa)
        assert v.time_base is not None
        c.seek(max(0, int(part.begin / v.time_base)), stream=v, backward=True, any_frame=False)
        started = cut = False
        for pkt in c.demux([s for s in (v, a) if s is not None]):
            if pkt.dts is None or pkt.size == 0:
                continue
            t = float((pkt.pts if pkt.pts is not None else pkt.dts) * pkt.time_base)
            if t > part.end + 5:  # past the end on every stream (MP4 interleaves in chunks)
                break
            if pkt.stream is v:
                if not started and (not pkt.is_keyframe or t < part.begin - eps):
                    continue
                dts = float(pkt.dts * pkt.time_base)
                if cut or dts >= part.end - eps or t >= part.end - eps or dts + part.offset >= dts_limit - eps:
                    cut = started  # the rest in decode order may be B-frames that refer to this one
                    continue
                started = True
                _put(out, ov, pkt, part.offset, "v", last, ps if pkt.is_keyframe else b"", size)
            elif part.begin - eps <= t < part.end - eps:
                if fit is None:
                    _put(out, oa, pkt, part.offset, "a", last, b"", size)
                    continue
                assert a is not None
                for frame in a.codec_context.decode(pkt):
                    tb = frame.time_base or pkt.time_base
                    at = (float(frame.pts * tb) if frame.pts is not None and tb else t) + part.offset
                    for p in fit.packets(frame, at):
                        _put(out, oa, p, 0.0, "a", last, b"", size)
        if fit is not None:
            for p in fit.packets(None, 0.0):
                _put(out, oa, p, 0.0, "a", last, b"", size)


def _put(out: Any, ostream: Any, pkt: Any, offset: float, kind: str, last: dict[str, float],
         ps: bytes, size: int) -> None:
    """Mux ``pkt`` shifted by ``offset`` s (dropping one that would go back in time); a keyframe gets
    its encoder's SPS/PPS in front unless it carries them already."""
    tb = pkt.time_base
    shift = int(round(offset / tb))
    dts = (pkt.dts if pkt.dts is not None else pkt.pts) + shift
    pts = (pkt.pts + shift) if pkt.pts is not None else dts
    if float(dts * tb) <= last[kind]:
        return
    last[kind] = float(dts * tb)
    if ps and not _has_sps(bytes(pkt), size):
        new = av.Packet(ps + bytes(pkt))
        new.is_keyframe = True
        new.duration = pkt.duration
        pkt = new
    pkt.pts, pkt.dts, pkt.time_base = pts, dts, tb
    pkt.stream = ostream
    out.mux(pkt)


def _write_hls(mp4: Path, starts: list[float], stem: str, segment_s: int = SEGMENT_S) -> Path:
    """HLS VOD of the stitched MP4: each part muxed on its own (no segment straddles a switch),
    the parts' TS files joined into one ``{stem}_{8 hex}.ts`` (a new name each time) and one
    playlist with byte ranges and an ``EXT-X-DISCONTINUITY`` between parts. The TS is published
    first, the playlist last (both by rename); then the TS files of earlier joins go, except the
    one the replaced playlist referred to. Returns the playlist path."""
    vod = mp4.parent
    work = vod / f".{stem}.{os.getpid()}.hls"  # this process's: see join_lock
    segment = hls_segment_name(stem)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()

    def part_at(t: float) -> int:
        return max([i for i, s in enumerate(starts) if s - 1e-3 <= t] or [0])

    try:
        made: list[int] = []
        with av.open(str(mp4)) as inp:
            streams = [s for s in inp.streams if s.type in ("video", "audio")]
            out: Any = None
            omap: dict[int, Any] = {}
            try:
                for pkt in inp.demux(streams):
                    if pkt.dts is None or pkt.size == 0:
                        continue
                    t = float((pkt.pts if pkt.pts is not None else pkt.dts) * pkt.time_base)
                    if out is None or (pkt.stream.type == "video" and pkt.is_keyframe and part_at(t) != made[-1]):
                        if out is not None:
                            out.close()
                        k = part_at(t)
                        made.append(k)
                        opts = {"hls_time": str(segment_s), "hls_playlist_type": "vod", "hls_segment_type": "mpegts",
                                "hls_flags": "single_file+independent_segments",
                                "hls_segment_filename": str(work / f"{k}.ts")}
                        out = av.open(str(work / f"{k}.m3u8"), "w", format="hls", options=opts)
                        omap = {s.index: out.add_stream_from_template(s) for s in streams}
                    pkt.stream = omap[pkt.stream.index]
                    out.mux(pkt)
            finally:
                if out is not None:
                    out.close()
        lines: list[str] = []
        target, base = 1, 0
        with open(work / segment, "wb") as ts:
            for k in made:
                if lines:
                    lines.append("#EXT-X-DISCONTINUITY")
                for line in (work / f"{k}.m3u8").read_text().splitlines():
                    if line.startswith("#EXTINF:"):
                        target = max(target, math.ceil(float(line[8:].split(",")[0])))
                        lines.append(line)
                    elif line.startswith("#EXT-X-BYTERANGE:"):
                        n, _, at = line[17:].partition("@")
                        lines.append(f"#EXT-X-BYTERANGE:{n}@{int(at or 0) + base}")
                    elif line and not line.startswith("#"):
                        lines.append(segment)
                with open(work / f"{k}.ts", "rb") as src:
                    shutil.copyfileobj(src, ts)
                base = ts.tell()
        head = ["#EXTM3U", "#EXT-X-VERSION:4", f"#EXT-X-TARGETDURATION:{target}", "#EXT-X-MEDIA-SEQUENCE:0",
                "#EXT-X-PLAYLIST-TYPE:VOD", "#EXT-X-INDEPENDENT-SEGMENTS"]
        (work / f"{stem}.m3u8").write_text("\n".join(head + lines + ["#EXT-X-ENDLIST", ""]))
        previous = playlist_segment(vod / f"{stem}.m3u8")
        os.replace(work / segment, vod / segment)
        os.replace(work / f"{stem}.m3u8", vod / f"{stem}.m3u8")  # last: it refers to a whole TS
    finally:
        shutil.rmtree(work, ignore_errors=True)
    own = re.compile(rf"{re.escape(stem)}(_[0-9a-f]{{8}})?\.ts")
    for old in vod.glob(f"{glob_escape(stem)}*.ts"):
        if own.fullmatch(old.name) and old.name not in (segment, previous):
            old.unlink(missing_ok=True)
    return vod / f"{stem}.m3u8"


def join_files(vod: Path, stem: str) -> list[Path]:
    """The files a join of ``stem`` keeps besides ``{stem}.mp4``/``.m3u8``: its TS files, its
    failure count and its lock (account deletion removes them with the replay)."""
    own = re.compile(rf"{re.escape(stem)}_[0-9a-f]{{8}}\.ts")
    found = [p for p in vod.glob(f"{glob_escape(stem)}_*.ts") if own.fullmatch(p.name)]
    return found + [p for p in (vod / f"{stem}{FAILED_SUFFIX}", vod / f".{stem}.lock") if p.exists()]


def glob_escape(text: str) -> str:
    """``text`` with glob's special characters taken literally."""
    return re.sub(r"([*?\[])", r"[\1]", text)


def stitch(anchor: Recording, mixes: list[Recording], hls: bool = True) -> Stitched | None:
    """Write the replay of ``anchor`` with the overlapping ``mixes`` (see the module docstring;
    the HLS copy only with ``hls``, ``[live] hls_replays``); None when no mix overlaps it. Raises
    :class:`CannotStitch` when it cannot be joined."""
    parts = plan(anchor, mixes)
    if not parts:
        return None
    stem = anchor.mp4.stem + MIXED_SUFFIX
    mp4 = anchor.mp4.with_name(stem + ".mp4")
    with join_lock(mp4.parent, stem):
        starts = _write_mp4(anchor.mp4, parts, mp4)
        playlist = _write_hls(mp4, starts, stem) if hls else None
        return Stitched(mp4, playlist, parts, mp4.stat().st_size)


# --- the replay rows ---------------------------------------------------------------------------

class MixReplays:
    """Keeps mix recordings unlisted and the anchor's replay stitched (see the module docstring)."""

    def __init__(self, ctx: "ServerContext") -> None:
        self.ctx = ctx
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}
        self._tasks: set[asyncio.Task[bool]] = set()
        self._sweeper: asyncio.Task[int] | None = None
        self._closing = False
        ctx.replay_hiders.append(self.hide)
        ctx.events.subscribe(self.on_live_event)

    async def hide(self, ev: LiveEvent) -> bool:
        """A replay hider: a mix recording is never a replay of its own (it joins the anchor's)."""
        return is_mix_stream(self.ctx.config.live.bizid, ev.stream_id)

    def on_live_event(self, ev: LiveEvent) -> None:
        if ev.type is not LiveEventType.RECORD_DONE:
            return
        uid = userid_from_stream_id(ev.stream_id)
        bizid = self.ctx.config.live.bizid
        if uid is None or ev.stream_id not in (stream_id(bizid, uid), mix_stream_id(bizid, stream_id(bizid, uid))):
            return
        task = asyncio.create_task(self._restitch(uid, ev.start_time, ev.end_time), name=f"mix-replay-{uid}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def wait(self) -> None:
        """Until the stitching under way is done (shutdown, tests); the start-up sweep stops after
        the join it is doing."""
        self._closing = True
        if self._sweeper is not None:
            await asyncio.wait([self._sweeper])
        while self._tasks:
            await asyncio.wait(list(self._tasks))

    # --- joins a killed run left undone -----------------------------------------------------------

    def start_sweep(self) -> None:
        """Start :meth:`sweep` in the background (worker 0 only: it owns the media)."""
        cfg = self.ctx.config.mixer
        if self.ctx.worker_index == 0 and cfg.replay_sweep_days > 0 and cfg.replay_sweep_max > 0:
            self._sweeper = asyncio.create_task(self.sweep(), name="mix-replay-sweep")

    async def sweep(self) -> int:
        """Join the replays whose join a killed run left undone (see the module docstring), one
        at a time; how many were joined."""
        cfg = self.ctx.config.mixer
        try:
            todo = await asyncio.to_thread(self._unjoined, cfg.replay_sweep_days, cfg.replay_sweep_max)
        except Exception:
            log.exception("cannot look for co-hosted replays left unjoined")
            return 0
        done = 0
        for uid, file_id, start, end in todo:
            if self._closing:
                break
            log.info("replay %s: joining it with its mix (left unjoined by the previous run)", file_id)
            done += await self._restitch(uid, start, end)
        return done

    def _unjoined(self, days: float, cap: int) -> list[tuple[str, str, int, int]]:
        """(userid, file_id, start, end) of up to ``cap`` anchor replays of lives that ended in the
        last ``days`` days, newest first, that overlap mix recordings on this node but whose join
        is not finished (:meth:`_joined`)."""
        from sqlalchemy import select

        from server.db.models import Vod

        bizid = self.ctx.config.live.bizid
        since = int(time.time() - days * 86400)
        slack = 2
        out: list[tuple[str, str, int, int]] = []
        seen: set[str] = set()
        with self.ctx.db.session() as s:
            mixes = s.execute(select(Vod.stream_id, Vod.start_time, Vod.end_time)
                              .where(Vod.stream_id.startswith(f"{bizid}{MIX_MARK}_", autoescape=True),
                                     Vod.end_time >= since)
                              .order_by(Vod.end_time.desc()).limit(cap * 20)).all()
            for m_sid, m_start, m_end in mixes:
                uid = userid_from_stream_id(m_sid)
                if uid is None:
                    continue
                anchors = s.scalars(select(Vod).where(Vod.stream_id == stream_id(bizid, uid),
                                                      Vod.start_time <= m_end + slack,
                                                      Vod.end_time >= m_start - slack)).all()
                for row in anchors:
                    if row.file_id in seen:
                        continue
                    seen.add(row.file_id)
                    urls = s.scalars(select(Vod.play_url).where(Vod.stream_id == m_sid,
                                                                Vod.start_time <= row.end_time + slack,
                                                                Vod.end_time >= row.start_time - slack)).all()
                    # (recordings not on this node are not this node's to join: _restitch_sync)
                    paths = [p for u in urls if (p := self._path(u)) is not None]
                    own = self.ctx.config.media_dir / "vod" / f"{row.file_id}.mp4"
                    if paths and own.is_file() and not self._joined(row, paths) \
                            and not self._given_up(row.file_id, [own, *paths]):
                        out.append((uid, row.file_id, row.start_time, row.end_time))
                        if len(out) >= cap:
                            return out
        return out

    def _joined(self, row: Any, mixes: list[Path]) -> bool:
        """Whether ``row``'s replay is the finished join of its recording with ``mixes``: it points
        at ``{file_id}_mixed.mp4`` (and ``.m3u8`` with ``[live] hls_replays``) of the size it
        records, written after every recording it joins (the HLS copy after the MP4 and its TS)."""
        cfg = self.ctx.config
        vod, base = cfg.media_dir / "vod", f"{cfg.http_base}/vod/"
        stem = f"{row.file_id}{MIXED_SUFFIX}"
        if row.play_url != f"{base}{stem}.mp4":
            return False
        try:
            mp4 = (vod / f"{stem}.mp4").stat()
            if mp4.st_size != row.file_size:
                return False
            if any(p.stat().st_mtime_ns > mp4.st_mtime_ns for p in [vod / f"{row.file_id}.mp4", *mixes]):
                return False
            if cfg.live.hls_replays:
                if row.hls_play_url != f"{base}{stem}.m3u8":
                    return False
                segment = playlist_segment(vod / f"{stem}.m3u8")
                if segment is None:
                    return False
                m3u8, ts = (vod / f"{stem}.m3u8").stat(), (vod / segment).stat()
                if m3u8.st_mtime_ns < max(ts.st_mtime_ns, mp4.st_mtime_ns):
                    return False
        except OSError:
            return False
        return True

    # --- joins that keep failing -------------------------------------------------------------------

    def _failed_path(self, file_id: str) -> Path:
        return self.ctx.config.media_dir / "vod" / f"{file_id}{MIXED_SUFFIX}{FAILED_SUFFIX}"

    def _failures(self, file_id: str) -> int:
        try:
            return int(json.loads(self._failed_path(file_id).read_text())["count"])
        except (OSError, ValueError, KeyError, TypeError):
            return 0

    def _given_up(self, file_id: str, inputs: list[Path]) -> bool:
        """Whether the join of ``file_id`` failed ``MAX_JOIN_FAILURES`` times since its recordings
        (``inputs``) last changed: the start-up sweep no longer tries it."""
        if self._failures(file_id) < MAX_JOIN_FAILURES:
            return False
        try:
            noted = self._failed_path(file_id).stat().st_mtime_ns
            return all(p.stat().st_mtime_ns <= noted for p in inputs)
        except OSError:
            return False

    def _note_failure(self, file_id: str, error: str) -> None:
        """Count a failed join of ``file_id``; the WARNING when the sweep gives up on it. Under the
        join's lock: workers failing the same join at once each add their failure (a read and
        write of the count outside it lost one of them)."""
        path = self._failed_path(file_id)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        try:
            with join_lock(path.parent, file_id + MIXED_SUFFIX):
                count = self._failures(file_id) + 1
                tmp.write_text(json.dumps({"count": count, "error": error[:500], "time": int(time.time())}))
                os.replace(tmp, path)
        except OSError as e:
            log.warning("replay %s: cannot record its failed join: %s", file_id, e)
            tmp.unlink(missing_ok=True)
            return
        if count == MAX_JOIN_FAILURES:
            log.warning("replay %s: joining it with its mix failed %d times (last: %s); not retried at start-up "
                        "until one of its recordings changes: it shows the anchor's own stream", file_id, count,
                        error)

    def _note_success(self, file_id: str) -> None:
        self._failed_path(file_id).unlink(missing_ok=True)

    # --- stitching --------------------------------------------------------------------------------

    async def _restitch(self, uid: str, start: int, end: int) -> bool:
        if self.ctx.config.debug.mix_join_delay > 0:
            await asyncio.sleep(self.ctx.config.debug.mix_join_delay)
        lock, users = self._locks.get(uid, (asyncio.Lock(), 0))
        self._locks[uid] = (lock, users + 1)  # one stitch of an anchor's replays at a time
        try:
            async with lock:
                changed = await asyncio.to_thread(self._restitch_sync, uid, start, end)
        except Exception:
            log.exception("replay of %s's co-hosted live not stitched", uid)
            changed = False
        finally:
            lock, users = self._locks[uid]
            if users > 1:
                self._locks[uid] = (lock, users - 1)
            else:
                del self._locks[uid]
        if changed:
            from server.api.list_cache import replays_changed

            replays_changed(self.ctx)
        return changed

    def _path(self, url: str) -> Path | None:
        base = f"{self.ctx.config.http_base}/vod/"
        name = url[len(base):] if url.startswith(base) else ""
        if not re.fullmatch(r"[0-9A-Za-z_]{1,80}\.mp4", name):
            return None
        path = self.ctx.config.media_dir / "vod" / name
        return path if path.is_file() else None

    def _restitch_sync(self, uid: str, start: int, end: int) -> bool:
        """Stitch every replay of ``uid`` that overlaps [start, end] with the mix recordings that
        overlap it. True when a row changed."""
        from sqlalchemy import select

        from server.db.models import Vod

        bizid = self.ctx.config.live.bizid
        own = stream_id(bizid, uid)
        mix = mix_stream_id(bizid, own)
        slack = 2  # recordings' start/end are whole seconds
        with self.ctx.db.session() as s:
            anchors = s.scalars(select(Vod).where(Vod.stream_id == own, Vod.start_time <= end + slack,
                                                  Vod.end_time >= start - slack)).all()
            jobs = []
            for row in anchors:
                mixes = s.scalars(select(Vod).where(Vod.stream_id == mix, Vod.start_time <= row.end_time + slack,
                                                    Vod.end_time >= row.start_time - slack)
                                  .order_by(Vod.start_time)).all()
                if mixes:
                    jobs.append((row.file_id, row.start_time, [(m.play_url, m.start_time) for m in mixes]))
        changed = False
        for file_id, a_start, mix_rows in jobs:
            a_mp4 = self.ctx.config.media_dir / "vod" / f"{file_id}.mp4"
            found = [Recording(p, read_start(p.with_suffix(START_SUFFIX), float(t))) for url, t in mix_rows
                     if (p := self._path(url)) is not None]
            if not a_mp4.is_file() or not found:
                log.warning("replay %s not stitched with its mix: recordings not on this node", file_id)
                continue
            t0 = time.monotonic()
            try:
                res = stitch(Recording(a_mp4, read_start(a_mp4.with_suffix(START_SUFFIX), float(a_start))), found,
                             hls=self.ctx.config.live.hls_replays)
            except (CannotStitch, av.error.FFmpegError, OSError, ValueError) as e:
                log.warning("replay %s not stitched with its mix (%s): it shows the anchor's own stream",
                            file_id, e)
                self._note_failure(file_id, str(e) or type(e).__name__)
                continue
            except Exception as e:  # a bug: this replay only, and counted like any failure
                log.exception("replay %s not stitched with its mix: it shows the anchor's own stream", file_id)
                self._note_failure(file_id, f"{type(e).__name__}: {e}")
                continue
            self._note_success(file_id)
            if res is None:
                continue
            base = f"{self.ctx.config.http_base}/vod/"
            with self.ctx.db.session() as s:
                vod = s.scalars(select(Vod).where(Vod.file_id == file_id)).first()
                if vod is None:
                    continue
                vod.play_url = base + res.mp4.name
                vod.hls_play_url = base + res.hls.name if res.hls is not None else ""
                try:  # the file now in place (a later join in another worker may have replaced it)
                    vod.file_size = res.mp4.stat().st_size
                except OSError:
                    vod.file_size = res.file_size
            mixed = sum(p.end - p.begin for p in res.parts if p.mixed)
            log.info("replay %s joined with its mix: %d parts, %.1f s from the mix (%.1f s)", file_id,
                     len(res.parts), mixed, time.monotonic() - t0)
            changed = True
        return changed
