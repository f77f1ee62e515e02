"""publish_clip end to end: record, upload with the VOD sign, publish, list and download."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import av
import pytest
import requests

from app.api import ApiClient
from app.ugc import ClipInfo, UgcError, UgcErrorCode, publish_clip


def test_publish_lists_and_plays(module_server, client: ApiClient, clip: ClipInfo, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    seen: list[tuple[int, int]] = []
    title = "  My first   short video " + "x" * 100
    info = publish_clip(client, clip, title, "Shenzhen", progress=lambda a, b: seen.append((a, b)))
    total = clip.path.stat().st_size + clip.cover.stat().st_size
    assert seen[-1] == (total, total) and [a for a, _ in seen] == sorted(a for a, _ in seen)

    first = client.get_ugc_list()[0]
    assert first == info
    assert first.userid == client.session.userid  # type: ignore[union-attr]
    assert first.title == ("My first short video " + "x" * 100)[:64] and first.location == "Shenzhen"
    assert first.play_url.endswith(f"/{first.file_id}.mp4") and first.frontcover.endswith(".jpg")

    cover = requests.get(first.frontcover, timeout=10)
    assert cover.status_code == 200 and cover.content == clip.cover.read_bytes()
    video = requests.get(first.play_url, timeout=10)
    assert video.status_code == 200 and video.content == clip.path.read_bytes()
    downloaded = tmp_path / "got.mp4"
    downloaded.write_bytes(video.content)
    with av.open(str(downloaded)) as c:
        assert {s.codec_context.name for s in c.streams} == {"h264", "aac"}
        frames = sum(1 for _ in c.decode(video=0))
    assert frames >= 20


def test_bad_input_uploads_nothing(module_server, client: ApiClient, clip: ClipInfo) -> None:  # type: ignore[no-untyped-def]
    storage = module_server.config.storage_dir
    before = sorted(storage.rglob("*"))
    listed = client.get_ugc_list()
    for title in ("", "   ", "\n\t"):
        with pytest.raises(UgcError) as e:
            publish_clip(client, clip, title)
        assert e.value.code == UgcErrorCode.INVALID and "title" in str(e.value)
    gone = dataclasses.replace(clip, path=clip.path.with_name("missing.mp4"))
    with pytest.raises(UgcError):
        publish_clip(client, gone, "title")
    assert sorted(storage.rglob("*")) == before and client.get_ugc_list() == listed
