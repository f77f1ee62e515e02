"""Audio sources and the mixer: microphone (sounddevice), background music file, test tone.

Every source has ``read(n) -> np.ndarray | None``: ``(n, 2)`` float32 samples in -1..1 at
:data:`SAMPLE_RATE` (``None`` once it has ended). The :class:`AudioMixer` is pulled by the
publisher's audio thread at the pipeline clock's pace, so live sources (the microphone) are read
from a bounded ring buffer filled by their device callback, and file sources decode on demand.
"""

from __future__ import annotations

import logging
import math
import threading
from collections import deque

import numpy as np

from app.capture import CaptureError, open_media_track

log = logging.getLogger(__name__)

SAMPLE_RATE = 48000
CHANNELS = 2


class LevelMeter:
    """Peak (held, falling at ``DECAY_DB_PER_S``) and RMS (last block) level in dBFS (-100 = silence).

    The peak is a meter's, not the last block's: a reader sampling once a second (the push stats)
    or ten times a second (the GUI) sees the loudest recent sound, not whatever 21 ms block happened
    to be last. A last-block peak read -100 dB for minutes on a beeping source whose silent gaps
    kept landing on the stats tick. Decay runs on the audio's own time (block lengths), so silence
    still reads -100 within about two seconds.
    """

    DECAY_DB_PER_S = 45.0
    FLOOR_DB = -100.0

    def __init__(self, rate: int = SAMPLE_RATE) -> None:
        self.rate = rate
        self.peak_db = self.FLOOR_DB
        self.rms_db = self.FLOOR_DB

    def update(self, block: np.ndarray) -> None:
        if block.size == 0:
            return
        peak = float(np.max(np.abs(block)))
        rms = float(np.sqrt(np.mean(np.square(block, dtype=np.float64))))
        block_db = 20 * math.log10(peak) if peak > 1e-5 else self.FLOOR_DB
        held = self.peak_db - self.DECAY_DB_PER_S * len(block) / self.rate
        self.peak_db = max(block_db, held, self.FLOOR_DB)
        self.rms_db = 20 * math.log10(rms) if rms > 1e-5 else self.FLOOR_DB

    @property
    def level(self) -> float:
        """0..1 for a meter widget (-60 dBFS .. 0 dBFS on the peak)."""
        return min(1.0, max(0.0, (self.peak_db + 60.0) / 60.0))


class SilenceSource:
    """Digital silence (the stream keeps an audio track when no microphone exists)."""

    def read(self, n: int) -> np.ndarray | None:
        return np.zeros((n, CHANNELS), np.float32)

    def close(self) -> None:
        pass


class ToneSource:
    """A sine tone (default 1 kHz at -12 dBFS), optionally beeping: a test source."""

    def __init__(self, freq: float = 1000.0, amplitude: float = 0.25, beep_period: float = 0.0) -> None:
        self.freq, self.amplitude, self.beep_period = freq, amplitude, beep_period
        self._n = 0

    def read(self, n: int) -> np.ndarray | None:
        t = (self._n + np.arange(n)) / SAMPLE_RATE
        self._n += n
        wave = self.amplitude * np.sin(2 * np.pi * self.freq * t)
        if self.beep_period > 0:
            wave *= (np.mod(t, self.beep_period) < self.beep_period / 4)
        return np.repeat(wave.astype(np.float32)[:, None], CHANNELS, axis=1)

    def close(self) -> None:
        pass


def list_input_devices() -> list[dict[str, object]]:
    """sounddevice input devices (empty list when PortAudio has none or is missing)."""
    try:
        import sounddevice as sd

        return [dict(d) for d in sd.query_devices() if int(d.get("max_input_channels", 0)) > 0]
    except Exception as exc:  # noqa: BLE001  (PortAudio missing or broken: no devices)
        log.warning("cannot list audio devices: %s", exc)
        return []



def list_output_devices() -> list[dict[str, object]]:
    """sounddevice output devices (empty list when PortAudio has none or is missing)."""
    try:
        import sounddevice as sd

        return [dict(d) for d in sd.query_devices() if int(d.get("max_output_channels", 0)) > 0]
    except Exception as exc:  # noqa: BLE001  (PortAudio missing or broken: no devices)
        log.warning("cannot list audio devices: %s", exc)
        return []

class MicSource:
    """Microphone via sounddevice; the device callback fills a ring buffer of at most ``max_s``.

    An overrun drops the oldest audio (counted in ``overruns``); an underrun pads with silence.
    Raises :class:`CaptureError` ``no_microphone`` when there is no input device.
    """

    def __init__(self, device: int | str | None = None, max_s: float = 0.5, blocksize: int = 480) -> None:
        try:
            import sounddevice as sd
        except Exception as exc:
            raise CaptureError("no_microphone", f"audio system unavailable: {exc}") from exc
        if not list_input_devices():
            raise CaptureError("no_microphone", "no microphone found on this computer")
        self.meter = LevelMeter()
        self.overruns = 0
        self._chunks: deque[np.ndarray] = deque()
        self._buffered = 0
        self._max = int(max_s * SAMPLE_RATE)
        self._lock = threading.Lock()
        try:
            self._stream = sd.InputStream(samplerate=SAMPLE_RATE, channels=CHANNELS, dtype="float32",
                                          device=device, blocksize=blocksize, callback=self._callback)
            self._stream.start()
        except Exception as exc:
            raise CaptureError("no_microphone", f"cannot open microphone {device!r}: {exc}") from exc

    def _callback(self, indata: np.ndarray, frames: int, time_info: object, status: object) -> None:
        block = indata.copy()
        self.meter.update(block)
        with self._lock:
            self._chunks.append(block)
            self._buffered += len(block)
            while self._buffered > self._max and self._chunks:
                self._buffered -= len(self._chunks.popleft())
                self.overruns += 1

    def read(self, n: int) -> np.ndarray | None:
        out = np.zeros((n, CHANNELS), np.float32)
        filled = 0
        with self._lock:
            while filled < n and self._chunks:
                chunk = self._chunks[0]
                take = min(n - filled, len(chunk))
                out[filled:filled + take] = chunk[:take]
                filled += take
                if take == len(chunk):
                    self._chunks.popleft()
                else:
                    self._chunks[0] = chunk[take:]
                self._buffered -= take
        return out

    def close(self) -> None:
        try:
            self._stream.stop()
            self._stream.close()
        except Exception as exc:  # noqa: BLE001  (device already gone)
            log.debug("closing microphone: %s", exc)


class MusicSource:
    """Background music decoded from a local file, with play/pause/stop and looping.

    Before :meth:`play` and while paused or stopped it yields silence (the stream keeps running);
    ``stop`` rewinds. ``state`` is ``"stopped"``, ``"playing"`` or ``"paused"``.
    """

    def __init__(self, path: str, loop: bool = False) -> None:
        import av

        self.path, self.loop = path, loop
        self._container, self._stream = open_media_track(path, "audio", "music")
        self.duration = float(self._container.duration or 0) / 1_000_000
        self._resampler = av.AudioResampler(format="flt", layout="stereo", rate=SAMPLE_RATE)
        self._frames = self._container.decode(self._stream)
        self._pending = np.zeros((0, CHANNELS), np.float32)
        self._lock = threading.Lock()
        self.state = "stopped"
        self.position = 0.0  # seconds played

    def play(self) -> None:
        self.state = "playing"

    def pause(self) -> None:
        if self.state == "playing":
            self.state = "paused"

    def stop(self) -> None:
        with self._lock:
            self.state = "stopped"
            self._rewind()

    def _rewind(self) -> None:
        self._container.seek(0)
        self._frames = self._container.decode(self._stream)
        self._pending = np.zeros((0, CHANNELS), np.float32)
        self.position = 0.0

    def _decode_more(self) -> bool:
        import av

        try:
            frame = next(self._frames)
        except StopIteration:
            for f in self._resampler.resample(None):
                self._pending = np.concatenate([self._pending, f.to_ndarray().reshape(-1, CHANNELS)])
            return False
        except av.FFmpegError as exc:  # damaged packet: skip it
            log.warning("music decode error in %s: %s", self.path, exc)
            return True
        for f in self._resampler.resample(frame):
            self._pending = np.concatenate([self._pending, f.to_ndarray().reshape(-1, CHANNELS)])
        return True

    def read(self, n: int) -> np.ndarray | None:
        with self._lock:
            if self.state != "playing":
                return np.zeros((n, CHANNELS), np.float32)
            while len(self._pending) < n:
                if not self._decode_more():
                    if self.loop:
                        self._rewind()
                        self._resampler = type(self._resampler)(format="flt", layout="stereo",
                                                                rate=SAMPLE_RATE)
                        continue
                    self.state = "stopped"
                    out = np.zeros((n, CHANNELS), np.float32)
                    out[:len(self._pending)] = self._pending
                    self._rewind()
                    return out
            out, self._pending = self._pending[:n], self._pending[n:]
            self.position += n / SAMPLE_RATE
            return out

    def close(self) -> None:
        with self._lock:
            self.state = "stopped"
            self._container.close()


class AudioMixer:
    """Mixes the microphone and the background music with their volumes (0..2, 1 = unchanged).

    ``muted`` silences the microphone only (music keeps playing, like the original app). Meters:
    ``mic_meter`` (after volume) and ``meter`` (the mix that is sent). Sources may be swapped
    while streaming; a source returning ``None`` is treated as silence from then on.

    Thread use: one thread calls :meth:`read` (the pipeline's audio thread); any other thread (the
    GUI) changes sources, volumes and mute through the ``set_*`` methods, which take the mixer's
    lock, so a read always sees one consistent set of sources and volumes. The previous source
    is returned by the setters for the caller to close (off the audio thread).
    """

    def __init__(self, mic: object | None = None, music: object | None = None) -> None:
        self._lock = threading.Lock()
        self.mic = mic
        self.music = music
        self.mic_volume = 1.0
        self.music_volume = 1.0
        self.muted = False
        self.meter = LevelMeter()
        self.mic_meter = LevelMeter()

    def set_mic(self, mic: object | None) -> object | None:
        """Use ``mic`` from the next read on; returns the previous one (not closed)."""
        with self._lock:
            old, self.mic = self.mic, mic
        return old

    def set_music(self, music: object | None) -> object | None:
        """Use ``music`` from the next read on; returns the previous one (not closed)."""
        with self._lock:
            old, self.music = self.music, music
        return old

    def set_volumes(self, mic: float | None = None, music: float | None = None) -> None:
        """Change the microphone and/or music volume (0..2)."""
        with self._lock:
            if mic is not None:
                self.mic_volume = min(2.0, max(0.0, float(mic)))
            if music is not None:
                self.music_volume = min(2.0, max(0.0, float(music)))

    def set_muted(self, muted: bool) -> None:
        with self._lock:
            self.muted = bool(muted)

    def read(self, n: int) -> np.ndarray:
        with self._lock:
            mic, music = self.mic, self.music
            mic_volume, music_volume, muted = self.mic_volume, self.music_volume, self.muted
            mix = np.zeros((n, CHANNELS), np.float32)
            if mic is not None:
                block = mic.read(n)  # type: ignore[attr-defined]
                if block is not None:
                    block = block * np.float32(mic_volume)
                    self.mic_meter.update(block)
                    if not muted:
                        mix += block
            if music is not None:
                block = music.read(n)  # type: ignore[attr-defined]
                if block is not None:
                    mix += block * np.float32(music_volume)
        np.clip(mix, -1.0, 1.0, out=mix)
        self.meter.update(mix)
        return mix

    def close(self) -> None:
        with self._lock:
            sources = (self.mic, self.music)
        for src in sources:
            if src is not None:
                src.close()  # type: ignore[attr-defined]


def open_microphone(device: int | str | None = None) -> tuple[object, str | None]:
    """The microphone, or silence plus a warning when there is none (the stream still has audio)."""
    try:
        return MicSource(device), None
    except CaptureError as exc:
        log.warning("%s: streaming a silent audio track", exc)
        return SilenceSource(), f"{exc}: streaming a silent audio track"
