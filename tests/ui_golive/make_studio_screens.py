"""Screenshots of the Go-live studio sections (encoder, overlays, multistream) and of the preview
with a logo and a text overlay. Run under Xvfb::

    Xvfb :59 -screen 0 1280x1000x24 & DISPLAY=:59 QT_QPA_PLATFORM=xcb \\
        python -m tests.ui_golive.make_studio_screens /tmp/screens-studio

Writes studio_setup.png (the setup panel) and studio_preview.png (the composed picture). Not a test.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

from app.capture.overlays import Overlay
from app.ui.controllers.push_controller import PushController
from app.ui.qt import QApplication, QScrollArea
from app.ui.settings import ClientSettings
from app.ui.widgets.golive_setup import SetupPanel


def pump(app: QApplication, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else "/work/wt/notes/screens-studio")
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        logo = np.zeros((120, 240, 4), np.uint8)
        cv2.rectangle(logo, (0, 0), (239, 119), (40, 90, 230, 255), -1)
        cv2.putText(logo, "LOGO", (30, 85), cv2.FONT_HERSHEY_SIMPLEX, 2.2, (255, 255, 255, 255), 5)
        cv2.imwrite(f"{tmp}/logo.png", logo)
        settings = ClientSettings(client_dir=Path(tmp))
        settings.camera, settings.microphone = "testsrc", "none"
        push = PushController()
        panel = SetupPanel(push, settings)
        panel.studio.add_overlay(Overlay("image", path=f"{tmp}/logo.png", position="top-right", scale=0.18))
        panel.studio.add_overlay(Overlay("text", text="小直播 studio — 欢迎", position="bottom-left", scale=0.07))
        panel.studio.add_destination("rtmp://live.example.com/app", "secret-key", "example")
        panel.studio.add_destination("rtmps://live-api-s.facebook.com:443/rtmp", "FB-123")
        scroll = QScrollArea()
        scroll.setWidget(panel)
        scroll.setWidgetResizable(True)
        scroll.resize(620, 1000)
        scroll.show()
        pump(app, 4.0)
        scroll.grab().save(str(out / "studio_setup.png"))
        bgr = push.snapshot_bgr()
        if bgr is not None:
            cv2.imwrite(str(out / "studio_preview.png"), bgr)
        push.close()
        pump(app, 1.0)
    print(f"screens in {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
