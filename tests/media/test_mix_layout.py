"""Mixer layouts and the yuv420p compose step (no server: pure functions)."""

from __future__ import annotations

import av
import numpy as np
import pytest

from server.media.mix_layout import Rect, blank, paste, rects


def solid(w: int, h: int, rgb: tuple[int, int, int]) -> np.ndarray:
    img = np.zeros((h, w, 3), np.uint8)
    img[:] = rgb
    return av.VideoFrame.from_ndarray(img, format="rgb24").reformat(format="yuv420p").to_ndarray()


def rgb_at(canvas: np.ndarray, x: int, y: int) -> np.ndarray:
    f = av.VideoFrame.from_ndarray(canvas, format="yuv420p")
    return f.to_ndarray(format="rgb24")[y, x].astype(int)


def test_pip_tiles_inside_and_disjoint() -> None:
    tiles = rects("pip", 4, 960, 540)
    assert tiles[0] == Rect(0, 0, 960, 540)
    for t in tiles[1:]:
        assert t.x + t.w <= 960 and t.y >= 0 and t.y + t.h <= 540 and t.w == 240
        assert all(v % 2 == 0 for v in (t.x, t.y, t.w, t.h))
    ys = sorted(t.y for t in tiles[1:])
    assert all(b - a >= tiles[1].h for a, b in zip(ys, ys[1:])), "co-host tiles do not overlap"


def test_side_by_side_halves() -> None:
    assert rects("side_by_side", 2, 960, 540) == [Rect(0, 0, 480, 540), Rect(480, 0, 480, 540)]
    with pytest.raises(ValueError):
        rects("mosaic", 2, 960, 540)
    assert rects("pip", 0, 960, 540) == []


@pytest.mark.parametrize("layout", ["pip", "side_by_side"])
def test_compose_puts_each_colour_in_its_tile(layout: str) -> None:
    w, h = 960, 540
    canvas = blank(w, h)
    colours = [(255, 0, 0), (0, 0, 255)]
    tiles = rects(layout, 2, w, h)
    for t, c in zip(tiles, colours):
        paste(canvas, solid(t.w, t.h, c), t, w, h)
    for t, c in zip(tiles, colours):
        got = rgb_at(canvas, t.x + t.w // 2, t.y + t.h // 2)
        assert np.abs(got - np.array(c)).max() < 40, (layout, t, got)
    if layout == "pip":
        assert np.abs(rgb_at(canvas, 100, 100) - np.array(colours[0])).max() < 40
