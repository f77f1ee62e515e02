"""Which video encoder to use: options per codec, and a fast, bounded probe of hardware encoders.

The PyAV wheels carry ``h264_nvenc``/``hevc_nvenc`` (NVIDIA), ``h264_qsv``/``hevc_qsv`` (Intel),
``h264_amf``/``hevc_amf`` (AMD) on Linux and Windows and ``h264_videotoolbox``/
``hevc_videotoolbox`` on macOS. Being in the wheel says nothing about this computer: an encoder
is *usable* when it opens and turns a test picture into a packet. Each probe runs on its own
daemon thread and is waited for at most ``PROBE_TIMEOUT_S`` (a broken driver may hang in its
open call; it is then given up on, never waited for again), results are cached per process, and
a probe never raises.

Choices (``PushSettings.encoder``): ``auto`` — the first usable hardware H.264 encoder, else
libx264; ``x264``; ``hevc`` — the first usable hardware HEVC encoder, else libx265 (for servers
that take HEVC over enhanced RTMP, like ours); or one encoder by its FFmpeg name.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from fractions import Fraction
from typing import cast

import av
import numpy as np

from app.push.settings import PushSettings

log = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 2.0
if sys.platform == "darwin":
    HW_H264 = ("h264_videotoolbox",)
    HW_HEVC = ("hevc_videotoolbox",)
else:
    HW_H264 = ("h264_nvenc", "h264_qsv", "h264_amf")
    HW_HEVC = ("hevc_nvenc", "hevc_qsv", "hevc_amf")
SOFTWARE = {"x264": "libx264", "libx264": "libx264", "x265": "libx265", "libx265": "libx265"}
CHOICES = ("auto", "x264", "hevc")

_cache: dict[str, tuple[bool, str]] = {}
_cache_lock = threading.Lock()


def input_format(name: str) -> str:
    """The pixel format ``name`` is fed (Intel's QSV encoders want NV12, the others take I420)."""
    return "nv12" if name.endswith("_qsv") else "yuv420p"


def codec_options(name: str, s: PushSettings) -> dict[str, str]:
    """Low-latency CBR options with a fixed GOP and no scene cuts for encoder ``name``.

    libx264's are given to the ffmpeg CLI by the benchmark too, so they live here only.
    """
    kbps, g = s.video_kbps, s.gop
    if name == "libx264":
        return {"preset": s.preset, "tune": "zerolatency", "forced-idr": "1",
                "x264-params": f"keyint={g}:min-keyint={g}:scenecut=0:nal-hrd=cbr:vbv-maxrate={kbps}"
                               f":vbv-bufsize={kbps}:bitrate={kbps}"}
    if name == "libx265":
        return {"preset": s.preset, "tune": "zerolatency", "forced-idr": "1",
                "x265-params": f"keyint={g}:min-keyint={g}:scenecut=0:bframes=0:vbv-maxrate={kbps}"
                               f":vbv-bufsize={kbps}:bitrate={kbps}:log-level=error"}
    if name.endswith("_nvenc"):
        return {"preset": "p4", "tune": "ll", "rc": "cbr", "zerolatency": "1", "forced-idr": "1", "bf": "0"}
    if name.endswith("_qsv"):
        return {"preset": "veryfast", "look_ahead": "0", "forced_idr": "1", "bf": "0"}
    if name.endswith("_amf"):
        return {"usage": "ultralowlatency", "rc": "cbr", "bf": "0"}
    if name.endswith("_videotoolbox"):
        return {"realtime": "1", "allow_sw": "0"}
    return {}


def _try_encoder(name: str, out: list[tuple[bool, str]]) -> None:
    try:
        cc = cast(av.video.codeccontext.VideoCodecContext, av.CodecContext.create(name, "w"))
        cc.width, cc.height, cc.pix_fmt = 640, 360, input_format(name)
        cc.time_base, cc.framerate = Fraction(1, 30), Fraction(30, 1)
        cc.bit_rate = 1_000_000
        cc.open()
        frame = av.VideoFrame.from_ndarray(np.full((540, 640), 128, np.uint8), format="yuv420p")
        if cc.pix_fmt != "yuv420p":
            frame = frame.reformat(format=cc.pix_fmt)
        frame.pts = 0
        packets = list(cc.encode(frame)) + list(cc.encode(None))
        out.append((bool(packets), "" if packets else "no packet out of a test picture"))
    except Exception as exc:  # noqa: BLE001  (any driver failure means: not usable here)
        out.append((False, f"{type(exc).__name__}: {exc}"))


def probe(name: str, timeout: float = PROBE_TIMEOUT_S) -> tuple[bool, str]:
    """(usable, why not) for encoder ``name``; cached, bounded by ``timeout``, never raises."""
    with _cache_lock:
        if name in _cache:
            return _cache[name]
    if name not in av.codecs_available:
        result = (False, "not in this FFmpeg build")
    else:
        out: list[tuple[bool, str]] = []
        t0 = time.monotonic()
        t = threading.Thread(target=_try_encoder, args=(name, out), name=f"probe-{name}", daemon=True)
        t.start()
        t.join(timeout)
        result = out[0] if out else (False, f"no answer in {timeout:.1f} s")
        log.info("encoder probe %s: %s (%.0f ms)", name, "usable" if result[0] else result[1],
                 1000 * (time.monotonic() - t0))
    with _cache_lock:
        _cache[name] = result
    return result


def usable_hardware(hevc: bool = False) -> list[str]:
    """The hardware encoders (H.264, or HEVC) that work on this computer, in preference order."""
    return [n for n in (HW_HEVC if hevc else HW_H264) if probe(n)[0]]


def resolve_encoder(choice: str, settings: PushSettings | None = None) -> str:
    """The FFmpeg encoder name for ``choice`` (see the module docstring); ValueError if unusable."""
    if choice == "auto":
        hw = usable_hardware()
        return hw[0] if hw else "libx264"
    if choice == "hevc":
        hw = usable_hardware(hevc=True)
        return hw[0] if hw else "libx265"
    name = SOFTWARE.get(choice, choice)
    ok, why = (True, "") if name in ("libx264", "libx265") else probe(name)
    if not ok:
        raise ValueError(f"video encoder {name} is not usable here: {why}")
    return name


def encoder_choices() -> list[str]:
    """What the Go-live settings offer: auto, x264, hevc, then each usable hardware encoder
    (probes: call off the GUI thread)."""
    return list(CHOICES) + usable_hardware() + usable_hardware(hevc=True)
