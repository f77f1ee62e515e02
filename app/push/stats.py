"""Once-a-second push statistics."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from app.capture.counters import IntervalCounters
from app.push.errors import PushState

KEYINT_WARN_S = 4.0  # same limit as the server's (server/media/relay.py KEYINT_WARN_S)


@dataclass(frozen=True)
class PushStats:
    """One stats sample. Rates are over the last interval; drop counters are totals."""

    elapsed_s: float
    state: PushState
    width: int
    height: int
    capture_fps: float
    sent_fps: float
    bitrate_kbps: float  # payload sent to the server (video + audio)
    dropped_frames: int  # all of: dropped_capture + dropped_congestion + dropped_offline
    dropped_capture: int  # raw pictures the compose/encode stages could not take in time
    dropped_congestion: int  # non-key video dropped because the network fell behind
    dropped_offline: int  # packets discarded while reconnecting
    encode_ms: float  # mean x264 time per picture
    compose_ms: float  # mean filter + colour conversion time per picture
    queue_delay_ms: float  # mean capture-to-send delay of the packets sent
    cpu_percent: float  # this process, 100 = one core
    reconnects: int
    audio_level_db: float
    recording_bytes: int
    rtt_ms: float | None = None  # TCP round trip to the server (Linux TCP_INFO), None when unknown
    keyint_s: float = 0.0  # keyframe interval of the stream sent (0 = unknown)
    encoder: str = ""  # the video encoder that runs (libx264, h264_nvenc, ...)
    #: pictures sent without the beauty filter because the machine fell behind (total; the
    #: filter is shed before any picture is dropped)
    filters_shed: int = 0
    #: every destination's own sample (the first is the main one the fields above describe)
    destinations: tuple[Any, ...] = ()

    @property
    def keyint_warning(self) -> str:
        """Why a keyframe interval above KEYINT_WARN_S hurts, or "" when it is fine."""
        if self.keyint_s <= KEYINT_WARN_S:
            return ""
        return (f"keyframe interval {self.keyint_s:.1f}s > {KEYINT_WARN_S:.0f}s: "
                f"new viewers start up to {self.keyint_s:.0f}s behind")

    def line(self) -> str:
        return (f"t={self.elapsed_s:5.1f}s {self.state.value:<12} {self.width}x{self.height} "
                f"fps={self.capture_fps:4.1f}/{self.sent_fps:4.1f} bitrate={self.bitrate_kbps:6.0f}kb/s "
                f"dropped={self.dropped_frames} (capture {self.dropped_capture}, congestion "
                f"{self.dropped_congestion}, offline {self.dropped_offline}) encode={self.encode_ms:.1f}ms "
                f"compose={self.compose_ms:.1f}ms delay={self.queue_delay_ms:.0f}ms "
                f"cpu={self.cpu_percent:.0f}% audio={self.audio_level_db:.0f}dB reconnects={self.reconnects}"
                + ("" if self.rtt_ms is None else f" rtt={self.rtt_ms:.1f}ms")
                + (f" keyint={self.keyint_s:.1f}s" if self.keyint_s else "")
                + (f" enc={self.encoder}" if self.encoder else "")
                + (f" beauty-shed={self.filters_shed}" if self.filters_shed else "")
                + (f" WARNING: {self.keyint_warning}" if self.keyint_warning else "")
                + "".join(f" | {d.line()}" for d in self.destinations[1:]))

    def as_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["state"] = self.state.value
        for dest in d["destinations"]:
            dest["state"] = dest["state"].value
        d["keyint_warning"] = self.keyint_warning
        return d


class Counters(IntervalCounters):
    """Thread-safe counters the stages bump; :meth:`take` returns and resets the interval ones."""

    INTERVAL = ("captured", "sent_video", "sent_bytes", "encode_s", "encoded", "compose_s", "composed",
                "delay_s", "delay_n")

    def __init__(self) -> None:
        super().__init__()
        self.captured = 0
        self.sent_video = 0
        self.sent_bytes = 0
        self.encode_s = 0.0
        self.encoded = 0
        self.compose_s = 0.0
        self.composed = 0
        self.delay_s = 0.0
        self.delay_n = 0
        self.dropped_capture = 0  # total, never reset
