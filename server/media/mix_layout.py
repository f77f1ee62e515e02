"""Mixer layouts: where each input of a mixed room goes on the output picture, and the compose step.

A layout maps the number of inputs to rectangles on the ``width`` x ``height`` canvas, input 0
(the room's anchor) first:

- ``pip`` (co-hosting, 连麦): input 0 fills the canvas; inputs 1.. are small tiles stacked
  upwards from the bottom-right corner (a quarter of the width each, 16:9, 16 px margin).
- ``side_by_side`` (PK): two (or more) equal columns, input 0 on the left.

Frames are composed in yuv420p planes (no colour conversion): each input is scaled to its tile by
the decoder thread, so composing is a few numpy slice copies.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LAYOUTS = ("pip", "side_by_side")
MARGIN = 16
GAP = 8


@dataclass(frozen=True)
class Rect:
    """A tile on the canvas; all values even (yuv420p chroma is subsampled by 2)."""

    x: int
    y: int
    w: int
    h: int


def _even(v: float) -> int:
    return max(2, int(v) // 2 * 2)


def rects(layout: str, n: int, width: int, height: int) -> list[Rect]:
    """The tile of each of ``n`` inputs under ``layout`` (ValueError on an unknown layout)."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}; expected one of {LAYOUTS}")
    if n <= 0:
        return []
    if layout == "side_by_side":
        w = _even(width / n)
        return [Rect(i * w, 0, w, height) for i in range(n)]
    out = [Rect(0, 0, width, height)]
    tw = _even(width / 4)
    th = _even(tw * 9 / 16)
    for i in range(1, n):
        y = height - MARGIN - i * th - (i - 1) * GAP
        out.append(Rect(_even(width - MARGIN - tw), _even(max(0, y)), tw, th))
    return out


def blank(width: int, height: int) -> np.ndarray:
    """A black yuv420p picture as the (h * 3 / 2, w) array PyAV's ``from_ndarray`` takes."""
    img = np.empty((height * 3 // 2, width), np.uint8)
    img[:height] = 16
    img[height:] = 128
    return img


def paste(canvas: np.ndarray, tile: np.ndarray, r: Rect, width: int, height: int) -> None:
    """Copy the yuv420p ``tile`` (r.w x r.h, same packed form) into ``canvas`` at ``r``."""
    canvas[r.y:r.y + r.h, r.x:r.x + r.w] = tile[:r.h]
    cw, ch, tcw = width // 2, height // 2, r.w // 2
    # chroma planes: U then V, each (h/2 x w/2) stored row-packed in the trailing h/2 rows
    for plane in range(2):
        cplane = canvas[height:].reshape(-1)[plane * cw * ch:(plane + 1) * cw * ch].reshape(ch, cw)
        tplane = tile[r.h:].reshape(-1)[plane * tcw * (r.h // 2):(plane + 1) * tcw * (r.h // 2)]
        cplane[r.y // 2:r.y // 2 + r.h // 2, r.x // 2:r.x // 2 + tcw] = tplane.reshape(r.h // 2, tcw)
