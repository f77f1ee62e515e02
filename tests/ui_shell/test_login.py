"""Login / register through the dialog against a real server; auto-login from the cached session."""

from __future__ import annotations

import json

from app.api.client import ApiClient
from app.ui.controllers.account import Account
from app.ui.qt import Qt
from app.ui.settings import ClientSettings
from app.ui.windows.login_dialog import LoginDialog


def _dialog(shell) -> LoginDialog:  # type: ignore[no-untyped-def]
    shell.window.start()
    shell.qtbot.waitUntil(lambda: shell.window.login_dialog is not None, timeout=10000)
    dlg = shell.window.login_dialog
    assert dlg is not None and dlg.isVisible()
    return dlg


def _fill(qtbot, dlg: LoginDialog, userid: str, password: str, confirm: str | None = None) -> None:  # type: ignore[no-untyped-def]
    dlg.userid.clear()
    dlg.password.clear()
    qtbot.keyClicks(dlg.userid, userid)
    qtbot.keyClicks(dlg.password, password)
    if confirm is not None:
        dlg.confirm.clear()
        qtbot.keyClicks(dlg.confirm, confirm)


def test_register_then_login_through_dialog(shell, module_server):  # type: ignore[no-untyped-def]
    qtbot, dlg = shell.qtbot, _dialog(shell)
    assert not dlg.confirm.isVisible()
    dlg.set_mode(LoginDialog.REGISTER)
    assert dlg.confirm.isVisible()
    _fill(qtbot, dlg, "dlg_user1", "secret1", "secret1")
    qtbot.mouseClick(dlg.submit, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: shell.window.login_dialog is None, timeout=10000)
    assert shell.account.is_logged_in and not dlg.isVisible()
    assert shell.account.userid == "dlg_user1"
    # the session is cached for auto-login (mode 0600) and the user remembered
    cached = json.loads(shell.settings.session_file.read_text())
    assert cached["userid"] == "dlg_user1" and cached["server"] == module_server.http_base
    assert shell.settings.session_file.stat().st_mode & 0o077 == 0
    assert ClientSettings.load(shell.settings.client_dir).last_user == "dlg_user1"
    shell.settle()
    assert shell.window.user_button.text() == "dlg_user1"  # nickname defaults to the userid
    # the account really exists on the server: log in with a plain client
    c = ApiClient(module_server.http_base)
    c.login("dlg_user1", "secret1")
    assert c.get_user_info().nickname == "dlg_user1"

    # a new client start with the same settings signs in from the cache, no dialog
    other = Account(shell.settings)
    got: list = []
    other.auto_login(got.append, got.append)
    qtbot.waitUntil(lambda: bool(got), timeout=10000)
    assert got[0] is not None and got[0].userid == "dlg_user1" and other.is_logged_in


def test_log_in_existing_user_and_errors(shell, module_server):  # type: ignore[no-untyped-def]
    ApiClient(module_server.http_base).register("dlg_user2", "right_pw")
    qtbot, dlg = shell.qtbot, _dialog(shell)
    # refused locally, no request sent
    _fill(qtbot, dlg, "1bad", "x")
    dlg.submit.click()
    assert "4-24" in dlg.error.text() and dlg.error.isVisible()
    # errors from the server, in words
    for userid, pw, expected in (("dlg_user2", "wrong_pw", "Wrong password."),
                                 ("nobody_here", "whatever", "No such user. Register first.")):
        _fill(qtbot, dlg, userid, pw)
        dlg.submit.click()
        qtbot.waitUntil(lambda e=expected: dlg.submit.isEnabled() and dlg.error.text() == e, timeout=10000)
        assert not shell.account.is_logged_in
    dlg.set_mode(LoginDialog.REGISTER)
    _fill(qtbot, dlg, "dlg_user2", "abcdef", "abcdeg")
    dlg.submit.click()
    assert dlg.error.text() == "The two passwords differ."
    _fill(qtbot, dlg, "dlg_user2", "abcdef", "abcdef")
    dlg.submit.click()
    qtbot.waitUntil(lambda: dlg.error.text() == "This user ID is already registered.", timeout=10000)
    dlg.set_mode(LoginDialog.LOGIN)
    _fill(qtbot, dlg, "dlg_user2", "right_pw")
    qtbot.keyClick(dlg.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: shell.window.login_dialog is None, timeout=10000)
    assert shell.account.userid == "dlg_user2"


def test_server_down_says_cannot_reach(qtbot, tmp_path):  # type: ignore[no-untyped-def]
    import socket

    from tests.ui_shell.conftest import Shell

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    shell = Shell(qtbot, ClientSettings(client_dir=tmp_path / "c", server=f"http://127.0.0.1:{port}"))
    dlg = _dialog(shell)
    _fill(qtbot, dlg, "someone_1", "secret1")
    dlg.submit.click()
    qtbot.waitUntil(lambda: dlg.error.text().startswith("Cannot reach the server"), timeout=10000)
    assert dlg.submit.isEnabled() and not shell.account.is_logged_in
    # closing the dialog without signing in closes the main window (the app quits)
    dlg.reject()
    qtbot.waitUntil(lambda: not shell.window.isVisible(), timeout=3000)
