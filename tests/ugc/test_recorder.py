"""ClipRecorder: H.264 + AAC faststart MP4 and a JPEG cover; limits, callbacks, clean threads."""

from __future__ import annotations

import struct
import threading
import time
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from app.capture.audio import AudioMixer, ToneSource
from app.capture.video import TestSource
from app.ugc import ClipInfo, ClipRecorder, UgcError, UgcErrorCode
from tests.ugc.conftest import ugc_threads


def top_level_boxes(path: Path) -> list[str]:
    names, data, pos = [], path.read_bytes(), 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if size == 1:
            size = struct.unpack(">Q", data[pos + 8:pos + 16])[0]
        names.append(kind.decode("latin-1"))
        if size < 8:
            break
        pos += size
    return names


def check_clip(clip: ClipInfo, seconds: float) -> None:
    assert clip.path.suffix == ".mp4" and (clip.width, clip.height) == (640, 360)
    with av.open(str(clip.path)) as c:
        v, a = c.streams.video[0], c.streams.audio[0]
        assert v.codec_context.name == "h264" and a.codec_context.name == "aac"
        assert (v.codec_context.width, v.codec_context.height) == (640, 360)
        container_s = c.duration / 1e6
        frames = sum(1 for _ in c.decode(video=0))
    assert abs(container_s - seconds) < 0.4, container_s
    assert abs(clip.duration - seconds) < 0.4, clip.duration
    assert abs(frames - 30 * seconds) <= 12, frames
    boxes = top_level_boxes(clip.path)
    assert "moov" in boxes and "mdat" in boxes and boxes.index("moov") < boxes.index("mdat"), boxes
    assert "moof" not in boxes  # remuxed, not the fragmented part file
    cover = cv2.imread(str(clip.cover))
    assert clip.cover.read_bytes()[:3] == b"\xff\xd8\xff" and cover is not None and cover.shape[1] == 640
    assert sorted(p.name for p in clip.path.parent.iterdir()) == sorted([clip.path.name, clip.cover.name])


def test_records_a_clip(tmp_path: Path) -> None:
    rec = ClipRecorder(TestSource(640, 360), AudioMixer(ToneSource()), tmp_path, resolution="360p", fps=30,
                       bitrate_kbps=800)
    previews: list[np.ndarray] = []
    progress: list[float] = []
    done: list[tuple[ClipInfo | None, str]] = []
    rec.on_preview = previews.append
    rec.on_progress = progress.append
    rec.on_done = lambda clip, error: done.append((clip, error))
    assert not rec.recording
    rec.start()
    assert rec.recording
    time.sleep(2.0)
    recorded = rec.elapsed()
    clip = rec.stop()
    assert not rec.recording and ugc_threads() == []
    check_clip(clip, recorded)
    assert done == [(clip, "")]
    assert previews and previews[0].shape == (360, 640, 3)
    assert 5 <= len(progress) <= 12 and progress == sorted(progress) and progress[-1] > 1.5
    assert rec.stop() == clip  # stopping again hands the same clip


def test_max_seconds_stops_by_itself(tmp_path: Path) -> None:
    rec = ClipRecorder(TestSource(640, 360), None, tmp_path, resolution="360p", fps=30, bitrate_kbps=800,
                       max_seconds=1.0)
    done = threading.Event()
    got: list[tuple[ClipInfo | None, str]] = []

    def on_done(clip: ClipInfo | None, error: str) -> None:
        got.append((clip, error))
        done.set()

    rec.on_done = on_done
    rec.start()
    assert done.wait(15)
    assert not rec.recording
    clip, error = got[0]
    assert clip is not None and error == ""
    check_clip(clip, 1.0)
    assert rec.stop() == clip and len(got) == 1
    for _ in range(50):  # ugc-finish returns right after on_done
        if not ugc_threads():
            break
        time.sleep(0.02)
    assert ugc_threads() == []


class EndedSource:
    def read(self) -> None:
        return None

    def close(self) -> None:
        pass


def test_nothing_recorded(tmp_path: Path) -> None:
    rec = ClipRecorder(TestSource(640, 360), None, tmp_path)
    with pytest.raises(UgcError) as e:
        rec.stop()
    assert e.value.code == UgcErrorCode.NOTHING_RECORDED
    with pytest.raises(UgcError):
        rec.start()  # a recorder records once

    rec = ClipRecorder(EndedSource(), None, tmp_path / "ended")
    got: list[tuple[ClipInfo | None, str]] = []
    rec.on_done = lambda clip, error: got.append((clip, error))
    rec.start()
    with pytest.raises(UgcError) as e:
        rec.stop()
    assert e.value.code == UgcErrorCode.NOTHING_RECORDED and "nothing was recorded" in str(e.value)
    assert got and got[0][0] is None and "nothing was recorded" in got[0][1]
    assert list((tmp_path / "ended").iterdir()) == [] and ugc_threads() == []
