"""Renders known pictures through a video view on a real display and saves screen grabs.

Run in a subprocess under Xvfb by ``test_gl_render.py`` (and by hand for screenshots):

    python -m tests.ui.render_script BACKEND OUT_DIR [window]

``BACKEND`` is ``gl``, ``raster`` or ``auto``. Prints one JSON object: the backend actually used,
the GL renderer, the device pixel ratio and, per case, the PNG written (a grab of the screen
area of the window, i.e. what was really presented) and the geometry needed to check it.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from app.play.frame import ColorRange, ColorSpace, PixelFormat
from app.ui.qt import QApplication, QWidget
from app.ui.video.video_view import VideoView
from tests.ui.frames import color_bars, moving_frame

VIEW_W, VIEW_H = 640, 360

CASES = [
    ("bt601-limited-i420", dict(space=ColorSpace.BT601, rng=ColorRange.LIMITED, pad=0)),
    ("bt601-full-i420-pad", dict(space=ColorSpace.BT601, rng=ColorRange.FULL, pad=48)),
    ("bt709-limited-i420-pad", dict(space=ColorSpace.BT709, rng=ColorRange.LIMITED, pad=64)),
    ("bt709-full-nv12", dict(space=ColorSpace.BT709, rng=ColorRange.FULL, fmt=PixelFormat.NV12)),
    ("bt601-limited-nv12-pad", dict(space=ColorSpace.BT601, rng=ColorRange.LIMITED,
                                    fmt=PixelFormat.NV12, pad=32)),
]
LETTERBOX = [("letterbox-4x3", 480, 360), ("letterbox-wide", 640, 200), ("letterbox-portrait", 180, 320)]


def pump(app: QApplication, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.005)


def grab(app: QApplication, widget: QWidget, path: Path) -> None:
    screen = widget.screen() or app.primaryScreen()
    pix = screen.grabWindow(widget.winId())
    pix.save(str(path))


def show_frame(app: QApplication, view: VideoView, frame) -> None:  # type: ignore[no-untyped-def]
    shown = view.stats.frames_shown
    view.set_frame(frame)
    deadline = time.monotonic() + 5
    while view.stats.frames_shown == shown and time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.005)
    pump(app, 0.15)  # let the swap reach the screen


def render_cases(app: QApplication, backend: str, out: Path) -> dict:
    view = VideoView(backend=backend)
    view.setFixedSize(VIEW_W, VIEW_H)
    view.move(0, 0)
    view.show()
    pump(app, 0.3)
    result: dict = {"backend": view.backend, "gl_info": getattr(view.view, "gl_info", ""),
                    "fallback_reason": view.fallback_reason, "dpr": view.devicePixelRatioF(),
                    "cases": {}}
    for name, kw in CASES:
        show_frame(app, view, color_bars(VIEW_W, VIEW_H, **kw))
        path = out / f"{backend}-{name}.png"
        grab(app, view, path)
        result["cases"][name] = {"png": str(path), "frame": [VIEW_W, VIEW_H]}
    for name, w, h in LETTERBOX:
        show_frame(app, view, color_bars(w, h, pad=16))
        path = out / f"{backend}-{name}.png"
        grab(app, view, path)
        r = view.video_rect()
        result["cases"][name] = {"png": str(path), "frame": [w, h],
                                 "video_rect": [r.x(), r.y(), r.width(), r.height()]}
    result["backend_after"] = view.backend
    view.release()
    view.close()
    return result


class FakePlayer:
    """Stands in for app.play.player.Player: a moving test picture at 30 fps."""

    def __init__(self, width: int = 1280, height: int = 720) -> None:
        self.t0 = time.monotonic()
        self.size = (width, height)
        self.frame = None
        self.stopped = False
        self.is_live = True

    def latest_frame(self):  # type: ignore[no-untyped-def]
        t = time.monotonic() - self.t0
        if self.frame is None or t - self.frame.pts >= 1 / 30:
            self.frame = moving_frame(*self.size, t)
            self.frame.pts = t
        return self.frame

    def stop(self) -> None:
        self.stopped = True


def render_window(app: QApplication, backend: str, out: Path, seconds: float = 3.0) -> dict:
    from app.ui.windows.play_window import PlayWindow

    player = FakePlayer()
    win = PlayWindow(player, title="rtmp://127.0.0.1/live/demo", danmaku_rate=40, backend=backend)
    win.resize(1100, 700)
    win.move(0, 0)
    win.show()
    win.overlay.add("这是我发的弹幕 my own comment ✨", own=True)
    win.hearts.like(6)
    pump(app, seconds)
    win.overlay.add("晚到的自己的弹幕 late own comment", own=True)
    win.hearts.like(8)
    pump(app, 0.8)
    path = out / f"play-window-{backend}.png"
    grab(app, win, path)
    info = {"png": str(path), "backend": win.view.backend, "stats": win.stats_text(),
            "on_screen": win.overlay.model.on_screen(), "hearts": win.hearts.alive()}
    win.close()
    for _ in range(100):  # the window stops the player off the GUI thread: wait for it, bounded
        pump(app, 0.05)
        if player.stopped:
            break
    info["player_stopped"] = player.stopped
    return info


def main(argv: list[str]) -> int:
    backend, out = argv[0], Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication(["render_script"])
    if backend == "gl-broken":  # a driver whose shader compiler rejects ours: must fall back
        import app.ui.video.video_view_gl as gl

        gl.FRAGMENT_SHADER = "this is not GLSL"
        backend = "gl"
    if len(argv) > 2 and argv[2] == "window":
        result = render_window(app, backend, out)
    else:
        result = render_cases(app, backend, out)
    print(json.dumps(result))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
