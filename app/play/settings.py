"""Typed player settings with their defaults in one table, and per-source open options."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import Enum
from urllib.parse import urlsplit

from app.play.errors import PlayCode, PlayError
from protocol.tls import ffmpeg_options


class SourceKind(Enum):
    RTMP = "rtmp"
    HTTP_FLV = "http-flv"
    HLS = "hls"
    FILE = "file"  # replay/VOD: MP4 (or any seekable file) over HTTP Range or local path


class Catchup(Enum):
    """What a live player does when its buffer passes the maximum."""

    OFF = "off"
    DROP = "drop"  # jump back to the target buffer at once (frames in between are dropped)
    SPEED = "speed"  # play faster (audio resampled) until back at the target
    SPEED_AND_DROP = "speed+drop"  # speed up above the target, drop above the maximum


@dataclass(frozen=True, slots=True)
class PlaySettings:
    """Every player knob, with its default. Passed to :class:`~app.play.player.Player`."""

    live: bool | None = None  # None: decided from the URL and the container
    open_timeout: float = 5.0  # s to connect and probe
    read_timeout: float = 3.0  # s without data before a live source counts as stalled
    # Live latency control (RTMP / HTTP-FLV). Buffer = end (pts + duration) of the newest packet
    # of the laggiest stream - media now heard/shown. Its low point over the last second is held
    # between target_buffer and target_buffer + speed_above; one packet of sawtooth (a 21 ms AAC
    # frame at 48 kHz, a 33 ms picture at 30 fps) and the sender's jitter ride above it.
    target_buffer: float = 0.01
    max_buffer: float = 0.5
    catchup: Catchup = Catchup.SPEED_AND_DROP
    catchup_speed: float = 1.06
    # speed up when the buffer's low point over the last second is this much above the target
    speed_above: float = 0.04
    # Audio: the slack of each decoded packet (how much later it could have come without an
    # underrun, app.play.latency) at its low point over the last jitter_memory s is held in
    # [audio_margin, audio_margin + margin_band]: the low point carries the arrival jitter, so
    # the latency follows it; audio_margin is the safety on top. Under audio_margin - slow_below
    # the audio is stretched by slowdown_speed until the slack is back (1.0 disables that:
    # underruns then rebuild it, audibly); over the band it is sped up by catchup_speed.
    audio_margin: float = 0.006
    slow_below: float = 0.002
    margin_band: float = 0.004
    slowdown_speed: float = 0.96
    jitter_memory: float = 10.0
    # HLS is segment-bound: it gets its own, larger figures.
    hls_target_buffer: float = 2.0
    hls_max_buffer: float = 10.0
    # s without data before an HLS source counts as stalled (``read_timeout`` is for a stream).
    # FFmpeg waits for the next segment inside one read: it reloads the playlist one segment
    # after the last load, then every half target duration, so 2 s segments normally keep a
    # read waiting up to ~3 s, more on a loaded server; at 3 s a late segment cost a reconnect.
    hls_read_timeout: float = 6.0
    # s of arrivals the HLS latency control watches: the lag at the end of the first such window
    # after the join is the latency it holds, and the stalest media over the window sets its floor
    # (app.play.latency.HlsDrift); four 2 s segments by default
    hls_drift_window: float = 8.0
    reconnect_window: float = 8.0  # s a live source may stay away before the end is declared
    reconnect_interval: float = 0.5
    # Replay read-ahead (packets are read ahead by at most this much media).
    vod_readahead: float = 2.0
    vod_prebuffer: float = 0.15  # audio queued before playback starts after open/seek
    # Audio
    audio: bool = True  # False: ignore the audio stream (video clocked by the system clock)
    audio_output: str = "auto"  # auto | device | null
    audio_device: int | str | None = None
    audio_rate: int = 48000
    audio_channels: int = 2
    audio_block: float = 0.01  # s per output block (PortAudio blocksize; the null output's too)
    null_output_latency: float | None = None  # s the null output models; None: one block
    # s the clock waits on missing audio before running on without it (live / replays)
    live_audio_grace: float = 0.12
    vod_audio_grace: float = 0.3
    volume: float = 1.0
    # Video
    video: bool = True
    video_threads: int = 2  # slice threads for live (frame threading adds delay), auto for replays
    frame_queue: int = 3  # decoded frames waiting for their time
    late_drop: float = 0.04  # s late after which a frame is dropped when a newer one waits
    read_timecode: bool = False  # read the sender's time code from the pixels (app.capture.timecode)
    probesize: int = 32768
    # PEM CA file trusted for https/rtmps sources besides the system store ('' = system store only);
    # TLS sources are always verified
    ca_file: str = ""
    stats_interval: float = 1.0

    def with_(self, **kw: object) -> "PlaySettings":
        return replace(self, **kw)  # type: ignore[arg-type]


def source_kind(url: str) -> SourceKind:
    """Classify a play URL. Raises :class:`PlayError` (BAD_ARGUMENT) for unsupported schemes."""
    if not url or not isinstance(url, str):
        raise PlayError(PlayCode.BAD_ARGUMENT, "empty play URL")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    path = parts.path.lower()
    if scheme in ("rtmp", "rtmps", "rtmpt"):
        return SourceKind.RTMP
    if scheme in ("http", "https"):
        if path.endswith(".flv"):
            return SourceKind.HTTP_FLV
        if path.endswith(".m3u8"):
            return SourceKind.HLS
        return SourceKind.FILE
    if scheme in ("", "file") or (len(scheme) == 1 and url[1:3] in (":\\", ":/")):  # local path
        return SourceKind.HLS if path.endswith(".m3u8") else SourceKind.FILE
    raise PlayError(PlayCode.BAD_ARGUMENT, f"unsupported URL scheme {scheme!r}")


def open_options(url: str, kind: SourceKind, settings: PlaySettings, live: bool) -> dict[str, str]:
    """FFmpeg demuxer/protocol options for a source (with certificate verification for TLS URLs).

    Live RTMP/HTTP-FLV: small probe, no analysis delay, no frame-rate probe (FFmpeg otherwise
    reads 40 frames or the whole probesize to guess a frame rate the FLV metadata already gives:
    up to ~200 ms more to the first frame when the GOP cache holds little). Not
    ``fflags=nobuffer``: it throws away the packets read while probing, the first keyframe among
    them, and costs a whole GOP.
    """
    return _source_options(url, kind, settings, live) | ffmpeg_options(url, settings.ca_file)


def _source_options(url: str, kind: SourceKind, settings: PlaySettings, live: bool) -> dict[str, str]:
    if kind in (SourceKind.RTMP, SourceKind.HTTP_FLV) and live:
        opts = {"probesize": str(settings.probesize), "analyzeduration": "0", "fpsprobesize": "0"}
        if kind is SourceKind.RTMP:
            opts["rtmp_buffer"] = "100"  # ms asked of the server; the default (3000) is for VOD
        return opts
    if kind is SourceKind.HLS:
        # Two segments back from the live edge (FFmpeg's default is three). Whether the playlist
        # is live is known only once it is read (``live`` is False for HLS unless the settings
        # say so); FFmpeg applies this to live playlists only.
        return {"probesize": "500000", "analyzeduration": "500000", "live_start_index": "-2"}
    if urlsplit(url).scheme.lower() in ("http", "https"):
        return {"reconnect": "1", "reconnect_delay_max": "2"}  # a replay over HTTP survives a reset
    return {}


def read_timeout(kind: SourceKind, settings: PlaySettings) -> float:
    """Seconds a read may wait for data before the source counts as stalled."""
    return max(settings.read_timeout, settings.hls_read_timeout) if kind is SourceKind.HLS else settings.read_timeout


def buffer_targets(kind: SourceKind, settings: PlaySettings) -> tuple[float, float]:
    """(target, maximum) live buffer in seconds for a source kind."""
    if kind is SourceKind.HLS:
        return settings.hls_target_buffer, settings.hls_max_buffer
    return settings.target_buffer, settings.max_buffer
