"""``[live] play_wait``: how long an RTMP / HTTP-FLV player may wait for its publisher."""

from __future__ import annotations

from pathlib import Path

from server.app import build_context
from server.config import load


def test_play_wait_comes_from_the_config(tmp_path: Path) -> None:
    assert load(tmp_path / "default").live.play_wait == 5.0
    ctx = build_context(load(tmp_path / "short", {"live.play_wait": 0.25}))
    try:
        assert ctx.media is not None and ctx.media.play_wait == 0.25
    finally:
        ctx.db.dispose()
