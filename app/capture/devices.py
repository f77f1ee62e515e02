"""Cameras this computer has, in OpenCV's index order, with names a user recognises (no Qt).

- Linux: the V4L2 nodes ``/dev/videoN`` (OpenCV index N) that can capture video: their
  ``VIDIOC_QUERYCAP`` device caps (so a webcam's metadata node is skipped; the sysfs ``index``
  attribute decides when the node cannot be opened); names from ``/sys/class/video4linux/videoN/name``.
- macOS: AVFoundation's order, found by opening indices until the first that fails; names from
  ``system_profiler SPCameraDataType -json`` only when it lists exactly as many cameras.
- Windows: Media Foundation's order, likewise; names from PowerShell's camera/image PnP devices
  under the same guard. Otherwise (and on any failure) "Camera N".

Listing never raises: a machine without cameras (or without permission) lists none.
"""

from __future__ import annotations

import json
import logging
import os
import re
import struct
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

SYSFS = "/sys/class/video4linux"
VIDIOC_QUERYCAP = 0x80685600  # _IOR('V', 0, struct v4l2_capability), 104 bytes
CAP_VIDEO_CAPTURE, CAP_VIDEO_CAPTURE_MPLANE, CAP_DEVICE_CAPS = 0x1, 0x1000, 0x80000000
_QUERYCAP = struct.Struct("16s32s32sIII12x")


@dataclass(frozen=True)
class Camera:
    """One camera: ``index`` opens it with ``cv2.VideoCapture(index)``; ``name`` is for people."""

    index: int
    name: str


def parse_querycap(raw: bytes) -> tuple[str, bool]:
    """(card name, can capture video) from a ``struct v4l2_capability``."""
    _driver, card, _bus, _version, caps, device_caps = _QUERYCAP.unpack(raw[:_QUERYCAP.size])
    effective = device_caps if caps & CAP_DEVICE_CAPS else caps
    return card.split(b"\0", 1)[0].decode("utf-8", "replace"), bool(
        effective & (CAP_VIDEO_CAPTURE | CAP_VIDEO_CAPTURE_MPLANE))


def _querycap(path: str) -> tuple[str, bool] | None:
    import fcntl  # POSIX only: this module is imported on Windows too

    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        buf = bytearray(_QUERYCAP.size)
        fcntl.ioctl(fd, VIDIOC_QUERYCAP, buf)
        return parse_querycap(bytes(buf))
    except OSError:
        return None
    finally:
        os.close(fd)


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace").strip()
    except OSError:
        return ""


def linux_cameras(sysfs: str = SYSFS, dev: str = "/dev") -> list[Camera]:
    """V4L2 capture nodes, by node number; see the module docstring."""
    found = []
    for entry in Path(sysfs).glob("video*"):
        m = re.fullmatch(r"video(\d+)", entry.name)
        if not m:
            continue
        n = int(m.group(1))
        cap = _querycap(f"{dev}/video{n}")
        if cap is not None and not cap[1]:
            continue  # metadata / output-only node
        if cap is None and _read(entry / "index") not in ("", "0"):
            continue  # a device's second node (metadata) when we cannot ask the node itself
        name = _read(entry / "name") or (cap[0] if cap else "") or f"Camera {n}"
        found.append(Camera(n, name))
    return _unique(sorted(found, key=lambda c: c.index))


def _unique(cameras: list[Camera]) -> list[Camera]:
    """Two cameras of one model get their index added, so the user can tell them apart."""
    names = [c.name for c in cameras]
    return [Camera(c.index, f"{c.name} ({c.index})") if names.count(c.name) > 1 else c for c in cameras]


def probe_indices(opens: Callable[[int], bool], max_index: int = 10) -> list[int]:
    """Indices 0, 1, ... that open, stopping at the first that does not (AVFoundation/MSMF order)."""
    out = []
    for i in range(max_index):
        try:
            ok = opens(i)
        except Exception as exc:  # noqa: BLE001 - a backend that throws means: no more cameras
            log.debug("camera %d probe: %s", i, exc)
            ok = False
        if not ok:
            break
        out.append(i)
    return out


def named(indices: list[int], names: list[str]) -> list[Camera]:
    """Cameras with ``names`` when they match the indices one to one, else "Camera N" (1-based)."""
    if len(names) != len(indices) or not all(names):
        names = [f"Camera {i + 1}" for i in indices]
    return _unique([Camera(i, n) for i, n in zip(indices, names)])


def macos_names(profiler_json: str) -> list[str]:
    """Camera names from ``system_profiler SPCameraDataType -json`` output ([] when unreadable)."""
    try:
        items = json.loads(profiler_json).get("SPCameraDataType", [])
        return [str(item.get("_name", "")) for item in items if isinstance(item, dict)]
    except (ValueError, AttributeError):
        return []


def _run(argv: list[str]) -> str:
    flags = getattr(subprocess, "CREATE_NO_WINDOW", 0)
    try:
        done = subprocess.run(argv, capture_output=True, timeout=5, creationflags=flags)
    except (OSError, subprocess.SubprocessError) as exc:
        log.debug("%s: %s", argv[0], exc)
        return ""
    return done.stdout.decode("utf-8", "replace") if done.returncode == 0 else ""


_WINDOWS_NAMES = ("Get-CimInstance Win32_PnPEntity | Where-Object { $_.PNPClass -in 'Camera','Image' } "
                  "| ForEach-Object { $_.Name }")


def _opens(backend: int) -> Callable[[int], bool]:
    import cv2

    def opens(i: int) -> bool:
        cap = cv2.VideoCapture(i, backend)
        try:
            return bool(cap.isOpened())
        finally:
            cap.release()

    return opens


def list_camera_devices(platform: str = sys.platform, max_index: int = 10) -> list[Camera]:
    """The cameras of this computer (see the module docstring); never raises."""
    try:
        if platform.startswith("linux"):
            return linux_cameras()
        import cv2

        if platform == "darwin":
            indices = probe_indices(_opens(cv2.CAP_AVFOUNDATION), max_index)
            return named(indices, macos_names(_run(["system_profiler", "SPCameraDataType", "-json"])) if indices
                         else [])
        if platform == "win32":
            indices = probe_indices(_opens(cv2.CAP_MSMF), max_index)
            text = _run(["powershell", "-NoProfile", "-Command", _WINDOWS_NAMES]) if indices else ""
            return named(indices, [line.strip() for line in text.splitlines() if line.strip()])
        return named(probe_indices(_opens(cv2.CAP_ANY), max_index), [])
    except Exception as exc:  # noqa: BLE001 - listing must never break a dialog
        log.info("cannot list cameras: %s", exc)
        return []
