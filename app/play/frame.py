"""The decoded video frame handed from the play engine to a view (no Qt).

Planes are kept in their decoded YUV layout so the GL view can upload them as textures and
convert to RGB in a shader: no per-frame RGB conversion in Python on the display path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import numpy as np


class ColorSpace(Enum):
    BT601 = "bt601"
    BT709 = "bt709"


class ColorRange(Enum):
    LIMITED = "limited"  # Y 16..235, UV 16..240 ("tv", "mpeg")
    FULL = "full"  # 0..255 ("pc", "jpeg")


class PixelFormat(Enum):
    YUV420P = "yuv420p"  # three planes: Y (w x h), U and V (w/2 x h/2)
    NV12 = "nv12"  # two planes: Y, interleaved UV (w/2 x h/2 x 2)


@dataclass(slots=True)
class YuvFrame:
    """One decoded picture.

    ``planes`` are 2-D ``uint8`` arrays (NV12's UV plane is ``(h/2, w/2*2)``) whose row length
    may exceed the visible width: ``strides`` gives bytes per row and ``width``/``height`` the
    visible size. ``pts`` is the presentation time in seconds on the player's clock (rebased to
    the stream start), ``wallclock`` the sender's capture time in unix seconds when the stream
    carries one (for latency figures), else None; ``decoded_at`` the unix time the decoder
    handed the picture out (set with ``wallclock``: latency on the decode side).
    """

    width: int
    height: int
    planes: tuple[np.ndarray, ...]
    strides: tuple[int, ...]
    pts: float
    pixel_format: PixelFormat = PixelFormat.YUV420P
    color_space: ColorSpace = ColorSpace.BT601
    color_range: ColorRange = ColorRange.LIMITED
    sample_aspect: float = 1.0
    wallclock: float | None = None
    decoded_at: float | None = None
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def display_aspect(self) -> float:
        return self.width * self.sample_aspect / max(1, self.height)

    @classmethod
    def from_av(cls, frame: "object", pts: float, wallclock: float | None = None) -> "YuvFrame":
        """Wrap a PyAV ``VideoFrame`` in yuv420p/yuvj420p/nv12 without copying pixel data twice.

        Other formats are converted to yuv420p once here (rare: our streams are yuv420p).
        """
        import av  # local import: frame.py stays importable without PyAV loaded

        f = frame
        assert isinstance(f, av.VideoFrame)
        name = f.format.name
        full = name.startswith("yuvj") or str(getattr(f, "color_range", "")).endswith(("2", "JPEG"))
        if name not in ("yuv420p", "yuvj420p", "nv12"):
            f = f.reformat(format="yuv420p")
            name = "yuv420p"
        planes = []
        strides = []
        for p in f.planes:
            h = p.height
            arr = np.frombuffer(p, dtype=np.uint8).reshape(h, p.line_size)  # type: ignore[call-overload]
            planes.append(arr)
            strides.append(p.line_size)
        cs = ColorSpace.BT709 if int(getattr(f, "colorspace", 0) or 0) == 1 else ColorSpace.BT601
        return cls(
            width=f.width,
            height=f.height,
            planes=tuple(planes),
            strides=tuple(strides),
            pts=pts,
            pixel_format=PixelFormat.NV12 if name == "nv12" else PixelFormat.YUV420P,
            color_space=cs,
            color_range=ColorRange.FULL if full else ColorRange.LIMITED,
            wallclock=wallclock,
        )

    @classmethod
    def from_i420(cls, buf: np.ndarray, width: int, height: int, pts: float = 0.0,
                  color_space: ColorSpace = ColorSpace.BT601,
                  color_range: ColorRange = ColorRange.LIMITED) -> "YuvFrame":
        """From a packed I420 buffer as produced by ``cv2.cvtColor(bgr, COLOR_BGR2YUV_I420)``."""
        flat = buf.reshape(-1)
        ysz = width * height
        csz = (width // 2) * (height // 2)
        y = flat[:ysz].reshape(height, width)
        u = flat[ysz:ysz + csz].reshape(height // 2, width // 2)
        v = flat[ysz + csz:ysz + 2 * csz].reshape(height // 2, width // 2)
        return cls(width, height, (y, u, v), (width, width // 2, width // 2), pts,
                   color_space=color_space, color_range=color_range)
