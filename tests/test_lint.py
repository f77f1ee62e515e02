"""The codebase stays ruff- and mypy-clean (rules in pyproject.toml) and engines never import Qt."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.conftest import ROOT


def test_ruff_clean() -> None:
    # the ruff beside this Python first (a venv's bin/ is not on PATH when pytest runs as
    # `venv/bin/python -m pytest`, as scripts/test.sh does), then PATH
    here = Path(sys.executable).parent / ("ruff.exe" if sys.platform == "win32" else "ruff")
    ruff = str(here) if here.is_file() else shutil.which("ruff")
    if ruff is None:
        pytest.fail("ruff is not installed: install the test dependencies (pip install -e '.[test]')")
    r = subprocess.run([ruff, "check", "app", "server", "protocol", "tests"], cwd=ROOT, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stdout[-4000:]


def mypy_cache_dir() -> Path:
    """mypy's incremental cache, outside the worktree and one per checkout (a warm run takes seconds)."""
    tag = hashlib.sha1(str(ROOT).encode()).hexdigest()[:10]
    return Path(tempfile.gettempdir()) / f"xzb-mypy-cache-{tag}"


def test_mypy_clean() -> None:
    """``mypy`` with [tool.mypy] of pyproject.toml (app, server, protocol) reports nothing."""
    try:
        import mypy  # noqa: F401
    except ImportError:
        pytest.fail("mypy is not installed: install the test dependencies (pip install -e '.[test]')")
    r = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(mypy_cache_dir())], cwd=ROOT,
                       capture_output=True, text=True, timeout=170)
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]


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
