"""The in-process offline C2C inbox, bounded per recipient, globally and in time.

Only recipients the IM service knows (registered users) get an inbox; the caller checks that.
Each recipient keeps at most ``per_user`` messages (oldest dropped). Over all recipients at most
``max_users`` inboxes and ``max_bytes`` of frames are held: past either cap the oldest messages of
the inbox written least recently are dropped first. An inbox expires ``ttl`` seconds after its
last message (purged on the next write, never delivered). Every dropped message is counted in
:attr:`MemoryInbox.dropped`. :class:`server.im.redis_state.RedisState` implements the same rules
in Redis.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field

log = logging.getLogger(__name__)


@dataclass
class _Box:
    frames: deque[tuple[str, int]] = field(default_factory=deque)  # (frame, UTF-8 bytes)
    nbytes: int = 0
    written: float = 0.0


class MemoryInbox:
    """Offline messages by recipient, least recently written first."""

    def __init__(self, per_user: int = 100, max_users: int = 20000, max_bytes: int = 32 << 20,
                 ttl: float = 7 * 86400) -> None:
        self.per_user, self.max_users, self.max_bytes, self.ttl = per_user, max_users, max_bytes, ttl
        self._boxes: OrderedDict[str, _Box] = OrderedDict()
        self.nbytes = 0
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._boxes)

    def stats(self) -> dict[str, int]:
        """Recipients with waiting messages, messages, bytes held, messages dropped so far."""
        return {"users": len(self._boxes), "messages": sum(len(b.frames) for b in self._boxes.values()),
                "bytes": self.nbytes, "dropped": self.dropped}

    def push(self, uid: str, frame: str) -> None:
        now = time.time()
        self._purge(now)
        box = self._boxes.pop(uid, None) or _Box()
        self._boxes[uid] = box  # now the most recently written
        size = len(frame.encode())
        box.frames.append((frame, size))
        box.nbytes += size
        box.written = now
        self.nbytes += size
        while len(box.frames) > self.per_user:
            self._drop_oldest(uid, box)
        while self._boxes and (self.nbytes > self.max_bytes or len(self._boxes) > self.max_users):
            first, oldest = next(iter(self._boxes.items()))
            if len(self._boxes) > self.max_users:
                self._drop_box(first, oldest)
            else:
                self._drop_oldest(first, oldest)

    def take(self, uid: str) -> list[str]:
        """The recipient's waiting messages (oldest first); the inbox is emptied."""
        box = self._boxes.pop(uid, None)
        if box is None:
            return []
        self.nbytes -= box.nbytes
        if box.written + self.ttl <= time.time():
            return []
        return [f for f, _ in box.frames]

    def _purge(self, now: float) -> None:
        while self._boxes:
            uid, box = next(iter(self._boxes.items()))
            if box.written + self.ttl > now:
                return
            self._drop_box(uid, box)

    def _drop_oldest(self, uid: str, box: _Box) -> None:
        _, size = box.frames.popleft()
        box.nbytes -= size
        self.nbytes -= size
        self._count(1)
        if not box.frames:
            del self._boxes[uid]

    def _drop_box(self, uid: str, box: _Box) -> None:
        del self._boxes[uid]
        self.nbytes -= box.nbytes
        self._count(len(box.frames))

    def _count(self, n: int) -> None:
        before = self.dropped
        self.dropped += n
        if before == 0 or before // 1000 != self.dropped // 1000:  # one line per 1000 drops
            log.warning("IM offline inbox full or expired: %d messages dropped so far", self.dropped)
