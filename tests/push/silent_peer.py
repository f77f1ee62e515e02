"""A server that completes the RTMP handshake (plain form) and then says nothing more: an
overloaded server, or nginx-rtmp stuck in its ``on_publish`` callback.

Run as its own process (``python -m tests.push.silent_peer``): it prints its port, serves until
its stdin closes. It is a process so that a publisher that holds the GIL cannot starve it.
"""

from __future__ import annotations

import socket
import sys
import threading


def _serve(conn: socket.socket) -> None:
    try:
        conn.settimeout(30)
        got = b""
        while len(got) < 1537:
            data = conn.recv(4096)
            if not data:
                return
            got += data
        conn.sendall(b"\x03" + bytes(1536) + got[1:1537])  # S0, S1 (zeros), S2 = echo of C1
        while conn.recv(65536):  # then silence: read and discard
            pass
    except OSError:
        pass
    finally:
        conn.close()


def main() -> None:
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)
    print(ls.getsockname()[1], flush=True)

    def accept() -> None:
        while True:
            try:
                conn, _ = ls.accept()
            except OSError:
                return
            threading.Thread(target=_serve, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    sys.stdin.read()  # until the parent closes our stdin
    ls.close()


if __name__ == "__main__":
    main()
