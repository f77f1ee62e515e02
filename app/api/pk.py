"""The PK record RoomService ``get_pk`` / ``accept_pk`` / ``end_pk`` return (server.api.room_pk)."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any


def _num(v: Any, default: float = 0.0) -> float:
    ok = isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) and abs(v) < 1e12
    return float(v) if ok else default


@dataclass(frozen=True)
class PkSide:
    """One anchor of a PK."""

    roomID: str
    userID: str
    userName: str = ""
    userAvatar: str = ""
    accelerateURL: str = ""
    score: int = 0


@dataclass(frozen=True)
class PkInfo:
    """A PK as the server last described it; ``received`` is time.monotonic() of that reply."""

    pkID: str
    state: str  # "running" | "ended"
    duration: float
    remaining: float
    sides: tuple[PkSide, PkSide]
    reason: str = ""
    endedBy: str = ""
    winner: str = ""  # roomID of the winner once ended; "" while running or on a draw
    received: float = field(default_factory=time.monotonic)

    @property
    def running(self) -> bool:
        return self.state == "running"

    def left(self, now: float | None = None) -> float:
        """Seconds of the PK left now (counting down from the server's ``remaining``)."""
        if not self.running:
            return 0.0
        return max(0.0, self.remaining - ((time.monotonic() if now is None else now) - self.received))

    def side(self, room_id: str) -> PkSide | None:
        return next((s for s in self.sides if s.roomID == room_id), None)

    def other(self, room_id: str) -> PkSide | None:
        """The side that is not ``room_id``'s."""
        return next((s for s in self.sides if s.roomID != room_id), None)

    @classmethod
    def from_wire(cls, d: Any) -> "PkInfo | None":
        """None for null or anything malformed."""
        if not isinstance(d, dict) or not isinstance(d.get("rooms"), list) or len(d["rooms"]) != 2:
            return None
        sides = []
        for r in d["rooms"]:
            if not isinstance(r, dict) or not isinstance(r.get("roomID"), str):
                return None
            sides.append(PkSide(str(r["roomID"]), str(r.get("userID") or ""), str(r.get("userName") or ""),
                                str(r.get("userAvatar") or ""), str(r.get("accelerateURL") or ""),
                                int(_num(r.get("score")))))
        state = d.get("state")
        if state not in ("running", "ended"):
            return None
        return cls(str(d.get("pkID") or ""), str(state), _num(d.get("duration")), _num(d.get("remaining")),
                   (sides[0], sides[1]), str(d.get("reason") or ""), str(d.get("endedBy") or ""),
                   str(d.get("winner") or ""))
