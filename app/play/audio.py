"""Audio side of the player: a bounded sample ring, the output (sounddevice or null) and its clock.

The output is the master clock when a stream has audio: ``now_pts()`` is the media time of the
sample being heard (for the null output, the sample being consumed in real time).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable

import numpy as np

log = logging.getLogger(__name__)

Tap = Callable[[np.ndarray, float, float], None]  # (samples (n, ch), pts, monotonic play time)


class AudioRing:
    """Decoded samples (float32, interleaved ``(n, channels)``) with their media time.

    Bounded: a blocking writer waits for room (replays); a non-blocking one (live) drops the
    oldest samples past ``capacity`` and counts them. ``reset(epoch)`` empties it for a
    seek/reconnect; writes from an older epoch are refused.
    """

    def __init__(self, rate: int, channels: int, capacity: float) -> None:
        self.rate = rate
        self.channels = channels
        self.capacity = int(capacity * rate)
        self._chunks: deque[list] = deque()  # [pts of first remaining sample, array]
        self._n = 0
        self._cond = threading.Condition()
        self.epoch = 0
        self.eof = False
        self.dropped_samples = 0

    def reset(self, epoch: int) -> None:
        with self._cond:
            self._chunks.clear()
            self._n = 0
            self.epoch = epoch
            self.eof = False
            self._cond.notify_all()

    def set_capacity(self, seconds: float) -> None:
        with self._cond:
            self.capacity = int(seconds * self.rate)
            self._cond.notify_all()

    def write(self, epoch: int, pts: float, data: np.ndarray, block: bool,
              stop: threading.Event) -> bool:
        """Queue ``data`` starting at ``pts``. False when the epoch moved on (data discarded)."""
        n = len(data)
        with self._cond:
            while block and self._n + n > self.capacity and self._n > 0 and epoch == self.epoch:
                if stop.is_set():
                    return False
                self._cond.wait(0.1)
            if epoch != self.epoch:
                return False
            if self._chunks:  # drop an overlap with what is queued (pts going backwards)
                last_pts, last = self._chunks[-1]
                end = last_pts + len(last) / self.rate
                cut = int(round((end - pts) * self.rate))
                if 0 < cut < n and cut > 1:
                    data, pts, n = data[cut:], pts + cut / self.rate, n - cut
                elif cut >= n:
                    return True
            self._chunks.append([pts, data])
            self._n += n
            while self._n > self.capacity * 2 and len(self._chunks) > 1:  # live hard cap
                _, old = self._chunks.popleft()
                self._n -= len(old)
                self.dropped_samples += len(old)
            self._cond.notify_all()
        return True

    def mark_eof(self, epoch: int) -> None:
        with self._cond:
            if epoch == self.epoch:
                self.eof = True
                self._cond.notify_all()

    def queued(self) -> float:
        """Seconds of audio queued."""
        return self._n / self.rate

    def head_pts(self) -> float | None:
        with self._cond:
            return self._chunks[0][0] if self._chunks else None

    def tail_pts(self) -> float | None:
        with self._cond:
            if not self._chunks:
                return None
            pts, arr = self._chunks[-1]
            return pts + len(arr) / self.rate

    def drained(self) -> bool:
        return self.eof and self._n == 0

    def drop_until(self, pts: float) -> int:
        """Discard samples before ``pts``; returns how many."""
        dropped = 0
        with self._cond:
            while self._chunks:
                cpts, arr = self._chunks[0]
                k = int(round((pts - cpts) * self.rate))
                if k <= 0:
                    break
                if k >= len(arr):
                    self._chunks.popleft()
                    dropped += len(arr)
                    continue
                self._chunks[0] = [cpts + k / self.rate, arr[k:]]
                dropped += k
                break
            self._n -= dropped
            self._cond.notify_all()
        return dropped

    def read(self, n: int, speed: float = 1.0) -> tuple[np.ndarray, float] | None:
        """Take samples for ``n`` output frames (``n * speed`` input frames, resampled).

        None on underrun (not enough queued); at end of stream the rest comes padded with zeros.
        """
        want = max(1, int(round(n * speed)))
        with self._cond:
            if self._n < want and not (self.eof and self._n > 0):
                return None
            pts = self._chunks[0][0]
            parts = []
            need = want
            while need > 0 and self._chunks:
                cpts, arr = self._chunks[0]
                if len(arr) <= need:
                    parts.append(arr)
                    self._chunks.popleft()
                    need -= len(arr)
                else:
                    parts.append(arr[:need])
                    self._chunks[0] = [cpts + need / self.rate, arr[need:]]
                    need = 0
            got = want - need
            self._n -= got
            self._cond.notify_all()
        data = parts[0] if len(parts) == 1 else np.concatenate(parts)
        if need:
            data = np.concatenate([data, np.zeros((need, self.channels), np.float32)])
        if want != n:
            x = np.linspace(0, want - 1, n)
            idx = np.arange(want)
            data = np.stack([np.interp(x, idx, data[:, c]) for c in range(self.channels)], axis=1)
            data = data.astype(np.float32, copy=False)
        return data, pts


class AudioOutput:
    """Pulls blocks from an :class:`AudioRing` and keeps the audio clock.

    Subclasses call :meth:`pull` from their device callback or timer with the monotonic time the
    block will be heard. Playback (re)starts after a reset only once ``gate`` seconds are queued
    (or the stream ended), so a seek does not begin with a stutter.
    """

    name = "audio"

    def __init__(self, ring: AudioRing, block: float, gate: float, grace: float = 0.25,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock  # monotonic seconds; injectable so tests need not sleep
        self.ring = ring
        self.rate = ring.rate
        self.block_frames = max(32, int(block * ring.rate))
        self.gate = gate
        self.grace = grace
        self.volume = 1.0
        self.speed = 1.0
        self.tap: Tap | None = None
        self.resync: Callable[[], float | None] | None = None  # master time to rejoin after a gap
        self._lock = threading.Lock()
        self._paused = False
        self._started = False
        self._clk: tuple[float, float, float, float] | None = None  # pts, t_play, span, speed
        self._frozen: float | None = None
        self._last_data = 0.0
        self.underruns = 0
        self._slack_low: float | None = None  # see take_slack_low()
        self._last_pull: float | None = None  # monotonic time of the latest pull of real samples
        # s from pulling a block out of the ring to hearing its first sample (the output's own
        # buffering). Media between the ring and the ear counts in the player's buffer.
        self.latency = 0.0

    # -- control -------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the device/timer."""

    def close(self) -> None:
        """Stop the device/timer."""

    def reset(self) -> None:
        """Forget the clock (after a seek or reconnect; the ring is reset by the caller)."""
        with self._lock:
            self._started = False
            self._clk = None
            self._frozen = None
            self._last_data = 0.0
            self._last_pull = None
            self._slack_low = None

    def set_paused(self, paused: bool) -> None:
        with self._lock:
            if paused and not self._paused:
                self._frozen = self._now_locked(self.clock())
            elif not paused and self._paused:
                mono = self.clock()
                if self._frozen is not None and self._clk is not None:
                    self._clk = (self._frozen, mono, 0.0, 1.0)  # hold until the next block plays
                    self._last_data = mono
                self._frozen = None
            self._paused = paused

    # -- clock ---------------------------------------------------------------------------------
    def now_pts(self, mono: float | None = None) -> float | None:
        with self._lock:
            return self._now_locked(self.clock() if mono is None else mono)

    def _now_locked(self, mono: float) -> float | None:
        if self._frozen is not None:
            return self._frozen
        if self._clk is None:
            return None
        pts, t_play, span, speed = self._clk
        el = (mono - t_play) * speed
        return pts + min(el, span)

    def active(self, mono: float | None = None) -> bool:
        """True while real samples were played within the grace period (the clock is trustworthy)."""
        mono = self.clock() if mono is None else mono
        return self._clk is not None and (self._paused or mono - self._last_data < self.grace)

    def note_arrival(self, queued_before: float) -> None:
        """Called as decoded audio reaches the ring, with the seconds queued just before it.

        Works out its slack: how much later it could have come without an underrun, i.e. the
        time until the first pull that would have found less than a block. Exact whatever the
        phase between the output's blocks and the stream's packets (a 10 ms block against a
        21.3 ms AAC frame), which a look at the queue at some moment is not.
        """
        last = self._last_pull
        if last is None or not self._started or self._paused:
            return
        mono = self.clock()
        dur = self.block_frames / self.rate
        per_pull = dur * self.speed  # media taken by each pull
        phase = max(0.0, last + dur - mono)  # until the next pull
        self._note_slack(phase + int(max(0.0, queued_before) / per_pull) * dur)

    def _note_slack(self, slack: float) -> None:
        low = self._slack_low
        self._slack_low = slack if low is None or slack < low else low

    def take_slack_low(self) -> float | None:
        """The least slack (s) of the audio that arrived since the last call (negative after an
        underrun), or None when none arrived. The latency controller keeps it just above zero:
        every ms above it is a ms of latency, every ms under it a gap in the sound."""
        low, self._slack_low = self._slack_low, None
        return low

    # -- data ----------------------------------------------------------------------------------
    def pull(self, n: int, t_play: float) -> np.ndarray:
        """The next ``n`` output frames; silence when paused, gated or underrun."""
        ring = self.ring
        if self._paused:
            return np.zeros((n, ring.channels), np.float32)
        if not self._started:
            if ring.queued() < self.gate and not ring.eof:
                return np.zeros((n, ring.channels), np.float32)
            self._started = True
        mono = self.clock()
        if self.resync is not None and self._last_data and mono - self._last_data >= self.grace:
            target = self.resync()  # the master clock ran on without us: skip what is stale
            if target is not None:
                ring.drop_until(target)
        speed = self.speed
        got = ring.read(n, speed)
        if got is None:
            self.underruns += 1
            self._note_slack(-n / self.rate)  # a packet came later than it could
            return np.zeros((n, ring.channels), np.float32)
        self._last_pull = mono
        data, pts = got
        with self._lock:
            self._clk = (pts, t_play, n * speed / self.rate, speed)
            self._last_data = mono
        if self.tap is not None:
            try:
                self.tap(data, pts, t_play)
            except Exception:  # a tap must never break playback
                log.exception("audio tap failed")
        if self.volume != 1.0:
            data = data * np.float32(self.volume)
        return data


class NullAudioOutput(AudioOutput):
    """Consumes audio in real time without a device (machines with no sound card, tests).

    Clocked like a PortAudio stream with the same block size: each block is pulled from the
    ring ``latency`` seconds (by default one block, PortAudio's double buffering) before it is
    "heard", so the buffer, the underrun margin and the A/V clock match a device's.
    """

    name = "null"

    def __init__(self, ring: AudioRing, block: float, gate: float,
                 latency: float | None = None) -> None:
        super().__init__(ring, block, gate)
        self.latency = self.block_frames / self.rate if latency is None else max(0.0, latency)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="play-audio-null", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        dur = self.block_frames / self.rate
        heard = time.monotonic() + self.latency  # when the next block starts to be heard
        while not self._stop.is_set():
            self.pull(self.block_frames, heard)
            heard += dur
            delay = heard - self.latency - time.monotonic()  # its pull is due one latency earlier
            if delay > 0:
                self._stop.wait(delay)
            elif delay < -0.2:  # we were starved of CPU: do not try to catch up in a burst
                heard = time.monotonic() + self.latency

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)


class DeviceAudioOutput(AudioOutput):
    """PortAudio output through sounddevice; the callback runs on PortAudio's thread."""

    name = "device"

    def __init__(self, ring: AudioRing, block: float, gate: float, device: int | str | None) -> None:
        super().__init__(ring, block, gate)
        import sounddevice as sd  # raises OSError when PortAudio is missing

        self._stream = sd.OutputStream(samplerate=ring.rate, channels=ring.channels, dtype="float32",
                                       blocksize=self.block_frames, latency="low", device=device,
                                       callback=self._callback)
        self.latency = float(self._stream.latency or 0.0)

    def _callback(self, outdata: np.ndarray, frames: int, time_info: object, status: object) -> None:
        now = time.monotonic()
        dac = getattr(time_info, "outputBufferDacTime", 0.0)
        cur = getattr(time_info, "currentTime", 0.0)
        delay = dac - cur if dac and cur and 0 <= dac - cur < 1.0 else self.latency
        outdata[:] = self.pull(frames, now + delay)

    def start(self) -> None:
        self._stream.start()

    def close(self) -> None:
        try:
            self._stream.stop()
        finally:
            self._stream.close()


def open_output(kind: str, ring: AudioRing, block: float, gate: float,
                device: int | str | None,
                null_latency: float | None = None) -> tuple[AudioOutput, str | None]:
    """Open the output asked for; ``auto`` falls back to the null output when there is no device.

    Returns the output and, when a fallback happened, why (for a warning or ``on_error``).
    """
    if kind == "null":
        return NullAudioOutput(ring, block, gate, null_latency), None
    try:
        out = DeviceAudioOutput(ring, block, gate, device)
        out.start()
        return out, None
    except Exception as exc:  # no PortAudio, no device, device busy, bad rate...
        reason = f"audio device unavailable ({exc}); using the null output"
        log.info(reason)
        return NullAudioOutput(ring, block, gate, null_latency), reason
