"""Overlays (alpha blend, placement, opacity) and the capture pipeline's taps and setters."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import cv2
import numpy as np

from app.capture.audio import AudioMixer, ToneSource
from app.capture.overlays import Overlay, OverlayStack, prepare
from app.capture.pipeline import CapturePipeline, Composed
from app.ui.settings import ClientSettings


def _logo(tmp_path: Path) -> str:
    logo = np.zeros((50, 100, 4), np.uint8)
    logo[:, :, 2] = 255  # red
    logo[:, :, 3] = 255
    cv2.imwrite(str(tmp_path / "logo.png"), logo)
    return str(tmp_path / "logo.png")


def test_blend_position_scale_and_opacity(tmp_path: Path) -> None:
    img = np.full((360, 640, 3), 100, np.uint8)
    st = OverlayStack()
    st.set([Overlay("image", _logo(tmp_path), position="top-left", scale=0.25, opacity=0.5)])
    out = st.apply(img.copy())
    (p,) = prepare(st.overlays, 640, 360)
    assert p.fg.shape[:2] == (80, 160) and (p.x, p.y) == (11, 11)  # 25 % of the width, 3 % margin
    assert tuple(out[20, 20]) == (50, 50, 178)  # half red over grey
    assert tuple(out[200, 400]) == (100, 100, 100)
    clear = OverlayStack()
    clear.set([Overlay("image", _logo(tmp_path), opacity=0.0), Overlay("image", "/nonexistent.png")])
    assert np.array_equal(clear.apply(img.copy()), np.full((360, 640, 3), 100, np.uint8))
    assert Overlay.from_dict({"kind": "video"}) is None and Overlay.from_dict("x") is None
    assert Overlay.from_dict(Overlay("text", text="hi").to_dict()) == Overlay("text", text="hi")


class Still:
    def __init__(self) -> None:
        self.img = np.full((360, 640, 3), 100, np.uint8)

    def read(self) -> np.ndarray:
        return self.img

    def close(self) -> None:
        pass


def test_pipeline_taps_setters_and_the_source_array_is_never_drawn_on(tmp_path: Path) -> None:
    src = Still()
    pipe = CapturePipeline(src, AudioMixer(ToneSource()), 640, 360, 30, name="t")
    got: list[Composed] = []
    chunks: list[int] = []
    pipe.add_video_tap(got.append, i420=True)
    pipe.start()
    try:
        pipe.add_audio_tap(lambda s, i, t: chunks.append(i))
        pipe.set_overlays([Overlay("image", _logo(tmp_path), position="top-left", scale=0.25, opacity=1.0)])
        pipe.set_filters(mirror=True)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not (got and tuple(got[-1].bgr[20, 20]) == (0, 0, 255)):
            time.sleep(0.02)
        last = got[-1]
        assert tuple(last.bgr[20, 20]) == (0, 0, 255), "overlay after the mirror: the logo stays where it was put"
        assert last.i420 is not None and last.i420.shape == (540, 640)
        assert np.all(src.img == 100), "the source's own array is untouched"
        assert chunks and all(b - a == 1024 for a, b in zip(chunks, chunks[1:], strict=False))
        # setters from many threads at once never tear a picture or raise
        ts = [threading.Thread(target=lambda k=k: [pipe.set_filters(beauty=k % 3, whiteness=k % 2)
                                                   or pipe.mixer.set_volumes(mic=k / 10) for _ in range(50)])
              for k in range(4)]
        for t in ts:
            t.start()
        for t in ts:
            t.join(5)
        n = len(got)
        time.sleep(0.3)
        assert len(got) > n
    finally:
        pipe.stop()
    assert not [t for t in threading.enumerate() if t.name.startswith("t-")]


def test_studio_settings_are_saved(tmp_path: Path) -> None:
    s = ClientSettings(client_dir=tmp_path)
    s.encoder = "hevc"
    s.overlays = [Overlay("text", text="欢迎", position="center").to_dict()]
    s.destinations = [{"name": "b", "url": "rtmp://b.example/live", "key": "k", "enabled": False}]
    s.save()
    back = ClientSettings.load(tmp_path)
    assert (back.encoder, back.overlays, back.destinations) == (s.encoder, s.overlays, s.destinations)
    (tmp_path / "settings.json").write_text('{"destinations": [{"url": "http://x"}], "overlays": 5}')
    bad = ClientSettings.load(tmp_path)
    assert bad.destinations == [] and bad.overlays == []
