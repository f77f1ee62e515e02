"""Values the co-hosting engines hand to the app."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class LinkMicError(Exception):
    """A co-hosting operation failed: ``code`` from the RoomService/IM error below it (0: local)."""

    def __init__(self, code: int, message: str = "") -> None:
        self.code = int(code)
        self.message = message or "co-hosting error"
        super().__init__(f"{self.code}: {self.message}")


@dataclass(frozen=True)
class LinkRequest:
    """An incoming request, as the anchor sees it."""

    user_id: str
    user_name: str
    user_avatar: str
    deadline: float  # time.monotonic() when it is rejected with "timeout"


class LinkState(Enum):
    """The viewer side of co-hosting."""

    IDLE = "idle"
    REQUESTING = "requesting"
    LINKED = "linked"
    ENDED = "ended"
