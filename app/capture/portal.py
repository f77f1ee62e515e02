"""Screen capture on Wayland: the xdg-desktop-portal ScreenCast interface plus PipeWire (no Qt).

The way OBS does it: over the D-Bus session bus, ``CreateSession`` -> ``SelectSources`` (one
monitor) -> ``Start`` (the desktop may show its own "share your screen" dialog here) ->
``OpenPipeWireRemote``, which hands us a PipeWire file descriptor and the stream's node id. The
pictures are read by GStreamer's ``pipewiresrc`` in a child ``gst-launch-1.0`` that inherits that
descriptor and writes raw BGRx frames of a fixed size to its stdout; a reader thread keeps the latest.

The D-Bus connection (``dbus-fast``, pure Python) stays open while capturing: the portal ends the
session when its client leaves the bus. Every failure is a :class:`PortalError` with a ``code``
from :data:`PORTAL_CODES` and a sentence the UI shows as it is.
"""

from __future__ import annotations

import asyncio
import collections
import io
import logging
import os
import secrets
import shutil
import subprocess
import threading
from collections.abc import Mapping
from typing import Any, cast

import cv2
import numpy as np

from app.capture import CaptureError
from app.procs import end_process

log = logging.getLogger(__name__)

PORTAL_BUS = "org.freedesktop.portal.Desktop"
PORTAL_PATH = "/org/freedesktop/portal/desktop"
SCREENCAST = "org.freedesktop.portal.ScreenCast"
SOURCE_MONITOR, CURSOR_HIDDEN, CURSOR_EMBEDDED = 1, 1, 2
MAX_SIDE = 8192  # a stream size above this from the portal is refused (frames are read by size)

#: ``PortalError.code`` values and what they mean.
PORTAL_CODES = {
    "portal_missing": "no D-Bus session bus, or no xdg-desktop-portal with ScreenCast on it",
    "portal_denied": "the user cancelled the screen-sharing dialog (portal response 1)",
    "portal_failed": "the portal answered with an error or not in time",
    "pipewire_missing": "gst-launch-1.0 or GStreamer's pipewiresrc is not installed",
    "screen_no_frames": "the PipeWire stream delivered no picture in time",
}

_HINT = ("Wayland screen capture needs xdg-desktop-portal with your desktop's backend "
         "(-gnome, -kde or -wlr), PipeWire and GStreamer's PipeWire plugin.")


class PortalError(CaptureError):
    """Screen capture through the portal failed; ``code`` is one of :data:`PORTAL_CODES`."""


def is_wayland(env: Mapping[str, str] | None = None) -> bool:
    """True in a Wayland session: ``WAYLAND_DISPLAY`` set and ``XDG_SESSION_TYPE`` not ``x11``.

    (sway started from a console has ``XDG_SESSION_TYPE=tty``: still Wayland.)
    """
    env = os.environ if env is None else env
    return bool(env.get("WAYLAND_DISPLAY")) and env.get("XDG_SESSION_TYPE", "") != "x11"


def gst_command(fd: int, node: int, width: int, height: int) -> list[str]:
    """The ``gst-launch-1.0`` pipeline: PipeWire node -> BGRx ``width`` x ``height`` on stdout."""
    return ["gst-launch-1.0", "-q", "pipewiresrc", f"fd={fd}", f"path={node}", "do-timestamp=true",
            "keepalive-time=500", "always-copy=true", "!", "videoconvert", "!", "videoscale", "!",
            f"video/x-raw,format=BGRx,width={width},height={height}", "!", "fdsink", "fd=1", "sync=false"]


class _Portal:
    """One ScreenCast session on the session bus, driven by an asyncio loop in its own thread."""

    def __init__(self, bus_address: str | None, timeout: float) -> None:
        self.bus_address, self.timeout = bus_address, timeout
        self.bus: Any = None
        self.session = ""
        self._responses: dict[str, asyncio.Future[tuple[int, dict[str, Any]]]] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="screen-portal", daemon=True)
        self._thread.start()

    def run(self, coro: Any, timeout: float) -> Any:
        """Run ``coro`` on the portal loop; a hang becomes ``portal_failed``."""
        fut = asyncio.run_coroutine_threadsafe(asyncio.wait_for(coro, timeout), self._loop)
        try:
            return fut.result(timeout + 1)
        except (TimeoutError, asyncio.TimeoutError):
            fut.cancel()
            raise PortalError("portal_failed", "the screen-sharing portal did not answer in time") from None

    async def connect(self) -> None:
        try:
            from dbus_fast.aio import MessageBus
        except ImportError as exc:  # a non-Linux install without the Linux-only dependency
            raise PortalError("portal_missing", f"dbus-fast is not installed ({exc}). {_HINT}") from exc
        try:
            self.bus = await MessageBus(bus_address=self.bus_address, negotiate_unix_fd=True).connect()
        except Exception as exc:  # noqa: BLE001 - no bus address, socket gone, auth refused
            raise PortalError("portal_missing", f"cannot reach the D-Bus session bus: {exc}. {_HINT}") from exc
        self.bus.add_message_handler(self._on_message)
        await self._call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "AddMatch",
                         "s", ["type='signal',interface='org.freedesktop.portal.Request',member='Response'"])

    def _on_message(self, msg: Any) -> None:
        if msg.member == "Response" and msg.interface == "org.freedesktop.portal.Request":
            fut = self._responses.pop(str(msg.path), None)
            if fut is not None and not fut.done():
                fut.set_result((int(msg.body[0]), dict(msg.body[1])))

    async def _call(self, dest: str, path: str, iface: str, member: str, sig: str, body: list[Any]) -> Any:
        from dbus_fast import Message, MessageType

        reply = await self.bus.call(Message(destination=dest, path=path, interface=iface, member=member,
                                            signature=sig, body=body))
        if reply.message_type == MessageType.ERROR:
            name, text = reply.error_name or "", (reply.body[0] if reply.body else "")
            missing = name.endswith(("ServiceUnknown", "UnknownInterface", "UnknownMethod", "UnknownObject",
                                     "NameHasNoOwner"))
            raise PortalError("portal_missing" if missing else "portal_failed",
                              f"screen-sharing portal: {name}: {text}" + (f". {_HINT}" if missing else ""))
        return reply

    async def property(self, name: str) -> Any:
        reply = await self._call(PORTAL_BUS, PORTAL_PATH, "org.freedesktop.DBus.Properties", "Get", "ss",
                                 [SCREENCAST, name])
        return reply.body[0].value

    async def request(self, member: str, sig: str, args: list[Any], options: dict[str, Any]) -> dict[str, Any]:
        """Call a portal method that answers through a Request object's ``Response`` signal."""
        from dbus_fast import Variant

        token = "xzb_" + secrets.token_hex(6)
        sender = self.bus.unique_name.lstrip(":").replace(".", "_")
        path = f"{PORTAL_PATH}/request/{sender}/{token}"
        fut: asyncio.Future[tuple[int, dict[str, Any]]] = self._loop.create_future()
        self._responses[path] = fut  # registered before the call: the answer can come at once
        try:
            await self._call(PORTAL_BUS, PORTAL_PATH, SCREENCAST, member, sig,
                             [*args, {**options, "handle_token": Variant("s", token)}])
            code, results = await fut
        finally:
            self._responses.pop(path, None)
        if code == 1:
            raise PortalError("portal_denied", "screen sharing was cancelled in the system dialog")
        if code != 0:
            raise PortalError("portal_failed", f"the screen-sharing portal refused {member} (response {code})")
        return {k: getattr(v, "value", v) for k, v in results.items()}

    async def start(self, show_cursor: bool) -> tuple[int, int, tuple[int, int] | None]:
        """Open a session on one monitor; returns (PipeWire fd, node id, stream size or None)."""
        from dbus_fast import Variant

        await self.connect()
        await self.property("version")  # ScreenCast present at all (else portal_missing)
        res = await self.request("CreateSession", "a{sv}", [],
                                 {"session_handle_token": Variant("s", "xzb_" + secrets.token_hex(6))})
        self.session = str(res.get("session_handle", ""))
        cursors = int(await self.property("AvailableCursorModes"))
        want = CURSOR_EMBEDDED if show_cursor else CURSOR_HIDDEN
        opts = {"types": Variant("u", SOURCE_MONITOR), "multiple": Variant("b", False)}
        if cursors & want:
            opts["cursor_mode"] = Variant("u", want)
        await self.request("SelectSources", "oa{sv}", [self.session], opts)
        res = await self.request("Start", "osa{sv}", [self.session, ""], {})
        streams = res.get("streams") or []
        if not streams:
            raise PortalError("portal_failed", "the screen-sharing portal started no stream")
        node, props = int(streams[0][0]), {k: getattr(v, "value", v) for k, v in dict(streams[0][1]).items()}
        size = props.get("size")
        reply = await self._call(PORTAL_BUS, PORTAL_PATH, SCREENCAST, "OpenPipeWireRemote", "oa{sv}",
                                 [self.session, {}])
        fds = list(reply.unix_fds)
        fd = fds.pop(int(reply.body[0])) if fds else -1
        for extra in fds:
            os.close(extra)
        if fd < 0:
            raise PortalError("portal_failed", "the screen-sharing portal sent no PipeWire connection")
        return fd, node, (int(size[0]), int(size[1])) if size else None

    async def _close(self) -> None:
        if self.bus is None:
            return
        if self.session:
            try:
                await self._call(PORTAL_BUS, self.session, "org.freedesktop.portal.Session", "Close", "", [])
            except Exception as exc:  # noqa: BLE001 - portal already gone
                log.debug("closing the portal session: %s", exc)
        self.bus.disconnect()

    def close(self) -> None:
        """End the session, leave the bus and stop the loop thread."""
        if self._loop.is_closed():
            return
        try:
            self.run(self._close(), 2.0)
        except Exception as exc:  # noqa: BLE001
            log.debug("portal close: %s", exc)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(2)
        if not self._thread.is_alive():
            self._loop.close()


class PipeWireStream:
    """Pictures of one PipeWire video node, read by a ``gst-launch-1.0`` child (``pipewiresrc``).

    ``fd`` is a connected PipeWire socket (from ``OpenPipeWireRemote``; it is closed here, the
    child keeps its own copy), ``node`` the stream's node id, ``size`` the picture size the child
    scales to. ``latest`` is the newest BGRx->BGR picture, ``error`` why the stream ended.
    """

    def __init__(self, fd: int, node: int, size: tuple[int, int], first_frame_timeout: float = 5.0) -> None:
        try:
            w, h = size
            if not (0 < w <= MAX_SIDE and 0 < h <= MAX_SIDE):
                raise PortalError("portal_failed", f"unusable screen stream size {w}x{h}")
            if shutil.which("gst-launch-1.0") is None:
                raise PortalError("pipewire_missing", f"gst-launch-1.0 is not installed. {_HINT}")
            self.size = (w, h)
            self.latest: np.ndarray | None = None
            self.error: str | None = None
            self._stderr: collections.deque[str] = collections.deque(maxlen=20)
            self._got_first = threading.Event()
            self._proc = subprocess.Popen(gst_command(fd, node, w, h), stdin=subprocess.DEVNULL,
                                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, pass_fds=(fd,))
        finally:
            os.close(fd)  # the child has its own copy
        threading.Thread(target=self._read_frames, name="capture-screen-portal", daemon=True).start()
        threading.Thread(target=self._read_stderr, name="capture-screen-portal-log", daemon=True).start()
        try:
            self._wait_first(first_frame_timeout)
        except PortalError:
            self.close()
            raise

    def _wait_first(self, timeout: float) -> None:
        if self._got_first.wait(timeout) and self.latest is not None:
            return
        self._proc.poll()
        detail = " ".join(self._stderr)
        if "no element" in detail and "pipewiresrc" in detail:
            raise PortalError("pipewire_missing", f"GStreamer has no pipewiresrc element. {_HINT}")
        raise PortalError("screen_no_frames", "the shared screen delivered no picture"
                          + (f" ({detail[-300:]})" if detail else ""))

    def _read_frames(self) -> None:
        out = cast(io.BufferedReader, self._proc.stdout)  # Popen(stdout=PIPE, bufsize=-1)
        assert out is not None
        w, h = self.size
        buf = bytearray(w * h * 4)
        view = memoryview(buf)
        while True:
            got = 0
            while got < len(buf):
                try:
                    n = out.readinto(view[got:])
                except (OSError, ValueError):  # closed under us by close()
                    n = 0
                if not n:
                    self.error = self.error or "the screen capture stream ended"
                    self._got_first.set()
                    return
                got += n
            bgrx = np.frombuffer(buf, np.uint8).reshape(h, w, 4)
            self.latest = cv2.cvtColor(bgrx, cv2.COLOR_BGRA2BGR)
            self._got_first.set()

    def _read_stderr(self) -> None:
        err = self._proc.stderr
        assert err is not None
        try:
            for line in err:
                text = line.decode("utf-8", "replace").strip()
                if text:
                    self._stderr.append(text[:300])
                    log.debug("gst-launch: %s", text)
        except (OSError, ValueError):
            pass

    def close(self) -> None:
        """Stop the child (terminate, then kill) and close its pipes; idempotent."""
        self.error = self.error or "closed"
        proc = self._proc
        end_process(proc, 2, 2)
        for pipe in (proc.stdout, proc.stderr):
            if pipe is not None:
                pipe.close()


class PortalScreenSource:
    """The screen through the portal: ``read()`` gives the latest BGR picture (``None`` once ended).

    ``region`` ``(left, top, w, h)`` crops the shared monitor's picture. ``bus_address`` defaults
    to the session bus; ``start_timeout`` bounds the wait for the user's answer in the portal's
    dialog; ``first_frame_timeout`` the wait for the first picture; ``default_size`` is used when
    the portal reports no stream size.
    """

    def __init__(self, region: tuple[int, int, int, int] | None = None, show_cursor: bool = False,
                 bus_address: str | None = None, start_timeout: float = 120.0,
                 first_frame_timeout: float = 5.0, default_size: tuple[int, int] = (1920, 1080)) -> None:
        if shutil.which("gst-launch-1.0") is None:
            raise PortalError("pipewire_missing", f"gst-launch-1.0 is not installed. {_HINT}")
        self.region = region
        self._stream: PipeWireStream | None = None
        self._closed = False
        self._portal = _Portal(bus_address, start_timeout)
        try:
            fd, node, size = self._portal.run(self._portal.start(show_cursor), start_timeout)
            self._stream = PipeWireStream(fd, node, size or default_size, first_frame_timeout)
        except BaseException:
            self.close()
            raise

    @property
    def error(self) -> str | None:
        """Why the stream stopped (``read()`` then returns None)."""
        return self._stream.error if self._stream is not None else "not started"

    def read(self) -> np.ndarray | None:
        """The latest picture (cropped to ``region``), or ``None`` once ended or closed."""
        stream = self._stream
        if self._closed or stream is None or stream.error is not None or stream.latest is None:
            return None
        img = stream.latest
        if self.region is None:
            return img
        left, top, w, h = self.region
        part = img[max(0, top):max(0, top + h), max(0, left):max(0, left + w)]
        return part if part.size else img

    def close(self) -> None:
        """Stop the GStreamer child and end the portal session (idempotent)."""
        self._closed = True
        if self._stream is not None:
            self._stream.close()
        self._portal.close()
