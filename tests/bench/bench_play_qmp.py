"""Peer for bench_play: QtMultimedia's QMediaPlayer playing URL, glass-to-glass from time codes.

Run as a subprocess: ``python bench_play_qmp.py URL SECONDS``; prints one JSON object
``{"first_frame_ms": .., "latencies_ms": [..], "frames": n, "error": ..}``. (A benchmark script,
not app code: it imports PySide6 directly.)
"""

from __future__ import annotations

import json
import os
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np  # noqa: E402
from PySide6.QtCore import QTimer, QUrl  # noqa: E402
from PySide6.QtGui import QGuiApplication, QImage  # noqa: E402
from PySide6.QtMultimedia import QMediaPlayer, QVideoFrame, QVideoFrameFormat, QVideoSink  # noqa: E402

from app.capture.timecode import read as read_timecode  # noqa: E402

YUV = {QVideoFrameFormat.PixelFormat.Format_YUV420P, QVideoFrameFormat.PixelFormat.Format_NV12,
       QVideoFrameFormat.PixelFormat.Format_YV12, QVideoFrameFormat.PixelFormat.Format_NV21,
       QVideoFrameFormat.PixelFormat.Format_YUV422P}


def luma(frame: QVideoFrame) -> np.ndarray | None:
    if frame.pixelFormat() in YUV and frame.map(QVideoFrame.MapMode.ReadOnly):
        try:
            stride, h = frame.bytesPerLine(0), frame.height()
            return np.frombuffer(frame.bits(0), np.uint8, stride * h).reshape(h, stride).copy()
        finally:
            frame.unmap()
    img = frame.toImage().convertToFormat(QImage.Format.Format_Grayscale8)
    if img.isNull():
        return None
    return np.frombuffer(img.constBits(), np.uint8, img.sizeInBytes()).reshape(
        img.height(), img.bytesPerLine()).copy()


def main() -> int:
    url, seconds = sys.argv[1], float(sys.argv[2])
    app = QGuiApplication(sys.argv)
    player = QMediaPlayer()
    sink = QVideoSink()
    player.setVideoSink(sink)
    out: dict = {"first_frame_ms": None, "latencies_ms": [], "frames": 0, "error": None,
                 "unreadable": 0}
    t0 = time.monotonic()

    def on_frame(frame: QVideoFrame) -> None:
        now = time.time()
        if not frame.isValid():
            return
        out["frames"] += 1
        if out["first_frame_ms"] is None:
            out["first_frame_ms"] = (time.monotonic() - t0) * 1000
        y = luma(frame)
        ms = read_timecode(y) if y is not None else None
        if ms is None:
            out["unreadable"] += 1
        else:
            out["latencies_ms"].append(now * 1000 - ms)

    sink.videoFrameChanged.connect(on_frame)
    player.errorOccurred.connect(lambda e, s: out.__setitem__("error", f"{e}: {s}"))
    player.setSource(QUrl(url))
    player.play()
    QTimer.singleShot(int(seconds * 1000), app.quit)
    app.exec()
    player.stop()
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
