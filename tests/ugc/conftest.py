"""Short-video fixtures: a logged-in ApiClient on the module's server, a recorded clip."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.api import ApiClient
from app.capture.audio import AudioMixer, ToneSource
from app.capture.video import TestSource
from app.ugc import ClipInfo, ClipRecorder


def ugc_threads() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("ugc-")]


def record_clip(out_dir: Path, seconds: float) -> ClipInfo:
    """Record ``seconds`` of the test pattern and a tone, ended by ``max_seconds``."""
    rec = ClipRecorder(TestSource(640, 360), AudioMixer(ToneSource()), out_dir, resolution="360p", fps=30,
                       bitrate_kbps=800, max_seconds=seconds)
    done = threading.Event()
    rec.on_done = lambda clip, error: done.set()
    rec.start()
    assert done.wait(seconds + 15), "the clip did not finish"
    return rec.stop()


@pytest.fixture
def client(module_server) -> Iterator[ApiClient]:  # type: ignore[no-untyped-def]
    """A fresh registered and logged-in user."""
    c = ApiClient(module_server.http_base)
    userid = f"ugc_{secrets.token_hex(4)}"
    c.register(userid, "pa55word")
    c.login(userid, "pa55word")
    yield c
    c.logout()


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> ClipInfo:
    return record_clip(tmp_path_factory.mktemp("clip"), 1.0)
