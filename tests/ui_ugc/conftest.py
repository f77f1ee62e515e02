"""Fixtures for the short-video window: the client shell's (offscreen Qt, a real server, a built window)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any QApplication exists

from tests.ui_shell.conftest import Shell, client_settings, shell  # noqa: E402,F401 - re-exported fixtures

__all__ = ["Shell", "client_settings", "shell"]
