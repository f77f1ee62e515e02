"""Settings file, dated logs and the log viewer, background ops, translations, the entry point.

No server needed (except where a closed port stands for a server that is down)."""

from __future__ import annotations

import json
import logging
import threading
import time

import pytest

from app.api.client import ApiError
from app.ui import ops
from app.ui.i18n import install_translations, pick_language
from app.ui.main import main
from app.ui.qt import QApplication, QCoreApplication, QMessageBox, QWidget
from app.ui.settings import DEFAULTS, ClientSettings, setup_logging
from app.ui.windows.log_view import LogViewer


def test_settings_roundtrip_and_bad_files(tmp_path):  # type: ignore[no-untyped-def]
    s = ClientSettings.load(tmp_path)
    assert s.as_dict() == {name: default for name, (default, _) in DEFAULTS.items()}  # one table of defaults
    s.server, s.fps, s.last_user = "http://10.0.0.5:9000", 25, "alice_01"
    s.save()
    again = ClientSettings.load(tmp_path)
    assert (again.server, again.fps, again.last_user, again.resolution) == ("http://10.0.0.5:9000", 25, "alice_01",
                                                                             "720p")
    (tmp_path / "settings.json").write_text(json.dumps({"fps": 999, "resolution": "8k", "server": "ftp://x",
                                                        "unknown": 1, "bitrate_kbps": 1800}))
    odd = ClientSettings.load(tmp_path)  # bad values fall back one by one, good ones stay
    assert (odd.fps, odd.resolution, odd.server, odd.bitrate_kbps) == (30, "720p", "http://127.0.0.1:8080", 1800)
    (tmp_path / "settings.json").write_text("{not json")
    assert ClientSettings.load(tmp_path).as_dict() == s.__class__().as_dict()


def test_dated_log_file_and_viewer(qtbot, tmp_path):  # type: ignore[no-untyped-def]
    s = ClientSettings(client_dir=tmp_path)
    assert s.log_file().name == time.strftime("rtmpsdk_%Y%m%d.log")
    handler = setup_logging(s)
    try:
        viewer = LogViewer(s)
        qtbot.addWidget(viewer)
        logging.getLogger("xzb.test").info("hello from the test")
        logging.getLogger("xzb.test").debug("debug noise")
        logging.getLogger("xzb.test").error("something broke")
        handler.flush()
        viewer.poll()
        text = viewer.visible_text()
        assert "hello from the test" in text and "something broke" in text and "debug noise" not in text
        viewer.filter.setText("broke")
        assert "something broke" in viewer.visible_text() and "hello" not in viewer.visible_text()
        viewer.filter.clear()
        viewer.level.setCurrentIndex(3)  # ERROR and up
        assert "hello" not in viewer.visible_text() and "something broke" in viewer.visible_text()
    finally:
        logging.getLogger().removeHandler(handler)
        handler.close()
    assert "hello from the test" in s.log_file().read_text()


def test_ops_callbacks_run_on_the_ui_thread(qtbot):  # type: ignore[no-untyped-def]
    ui = threading.current_thread()
    seen: dict = {}

    def work(report):  # type: ignore[no-untyped-def]
        seen["worker"] = threading.current_thread()
        for i in range(1, 6):
            report(i, 5)
        return 42

    progress: list[tuple[int, int]] = []
    ops.run_op(None, work, lambda r: seen.update(result=r, thread=threading.current_thread()),
               progress=lambda d, t: progress.append((d, t)))
    qtbot.waitUntil(lambda: "result" in seen, timeout=5000)
    assert seen["result"] == 42 and seen["thread"] is ui and seen["worker"] is not ui
    assert progress and progress[-1] == (5, 5)  # coalesced, but the last report always arrives

    failures: list[BaseException] = []
    ops.run_op(None, lambda: (_ for _ in ()).throw(ApiError(621)), None, failures.append)
    qtbot.waitUntil(lambda: bool(failures), timeout=5000)
    assert isinstance(failures[0], ApiError) and failures[0].code == 621


def test_ops_default_error_box_and_dead_parent(qtbot):  # type: ignore[no-untyped-def]
    parent = QWidget()
    qtbot.addWidget(parent)
    op = ops.run_op(parent, lambda: (_ for _ in ()).throw(ApiError(ApiError.NETWORK, "boom")))
    qtbot.waitUntil(lambda: parent.findChild(QMessageBox, "errorBox") is not None, timeout=5000)
    assert parent.findChild(QMessageBox, "errorBox").text().startswith("Cannot reach the server")
    del op
    # a parent deleted while the work runs gets no callback (and nothing crashes)
    gone = QWidget()
    called: list = []
    release = threading.Event()
    ops.run_op(gone, lambda: release.wait(5), called.append, called.append)
    gone.deleteLater()
    QCoreApplication.sendPostedEvents(None, 0)
    qtbot.wait(10)
    release.set()
    qtbot.waitUntil(lambda: ops.pending() == 0, timeout=5000)
    qtbot.wait(50)
    assert called == []


def test_chinese_translation_loads(qtbot):  # type: ignore[no-untyped-def]
    assert pick_language("auto", "zh_TW") == "zh_CN" and pick_language("auto", "de_DE") == "en"
    assert pick_language("en", "zh_CN") == "en"
    app = QApplication.instance()
    translators = install_translations(app, "zh_CN")
    try:
        assert translators, "resources/i18n/xiaozhibo_zh_CN.qm did not load"
        assert QCoreApplication.translate("MainWindow", "Replays") == "回放"
        assert QCoreApplication.translate("Errors", "Wrong password.") == "密码错误。"
    finally:
        for t in translators:
            app.removeTranslator(t)
    assert QCoreApplication.translate("MainWindow", "Replays") == "Replays"


def test_entry_point_rejects_bad_server(tmp_path, capsys):  # type: ignore[no-untyped-def]
    assert main(["--server", "localhost:8080", "--client-dir", str(tmp_path)]) == 2
    assert "--server must be" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--bogus"])
