"""``xiaozhibo up``: the all-in-one server plus the GUI, on the embedded defaults.

Starts ``xiaozhibo server`` as a child process (SQLite, local storage, embedded media server
and IM in ``~/.xiaozhibo/server`` unless ``--data-dir`` says otherwise), waits for it to be
ready, opens the GUI connected to it, and stops the server when the GUI closes.

One server per data folder: when a server already uses the folder (``server.lock``, see
:mod:`server.instance`), ``up`` opens the GUI against that one (with ``--no-gui`` it says where
it runs and exits 1). The GUI is told the address is temporary, so the client's saved server
address is not replaced by it; if the child server dies, the GUI offers to restart it.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

from app.procs import end_process
from server.instance import Instance, running


def _die_with_parent() -> None:
    """Linux: the server gets SIGTERM when this process dies, however it dies (no orphan server)."""
    import ctypes
    import signal

    PR_SET_PDEATHSIG = 1
    ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


class ServerStartError(RuntimeError):
    """The child server exited or stayed silent; ``output`` is what it printed."""

    def __init__(self, output: list[str]) -> None:
        self.output = output
        super().__init__("the server did not start" + ("".join(["\n", *output[-5:]]) if output else ""))

    @property
    def port_busy(self) -> bool:
        return any("cannot listen" in line for line in self.output)


def start_server(data_dir: Path, http_port: int, rtmp_port: int, timeout: float = 60.0) -> tuple[subprocess.Popen, str]:
    """Start ``xiaozhibo server`` and wait for its ready banner; returns (process, api URL)."""
    cmd = [sys.executable, "-m", "app", "server", "--data-dir", str(data_dir),
           "--http-port", str(http_port), "--rtmp-port", str(rtmp_port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
    assert proc.stdout is not None
    api = ""
    output: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
        output.append(line.rstrip())
        sys.stdout.write(line)
        sys.stdout.flush()
        if m := re.search(r"api:\s+(https?://\S+?)/?$", line.strip()):
            api = m.group(1)
        if line.startswith("  data:"):
            threading.Thread(target=lambda: [sys.stdout.write(x) for x in proc.stdout], daemon=True).start()  # type: ignore[union-attr]
            return proc, api
    proc.kill()
    proc.wait()
    raise ServerStartError(output)


class ManagedServer:
    """The server ``up`` runs as its child; the GUI polls it and may restart it on the same ports."""

    def __init__(self, data_dir: Path, http_port: int, rtmp_port: int) -> None:
        self.data_dir = data_dir
        try:
            self.proc, self.api = start_server(data_dir, http_port, rtmp_port)
        except ServerStartError as e:
            if not e.port_busy:
                raise
            print("default ports busy; retrying on free ports", file=sys.stderr)
            self.proc, self.api = start_server(data_dir, 0, 0)
        self.http_port = int(self.api.rsplit(":", 1)[1])
        info = running(data_dir)
        self.rtmp_port = int(info.rtmp.rsplit(":", 1)[1].split("/")[0]) if info and info.rtmp else 0

    def poll(self) -> int | None:
        """None while the server runs, else its exit code."""
        return self.proc.poll()

    def restart(self) -> str:
        """Start it again on the same HTTP port (the GUI's address stays valid); returns the API URL.

        Raises :class:`ServerStartError` when it does not come up."""
        self.stop()
        self.proc, api = start_server(self.data_dir, self.http_port, self.rtmp_port)
        self.api = api
        return api

    def stop(self) -> None:
        end_process(self.proc, 10, None)


def find_running(data_dir: Path, timeout: float = 30.0) -> Instance | None:
    """The server already using ``data_dir``; waits (bounded) for one still starting to publish its URL."""
    info = running(data_dir)
    deadline = time.monotonic() + timeout
    while info is not None and not info.api and time.monotonic() < deadline:
        time.sleep(0.1)
        info = running(data_dir)
    return info


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="xiaozhibo up", description=__doc__)
    p.add_argument("--data-dir", default=str(Path.home() / ".xiaozhibo" / "server"))
    p.add_argument("--http-port", type=int, default=8080)
    p.add_argument("--rtmp-port", type=int, default=1935)
    p.add_argument("--no-gui", action="store_true", help="only run the server (Ctrl+C stops it)")
    args = p.parse_args(argv)
    data_dir = Path(args.data_dir).expanduser().resolve()
    if not args.no_gui:
        from app.ui.main import display_problem

        if problem := display_problem():
            print(f"xiaozhibo up: {problem} (for the server alone: xiaozhibo up --no-gui)", file=sys.stderr)
            return 2
    if (info := find_running(data_dir)) is not None:
        where = f"{info.api or 'an address not published yet'} (pid {info.pid or 'unknown'})"
        if args.no_gui or not info.api:
            print(f"xiaozhibo up: a server for {data_dir} already runs at {where}; not starting another",
                  file=sys.stderr)
            return 1
        print(f"xiaozhibo up: a server for {data_dir} already runs at {where}; opening the GUI against it")
        from app.ui.main import main as gui_main

        return int(gui_main(["--server", info.api, "--temporary-server"]) or 0)
    try:
        server = ManagedServer(data_dir, args.http_port, args.rtmp_port)
    except ServerStartError as e:
        print(f"xiaozhibo up: {e}", file=sys.stderr)
        return 1
    try:
        if args.no_gui:
            return server.proc.wait()
        from app.ui.main import main as gui_main

        return int(gui_main(["--server", server.api, "--temporary-server"], managed=server) or 0)
    except KeyboardInterrupt:
        return 0
    finally:
        server.stop()
