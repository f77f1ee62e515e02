"""The region picker (issue 14): drag a rectangle over a frozen shot, get screen coordinates."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from app.ui.qt import QPoint, Qt
from app.ui.settings import ClientSettings
from tests.capture.xvfb import start_xvfb

LEFT = Qt.MouseButton.LeftButton


def make_picker(qtbot, monitor: dict[str, int], size: tuple[int, int], region=None):  # type: ignore[no-untyped-def]
    from app.ui.widgets.region_picker import RegionPicker

    shot = np.zeros((monitor["height"], monitor["width"], 3), np.uint8)
    shot[:, :, 1] = np.arange(monitor["width"], dtype=np.uint32)[None, :] % 256
    picker = RegionPicker(shot, monitor, region)
    picker.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)  # qtbot closes it at the end
    qtbot.addWidget(picker)
    picker.resize(*size)  # the window covering the monitor, in logical (device-independent) pixels
    picker.show()
    qtbot.waitExposed(picker)
    got: list[tuple[int, ...]] = []
    picker.chosen.connect(lambda *r: got.append(r))
    picker.cancelled.connect(lambda: got.append(()))
    return picker, got


def drag(qtbot, w, a: tuple[int, int], b: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    qtbot.mousePress(w, LEFT, pos=QPoint(*a))
    mid = ((a[0] + b[0]) // 2, (a[1] + b[1]) // 2)
    qtbot.mouseMove(w, QPoint(*mid))
    qtbot.mouseMove(w, QPoint(*b))
    qtbot.mouseRelease(w, LEFT, pos=QPoint(*b))


def test_drag_move_resize_confirm_on_a_2x_second_monitor(qtbot) -> None:  # type: ignore[no-untyped-def]
    """A 3200x1800 monitor right of a 1920 one, shown at scale 2 in a 1600x900 window."""
    monitor = {"left": 1920, "top": 0, "width": 3200, "height": 1800}
    picker, got = make_picker(qtbot, monitor, (1600, 900))
    drag(qtbot, picker, (100, 50), (300, 200))  # a new rectangle
    assert picker.region() == (1920 + 200, 100, 400, 300)
    drag(qtbot, picker, (200, 120), (250, 140))  # inside: move by (50, 20) points
    assert picker.region() == (1920 + 300, 140, 400, 300)
    r = picker.rect_w
    drag(qtbot, picker, (r.right(), r.center().y()), (r.right() + 100, r.center().y()))  # right edge
    assert picker.region() == (1920 + 300, 140, 600, 300)
    qtbot.keyClick(picker, Qt.Key.Key_Return)
    assert got == [(1920 + 300, 140, 600, 300)]


def test_fractional_scale_double_click_and_memory(qtbot) -> None:  # type: ignore[no-untyped-def]
    """1.5x (1920x1080 pixels in 1280x720 points); a remembered region is where the rectangle starts."""
    monitor = {"left": 0, "top": 0, "width": 1920, "height": 1080}
    picker, got = make_picker(qtbot, monitor, (1280, 720), region=(300, 150, 600, 450))
    assert picker.region() == (300, 150, 600, 450)
    assert picker.rect_w.x() == 200 and picker.rect_w.width() == 400
    drag(qtbot, picker, (10, 700), (110, 600))  # dragged upwards: normalised
    assert picker.region() == (15, 900, 150, 150)
    qtbot.mouseDClick(picker, LEFT, pos=QPoint(50, 650))
    assert got == [(15, 900, 150, 150)]


def test_escape_cancels_and_a_click_is_not_a_region(qtbot) -> None:  # type: ignore[no-untyped-def]
    picker, got = make_picker(qtbot, {"left": 0, "top": 0, "width": 800, "height": 600}, (800, 600))
    drag(qtbot, picker, (50, 500), (51, 501))  # a click outside the rectangle: not a rectangle
    qtbot.keyClick(picker, Qt.Key.Key_Return)
    assert got == [] and picker.isVisible(), "Enter on a 1-pixel rectangle keeps picking"
    qtbot.keyClick(picker, Qt.Key.Key_Escape)
    assert got == [()]


@pytest.fixture
def screen_display(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    with start_xvfb("1280x720x24") as display:
        monkeypatch.setenv("DISPLAY", display)  # mss grabs this; Qt stays offscreen
        yield display


def test_setup_panel_select_region_opens_and_remembers_it(qtbot, tmp_path: Path, screen_display) -> None:  # type: ignore[no-untyped-def]
    from app.ui.controllers.push_controller import PushController
    from app.ui.widgets.golive_setup import SetupPanel

    settings = ClientSettings(client_dir=tmp_path, camera="testsrc", microphone="tone")
    push = PushController()
    panel = SetupPanel(push, settings)
    qtbot.addWidget(panel)
    try:
        qtbot.waitUntil(lambda: push.video_spec == "testsrc", timeout=15000)
        panel.source.setCurrentIndex(panel.source.findData("region"))
        assert panel.region_button.isVisibleTo(panel) and not panel.source_arg.isVisibleTo(panel)
        panel.region_button.click()
        picker = panel.picker
        assert picker is not None and picker.monitor["width"] == 1280  # the Xvfb monitor, grabbed
        qtbot.waitExposed(picker)
        sx, sy = 1280 / picker.width(), 720 / picker.height()
        drag(qtbot, picker, (40, 60), (240, 260))
        qtbot.keyClick(picker, Qt.Key.Key_Enter)
        want = (round(40 * sx), round(60 * sy), round(240 * sx) - round(40 * sx), round(260 * sy) - round(60 * sy))
        assert panel.source_spec() == "screen:" + ",".join(map(str, want))
        qtbot.waitUntil(lambda: push.video_spec == panel.source_spec(), timeout=15000)  # really opened
        saved = json.loads(settings.settings_file.read_text("utf-8"))["screen_regions"]
        assert saved == {"1280x720+0+0": list(want)}
        # back to the test pattern, then the region again: remembered, opened without the picker
        panel.source.setCurrentIndex(panel.source.findData("testsrc"))
        qtbot.waitUntil(lambda: push.video_spec == "testsrc", timeout=15000)
        panel.source.setCurrentIndex(panel.source.findData("region"))
        qtbot.waitUntil(lambda: push.video_spec == "screen:" + ",".join(map(str, want)), timeout=15000)
        assert ClientSettings.load(tmp_path).screen_regions == saved
    finally:
        push.close()


def test_setup_panel_without_a_screen_falls_back_to_typed_coordinates(qtbot, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                      monkeypatch) -> None:
    from app.ui.controllers.push_controller import PushController
    from app.ui.widgets.golive_setup import SetupPanel

    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    push = PushController()
    panel = SetupPanel(push, ClientSettings(client_dir=tmp_path, camera="testsrc", microphone="tone"))
    qtbot.addWidget(panel)
    errors: list[str] = []
    panel.source_error.connect(errors.append)
    try:
        panel.source.setCurrentIndex(panel.source.findData("region"))
        panel.region_button.click()
        assert panel.picker is None and errors
        assert panel.source_arg.isVisibleTo(panel), "coordinates can still be typed"
    finally:
        push.close()
