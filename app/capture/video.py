"""Video sources: synthetic test pattern, media file, camera (OpenCV).

All sources return BGR ``uint8`` arrays from ``read()``; ``None`` means the source has ended.
``read()`` never blocks for long: live devices are read by their own thread and ``read()`` hands
out the latest picture, so the publisher's capture loop alone decides the frame rate.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

import cv2
import numpy as np

from app.capture import CaptureError, open_media_track, timecode

log = logging.getLogger(__name__)


class VideoSource(Protocol):
    """What the publisher reads pictures from."""

    def read(self) -> np.ndarray | None: ...

    def close(self) -> None: ...


def fit(image: np.ndarray, width: int, height: int) -> np.ndarray:
    """Scale ``image`` into ``width`` x ``height`` keeping its aspect, padding with black."""
    h, w = image.shape[:2]
    if (w, h) == (width, height):
        return image
    scale = min(width / w, height / h)
    nw, nh = max(2, round(w * scale)), max(2, round(h * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    scaled = cv2.resize(image, (nw, nh), interpolation=interp)
    if (nw, nh) == (width, height):
        return scaled
    out = np.zeros((height, width, 3), np.uint8)
    x, y = (width - nw) // 2, (height - nh) // 2
    out[y:y + nh, x:x + nw] = scaled
    return out


class TestSource:
    """A moving synthetic picture with the capture wall-clock time stamped into its pixels.

    Colour bars, a bouncing box and a sweeping bar, plus a :mod:`app.capture.timecode` block in the
    top-left so a receiver can measure glass-to-glass latency. ``clock`` returns unix seconds.
    """

    __test__ = False  # not a pytest test class despite the name

    def __init__(self, width: int = 1280, height: int = 720, stamp: bool = True,
                 clock: Callable[[], float] | None = None) -> None:
        self.width, self.height, self.stamp = width, height, stamp
        self._clock = clock or time.time
        bars = np.array([[192, 192, 192], [0, 192, 192], [192, 192, 0], [0, 192, 0],
                         [192, 0, 192], [0, 0, 192], [192, 0, 0]], np.uint8)
        idx = (np.arange(width) * len(bars) // width)
        self._background = np.repeat(bars[idx][None, :, :], height, axis=0)
        self._n = 0
        self._closed = False

    def read(self) -> np.ndarray | None:
        if self._closed:
            return None
        w, h, n = self.width, self.height, self._n
        self._n += 1
        img = self._background.copy()
        box = max(16, h // 6)
        period_x, period_y = max(1, w - box), max(1, h - box)
        x = abs((n * 7) % (2 * period_x) - period_x)
        y = abs((n * 5) % (2 * period_y) - period_y)
        img[y:y + box, x:x + box] = (255, 255, 255)
        bar = (n * 4) % w
        img[h - h // 10:, bar:bar + max(4, w // 80)] = (0, 0, 0)
        cv2.putText(img, f"{n:06d}", (w // 2 - 3 * box // 4, h // 2), cv2.FONT_HERSHEY_SIMPLEX,
                    box / 40, (255, 255, 255), max(1, box // 20), cv2.LINE_AA)
        if self.stamp and w >= timecode.WIDTH and h >= timecode.HEIGHT:
            timecode.stamp(img, int(self._clock() * 1000))
        return img

    def close(self) -> None:
        self._closed = True


class FileSource:
    """Pictures of a media file at the file's own speed (by its timestamps), looping by default.

    ``read()`` returns the picture due at the time elapsed since the first read, so the output
    frame rate can differ from the file's. ``None`` after the end when ``loop`` is False.
    """

    def __init__(self, path: str, loop: bool = True) -> None:

        self.path, self.loop = path, loop
        self._container, self._stream = open_media_track(path, "video", "file")
        self._stream.thread_type = "AUTO"
        self._frames = self._container.decode(self._stream)
        rate = self._stream.average_rate or self._stream.guessed_rate or 30
        self._frame_dur = 1.0 / float(rate)
        self._start: float | None = None
        self._offset = -1.0  # file time of the first frame of the current loop
        self._loop_base = 0.0  # elapsed time when the current loop started
        self._last_t = -1.0
        self._current: np.ndarray | None = None
        self._pending: tuple[float, np.ndarray] | None = None
        self._ended = False

    def _next(self) -> tuple[float, np.ndarray] | None:
        import av

        while True:
            try:
                frame = next(self._frames)
            except StopIteration:
                if not self.loop or self._last_t < 0:
                    return None
                self._container.seek(0)
                self._frames = self._container.decode(self._stream)
                self._loop_base = self._last_t + self._frame_dur
                self._offset = -1.0  # taken from the first frame of the next loop
                continue
            except av.FFmpegError as exc:  # a damaged packet: skip it, keep the stream alive
                log.warning("decode error in %s: %s", self.path, exc)
                continue
            t = float(frame.time or 0.0)
            if self._offset < 0:
                self._offset = t
            self._last_t = self._loop_base + t - self._offset
            return self._last_t, frame.to_ndarray(format="bgr24")

    def read(self) -> np.ndarray | None:
        if self._ended:
            return None
        now = time.monotonic()
        if self._start is None:
            self._start = now
        elapsed = now - self._start
        while True:
            if self._pending is None:
                self._pending = self._next()
                if self._pending is None:
                    self._ended = True
                    return None
            t, img = self._pending
            if t > elapsed and self._current is not None:
                return self._current
            self._current, self._pending = img, None

    def close(self) -> None:
        self._ended = True
        self._container.close()


def list_cameras(max_index: int = 10) -> list[int]:
    """OpenCV indices of this computer's cameras (named: :func:`app.capture.devices.list_camera_devices`)."""
    from app.capture.devices import list_camera_devices

    return [c.index for c in list_camera_devices(max_index=max_index)]


class CameraSource:
    """A camera read by OpenCV in its own thread (``capture-camera``); ``read()`` gives the latest.

    ``device`` is a camera index, or a path/URL OpenCV can open (a file-backed "virtual camera",
    used by tests where no camera exists). Files are read at their frame rate and loop.
    """

    def __init__(self, device: int | str = 0, width: int = 1280, height: int = 720,
                 fps: int = 30, first_frame_timeout: float = 5.0) -> None:
        self.device = device
        cap = cv2.VideoCapture(device)
        if not cap.isOpened():
            cap.release()
            if isinstance(device, int):
                cams = list_cameras()
                hint = f"cameras found: {cams}" if cams else "no camera found on this computer"
                raise CaptureError("no_camera", f"cannot open camera {device} ({hint})")
            raise CaptureError("no_camera", f"cannot open video capture {device!r}")
        self._is_file = isinstance(device, str)
        if not self._is_file:
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, width)
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, height)
            cap.set(cv2.CAP_PROP_FPS, fps)
        file_fps = cap.get(cv2.CAP_PROP_FPS) or fps
        self._period = 1.0 / file_fps if self._is_file and file_fps > 0 else 0.0
        self._cap = cap
        self._latest: np.ndarray | None = None
        self._error: str | None = None
        self._got_first = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="capture-camera", daemon=True)
        self._thread.start()
        if not self._got_first.wait(first_frame_timeout):
            self.close()
            raise CaptureError("camera_no_frames", f"camera {device!r} delivered no picture")
        if self._latest is None:
            self.close()
            raise CaptureError("camera_failed", self._error or f"camera {device!r} failed")

    def _run(self) -> None:
        next_t = time.monotonic()
        failures = 0
        while not self._stop.is_set():
            ok, img = self._cap.read()
            if not ok:
                if self._is_file and self._latest is not None:
                    self._cap.set(cv2.CAP_PROP_POS_FRAMES, 0)  # loop the file-backed camera
                    continue
                failures += 1
                if failures > 50:
                    self._error = f"camera {self.device!r} stopped delivering pictures"
                    log.error(self._error)
                    break
                time.sleep(0.02)
                continue
            failures = 0
            self._latest = img
            self._got_first.set()
            if self._period:
                next_t += self._period
                delay = next_t - time.monotonic()
                if delay > 0:
                    self._stop.wait(delay)
                else:
                    next_t = time.monotonic()
        self._got_first.set()

    @property
    def error(self) -> str | None:
        """Why the camera stopped delivering pictures (``read()`` then returns None)."""
        return self._error

    def read(self) -> np.ndarray | None:
        if self._error is not None:
            return None
        return self._latest

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(2)
        self._cap.release()
