"""The player: demux -> decode -> A/V clock -> latest frame for the view; live and replays.

Threads (one per stage, each named, all joined on stop): ``play-demux``, ``play-vdec``,
``play-adec``, ``play-present``, ``play-control`` (latency control, end detection, stats), plus
the audio output's own (PortAudio's callback or ``play-audio-null``).

Callbacks run on those threads; a UI controller re-posts them to its own thread::

    p = Player(url, PlaySettings(read_timecode=True))
    p.on_stats = lambda s: print(s.line())
    p.start()                    # opens in the background; errors arrive through on_error/on_end
    frame = p.latest_frame()     # from the view's timer: latest wins, never blocks decoding
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from app.play.audio import AudioOutput, AudioRing, open_output
from app.play.clock import MasterClock
from app.play.decode import AudioDecoder, VideoDecoder
from app.play.demux import Demuxer
from app.play.errors import EndReason, PlayCode, PlayError, PlayState
from app.play.frame import YuvFrame
from app.play.interrupt import install as interrupt_reads
from app.play.latency import HlsDrift, SlackMemory
from app.play.pipe import Callbacks, Pipe
from app.play.present import Presenter
from app.play.settings import Catchup, PlaySettings, SourceKind, buffer_targets, read_timeout, source_kind
from app.play.stats import PlayStats, StatsMeter
from protocol.signing import redact_url

log = logging.getLogger(__name__)


class Player:
    """Plays one URL (RTMP, HTTP-FLV, HLS, or a replay file over HTTP Range / local path).

    Given a list (a room's ``playURLs``: edges, then the origin) it plays the first that opens
    and fails over to the next when a live source is lost (edge down or stalled for
    ``read_timeout``); :attr:`current_url` is the one in use."""

    def __init__(self, url: str | Sequence[str], settings: PlaySettings | None = None) -> None:
        urls = [url] if isinstance(url, str) else list(url)
        if not urls:
            raise PlayError(PlayCode.BAD_ARGUMENT, "no URL to play")
        self.url = urls[0]
        self.settings = settings or PlaySettings()
        self.kind = source_kind(self.url)  # raises PlayError(BAD_ARGUMENT)
        for other in urls[1:]:
            source_kind(other)
        self.on_state: Callable[[PlayState], None] | None = None
        self.on_stats: Callable[[PlayStats], None] | None = None
        self.on_error: Callable[[int, str], None] | None = None
        self.on_end: Callable[[EndReason], None] | None = None
        self.on_frame: Callable[[YuvFrame], None] | None = None  # presenter thread; keep it cheap
        self.audio_tap: Callable[[Any, float, float], None] | None = None  # (samples, pts, t_play)
        self._state = PlayState.IDLE
        self._state_lock = threading.Lock()
        self._end_reason: EndReason | None = None
        self._ended = threading.Event()
        self._latest: YuvFrame | None = None
        self._serial = 0
        self._threads: list[threading.Thread] = []
        self._stop_lock = threading.RLock()  # a second stop() waits for the first one's release
        self._audio_out: AudioOutput | None = None
        self._underruns_closed = 0
        self._ended_epoch = -1
        self._first_frame_t = 0.0
        self._buf_hist: deque[tuple[float, float]] = deque()
        self._slack = SlackMemory()  # the audio's slack over jitter_memory s (see app.play.latency)
        self._hls_drift = HlsDrift(window=self.settings.hls_drift_window)  # HLS latency held near its start
        self._hls_url = self.url
        self._hist_epoch = -1
        self._last_tick: float | None = None
        self.last_stats: PlayStats | None = None
        self.audio_output_name = "none"
        self.stats = StatsMeter()
        self.clock = MasterClock()
        events = Callbacks(opened=self._opened, first_frame=self._first_frame,
                           reconnecting=self._reconnecting, stream_ended=self._stream_ended,
                           fatal=self._fatal, error=self._error, present=self._present)
        self.pipe = Pipe(self.url, self.kind, self.settings, self.clock, self.stats, events,
                         fq=queue.Queue(max(1, self.settings.frame_queue)), urls=urls)
        self.demuxer = Demuxer(self.pipe)

    # -- public API ----------------------------------------------------------------------------
    @property
    def state(self) -> PlayState:
        return self._state

    @property
    def current_url(self) -> str:
        """The URL playing now (after a failover: another entry of the list)."""
        return self.pipe.url

    @property
    def failovers(self) -> int:
        return self.pipe.switches

    @property
    def is_live(self) -> bool:
        return self.pipe.live

    @property
    def duration(self) -> float | None:
        """Seconds (replays); None for live."""
        return self.pipe.duration

    @property
    def position(self) -> float | None:
        """Media time now playing, in seconds from the start (replays) or the join (live)."""
        return self.clock.now()

    @property
    def frame_serial(self) -> int:
        """Bumped for every presented frame: a view repaints when it changes."""
        return self._serial

    @property
    def audio_underruns(self) -> int:
        """Blocks the audio output had to fill with silence (stutters) since it opened."""
        out = self._audio_out
        return out.underruns if out is not None else self._underruns_closed

    @property
    def audio_output_latency(self) -> float | None:
        """Seconds the audio output holds between the ring and the ear (None without audio)."""
        out = self._audio_out
        return out.latency if out is not None else None

    @property
    def end_reason(self) -> EndReason | None:
        return self._end_reason

    def latest_frame(self) -> YuvFrame | None:
        """The frame due now (latest wins). Never blocks; None before the first frame."""
        return self._latest

    def open(self) -> None:
        """Connect and probe now, in the calling thread. Raises :class:`PlayError`.

        Optional: :meth:`start` opens in the background when this was not called.
        """
        self.stats.t_start = time.monotonic()
        self._set_state(PlayState.OPENING)
        for _ in range(len(self.pipe.urls) - 1):
            try:
                self.demuxer.open()
                return
            except PlayError as exc:
                log.info("open failed (%s): trying the next URL", exc.text)
                self.pipe.next_url()
        self.demuxer.open()

    def start(self) -> None:
        """Start playing (opening first in the background if :meth:`open` was not called)."""
        if self._threads:
            return  # idempotent: the CLI and a play window may both call it
        if self.demuxer.container is None:
            self.stats.t_start = time.monotonic()  # first-frame time counts from here
            self._set_state(PlayState.OPENING)
        for name, target in (("play-demux", self.demuxer.run),
                             ("play-vdec", VideoDecoder(self.pipe).run),
                             ("play-adec", AudioDecoder(self.pipe).run),
                             ("play-present", Presenter(self.pipe).run),
                             ("play-control", self._control)):
            t = threading.Thread(target=target, name=name, daemon=True)
            self._threads.append(t)
            t.start()

    def stop(self) -> None:
        """Stop and release everything (threads joined, audio device closed). Idempotent; a call
        made while another one runs returns once that one has released everything.

        A read blocked inside FFmpeg (an HLS reader waiting for the next segment, a silent
        server) is interrupted by the stop (app.play.interrupt), so this returns in a fraction of
        a second on every source."""
        self.pipe.stop.set()
        # A player thread (a callback calling stop) does not wait for a stop running elsewhere:
        # that one is joining this very thread.
        if not self._stop_lock.acquire(blocking=threading.current_thread() not in self._threads):
            return
        try:
            self._stop()
        finally:
            self._stop_lock.release()

    def _stop(self) -> None:
        me = threading.current_thread()
        # A read in progress gives up within ~0.1 s of the stop; without the interrupt (another
        # PyAV) it returns by its timeout at the latest (FFmpeg's HLS reader waits for the next
        # segment inside one read, up to hls_read_timeout).
        demux_wait = 2.0 if interrupt_reads() else max(5.0, read_timeout(self.pipe.kind, self.settings) + 1.0)
        for t in self._threads:
            if t is not me:
                t.join(demux_wait if t.name == "play-demux" else 5.0)
        if self._audio_out is not None:
            self._audio_out.close()
            self._underruns_closed = self._audio_out.underruns
            self._audio_out = None
        demux = next((t for t in self._threads if t.name == "play-demux"), None)
        if demux is None or not demux.is_alive():
            self.demuxer.close()  # else its thread closes it when the read returns (never under a read)
        elif demux is not me:
            log.warning("the demux thread did not end within %.1f s; it closes its source itself", demux_wait)
        if self._end_reason is None:
            self._finish(EndReason.STOPPED, PlayState.STOPPED)
        else:
            self._set_state(PlayState.STOPPED)

    def pause(self) -> None:
        if self._state in (PlayState.STOPPED,) or self.pipe.paused:
            return
        with self.pipe.present_lock:  # a frame the presenter is showing goes out before we return
            self.pipe.paused = True
            self.clock.set_paused(True)
        self._set_state(PlayState.PAUSED)

    def resume(self) -> None:
        if not self.pipe.paused:
            return
        self.pipe.paused = False
        self.clock.set_paused(False)
        self._set_state(PlayState.PLAYING)

    def seek(self, seconds: float) -> None:
        """Replays: go to ``seconds`` (nearest keyframe before it, then decode forward to it)."""
        if self.pipe.live:
            raise PlayError(PlayCode.SEEK_FAILED, "a live stream cannot seek")
        t = max(0.0, float(seconds))
        if self.pipe.duration:
            t = min(t, max(0.0, self.pipe.duration - 0.001))
        with self.pipe.lock:
            epoch = self.pipe.new_epoch(seek_target=t)
            self.pipe.pending_seek = (t, epoch)
        self._ended_epoch = -1
        if self._end_reason is EndReason.EOF:  # a replay seeking back from its end plays on
            self._end_reason = None
            self._ended.clear()
        if not self.pipe.paused:
            self._set_state(PlayState.BUFFERING)

    def set_volume(self, volume: float) -> None:
        if self._audio_out is not None:
            self._audio_out.volume = max(0.0, min(2.0, volume))

    def wait(self, timeout: float | None = None) -> EndReason | None:
        """Block until playback ends (or ``timeout``); returns the reason, or None on timeout."""
        self._ended.wait(timeout)
        return self._end_reason

    def __enter__(self) -> "Player":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- stage events --------------------------------------------------------------------------
    def _opened(self) -> None:
        p, s = self.pipe, self.settings
        if p.has_audio and self._audio_out is None:
            target, mx = buffer_targets(self.kind, s)
            cap = (mx + 0.5) if p.live else s.vod_readahead
            gate = min(max(0.02, target, s.audio_margin), 0.2) if p.live else s.vod_prebuffer
            ring = AudioRing(s.audio_rate, s.audio_channels, cap)
            ring.reset(p.epoch)
            out, why = open_output(s.audio_output, ring, s.audio_block, gate, s.audio_device,
                                   s.null_output_latency)
            if why and s.audio_output == "device":
                self._error(PlayCode.AUDIO_DEVICE, why)
            out.grace = s.live_audio_grace if p.live else s.vod_audio_grace
            out.tap = self.audio_tap
            out.volume = s.volume
            if out.name == "null":
                out.start()
            self._audio_out, p.ring = out, ring
            self.audio_output_name = out.name
            self.clock.audio = out
            out.resync = self.clock.system_now
        elif p.ring is not None:
            p.ring.reset(p.epoch)
        self.clock.audio = self._audio_out if p.has_audio else None
        if p.live:
            target, mx = buffer_targets(self.kind, s)
            if p.ring is not None:
                p.ring.set_capacity(mx + 0.5)
        if self._state in (PlayState.OPENING, PlayState.RECONNECTING):
            self._set_state(PlayState.BUFFERING)

    def _first_frame(self, epoch: int) -> None:
        self._first_frame_t = time.monotonic()
        if self._state in (PlayState.BUFFERING, PlayState.OPENING, PlayState.RECONNECTING):
            self._set_state(PlayState.PAUSED if self.pipe.paused else PlayState.PLAYING)

    def _present(self, frame: YuvFrame) -> None:
        self._latest = frame
        self._serial += 1
        cb = self.on_frame
        if cb is not None:
            try:
                cb(frame)
            except Exception:
                log.exception("on_frame callback failed")

    def _reconnecting(self, why: str) -> None:
        self.stats.reconnects += 1
        self._set_state(PlayState.RECONNECTING)

    def _stream_ended(self) -> None:
        self._finish(EndReason.STREAM_ENDED, PlayState.ENDED)
        self.pipe.stop.set()

    def _fatal(self, code: int, text: str) -> None:
        self._error(code, text)
        self._finish(EndReason.ERROR, PlayState.ENDED)
        self.pipe.stop.set()

    def _error(self, code: int, text: str) -> None:
        text = redact_url(text)  # a source URL in an error text may carry a signature
        log.info("play error %s: %s", int(code), text)
        self._call(self.on_error, int(code), text)

    # -- control thread ------------------------------------------------------------------------
    def _control(self) -> None:
        p = self.pipe
        next_stats = time.monotonic() + self.settings.stats_interval
        while not p.stop.wait(0.05):
            try:
                if (not p.has_video and self._state is PlayState.BUFFERING
                        and self.clock.audio_master()):
                    self._first_frame(p.epoch)  # audio only: playing once the sound runs
                self._latency_control()
                self._check_eof()
                if time.monotonic() >= next_stats:
                    next_stats += self.settings.stats_interval
                    self.last_stats = self._sample()
                    self._call(self.on_stats, self.last_stats)
            except Exception:
                log.exception("control loop")

    def buffer(self) -> float | None:
        """Seconds of media received but not yet played: from the media time being heard/shown
        to the end (pts + duration) of the newest packet of the laggiest stream."""
        now = self.clock.now()
        latest = self.pipe.buffered_end()
        if latest is None or now is None:
            return None
        return max(0.0, latest - now)

    def _slack_low(self) -> float | None:
        """The audio's slack (how much later it could have come without an underrun) at its low
        point since the last control tick; None unless the audio drives the clock."""
        out = self._audio_out
        if out is None:
            return None
        low = out.take_slack_low()
        return low if self.clock.audio_master() else None

    def _latency_control(self) -> None:
        """Hold the live latency as low as the arrival jitter allows, without gaps in the sound.

        With audio driving the clock the figure is the audio's slack (how much later each decoded
        packet could have come without an underrun) at its low point over the last
        ``jitter_memory`` s, kept in [audio_margin, audio_margin + margin_band]: under it the audio
        is stretched (``slowdown_speed``) until the slack is back, over it the audio is sped up
        (``catchup_speed``). The low point carries the arrival jitter, so the latency follows the
        jitter. Video only, the buffer of the stream's low point over the last second is held in
        [target, target + speed_above]. Past the maximum buffer the clock jumps. HLS (segments,
        a sawtooth buffer) holds its latency near where it started instead (:class:`HlsDrift`).
        """
        p, s = self.pipe, self.settings
        if not p.live or p.paused or s.catchup is Catchup.OFF or self._state is not PlayState.PLAYING:
            self._last_tick = None
            return
        buf = self.buffer()
        if buf is None:
            return
        slack = self._slack_low()
        now = time.monotonic()
        hist, mem = self._buf_hist, self._slack
        if self._hist_epoch != p.epoch:  # a reconnect starts a new history
            self._hist_epoch = p.epoch
            hist.clear()
            mem.clear()
            if p.url != self._hls_url:  # a failover: another server's time
                self._hls_url = p.url
                self._hls_drift.forget(now)
            else:  # the same playlist: its time goes on, and the latency to hold with it
                self._hls_drift.reset(now)
        speed = self.clock.speed
        if self._last_tick is not None:  # the latency moved with the speed, and every slack with it
            mem.shift((1.0 - speed) * (now - self._last_tick))
        self._last_tick = now
        if slack is not None:
            mem.add(now, slack)
        mem.trim(now - s.jitter_memory)
        hist.append((now, buf))
        while hist and hist[0][0] < now - 1.0:
            hist.popleft()
        low = min(h[1] for h in hist)
        target, mx = buffer_targets(self.kind, s)
        # Just after a join (a GOP cache hands us up to a GOP of the past at once) go straight to
        # the target rather than speeding for seconds.
        joining = now - self._first_frame_t < 2.0 and self.kind is not SourceKind.HLS
        if joining and buf > target + 0.15 and s.catchup is not Catchup.SPEED:
            mx = target + 0.15
        drop = s.catchup in (Catchup.DROP, Catchup.SPEED_AND_DROP)
        if buf > mx and drop:
            latest = p.buffered_end()
            if latest is not None:
                log.debug("buffer %.3f s over %.3f s: jumping", buf, mx)
                self._jump(latest - target)
            return
        if self.kind is SourceKind.HLS:  # the latency itself, not the buffer (see HlsDrift)
            pos, end, offset = self.clock.now(), p.buffered_end(), p.offset
            if pos is None or end is None or offset is None:
                return
            want, ahead = self._hls_drift.update(now, pos + offset, end + offset, speed, s.catchup_speed,
                                                 s.slowdown_speed)
            if ahead > 0 and drop:
                log.debug("HLS latency %.3f s over its target: jumping ahead", ahead)
                self._jump(pos + ahead)
            elif s.catchup in (Catchup.SPEED, Catchup.SPEED_AND_DROP) and want != speed:
                self.clock.set_speed(want)
            return
        if s.catchup not in (Catchup.SPEED, Catchup.SPEED_AND_DROP):
            return
        full = now - hist[0][0] > 0.9
        alow = mem.low() if self.clock.audio_master() else None
        slow_ok = s.slowdown_speed < 1.0
        if alow is not None:
            if speed < 1.0:
                want = s.slowdown_speed if alow < s.audio_margin else 1.0
            elif speed > 1.0:
                want = s.catchup_speed if (buf > mx or (alow > s.audio_margin + s.margin_band / 2
                                                        and buf > target + 0.01)) else 1.0
            elif slow_ok and alow < s.audio_margin - s.slow_below:
                want = s.slowdown_speed  # the jitter grew: make room before an underrun does
            elif full and (buf > mx or (alow > s.audio_margin + s.margin_band and low > target)):
                want = s.catchup_speed
            else:
                want = 1.0
        else:  # video only (or the audio is not flowing): the buffer
            if speed > 1.0:
                want = s.catchup_speed if buf > target + 0.01 else 1.0
            elif full and (low > target + s.speed_above or buf > mx):
                want = s.catchup_speed
            else:
                want = 1.0
        if want != speed:
            self.clock.set_speed(want)

    def _jump(self, to: float) -> None:
        """Live catch-up: move the clock to ``to`` (media s), at most where the audio still has
        its margin (the audio is the laggier stream); frames before it are dropped."""
        p, s = self.pipe, self.settings
        out = self._audio_out
        if out is not None and p.latest_audio is not None and self.clock.audio_master():
            block = out.block_frames / out.rate
            to = min(to, p.latest_audio - out.latency - block - s.audio_margin)
        self.clock.jump(to)
        self.stats.catchups += 1
        self.clock.set_speed(1.0)
        self._buf_hist.clear()
        self._slack.clear()

    def _check_eof(self) -> None:
        p = self.pipe
        if p.live or self._state in (PlayState.ENDED, PlayState.STOPPED, PlayState.OPENING):
            return
        epoch = p.epoch
        if self._ended_epoch == epoch:
            return
        video_done = not p.has_video or p.video_done == epoch
        audio_done = not p.has_audio or p.ring is None or p.ring.drained()
        if video_done and audio_done and (p.has_video or p.has_audio):
            self._ended_epoch = epoch
            self._finish(EndReason.EOF, PlayState.ENDED)

    def _sample(self) -> PlayStats:
        buf = self.buffer()
        return self.stats.sample(
            state=self._state.value, buffer_ms=None if buf is None else buf * 1000,
            position=self.clock.now(), duration=self.pipe.duration, speed=self.clock.speed,
            width=self.pipe.width, height=self.pipe.height, audio_output=self.audio_output_name)

    # -- helpers -------------------------------------------------------------------------------
    def _set_state(self, state: PlayState) -> None:
        with self._state_lock:
            if state is self._state:
                return
            self._state = state
        self._call(self.on_state, state)

    def _finish(self, reason: EndReason, state: PlayState) -> None:
        with self._state_lock:
            if self._end_reason is not None:
                return
            self._end_reason = reason
        self._set_state(state)
        self._ended.set()
        self._call(self.on_end, reason)

    @staticmethod
    def _call(cb: Callable | None, *args: object) -> None:
        if cb is None:
            return
        try:
            cb(*args)
        except Exception:
            log.exception("player callback failed")
