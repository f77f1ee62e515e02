"""Hot-plug: the refresh buttons of Settings and Go live re-list cameras (with their names).

No camera exists on the test machine, so the device list is faked; the dialogs are real.
"""

from __future__ import annotations

from app.capture import devices
from app.capture.devices import Camera
from app.ui.settings import ClientSettings
from app.ui.windows.settings_dialog import SettingsDialog


def _items(combo) -> list[tuple[str, object]]:  # type: ignore[no-untyped-def]
    return [(combo.itemText(i), combo.itemData(i)) for i in range(combo.count())]


def test_settings_refresh_lists_a_plugged_camera(qtbot, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    found = [Camera(0, "Integrated Camera")]
    monkeypatch.setattr(devices, "list_camera_devices", lambda *a, **k: list(found))
    dlg = SettingsDialog(ClientSettings(client_dir=tmp_path, camera="camera:0"))
    qtbot.addWidget(dlg)
    assert ("Integrated Camera", "camera:0") in _items(dlg.camera) and dlg.camera.currentData() == "camera:0"
    found.append(Camera(2, "USB Capture HDMI"))
    dlg.camera_refresh.click()
    assert ("USB Capture HDMI", "camera:2") in _items(dlg.camera)
    assert dlg.camera.currentData() == "camera:0"  # the choice is kept
    found.clear()
    dlg.camera_refresh.click()
    assert dlg.camera.currentData() == "camera:0" and "not connected" in dlg.camera.currentText()


def test_golive_refresh_lists_a_plugged_camera(qtbot, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from app.ui.controllers.push_controller import PushController
    from app.ui.widgets.golive_setup import SetupPanel

    found: list[Camera] = []
    monkeypatch.setattr(devices, "list_camera_devices", lambda *a, **k: list(found))
    push = PushController()
    panel = SetupPanel(push, ClientSettings(client_dir=tmp_path, camera="testsrc", microphone="tone"))
    qtbot.addWidget(panel)
    try:
        qtbot.waitUntil(lambda: push.video_spec == "testsrc", timeout=15000)
        assert not [d for _, d in _items(panel.source) if str(d).startswith("camera:")]
        found.append(Camera(1, "HD Webcam"))
        panel.source_refresh.click()
        assert ("HD Webcam", "camera:1") in _items(panel.source)
        assert panel.source.currentData() == "testsrc" and push.video_spec == "testsrc"  # not reopened
    finally:
        push.close()
