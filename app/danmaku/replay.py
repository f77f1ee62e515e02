"""Replay danmaku: comments stored with their offset from the stream start (no Qt).

The business API's ``/get_vod_danmaku`` returns ``[offset_ms, userid, nickname, type, msg]``
records; :class:`ReplayFeed` hands them out as media time passes and repositions on seeks.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from app.danmaku.lanes import Comment, Mode


@dataclass(slots=True, frozen=True)
class ReplayEntry:
    offset: float  # seconds from the stream start
    text: str
    user: str = ""
    nickname: str = ""
    kind: str = "danmaku"  # "text" (chat) or "danmaku"


class ReplayFeed:
    """Yields the entries whose offset falls in ``(last, now]`` as media time advances."""

    def __init__(self, entries: Iterable[ReplayEntry], own_user: str = "") -> None:
        self._entries = sorted(entries, key=lambda e: e.offset)
        self._offsets = [e.offset for e in self._entries]
        self._index = 0
        self._last: float | None = None
        self.own_user = own_user

    @classmethod
    def from_api(cls, records: Iterable[Mapping[str, object]], own_user: str = "",
                 kinds: tuple[str, ...] = ("danmaku",)) -> "ReplayFeed":
        """From ``/get_vod_danmaku`` records; malformed records are skipped, not fatal."""
        entries = []
        for r in records:
            try:
                offset = float(r["offset_ms"]) / 1000.0  # type: ignore[arg-type]
                text = str(r["msg"]).strip()
            except (KeyError, TypeError, ValueError):
                continue
            kind = str(r.get("type", "danmaku"))
            if text and kind in kinds and offset >= 0:
                entries.append(ReplayEntry(offset, text, str(r.get("userid", "")),
                                           str(r.get("nickname", "")), kind))
        return cls(entries, own_user)

    def __len__(self) -> int:
        return len(self._entries)

    def seek(self, now: float) -> None:
        """Continue from media time ``now``: entries before it are not replayed."""
        self._index = bisect.bisect_right(self._offsets, now)
        self._last = now

    def due(self, now: float) -> list[Comment]:
        """Comments that became due since the previous call (a jump backwards seeks)."""
        if self._last is not None and now < self._last:
            self.seek(now)
            return []
        end = bisect.bisect_right(self._offsets, now)
        out = [
            Comment(text=e.text, mode=Mode.SCROLL, user=e.user, nickname=e.nickname,
                    own=bool(self.own_user) and e.user == self.own_user)
            for e in self._entries[self._index:end]
        ]
        self._index = max(self._index, end)
        self._last = now
        return out
