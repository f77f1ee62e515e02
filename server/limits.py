"""Connection caps shared by the HTTP and RTMP listeners, and logging that cannot flood.

:class:`ConnGuard` counts open connections per source address and in total and says whether a
new one may stay; :class:`RateLog` turns a storm of refusals into one summary line per interval.
:func:`fit_to_fd_limit` keeps the caps under the process's descriptor limit so the accept loops
never run out of descriptors in the first place, and :func:`install_loop_handler` turns the rare
EMFILE that still happens into one log line instead of a traceback a second.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import resource
import time
from collections import Counter
from typing import Any

from server.config import LimitsConfig

log = logging.getLogger(__name__)


def addr_key(peer: Any) -> str:
    """The address a per-address cap counts: the IPv4 address, or the /64 of an IPv6 one."""
    host = peer[0] if isinstance(peer, tuple) and peer else str(peer)
    if ":" not in host:
        return host
    try:
        net = ipaddress.ip_network(f"{host.split('%')[0]}/64", strict=False)
    except ValueError:
        return host
    return str(net)


class RateLog:
    """``note(key, detail)`` logs the first event of a kind at once, then one summary per interval."""

    def __init__(self, logger: logging.Logger, interval: float) -> None:
        self.logger = logger
        self.interval = interval
        self._last: dict[str, float] = {}
        self._suppressed: Counter[str] = Counter()
        self._samples: dict[str, str] = {}

    def note(self, key: str, detail: str, level: int = logging.WARNING) -> None:
        now = time.monotonic()
        last = self._last.get(key)
        if last is not None and now - last < self.interval:
            self._suppressed[key] += 1
            self._samples[key] = detail
            return
        self._last[key] = now
        more = self._suppressed.pop(key, 0)
        sample = self._samples.pop(key, "")
        tail = f" (+{more} more in the last {self.interval:g} s, latest: {sample})" if more else ""
        self.logger.log(level, "%s: %s%s", key, detail, tail)


class ConnGuard:
    """Open-connection counts for one listener: ``admit`` on accept, ``release`` on close."""

    def __init__(self, name: str, max_total: int, max_per_ip: int, rate_log: RateLog) -> None:
        self.name = name
        self.max_total = max_total
        self.max_per_ip = max_per_ip
        self.rate_log = rate_log
        self.total = 0
        self.per_ip: Counter[str] = Counter()
        self.refused = 0

    def admit(self, key: str) -> bool:
        """Count a new connection from ``key``; False (and a rate-limited log line) when over a cap."""
        if self.max_total and self.total >= self.max_total:
            return self._refuse(f"connection cap {self.max_total} reached, refusing {key}")
        if self.max_per_ip and self.per_ip[key] >= self.max_per_ip:
            return self._refuse(f"per-address cap {self.max_per_ip} reached by {key}")
        self.total += 1
        self.per_ip[key] += 1
        return True

    def _refuse(self, detail: str) -> bool:
        self.refused += 1
        self.rate_log.note(f"{self.name} refused", detail)
        return False

    def release(self, key: str) -> None:
        self.total -= 1
        n = self.per_ip[key] - 1
        if n > 0:
            self.per_ip[key] = n
        else:
            del self.per_ip[key]


def fit_to_fd_limit(limits: LimitsConfig) -> LimitsConfig:
    """Raise the soft descriptor limit to the hard one and shrink the global caps to fit under it.

    Returns the limits to use (a changed copy when the caps had to shrink; logged once).
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = 1 << 20 if hard == resource.RLIM_INFINITY else hard
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (ValueError, OSError):
            pass
    usable = max(64, soft - limits.fd_reserve)
    want = limits.http_max_connections + limits.rtmp_max_connections
    if not limits.http_max_connections or not limits.rtmp_max_connections or want <= usable:
        return limits
    scale = usable / want
    from dataclasses import replace

    fitted = replace(limits, http_max_connections=max(16, int(limits.http_max_connections * scale)),
                     rtmp_max_connections=max(16, int(limits.rtmp_max_connections * scale)))
    log.warning("descriptor limit %d: connection caps lowered to http %d, rtmp %d (raise `ulimit -n` for more)",
                soft, fitted.http_max_connections, fitted.rtmp_max_connections)
    return fitted


_RESOURCE_MESSAGES = ("socket.accept() out of system resource",)


def install_loop_handler(loop: asyncio.AbstractEventLoop, rate_log: RateLog) -> None:
    """Accept-loop resource errors (EMFILE and kin): one line per interval, no traceback.

    asyncio already stops accepting for a second and retries; everything else goes to the
    default handler unchanged.
    """
    def handler(lp: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        message = str(context.get("message", ""))
        if message in _RESOURCE_MESSAGES:
            exc = context.get("exception")
            rate_log.note("accept paused", f"{exc or message}; retrying in 1 s", logging.ERROR)
            return
        lp.default_exception_handler(context)

    loop.set_exception_handler(handler)
