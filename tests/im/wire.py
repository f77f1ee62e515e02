"""Test helpers: a raw IM WebSocket peer speaking the documented wire format, live events,
RoomService calls. Used by tests/im and tests/rooms against a real server process."""

from __future__ import annotations

import itertools
import json
import queue
import threading
import time
from typing import Any
from urllib.parse import urlencode

import requests
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from protocol import im
from protocol.signing import callback_sign, stream_id
from protocol.usersig import gen_usersig


def usersig(sp: Any, uid: str, ttl: int = 3600) -> str:
    cfg = sp.config
    return gen_usersig(cfg.im.sdkappid, cfg.im.secret_key, uid, ttl)


def im_url(port: int, sdkappid: int, uid: str, sig: str) -> str:
    return f"ws://127.0.0.1:{port}/im?" + urlencode({"sdkappid": sdkappid, "identifier": uid, "usersig": sig})


class Peer:
    """One raw connection. A reader thread sorts frames into replies (by id) and pushes."""

    def __init__(self, ws: ClientConnection, uid: str, login: dict[str, Any]) -> None:
        self.ws, self.uid, self.login = ws, uid, login
        self.pushes: queue.Queue[dict[str, Any]] = queue.Queue()
        self.replies: dict[int, dict[str, Any]] = {}
        self.errors: queue.Queue[dict[str, Any]] = queue.Queue()
        self.closed = threading.Event()
        self.close_code: int | None = None
        self._cv = threading.Condition()
        self._ids = itertools.count(1)
        threading.Thread(target=self._read, daemon=True, name=f"peer-{uid}").start()

    def _read(self) -> None:
        try:
            for raw in self.ws:
                f = json.loads(raw)
                if f["type"] == "reply":
                    with self._cv:
                        self.replies[f["id"]] = f
                        self._cv.notify_all()
                elif f["type"] == "error":
                    self.errors.put(f)
                else:
                    self.pushes.put(f)
        except ConnectionClosed:
            pass
        finally:
            self.close_code = self.ws.close_code
            self.closed.set()

    def send_raw(self, raw: str | bytes) -> None:
        self.ws.send(raw)

    def wait_reply(self, rid: int, timeout: float = 5.0) -> dict[str, Any]:
        with self._cv:
            if not self._cv.wait_for(lambda: rid in self.replies, timeout):
                raise TimeoutError(f"{self.uid}: no reply to {rid}")
            return self.replies.pop(rid)

    def req(self, op: str, **args: Any) -> dict[str, Any]:
        rid = next(self._ids)
        self.ws.send(im.request(rid, op, **args))
        return self.wait_reply(rid)

    def push(self, type_: str | None = None, timeout: float = 5.0) -> dict[str, Any]:
        """The next pushed frame (of ``type_``, skipping others)."""
        deadline = time.monotonic() + timeout
        while True:
            f = self.pushes.get(timeout=max(0.01, deadline - time.monotonic()))
            if type_ is None or f["type"] == type_:
                return f

    def drain(self, wait: float = 0.2) -> list[dict[str, Any]]:
        time.sleep(wait)
        out = []
        while True:
            try:
                out.append(self.pushes.get_nowait())
            except queue.Empty:
                return out

    def close(self) -> None:
        try:
            self.ws.close()
        except Exception:
            pass


def connect_peer(port: int, sdkappid: int, uid: str, sig: str, **kw: Any) -> Peer:
    ws = connect(im_url(port, sdkappid, uid, sig), open_timeout=10, **kw)
    login = json.loads(ws.recv(10))
    return Peer(ws, uid, login)


def peer(sp: Any, uid: str, **kw: Any) -> Peer:
    """A logged-in peer on server ``sp`` (asserts the login frame is code 0)."""
    p = connect_peer(sp.http_port, sp.config.im.sdkappid, uid, usersig(sp, uid), **kw)
    assert p.login == {"type": "login", "code": 0, "message": "ok"}, p.login
    return p


def register(sp: Any, uid: str) -> None:
    """Register ``uid`` as a user (only registered users get an offline C2C inbox)."""
    import hashlib

    pw = hashlib.md5(b"pw-" + uid.encode()).hexdigest()
    r = requests.post(f"{sp.http_base}/register", json={"userid": uid, "password": pw}, timeout=10).json()
    assert r["code"] in (200, 612), r


def sid_of(sp: Any, uid: str) -> str:
    return stream_id(sp.config.live.bizid, uid)


def live_event(sp: Any, sid: str, event_type: int, **extra: Any) -> dict[str, Any]:
    """Post a signed Tencent live event the way the media server / nginx adapter would."""
    t = int(time.time()) + 60
    body = {"t": t, "sign": callback_sign(sp.config.live.api_key, t), "event_type": event_type,
            "stream_id": sid, **extra}
    r = requests.post(f"{sp.http_base}/callback/live_event", json=body, timeout=10)
    return r.json()


class Rooms:
    """RoomService client for one user (login with a UserSig, then commands)."""

    def __init__(self, sp: Any, uid: str, sig: str | None = None) -> None:
        self.sp, self.uid = sp, uid
        cfg = sp.config
        r = requests.post(f"{sp.http_base}/roomservice/login", params={
            "sdkAppID": cfg.im.sdkappid, "userID": uid, "userSig": sig or usersig(sp, uid)}, timeout=10).json()
        self.login = r
        self.token = r.get("data", {}).get("token", "")

    def __call__(self, cmd: str, **body: Any) -> dict[str, Any]:
        r = requests.post(f"{self.sp.http_base}/roomservice/{cmd}",
                          params={"userID": self.uid, "token": self.token}, json=body, timeout=10)
        assert r.headers["content-type"].startswith("application/json")
        return r.json()
