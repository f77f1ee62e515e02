"""C2C delivery under churn: receivers keep logging in (to either of two server nodes linked
through the machine's Redis, one scratch PostgreSQL database) and dropping again, two senders send
C2C messages to them at a fixed pace; at the end every receiver logs in once more and reads its
offline inbox. Prints messages accepted (code 0), received (unique), lost and duplicated.

    python -m tests.bench.bench_c2c_churn [--seconds 20] [--seed 1] [--mode graceful|mixed]

``graceful``: a receiver closes properly (close frame, then reads until the server's close reply),
so every frame the server wrote reaches it: a loss is a server fault. ``mixed``: half the drops
are TCP resets, half a close frame without reading on (an app killed); frames the server wrote
after the receiver stopped reading are lost in the network, which the server cannot tell without
client acknowledgements (the wire format has none).

Figures (loaded 2-core machine, 20 s, 6 receivers, ~1,000 messages a run):
graceful: before (2cb2bb5) 12/907, 8/935 and 13/717 lost, after 0/992, 0/1080 and 0/749;
mixed: before 10/855, after 9/785 (the in-flight share, not fixable without acks).
"""

from __future__ import annotations

import argparse
import json
import random
import secrets
import socket
import struct
import tempfile
import threading
import time
from pathlib import Path

import redis
from sqlalchemy import create_engine, text

from protocol import im
from tests.im.conftest import PG_ADMIN, REDIS, RedisCluster
from tests.im.test_im_c2c_loss import RawWs
from tests.im.wire import peer, register

CLOSE_1000 = bytes([0x88, 0x82]) + b"\0\0\0\0" + struct.pack("!H", 1000)  # masked with a zero key


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--receivers", type=int, default=6)
    ap.add_argument("--mode", choices=("graceful", "mixed"), default="graceful")
    args = ap.parse_args()
    rnd = random.Random(args.seed)
    r = redis.Redis.from_url(REDIS, decode_responses=True)
    name = f"xzb_churn_{secrets.token_hex(4)}"
    eng = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(text(f"CREATE DATABASE {name}"))
    cl = RedisCluster(Path(tempfile.mkdtemp()), f"postgresql://postgres@127.0.0.1:5432/{name}", r)
    try:
        nodes = cl.start(2, msg_rate=100000.0, msg_burst=100000, inbox_size=100000)
        rcv = [f"churn_r{i}" for i in range(args.receivers)]
        for u in rcv:
            register(nodes[0], u)
        got: dict[str, list[str]] = {u: [] for u in rcv}
        stop = threading.Event()

        def note(uid: str, data: bytes) -> None:
            f = json.loads(data)
            if f.get("type") == "c2c_msg":
                got[uid].append(str(im.classify_elems(f["elems"]).text))

        def frame(ws: RawWs) -> tuple[int, bytes]:
            while len(ws.buf) < 2:
                ws.buf += ws._recv()
            n, at = ws.buf[1] & 0x7F, 2
            if n == 126:
                while len(ws.buf) < 4:
                    ws.buf += ws._recv()
                n, at = struct.unpack("!H", ws.buf[2:4])[0], 4
            while len(ws.buf) < at + n:
                ws.buf += ws._recv()
            op, data, ws.buf = ws.buf[0] & 0x0F, ws.buf[at:at + n], ws.buf[at + n:]
            return op, data

        def read_for(ws: RawWs, uid: str, seconds: float) -> None:
            until = time.monotonic() + seconds
            ws.sock.settimeout(0.05)
            while time.monotonic() < until:
                try:
                    op, data = frame(ws)
                except (socket.timeout, TimeoutError):
                    continue
                except OSError:
                    return
                if op == 1:
                    note(uid, data)

        def read_until_close(ws: RawWs, uid: str) -> None:
            ws.sock.settimeout(10)
            while True:
                op, data = frame(ws)
                if op == 8:
                    return
                if op == 1:
                    note(uid, data)

        def receiver(uid: str, seed: int) -> None:
            rr = random.Random(seed)
            while not stop.is_set():
                try:
                    ws = RawWs(rr.choice(nodes), uid)
                except OSError:
                    continue
                read_for(ws, uid, rr.uniform(0.05, 0.4))
                if args.mode == "mixed" and rr.random() < 0.5:
                    ws.reset()
                else:
                    try:
                        ws.sock.sendall(CLOSE_1000)
                        if args.mode == "graceful":
                            read_until_close(ws, uid)
                    except OSError:
                        pass
                    ws.sock.close()
                time.sleep(rr.uniform(0.0, 0.2))

        sent: list[tuple[str, str]] = []

        def sender(i: int, seed: int) -> None:
            rr = random.Random(seed)
            p = peer(nodes[i], f"churn_s{i}")
            n = 0
            while not stop.is_set():
                mid, to = f"m{i}_{n}", rr.choice(rcv)
                n += 1
                if p.req("send_c2c_msg", to=to, elems=[im.text_elem(mid)])["code"] == 0:
                    sent.append((to, mid))
                time.sleep(0.025)
            p.close()

        threads = [threading.Thread(target=receiver, args=(u, rnd.random()), daemon=True) for u in rcv]
        threads += [threading.Thread(target=sender, args=(i, rnd.random()), daemon=True) for i in range(2)]
        for t in threads:
            t.start()
        time.sleep(args.seconds)
        stop.set()
        for t in threads:
            t.join(15)
        time.sleep(1.0)
        for u in rcv:  # a last login reads the offline inbox
            ws = RawWs(nodes[0], u)
            read_for(ws, u, 3.0)
            ws.sock.close()
        received = {(u, m) for u in rcv for m in got[u]}
        dups = sum(len(got[u]) - len(set(got[u])) for u in rcv)
        lost = [x for x in sent if x not in received]
        print(json.dumps({"mode": args.mode, "sent": len(sent), "received_unique": len(received),
                          "lost": len(lost), "dups": dups}))
    finally:
        for n in cl.nodes:
            n.stop()
        keys = list(r.scan_iter(match=cl.prefix + "*", count=1000))
        if keys:
            r.delete(*keys)
        with eng.connect() as c:
            c.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        eng.dispose()


if __name__ == "__main__":
    main()
