"""The timecode survives x264 at 360p and rejects frames without a code."""

from __future__ import annotations

from fractions import Fraction

import av
import cv2
import numpy as np
import pytest

from app.capture import timecode


def test_round_trip_bgr_and_luma() -> None:
    ms = 1_723_456_789_012
    bgr = np.full((360, 640, 3), 90, np.uint8)
    timecode.stamp(bgr, ms)
    assert timecode.read(bgr) == ms
    y = cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV_I420)[:360]
    assert timecode.read(np.ascontiguousarray(y)) == ms
    luma = np.zeros((360, 704), np.uint8)  # padded rows like a decoder's line size
    timecode.stamp(luma, ms)
    assert timecode.read(luma) == ms


def test_no_code_and_damage_are_rejected() -> None:
    assert timecode.read(np.zeros((360, 640), np.uint8)) is None
    assert timecode.read(np.full((360, 640), 255, np.uint8)) is None
    assert timecode.read(np.zeros((32, 32), np.uint8)) is None
    y = np.zeros((360, 640), np.uint8)
    timecode.stamp(y, 123456)
    y[40:56, 80:96] = 255 - y[40:56, 80:96]  # flip one data bit: the CRC catches it
    assert timecode.read(y) is None
    with pytest.raises(ValueError):
        timecode.stamp(np.zeros((32, 32), np.uint8), 1)


def test_survives_x264_at_360p_low_bitrate() -> None:
    rng = np.random.default_rng(1)
    enc = av.CodecContext.create("libx264", "w")
    enc.width, enc.height, enc.pix_fmt = 640, 360, "yuv420p"
    enc.time_base = Fraction(1, 30)
    enc.bit_rate = 300_000
    enc.options = {"preset": "veryfast", "tune": "zerolatency"}
    dec = av.CodecContext.create("h264", "r")
    sent: list[int] = []
    got: list[int | None] = []
    for i in range(30):
        bgr = rng.integers(0, 255, (360, 640, 3), dtype=np.uint8)  # worst case: pure noise
        ms = 1_700_000_000_000 + i * 33
        timecode.stamp(bgr, ms)
        sent.append(ms)
        frame = av.VideoFrame.from_ndarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV_I420), format="yuv420p")
        frame.pts = i
        for pkt in enc.encode(frame):
            for f in dec.decode(pkt):
                got.append(timecode.read(f.to_ndarray()[:360]))
    for pkt in enc.encode(None):
        for f in dec.decode(pkt):
            got.append(timecode.read(f.to_ndarray()[:360]))
    assert got == sent
