"""Video view cost per frame at 720p and 1080p: GL texture upload vs the QPainter fallback.

    python tests/bench/bench_view_upload.py [--frames 60]

GL: the real ``GlVideoView`` in a window on a private Xvfb (Mesa llvmpipe: software GL, so the
upload is a CPU copy; with a GPU driver it is a DMA), each frame a new YuvFrame so every paint
uploads three planes; reports the upload (glTexImage2D/glTexSubImage2D of Y, U, V) and the whole
paintGL. Fallback, same process: YUV -> BGRA with OpenCV plus the scale to the view, which is
what the QPainter view does once per new frame.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

SIZES = {"720p": (1280, 720), "1080p": (1920, 1080)}


def frames_for(w: int, h: int, n: int = 4):  # type: ignore[no-untyped-def]
    import numpy as np

    from tests.ui.frames import color_bars

    out = []
    rng = np.random.default_rng(1)
    for i in range(n):
        f = color_bars(w, h, pad=32)
        f.planes[0][: h // 4, : w // 4] = rng.integers(16, 235, (h // 4, w // 4), dtype=np.uint8)
        f.pts = i / 30
        out.append(f)
    return out


def summary(xs: list[float]) -> dict:
    xs = sorted(xs)
    return {"median_ms": statistics.median(xs), "p95_ms": xs[max(0, int(len(xs) * 0.95) - 1)]}


def child_gl(frames: int) -> list[dict]:
    from app.ui.qt import QApplication
    from app.ui.video.video_view import VideoView

    app = QApplication(["bench"])
    view = VideoView(backend="gl")
    rows = []
    for name, (w, h) in SIZES.items():
        view.resize(w // 2, h // 2)
        view.show()
        app.processEvents()
        pool = frames_for(w, h)
        uploads, paints = [], []
        for i in range(frames + 2):
            f = pool[i % len(pool)]
            f = type(f)(f.width, f.height, f.planes, f.strides, i / 30)  # a new frame object
            view.set_frame(f)
            before = view.stats.uploads
            view.view.grabFramebuffer()  # forces paintGL now (stats are taken inside it)
            assert view.stats.uploads == before + 1
            if i >= 2:  # the first uploads allocate the textures
                uploads.append(view.stats.upload_ms)
                paints.append(view.stats.paint_ms)
        rows.append({"path": f"gl ({view.view.gl_info.split(' / ')[0]})", "size": name,
                     "upload": summary(uploads), "paint": summary(paints)})
    view.release()
    return rows


def fallback(frames: int) -> list[dict]:
    import cv2

    from app.ui.video.video_math import frame_to_bgra

    rows = []
    for name, (w, h) in SIZES.items():
        pool = frames_for(w, h)
        conv, scale = [], []
        for i in range(frames):
            t0 = time.perf_counter()
            bgra = frame_to_bgra(pool[i % len(pool)])
            t1 = time.perf_counter()
            cv2.resize(bgra, (w // 2, h // 2), interpolation=cv2.INTER_AREA)
            t2 = time.perf_counter()
            conv.append((t1 - t0) * 1000)
            scale.append((t2 - t1) * 1000)
        rows.append({"path": "QPainter fallback (cv2)", "size": name, "upload": summary(conv),
                     "paint": summary(scale)})
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--child-gl", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child_gl:
        print(json.dumps(child_gl(a.frames)))
        return 0
    from tests.ui.xvfb import xvfb

    rows = fallback(a.frames)
    with xvfb("2048x1200x24") as display:
        env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb", PYTHONPATH=str(ROOT),
                   QT_LOGGING_RULES="qt.qpa.*=false")
        proc = subprocess.run([sys.executable, __file__, "--child-gl", "--frames", str(a.frames)],
                              env=env, capture_output=True, text=True, timeout=600)
    if proc.returncode == 0:
        rows = json.loads(proc.stdout.strip().splitlines()[-1]) + rows
    else:
        print("GL run failed:", proc.stderr[-2000:], file=sys.stderr)
    print(f"video view per frame ({a.frames} frames, padded strides, view at half size)")
    print(f"{'path':<44} {'size':<6} {'upload/convert median':>22} {'p95':>7} "
          f"{'paint(GL)/scale(cpu) median':>28} {'p95':>7}")
    for r in rows:
        print(f"{r['path'][:44]:<44} {r['size']:<6} {r['upload']['median_ms']:>19.2f} ms "
              f"{r['upload']['p95_ms']:>7.2f} {r['paint']['median_ms']:>25.2f} ms {r['paint']['p95_ms']:>7.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
