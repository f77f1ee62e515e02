"""``xiaozhibo play URL [--duration S] [--no-display]`` (SPEC section 10).

Plays without the GUI and prints one stats line per second. With a display, the video view and
danmaku overlay come from ``app.ui.windows.play_window.run_play_window(player, args) -> int``, called
with the player already started (``start()`` is idempotent) and the CLI's printing callbacks set;
when that module is not available the CLI says so and plays without a display.

Exit codes: 0 played for ``--duration`` / to the end / the anchor ended the live; 1 playback
error (the message names the code); 2 bad arguments.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from typing import Any

from app.play.errors import PLAY_MESSAGES, EndReason, PlayError, PlayState
from app.play.settings import PlaySettings


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="xiaozhibo play", description="Play a live or replay URL.")
    ap.add_argument("url", help="rtmp://..., http://.../x.flv, http://.../x.m3u8, or a replay file URL/path")
    ap.add_argument("--duration", type=float, default=None, metavar="S", help="stop after S seconds")
    ap.add_argument("--no-display", action="store_true", help="play without a window (stats only)")
    ap.add_argument("--audio", choices=("auto", "device", "null"), default="auto",
                    help="audio output (auto falls back to null without a device)")
    ap.add_argument("--no-audio", action="store_true", help="ignore the audio stream")
    ap.add_argument("--timecode", action="store_true",
                    help="read the sender's time code from the pictures to report latency")
    ap.add_argument("--target-buffer", type=float, default=None, metavar="S", help="live buffer target")
    ap.add_argument("--max-buffer", type=float, default=None, metavar="S",
                    help="live buffer past which the player catches up")
    ap.add_argument("--ca-file", default="", metavar="PEM",
                    help="also trust this CA for https/rtmps URLs (a private or self-signed deployment)")
    ap.add_argument("-v", "--verbose", action="store_true", help="log to stderr")
    return ap


def settings_from(args: argparse.Namespace) -> PlaySettings:
    s = PlaySettings(audio_output=args.audio, audio=not args.no_audio, read_timecode=args.timecode,
                     ca_file=args.ca_file)
    if args.target_buffer is not None:
        s = s.with_(target_buffer=args.target_buffer)
    if args.max_buffer is not None:
        s = s.with_(max_buffer=args.max_buffer)
    return s


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from app.play.player import Player  # PyAV loads here, after argument errors

    if args.ca_file and not os.path.isfile(args.ca_file):
        print(f"xiaozhibo play: --ca-file {args.ca_file}: no such file", file=sys.stderr)
        return 2

    try:
        player = Player(args.url, settings_from(args))
    except PlayError as exc:
        print(f"xiaozhibo play: {exc}", file=sys.stderr)
        return 2
    errors: list[tuple[int, str]] = []

    def on_error(code: int, text: str) -> None:
        errors.append((code, text))
        print(f"error {code} ({PLAY_MESSAGES.get(code, 'error')}): {text}", file=sys.stderr, flush=True)

    def on_state(state: PlayState) -> None:
        if state is PlayState.RECONNECTING:
            print("stream interrupted, reconnecting...", flush=True)

    player.on_stats = lambda s: print(s.line(), flush=True)
    player.on_error = on_error
    player.on_state = on_state
    player.start()
    try:
        if not args.no_display:
            code = _run_display(player, args)
            if code is not None:
                return code
        reason = _wait(player, args.duration)
    finally:
        player.stop()
    return _report(player, reason, errors)


def _run_display(player: Any, args: argparse.Namespace) -> int | None:
    """Hand the started player to the GUI's play window; None when there is none (fall back)."""
    try:
        from app.ui.windows.play_window import run_play_window  # lazily: Qt only when a window is wanted
    except ImportError as exc:
        print(f"xiaozhibo play: no video window available ({exc}); playing with --no-display",
              file=sys.stderr, flush=True)
        return None
    return int(run_play_window(player, args) or 0)


def _wait(player: Any, duration: float | None) -> EndReason | None:
    """Until the end, ``duration`` or Ctrl-C / SIGTERM."""
    done = threading.Event()
    main = threading.current_thread() is threading.main_thread()
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)} if main else {}
    for sig in saved:
        signal.signal(sig, lambda *_: done.set())
    try:
        deadline = None if duration is None else time.monotonic() + duration
        while not done.is_set():
            left = 0.1 if deadline is None else min(0.1, deadline - time.monotonic())
            if left <= 0:
                return None
            reason = player.wait(left)
            if reason is not None:
                return reason
        return None
    finally:
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def _report(player: Any, reason: EndReason | None, errors: list[tuple[int, str]]) -> int:
    if reason is EndReason.ERROR:
        code, text = errors[-1] if errors else (0, "playback failed")
        print(f"xiaozhibo play: failed ({code}): {text}", file=sys.stderr)
        return 1
    if reason is EndReason.STREAM_ENDED:
        print("the anchor ended the live (stream did not come back)", flush=True)
    elif reason is EndReason.EOF:
        print("end of replay", flush=True)
    stats = player.last_stats
    if stats is not None and stats.first_frame_ms is not None:
        print(f"first frame {stats.first_frame_ms:.0f}ms, dropped {stats.dropped_frames}", flush=True)
    return 0
