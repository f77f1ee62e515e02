"""Build sources from the command line's ``--source`` spec (SPEC section 10).

``camera[:N|:PATH]``, ``screen[:N|:LEFT,TOP,WIDTH,HEIGHT]``, ``screen+camera[:N[:M]]``
(picture-in-picture), ``testsrc``, ``file:PATH``. A camera PATH is a video file OpenCV reads as
if it were a camera (for machines without one).
"""

from __future__ import annotations

from app.capture import CaptureError
from app.capture.video import CameraSource, FileSource, TestSource, VideoSource


def open_video_source(spec: str, width: int, height: int, fps: int) -> VideoSource:
    """Open the video source named by ``spec``; raises :class:`CaptureError` with a clear message."""
    kind, _, arg = spec.partition(":")
    if kind == "testsrc":
        return TestSource(width, height)
    if kind == "file":
        if not arg:
            raise CaptureError("bad_source", "file: needs a path, e.g. file:/path/video.mp4")
        return FileSource(arg)
    if kind == "camera":
        device: int | str = int(arg) if arg.isdigit() else (arg or 0)
        return CameraSource(device, width, height, fps)
    if kind in ("screen", "screen+camera"):
        from app.capture.screen import PipSource, open_screen

        screen_arg, _, cam_arg = arg.partition(":")
        if "," in screen_arg:
            try:
                left, top, w, h = (int(v) for v in screen_arg.split(","))
            except ValueError:
                raise CaptureError("bad_source",
                                   f"bad screen region {screen_arg!r}: use LEFT,TOP,WIDTH,HEIGHT") from None
            screen = open_screen(region=(left, top, w, h))
        else:
            screen = open_screen(int(screen_arg) if screen_arg else 1)
        if kind == "screen":
            return screen
        try:
            camera = CameraSource(int(cam_arg) if cam_arg.isdigit() else (cam_arg or 0))
        except CaptureError:
            screen.close()
            raise
        return PipSource(screen, camera)
    raise CaptureError("bad_source",
                       f"unknown source {spec!r}: use camera[:N], screen[:N], testsrc or file:PATH")
