"""Offscreen Qt for the ``xiaozhibo up`` GUI test (subprocess tests set their own environment)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before any QApplication exists
