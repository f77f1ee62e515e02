"""Cheap RTMP players for the fan-out bench: raw non-blocking sockets, chunk headers parsed, payloads skipped.

The relay under test should be the bottleneck, not the players: one process here drives many
connections from one ``selectors`` loop with ``recv_into`` a reused buffer. Audio/video payloads
are never copied (only the first two bytes of a video message are looked at: sequence header or
not); control and command messages are kept whole. Players answer pings and send acknowledgements
like a real client. A worker process binds its sockets to its own loopback source address
(127.0.1.N) so a per-address connection cap does not refuse the load.

    python -m tests.bench.rtmp_players RTMP_APP_URL SID --players N --source 127.0.1.1

Protocol with the parent: the worker prints ``ready N`` once N players are playing (or their
setup failed), counts frames only between a ``go`` and a ``stop`` line on its stdin, and then
prints one JSON line of results and exits. Gaps (stalls) are measured from each player's first
video frame until ``stop``.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import selectors
import socket
import struct
import sys
import time
from urllib.parse import urlsplit

from server.media.rtmp import amf0, chunk, handshake

HS = handshake.HANDSHAKE_SIZE
S_LEN = 2 * HS + 1
BUF = 256 * 1024
STALL_S = 0.5
SETUP_TIMEOUT = 15.0
SETUP_AT_ONCE = 16  # connections of one process in handshake/connect/play at a time


class _Csid:
    """Per chunk stream: the header fields a continuation needs, and the message in progress."""

    __slots__ = ("ts", "delta", "length", "type_id", "left", "ext", "keep", "head")

    def __init__(self) -> None:
        self.ts = self.delta = self.length = self.type_id = self.left = 0
        self.ext = False
        self.keep: bytearray | None = None  # whole payload (control/command messages)
        self.head = b""  # first two payload bytes of a video message


class Player:
    """One RTMP play connection; ``on_data`` is called by the loop when the socket is readable."""

    def __init__(self, pool: "Pool", app_url: str, sid: str, source: str) -> None:
        self.pool, self.sid = pool, sid
        parts = urlsplit(app_url)
        self.app = parts.path.strip("/").split("/")[0]
        self.tc = f"rtmp://{parts.netloc}/{self.app}"
        self.sock = socket.socket()
        if source:
            self.sock.bind((source, 0))
        self.sock.connect((parts.hostname or "127.0.0.1", parts.port or 1935))
        self.sock.setblocking(False)
        self.c0c1 = handshake.client_c0c1(digest=True)
        self.sock.sendall(self.c0c1)  # 1537 bytes always fit an empty socket buffer
        self.state = "handshake"
        self.hs = bytearray()
        self.buf = bytearray(BUF)
        self.mv = memoryview(self.buf)
        self.fill = 0  # bytes at the start of buf not parsed yet (an incomplete chunk header)
        self.chunk_size = chunk.DEFAULT_CHUNK_SIZE
        self.streams: dict[int, _Csid] = {}
        self.cur: _Csid | None = None
        self.chunk_left = 0  # payload bytes of the current chunk still to come
        self.window = 0
        self.bytes_in = self.acked = 0
        self.window_bytes = 0  # received while the pool is counting
        self.last_video: float | None = None
        self.frames = 0
        self.error = ""

    # --- sending (small messages only: fits the socket buffer) ----------------------------------
    def _send(self, data: bytes) -> None:
        try:
            self.sock.send(data)
        except OSError as e:
            self.fail(f"send: {e}")

    def _command(self, csid: int, msid: int, *values: object) -> None:
        self._send(chunk.encode_message(csid, 0, chunk.COMMAND_AMF0, msid, amf0.encode(*values), 4096))

    # --- receiving --------------------------------------------------------------------------
    def on_data(self) -> None:
        try:
            n = self.sock.recv_into(self.mv[self.fill:])
        except BlockingIOError:
            return
        except OSError as e:
            self.fail(f"recv: {e}")
            return
        if n == 0:
            self.fail("closed by server")
            return
        self.bytes_in += n
        if self.pool.counting:
            self.window_bytes += n
        end = self.fill + n
        start = 0
        if self.state == "handshake":
            need = S_LEN - len(self.hs)
            self.hs += self.mv[:min(need, end)]
            start = min(need, end)
            if len(self.hs) < S_LEN:
                self.fill = 0
                return
            self._send(handshake.client_c2(self.c0c1[1:], bytes(self.hs)) + chunk.set_chunk_size(4096))
            self._command(3, 0, "connect", 1.0, {"app": self.app, "tcUrl": self.tc, "flashVer": "LNX 9,0,124,2",
                                                 "objectEncoding": 0.0})
            self.state = "connect"
        try:
            pos = self._parse(start, end)
        except Exception as e:  # a parse error is a bench failure, not a crash of the other players
            self.fail(f"parse: {e!r}")
            return
        rest = end - pos
        if rest:
            self.buf[:rest] = self.buf[pos:end]
        self.fill = rest
        if self.window and self.bytes_in - self.acked >= self.window:
            self.acked = self.bytes_in
            self._send(chunk.acknowledgement(self.acked))

    def _parse(self, pos: int, end: int) -> int:
        buf, mv = self.buf, self.mv
        while pos < end:
            if self.chunk_left:
                st = self.cur
                assert st is not None
                take = min(self.chunk_left, end - pos)
                if st.keep is not None:
                    st.keep += mv[pos:pos + take]
                elif st.type_id == chunk.VIDEO and len(st.head) < 2:
                    st.head += bytes(mv[pos:pos + min(take, 2 - len(st.head))])
                pos += take
                self.chunk_left -= take
                st.left -= take
                if st.left == 0:
                    self._complete(st)
                continue
            # a chunk header: parse it only when it is all here
            b0 = buf[pos]
            fmt, csid = b0 >> 6, b0 & 0x3F
            p = pos + 1
            if csid < 2:  # 2- or 3-byte basic header
                if p + csid + 1 > end:
                    break
                csid, p = (64 + buf[p], p + 1) if csid == 0 else (64 + buf[p] + buf[p + 1] * 256, p + 2)
            hlen = (11, 7, 3, 0)[fmt]
            if p + hlen > end:
                break
            st = self.streams.get(csid)
            if st is None:
                st = self.streams[csid] = _Csid()
            new = st.left == 0
            if fmt < 3:
                ts = (buf[p] << 16) | (buf[p + 1] << 8) | buf[p + 2]
                if fmt <= 1:
                    st.length = (buf[p + 3] << 16) | (buf[p + 4] << 8) | buf[p + 5]
                    st.type_id = buf[p + 6]
                p += hlen
                if ts == 0xFFFFFF:
                    if p + 4 > end:
                        break
                    ts = struct.unpack_from(">I", buf, p)[0]
                    p += 4
                st.ext = ts >= 0xFFFFFF
                if fmt == 0:
                    st.ts, st.delta = ts, 0
                else:
                    st.delta = ts
                    st.ts = (st.ts + ts) & 0xFFFFFFFF
            else:
                if st.ext:  # both engines repeat the extended timestamp on continuation chunks
                    if p + 4 > end:
                        break
                    p += 4
                if new:
                    st.ts = (st.ts + st.delta) & 0xFFFFFFFF
            if new:
                st.left = st.length
                st.keep = bytearray() if st.type_id not in (chunk.AUDIO, chunk.VIDEO) else None
                st.head = b""
                if st.length == 0:
                    pos = p
                    self._complete(st)
                    continue
            self.cur = st
            self.chunk_left = min(self.chunk_size, st.left)
            pos = p
        return pos

    def _complete(self, st: _Csid) -> None:
        t = st.type_id
        if t == chunk.VIDEO:
            if not flv_sequence_header(st.head):
                now = time.monotonic()
                if self.last_video is not None:
                    self.pool.gap(now - self.last_video)
                self.last_video = now
                if self.pool.counting:
                    self.frames += 1
            return
        if t == chunk.AUDIO or st.keep is None:
            return
        body, st.keep = bytes(st.keep), None
        if t == chunk.SET_CHUNK_SIZE:
            self.chunk_size = chunk.parse_u32(body) & 0x7FFFFFFF
        elif t == chunk.WINDOW_ACK_SIZE:
            self.window = chunk.parse_u32(body)
        elif t == chunk.USER_CONTROL:
            event, data = chunk.parse_user_control(body)
            if event == chunk.UC_PING_REQUEST and len(data) >= 4:
                self._send(chunk.user_control(chunk.UC_PING_RESPONSE, chunk.parse_u32(data)))
        elif t == chunk.COMMAND_AMF0:
            self._on_command(amf0.decode_all(body))

    def _on_command(self, v: list[object]) -> None:
        name = v[0] if v else None
        if self.state == "connect" and name == "_result":
            self._command(3, 0, "createStream", 2.0, None)
            self.state = "create"
        elif self.state == "create" and name == "_result" and len(v) > 3 and isinstance(v[3], float):
            self._command(8, int(v[3]), "play", 3.0, None, self.sid, -2000.0)
            self.state = "play"
        elif self.state == "play" and name == "onStatus":
            info = v[3] if len(v) > 3 and isinstance(v[3], dict) else {}
            code = str(info.get("code", ""))
            if code in ("NetStream.Play.Start", "NetStream.Play.Reset"):
                if code == "NetStream.Play.Start":
                    self.state = "playing"
                    self.pool.playing(self)
            elif info.get("level") == "error":
                self.fail(f"play refused: {code}")
        elif name == "_error":
            self.fail(f"refused: {v}")

    def fail(self, why: str) -> None:
        if not self.error:
            self.error = why
            self.pool.failed(self)


def flv_sequence_header(head: bytes) -> bool:
    if not head:
        return False
    b0 = head[0]
    if b0 & 0x80:
        return (b0 & 0x0F) == 0
    return (b0 & 0x0F) in (7, 12, 13) and len(head) > 1 and head[1] == 0


class Pool:
    """The players of one process and their shared figures."""

    def __init__(self) -> None:
        self.sel = selectors.DefaultSelector()
        self.players: list[Player] = []
        self.n_playing = self.n_failed = 0
        self.counting = False
        self.stalls = 0
        self.max_gap = 0.0
        self.errors: dict[str, int] = {}
        self.stall_log: list[tuple[float, float]] = []  # (monotonic end, gap s): machine-wide clock

    def gap(self, g: float) -> None:
        if g > self.max_gap:
            self.max_gap = g
        if g > STALL_S:
            self.stalls += 1
            if len(self.stall_log) < 1000:
                self.stall_log.append((round(time.monotonic(), 3), round(g, 3)))

    def playing(self, p: Player) -> None:
        self.n_playing += 1

    def failed(self, p: Player) -> None:
        self.n_failed += 1
        if p.state == "playing":
            self.n_playing -= 1
        p.state = "failed"
        key = p.error.split(":")[0]
        self.errors[key] = self.errors.get(key, 0) + 1
        try:
            self.sel.unregister(p.sock)
        except (KeyError, ValueError):
            pass
        p.sock.close()

    def _start(self, app_url: str, sid: str, source: str) -> None:
        try:
            p = Player(self, app_url, sid, source)
        except OSError as e:
            self.n_failed += 1
            self.errors[f"connect {e.errno}"] = self.errors.get(f"connect {e.errno}", 0) + 1
            return
        self.players.append(p)
        self.sel.register(p.sock, selectors.EVENT_READ, p)

    def run(self, app_url: str, sid: str, n: int, source: str) -> dict[str, object]:
        started = 0
        stdin = sys.stdin.buffer.raw  # type: ignore[attr-defined]
        self.sel.register(stdin, selectors.EVENT_READ, None)
        deadline = time.monotonic() + SETUP_TIMEOUT
        ready_sent = False
        t_go = t_stop = 0.0
        cpu_go = cpu_stop = 0.0
        line = b""
        while True:
            # ramp up: a few setups at a time, as viewers arrive (a relay may cap unauthenticated sessions)
            while started < n and started - self.n_playing - self.n_failed < SETUP_AT_ONCE:
                self._start(app_url, sid, source)
                started += 1
            if not ready_sent and (self.n_playing + self.n_failed >= n or time.monotonic() > deadline):
                print(f"ready {self.n_playing}", flush=True)
                ready_sent = True
            for key, _ in self.sel.select(1.0):
                if key.data is not None:
                    key.data.on_data()
                    continue
                chunk_in = stdin.read(4096) or b"stop\n"
                line += chunk_in
                if b"go\n" in line and not self.counting and not t_go:
                    self.counting, t_go, cpu_go = True, time.monotonic(), time.process_time()
                    line = line.replace(b"go\n", b"")
                if b"stop\n" in line:
                    self.counting, t_stop, cpu_stop = False, time.monotonic(), time.process_time()
                    return self._result(t_stop - t_go if t_go else 0.0, cpu_stop - cpu_go)

    def _result(self, window: float, cpu: float) -> dict[str, object]:
        for p in self.players:
            if p.state == "playing" and p.last_video is not None:  # a stall still open at the end counts too
                self.gap(time.monotonic() - p.last_video)
            try:
                p.sock.close()
            except OSError:
                pass
        return {"playing": self.n_playing, "failed": self.n_failed, "errors": self.errors, "stalls": self.stalls,
                "max_gap_ms": round(self.max_gap * 1000, 1), "frames": sum(p.frames for p in self.players),
                "bytes": sum(p.window_bytes for p in self.players),
                "window_s": window, "cpu_s": cpu, "stall_log": self.stall_log}


def raise_priority(step: int = 5) -> bool:
    """Best effort: run ahead of other work on a shared machine (the measuring instrument should not be
    the one starved; root only). True when it worked."""
    try:
        os.nice(-step)
        return True
    except OSError:
        return False


def raise_nofile() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("app_url", help="rtmp://host:port/app")
    ap.add_argument("sid")
    ap.add_argument("--players", type=int, default=50)
    ap.add_argument("--source", default="", help="local address to bind (e.g. 127.0.1.1)")
    ap.add_argument("--nice", action="store_true", help="raise this process's priority (root only)")
    a = ap.parse_args(argv)
    raise_nofile()
    if a.nice:
        raise_priority()
    res = Pool().run(a.app_url, a.sid, a.players, a.source)
    print(json.dumps(res), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
