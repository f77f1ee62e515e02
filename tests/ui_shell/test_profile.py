"""Profile edits through the dialog persist on the server; uploads show progress and errors."""

from __future__ import annotations

import requests

from app.api.client import ApiClient
from app.ui.qt import Qt
from app.ui.windows.profile import ProfileDialog
from tests.ui_shell import seed


def _open_profile(shell, userid: str) -> ProfileDialog:  # type: ignore[no-untyped-def]
    shell.login(userid)
    shell.settle()
    shell.window.open_profile()
    dlg = shell.window.findChild(ProfileDialog, "profileDialog")
    assert dlg is not None and dlg.isVisible()
    return dlg


def test_profile_edit_persists(shell, module_server, tmp_path):  # type: ignore[no-untyped-def]
    qtbot = shell.qtbot
    dlg = _open_profile(shell, "pf_user1")
    assert dlg.userid.text() == "pf_user1" and dlg.nickname.text() == "pf_user1" and dlg.sex.currentData() == -1
    seen: list[int] = []
    dlg.progress.valueChanged.connect(seen.append)
    big = seed.picture(tmp_path / "big.png", 1600, 1200, 40)  # shrunk to 512 px and sent as JPEG
    dlg.upload("avatar", big)
    assert not dlg.save.isEnabled()  # no saving while an upload runs
    qtbot.waitUntil(lambda: dlg.save.isEnabled(), timeout=15000)
    assert dlg.info.avatar.startswith(module_server.http_base + "/cos/users/pf_user1/avatar/")
    assert seen and seen[-1] == 100
    dlg.upload("cover", seed.picture(tmp_path / "cover.jpg", 640, 360, 100))
    qtbot.waitUntil(lambda: dlg.save.isEnabled(), timeout=15000)
    assert "/cos/users/pf_user1/cover/" in dlg.info.frontcover
    dlg.nickname.setText("小明 Ming")  # QTest cannot type CJK (it aborts on non-Latin-1 keys)
    dlg.sex.setCurrentIndex(dlg.sex.findData(1))
    qtbot.mouseClick(dlg.save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: shell.account.profile.nickname == "小明 Ming", timeout=10000)
    # what the server has, read by another client
    c = ApiClient(module_server.http_base)
    c.login("pf_user1", "secret1")
    info = c.get_user_info()
    assert (info.nickname, info.sex) == ("小明 Ming", 1)
    assert info.avatar == shell.account.profile.avatar and info.frontcover == shell.account.profile.frontcover
    r = requests.get(info.avatar, timeout=10)
    assert r.status_code == 200 and r.content[:3] == b"\xff\xd8\xff"  # JPEG
    assert shell.window.user_button.text() == "小明 Ming"


def test_upload_errors_and_empty_nickname(shell, tmp_path):  # type: ignore[no-untyped-def]
    qtbot = shell.qtbot
    dlg = _open_profile(shell, "pf_user2")
    junk = tmp_path / "notes.png"
    junk.write_text("not an image")
    dlg.upload("avatar", junk)
    qtbot.waitUntil(lambda: dlg.save.isEnabled(), timeout=10000)
    assert dlg.status.text().startswith("Upload failed") and dlg.info.avatar == ""
    dlg.nickname.clear()
    dlg.save_profile()
    assert dlg.status.text() == "Nickname cannot be empty." and dlg.isVisible()
    dlg.reject()
