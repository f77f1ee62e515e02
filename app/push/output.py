"""Outputs: FLV over RTMP (one per connection attempt) and the local MP4 recording.

Both mux :class:`EncodedPacket` copies into streams made from the encoders' templates. RTMP
failures are classified into :class:`StopReason` values:

* no TCP connection to host:port (checked before each attempt) -> ``UNREACHABLE``;
* the server answers the publish with an RTMP error status (our server's auth refusal,
  ``NetStream.Publish.Rejected``/``BadName``) -> ``REFUSED``, *definite* (FFmpeg fails the open,
  which PyAV does on the first write, with ``EPERM`` exactly then). The status description FFmpeg
  logs ("Server error: ...") is kept as the detail; one that says the stream name is already
  being published (nginx-rtmp's ``Already publishing``) marks the error ``in_use``: after a silent
  network cut that is the anchor's own stale connection until the server drops it, so
  :class:`~app.push.destination.Destination` retries it once the stream has been live;
* TCP works but the publish fails otherwise while opening or within ``established_s`` ->
  ``REFUSED`` (nginx-rtmp's ``deny publish``/``on_publish`` refusal looks like this: the server
  closes the connection right after the publish command, EIO while opening). A server that is
  going away or restarting looks the same (its listening socket accepts TCP before it serves),
  so :class:`~app.push.destination.Destination` retries this kind once the stream has been live;
* a failure after that -> ``NETWORK_LOST`` (the publisher reconnects).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import socket
import struct
import sys
import threading
import time
from collections.abc import Iterator
from fractions import Fraction
from urllib.parse import urlsplit

import av
import psutil

from app.push.errors import PushError, StopReason
from app.push.packets import EncodedPacket
from protocol.tls import TlsTunnel, check_tls, client_context

log = logging.getLogger(__name__)

#: libavformat's interleaving queue (``av_interleaved_write_frame``) holds each video packet until
#: audio with a later dts arrives, because FFmpeg's AAC encoder hands a packet out 3072 samples
#: after its dts (see ``PushSettings.audio_sample_rate``). That hold is wanted (players measure their buffer from the
#: newest pts of either stream, so video sent ahead of its audio would make them race the audio
#: clock into underruns), but FFmpeg's default bound is 10 s: a stalled audio source would freeze
#: the picture for that long. Beyond this span (microseconds) the queue is flushed in dts order.
MAX_INTERLEAVE_DELTA_US = 300_000
#: FLV muxer options of every RTMP connection
RTMP_MUX_OPTIONS = {"flvflags": "no_duration_filesize", "max_interleave_delta": str(MAX_INTERLEAVE_DELTA_US)}
#: what servers say (the RTMP status description, lower case) when the stream name already has a
#: publisher: nginx-rtmp (``NetStream.Publish.BadName``, "Already publishing"), our embedded server
#: ("stream ... already has a publisher"), others ("... already exists"/"already in use")
IN_USE_MARKERS = ("already publishing", "already has a publisher", "already exists", "already in use")
_SERVER_ERROR = "Server error: "
_ffmpeg_log_lock = threading.Lock()
_ffmpeg_log_users = 0  # RTMP opens capturing FFmpeg's errors right now (see ffmpeg_errors)
_ffmpeg_log_saved: tuple[int | None, bool] | None = None  # PyAV's logging before the first of them
_ffmpeg_log_sink: av.logging.Capture | None = None


@contextlib.contextmanager
def ffmpeg_errors() -> Iterator[list[tuple[int, str, str]]]:
    """FFmpeg's error lines logged by this thread while the block runs (an RTMP open).

    PyAV discards FFmpeg's log by default, and with it the description of an RTMP error status
    ("Server error: Already publishing"). PyAV's Python log callback is installed for the block
    only, then PyAV's logging is put back as it was: with the callback installed, an FFmpeg thread
    that logs needs the GIL, and a thread that holds the GIL while it waits for that FFmpeg thread
    (PyAV frees a frame-threaded decoder so) would never get it back. Other threads' lines of that
    moment go to a sink, not to the ``libav`` loggers (as before: discarded). When something else
    configured PyAV's logging, it is left alone (this thread's lines are still captured when its
    level lets errors through).
    """
    global _ffmpeg_log_users, _ffmpeg_log_saved, _ffmpeg_log_sink
    with _ffmpeg_log_lock:
        if _ffmpeg_log_users == 0 and av.logging.get_level() is None:
            _ffmpeg_log_saved = (None, av.logging.get_skip_repeated())
            _ffmpeg_log_sink = av.logging.Capture(local=False)
            _ffmpeg_log_sink.__enter__()
            av.logging.set_skip_repeated(False)  # the same refusal on each retry must be seen each time
            av.logging.set_level(av.logging.ERROR)
        _ffmpeg_log_users += 1
    try:
        with av.logging.Capture(local=True) as logs:
            yield logs
    finally:
        with _ffmpeg_log_lock:
            _ffmpeg_log_users -= 1
            if _ffmpeg_log_users == 0 and _ffmpeg_log_saved is not None:
                level, skip = _ffmpeg_log_saved
                av.logging.set_level(level)
                av.logging.set_skip_repeated(skip)
                if _ffmpeg_log_sink is not None:
                    _ffmpeg_log_sink.__exit__(None, None, None)
                    _ffmpeg_log_sink.logs.clear()
                _ffmpeg_log_saved = _ffmpeg_log_sink = None


def server_error(logs: list[tuple[int, str, str]]) -> str:
    """The last RTMP error status description FFmpeg logged in ``logs`` ("" if none)."""
    said = [msg.strip()[len(_SERVER_ERROR):] for _level, _name, msg in logs if msg.startswith(_SERVER_ERROR)]
    return said[-1] if said else ""


def says_in_use(description: str) -> bool:
    """Whether a server's refusal says the stream name already has a publisher."""
    text = description.lower()
    return any(m in text for m in IN_USE_MARKERS)


def rtmp_endpoint(url: str) -> tuple[str, int]:
    """Host and port of an rtmp:// URL (default port 1935)."""
    parts = urlsplit(url)
    if parts.scheme not in ("rtmp", "rtmps") or not parts.hostname:
        raise PushError(StopReason.UNREACHABLE, f"not an rtmp:// URL: {url!r}")
    return parts.hostname, parts.port or (443 if parts.scheme == "rtmps" else 1935)


def tcp_reachable(host: str, port: int, timeout: float, handshake: bool = False) -> str | None:
    """None if a TCP connection opens (and, with ``handshake``, the server answers an RTMP
    handshake within ``timeout``), else why not.

    The handshake probe matters because PyAV holds the GIL while its RTMP client connects: a
    server that accepts TCP but never answers would freeze every thread of this process. The
    probe stops after S0+S1 (no connect/publish command, so no publish callbacks fire).
    """
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            if handshake:
                sock.settimeout(timeout)
                sock.sendall(b"\x03" + bytes(1536))  # C0 (version 3) + C1 (time 0, zeros)
                got = b""
                while len(got) < 1 + 1536:
                    chunk = sock.recv(4096)
                    if not chunk:
                        return f"{host}:{port}: closed during the RTMP handshake"
                    got += chunk
                if got[0] != 3:
                    return f"{host}:{port}: not an RTMP server"
        return None
    except TimeoutError:
        return f"{host}:{port}: no answer within {timeout:.0f} s"
    except OSError as exc:
        return f"{host}:{port}: {exc.strerror or exc}"


def _connections_to(host: str, port: int) -> set[int]:
    """File descriptors of this process's TCP connections to host:port."""
    try:
        ip = socket.gethostbyname(host)
        return {c.fd for c in psutil.Process().net_connections(kind="tcp")
                if c.raddr and c.raddr.ip == ip and c.raddr.port == port and c.fd >= 0}
    except (OSError, psutil.Error):
        return set()


class MuxOutput:
    """A PyAV output container fed with :class:`EncodedPacket` copies."""

    def __init__(self, target: str, fmt: str, video_template: av.video.stream.VideoStream,
                 audio_template: av.audio.stream.AudioStream, options: dict[str, str] | None = None,
                 timeout: float | None = None) -> None:
        kwargs: dict[str, object] = {"format": fmt, "options": options or {}}
        if timeout is not None:
            kwargs["timeout"] = (timeout, timeout)
        self.container = av.open(target, mode="w", **kwargs)  # type: ignore[call-overload]
        self.streams = {
            "video": self.container.add_stream_from_template(video_template),
            "audio": self.container.add_stream_from_template(audio_template),
        }
        self.bytes = 0

    def write(self, pkt: EncodedPacket) -> None:
        p = av.Packet(pkt.data)
        p.pts, p.dts, p.time_base = pkt.pts, pkt.dts, pkt.time_base
        p.is_keyframe = pkt.key
        p.stream = self.streams[pkt.kind]
        self.container.mux(p)
        self.bytes += len(pkt.data)

    def close(self) -> None:
        try:
            self.container.close()
        except (OSError, av.FFmpegError) as exc:  # trailer on a dead connection: nothing to save
            log.debug("closing output: %s", exc)


class RtmpOutput:
    """One RTMP publish connection. ``write`` raises :class:`PushError` with the classified reason.

    ``rtmps://``: the server certificate is verified (system store plus ``ca_file``) by a
    :class:`~protocol.tls.TlsTunnel`; FFmpeg publishes plain RTMP into its loopback port.
    """

    def __init__(self, url: str, video_template: av.video.stream.VideoStream,
                 audio_template: av.audio.stream.AudioStream, connect_timeout: float = 5.0,
                 established_s: float = 2.0, ca_file: str = "") -> None:
        self.url = url
        self.host, self.port = rtmp_endpoint(url)
        self.established_s = established_s
        self.opened_at: float | None = None
        self.first_ok_at: float | None = None
        self._tunnel: TlsTunnel | None = None
        self._fds: set[int] = set()
        self.write_started: float | None = None  # monotonic time of the write in progress
        self._start_dts: Fraction | None = None  # dts (s) of the keyframe this connection opened on
        self.skipped = 0  # packets not sent because they came before that keyframe
        local = self.host, self.port  # where FFmpeg's own socket goes
        if urlsplit(url).scheme == "rtmps":
            self._tunnel = self._open_tunnel(ca_file, connect_timeout)
            url, local = self._tunnel.local_url(url), ("127.0.0.1", self._tunnel.local_port)
        self._local = local
        why = tcp_reachable(*local, connect_timeout, handshake=True)
        if why is not None:
            self._close_tunnel()
            raise PushError(StopReason.UNREACHABLE, why)
        self._fds_before = _connections_to(*local)
        self.server_said = ""  # the server's error status description, if the publish was refused
        logs: list[tuple[int, str, str]] = []
        try:
            with ffmpeg_errors() as logs:
                self._mux = MuxOutput(url, "flv", video_template, audio_template,
                                      options=dict(RTMP_MUX_OPTIONS), timeout=connect_timeout)
        except (OSError, av.FFmpegError) as exc:
            self._close_tunnel()
            self.server_said = server_error(logs)
            raise self._classify(exc) from exc
        self.opened_at = time.monotonic()

    def _open_tunnel(self, ca_file: str, timeout: float) -> TlsTunnel:
        """A verified TLS tunnel to the server; PushError if the certificate is not trusted."""
        try:
            ctx = client_context(ca_file)
        except OSError as exc:
            raise PushError(StopReason.REFUSED, f"cannot read the CA file {ca_file}: {exc}", definite=True) from None
        why = check_tls(self.host, self.port, ctx, timeout)
        if why is not None:
            raise PushError(StopReason.UNREACHABLE, why)
        try:
            return TlsTunnel(self.host, self.port, ca_file, timeout)
        except OSError as exc:
            raise PushError(StopReason.UNREACHABLE, str(exc)) from None

    def _close_tunnel(self) -> None:
        if self._tunnel is not None:
            self._tunnel.close()
            self._tunnel = None

    @property
    def established(self) -> bool:
        """True once packets have been going out for ``established_s`` (so the publish was accepted)."""
        return self.first_ok_at is not None and time.monotonic() - self.first_ok_at >= self.established_s

    @property
    def bytes(self) -> int:
        return self._mux.bytes

    def _classify(self, exc: BaseException) -> PushError:
        detail = str(exc)
        if self.established:
            return PushError(StopReason.NETWORK_LOST, detail)
        # PyAV opens the RTMP connection (handshake, connect, publish) on the first write.
        # FFmpeg's RTMP client fails that open with -1 (EPERM) exactly when the server answered a
        # command with an error status ("Server error: ..." on stderr): a real refusal.
        if self.first_ok_at is None and isinstance(exc, av.FFmpegError) and exc.errno == errno.EPERM:
            in_use = says_in_use(self.server_said)
            if in_use:
                detail = f"the stream is already being published (the server said: {self.server_said})"
            elif self.server_said:
                detail = f"the server said: {self.server_said}"
            return PushError(StopReason.REFUSED, detail, definite=True, in_use=in_use)
        # Failed while opening or right after the publish command: refused, unless the server is
        # gone altogether (then it is just unreachable and worth retrying).
        if tcp_reachable(self.host, self.port, 1.0) is not None:
            return PushError(StopReason.UNREACHABLE, detail)
        return PushError(StopReason.REFUSED, detail)

    def _admit(self, pkt: EncodedPacket) -> bool:
        """Whether ``pkt`` goes out on this connection: it starts on a video keyframe and takes
        nothing with an earlier dts.

        libavformat's FLV muxer refuses (EINVAL, "Packets are not in the proper order with respect
        to DTS") any packet whose dts is earlier than the first packet it wrote. Under CPU load the
        video leaves the encoder up to ~0.8 s after the audio captured with it, more than the
        interleaving bound (``MAX_INTERLEAVE_DELTA_US``): the muxer then wrote the audio first and
        failed on the opening keyframe, right after the publish, which read as a refusal and ended
        a live that was only reconnecting. The audio before the opening picture is not needed
        (players start at the keyframe).
        """
        t = pkt.dts * pkt.time_base
        if self._start_dts is None:
            if pkt.kind != "video" or not pkt.key:
                return False
            self._start_dts = t
            return True
        return t >= self._start_dts

    def write(self, pkt: EncodedPacket) -> bool:
        """Send ``pkt``; False when it was skipped (see :meth:`_admit`). Raises :class:`PushError`."""
        if not self._admit(pkt):
            self.skipped += 1
            return False
        self.write_started = time.monotonic()
        try:
            if self.first_ok_at is None:  # PyAV opens the connection (connect, publish) now
                with ffmpeg_errors() as logs:
                    try:
                        self._mux.write(pkt)
                    finally:
                        self.server_said = server_error(logs)
            else:
                self._mux.write(pkt)
        except (OSError, av.FFmpegError) as exc:
            raise self._classify(exc) from exc
        finally:
            self.write_started = None
        if self.first_ok_at is None:
            self.first_ok_at = time.monotonic()
            self._fds = _connections_to(*self._local) - self._fds_before
            self._set_nodelay()
        return True

    def _set_nodelay(self) -> None:
        """Turn Nagle off on FFmpeg's socket (PyAV passes no protocol options to an output, so
        ``tcp_nodelay=1`` cannot be asked for): with Nagle on, each small AAC packet that follows
        a picture waits for the server's ACK of it, up to a delayed-ACK time or a round trip."""
        for fd in self._fds:
            try:
                with socket.socket(fileno=os.dup(fd)) as sock:
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError as exc:
                log.debug("TCP_NODELAY on fd %d: %s", fd, exc)

    def nodelay(self) -> bool:
        """True when every socket of this connection has Nagle off (tests, diagnostics)."""
        if not self._fds:
            return False
        try:
            for fd in self._fds:
                with socket.socket(fileno=os.dup(fd)) as sock:
                    if not sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY):
                        return False
        except OSError:
            return False
        return True

    def rtt(self) -> float | None:
        """The kernel's smoothed round-trip time to the server in seconds (TCP_INFO ``tcpi_rtt``),
        or None where the platform does not tell (not Linux) or before the connection is up."""
        if not sys.platform.startswith("linux") or not hasattr(socket, "TCP_INFO"):  # Linux struct layout
            return None
        if self._tunnel is not None:
            return None  # the TLS connection is the tunnel process's
        for fd in self._fds:
            try:
                with socket.socket(fileno=os.dup(fd)) as sock:
                    info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
            except OSError:
                continue
            if len(info) >= 72:
                # struct tcp_info: 8 one-byte fields, then u32 rto, ato, snd_mss, rcv_mss, unacked,
                # sacked, lost, retrans, fackets, 4 timestamps, pmtu, rcv_ssthresh, rtt (us) ...
                return struct.unpack_from("=I", info, 68)[0] / 1e6
        return None

    def abort(self) -> bool:
        """Unblock a write stuck on a dead link (no RST, e.g. a vanished Wi-Fi): shut the socket
        down under FFmpeg so its send fails and the publisher reconnects. Call from another thread."""
        done = False
        for fd in self._fds:
            try:
                with socket.socket(fileno=os.dup(fd)) as sock:
                    sock.shutdown(socket.SHUT_RDWR)
                    done = True
            except OSError:
                pass
        return done

    def close(self) -> None:
        self._mux.close()
        self._close_tunnel()


class Mp4Recorder:
    """Local recording: fragmented MP4, so a crash mid-stream still leaves a playable file."""

    def __init__(self, path: str, video_template: av.video.stream.VideoStream,
                 audio_template: av.audio.stream.AudioStream) -> None:
        self.path = path
        self._mux = MuxOutput(path, "mp4", video_template, audio_template,
                              options={"movflags": "frag_keyframe+empty_moov+default_base_moof"})
        self._started = False

    def write(self, pkt: EncodedPacket) -> None:
        if not self._started:
            if not (pkt.kind == "video" and pkt.key):
                return  # start on a keyframe so the file plays from its first frame
            self._started = True
        self._mux.write(pkt)

    def close(self) -> None:
        self._mux.close()
