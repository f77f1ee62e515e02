"""Go-live studio widgets without a server: the microphone swap is safe against the audio thread,
overlays show in the preview, destinations and the encoder choice reach the controller and the
saved settings."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

from app.ui import ops
from app.ui.settings import ClientSettings


class SlowMic:
    """A microphone whose reads take a while; notes a close that lands in the middle of a read."""

    def __init__(self, violations: list[str]) -> None:
        self.violations = violations
        self.reading = threading.Event()
        self.closed = False

    def read(self, n: int) -> np.ndarray:
        if self.closed:
            self.violations.append("read after close")
        self.reading.set()
        time.sleep(0.03)
        self.reading.clear()
        return np.zeros((n, 2), np.float32)

    def close(self) -> None:
        if self.reading.is_set():
            self.violations.append("closed during a read")
        self.closed = True


def _panel(qtbot: Any, tmp_path: Path) -> tuple[Any, Any]:
    from app.ui.controllers.push_controller import PushController
    from app.ui.widgets.golive_setup import SetupPanel

    settings = ClientSettings(client_dir=tmp_path, resolution="360p", fps=25, bitrate_kbps=600)
    settings.camera, settings.microphone = "testsrc", "none"
    push = PushController()
    panel = SetupPanel(push, settings)
    qtbot.addWidget(panel)
    qtbot.waitUntil(lambda: push.latest_frame() is not None, timeout=15000)
    return push, panel


def _close(qtbot: Any, push: Any) -> None:
    push.close()
    qtbot.waitUntil(lambda: ops.pending() == 0, timeout=15000)
    qtbot.waitUntil(lambda: not [t for t in threading.enumerate() if t.name.startswith("push-")], timeout=15000)


def test_switching_the_microphone_never_closes_it_under_the_audio_thread(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The widget used to assign ``mixer.mic`` and close the old one while the audio thread was
    still reading it (no lock): a device closed in the middle of a read."""
    push, panel = _panel(qtbot, tmp_path)
    violations: list[str] = []
    try:
        for _ in range(12):
            mic = SlowMic(violations)
            panel._set_mic(mic)
            assert mic.reading.wait(2), "the new microphone is read"
            time.sleep(0.02)
        panel._set_mic(None)
        qtbot.waitUntil(lambda: ops.pending() == 0, timeout=10000)
        time.sleep(0.2)
    finally:
        _close(qtbot, push)
    assert not violations, violations


def test_overlays_destinations_and_encoder(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from app.capture.overlays import Overlay

    push, panel = _panel(qtbot, tmp_path)
    try:
        logo = np.zeros((40, 80, 4), np.uint8)
        logo[:, :, 1] = logo[:, :, 3] = 255  # opaque green
        import cv2

        cv2.imwrite(str(tmp_path / "logo.png"), logo)
        panel.studio.add_overlay(Overlay("image", path=str(tmp_path / "logo.png"), position="top-left",
                                         scale=0.25, opacity=1.0))
        panel.studio.add_overlay(Overlay("text", text="直播中", position="bottom-right"))

        def green() -> bool:
            bgr = push.snapshot_bgr()
            return bgr is not None and tuple(bgr[20, 20]) == (0, 255, 0)

        qtbot.waitUntil(green, timeout=5000)
        assert not panel.studio.add_destination("http://not-rtmp", "k")
        assert panel.studio.add_destination("rtmp://127.0.0.1:1935/live", "abc", "other")
        assert push.extra_destinations == [("other", "rtmp://127.0.0.1:1935/live/abc")]
        panel.studio.encoder.setCurrentIndex(panel.studio.encoder.findData("hevc"))
        assert panel.push_settings().encoder == "hevc"
        saved = ClientSettings.load(tmp_path)
        assert saved.encoder == "hevc" and len(saved.overlays) == 2 and saved.destinations[0]["key"] == "abc"
        panel.studio._toggle_destination(0, False)
        assert push.extra_destinations == []
    finally:
        _close(qtbot, push)
