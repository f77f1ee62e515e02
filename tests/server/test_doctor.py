"""`xiaozhibo doctor` end to end against a real server, and its explanation when the server is absent."""

from __future__ import annotations

import socket
import subprocess
import sys

from tests.conftest import ROOT


def test_doctor_passes(server) -> None:  # type: ignore[no-untyped-def]
    r = subprocess.run([sys.executable, "-m", "app", "doctor", "--server", server.http_base],
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    for name in ("business API", "accounts and signing", "object storage", "IM login", "push auth",
                 "live callbacks"):
        assert f"[ ok ] {name}" in r.stdout


def test_doctor_explains_unreachable_server() -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    r = subprocess.run([sys.executable, "-m", "app", "doctor", "--server", f"http://127.0.0.1:{port}",
                        "--timeout", "2"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 1
    assert "[FAIL] business API" in r.stdout and "address is wrong or the server is down" in r.stdout
