"""IM service tuning: one typed table of defaults (STYLE habit 11).

Values come from the ``[im]`` table of ``config.toml``: a key known to
:class:`server.config.ImConfig` is taken from there, any other key of this table is read from the
file's ``[im]`` table directly (so operators and tests can tune the IM service without a new
generic config field). Unknown or mistyped values are ignored with a warning.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields
from typing import Any

from server.config import Config

log = logging.getLogger(__name__)


@dataclass
class ImSettings:
    out_queue: int = 256  # frames waiting for one slow reader before it is disconnected
    msg_rate: float = 5.0  # sustained group/C2C messages per second per user
    msg_burst: int = 10
    like_rate: float = 2.0  # likes per second per user (SPEC: at most 2/s)
    like_burst: int = 2
    op_rate: float = 20.0  # other requests (join, members, history...) per second per user
    op_burst: int = 40
    tips_all_max: int = 500  # join/quit tips reach every member up to this size, then only the owner
    history_size: int = 50  # recent group messages kept for late joiners
    inbox_size: int = 100  # C2C messages kept for an offline user
    inbox_ttl: int = 7 * 86400
    group_ttl: int = 86400  # Redis: an idle group's keys expire after this long
    profile_cache_s: float = 30.0  # nickname/avatar cache per identifier
    danmaku_flush_s: float = 0.5  # background batch writer period
    danmaku_queue: int = 50000  # rows waiting for the writer (oldest kept; overflow logged)
    redis_prefix: str = "xzb:"  # key / channel namespace in Redis
    node_ttl: float = 10.0  # Redis: a node (and its users' presence) counts as dead this long after its last beat
    node_heartbeat: float = 2.5  # Redis: liveness refresh and dead-node sweep period (well inside node_ttl)
    close_timeout: float = 5.0  # seconds a closing handshake may take before the socket is dropped

    @classmethod
    def from_config(cls, cfg: Config) -> "ImSettings":
        out = cls()
        raw: dict[str, Any] = cfg.raw.get("im", {})
        for f in fields(cls):
            if hasattr(cfg.im, f.name):
                value = getattr(cfg.im, f.name)
            elif f.name in raw:
                value = raw[f.name]
            else:
                continue
            try:
                setattr(out, f.name, type(getattr(out, f.name))(value))
            except (TypeError, ValueError):
                log.warning("ignoring [im] %s = %r", f.name, value)
        return out
