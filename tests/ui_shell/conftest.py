"""Fixtures for the client shell: offscreen Qt, a real server per test module, a built window."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any QApplication exists

from collections.abc import Iterator
from pathlib import Path

import pytest

from app.ui import ops
from app.ui.settings import ClientSettings


@pytest.fixture
def client_settings(tmp_path: Path, module_server) -> ClientSettings:  # type: ignore[no-untyped-def]
    """Settings of a fresh client (own settings dir) pointed at the module's server."""
    return ClientSettings(client_dir=tmp_path / "client", server=module_server.http_base)


class Shell:
    """The application objects built by ``app.ui.main.build`` for one test."""

    def __init__(self, qtbot, settings: ClientSettings) -> None:  # type: ignore[no-untyped-def]
        from app.ui.main import build

        self.qtbot = qtbot
        self.settings = settings
        self.app, self.account, self.loader, self.window = build(settings)
        qtbot.addWidget(self.window)

    def login(self, userid: str, password: str = "secret1", register: bool = True) -> None:
        """Sign in through the Account controller (not the dialog) and wait for it."""
        errors: list[BaseException] = []
        self.account.login(userid, password, lambda s: None, errors.append, register=register)
        self.qtbot.waitUntil(lambda: self.account.is_logged_in or bool(errors), timeout=10000)
        assert not errors, errors

    def settle(self, timeout: int = 10000) -> None:
        """Wait until no background operation is pending and every page has finished loading."""
        self.qtbot.waitUntil(lambda: ops.pending() == 0 and all(
            p.state != "loading" for p in self.window.pages.values()), timeout=timeout)


@pytest.fixture
def shell(qtbot, client_settings: ClientSettings) -> Iterator[Shell]:  # type: ignore[no-untyped-def]
    sh = Shell(qtbot, client_settings)
    yield sh
    sh.window.hide()  # hide, not close: closing without a session quits nothing here, but keep it quiet
    qtbot.waitUntil(lambda: ops.pending() == 0, timeout=15000)
