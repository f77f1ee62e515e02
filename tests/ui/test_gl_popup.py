"""A drop-down over the GL video preview must not crash the process (Xvfb + Mesa llvmpipe).

The check runs as a pytest-qt test in a child process on a real X display
(``tests/ui/xvfb_checks/gl_popup_check.py``); a crash there shows up as the child dying by a signal.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ui.xvfb import xvfb

pytestmark = [pytest.mark.gl, pytest.mark.timeout(150)]
ROOT = Path(__file__).resolve().parents[2]


def test_combo_popup_over_gl_preview_does_not_crash(tmp_path: Path) -> None:
    with xvfb("1366x768x24") as display:
        env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb", PYTHONPATH=str(ROOT),
                   QT_LOGGING_RULES="qt.qpa.*=false")
        env.pop("WAYLAND_DISPLAY", None)
        proc = subprocess.run([sys.executable, "-X", "faulthandler", "-m", "pytest", "-q", "--noconftest",
                               "-p", "no:cacheprovider", "--basetemp", str(tmp_path / "t"),
                               "tests/ui/xvfb_checks/gl_popup_check.py"],
                              env=env, cwd=ROOT, capture_output=True, text=True, timeout=140)
    assert proc.returncode == 0, f"rc={proc.returncode}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
