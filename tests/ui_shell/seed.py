"""Put users, profiles, replays and short videos on a real server (tests and screenshots).

Replays are created the way the media server creates them: a signed live-event callback
(``POST /callback/tape_callback``, sign = md5(API_KEY + t)) announcing a finished recording.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import requests

from app.api.client import ApiClient
from protocol.signing import callback_sign, stream_id


def picture(path: Path, w: int, h: int, hue: int, text: str = "") -> Path:
    """A small colourful JPEG (a gradient with a label) made with numpy/OpenCV."""
    x = np.linspace(0, 1, w, dtype=np.float32)[None, :]
    y = np.linspace(0, 1, h, dtype=np.float32)[:, None]
    hsv = np.zeros((h, w, 3), np.uint8)
    hsv[..., 0] = (hue + 30 * x + 10 * y) % 180
    hsv[..., 1] = 150 + 60 * y
    hsv[..., 2] = 140 + 100 * x
    bgr = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)
    cv2.circle(bgr, (int(w * 0.75), int(h * 0.35)), int(min(w, h) * 0.22), (255, 255, 255), -1)
    if text:
        cv2.putText(bgr, text, (int(w * 0.06), int(h * 0.85)), cv2.FONT_HERSHEY_SIMPLEX, h / 180, (255, 255, 255),
                    max(1, h // 90), cv2.LINE_AA)
    cv2.imwrite(str(path), bgr)
    return path


def live_event(server, **ev) -> dict:  # type: ignore[no-untyped-def]
    t = int(time.time()) + 60
    body = {"t": t, "sign": callback_sign(server.config.live.api_key, t), **ev}
    r = requests.post(server.http_base + "/callback/tape_callback", json=body, timeout=10)
    return r.json()


def user(server, userid: str, password: str = "secret1", nickname: str = "", hue: int | None = None,
         register: bool = True) -> ApiClient:
    """Register (if asked) and log in ``userid``; with ``hue``, upload an avatar too."""
    c = ApiClient(server.http_base)
    if register:
        c.register(userid, password)
    c.login(userid, password)
    fields: dict = {}
    if nickname:
        fields["nickname"] = nickname
    if hue is not None:
        with tempfile.TemporaryDirectory() as d:
            fields["avatar"] = c.upload_file("avatar/a.jpg", picture(Path(d) / "a.jpg", 160, 160, hue), None)
    if fields:
        c.upload_user_info(**fields)
    return c


def replay(server, anchor: ApiClient, file_id: str, title: str = "", location: str = "", hue: int | None = None,
           duration: int = 120) -> None:
    """A finished, listed replay of ``anchor`` (room info first, then begin/end/record callbacks)."""
    assert anchor.session is not None
    cover = None
    if hue is not None:
        with tempfile.TemporaryDirectory() as d:
            cover = anchor.upload_file(f"cover/{file_id}.jpg",
                                       picture(Path(d) / "c.jpg", 480, 270, hue, title[:18] if title.isascii() else ""),
                                       None)
    if title:
        anchor.upload_room(title, location, cover)
    sid = stream_id(server.config.live.bizid, anchor.session.userid)
    now = int(time.time())
    assert live_event(server, event_type=1, stream_id=sid, event_time=now - duration)["code"] == 0
    assert live_event(server, event_type=0, stream_id=sid)["code"] == 0
    r = live_event(server, event_type=100, stream_id=sid, video_url=f"{server.http_base}/vod/{file_id}.mp4",
                   file_id=file_id, file_format="mp4", start_time=now - duration, end_time=now, duration=duration,
                   file_size=1000)
    assert r["code"] == 0, r


def short_video(server, author: ApiClient, name: str, title: str, location: str = "",
                hue: int | None = None) -> str:
    """Upload a tiny clip (and a cover with ``hue``) as ``author`` and publish it; its file_id.

    UGC publishing accepts only the author's own uploads, so the server chooses the file_id.
    """
    from tests.server.test_storage_and_hostile import mp4_bytes

    cover = ""
    with tempfile.TemporaryDirectory() as d:
        clip = Path(d) / f"{name}.mp4"
        clip.write_bytes(mp4_bytes())
        file_id, play_url = author.upload_vod(clip)
        if hue is not None:
            cover = author.upload_file(f"cover/{file_id}.jpg", picture(Path(d) / "c.jpg", 480, 270, hue), None)
    author.upload_ugc(file_id, title, cover, location, play_url)
    return file_id
