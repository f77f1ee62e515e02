"""The main window around sign-in: no "Signing in…" behind the login dialog, no old avatar after logout."""

from __future__ import annotations

from app.ui.controllers.images import resource
from app.ui.qt import QImage
from tests.ui_shell import seed


def _icon_image(shell) -> QImage:  # type: ignore[no-untyped-def]
    return shell.window.user_button.icon().pixmap(28, 28).toImage()


def test_no_signing_in_behind_the_login_dialog(shell) -> None:  # type: ignore[no-untyped-def]
    shell.window.start()
    shell.qtbot.waitUntil(lambda: shell.window.login_dialog is not None, timeout=10000)
    shell.settle()
    for page in shell.window.pages.values():
        assert page.stack.currentWidget() is page.message
        text = page.message.text.text()
        assert "Signing in" not in text and "Log in" in text, text


def test_logout_puts_back_the_default_avatar(shell, module_server) -> None:  # type: ignore[no-untyped-def]
    seed.user(module_server, "chrome_face", nickname="Face", hue=30)
    default = _icon_image(shell)
    shell.window.start()
    shell.qtbot.waitUntil(lambda: shell.window.login_dialog is not None, timeout=10000)
    shell.login("chrome_face", register=False)
    shell.qtbot.waitUntil(lambda: _icon_image(shell) != default, timeout=10000)  # the user's avatar
    shell.settle()
    shell.account.logout()
    shell.qtbot.waitUntil(lambda: shell.window.login_dialog is not None, timeout=5000)
    assert _icon_image(shell) == default
    assert QImage(str(resource("default_avatar.png"))).isNull() is False
