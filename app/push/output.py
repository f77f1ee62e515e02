"""Outputs: FLV over RTMP (one per connection attempt) and the local MP4 recording.

Both mux :class:`EncodedPacket` copies into streams made from the encoders' templates. RTMP
failures are classified into :class:`StopReason` values:

* no TCP connection to host:port (checked before each attempt) -> ``UNREACHABLE``;
* no RTMP handshake, or no answer to the publish within the connect timeout -> ``UNREACHABLE``;
* the server answers the publish with an RTMP error status (our server's auth refusal,
  ``NetStream.Publish.Rejected``/``BadName``) -> ``REFUSED``, *definite*, its description kept as
  the detail; one that says the stream name is already being published (nginx-rtmp's ``Already
  publishing``) marks the error ``in_use``: after a silent network cut that is the anchor's own stale
  connection until the server drops it, so :class:`~app.push.destination.Destination` retries it
  once the stream has been live;
* TCP works but the publish fails otherwise while opening or within ``established_s`` ->
  ``REFUSED`` (nginx-rtmp's ``deny publish``/``on_publish`` refusal looks like this: the server
  closes the connection right after the publish command, EIO while opening). A server that is
  going away or restarting looks the same (its listening socket accepts TCP before it serves),
  so :class:`~app.push.destination.Destination` retries this kind once the stream has been live;
* a failure after that -> ``NETWORK_LOST`` (the publisher reconnects); a send that made no
  progress for ``stall_timeout`` (a dead link without a reset) says so in its detail.
"""

from __future__ import annotations

import builtins
import logging
import os
import socket
import ssl
import struct
import sys
import time
from fractions import Fraction
from urllib.parse import urlsplit

import av

from app.push.errors import PushError, StopReason
from app.push.packets import EncodedPacket
from app.push.rtmp_client import FlvTagSplitter, RtmpHandshakeError, RtmpPublisher, RtmpStatusError, parse_target
from protocol.tls import client_context, tls_failure
from server.media.rtmp import RtmpError

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

    The handshake probe stops after S0+S1 (no connect/publish command, so no publish callbacks
    fire).
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


class MuxOutput:
    """A PyAV output container fed with :class:`EncodedPacket` copies."""

    def __init__(self, target: str | FlvTagSplitter, fmt: str, video_template: av.video.stream.VideoStream,
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

    The connection is ours (:class:`~app.push.rtmp_client.RtmpPublisher`, Python sockets, which
    wait without the GIL): the constructor connects and publishes within ``connect_timeout`` in
    all. FFmpeg muxes FLV into memory and its tags go out as RTMP messages. ``rtmps://``: the
    server certificate is verified (system store plus ``ca_file``) by Python's ssl.

    ``stall_timeout``: a send that makes no progress for that long fails (``NETWORK_LOST`` once
    established, "no progress sending for N s"). It is the destination's ``stall_timeout_s``, not
    the connect timeout: a slow uplink blocks sends for seconds without being dead.
    """

    def __init__(self, url: str, video_template: av.video.stream.VideoStream,
                 audio_template: av.audio.stream.AudioStream, connect_timeout: float = 5.0,
                 established_s: float = 2.0, ca_file: str = "", stall_timeout: float = 10.0) -> None:
        self.url = url
        self.host, self.port = rtmp_endpoint(url)
        self.connect_timeout = connect_timeout
        self.stall_timeout = stall_timeout
        self.established_s = established_s
        self.opened_at: float | None = None
        self.first_ok_at: float | None = None
        self._start_dts: Fraction | None = None  # dts (s) of the keyframe this connection opened on
        self.skipped = 0  # packets not sent because they came before that keyframe
        self._failed = False
        try:
            target = parse_target(url)
        except ValueError as exc:
            raise PushError(StopReason.REFUSED, str(exc), definite=True) from None
        tls = None
        if target.scheme == "rtmps":
            try:
                tls = client_context(ca_file)
            except OSError as exc:
                raise PushError(StopReason.REFUSED, f"cannot read the CA file {ca_file}: {exc}",
                                definite=True) from None
        name = video_template.codec_context.name
        four_cc = ("hvc1",) if "265" in name or "hevc" in name else ()
        self._client = RtmpPublisher(target, connect_timeout, tls, four_cc, send_timeout=stall_timeout)
        self._open()
        self._splitter = FlvTagSplitter()
        try:  # flush_packets: each packet's tag reaches the splitter (so the wire) at once
            self._mux = MuxOutput(self._splitter, "flv", video_template, audio_template,
                                  options=dict(RTMP_MUX_OPTIONS, flush_packets="1"))
        except (OSError, ValueError, av.FFmpegError) as exc:
            self._client.close(goodbye=False)
            raise PushError(StopReason.ENCODER_FAILED, f"FLV muxer: {exc}") from exc
        self.opened_at = time.monotonic()

    def _open(self) -> None:
        """Connect and publish; PushError with the classified reason (the socket closed)."""
        where, t = f"{self.host}:{self.port}", self.connect_timeout
        try:
            try:
                self._client.open_socket()
            except (ssl.SSLError, ssl.CertificateError) as exc:
                raise PushError(StopReason.UNREACHABLE, tls_failure(self.host, self.port, exc)) from None
            except TimeoutError:
                raise PushError(StopReason.UNREACHABLE, f"{where}: no answer within {t:.0f} s") from None
            except OSError as exc:
                raise PushError(StopReason.UNREACHABLE, f"{where}: {exc.strerror or exc}") from None
            try:
                self._client.handshake()
            except TimeoutError:
                raise PushError(StopReason.UNREACHABLE,
                                f"{where}: no answer to the RTMP handshake within {t:.0f} s") from None
            except RtmpHandshakeError as exc:
                raise PushError(StopReason.UNREACHABLE, f"{where}: {exc}") from None
            try:
                self._client.publish()
            except TimeoutError:
                raise PushError(StopReason.UNREACHABLE,
                                f"{where}: no answer to the publish within {t:.0f} s") from None
            except (OSError, RtmpError, RtmpStatusError) as exc:
                raise self._classify(exc) from None
        except BaseException:
            self._client.close(goodbye=False)
            raise
        log.info("publishing to %s (stream id %d)", where, self._client.msid)

    @property
    def established(self) -> bool:
        """True once packets have been going out for ``established_s`` (so the publish was accepted)."""
        return self.first_ok_at is not None and time.monotonic() - self.first_ok_at >= self.established_s

    @property
    def bytes(self) -> int:
        return self._mux.bytes

    def _classify(self, exc: BaseException) -> PushError:
        detail = str(exc) or type(exc).__name__
        if isinstance(exc, TimeoutError):
            detail = f"no progress sending for {self.stall_timeout:g} s"
        if self.established:
            return PushError(StopReason.NETWORK_LOST, detail)
        # The server answered the publish with an error status (our server's auth refusal,
        # NetStream.Publish.Rejected/BadName, an unknown application): a real refusal.
        # One that says the stream name already has a publisher (nginx-rtmp's "Already publishing")
        # is marked in_use: after a silent network cut that is the anchor's own stale connection
        # until the server drops it, so Destination retries it once the stream has been live.
        if self.first_ok_at is None and isinstance(exc, RtmpStatusError):
            if says_in_use(detail):
                return PushError(StopReason.REFUSED, f"the stream is already being published (the server said: "
                                 f"{detail})", definite=True, in_use=True)
            return PushError(StopReason.REFUSED, detail, definite=True)
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
        try:
            self._mux.write(pkt)
            for tag_type, ts, body in self._splitter.tags():
                self._client.send_tag(tag_type, ts, body)
        except (OSError, ValueError, av.FFmpegError, RtmpError, RtmpStatusError) as exc:
            self._failed = True
            raise self._classify(exc) from exc
        if self.first_ok_at is None:
            self.first_ok_at = time.monotonic()
        return True

    def _sockopt(self, level: int, opt: int, size: int = 0) -> int | builtins.bytes | None:
        sock = self._client.sock
        if sock is None:
            return None
        try:
            return sock.getsockopt(level, opt, size) if size else sock.getsockopt(level, opt)
        except OSError:
            return None

    def nodelay(self) -> bool:
        """True when the connection's socket has Nagle off (tests, diagnostics)."""
        return bool(self._sockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))

    def rtt(self) -> float | None:
        """The kernel's smoothed round-trip time to the server in seconds (TCP_INFO ``tcpi_rtt``),
        or None where the platform does not tell (not Linux) or before the connection is up."""
        if not sys.platform.startswith("linux") or not hasattr(socket, "TCP_INFO"):  # Linux struct layout
            return None
        info = self._sockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
        if isinstance(info, bytes) and len(info) >= 72:
            # struct tcp_info: 8 one-byte fields, then u32 rto, ato, snd_mss, rcv_mss, unacked,
            # sacked, lost, retrans, fackets, 4 timestamps, pmtu, rcv_ssthresh, rtt (us) ...
            return struct.unpack_from("=I", info, 68)[0] / 1e6
        return None

    def abort(self) -> bool:
        """Unblock a write stuck on a dead link when the publish is stopping (it would otherwise
        wait up to ``stall_timeout``): shut the socket down under the sender so its send fails.
        Call from another thread (a duplicate of the descriptor, so a TLS socket's state is not
        touched)."""
        sock = self._client.sock
        try:
            if sock is None:
                return False
            with socket.socket(fileno=os.dup(sock.fileno())) as dup:
                dup.shutdown(socket.SHUT_RDWR)
            return True
        except OSError:
            return False

    def close(self) -> None:
        """Write the FLV trailer (sent when the connection still works) and hang up politely."""
        self._mux.close()
        if not self._failed:
            self._client.send_timeout = 1.0
            try:
                for tag_type, ts, body in self._splitter.tags():
                    self._client.send_tag(tag_type, ts, body)
            except (OSError, ValueError, RtmpError, RtmpStatusError) as exc:
                log.debug("closing %s:%d: %s", self.host, self.port, exc)
                self._failed = True
        self._client.close(goodbye=not self._failed)


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
