"""The desktop package's inputs are consistent (fast; the build and its smoke are scripts/package.sh
and scripts/package_smoke.py, minutes long, not part of the suite).

Checks the desktop entry (desktop-file-validate when installed), the icon set (every PNG size,
the ICO and ICNS directories), that the PyInstaller spec names data that exists, the bundle's
``-m app`` entry shim, and deploy/linux/install-desktop.sh.
"""

from __future__ import annotations

import configparser
import os
import re
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ICONS = ROOT / "resources" / "icons"
DESKTOP = ROOT / "deploy" / "linux" / "xiaozhibo.desktop"
SPEC = ROOT / "deploy" / "pyinstaller" / "xiaozhibo.spec"
INSTALLER = ROOT / "deploy" / "linux" / "install-desktop.sh"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    return struct.unpack(">II", data[16:24])


def desktop_entry(path: Path) -> configparser.ConfigParser:
    cp = configparser.ConfigParser(interpolation=None, delimiters=("=",))
    cp.optionxform = str  # type: ignore[assignment,method-assign]
    cp.read(path, encoding="utf-8")
    return cp


def validate(path: Path) -> None:
    if shutil.which("desktop-file-validate") is None:
        return  # Debian: desktop-file-utils; the structural checks below still run
    r = subprocess.run(["desktop-file-validate", str(path)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0 and "error" not in r.stdout, r.stdout + r.stderr


def test_png_icons_in_every_size() -> None:
    for s in PNG_SIZES:
        assert png_size((ICONS / f"xiaozhibo_{s}.png").read_bytes()) == (s, s)


def test_ico_holds_png_entries_16_to_256() -> None:
    data = (ICONS / "xiaozhibo.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", data[:6])
    assert (reserved, kind) == (0, 1)
    sizes = []
    for i in range(count):
        w, h, _, _, planes, bpp, size, offset = struct.unpack("<BBBBHHII", data[6 + 16 * i:22 + 16 * i])
        w, h = w or 256, h or 256
        assert png_size(data[offset:offset + size]) == (w, h) and bpp == 32 and planes == 1
        sizes.append(w)
    assert sorted(sizes) == [16, 24, 32, 48, 64, 128, 256]


def test_icns_holds_png_elements_up_to_1024() -> None:
    data = (ICONS / "xiaozhibo.icns").read_bytes()
    assert data[:4] == b"icns" and struct.unpack(">I", data[4:8])[0] == len(data)
    expected = {b"icp4": 16, b"icp5": 32, b"icp6": 64, b"ic07": 128, b"ic08": 256, b"ic09": 512, b"ic10": 1024,
                b"ic11": 32, b"ic12": 64, b"ic13": 256, b"ic14": 512}
    found, pos = {}, 8
    while pos < len(data):
        kind, length = data[pos:pos + 4], struct.unpack(">I", data[pos + 4:pos + 8])[0]
        found[kind] = png_size(data[pos + 8:pos + length])[0]
        pos += length
    assert found == expected


def test_desktop_entry_template_is_valid() -> None:
    validate(DESKTOP)
    entry = desktop_entry(DESKTOP)["Desktop Entry"]
    assert entry["Type"] == "Application" and entry["Icon"] == "xiaozhibo" and entry["Terminal"] == "false"
    assert entry["Exec"] == "xiaozhibo up" and entry["TryExec"] == "xiaozhibo"


def test_spec_bundles_data_that_exists() -> None:
    text = SPEC.read_text("utf-8")
    trees = eval(re.search(r"^DATA_TREES = (\[.*?\])$", text, re.M).group(1))  # noqa: S307 - our own literal
    files = eval(re.search(r"^DATA_FILES = (\[.*?\])$", text, re.M).group(1))  # noqa: S307
    # Everything the code opens by path: resources, Alembic's scripts, the nginx template.
    assert {"resources", "server/db/migrations"} <= set(trees) and "deploy/nginx-rtmp.conf" in files
    for t in trees:
        assert (ROOT / t).is_dir(), t
    for f in files:
        assert (ROOT / f).is_file(), f
    migrations = ROOT / "server" / "db" / "migrations"
    assert (migrations / "env.py").is_file() and list((migrations / "versions").glob("0*.py"))
    for icon in ("xiaozhibo.ico", "xiaozhibo.icns"):
        assert icon in text and (ICONS / icon).is_file()
    assert '"uvicorn"' in text and "dbus_fast" in text and "TLSSigAPIv2" in text


def test_entry_shim_runs_the_cli_for_dash_m_app() -> None:
    """``xiaozhibo up`` starts ``sys.executable -m app server``: the bundle's entry drops ``-m app``."""
    r = subprocess.run([sys.executable, str(ROOT / "deploy" / "pyinstaller" / "entry.py"), "-m", "app", "server", "--help"],
                       cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("usage: xiaozhibo server ")  # the server's own options, not the GUI's


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux desktop entry")
def test_install_desktop_is_idempotent_and_quotes_the_program(tmp_path: Path) -> None:
    program = tmp_path / "my apps" / "xiaozhibo"
    env = {**os.environ, "XDG_DATA_HOME": str(tmp_path / "share")}
    runs = [subprocess.run(["bash", str(INSTALLER), str(program), str(ICONS)], env=env, capture_output=True,
                           text=True, timeout=60) for _ in range(2)]
    assert all(r.returncode == 0 for r in runs), runs[-1].stderr
    installed = tmp_path / "share" / "applications" / "xiaozhibo.desktop"
    validate(installed)
    entry = desktop_entry(installed)
    assert entry["Desktop Entry"]["Exec"] == f'"{program}" up'
    assert entry["Desktop Entry"]["TryExec"] == str(program)
    assert entry["Desktop Action client"]["Exec"] == f'"{program}" gui'
    for s in PNG_SIZES:
        icon = tmp_path / "share" / "icons" / "hicolor" / f"{s}x{s}" / "apps" / "xiaozhibo.png"
        assert png_size(icon.read_bytes()) == (s, s)
    assert sorted(p.name for p in installed.parent.glob("xiaozhibo*")) == ["xiaozhibo.desktop"]  # no leftovers
    bad = subprocess.run(["bash", str(INSTALLER), "relative/xiaozhibo", str(ICONS)], env=env, capture_output=True,
                         text=True, timeout=30)
    assert bad.returncode == 2 and "absolute path" in bad.stderr
