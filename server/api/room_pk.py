"""RoomService PK (主播 PK) between two live rooms: consent tickets, the PK record, scores from likes.

Commands (each ``POST /roomservice/{cmd}``, caller = the token's user):

- ``request_pk {roomID: the other room, duration?}``: the caller (creator of a room of its own)
  invites that room's creator. Stores the ticket ``pkreq:{own}:{other}`` for ``pk_ticket_ttl`` s.
  ``duration`` seconds, ``pk_duration_min``..``pk_duration_max``, default ``pk_duration`` (180).
- ``accept_pk {roomID: the inviter's room}``: the invitee (creator of its own room) starts the PK.
  Needs the inviter's ticket (used once): a PK cannot be forced on an anchor, nor started for an
  inviter who did not ask. Both rooms must exist and be in no running PK (643 otherwise).
- ``end_pk {roomID: own room}``: either creator ends the running PK (reason ``ended``).
- ``get_pk {roomID}``: anyone: ``{"pk": record}`` or ``{"pk": null}``.

The record (what ``get_pk`` returns, and :meth:`PkOps.state` gives in-process readers such as a
mixer)::

    {"pkID": str, "state": "running" | "ended", "startTime": epoch s, "duration": s,
     "remaining": s left (0 once ended), "endTime": epoch s (0 while running),
     "reason": "" | "time" | "ended" | "left" | "dropped", "endedBy": roomID or "",
     "winner": roomID of the higher score once ended ("" while running or on a draw),
     "rooms": [{"roomID", "userID", "userName", "userAvatar", "accelerateURL", "score"}, x2]}

``rooms[0]`` is the inviter. ``score`` counts the likes sent in that room's IM group (and praise
``inc`` by non-creators via ``set_custom_field``) since the PK started; frozen when it ends. A PK
ends when its time is up (``time``), a creator calls ``end_pk`` (``ended``), a room is destroyed
or its creator misses heartbeats (``left``), or a room's stream stops (``dropped``). An ended
record stays readable for ``pk_result_ttl`` s so every viewer sees the result.

Storage: ticket key ``pkreq:A:B`` -> duration; hash ``pk`` roomID -> pkID; hash ``pkrec``
pkID -> record JSON (without URLs and live scores); hash ``pkscore:{pkID}`` roomID -> likes.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from typing import TYPE_CHECKING, Any

from protocol.errors import ApiCode
from server.api.common import ApiError

if TYPE_CHECKING:
    from server.api.roomservice import RoomService

log = logging.getLogger(__name__)

RUNNING, ENDED = "running", "ended"


def _ticket(inviter: str, invitee: str) -> str:
    return f"pkreq:{inviter}:{invitee}"


class PkOps:
    def __init__(self, svc: "RoomService") -> None:
        self.svc = svc
        self.kv = svc.kv

    @property
    def handlers(self) -> dict[str, Any]:
        return {"request_pk": self.request_pk, "accept_pk": self.accept_pk, "end_pk": self.end_pk,
                "get_pk": self.get_pk}

    # --- helpers ----------------------------------------------------------------------------

    async def _own_room(self, uid: str) -> dict[str, Any]:
        raw = await self.kv.hget("rooms", self.svc.own_room_id(uid))
        if raw is None:
            raise ApiError(ApiCode.ROOM_NO_PERMISSION, "only the creator of a live room may PK")
        return json.loads(raw)

    async def _record(self, rid: str) -> dict[str, Any] | None:
        pid = await self.kv.hget("pk", rid)
        raw = await self.kv.hget("pkrec", pid) if pid else None
        return json.loads(raw) if raw else None

    async def _busy(self, rid: str) -> bool:
        rec = await self._record(rid)
        return rec is not None and rec["state"] == RUNNING and not self._due(rec)

    @staticmethod
    def _due(rec: dict[str, Any], now: float | None = None) -> bool:
        return (time.time() if now is None else now) >= rec["startTime"] + rec["duration"]

    def _duration(self, body: dict[str, Any]) -> int:
        st = self.svc.settings
        v = body.get("duration", st.pk_duration)
        if not isinstance(v, int) or isinstance(v, bool) or not st.pk_duration_min <= v <= st.pk_duration_max:
            raise ApiError(ApiCode.INVALID_PARAMETER,
                           f"duration must be an integer in {st.pk_duration_min}..{st.pk_duration_max}")
        return v

    async def _view(self, rec: dict[str, Any]) -> dict[str, Any]:
        """The public record: live scores while running, URLs fresh for this reply."""
        now = time.time()
        if rec["state"] == RUNNING:
            live = await self.kv.hgetall(f"pkscore:{rec['pkID']}")
            scores = {r: int(live.get(r, 0)) for r in rec["rooms"]}
            remaining = max(0.0, rec["startTime"] + rec["duration"] - now)
        else:
            scores, remaining = rec["scores"], 0.0
        rooms = [{"roomID": r, "userID": u, "userName": n, "userAvatar": a,
                  "accelerateURL": self.svc.ops._play_urls(u)[0], "score": scores.get(r, 0)}
                 for r, u, n, a in zip(rec["rooms"], rec["anchors"], rec["names"], rec["avatars"])]
        return {"pkID": rec["pkID"], "state": rec["state"], "startTime": rec["startTime"],
                "duration": rec["duration"], "remaining": round(remaining, 1), "endTime": rec.get("endTime", 0),
                "reason": rec.get("reason", ""), "endedBy": rec.get("endedBy", ""),
                "winner": rec.get("winner", ""), "rooms": rooms}

    async def _end(self, rid: str, reason: str, by: str = "") -> dict[str, Any] | None:
        """End ``rid``'s running PK (freezing the scores); the record, or None when none ran."""
        async with self.svc.ops.locked("pk"):
            rec = await self._record(rid)
            if rec is None or rec["state"] != RUNNING:
                return rec
            if reason != "time" and self._due(rec):
                reason, by = "time", ""  # it was over already; the end is the timer's
            live = await self.kv.hgetall(f"pkscore:{rec['pkID']}")
            scores = {r: int(live.get(r, 0)) for r in rec["rooms"]}
            a, b = (scores[r] for r in rec["rooms"])
            end = min(time.time(), rec["startTime"] + rec["duration"])
            rec.update(state=ENDED, scores=scores, reason=reason, endedBy=by, endTime=end,
                       winner="" if a == b else rec["rooms"][0 if a > b else 1])
            await self.kv.hset("pkrec", rec["pkID"], json.dumps(rec, ensure_ascii=False))
            await self.kv.delete(f"pkscore:{rec['pkID']}")
        log.info("PK %s %s ended (%s): %s", rec["pkID"], " vs ".join(rec["rooms"]), reason, scores)
        for r in rec["rooms"]:
            await self.svc.sync_mix(r)  # back to each room's own stream (or its co-host mix)
        return rec

    # --- commands ---------------------------------------------------------------------------

    async def request_pk(self, uid: str, body: dict[str, Any]) -> dict[str, Any]:
        own = await self._own_room(uid)
        other = await self.svc.ops._room(body)
        if other["roomID"] == own["roomID"]:
            raise ApiError(ApiCode.INVALID_PARAMETER, "a room cannot PK itself")
        duration = self._duration(body)
        if await self._busy(own["roomID"]) or await self._busy(other["roomID"]):
            raise ApiError(ApiCode.PK_BUSY)
        ttl = max(1, self.svc.settings.pk_ticket_ttl)
        await self.kv.setex(_ticket(own["roomID"], other["roomID"]), ttl, str(duration))
        return {"expires": ttl, "duration": duration}

    async def accept_pk(self, uid: str, body: dict[str, Any]) -> dict[str, Any]:
        own = await self._own_room(uid)
        inviter = await self.svc.ops._room(body)
        key = _ticket(inviter["roomID"], own["roomID"])
        async with self.svc.ops.locked("pk"):
            duration = await self.kv.get(key)
            if duration is None:
                raise ApiError(ApiCode.ROOM_NO_PERMISSION, "that room has not invited you to a PK")
            if await self._busy(own["roomID"]) or await self._busy(inviter["roomID"]):
                raise ApiError(ApiCode.PK_BUSY)
            await self.kv.delete(key)  # used once
            a, b = inviter["pushers"][0], own["pushers"][0]
            rec: dict[str, Any] = {"pkID": secrets.token_hex(6), "state": RUNNING, "startTime": time.time(),
                   "duration": int(duration), "rooms": [inviter["roomID"], own["roomID"]],
                   "anchors": [inviter["roomCreator"], uid], "names": [a["userName"], b["userName"]],
                   "avatars": [a["userAvatar"], b["userAvatar"]]}
            for r in rec["rooms"]:
                old = await self.kv.hget("pk", r)
                if old:
                    await self._forget(old)
            await self.kv.hset("pkrec", rec["pkID"], json.dumps(rec, ensure_ascii=False))
            for r in rec["rooms"]:
                await self.kv.hset("pk", r, rec["pkID"])
        log.info("PK %s started: %s vs %s, %d s", rec["pkID"], *rec["rooms"], rec["duration"])
        for r in rec["rooms"]:
            await self.svc.sync_mix(r)  # both rooms' viewers get the side-by-side mix
        return {"pk": await self._view(rec)}

    async def running(self, rid: str) -> dict[str, Any] | None:
        """Room ``rid``'s PK record while it runs (time not up), else None."""
        rec = await self._record(rid)
        return rec if rec is not None and rec["state"] == RUNNING and not self._due(rec) else None

    async def end_pk(self, uid: str, body: dict[str, Any]) -> dict[str, Any]:
        room = await self.svc.ops._room(body)
        if room["roomCreator"] != uid:
            raise ApiError(ApiCode.ROOM_NO_PERMISSION, "only the room's creator ends its PK")
        rec = await self._end(room["roomID"], "ended", room["roomID"])
        return {"pk": await self._view(rec) if rec else None}

    async def get_pk(self, uid: str, body: dict[str, Any]) -> dict[str, Any]:
        room = body.get("roomID")
        if not isinstance(room, str) or not room or len(room) > 64:
            raise ApiError(ApiCode.INVALID_PARAMETER, "roomID is required")
        return {"pk": await self.state(room)}

    # --- hooks for RoomService --------------------------------------------------------------

    async def state(self, rid: str) -> dict[str, Any] | None:
        """The PK record of room ``rid`` (running, or ended within ``pk_result_ttl``), or None."""
        rec = await self._record(rid)
        if rec is None:
            return None
        if rec["state"] == RUNNING and self._due(rec):
            rec = await self._end(rid, "time") or rec
        return await self._view(rec)

    async def on_praise(self, rid: str, n: int) -> None:
        """Likes sent in room ``rid``: they count for its side of a running PK."""
        rec = await self._record(rid)
        if rec is not None and rec["state"] == RUNNING and not self._due(rec) and n > 0:
            await self.kv.hincrby(f"pkscore:{rec['pkID']}", rid, n)

    async def on_room_gone(self, rid: str, reason: str) -> None:
        """Room removed (``left``) or its stream stopped (``dropped``): its running PK ends."""
        if await self.kv.hget("pk", rid) is not None:
            await self._end(rid, reason, rid)

    async def sweep(self, now: float) -> None:
        """End PKs whose time is up; forget results older than ``pk_result_ttl``."""
        for pid, raw in (await self.kv.hgetall("pkrec")).items():
            rec = json.loads(raw)
            if rec["state"] == RUNNING and self._due(rec, now):
                await self._end(rec["rooms"][0], "time")
            elif rec["state"] == ENDED and now - rec["endTime"] > self.svc.settings.pk_result_ttl:
                async with self.svc.ops.locked("pk"):
                    await self._forget(pid)

    async def _forget(self, pid: str) -> None:
        """(pk lock held) Drop record ``pid`` and the rooms' pointers to it."""
        raw = await self.kv.hget("pkrec", pid)
        if raw:
            for r in json.loads(raw)["rooms"]:
                if await self.kv.hget("pk", r) == pid:
                    await self.kv.hdel("pk", r)
        await self.kv.hdel("pkrec", pid)
        await self.kv.delete(f"pkscore:{pid}")
