"""RTMP sessions that have not yet been authorized to publish or play (SPEC section 11).

A stranger's connection costs little and cannot stay long: it must be publishing or playing
within ``rtmp_preauth_timeout`` of accept whatever it sends (a 1-byte trickle does not help), its
messages are capped at ``rtmp_preauth_max_message`` bytes, all such sessions together may buffer
at most ``rtmp_preauth_budget_bytes``, and at most ``rtmp_preauth_max`` of them exist at once.
When that pool is full, a newcomer evicts the oldest session of the address holding the most
(so a flood from a few addresses cannot lock a publisher out); only a newcomer from the busiest
address itself is refused.
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from server.config import LimitsConfig
from server.limits import RateLog


class Pending(Protocol):
    """What the pool needs from a session."""

    def drop(self, reason: str) -> None: ...


class PreAuthPool:
    """Admission, deadlines and the shared memory budget of not-yet-authorized sessions."""

    def __init__(self, limits: LimitsConfig, rate_log: RateLog) -> None:
        self.limits = limits
        self.rate_log = rate_log
        self.by_addr: dict[str, dict[Pending, None]] = {}  # insertion order = age
        self.addr_of: dict[Pending, str] = {}
        self.timers: dict[Pending, asyncio.TimerHandle] = {}
        self.held: dict[Pending, int] = {}
        self.count = 0
        self.bytes = 0

    def enter(self, s: Pending, addr: str) -> bool:
        """Admit ``s`` (evicting another when the pool is full); False when ``s`` is refused."""
        cap = self.limits.rtmp_preauth_max
        if cap and self.count >= cap:
            busiest = max(self.by_addr, key=lambda a: len(self.by_addr[a]))
            if len(self.by_addr[busiest]) <= len(self.by_addr.get(addr, ())):
                self.rate_log.note("rtmp refused", f"pre-auth pool of {cap} full, refusing {addr}")
                return False
            victim = next(iter(self.by_addr[busiest]))
            self.rate_log.note("rtmp dropped", f"pre-auth pool of {cap} full: evicted one of {busiest}")
            self.leave(victim)
            victim.drop("evicted from the pre-auth pool")
        self.by_addr.setdefault(addr, {})[s] = None
        self.addr_of[s] = addr
        self.count += 1
        loop = asyncio.get_running_loop()
        self.timers[s] = loop.call_later(self.limits.rtmp_preauth_timeout, self._expired, s)
        return True

    def _expired(self, s: Pending) -> None:
        if s in self.addr_of:
            self.rate_log.note("rtmp dropped", f"not publishing or playing within "
                               f"{self.limits.rtmp_preauth_timeout:g} s ({self.addr_of[s]})")
            self.leave(s)
            s.drop("pre-auth deadline")

    def account(self, s: Pending, held: int) -> bool:
        """Record that ``s`` now buffers ``held`` bytes; False when the shared budget is exceeded."""
        if s not in self.addr_of:
            return True
        self.bytes += held - self.held.get(s, 0)
        self.held[s] = held
        if self.bytes <= self.limits.rtmp_preauth_budget_bytes:
            return True
        self.rate_log.note("rtmp dropped", f"pre-auth memory budget of {self.limits.rtmp_preauth_budget_bytes} "
                           f"bytes exceeded ({self.addr_of[s]})")
        return False

    def leave(self, s: Pending) -> None:
        """``s`` is authorized or gone (idempotent)."""
        addr = self.addr_of.pop(s, None)
        if addr is None:
            return
        peers = self.by_addr[addr]
        del peers[s]
        if not peers:
            del self.by_addr[addr]
        self.count -= 1
        self.bytes -= self.held.pop(s, 0)
        timer = self.timers.pop(s, None)
        if timer is not None:
            timer.cancel()
