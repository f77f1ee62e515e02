"""Beauty filters do what they say at 720p: smooth skin only, brighten, mirror, pause card."""

from __future__ import annotations

import cv2
import numpy as np

from app.capture.filters import FilterChain, SkinSmoother, mirror, pause_image, whiten

SKIN = (120, 150, 200)  # BGR; inside the YCrCb skin box


def noisy(colour: tuple[int, int, int], shape: tuple[int, int] = (720, 1280)) -> np.ndarray:
    rng = np.random.default_rng(3)
    img = np.empty((*shape, 3), np.uint8)
    img[:] = colour
    return cv2.add(img, rng.integers(0, 40, img.shape, dtype=np.uint8))


def blemish_contrast(img: np.ndarray) -> float:
    """Contrast of mid-size blemishes: std of the picture blurred at the blemish scale."""
    return float(cv2.GaussianBlur(img[:, :, 2].astype(np.float32), (0, 0), 2).std())


def test_smoothing_strength_grows_with_level_on_skin() -> None:
    img = noisy(SKIN)
    rng = np.random.default_rng(4)
    for _ in range(300):  # blemishes ~6 px across
        x, y = int(rng.integers(0, 1270)), int(rng.integers(0, 710))
        cv2.circle(img, (x, y), 3, (100, 125, 175), -1)
    s = SkinSmoother()
    contrast = [blemish_contrast(s.apply(img, level)) for level in (0, 3, 9)]
    assert contrast[0] > contrast[1] > contrast[2]
    assert contrast[2] < 0.6 * contrast[0]
    assert s.apply(img, 0) is img


def test_smoothing_leaves_non_skin_areas_and_edges_alone() -> None:
    img = noisy((200, 60, 30))  # blue: not skin
    img[:, 640:] = (20, 20, 20)
    out = SkinSmoother().apply(img, 9)
    assert np.abs(out.astype(int) - img).mean() < 1.0


def test_whitening_brightens_midtones_keeps_extremes() -> None:
    ramp = np.tile(np.arange(256, dtype=np.uint8)[None, :, None], (4, 1, 3))
    out = whiten(ramp, 5)
    assert out[0, 0, 0] == 0 and out[0, 255, 0] == 255
    assert out[0, 128, 0] > 150
    assert np.all(np.diff(out[0, :, 0].astype(int)) >= 0), "monotonic: no banding inversions"
    assert whiten(ramp, 0) is ramp
    assert (whiten(ramp, 9)[0, 128, 0] > whiten(ramp, 2)[0, 128, 0])


def test_mirror_and_chain_order() -> None:
    img = np.zeros((360, 640, 3), np.uint8)
    img[:, :10] = 255
    assert mirror(img)[:, -10:].min() == 255
    chain = FilterChain(mirror=True)
    assert chain.apply(img)[:, -10:].min() == 255
    chain.mirror = False  # runtime change
    assert chain.apply(img)[:, :10].min() == 255


def test_pause_image_sizes_and_custom_picture() -> None:
    card = pause_image(1280, 720)
    assert card.shape == (720, 1280, 3) and card.std() > 5
    pic = np.full((100, 100, 3), 77, np.uint8)
    fitted = pause_image(640, 360, image=pic)
    assert fitted.shape == (360, 640, 3) and fitted[180, 320, 0] == 77 and fitted[180, 10, 0] == 0
