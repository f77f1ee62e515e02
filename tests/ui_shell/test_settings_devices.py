"""Device settings (camera, microphone, speaker): the file, the dialog, and where they are used.

No devices needed: the machine may have no camera and no audio device; device lists are faked
where a listed device matters, and the test pattern / test tone stand in for real capture."""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

import pytest

from app.ui import ops
from app.ui.controllers.devices import make_player, pick_camera, pick_microphone, pick_speaker, play_settings
from app.ui.settings import ClientSettings, validate
from app.ui.windows.settings_dialog import SettingsDialog

SPEAKERS = [{"index": 3, "name": "USB Speakers", "max_output_channels": 2}]
MICS = [{"index": 1, "name": "USB Mic", "max_input_channels": 1}]


def test_devices_persist_and_reload(tmp_path) -> None:  # type: ignore[no-untyped-def]
    s = ClientSettings.load(tmp_path)
    assert (s.camera, s.microphone, s.speaker) == ("", "default", "default")
    s.camera, s.microphone, s.speaker = "camera:2", "USB Mic", 3
    s.save()
    again = ClientSettings.load(tmp_path)
    assert (again.camera, again.microphone, again.speaker) == ("camera:2", "USB Mic", 3)
    for camera in ("testsrc", "camera", "screen:1", ""):
        assert validate("camera", camera)
    assert validate("microphone", "none") and validate("microphone", "tone") and validate("microphone", 0)


def test_invalid_devices_in_the_file_fall_back(tmp_path, caplog) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "settings.json").write_text(json.dumps(
        {"camera": "ftp://nope", "microphone": "", "speaker": True, "fps": 24}))
    with caplog.at_level(logging.WARNING):
        s = ClientSettings.load(tmp_path)
    assert (s.camera, s.microphone, s.speaker, s.fps) == ("", "default", "default", 24)
    assert "setting camera='ftp://nope' is invalid" in caplog.text
    (tmp_path / "settings.json").write_text(json.dumps({"camera": 5, "microphone": [1], "speaker": -1}))
    s = ClientSettings.load(tmp_path)
    assert (s.camera, s.microphone, s.speaker) == ("", "default", "default")


def test_dialog_lists_devices_and_saves_a_choice(qtbot, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from app.ui.windows import settings_dialog

    monkeypatch.setattr(settings_dialog, "_audio_devices", lambda output: SPEAKERS if output else MICS)
    s = ClientSettings(client_dir=tmp_path, camera="camera:7", speaker=3)
    dlg = SettingsDialog(s)
    qtbot.addWidget(dlg)
    cams = [dlg.camera.itemData(i) for i in range(dlg.camera.count())]
    assert cams[0] == "" and "testsrc" in cams
    assert dlg.camera.currentData() == "camera:7" and "not connected" in dlg.camera.currentText()
    mics = [dlg.microphone.itemData(i) for i in range(dlg.microphone.count())]
    assert mics[:2] == ["default", "none"] and "USB Mic" in mics and "tone" in mics
    assert dlg.speaker.currentData() == "USB Speakers"  # an index from the file shows as the device
    dlg.camera.setCurrentIndex(dlg.camera.findData("testsrc"))
    dlg.microphone.setCurrentIndex(dlg.microphone.findData("USB Mic"))
    dlg.accept()
    saved = json.loads((tmp_path / "settings.json").read_text())
    assert (saved["camera"], saved["microphone"], saved["speaker"]) == ("testsrc", "USB Mic", "USB Speakers")
    assert ClientSettings.load(tmp_path).microphone == "USB Mic"


def test_dialog_without_any_device(qtbot, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from app.ui.windows import settings_dialog

    monkeypatch.setattr(settings_dialog, "_audio_devices", lambda output: [])
    monkeypatch.setattr(settings_dialog, "_cameras", lambda: [])
    dlg = SettingsDialog(ClientSettings(client_dir=tmp_path))
    qtbot.addWidget(dlg)
    assert [dlg.speaker.itemData(i) for i in range(dlg.speaker.count())] == ["default"]
    assert [dlg.microphone.itemData(i) for i in range(dlg.microphone.count())] == ["default", "none", "tone"]
    assert dlg.camera.currentData() == ""
    dlg.accept()
    assert ClientSettings.load(tmp_path).as_dict() == ClientSettings().as_dict()


def test_pick_functions_fall_back_when_a_device_is_gone(caplog) -> None:  # type: ignore[no-untyped-def]
    assert pick_camera("", ["testsrc", "camera:1"]) == ("camera:1", "")
    assert pick_camera("", ["testsrc"]) == ("testsrc", "")
    assert pick_camera("file:/x.mp4", []) == ("file:/x.mp4", "")
    with caplog.at_level(logging.WARNING):
        spec, warning = pick_camera("camera:4", ["testsrc"])
    assert spec == "testsrc" and "camera:4" in warning and "not available" in caplog.text
    assert pick_microphone("USB Mic", MICS) == (1, "")
    assert pick_microphone("none", MICS) == ("none", "")
    assert pick_microphone("default", []) == ("none", "")
    device, warning = pick_microphone("Gone Mic", MICS)
    assert device == 1 and "Gone Mic" in warning
    assert pick_speaker("USB Speakers", SPEAKERS) == (3, "") and pick_speaker(3, SPEAKERS) == (3, "")
    assert pick_speaker("default", SPEAKERS) == (None, "")
    device, warning = pick_speaker("Old Headset", SPEAKERS)
    assert device is None and "Old Headset" in warning


def test_players_get_the_saved_output_device(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import app.capture.audio as audio
    import app.play.player as player_mod

    monkeypatch.setattr(audio, "list_output_devices", lambda: SPEAKERS)
    s = ClientSettings(client_dir=tmp_path, speaker="USB Speakers")
    ps = play_settings(s)
    assert (ps.audio_output, ps.audio_device) == ("auto", 3)
    assert play_settings(s, live=True).live is True and play_settings(s, live=True).audio_device == 3
    assert play_settings(None).audio_device is None
    s.speaker = "Gone"
    assert play_settings(s).audio_device is None  # gone: the default output, no exception

    built: list[tuple[str, Any]] = []

    class FakePlayer:
        def __init__(self, url: str, settings: Any = None) -> None:
            built.append((url, settings))

    monkeypatch.setattr(player_mod, "Player", FakePlayer)
    s.speaker = 3
    make_player("rtmp://x/live/a", s)
    assert built[0][0] == "rtmp://x/live/a" and built[0][1].audio_device == 3


def test_cohost_options_from_settings(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from app.ui.widgets.live_room_linkmic import CohostOptions

    s = ClientSettings(client_dir=tmp_path, camera="testsrc", microphone="tone")
    o = CohostOptions.from_settings(s)
    assert (o.source, o.microphone, o.settings) == ("testsrc", "tone", s)
    assert CohostOptions.from_settings(ClientSettings(client_dir=tmp_path)).source == "camera"


@pytest.mark.parametrize("camera", ["testsrc", "camera:9"])
def test_golive_setup_starts_on_the_saved_choice(qtbot, tmp_path, camera) -> None:  # type: ignore[no-untyped-def]
    from app.ui.controllers.push_controller import PushController
    from app.ui.widgets.golive_setup import MIC_TONE, SetupPanel

    s = ClientSettings(client_dir=tmp_path, camera=camera, microphone="tone", resolution="360p", fps=15)
    push = PushController()
    errors: list[str] = []
    panel = SetupPanel(push, s)
    qtbot.addWidget(panel)
    panel.source_error.connect(errors.append)
    assert panel.source.currentData() == "testsrc" and panel.mic.currentData() == MIC_TONE
    qtbot.waitUntil(lambda: push.video_spec == "testsrc", timeout=15000)
    if camera == "camera:9":  # gone: the test pattern, with a message (after the constructor)
        qtbot.waitUntil(lambda: bool(errors), timeout=5000)
        assert "camera:9" in errors[0]
    push.close()


def test_ugc_dialog_starts_on_the_saved_choice(qtbot, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from app.ui.controllers.account import Account
    from app.ui.windows.ugc_dialog import MIC_TONE, UgcDialog

    s = ClientSettings(client_dir=tmp_path, server="http://127.0.0.1:9", camera="camera:9", microphone="tone",
                       resolution="360p", fps=15)
    dlg = UgcDialog(Account(s), s, backend="raster")
    assert dlg.sources.source.currentData() == "testsrc" and dlg.sources.mic.currentData() == MIC_TONE
    assert "camera:9" in dlg.status.text()
    qtbot.waitUntil(lambda: dlg.rec.state == "preview", timeout=15000)
    threads = list(dlg.threads)
    dlg.close()
    qtbot.waitUntil(lambda: not [t for t in threading.enumerate() if t.name.startswith("ugc-")], timeout=30000)
    assert all(not t.is_alive() for t in threads)
    qtbot.waitUntil(lambda: ops.pending() == 0, timeout=15000)
