"""The fast skin smoother (issue 14) looks like the old one, smooths skin, keeps edges, costs less."""

from __future__ import annotations

import time

import cv2
import numpy as np

from app.capture.filters import FilterChain, SkinSmoother
from tests.capture.filters_reference import OldSkinSmoother

CHEEK = (slice(380, 470), slice(500, 600))  # skin only: no eyes, mouth or outline


def face_like() -> np.ndarray:
    """A 720p synthetic face: skin ellipse with blemishes, hair, eyes, mouth, text, sensor noise."""
    rng = np.random.default_rng(7)
    img = np.empty((720, 1280, 3), np.uint8)
    img[:] = (90, 70, 50)
    cv2.ellipse(img, (640, 380), (180, 240), 0, 0, 360, (120, 150, 200), -1)
    cv2.ellipse(img, (640, 170), (200, 90), 0, 180, 360, (30, 30, 40), -1)
    for x in (570, 710):
        cv2.ellipse(img, (x, 330), (30, 14), 0, 0, 360, (40, 30, 30), -1)
        cv2.circle(img, (x, 330), 8, (10, 10, 10), -1)
    cv2.ellipse(img, (640, 500), (60, 16), 0, 0, 360, (90, 90, 170), -1)
    for _ in range(150):
        cv2.circle(img, (int(rng.integers(500, 780)), int(rng.integers(200, 600))), 3, (100, 125, 175), -1)
    cv2.putText(img, "TEXT 123", (900, 650), cv2.FONT_HERSHEY_SIMPLEX, 2, (255, 255, 255), 3)
    return np.clip(img + rng.normal(0, 6, img.shape), 0, 255).astype(np.uint8)


def blemish_contrast(img: np.ndarray) -> float:
    return float(cv2.GaussianBlur(img[CHEEK][:, :, 2].astype(np.float32), (0, 0), 2).std())


def test_new_smoother_looks_like_the_old_one() -> None:
    img = face_like()
    for level in (1, 5, 9):
        old, new = OldSkinSmoother().apply(img, level), SkinSmoother().apply(img, level)
        diff = np.abs(old.astype(np.int16) - new)
        assert diff.mean() < 1.5, (level, diff.mean())
        assert np.percentile(diff, 99) <= 16, level
        # at least as smooth as before on the cheek (within 15 %)
        assert blemish_contrast(new) < 1.15 * blemish_contrast(old), level


def test_smoothing_reduces_blemishes_and_keeps_edges() -> None:
    img = face_like()
    out = SkinSmoother().apply(img, 7)
    assert blemish_contrast(out) < 0.6 * blemish_contrast(img)
    grad = [float(np.abs(cv2.Sobel(x[300:360, 530:610, 1], cv2.CV_32F, 1, 0)).max()) for x in (img, out)]
    assert grad[1] > 0.85 * grad[0], "eye outline stays sharp"
    text = (slice(600, 680), slice(880, 1200))
    assert np.array_equal(out[text], img[text]), "text on the background is untouched"


def test_chain_never_writes_into_the_callers_picture() -> None:
    img = face_like()
    keep = img.copy()
    for beauty, whiteness, mirror in ((5, 5, True), (0, 5, True), (0, 0, True), (5, 0, False)):
        out = FilterChain(beauty, whiteness, mirror).apply(img)
        assert out is not img and np.array_equal(img, keep)
    assert FilterChain().apply(img) is img
    blue = np.full((360, 640, 3), (200, 60, 30), np.uint8)  # no skin: beauty leaves it as it is
    assert SkinSmoother().apply(blue, 9) is blue


def _cpu_ms(fn, img: np.ndarray, runs: int = 15) -> float:
    fn(img)
    times = []
    for _ in range(runs):
        t = time.thread_time()
        fn(img)
        times.append(time.thread_time() - t)
    return float(np.median(times)) * 1000


def test_smoother_costs_well_under_the_old_one() -> None:
    """Same run, same picture, one OpenCV thread, CPU time: robust to a loaded machine."""
    img = face_like()
    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    try:
        new, old = SkinSmoother(), OldSkinSmoother()
        ratio = _cpu_ms(lambda i: new.apply(i, 5), img) / _cpu_ms(lambda i: old.apply(i, 5), img)
    finally:
        cv2.setNumThreads(threads)
    assert ratio < 0.6, ratio
