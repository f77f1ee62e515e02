"""``xiaozhibo up``: the all-in-one server plus the GUI, on the embedded defaults.

Starts ``xiaozhibo server`` as a child process (SQLite, local storage, embedded media server
and IM in ``~/.xiaozhibo/server`` unless ``--data-dir`` says otherwise), waits for it to be
ready, opens the GUI connected to it, and stops the server when the GUI closes.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import threading
import time
from pathlib import Path


def _die_with_parent() -> None:
    """Linux: the server gets SIGTERM when this process dies, however it dies (no orphan server)."""
    import ctypes
    import signal

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def start_server(data_dir: Path, http_port: int, rtmp_port: int, timeout: float = 60.0) -> tuple[subprocess.Popen, str]:
    cmd = [sys.executable, "-m", "app", "server", "--data-dir", str(data_dir),
           "--http-port", str(http_port), "--rtmp-port", str(rtmp_port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
    assert proc.stdout is not None
    api = ""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
        sys.stdout.write(line)
        if m := re.search(r"api:\s+(http://\S+?)/?$", line.strip()):
            api = m.group(1)
        if line.startswith("  data:"):
            threading.Thread(target=lambda: [sys.stdout.write(x) for x in proc.stdout], daemon=True).start()  # type: ignore[union-attr]
            return proc, api
    proc.kill()
    raise RuntimeError("the server did not start")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="xiaozhibo up", description=__doc__)
    p.add_argument("--data-dir", default=str(Path.home() / ".xiaozhibo" / "server"))
    p.add_argument("--http-port", type=int, default=8080)
    p.add_argument("--rtmp-port", type=int, default=1935)
    p.add_argument("--no-gui", action="store_true", help="only run the server (Ctrl+C stops it)")
    args = p.parse_args(argv)
    try:
        proc, api = start_server(Path(args.data_dir), args.http_port, args.rtmp_port)
    except RuntimeError:
        print("default ports busy; retrying on free ports", file=sys.stderr)
        proc, api = start_server(Path(args.data_dir), 0, 0)
    try:
        if args.no_gui:
            return proc.wait()
        from app.ui.main import main as gui_main

        return int(gui_main(["--server", api]) or 0)
    except KeyboardInterrupt:
        return 0
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
