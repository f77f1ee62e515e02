"""`xiaozhibo push` against the embedded media server of `xiaozhibo server` (the default deployment)."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import av

from tests.conftest import ROOT, start_server
from tests.push.test_publish import check_stream, run_cli


def wait_file(pattern: str, where: Path, timeout: float = 20.0) -> Path:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        found = sorted(where.glob(pattern))
        if found:
            return found[-1]
        time.sleep(0.2)
    raise AssertionError(f"no {pattern} in {where}")


def test_cli_push_to_embedded_server(module_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    server = module_server  # different anchors: the two tests share one server
    r = run_cli("--url", server.push_url("anchor_e1"), "--source", "testsrc", "--resolution", "360p",
                "--fps", "25", "--bitrate", "600", "--duration", "5")
    assert r.returncode == 0, r.stderr
    mp4 = wait_file("*anchor_e1*.mp4", server.data_dir / "media" / "vod")
    check_stream(mp4, 640, 360, 25)


def test_refused_push_exits_with_clear_message(module_server) -> None:  # type: ignore[no-untyped-def]
    server = module_server
    url = server.push_url("anchor_e2").replace("txSecret=", "txSecret=0")
    t = time.monotonic()
    r = run_cli("--url", url, "--source", "testsrc", "--resolution", "360p", "--duration", "5")
    assert r.returncode != 0
    assert "server refused the stream: check the push key" in (r.stdout + r.stderr)
    assert time.monotonic() - t < 20


def test_push_resumes_after_server_restart(tmp_path: Path) -> None:
    """Killed right after the push went live, the server is started again at once (no pause:
    the pusher may meet its listening socket before it serves, see tests/push/test_reconnect.py)."""
    sp = start_server(tmp_path / "srv")
    http, rtmp = sp.http_port, sp.rtmp_port
    url = sp.push_url("anchor_e3", ttl=600)
    # ended with Ctrl-C once it is back (--duration only bounds a test gone wrong); --retries 30
    # (60 s of reconnecting): a restart under load took up to ~20 s, more than the default 10 s
    proc = subprocess.Popen([sys.executable, "-m", "app", "push", "--url", url, "--source", "testsrc",
                             "--resolution", "360p", "--fps", "15", "--duration", "180", "--retries", "30"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out: list[str] = []
    threading.Thread(target=lambda: out.extend(proc.stdout), daemon=True).start()  # type: ignore[arg-type]

    def stats_lines() -> list[str]:
        return [line for line in list(out) if "reconnects=" in line]

    try:
        deadline = time.monotonic() + 30
        while not any(" live " in line for line in stats_lines()) and proc.poll() is None \
                and time.monotonic() < deadline:
            time.sleep(0.1)  # a stats line saying it is live
        assert any(" live " in line for line in stats_lines()), "the push never went live:\n" + "".join(out[-20:])
        sp.proc.kill()
        sp.proc.wait(5)
        sp = start_server(tmp_path / "srv", "--http-port", str(http), "--rtmp-port", str(rtmp))
        # the publisher comes back by itself: a player can read the live stream again
        deadline = time.monotonic() + 60
        frames = 0
        while time.monotonic() < deadline and not frames:
            try:
                with av.open(f"{sp.rtmp_base}/{sp.config.live.bizid}_anchor_e3", timeout=(3, 3)) as c:
                    for _frame in c.decode(video=0):
                        frames += 1
                        break
            except (av.FFmpegError, OSError):
                time.sleep(0.5)
        assert frames, "no frames after the server restart:\n" + "".join(out[-20:])
        assert proc.poll() is None, "the push gave up:\n" + "".join(out[-20:])
        proc.send_signal(signal.SIGINT)
        assert proc.wait(30) == 0, "".join(out[-20:])
        assert any(re.search(r"reconnects=[1-9]", line) for line in stats_lines()), "".join(out[-20:])
    finally:
        if proc.poll() is None:
            proc.kill()
        sp.stop()
