"""scripts/install.sh with the distribution's Python and a stock PATH (no pyenv), then the launcher.

The venv is made from /usr/bin/python3 by the script itself. So that nothing big is downloaded,
it also sees the suite's own installed packages (``XIAOZHIBO_VENV_PTH``): pip then finds every
dependency satisfied and only builds this checkout's editable wheel.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "install.sh"
SYSTEM_PY = Path("/usr/bin/python3")
STOCK_PATH = "/usr/local/bin:/usr/bin:/bin"

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="install.sh is for Debian/Ubuntu")


def _system_python_ok() -> bool:
    if not SYSTEM_PY.exists():
        return False
    r = subprocess.run([str(SYSTEM_PY), "-c", "import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 11))"],
                       capture_output=True)
    return r.returncode == 0


def _install(tmp: Path, *args: str, timeout: float = 120, **extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYENV", "VIRTUAL_ENV", "PYTHON"))}
    env.update(PATH=STOCK_PATH, XIAOZHIBO_VENV=str(tmp / "venv"), XIAOZHIBO_BIN_DIR=str(tmp / "bin"),
               XIAOZHIBO_NO_APT="1", XDG_DATA_HOME=str(tmp / "share"), XIAOZHIBO_VENV_PTH=sysconfig.get_paths()["purelib"])
    env.update(extra)
    return subprocess.run(["bash", str(SCRIPT), *args], cwd=tmp, env=env, capture_output=True, text=True,
                          timeout=timeout)


def _index_reachable() -> bool:
    try:
        socket.create_connection(("pypi.org", 443), timeout=3).close()
        return True
    except OSError:
        return False


def test_install_with_system_python_then_launcher(tmp_path: Path) -> None:
    if not _system_python_ok():
        pytest.skip("/usr/bin/python3 >= 3.11 with venv (Debian: python3-venv) is not here")
    if not _index_reachable():
        pytest.skip("pip fetches the build backend (setuptools) from the package index, which is unreachable")
    r = _install(tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "from /usr/bin/python3" in r.stdout  # the distribution's Python, not the suite's
    cfg = (tmp_path / "venv" / "pyvenv.cfg").read_text()
    assert "home = /usr/bin" in cfg
    launcher = tmp_path / "bin" / "xiaozhibo"
    assert launcher.is_symlink()
    assert "not on your PATH" in r.stdout and str(tmp_path / "bin") in r.stdout  # announced, with the fix
    entry = (tmp_path / "share" / "applications" / "xiaozhibo.desktop").read_text()
    assert f'Exec="{launcher}" up' in entry  # the menu entry runs the launcher by absolute path
    assert (tmp_path / "share" / "icons" / "hicolor" / "48x48" / "apps" / "xiaozhibo.png").is_file()

    env = {"PATH": STOCK_PATH, "HOME": str(tmp_path)}
    h = subprocess.run([str(launcher), "--help"], env=env, capture_output=True, text=True, timeout=60)
    assert h.returncode == 0, h.stderr
    assert "usage: xiaozhibo" in h.stdout and "up " in h.stdout
    where = subprocess.run([str(tmp_path / "venv" / "bin" / "python"), "-c", "import app, sys; print(app.__file__); print(sys.base_prefix)"],
                           env=env, capture_output=True, text=True, timeout=30)
    app_file, base = where.stdout.split()
    assert Path(app_file).resolve().is_relative_to(ROOT)  # editable: the checkout is what runs
    assert base == "/usr"

    t0 = time.monotonic()
    again = _install(tmp_path, timeout=30)
    assert again.returncode == 0, again.stderr
    assert "is up to date" in again.stdout and time.monotonic() - t0 < 10


def test_too_old_python_is_refused_clearly(tmp_path: Path) -> None:
    fake = tmp_path / "python3.9"
    fake.write_text("#!/bin/sh\ncase \"$*\" in *version_info*) exit 1;; *) echo 3.9.2;; esac\n")
    fake.chmod(0o755)
    r = _install(tmp_path, timeout=30, XIAOZHIBO_PYTHON=str(fake))
    assert r.returncode == 1
    assert "Python 3.11 or newer is needed" in r.stderr and "3.9.2" in r.stderr
    assert not (tmp_path / "venv").exists()


def test_a_folder_that_is_not_a_venv_is_never_cleared(tmp_path: Path) -> None:
    target = tmp_path / "venv"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    r = _install(tmp_path, timeout=30, XIAOZHIBO_PYTHON=sys.executable)
    assert r.returncode == 1 and "is not a virtual environment" in r.stderr
    assert (target / "keep.txt").read_text() == "mine"


def test_bad_argument_is_refused(tmp_path: Path) -> None:
    r = _install(tmp_path, "--tests", timeout=30)
    assert r.returncode == 2 and "usage:" in r.stderr
