"""Regenerate the app icon set in resources/icons/ from the one drawing in make_images.app_icon().

Run: QT_QPA_PLATFORM=offscreen python resources/make_icons.py

Writes xiaozhibo_{16..512}.png (freedesktop hicolor sizes), xiaozhibo.ico (Windows: PNG-compressed
entries 16..256) and xiaozhibo.icns (macOS: PNG entries 16..1024, 1x and 2x). Every size is drawn
from the same vector drawing (crisper at 16 px than scaling a bitmap down); ICO and ICNS are
written with the standard library, so building the icons needs nothing but Qt.
"""

from __future__ import annotations

import struct
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from app.ui.qt import QGuiApplication  # noqa: E402
from resources.make_images import app_icon  # noqa: E402

OUT = Path(__file__).resolve().parent / "icons"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
# ICNS element types holding PNG data, by pixel size (the @2x types reuse the larger pixmap).
ICNS_TYPES = ((b"icp4", 16), (b"icp5", 32), (b"icp6", 64), (b"ic07", 128), (b"ic08", 256), (b"ic09", 512),
              (b"ic10", 1024), (b"ic11", 32), (b"ic12", 64), (b"ic13", 256), (b"ic14", 512))


def png_bytes(size: int) -> bytes:
    """The icon drawn at ``size`` x ``size`` pixels, PNG-encoded."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "icon.png"
        if not app_icon(size).save(str(path), "PNG"):
            raise RuntimeError(f"could not encode the {size}px icon")
        return path.read_bytes()


def ico(pngs: dict[int, bytes]) -> bytes:
    """A Windows .ico with one PNG-compressed entry per size (Vista and later read these)."""
    sizes = sorted(pngs)
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = len(header) + 16 * len(sizes)
    entries, blobs = b"", b""
    for s in sizes:
        data = pngs[s]
        dim = 0 if s >= 256 else s  # 0 means 256
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(data), offset + len(blobs))
        blobs += data
    return header + entries + blobs


def icns(pngs: dict[int, bytes]) -> bytes:
    """A macOS .icns of PNG elements (macOS 10.7+)."""
    body = b"".join(kind + struct.pack(">I", 8 + len(pngs[s])) + pngs[s] for kind, s in ICNS_TYPES)
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


def main() -> int:
    QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    OUT.mkdir(exist_ok=True)
    pngs = {s: png_bytes(s) for s in sorted({*PNG_SIZES, *ICO_SIZES, *(s for _, s in ICNS_TYPES)})}
    for s in PNG_SIZES:
        (OUT / f"xiaozhibo_{s}.png").write_bytes(pngs[s])
    (OUT / "xiaozhibo.ico").write_bytes(ico({s: pngs[s] for s in ICO_SIZES}))
    (OUT / "xiaozhibo.icns").write_bytes(icns(pngs))
    print("wrote", OUT)
    return 0


if __name__ == "__main__":
    sys.exit(main())
