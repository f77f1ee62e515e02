"""``xiaozhibo up`` / ``server``: one server per data folder, the saved address, no display."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import requests

from app.procs import end_process
from app.ui.main import load_settings, parse_args
from app.ui.settings import ClientSettings
from server.instance import InstanceLock, running
from tests.conftest import ROOT, start_server


def _env(**extra: str) -> dict[str, str]:
    return dict(os.environ, PYTHONUNBUFFERED="1", **extra)


def _start_up_no_gui(data_dir: Path) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "app", "up", "--no-gui", "--data-dir", str(data_dir),
                             "--http-port", "0", "--rtmp-port", "0"], cwd=ROOT, env=_env(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    api = ""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
        if m := re.search(r"api:\s+(http://\S+?)/?$", line.strip()):
            api = m.group(1)
        if line.startswith("  data:"):
            return proc, api
    proc.kill()
    raise AssertionError("xiaozhibo up did not start")


def _stop(proc: subprocess.Popen) -> None:
    end_process(proc, 10, None)


def test_second_up_finds_the_running_server(tmp_path: Path) -> None:
    data = tmp_path / "server"
    first, api = _start_up_no_gui(data)
    try:
        assert running(data) is not None and running(data).api == api  # type: ignore[union-attr]
        try:
            second = subprocess.run([sys.executable, "-m", "app", "up", "--no-gui", "--data-dir", str(data),
                                     "--http-port", "0", "--rtmp-port", "0"], cwd=ROOT, env=_env(),
                                    capture_output=True, text=True, timeout=30)
        except subprocess.TimeoutExpired as e:
            raise AssertionError("a second `up` started its own server on the same data folder") from e
        assert second.returncode == 1
        assert "already runs at " + api in second.stderr and "not starting another" in second.stderr
        assert "ready" not in second.stdout
        assert first.poll() is None and requests.get(api + "/openapi.json", timeout=5).status_code == 200
    finally:
        _stop(first)


def test_second_server_on_the_same_folder_is_refused(tmp_path: Path) -> None:
    sp = start_server(tmp_path / "server")
    try:
        r = subprocess.run([sys.executable, "-m", "app", "server", "--data-dir", str(tmp_path / "server"),
                            "--http-port", "0", "--rtmp-port", "0"], cwd=ROOT, env=_env(),
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 1
        assert "another xiaozhibo server uses" in r.stderr and sp.http_base in r.stderr
        assert sp.proc.poll() is None
    finally:
        sp.stop()


def test_lock_is_released_when_the_server_is_killed(tmp_path: Path) -> None:
    sp = start_server(tmp_path / "server")
    info = running(tmp_path / "server")
    assert info is not None and info.pid == sp.proc.pid and info.api == sp.http_base
    assert info.rtmp == f"rtmp://127.0.0.1:{sp.rtmp_port}/live"
    sp.proc.kill()  # no clean-up code runs: the kernel drops the lock
    sp.proc.wait(10)
    assert running(tmp_path / "server") is None
    lock = InstanceLock(tmp_path / "server")  # and a new server may take the folder
    assert running(tmp_path / "server").pid == os.getpid()  # type: ignore[union-attr]
    lock.release()
    assert running(tmp_path / "server") is None


def test_temporary_server_address_is_not_saved(tmp_path: Path) -> None:
    client = tmp_path / "client"
    ClientSettings(client_dir=client, server="https://live.example.com").save()
    s = load_settings(parse_args(["--client-dir", str(client), "--server", "http://127.0.0.1:41234",
                                  "--temporary-server"]))
    assert s is not None and s.server == "http://127.0.0.1:41234"
    s.language = "en"
    s.save()  # any later save (settings dialog, last user) keeps the saved address
    again = ClientSettings.load(client)
    assert again.server == "https://live.example.com" and again.language == "en"
    plain = load_settings(parse_args(["--client-dir", str(client), "--server", "http://10.0.0.1:8080"]))
    assert plain is not None
    plain.save()
    assert ClientSettings.load(client).server == "http://10.0.0.1:8080"  # a chosen --server is remembered


def _no_display_env() -> dict[str, str]:
    env = {k: v for k, v in _env().items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    return env


def test_no_display_says_so(tmp_path: Path) -> None:
    env = _no_display_env()
    gui = subprocess.run([sys.executable, "-m", "app", "--client-dir", str(tmp_path / "client")], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=60)
    assert gui.returncode == 2
    assert "no display" in gui.stderr and "xcb" not in gui.stderr
    up = subprocess.run([sys.executable, "-m", "app", "up", "--data-dir", str(tmp_path / "server"),
                         "--http-port", "0", "--rtmp-port", "0"], cwd=ROOT, env=env,
                        capture_output=True, text=True, timeout=60)
    assert up.returncode == 2 and "no display" in up.stderr and "--no-gui" in up.stderr
    assert not (tmp_path / "server").exists()  # no server was started for a GUI that cannot open
