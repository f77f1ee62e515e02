"""`xiaozhibo doctor` end to end against a real server, and its explanation when the server is absent."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys

import pytest

from tests.conftest import ROOT
from tests.media.helpers import start_media_server


@pytest.fixture
def server(tmp_path):  # type: ignore[no-untyped-def]
    """Replays of 2 s or more are listed ([live] min_replay_seconds): the doctor's test broadcast
    can be 3 s (--push-seconds) instead of the 11 s a default deployment needs."""
    sp = start_media_server(tmp_path / "server", min_replay=2)
    yield sp
    sp.stop()


def _leftovers(server) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """What the deployment holds: users and replays (its SQLite), recorded and uploaded files."""
    db = sqlite3.connect(server.data_dir / "xiaozhibo.db")
    try:
        users = [r[0] for r in db.execute("SELECT userid FROM users")]
        vods = [r[0] for r in db.execute("SELECT file_id FROM vods")]
        tokens = [r[0] for r in db.execute("SELECT userid FROM tokens")]
    finally:
        db.close()
    media, storage = server.data_dir / "media", server.data_dir / "storage"
    files = [str(p.relative_to(media)) for p in media.rglob("*") if p.is_file()] if media.is_dir() else []
    objects = [str(p.relative_to(storage)) for p in storage.rglob("*") if p.is_file()] if storage.is_dir() else []
    return {"users": users, "vods": vods, "tokens": tokens, "files": files, "objects": objects}


def test_doctor_passes_and_leaves_nothing(server) -> None:  # type: ignore[no-untyped-def]
    r = subprocess.run([sys.executable, "-m", "app", "doctor", "--server", server.http_base, "--push-seconds", "3"],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    for name in ("business API", "accounts and signing", "object storage", "IM login", "push auth",
                 "live callbacks", "cleanup"):
        assert f"[ ok ] {name}" in r.stdout
    # no test user, no public black replay, no recorded or uploaded file stays behind
    assert _leftovers(server) == {"users": [], "vods": [], "tokens": [], "files": [], "objects": []}


def test_doctor_explains_unreachable_server() -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    r = subprocess.run([sys.executable, "-m", "app", "doctor", "--server", f"http://127.0.0.1:{port}",
                        "--timeout", "2"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert "[FAIL] business API" in r.stdout and "address is wrong or the server is down" in r.stdout
