"""Video and audio encoders with container-independent output (in the spirit of aiortc's codec
classes: ``encode(frame) -> list[packet]``).

Each encoder's codec context lives in a never-written "holder" FLV container opened once per
publish: its stream carries the codec parameters (SPS/PPS or VPS/SPS/PPS, AudioSpecificConfig)
that every output — each RTMP (re)connection, every multistream destination and the local MP4
recording — copies with ``add_stream_from_template``, so the encoders keep running across
reconnects and one encode feeds several outputs.

Which video encoder runs is :mod:`app.push.codecs`' choice (``auto`` = the first hardware H.264
encoder that works on this computer, else libx264).
"""

from __future__ import annotations

import io
import logging
from fractions import Fraction
from typing import Protocol, cast

import av
import numpy as np
from av.video.frame import PictureType

from app.capture.audio import CHANNELS, SAMPLE_RATE
from app.capture.timebase import rescale, tb
from app.push.codecs import codec_options, input_format, resolve_encoder
from app.push.packets import EncodedPacket
from app.push.settings import PushSettings

log = logging.getLogger(__name__)
AAC_FRAME = 1024


def x264_options(settings: PushSettings) -> dict[str, str]:
    """libx264 options (see :func:`app.push.codecs.codec_options`); kept for the benchmark."""
    return codec_options("libx264", settings)


class Encoder(Protocol):
    """What a publish needs of an encoder: packets out of frames, and a stream template."""

    template: av.stream.Stream

    def encode(self, frame: np.ndarray | None, pts: int, t_capture: float) -> list[EncodedPacket]: ...


def _wrap(kind: str, p: av.Packet, base: Fraction, t_capture: float) -> EncodedPacket:
    pts = p.pts if p.pts is not None else 0
    dts = p.dts if p.dts is not None else pts
    if p.time_base is not None:
        pts, dts = rescale(pts, p.time_base, base), rescale(dts, p.time_base, base)
    return EncodedPacket(kind, bytes(p), pts, dts, base, bool(p.is_keyframe), t_capture)


class VideoEncoder:
    """One video codec (libx264, libx265, h264_nvenc, ...) taking packed I420 pictures."""

    def __init__(self, holder: av.container.OutputContainer, name: str, settings: PushSettings) -> None:
        self.name = name
        self.hevc = "265" in name or "hevc" in name
        fps = settings.fps
        vs = cast(av.video.stream.VideoStream, holder.add_stream(name, rate=fps))
        self._pix_fmt = input_format(name)
        vs.width, vs.height, vs.pix_fmt = settings.width, settings.height, self._pix_fmt
        vs.time_base = tb(fps)
        cc = vs.codec_context
        cc.time_base, cc.framerate = tb(fps), Fraction(fps, 1)
        cc.gop_size = settings.gop
        cc.bit_rate = settings.video_kbps * 1000
        cc.max_b_frames = 0  # live: no reordering delay, and FLV players handle it everywhere
        cc.options = codec_options(name, settings)
        self.template = vs
        self._tb = tb(fps)
        self.force_keyframe = False

    def encode(self, i420: np.ndarray | None, pts: int, t_capture: float) -> list[EncodedPacket]:
        """Encode one packed I420 picture (``None`` flushes); ``pts`` in 1/fps units."""
        frame = None
        if i420 is not None:
            frame = av.VideoFrame.from_ndarray(i420, format="yuv420p")
            if self._pix_fmt != "yuv420p":
                frame = frame.reformat(format=self._pix_fmt)
            frame.pts = pts
            frame.time_base = self._tb
            if self.force_keyframe:
                frame.pict_type = PictureType.I
                self.force_keyframe = False
        return [_wrap("video", p, self._tb, t_capture) for p in self.template.codec_context.encode(frame)]


class AudioEncoder:
    """AAC from ``(n, 2)`` float32 samples at the capture rate, optionally doubled to 96 kHz."""

    def __init__(self, holder: av.container.OutputContainer, settings: PushSettings) -> None:
        rate = settings.audio_sample_rate
        aus = holder.add_stream("aac", rate=rate)
        aus.codec_context.layout = "stereo"
        aus.codec_context.format = "fltp"
        aus.codec_context.bit_rate = settings.audio_bitrate_kbps * 1000
        aus.time_base = tb(rate)
        self.template = aus
        self.rate = rate
        self._tb = tb(rate)  # packets' time base (the encoder's rate)
        self._upsample = rate // SAMPLE_RATE  # 1 or 2
        self._last_sample = np.zeros(CHANNELS, np.float32)

    def encode(self, samples: np.ndarray | None, pts: int, t_capture: float) -> list[EncodedPacket]:
        """Encode capture-rate samples (``None`` flushes); ``pts`` in capture samples."""
        frame = None
        if samples is not None:
            samples = np.asarray(samples, np.float32)
            if self._upsample == 2:
                samples, pts = self._double_rate(samples), pts * 2
            planar = np.ascontiguousarray(samples.T.reshape(CHANNELS, -1), dtype=np.float32)
            frame = av.AudioFrame.from_ndarray(planar, format="fltp", layout="stereo")
            frame.sample_rate = self.rate
            frame.pts = pts
            frame.time_base = self._tb
        return [_wrap("audio", p, self._tb, t_capture) for p in self.template.codec_context.encode(frame)]

    def _double_rate(self, samples: np.ndarray) -> np.ndarray:
        """48 -> 96 kHz by linear interpolation with the previous chunk's last sample.

        Causal, so it adds no delay (libswresample's sinc filter holds ~16 samples back, and the
        encoder's frame cutter then waits a whole extra chunk for them); its images above 24 kHz
        lie beyond what the AAC encoder keeps at live bitrates.
        """
        out = np.empty((2 * len(samples), CHANNELS), np.float32)
        prev = np.concatenate([self._last_sample[None, :], samples[:-1]])
        out[0::2] = 0.5 * (prev + samples)
        out[1::2] = samples
        if len(samples):
            self._last_sample = samples[-1].copy()
        return out


class Encoders:
    """The video and audio encoders of one publish. Thread use: video from one thread, audio from
    another (separate codec contexts), templates read by the output threads.

    ``settings.encoder`` picks the video codec (see :func:`app.push.codecs.resolve_encoder`);
    ``video_name`` says which one runs.
    """

    def __init__(self, settings: PushSettings) -> None:
        self.settings = settings
        self.video_name = resolve_encoder(settings.encoder, settings)
        self._holder = av.open(io.BytesIO(), mode="w", format="flv")
        self.video = VideoEncoder(self._holder, self.video_name, settings)
        self.audio = AudioEncoder(self._holder, settings)
        self._holder.start_encoding()  # opens both codecs and fills the templates' parameters
        self.video_template = self.video.template
        self.audio_template = self.audio.template
        #: capture samples per encode_audio call (one AAC frame)
        self.audio_chunk = AAC_FRAME
        log.info("video encoder: %s (%dx%d %d fps %d kb/s)", self.video_name, settings.width, settings.height,
                 settings.fps, settings.video_kbps)

    @property
    def force_keyframe(self) -> bool:
        return self.video.force_keyframe

    @force_keyframe.setter
    def force_keyframe(self, value: bool) -> None:
        self.video.force_keyframe = value

    def encode_video(self, i420: np.ndarray | None, pts: int, t_capture: float) -> list[EncodedPacket]:
        return self.video.encode(i420, pts, t_capture)

    def encode_audio(self, samples: np.ndarray | None, pts: int, t_capture: float) -> list[EncodedPacket]:
        return self.audio.encode(samples, pts, t_capture)

    def close(self) -> None:
        try:
            self._holder.close()
        except (OSError, av.FFmpegError) as exc:  # the holder is never written: nothing to lose
            log.debug("closing encoders: %s", exc)
