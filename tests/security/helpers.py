"""Shared helpers for the attack tests: raw HTTP against a real server, log checks."""

from __future__ import annotations

import json
import os
import secrets
import time
from pathlib import Path
from typing import Any

import httpx

from protocol.signing import liteav_sig, wire_password
from tests.conftest import ServerProcess

_http = httpx.Client(timeout=10)  # keep-alive: many small requests stay cheap on a loaded machine


def post(sp: ServerProcess, path: str, body: dict[str, Any], sign_with: str | None = None,
         headers: dict[str, Any] | None = None) -> httpx.Response:
    """POST ``body`` as JSON, signed with ``sign_with`` (a token) when given."""
    raw = json.dumps(body, separators=(",", ":")).encode()
    h = {"Content-Type": "application/json", **(headers or {})}
    if sign_with is not None:
        h["Liteav-Sig"] = liteav_sig(sign_with, raw)
    return _http.post(sp.http_base + path, content=raw, headers=h)


def signed_body(userid: str, **extra: Any) -> dict[str, Any]:
    return {"userid": userid, "timestamp": int(time.time()), "expires": 10, "nonce": secrets.token_hex(8), **extra}


def register_login(sp: ServerProcess, userid: str, password: str = "secret123") -> dict[str, Any]:
    """Register (if needed) and log in; the /login reply data."""
    wire = wire_password(password, userid)
    post(sp, "/register", {"userid": userid, "password": wire})
    r = post(sp, "/login", {"userid": userid, "password": wire})
    assert r.json()["code"] == 200, r.text
    return r.json()["data"]


def no_traceback(sp: ServerProcess, since: int = 0) -> None:
    """The server wrote no traceback (to its console and so to its log) after line ``since``."""
    text = "\n".join(sp.output[since:])
    assert "Traceback" not in text, text[-3000:]
    assert "Exception in ASGI application" not in text, text[-3000:]


def alive(sp: ServerProcess) -> None:
    """The server still answers the business API."""
    r = post(sp, "/login", {"userid": "nobody_here", "password": "0" * 32})
    assert r.status_code == 200 and r.json()["code"] != 500, r.text


def open_upload_files(pid: int, root: Path) -> list[str]:
    """What process ``pid`` has open under ``root`` (Linux ``/proc``): an upload being written."""
    out = []
    fd_dir = Path(f"/proc/{pid}/fd")
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(fd_dir / fd)
        except OSError:
            continue
        if target.startswith(str(root.resolve()) + "/"):
            out.append(target)
    return out


def wait_open_upload(pid: int, root: Path, timeout: float = 15.0) -> list[str]:
    deadline = time.monotonic() + timeout
    while not (found := open_upload_files(pid, root)):
        assert time.monotonic() < deadline, "the server never opened the upload's file"
        time.sleep(0.01)
    return found
