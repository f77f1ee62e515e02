"""Fixtures for push tests: a receiving RTMP server on loopback, ffprobe, Xvfb.

``rtmp_server`` is the one place that decides which server receives test pushes (Debian
nginx-rtmp today; switch it to the embedded media server once that lands: it needs ``url(app,
name, query)``, ``recording(name)`` and ``restart()``).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.capture.xvfb import start_xvfb
from tests.push.authhook import AuthHook
from tests.push.nginx import Nginx, available

PUSH_KEY = "test-push-key"


@pytest.fixture
def auth_hook(tmp_path: Path) -> Iterator[AuthHook]:
    hook = AuthHook(PUSH_KEY, tmp_path / "hook")
    yield hook
    hook.close()


@pytest.fixture
def rtmp_server(tmp_path: Path, auth_hook: AuthHook) -> Iterator[Nginx]:
    if not available():
        pytest.skip("nginx with libnginx-mod-rtmp is not installed")
    server = Nginx(tmp_path / "nginx", on_publish_url=auth_hook.url)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def ffprobe(path: Path | str, *args: str) -> dict:
    """ffprobe's JSON for ``path`` (streams, plus what ``args`` ask for)."""
    if shutil.which("ffprobe") is None:
        pytest.skip("ffprobe is not installed")
    out = subprocess.run(["ffprobe", "-v", "error", "-of", "json", "-show_streams", *args, str(path)],
                         capture_output=True, text=True, timeout=60, check=True)
    return json.loads(out.stdout)


@pytest.fixture
def xvfb(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A private Xvfb display; DISPLAY points at it for this test only."""
    with start_xvfb() as display:
        monkeypatch.setenv("DISPLAY", display)
        yield display
