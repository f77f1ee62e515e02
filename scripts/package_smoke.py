"""Smoke test of the built desktop package (dist/xiaozhibo) against a server it starts itself.

Run after ``bash scripts/package.sh`` (from the checkout root, with the project's Python)::

    python3 scripts/package_smoke.py [SCREENSHOT_DIR]

1. an Xvfb display (``-noreset``) unless DISPLAY is given in XIAOZHIBO_SMOKE_DISPLAY;
2. ``dist/xiaozhibo/xiaozhibo up --no-gui`` on a temporary data folder (the bundle runs its own
   server as ``xiaozhibo server``: Alembic migrations, uvicorn, media server);
3. with the checkout: an anchor registers, creates a room and publishes ``app push --source
   testsrc``; a viewer registers and logs in, caching its session in a temporary client folder;
4. the bundled GUI (``xiaozhibo gui``) opens on that client folder (restores the session, loads
   the profile and the live list; Chinese UI from the bundled .qm files): screenshot ``bundle_gui.png``;
5. the bundled player with a window (``xiaozhibo play URL``): screenshot ``bundle_play.png``;
   and without one (``--no-display --duration 3``), which must exit 0.
Exits 0 when every step passed; prints what it did and the screenshot paths.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from app.procs import end_process  # noqa: E402

BUNDLE = ROOT / "dist" / "xiaozhibo" / "xiaozhibo"


def log(msg: str) -> None:
    print(f"smoke: {msg}", flush=True)


def start_xvfb() -> tuple[subprocess.Popen | None, str]:
    if os.environ.get("XIAOZHIBO_SMOKE_DISPLAY"):
        return None, os.environ["XIAOZHIBO_SMOKE_DISPLAY"]
    for n in range(91, 120):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            proc = subprocess.Popen(["Xvfb", f":{n}", "-screen", "0", "1280x800x24", "-noreset", "-nolisten", "tcp"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            wait_for(lambda n=n: Path(f"/tmp/.X11-unix/X{n}").exists(), 15, "Xvfb")
            return proc, f":{n}"
    raise RuntimeError("no free X display number")


def wait_for(cond, timeout: float, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(0.1)
    raise RuntimeError(f"timed out waiting for {what}")


def start_bundle_server(data_dir: Path) -> tuple[subprocess.Popen, str]:
    """``xiaozhibo up --no-gui`` from the bundle; returns (process, API URL)."""
    proc = subprocess.Popen([str(BUNDLE), "up", "--no-gui", "--data-dir", str(data_dir),
                             "--http-port", "0", "--rtmp-port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    found: dict[str, str] = {}

    def read() -> None:
        for line in proc.stdout:  # type: ignore[union-attr]
            print("  [bundle server] " + line.rstrip(), flush=True)
            if line.strip().startswith("api:"):
                found["api"] = line.split()[1].rstrip("/")
            if line.strip().startswith("data:"):
                found["ready"] = "1"

    threading.Thread(target=read, daemon=True).start()
    wait_for(lambda: "ready" in found or proc.poll() is not None, 90, "the bundled server")
    if proc.poll() is not None:
        raise RuntimeError(f"the bundled server exited with {proc.returncode}")
    return proc, found["api"]


def screenshot(display: str, path: Path) -> None:
    import mss
    import mss.tools

    with mss.MSS(display=display) as sct:
        shot = sct.grab(sct.monitors[1])
        mss.tools.to_png(shot.rgb, shot.size, output=str(path))
    log(f"screenshot {path}")


def stop(proc: subprocess.Popen | None) -> None:
    if proc is not None:
        end_process(proc)


def run(out: Path) -> int:
    from app.api.client import ApiClient, ClientOptions
    from app.api.roomservice import RoomServiceClient

    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="xzb-package-smoke-"))
    procs: list[subprocess.Popen | None] = []
    beating = threading.Event()
    try:
        t0 = time.monotonic()
        xvfb, display = start_xvfb()
        procs.append(xvfb)
        server, api = start_bundle_server(tmp / "server")
        procs.append(server)
        log(f"bundled server up at {api} in {time.monotonic() - t0:.1f} s")

        anchor = ApiClient(api)
        anchor.register("pkg_anchor", "secret1")
        anchor.login("pkg_anchor", "secret1")
        anchor.upload_user_info(nickname="Bundle anchor")
        rooms = RoomServiceClient.for_session(anchor.session)  # type: ignore[arg-type]
        urls = rooms.get_anchor_url()
        room_id = rooms.create_room("Packaged build smoke", location="Xvfb")
        pusher = subprocess.Popen([sys.executable, "-m", "app", "push", "--url", urls.pushURL, "--source", "testsrc",
                                   "--resolution", "540p", "--duration", "90"], cwd=ROOT,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(pusher)

        def beat() -> None:
            while not beating.wait(3):
                try:
                    rooms.anchor_heartbeat(room_id)
                except Exception:  # noqa: BLE001 - the room may be gone at the end
                    pass

        threading.Thread(target=beat, daemon=True).start()
        listed: dict = {}

        def is_listed() -> bool:
            for r in rooms.call("get_room_list", index=0, cnt=20).get("rooms", []):
                if r.get("roomID") == room_id:
                    listed.update(r)
                    return True
            return False

        wait_for(is_listed, 30, "the live room in the list")
        log(f"anchor live in room {room_id}")

        client_dir = tmp / "client"
        viewer = ApiClient(api, ClientOptions(session_file=client_dir / "session.json"))
        viewer.register("pkg_viewer", "secret1")
        viewer.login("pkg_viewer", "secret1")
        viewer.upload_user_info(nickname="Bundle viewer")
        env = {**os.environ, "DISPLAY": display, "QT_QPA_PLATFORM": "xcb"}
        env.pop("WAYLAND_DISPLAY", None)
        gui = subprocess.Popen([str(BUNDLE), "gui", "--server", api, "--client-dir", str(client_dir),
                                "--language", "zh_CN"], env=env)
        procs.append(gui)
        time.sleep(8)  # the window appears, restores the session and loads the live list and covers
        if gui.poll() is not None:
            raise RuntimeError(f"the bundled GUI exited with {gui.returncode}")
        screenshot(display, out / "bundle_gui.png")
        stop(gui)
        gui_log = sorted((client_dir / "logs").glob("*.log"))
        if gui_log:
            lines = gui_log[-1].read_text("utf-8", "replace").splitlines()
            log("GUI log:\n    " + "\n    ".join(lines[-12:]))
        text = "\n".join(lines) if gui_log else ""
        # ours and Qt's own translations (bundled .qm files), and a login the server accepted
        for expected in ("UI language zh_CN (2 translators)", "signed in as pkg_viewer"):
            if expected not in text:
                raise RuntimeError(f"the GUI log lacks {expected!r}")

        play_url = urls.playURL or listed.get("mixedPlayURL", "")
        log(f"playing {play_url}")
        player = subprocess.Popen([str(BUNDLE), "play", play_url, "--duration", "9"], env=env)
        procs.append(player)
        time.sleep(6)
        if player.poll() is not None:
            raise RuntimeError(f"the bundled player exited early with {player.returncode}")
        screenshot(display, out / "bundle_play.png")
        if player.wait(30) != 0:
            raise RuntimeError(f"the bundled player exited with {player.returncode}")
        headless = subprocess.run([str(BUNDLE), "play", play_url, "--no-display", "--duration", "3"],
                                  capture_output=True, text=True, timeout=60)
        print(headless.stdout[-800:], headless.stderr[-800:], sep="\n")
        if headless.returncode != 0:
            raise RuntimeError(f"play --no-display exited with {headless.returncode}")
        log(f"all steps passed in {time.monotonic() - t0:.1f} s")
        return 0
    finally:
        beating.set()
        for p in reversed(procs):
            stop(p)


if __name__ == "__main__":
    if not BUNDLE.exists():
        print(f"smoke: no bundle at {BUNDLE}; build it with: bash scripts/package.sh", file=sys.stderr)
        sys.exit(1)
    sys.exit(run(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "build" / "smoke-screens"))
