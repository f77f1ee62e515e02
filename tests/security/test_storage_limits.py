"""Attack: uploads that lie about their size or stop half-way (issue 11, finding 2 checks).

Limits hold whatever Content-Length says (smaller, larger, absent with a chunked body), and a
refused or aborted write leaves no partial file and never replaces the stored object (temp file
beside the target, atomic rename on success only). On Linux an upload in progress has no name at
all (``O_TMPFILE``): nothing is left when it is aborted or the server is killed.
"""

from __future__ import annotations

import socket
import sys
import time
import tomllib
from pathlib import Path

import pytest
import tomli_w

from tests.conftest import start_server
from tests.security.conftest import cos_auth, cos_sign, login, own_key, raw_request
from tests.security.helpers import open_upload_files, wait_open_upload
from tests.server.test_storage_and_hostile import jpeg_bytes

LIMIT = 4096  # [cos] max_image_bytes of this module's server


@pytest.fixture(scope="module", params=["uvloop", "asyncio"])
def small_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """A server whose image limit is 4 KiB, on each event loop (they report a client's going
    away through different transports)."""
    from server.config import load

    data_dir = tmp_path_factory.mktemp("limits") / "server"
    load(data_dir)  # writes config.toml with fresh secrets
    path = data_dir / "config.toml"
    raw = tomllib.loads(path.read_text("utf-8"))
    raw.setdefault("cos", {})["max_image_bytes"] = LIMIT
    raw.setdefault("server", {})["event_loop"] = request.param
    path.write_bytes(tomli_w.dumps(raw).encode())
    sp = start_server(data_dir)
    yield sp
    sp.stop()


def _raw(server, head: str, body_parts: list[bytes], read: bool = True) -> bytes:  # type: ignore[no-untyped-def]
    """Send a hand-written request (head, then body parts), return what came back ("" if cut)."""
    s = socket.create_connection(("127.0.0.1", server.http_port), timeout=10)
    try:
        s.sendall(head.encode())
        for part in body_parts:
            try:
                s.sendall(part)
            except OSError:  # the server answered and closed early: that is fine
                break
        if not read:
            return b""
        out = b""
        try:
            while b"\r\n\r\n" not in out or len(out) < 12:
                chunk = s.recv(65536)
                if not chunk:
                    break
                out += chunk
            s.settimeout(0.5)
            while chunk := s.recv(65536):
                out += chunk
        except OSError:
            pass
        return out
    finally:
        s.close()


def _files(root: Path) -> dict[str, bytes]:
    out = {}
    for p in root.rglob("*"):
        try:
            if p.is_file():
                out[str(p.relative_to(root))] = p.read_bytes()
        except FileNotFoundError:  # a temp file renamed or removed while listing
            pass
    return out


def _settled(root: Path, expected: dict[str, bytes], timeout: float = 5.0) -> dict[str, bytes]:
    """The storage content once it is ``expected``, or after ``timeout``: the listing compared.

    (It used to return a second listing, which could catch the temp file of a request the server
    had not reached at the first: the flaky "an aborted upload left a partial or temp file".)
    """
    deadline = time.monotonic() + timeout
    while True:
        files = _files(root)
        if files == expected or time.monotonic() > deadline:
            return files
        time.sleep(0.05)


def _abandoned(server) -> int:  # type: ignore[no-untyped-def]
    return sum("abandoned: the client went away" in line for line in server.output)


def _wait_abandoned(server, count: int, timeout: float = 30.0) -> None:  # type: ignore[no-untyped-def]
    """Until the server has logged ``count`` abandoned uploads in all (each is removed before)."""
    deadline = time.monotonic() + timeout
    while _abandoned(server) < count:
        assert time.monotonic() < deadline, f"{count - _abandoned(server)} abandoned upload(s) never noticed"
        time.sleep(0.01)


def test_lying_sizes_and_aborted_uploads(small_server) -> None:  # type: ignore[no-untyped-def]
    s = small_server
    root = s.config.storage_dir
    c = login(s, "lim")
    sign = cos_sign(c)
    key = own_key(c, sign, "avatar/a.jpg")
    auth = cos_auth(s.config.cos.secret_id, sign, key)
    original = jpeg_bytes()
    assert len(original) < 1024
    status, r = raw_request(s, "PUT", f"/cos/{key}", original, {"Authorization": auth})
    assert (status, r["code"]) == (200, 200)
    stored = _files(root)
    head = f"PUT /cos/{key} HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n"
    big = original + b"\0" * (2 * LIMIT)

    # declared over the limit: refused before the body is read
    out = _raw(s, head + f"Content-Length: {10**12}\r\n\r\n", [big[:100]])
    assert out.startswith(b"HTTP/1.1 413") and b'"code":613' in out
    # chunked, no Content-Length: counted while streaming
    chunks = [b"%x\r\n%s\r\n" % (len(p), p) for p in (big[:2000], big[2000:4000], big[4000:])] + [b"0\r\n\r\n"]
    out = _raw(s, head + "Transfer-Encoding: chunked\r\n\r\n", chunks)
    assert out.startswith(b"HTTP/1.1 413") and b'"code":613' in out
    assert _settled(root, stored) == stored
    # declared larger than what is sent, then the client goes away half-way
    before = _abandoned(s)
    _raw(s, head + f"Content-Length: {LIMIT}\r\n\r\n", [big[:1500]], read=False)
    # chunked, cut off in the middle of a chunk
    _raw(s, head + "Transfer-Encoding: chunked\r\n\r\n", [b"%x\r\n" % 3000 + big[:1000]], read=False)
    _wait_abandoned(s, before + 2)  # the server has handled both: not a listing taken before it did
    assert _files(root) == stored, "an aborted upload left a partial or temp file"
    # declared smaller than what is sent: at most Content-Length bytes become the object (the rest
    # is an invalid pipelined request, which may also cancel this one): within the limit either way
    out = _raw(s, head + "Content-Length: 600\r\n\r\n", [big])
    assert out[:12] in (b"HTTP/1.1 200", b"HTTP/1.1 400"), out[:60]
    files = _settled(root, {key: big[:600]}, timeout=1.0)
    assert files in ({key: big[:600]}, stored) and len(files[key]) <= LIMIT
    # nonsense lengths are an HTTP-level refusal, never a 5xx or a stored object
    for bad in ("-1", "1e9", "0x10", "12, 13"):
        out = _raw(s, head + f"Content-Length: {bad}\r\n\r\n", [original])
        assert out[:12] in (b"HTTP/1.1 400", b"HTTP/1.1 413", b""), (bad, out[:60])
    assert _settled(root, files) == files
    assert not any("Traceback" in line for line in s.output), "\n".join(s.output[-40:])
    assert c.call("/get_cos_sign")["signKey"]  # still serving


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="O_TMPFILE and /proc: Linux")
def test_upload_in_progress_has_no_name(small_server) -> None:  # type: ignore[no-untyped-def]
    """While an upload's body is arriving its file has no name in the storage folder, so an
    abandoned upload (or a killed server: tests/security/test_crash_leftovers.py) leaves nothing;
    the old code had a ``.upload-*`` file there from the first byte."""
    s = small_server
    root = s.config.storage_dir
    c = login(s, "nam")
    sign = cos_sign(c)
    key = own_key(c, sign, "cover/b.jpg")
    auth = cos_auth(s.config.cos.secret_id, sign, key)
    before_files, before_log = _files(root), _abandoned(s)
    sock = socket.create_connection(("127.0.0.1", s.http_port), timeout=10)
    try:
        sock.sendall(f"PUT /cos/{key} HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n"
                     f"Content-Length: {LIMIT}\r\n\r\n".encode() + jpeg_bytes()[:1000])
        wait_open_upload(s.proc.pid, root)  # the server is writing the body now
        named = [n for n in _files(root) if n not in before_files]
        assert named == [], f"an upload in progress is visible in the storage folder: {named}"
    finally:
        sock.close()
    _wait_abandoned(s, before_log + 1)
    assert _files(root) == before_files
    assert not open_upload_files(s.proc.pid, root)
