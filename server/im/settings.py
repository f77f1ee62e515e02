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
    out_queue: int = 256  # frames waiting for one slow reader before it is disconnected (close 4008)
    out_queue_bytes: int = 1 << 20  # ... or bytes of frames waiting, whichever comes first
    msg_rate: float = 5.0  # sustained group/C2C messages per second per user
    msg_burst: int = 10
    like_rate: float = 2.0  # likes per second per user (SPEC: at most 2/s)
    like_burst: int = 2
    op_rate: float = 20.0  # other requests (join, members, history...) per second per user
    op_burst: int = 40
    limits_users: int = 100000  # identities whose buckets are remembered (per node; idle-full ones dropped)
    tips_all_max: int = 500  # join/quit tips reach every member up to this size, then only the owner
    tips_burst: int = 5  # join/quit tips frames a group may send at once ...
    tips_interval: float = 0.25  # ... then one per interval; events in between are batched into one frame
    tips_batch_max: int = 20  # join/quit events listed in one batched tips frame (the rest only counted)
    history_size: int = 50  # recent group messages kept for late joiners
    inbox_size: int = 100  # C2C messages kept for one offline (registered) user, oldest dropped
    inbox_users: int = 20000  # offline users with waiting messages, all together (least recently written dropped)
    inbox_bytes: int = 32 << 20  # bytes of waiting messages, all together (oldest dropped)
    inbox_ttl: int = 7 * 86400  # an inbox is dropped this long after its last message
    known_cache_s: float = 300.0  # "is a registered user" answers cached this long ...
    known_miss_cache_s: float = 2.0  # ... and "is not" this long (so a new user is reachable soon)
    known_cache_size: int = 50000  # identifiers cached (oldest forgotten)
    group_ttl: int = 86400  # Redis: an idle group's keys expire after this long
    profile_cache_s: float = 30.0  # nickname/avatar cache per identifier
    danmaku_flush_s: float = 0.5  # background batch writer period
    danmaku_queue: int = 50000  # rows waiting for the writer (oldest kept; overflow logged)
    redis_prefix: str = "xzb:"  # key / channel namespace in Redis
    node_ttl: float = 10.0  # Redis: a node (and its users' presence) counts as dead this long after its last beat
    node_heartbeat: float = 2.5  # Redis: liveness refresh and dead-node sweep period (well inside node_ttl)
    close_timeout: float = 5.0  # seconds a closing handshake may take before the socket is dropped
    banned_words: tuple[str, ...] = ()  # deployment word list, masked with ＊ in every room (rooms add their own)
    moderation_ttl: int = 30 * 86400  # Redis: a room's bans, mutes, admins and word list kept this long after a change
    stats_interval: float = 0.0  # > 0: a line of server-side delivery figures every this many s (delivery.py)
    report_interval: float = 5.0  # one message report per user per this many seconds (per node)

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
            if isinstance(getattr(out, f.name), tuple):
                if isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value):
                    setattr(out, f.name, tuple(v.strip() for v in value))
                else:
                    log.warning("ignoring [im] %s = %r (a list of words expected)", f.name, value)
                continue
            try:
                setattr(out, f.name, type(getattr(out, f.name))(value))
            except (TypeError, ValueError):
                log.warning("ignoring [im] %s = %r", f.name, value)
        return out
