"""Fixtures for the go-live window: offscreen Qt (set before any QApplication), a signed-in account."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any QApplication exists

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from app.ui import ops
from app.ui.settings import ClientSettings


def make_account(qtbot: Any, settings: ClientSettings, userid: str) -> Any:
    """An :class:`Account` registered and logged in on the settings' server."""
    from app.ui.controllers.account import Account

    account = Account(settings)
    errors: list[BaseException] = []
    account.login(userid, "secret1", lambda s: None, errors.append, register=True)
    qtbot.waitUntil(lambda: account.is_logged_in or bool(errors), timeout=10000)
    assert not errors, errors
    return account


@pytest.fixture
def golive(qtbot, tmp_path: Path, module_server, request) -> Iterator[Any]:  # type: ignore[no-untyped-def]
    """A GoLiveWindow for a fresh anchor (user id from the test name) on the module's server."""
    from app.ui.windows.golive import GoLiveWindow

    settings = ClientSettings(client_dir=tmp_path / "client", server=module_server.http_base,
                              resolution="360p", fps=25, bitrate_kbps=600)
    userid = "a" + request.node.name.replace("test_", "")[:18]
    account = make_account(qtbot, settings, userid)
    window = GoLiveWindow(account, settings)
    window.show()  # not qtbot.addWidget: pytest-qt would close it before this fixture ends the live
    yield window
    if window.is_live:
        window.stop()
        try:
            qtbot.waitUntil(lambda: window.phase == "setup", timeout=20000)
        except Exception:
            print("teardown: phase", window.phase, "push", window.push.state, "ops", ops.pending())
            raise
    window.close()
    window.deleteLater()
    qtbot.waitUntil(lambda: ops.pending() == 0, timeout=15000)
