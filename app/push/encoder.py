"""H.264 (libx264) and AAC encoders with container-independent output.

The codec contexts live in a never-written "holder" FLV container opened once per publish: its
streams carry the codec parameters (SPS/PPS, AudioSpecificConfig) that every output — each RTMP
(re)connection and the local MP4 recording — copies with ``add_stream_from_template``, so the
encoders keep running across reconnects and one encode feeds several outputs.
"""

from __future__ import annotations

import io
import logging
from fractions import Fraction

import av
import numpy as np
from av.video.frame import PictureType

from app.capture.audio import CHANNELS, SAMPLE_RATE
from app.push.packets import EncodedPacket
from app.push.settings import PushSettings

AAC_FRAME = 1024


def x264_options(settings: PushSettings) -> dict[str, str]:
    """libx264 options: veryfast/zerolatency, CBR with a 1 s VBV, fixed GOP, no scene cuts.

    The same settings are given to the ffmpeg CLI by the benchmark, so keep them in one place.
    """
    kbps = settings.video_kbps
    g = settings.gop
    return {
        "preset": settings.preset,
        "tune": "zerolatency",
        "forced-idr": "1",
        "x264-params": f"keyint={g}:min-keyint={g}:scenecut=0:nal-hrd=cbr:vbv-maxrate={kbps}"
                       f":vbv-bufsize={kbps}:bitrate={kbps}",
    }


class Encoders:
    """The video and audio encoders of one publish. Thread use: video from one thread, audio from
    another (separate codec contexts), templates read by the output threads."""

    def __init__(self, settings: PushSettings) -> None:
        self.settings = settings
        self._holder = av.open(io.BytesIO(), mode="w", format="flv")
        vs = self._holder.add_stream("libx264", rate=settings.fps)
        vs.width, vs.height, vs.pix_fmt = settings.width, settings.height, "yuv420p"
        vs.time_base = Fraction(1, settings.fps)
        vs.codec_context.time_base = Fraction(1, settings.fps)
        vs.codec_context.framerate = Fraction(settings.fps, 1)
        vs.codec_context.gop_size = settings.gop
        vs.codec_context.bit_rate = settings.video_kbps * 1000
        vs.codec_context.options = x264_options(settings)
        rate = settings.audio_sample_rate
        aus = self._holder.add_stream("aac", rate=rate)
        aus.codec_context.layout = "stereo"
        aus.codec_context.format = "fltp"
        aus.codec_context.bit_rate = settings.audio_bitrate_kbps * 1000
        aus.time_base = Fraction(1, rate)
        self._holder.start_encoding()  # opens both codecs and fills the templates' parameters
        self.video_template = vs
        self.audio_template = aus
        self._video_tb = Fraction(1, settings.fps)
        self._audio_tb = Fraction(1, rate)  # packets' time base (the encoder's rate)
        #: capture samples per encode_audio call: one AAC frame at 48 kHz, two at 96 kHz (a wake-up
        #: per 10.7 ms frame nearly doubled the audio thread's CPU in the loaded pipeline, 7 -> 13 %
        #: of a core; pairs cost 8 % for 5 ms more average delay on the first frame of each pair)
        self.audio_chunk = AAC_FRAME
        self._upsample = rate // SAMPLE_RATE  # 1 or 2
        self._last_sample = np.zeros(CHANNELS, np.float32)
        self.force_keyframe = False

    def encode_video(self, i420: np.ndarray | None, pts: int, t_capture: float) -> list[EncodedPacket]:
        """Encode one packed I420 picture (``None`` flushes); ``pts`` in 1/fps units."""
        frame = None
        if i420 is not None:
            frame = av.VideoFrame.from_ndarray(i420, format="yuv420p")
            frame.pts = pts
            frame.time_base = self._video_tb
            if self.force_keyframe:
                frame.pict_type = PictureType.I
                self.force_keyframe = False
        return [self._wrap("video", p, t_capture) for p in self.video_template.codec_context.encode(frame)]

    def encode_audio(self, samples: np.ndarray | None, pts: int, t_capture: float) -> list[EncodedPacket]:
        """Encode ``(audio_chunk, 2)`` float32 samples at the capture rate (``None`` flushes);
        ``pts`` in capture samples."""
        frame = None
        if samples is not None:
            samples = np.asarray(samples, np.float32)
            if self._upsample == 2:
                samples, pts = self._double_rate(samples), pts * 2
            planar = np.ascontiguousarray(samples.T.reshape(CHANNELS, -1), dtype=np.float32)
            frame = av.AudioFrame.from_ndarray(planar, format="fltp", layout="stereo")
            frame.sample_rate = self.settings.audio_sample_rate
            frame.pts = pts
            frame.time_base = self._audio_tb
        return [self._wrap("audio", p, t_capture) for p in self.audio_template.codec_context.encode(frame)]

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

    def _wrap(self, kind: str, p: av.Packet, t_capture: float) -> EncodedPacket:
        tb = self._video_tb if kind == "video" else self._audio_tb
        pts = p.pts if p.pts is not None else 0
        dts = p.dts if p.dts is not None else pts
        if p.time_base is not None and p.time_base != tb:
            pts = round(pts * p.time_base / tb)
            dts = round(dts * p.time_base / tb)
        return EncodedPacket(kind, bytes(p), pts, dts, tb, bool(p.is_keyframe), t_capture)

    def close(self) -> None:
        try:
            self._holder.close()
        except (OSError, av.FFmpegError) as exc:  # the holder is never written: nothing to lose
            logging.getLogger(__name__).debug("closing encoders: %s", exc)
