"""``xiaozhibo push``: publish a source to an RTMP URL without the GUI (SPEC section 10).

Prints one stats line per second; exits 0 after ``--duration`` (or Ctrl-C) when the stream went
out, 1 with a clear message when the server refuses the stream, cannot be reached after the
retries, or nothing at all was delivered before the duration ended, 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time

from app.capture import CaptureError
from app.capture.audio import AudioMixer, MusicSource, SilenceSource, ToneSource, open_microphone
from app.capture.sources import open_video_source
from app.push.errors import PushError, StopReason
from app.push.publisher import Publisher
from app.push.settings import RESOLUTIONS, PushSettings
from protocol.signing import redact_url


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="xiaozhibo push", description="Publish a source to an RTMP URL.")
    p.add_argument("--url", required=True, help="rtmp://host[:port]/app/stream?query")
    p.add_argument("--source", required=True,
                   help="camera[:N|:PATH], screen[:N|:L,T,W,H], screen+camera[:N[:M]], testsrc, file:PATH")
    p.add_argument("--resolution", choices=list(RESOLUTIONS), default="720p")
    p.add_argument("--fps", type=int, default=30)
    p.add_argument("--bitrate", type=int, default=0, help="video kb/s (default: by resolution)")
    p.add_argument("--duration", type=float, default=0.0, help="seconds, then stop (0 = until Ctrl-C)")
    p.add_argument("--record", metavar="FILE", help="also record to a local MP4 file")
    p.add_argument("--audio-rate", type=int, choices=(48000, 96000), default=PushSettings.audio_sample_rate,
                   help="AAC sample rate (96000 halves the encoder's delay: 32 ms instead of 64 ms)")
    p.add_argument("--retries", type=int, default=PushSettings.reconnect_tries,
                   help="connection attempts in a row before giving up")
    p.add_argument("--music", metavar="FILE", help="background music mixed into the stream")
    p.add_argument("--beauty", type=int, default=0, choices=range(10), metavar="0-9")
    p.add_argument("--whiten", type=int, default=0, choices=range(10), metavar="0-9")
    p.add_argument("--mirror", action="store_true")
    p.add_argument("--encoder", default=PushSettings.encoder,
                   help="auto (first working hardware H.264, else x264), x264, hevc (enhanced RTMP), "
                        "or an encoder name such as h264_nvenc")
    p.add_argument("--also", action="append", default=[], metavar="URL",
                   help="another RTMP destination fed by the same encode (repeatable)")
    p.add_argument("--ca-file", default="", metavar="PEM",
                   help="also trust this CA for rtmps:// URLs (a private or self-signed deployment)")
    p.add_argument("-v", "--verbose", action="store_true")
    return p


def _audio_for(source: str, music: str | None) -> tuple[AudioMixer, list[str]]:
    warnings: list[str] = []
    mic: object
    if source == "testsrc":
        mic = ToneSource(beep_period=1.0)
    elif source.startswith("file:"):
        try:
            track = MusicSource(source[5:], loop=True)
            track.play()
            mic = track
        except CaptureError:
            mic = SilenceSource()
    else:
        mic, warning = open_microphone()
        if warning:
            warnings.append(warning)
    bgm = None
    if music:
        bgm = MusicSource(music, loop=True)
        bgm.play()
    return AudioMixer(mic, bgm), warnings


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = PushSettings(resolution=args.resolution, fps=args.fps, bitrate_kbps=args.bitrate,
                                reconnect_tries=max(1, args.retries), record_path=args.record,
                                audio_sample_rate=args.audio_rate, encoder=args.encoder, ca_file=args.ca_file)
        if args.ca_file and not os.path.isfile(args.ca_file):
            raise ValueError(f"--ca-file {args.ca_file}: no such file")
    except ValueError as exc:
        print(f"xiaozhibo push: {exc}", file=sys.stderr)
        return 2
    try:
        video = open_video_source(args.source, settings.width, settings.height, settings.fps)
    except CaptureError as exc:
        print(f"xiaozhibo push: {exc}", file=sys.stderr)
        return 1
    try:
        mixer, warnings = _audio_for(args.source, args.music)
    except CaptureError as exc:
        video.close()
        print(f"xiaozhibo push: {exc}", file=sys.stderr)
        return 1
    for w in warnings:
        print(f"xiaozhibo push: warning: {w}", file=sys.stderr)
    extra = [(f"dest{i + 2}", url) for i, url in enumerate(args.also)]
    pub = Publisher(settings, video, mixer, args.url, extra_urls=extra)
    pub.pipeline.set_filters(beauty=args.beauty, whiteness=args.whiten, mirror=args.mirror)
    pub.on_stats = lambda st: print(st.line(), flush=True)
    interrupted = threading.Event()
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGINT, lambda *_: interrupted.set())
    try:
        pub.start()
        deadline = time.monotonic() + args.duration if args.duration > 0 else None
        while pub.wait(0.2) is None:
            if interrupted.is_set() or (deadline is not None and time.monotonic() >= deadline):
                pub.stop()
                break
        reason = pub.wait(15)
    except PushError as exc:
        print(f"xiaozhibo push: {exc}", file=sys.stderr)
        return 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        video.close()
        mixer.close()
    if reason is None:
        print("xiaozhibo push: did not stop cleanly", file=sys.stderr)
        return 1
    if not reason.ok:
        shown = args.verbose or pub.stop_detail.startswith("nothing was sent")
        detail = f" ({redact_url(pub.stop_detail)})" if pub.stop_detail and shown else ""
        print(f"xiaozhibo push: {reason.message}{detail}", file=sys.stderr)
        return 1
    if reason == StopReason.SOURCE_ENDED:
        print("xiaozhibo push: the source has ended", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
