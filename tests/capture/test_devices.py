"""Camera listing: V4L2 capture nodes with sysfs names, AVFoundation/MSMF order with guarded names."""

from __future__ import annotations

import json
from pathlib import Path

from app.capture.devices import (
    _QUERYCAP,
    CAP_DEVICE_CAPS,
    CAP_VIDEO_CAPTURE,
    Camera,
    linux_cameras,
    list_camera_devices,
    macos_names,
    named,
    parse_querycap,
    probe_indices,
)
from app.capture.video import list_cameras


def _node(sysfs: Path, n: int, name: str, index: int) -> None:
    d = sysfs / f"video{n}"
    d.mkdir(parents=True)
    (d / "name").write_text(name + "\n")
    (d / "index").write_text(f"{index}\n")


def test_linux_lists_capture_nodes_with_sysfs_names(tmp_path: Path) -> None:
    sysfs = tmp_path / "video4linux"
    _node(sysfs, 0, "Integrated Camera: Integrated C", 0)
    _node(sysfs, 1, "Integrated Camera: Integrated C", 1)  # the same webcam's metadata node
    _node(sysfs, 10, "USB Capture HDMI", 0)
    _node(sysfs, 2, "USB Capture HDMI", 0)
    (sysfs / "v4l-subdev0").mkdir()  # not a video node
    cams = linux_cameras(str(sysfs), str(tmp_path / "dev"))  # no device files: sysfs index decides
    assert cams == [Camera(0, "Integrated Camera: Integrated C"), Camera(2, "USB Capture HDMI (2)"),
                    Camera(10, "USB Capture HDMI (10)")]


def test_querycap_tells_capture_from_metadata_nodes() -> None:
    def raw(caps: int, device_caps: int) -> bytes:
        return _QUERYCAP.pack(b"uvcvideo", b"HD Webcam\0junk", b"usb-0000:00:14.0-1", 0x60000, caps, device_caps)

    both = CAP_VIDEO_CAPTURE | 0x00800000 | CAP_DEVICE_CAPS
    assert parse_querycap(raw(both, CAP_VIDEO_CAPTURE)) == ("HD Webcam", True)
    assert parse_querycap(raw(both, 0x00800000)) == ("HD Webcam", False)  # META_CAPTURE only
    assert parse_querycap(raw(CAP_VIDEO_CAPTURE, 0)) == ("HD Webcam", True)  # old driver: no device caps


def test_index_order_probe_stops_at_the_first_gap() -> None:
    assert probe_indices(lambda i: i < 2) == [0, 1]
    assert probe_indices(lambda i: i in (0, 2)) == [0]
    assert probe_indices(lambda i: 1 / 0 > 0) == []  # a backend that throws lists nothing


def test_names_are_used_only_when_they_match_the_cameras_found() -> None:
    profiler = json.dumps({"SPCameraDataType": [{"_name": "FaceTime HD Camera", "spcamera_model-id": "x"},
                                                {"_name": "Continuity Camera"}]})
    names = macos_names(profiler)
    assert names == ["FaceTime HD Camera", "Continuity Camera"]
    assert named([0, 1], names) == [Camera(0, "FaceTime HD Camera"), Camera(1, "Continuity Camera")]
    assert named([0], names) == [Camera(0, "Camera 1")]  # counts differ: order unknown, no names
    assert named([0, 1], ["Cam", "Cam"]) == [Camera(0, "Cam (0)"), Camera(1, "Cam (1)")]
    assert macos_names("not json") == [] and macos_names("[]") == []


def test_listing_never_raises_here() -> None:
    cams = list_camera_devices()
    assert all(isinstance(c, Camera) and c.name for c in cams)
    assert list_cameras() == [c.index for c in cams]
