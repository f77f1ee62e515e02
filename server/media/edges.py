"""Media edges viewers play from (``[edges]`` in config.toml): who gets which play URLs.

Each edge is an nginx-rtmp from ``python -m server.media.nginx_conf --role edge`` (or anything
serving ``rtmp://EDGE/live/{sid}``). :class:`EdgePool` polls each edge's ``/stat`` (nginx-rtmp's
XML statistics; ``nclients`` of ``application live``) every ``poll_interval`` s, or, for an edge
without an HTTP address, checks that its RTMP port accepts a connection. :meth:`EdgePool.order`
ranks the edges for one viewer: live edges first, by policy (``least-loaded``: fewest clients,
counting URLs handed out since the last poll; ``round-robin``), dead ones last. A viewer gets
the whole ranking as its failover list (the player moves on to the next URL when one dies).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from server.config import EdgesConfig

if TYPE_CHECKING:
    import httpx
    from fastapi import FastAPI

    from server.context import ServerContext

log = logging.getLogger(__name__)
POLICIES = ("least-loaded", "round-robin")
MAX_STAT_BYTES = 4 * 1024 * 1024
PROBE_TIMEOUT = 1.0


@dataclass
class Edge:
    """One edge and what the last poll found."""

    rtmp: str  # rtmp://host:port/live
    http: str = ""  # http://host:port (HLS, /stat); "" when unknown
    clients: int = 0  # nclients of application live at the last poll
    assigned: int = 0  # play URLs handed out since then
    alive: bool = True
    checked: float = 0.0  # time.monotonic() of the last poll

    @property
    def load(self) -> int:
        return self.clients + self.assigned

    def play_url(self, sid: str) -> str:
        return f"{self.rtmp.rstrip('/')}/{sid}"

    def hls_url(self, sid: str) -> str:
        return f"{self.http.rstrip('/')}/live/{sid}.m3u8" if self.http else ""


def parse_edges(cfg: EdgesConfig) -> list[Edge]:
    """The configured edges; bad entries are skipped with one log line each."""
    edges = []
    for i, rtmp in enumerate(cfg.rtmp):
        http = cfg.http[i] if i < len(cfg.http) else ""
        u = urlsplit(str(rtmp))
        h = urlsplit(str(http)) if http else None
        if u.scheme not in ("rtmp", "rtmps") or not u.hostname or u.query:
            log.warning("ignoring [edges] rtmp[%d] = %r: not rtmp://HOST:PORT/APP", i, rtmp)
            continue
        if h is not None and (h.scheme not in ("http", "https") or not h.hostname):
            log.warning("ignoring [edges] http[%d] = %r: not http://HOST:PORT", i, http)
            http = ""
        edges.append(Edge(str(rtmp).rstrip("/"), str(http).rstrip("/")))
    return edges


def stat_clients(xml: bytes, app: str = "live") -> int:
    """Players + publishers of ``app`` in an nginx-rtmp ``rtmp_stat all`` page."""
    root = ET.fromstring(xml)
    total = 0
    for a in root.iter("application"):
        if (a.findtext("name") or "") == app:
            total += int(a.findtext("live/nclients") or 0)
    return total


class EdgePool:
    """The ``edges`` service: polls the configured edges and ranks them for each viewer."""

    name = "edges"

    def __init__(self, ctx: "ServerContext") -> None:
        self.cfg = ctx.config.edges
        self.edges = parse_edges(self.cfg)
        self.policy = self.cfg.policy if self.cfg.policy in POLICIES else "least-loaded"
        if self.cfg.policy not in POLICIES:
            log.warning("[edges] policy %r unknown; using least-loaded", self.cfg.policy)
        self._rr = itertools.count()
        self._task: asyncio.Task[None] | None = None

    def mount(self, app: "FastAPI") -> None:
        """No routes of its own."""

    async def start(self) -> None:
        if self.edges:
            await self.poll()
            self._task = asyncio.create_task(self._loop(), name="edge-poll")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    # -- ranking -------------------------------------------------------------------------------
    def order(self) -> list[Edge]:
        """The edges for one new viewer, best first; counts a hand-out on the first."""
        if not self.edges:
            return []
        alive = [e for e in self.edges if e.alive]
        dead = [e for e in self.edges if not e.alive]
        if self.policy == "round-robin":
            k = next(self._rr) % len(alive) if alive else 0
            alive = alive[k:] + alive[:k]
        else:
            alive.sort(key=lambda e: e.load)  # stable: ties keep the configured order
        ranked = alive + dead
        ranked[0].assigned += 1
        return ranked

    # -- polling -------------------------------------------------------------------------------
    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(max(0.2, self.cfg.poll_interval))
            try:
                await self.poll()
            except Exception:  # a bug must not stop the polling for good
                log.exception("edge poll failed")

    async def poll(self) -> None:
        """Refresh every edge's client count and liveness (concurrently, bounded by a timeout)."""
        import httpx  # only with [edges]: 30-70 ms (it loads its command line's rich) of every start

        async with httpx.AsyncClient(timeout=PROBE_TIMEOUT) as client:
            await asyncio.gather(*(self._poll_one(client, e) for e in self.edges))

    async def _poll_one(self, client: httpx.AsyncClient, e: Edge) -> None:
        import httpx

        was = e.alive
        if e.http:
            try:
                e.clients, e.alive = stat_clients(await _get_bounded(client, f"{e.http}/stat")), True
            except (httpx.HTTPError, ValueError, ET.ParseError) as exc:
                e.alive = False
                if was:
                    log.warning("edge %s is down (stat: %s)", e.rtmp, exc)
        else:
            e.alive = await _rtmp_answers(e.rtmp)
            if was and not e.alive:
                log.warning("edge %s is down (RTMP port closed)", e.rtmp)
        if e.alive and not was:
            log.info("edge %s is back", e.rtmp)
        e.assigned, e.checked = 0, time.monotonic()


async def _get_bounded(client: httpx.AsyncClient, url: str) -> bytes:
    """The body of a 200 answer, at most MAX_STAT_BYTES (ValueError otherwise)."""
    async with client.stream("GET", url) as r:
        if r.status_code != 200:
            raise ValueError(f"HTTP {r.status_code}")
        body = b""
        async for chunk in r.aiter_bytes():
            body += chunk
            if len(body) > MAX_STAT_BYTES:
                raise ValueError("stat page too large")
    return body


async def _rtmp_answers(rtmp: str) -> bool:
    u = urlsplit(rtmp)
    try:
        _, w = await asyncio.wait_for(asyncio.open_connection(u.hostname, u.port or 1935), PROBE_TIMEOUT)
    except (OSError, asyncio.TimeoutError):
        return False
    w.close()
    return True
