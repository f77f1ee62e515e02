"""Live HLS across a publisher reconnect: one playlist, a discontinuity, no reused names, cache headers."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests
import tomli_w

from server.config import load
from tests.conftest import ServerProcess, start_server
from tests.media.helpers import ffmpeg_publish, sid_of, wait_until

GRACE_S = 3.0


@pytest.fixture(scope="module")
def hls_server(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    data = tmp_path_factory.mktemp("hls") / "server"
    cfg = load(data)
    cfg.live.hls_reconnect_grace = GRACE_S
    cfg.live.record = False
    (data / "config.toml").write_bytes(tomli_w.dumps(cfg.to_toml()).encode())
    sp = start_server(data)
    yield sp
    sp.stop()


def _playlist(sp: ServerProcess, sid: str) -> tuple[str, requests.Response]:
    r = requests.get(f"{sp.http_base}/live/{sid}.m3u8", timeout=15)
    assert r.status_code == 200, r.text
    return r.text, r


def _segments(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def _seq(text: str) -> int:
    m = re.search(r"#EXT-X-MEDIA-SEQUENCE:(\d+)", text)
    assert m, text
    return int(m.group(1))


def _publish(sp: ServerProcess, userid: str, seconds: float) -> None:
    p = ffmpeg_publish(sp.push_url(userid), seconds, size="320x180")
    try:
        assert p.wait(seconds + 15) == 0, p.stderr.read() if p.stderr else ""
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(5)


def test_reconnect_continues_the_playlist(hls_server: ServerProcess, tmp_path: Path) -> None:
    sp = hls_server
    sid = sid_of(sp, "reconnect01")
    _publish(sp, "reconnect01", 2.5)
    first, r1 = _playlist(sp, sid)
    assert r1.headers["cache-control"] == "no-cache"
    assert "#EXT-X-ENDLIST" not in first  # the publisher may come back within the grace period
    names1 = _segments(first)
    assert names1
    bodies = {n: requests.get(f"{sp.http_base}/live/{n}", timeout=5) for n in names1}
    for resp in bodies.values():
        assert resp.status_code == 200
        cc = resp.headers.get("cache-control", "")
        assert "immutable" in cc and "max-age=31536000" in cc, cc

    _publish(sp, "reconnect01", 2.5)
    second, _ = _playlist(sp, sid)
    names2 = _segments(second)
    assert "#EXT-X-ENDLIST" not in second
    assert "#EXT-X-DISCONTINUITY\n" in second
    assert _seq(second) >= _seq(first)
    assert len(set(names2)) == len(names2)
    new = [n for n in names2 if n not in names1]
    assert new and _seq(second) + len(names2) > _seq(first) + len(names1)  # sequence kept going
    for n, old in bodies.items():  # a name never changes content (so caches may keep it for ever)
        again = requests.get(f"{sp.http_base}/live/{n}", timeout=5)
        assert again.status_code in (200, 404)
        if again.status_code == 200:
            assert again.content == old.content
    # the discontinuity sits right before the first segment of the second publish
    lines = second.splitlines()
    i = lines.index(new[0])
    assert lines[i - 2] == "#EXT-X-DISCONTINUITY", second

    # no publisher for the grace period: now the playlist ends
    done = wait_until(lambda: "#EXT-X-ENDLIST" in _playlist(sp, sid)[0] and _playlist(sp, sid)[0],
                      GRACE_S + 6, 0.3, "ENDLIST after the grace period")
    assert _segments(done)[-1] == names2[-1]

    # a later broadcast starts a new playlist whose names differ from every earlier one
    _publish(sp, "reconnect01", 2.5)
    third, _ = _playlist(sp, sid)
    names3 = _segments(third)
    assert names3 and "#EXT-X-ENDLIST" not in third
    assert not set(names3) & (set(names1) | set(names2))


def test_bad_segment_names_refused(hls_server: ServerProcess) -> None:
    sid = sid_of(hls_server, "nobody01")
    for seg in ("seg00000.ts", "../index.m3u8", "ABC-1.ts", "x-1.ts.tmp"):
        r = requests.get(f"{hls_server.http_base}/live/{sid}/{seg}", timeout=5)
        assert r.status_code == 404
