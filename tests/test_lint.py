"""The codebase stays ruff-clean (rules in pyproject.toml) and engines never import Qt."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest

from tests.conftest import ROOT


def test_ruff_clean() -> None:
    ruff = shutil.which("ruff")
    if ruff is None:
        pytest.fail("ruff is not installed: install the test extras (pip install -e '.[test]')")
    r = subprocess.run([ruff, "check", "app", "server", "protocol", "tests"], cwd=ROOT, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-4000:]


def test_engines_do_not_import_qt() -> None:
    pattern = re.compile(r"^\s*(from|import)\s+(PySide6|shiboken6|PyQt)", re.M)
    offenders = []
    for pkg in ("app/api", "app/capture", "app/push", "app/play", "app/im", "app/danmaku", "app/linkmic", "app/ugc",
                "server", "protocol"):
        for path in (ROOT / pkg).rglob("*.py"):
            if pattern.search(path.read_text("utf-8")):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
    # and the engines import without pulling Qt in
    code = ("import sys, app.play.player, app.push.publisher, app.im.client, app.api, app.linkmic, app.ugc, "
            "server.app; sys.exit(1 if any(m.startswith('PySide6') for m in sys.modules) else 0)")
    assert subprocess.run([sys.executable, "-c", code], cwd=ROOT, timeout=120).returncode == 0
