"""Push settings: one typed object, defaults in one table (STYLE habit 11)."""

from __future__ import annotations

from dataclasses import dataclass

#: name -> (width, height, default video kb/s)
RESOLUTIONS: dict[str, tuple[int, int, int]] = {
    "360p": (640, 360, 800),
    "540p": (960, 540, 1200),
    "720p": (1280, 720, 2500),
    "1080p": (1920, 1080, 4500),
}


@dataclass(frozen=True)
class PushSettings:
    """Everything the publisher needs besides its sources and URL.

    ``bitrate_kbps`` 0 means the resolution's default. Reconnect: every
    ``reconnect_interval_s``, at most ``reconnect_tries`` attempts in a row (the first connection
    too); a connection that lasted ``established_s`` resets the count.
    """

    resolution: str = "720p"
    fps: int = 30
    bitrate_kbps: int = 0
    keyframe_interval_s: float = 2.0
    preset: str = "veryfast"
    audio_bitrate_kbps: int = 128
    #: AAC sample rate. FFmpeg's AAC encoder hands a packet out 3072 samples after its pts (one
    #: frame being captured, one of look-ahead, 1024 of priming): 64 ms at 48 kHz, 32 ms at 96 kHz.
    #: Players sync video to the audio clock, so this delay is glass-to-glass latency: 96 kHz
    #: (AAC-LC, level 5) cuts it to 32-43 ms (frames are encoded in pairs, see Encoders.audio_chunk)
    #: for ~1-2 % of a core. Capture and mixing stay at 48 kHz either way. The default stays 48 kHz:
    #: CDN transcoders, HLS players and hardware decoders commonly top out at 48 kHz AAC, and a
    #: stream that some viewers cannot hear is worse than 30 ms. 96000 is the opt-in low-latency
    #: choice (`xiaozhibo push --audio-rate 96000`) for deployments whose players all take it.
    audio_sample_rate: int = 48000
    reconnect_interval_s: float = 2.0
    reconnect_tries: int = 5
    connect_timeout_s: float = 5.0
    established_s: float = 2.0
    #: a send that made no progress this long is a dead link without a reset: drop it and reconnect
    #: (the one "stalled" bound; connect_timeout_s only bounds opening a connection)
    stall_timeout_s: float = 10.0
    #: buffered (not yet sent) media beyond this is congestion: non-key video gets dropped
    congestion_ms: int = 700
    #: hard cap on packets waiting for the network (audio and keyframes beyond it block the encoder)
    send_queue_packets: int = 600
    record_path: str | None = None
    stamp_timecode: bool = True
    #: PEM CA file trusted for rtmps:// besides the system store ('' = system store only)
    ca_file: str = ""
    #: video encoder: auto (first usable hardware H.264, else libx264), x264, hevc (enhanced
    #: RTMP; hardware HEVC else libx265) or an FFmpeg encoder name (see app.push.codecs)
    encoder: str = "auto"

    def __post_init__(self) -> None:
        if self.resolution not in RESOLUTIONS:
            raise ValueError(f"resolution must be one of {', '.join(RESOLUTIONS)}")
        if not 1 <= self.fps <= 120:
            raise ValueError("fps must be 1..120")
        if self.audio_sample_rate not in (48000, 96000):
            raise ValueError("audio sample rate must be 48000 or 96000")
        if not self.encoder or len(self.encoder) > 40:
            raise ValueError("encoder must be auto, x264, hevc or an encoder name")
        if self.bitrate_kbps < 0 or self.bitrate_kbps > 100_000:
            raise ValueError("bitrate must be 1..100000 kb/s (0 = default)")

    @property
    def width(self) -> int:
        return RESOLUTIONS[self.resolution][0]

    @property
    def height(self) -> int:
        return RESOLUTIONS[self.resolution][1]

    @property
    def video_kbps(self) -> int:
        return self.bitrate_kbps or RESOLUTIONS[self.resolution][2]

    @property
    def gop(self) -> int:
        """Frames between keyframes."""
        return max(1, round(self.fps * self.keyframe_interval_s))
