"""A private headless Wayland desktop for tests: D-Bus, PipeWire, WirePlumber, sway, the portals.

Everything runs in a temporary ``XDG_RUNTIME_DIR`` with its own session bus (no service
activation, so nothing starts that the stack did not start); each process gets its own process
group and :meth:`WaylandStack.stop` ends every group. sway refuses to run as root, so under root
it runs as ``nobody`` (the other processes stay with the caller: xdg-desktop-portal only serves
clients of its own user).
"""

from __future__ import annotations

import asyncio
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

LIBEXEC = ("/usr/libexec", "/usr/lib/xdg-desktop-portal", "/usr/lib")
COLOUR = "#ff0000"  # the compositor's background


def _libexec(name: str) -> str | None:
    return next((p for d in LIBEXEC if os.access(p := f"{d}/{name}", os.X_OK)), None)


def missing_tools() -> list[str]:
    """What this machine lacks for the stack (empty when it can run); see notes/wayland-packages.txt."""
    need = {"sway": "sway", "swaybg": "swaybg", "pipewire": "pipewire", "wireplumber": "wireplumber",
            "dbus-daemon": "dbus-daemon", "gst-launch-1.0": "gstreamer1.0-tools", "pw-dump": "pipewire-bin"}
    out = [pkg for tool, pkg in need.items() if shutil.which(tool) is None]
    out += [pkg for name, pkg in (("xdg-desktop-portal", "xdg-desktop-portal"),
                                  ("xdg-desktop-portal-wlr", "xdg-desktop-portal-wlr")) if _libexec(name) is None]
    if shutil.which("gst-inspect-1.0") and subprocess.run(["gst-inspect-1.0", "pipewiresrc"], capture_output=True,
                                                           timeout=20).returncode != 0:
        out.append("gstreamer1.0-pipewire")
    try:
        import dbus_fast  # noqa: F401
    except ImportError:
        out.append("dbus-fast (pip)")
    return out


def has_render_node() -> bool:
    """A DRM render node exists (GPU compositing, DMA-BUF screencopy)."""
    return bool(glob.glob("/dev/dri/renderD*"))


class WaylandStack:
    """See the module docstring; ``bus`` is the session bus address, ``log(name)`` a process's log."""

    def __init__(self) -> None:
        # not under pytest's tmp dirs: those are 0700 and sway (as nobody) must reach its runtime dir
        self.root = Path(tempfile.mkdtemp(prefix="xzb-wayland-"))
        self.run_dir = self.root / "run"
        self.bus = f"unix:path={self.run_dir}/bus"
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.wayland_display = ""
        self.sway_user = pwd.getpwnam("nobody") if os.geteuid() == 0 else None

    def env(self, **extra: str) -> dict[str, str]:
        base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.root),
                "XDG_RUNTIME_DIR": str(self.run_dir), "DBUS_SESSION_BUS_ADDRESS": self.bus, "LANG": "C.UTF-8"}
        return {**base, **extra}

    def _spawn(self, name: str, argv: list[str], env: dict[str, str], as_sway_user: bool = False) -> None:
        user = self.sway_user if as_sway_user else None
        with open(self.root / f"{name}.log", "wb") as out:
            self.procs[name] = subprocess.Popen(
                argv, cwd=self.root, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True, user=user.pw_uid if user else None, group=user.pw_gid if user else None,
                extra_groups=[] if user else None)

    def log(self, name: str) -> str:
        path = self.root / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def _wait(self, what: str, check, deadline: float) -> None:  # type: ignore[no-untyped-def]
        while time.monotonic() < deadline:
            if check():
                return
            dead = [n for n, p in self.procs.items() if p.poll() is not None]
            if dead:
                raise RuntimeError(f"{dead[0]} exited while waiting for {what}: {self.log(dead[0])[-800:]}")
            time.sleep(0.05)
        raise RuntimeError(f"timed out waiting for {what}")

    def _has_name(self, name: str) -> bool:
        async def ask() -> bool:
            from dbus_fast import Message
            from dbus_fast.aio import MessageBus

            bus = await MessageBus(bus_address=self.bus).connect()
            try:
                reply = await bus.call(Message(destination="org.freedesktop.DBus", path="/org/freedesktop/DBus",
                                               interface="org.freedesktop.DBus", member="NameHasOwner",
                                               signature="s", body=[name]))
                return bool(reply.body and reply.body[0])
            finally:
                bus.disconnect()

        return asyncio.run(ask())

    def start(self, timeout: float = 12.0) -> None:
        """Start the whole desktop; raises RuntimeError (after :meth:`stop`) if a part fails."""
        deadline = time.monotonic() + timeout
        try:
            self._start(deadline)
        except BaseException:
            self.stop()
            raise

    def _start(self, deadline: float) -> None:
        self.root.chmod(0o711)
        self.run_dir.mkdir(mode=0o700)
        if self.sway_user is not None:
            os.chown(self.run_dir, self.sway_user.pw_uid, self.sway_user.pw_gid)
        (self.root / "bus.conf").write_text(
            '<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" '
            '"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">\n<busconfig><type>session</type>'
            f'<listen>{self.bus}</listen><auth>EXTERNAL</auth><policy context="default">'
            '<allow user="*"/><allow own="*"/><allow send_destination="*"/><allow receive_sender="*"/></policy></busconfig>\n')
        self._spawn("dbus", ["dbus-daemon", "--nofork", f"--config-file={self.root / 'bus.conf'}"], self.env())
        self._wait("the session bus", lambda: (self.run_dir / "bus").exists(), deadline)
        self._spawn("pipewire", ["pipewire"], self.env())
        self._wait("pipewire", lambda: (self.run_dir / "pipewire-0").exists(), deadline)
        self._spawn("wireplumber", ["wireplumber"], self.env())
        (self.root / "sway.cfg").write_text(f"xwayland disable\noutput HEADLESS-1 resolution 320x240 bg {COLOUR} "
                                            "solid_color\n")
        sway_env = self.env(WLR_BACKENDS="headless", WLR_LIBINPUT_NO_DEVICES="1")
        if not has_render_node():
            sway_env["WLR_RENDERER"] = "pixman"
        self._spawn("sway", ["sway", "-c", str(self.root / "sway.cfg")], sway_env, as_sway_user=True)
        self._wait("the compositor", lambda: bool(self._wayland_socket()), deadline)
        self.wayland_display = self._wayland_socket()
        (self.root / "xdpw.cfg").write_text("[screencast]\noutput_name=HEADLESS-1\nchooser_type=none\nmax_fps=15\n")
        desk = self.env(WAYLAND_DISPLAY=self.wayland_display, XDG_CURRENT_DESKTOP="sway",
                        XDG_SESSION_TYPE="wayland")
        self._spawn("xdpw", [str(_libexec("xdg-desktop-portal-wlr")), "-r", "-l", "DEBUG", "-c",
                             str(self.root / "xdpw.cfg")], desk)
        self._wait("xdg-desktop-portal-wlr", lambda: self._has_name("org.freedesktop.impl.portal.desktop.wlr"),
                   deadline)
        self._spawn("portal", [str(_libexec("xdg-desktop-portal")), "-r", "-v"], desk)
        self._wait("xdg-desktop-portal", lambda: self._has_name("org.freedesktop.portal.Desktop"), deadline)

    def _wayland_socket(self) -> str:
        names = [p.name for p in self.run_dir.glob("wayland-*") if not p.name.endswith(".lock")]
        return sorted(names)[0] if names else ""

    def stop(self) -> None:
        """End every process group the stack started (TERM, then KILL after 3 s)."""
        for name in reversed(list(self.procs)):
            proc = self.procs[name]
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for name in reversed(list(self.procs)):
            proc = self.procs[name]
            try:
                proc.wait(3)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(3)
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # leftovers of the group (swaybg under sway)
            except ProcessLookupError:
                pass
        self.procs.clear()
        shutil.rmtree(self.root, ignore_errors=True)
