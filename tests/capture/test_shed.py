"""Under load the compose stage sheds the beauty filter before any picture is dropped (issue 14)."""

from __future__ import annotations

import threading
import time

import cv2
import numpy as np
import pytest

from app.capture.audio import AudioMixer, SilenceSource
from app.capture.filters import FilterChain, FilterShedder, shed_confirm
from app.capture.pipeline import CapturePipeline, Composed, DropOldestQueue


def test_shedder_sheds_at_high_and_comes_back_after_a_calm_hold() -> None:
    s = FilterShedder(high=3, low=1, hold=4)
    assert [s.shed(b) for b in (0, 1, 2)] == [False, False, False]
    assert s.shed(3) is True
    # still shedding while it stays above low; a busy picture restarts the calm count
    assert [s.shed(b) for b in (2, 1, 1, 1, 5, 1, 0, 1)] == [True] * 8
    assert s.shed(0) is False, "four calm pictures in a row after the last busy one"
    assert s.shed(2) is False, "between low and high: no change"
    with pytest.raises(ValueError):
        FilterShedder(high=1, low=1)


def test_shedder_waits_for_a_backlog_that_lasts() -> None:
    """A stall's backlog drains within a few pictures: not load (see FilterShedder.confirm)."""
    s = FilterShedder(high=3, low=1, hold=4, confirm=3)
    assert [s.shed(b) for b in (0, 6, 5, 1, 0, 4, 3, 2, 0)] == [False] * 9, "drained: never shed"
    assert [s.shed(b) for b in (3, 4)] == [False, False]
    assert s.shed(5) is True, "three pictures in a row behind: shed"
    assert s.shed(4) is True
    assert shed_confirm(30) == 8 and shed_confirm(1) == 1
    with pytest.raises(ValueError):
        FilterShedder(confirm=0)


def test_chain_shed_leaves_beauty_out_keeps_whitening_and_mirror() -> None:
    img = np.empty((180, 320, 3), np.uint8)
    img[:] = (120, 150, 200)
    img = cv2.add(img, np.random.default_rng(0).integers(0, 40, img.shape, dtype=np.uint8))
    chain = FilterChain(beauty=9, whiteness=5, mirror=True)
    light = FilterChain(beauty=0, whiteness=5, mirror=True).apply(img)
    assert np.array_equal(chain.apply(img, shed=True), light)
    assert not np.array_equal(chain.apply(img), light)
    assert len(DropOldestQueue(3, lambda: None)) == 0


class Skin:
    """A skin-coloured noisy picture (what the beauty filter changes), the same array each read."""

    def __init__(self) -> None:
        img = np.empty((180, 320, 3), np.uint8)
        img[:] = (120, 150, 200)
        self.img = cv2.add(img, np.random.default_rng(1).integers(0, 40, img.shape, dtype=np.uint8))

    def read(self) -> np.ndarray:
        return self.img

    def close(self) -> None:
        pass


def test_pipeline_sheds_beauty_while_a_consumer_is_behind_then_restores_it() -> None:
    src = Skin()
    pipe = CapturePipeline(src, AudioMixer(SilenceSource()), 320, 180, 30, name="shed")
    waiting = [0]  # the consumer's queue depth, as its backlog probe reports it
    got: list[tuple[int, bool]] = []  # (backlog when composed, beauty applied)
    lock = threading.Lock()

    def tap(c: Composed) -> None:
        with lock:
            got.append((waiting[0], not np.array_equal(c.bgr, src.img)))

    def wait_for(pred, timeout: float = 3.0) -> bool:  # type: ignore[no-untyped-def]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with lock:
                if pred(list(got)):
                    return True
            time.sleep(0.01)
        return False

    pipe.set_filters(beauty=9)
    pipe.add_video_tap(tap, i420=True, backlog=lambda: waiting[0])
    pipe.start()
    try:
        assert wait_for(lambda g: len(g) >= 3 and g[-1][1]), "smoothed while nobody is behind"
        waiting[0] = 8
        n = len(got)
        assert wait_for(lambda g: len(g) >= n + 5)
        assert wait_for(lambda g: len(g) >= n + shed_confirm(30) + 5)
        with lock:
            busy = [smoothed for b, smoothed in got[n + shed_confirm(30) + 1:] if b == 8]
        assert busy and not any(busy), "no smoothing while the consumer is 8 pictures behind"
        assert pipe.counters.shed >= len(busy)
        waiting[0] = 0
        assert wait_for(lambda g: g[-1][1], timeout=4.0), "smoothing back after a calm second"
        shed = pipe.counters.shed
        with lock:
            calm = [smoothed for b, smoothed in got if b == 0]
        assert shed >= 25, "held off for ~1 s (30 pictures at 30 fps) after the backlog cleared"
        assert calm[0] and calm[-1]
    finally:
        pipe.stop()
    assert not [t for t in threading.enumerate() if t.name.startswith("shed-")]


def test_a_consumer_stall_at_go_live_does_not_shed_beauty() -> None:
    """The encoder stalls once (FFmpeg's RTMP publish holds the GIL ~0.2 s at go-live), then keeps
    up: its backlog drains at once and every picture keeps the beauty filter. On the old code the
    first backlog of 3 shed it for a second (36 pictures in bench_push --beauty 5).

    At 12 fps (83 ms a picture, so a loaded machine still keeps up) a 0.4 s stall leaves 3 pictures
    waiting for one picture (the old code sheds); ``shed_confirm(12)`` is 3 pictures in a row."""
    fps = 12
    assert shed_confirm(fps) == 3
    src = Skin()
    pipe = CapturePipeline(src, AudioMixer(SilenceSource()), 320, 180, fps, name="stall")
    q: DropOldestQueue = DropOldestQueue(12, lambda: None)
    smoothed: list[bool] = []
    stop = threading.Event()

    def consumer() -> None:  # stalls 0.4 s on its first picture, then takes pictures at once
        first = True
        while not stop.is_set():
            c = q.get(timeout=0.1)
            if c is None:
                continue
            if first:
                time.sleep(0.4)
                first = False
            smoothed.append(not np.array_equal(c.bgr, src.img))

    pipe.set_filters(beauty=9)
    pipe.add_video_tap(q.put, backlog=q.__len__)
    t = threading.Thread(target=consumer, daemon=True)
    t.start()
    pipe.start()
    try:
        deadline = time.monotonic() + 10
        while len(smoothed) < 15 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(smoothed) >= 15
        assert pipe.counters.shed == 0, f"{pipe.counters.shed} pictures without beauty after one stall"
        assert all(smoothed[:15])
    finally:
        pipe.stop()
        stop.set()
        t.join(2)
