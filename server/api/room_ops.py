"""RoomService commands (SPEC section 4). Each takes (caller userid, JSON body) -> reply data.

Storage layout in the :class:`~server.api.room_store.RoomKV`: hash ``rooms`` roomID -> room JSON
{roomID, roomCreator, roomInfo, created, pushers[userID, userName, userAvatar]}; hash ``hb:R``
userID -> last heartbeat; hash ``aud:R`` userID -> {userInfo, t}; hash ``custom:R`` field -> value;
hash ``live`` streamID -> start time; key ``cohost:R:U`` (with TTL) -> the creator's co-host
ticket for user U (``accept_anchor``), consumed by U's ``add_anchor``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

from protocol.errors import ApiCode
from protocol.signing import accelerate_url, play_urls, push_url, valid_userid
from server.api.common import ApiError
from server.api.room_guard import PraiseLimiter
from server.api.room_store import LockTimeout
from server.db.models import User

if TYPE_CHECKING:
    from server.api.roomservice import RoomService
    from server.media.edges import Edge

Handler = Callable[[str, dict[str, Any]], Awaitable[dict[str, Any]]]

MAX_ROOM_INFO = 2048
MAX_FIELDS = 16
MAX_FIELD_VALUE = 256
MAX_NAME = 64
MAX_AVATAR = 512
PRAISE = "praise"


def _ticket_key(rid: str, uid: str) -> str:
    """KV key of the co-host ticket ``accept_anchor`` gives ``uid`` in room ``rid``."""
    return f"cohost:{rid}:{uid}"


def _str(body: dict[str, Any], key: str, limit: int, default: str = "") -> str:
    v = body.get(key, default)
    if v is None:
        v = default
    if not isinstance(v, str) or len(v) > limit:
        raise ApiError(ApiCode.INVALID_PARAMETER, f"{key} must be a string of at most {limit} characters")
    return v


def _int(body: dict[str, Any], key: str, lo: int, hi: int, default: int) -> int:
    v = body.get(key, default)
    if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
        raise ApiError(ApiCode.INVALID_PARAMETER, f"{key} must be an integer in {lo}..{hi}")
    return v


def _room_info(body: dict[str, Any]) -> str:
    """roomInfo as the JSON string {title, frontcover, location} (an object is accepted too)."""
    v = body.get("roomInfo", "")
    if isinstance(v, dict):
        v = json.dumps(v, ensure_ascii=False)
    if not isinstance(v, str) or len(v) > MAX_ROOM_INFO:
        raise ApiError(ApiCode.INVALID_PARAMETER, f"roomInfo must be a JSON string under {MAX_ROOM_INFO} chars")
    if v:
        try:
            doc = json.loads(v)
        except ValueError:
            doc = {"title": v}  # a bare title, as older clients send
        if not isinstance(doc, dict):
            raise ApiError(ApiCode.INVALID_PARAMETER, "roomInfo must be a JSON object")
        v = json.dumps({k: str(doc.get(k, "")) for k in ("title", "frontcover", "location")}, ensure_ascii=False)
    return v or json.dumps({"title": "", "frontcover": "", "location": ""})


class RoomOps:
    def __init__(self, svc: "RoomService") -> None:
        self.svc = svc
        self.kv = svc.kv
        self.handlers: dict[str, Handler] = {
            "get_room_list": self.get_room_list, "get_anchor_url": self.get_anchor_url,
            "create_room": self.create_room, "destroy_room": self.destroy_room,
            "add_anchor": self.add_anchor, "delete_anchor": self.delete_anchor,
            "get_anchors": self.get_anchors, "anchor_heartbeat": self.anchor_heartbeat,
            "add_audience": self.add_audience, "delete_audience": self.delete_audience,
            "get_audiences": self.get_audiences, "set_custom_field": self.set_custom_field,
            "get_custom_info": self.get_custom_info, "accept_anchor": self.accept_anchor,
        }
        st = svc.settings
        self.praise_limit = PraiseLimiter(st.praise_rate, st.praise_burst)

    # --- helpers ----------------------------------------------------------------------------

    async def _room(self, body: dict[str, Any]) -> dict[str, Any]:
        rid = body.get("roomID")
        if not isinstance(rid, str) or not rid or len(rid) > 64:
            raise ApiError(ApiCode.INVALID_PARAMETER, "roomID is required")
        raw = await self.kv.hget("rooms", rid)
        if raw is None:
            raise ApiError(ApiCode.ROOM_NOT_FOUND)
        return json.loads(raw)

    @contextlib.asynccontextmanager
    async def locked(self, rid: str) -> AsyncIterator[None]:
        """Serialise read-modify-writes of one room's record (co-hosts joining at once must not
        overwrite each other, nor a room removed meanwhile come back)."""
        try:
            async with self.kv.lock(f"room:{rid}"):
                yield
        except LockTimeout:
            raise ApiError(ApiCode.UPDATE_FAILED, "the room is busy; try again") from None

    async def _save(self, room: dict[str, Any]) -> None:
        await self.kv.hset("rooms", room["roomID"], json.dumps(room, ensure_ascii=False))

    async def _profile(self, uid: str, body: dict[str, Any]) -> tuple[str, str]:
        name, avatar = _str(body, "userName", MAX_NAME), _str(body, "userAvatar", MAX_AVATAR)
        if name and avatar:
            return name, avatar

        def load() -> tuple[str, str]:
            with self.svc.ctx.db.session() as s:
                u = s.get(User, uid)
                return (u.nickname, u.avatar) if u else ("", "")

        db_name, db_avatar = await asyncio.to_thread(load)
        return name or db_name or uid, avatar or db_avatar

    def _push_url(self, uid: str) -> str:
        """``uid``'s own push URL (with the push txSecret): only ever returned to ``uid`` itself."""
        cfg = self.svc.ctx.config
        exp = int(time.time()) + cfg.live.push_url_ttl
        return push_url(cfg.public_host, cfg.public_rtmp_port, cfg.live.push_key, cfg.live.bizid,
                        self.svc.own_room_id(uid), exp, tls=cfg.public_tls)

    def _play_urls(self, uid: str) -> tuple[str, str]:
        """(accelerate URL, FLV play URL) of ``uid``'s stream: play-only, safe to show anyone."""
        cfg = self.svc.ctx.config
        sid = self.svc.own_room_id(uid)
        exp = int(time.time()) + cfg.live.push_url_ttl
        tls = cfg.public_tls
        return (accelerate_url(cfg.public_host, cfg.public_rtmp_port, cfg.live.push_key, cfg.live.bizid, sid, exp, tls),
                play_urls(cfg.public_host, cfg.public_rtmp_port, cfg.public_http_port, sid, tls).flv)

    def _viewer_urls(self, sid: str, edges: "list[Edge] | None") -> list[str]:
        """Where a viewer plays stream ``sid``, failover order: the ranked ``[edges]`` (RTMP;
        nginx-rtmp edges have no HTTP-FLV), then the origin's own FLV URL."""
        cfg = self.svc.ctx.config
        flv = play_urls(cfg.public_host, cfg.public_rtmp_port, cfg.public_http_port, sid, cfg.public_tls).flv
        return [e.play_url(sid) for e in edges or []] + [flv]

    def _edge_order(self) -> "list[Edge]":
        edges = self.svc.ctx.edges
        return edges.order() if edges is not None else []

    async def _audience_count(self, rid: str) -> int:
        im = self.svc.ctx.im
        n = await im.audience_count(rid) if im is not None else None
        return n if n is not None else await self.kv.hlen(f"aud:{rid}")

    async def _public(self, room: dict[str, Any], edges: "list[Edge] | None" = None) -> dict[str, Any]:
        """A room as others see it; ``edges`` (one :meth:`_edge_order` per reply) ranks its play URLs:
        ``playURLs`` is the viewer's failover list, ``mixedPlayURL`` its first entry: the room's
        mixed stream while it has one (co-hosts), else the anchor's. ``anchorPlayURLs`` is always
        the anchor's own list (our client plays it and shows co-hosts itself, from their
        ``accelerateURL``, which stays on the origin: lowest latency)."""
        rid = room["roomID"]
        custom = await self.kv.hgetall(f"custom:{rid}")
        pushers = [dict(p, accelerateURL=self._play_urls(p["userID"])[0]) for p in room["pushers"]]
        own = self._viewer_urls(self.svc.own_room_id(room["roomCreator"]), edges)
        mixed = await self.svc.mixed_stream(room)
        urls = self._viewer_urls(mixed, edges) if mixed else own
        return {"roomID": rid, "roomInfo": room["roomInfo"], "roomCreator": room["roomCreator"],
                "mixedPlayURL": urls[0], "playURLs": urls, "anchorPlayURLs": own, "pushers": pushers,
                "audienceCount": await self._audience_count(rid), "custom": custom}

    async def drop_pushers(self, rid: str, uids: list[str]) -> None:
        async with self.locked(rid):
            raw = await self.kv.hget("rooms", rid)
            if raw is None:
                return
            room = json.loads(raw)
            room["pushers"] = [p for p in room["pushers"] if p["userID"] not in uids]
            await self._save(room)
            await self.kv.hdel(f"hb:{rid}", *uids)
        await self.svc.sync_mix(rid)

    # --- commands ---------------------------------------------------------------------------

    async def get_room_list(self, uid: str, body: dict[str, Any]) -> dict[str, Any]:
        index = _int(body, "index", 0, 10**6, 0)
        cnt = _int(body, "cnt", 1, 100, 20)
        live = await self.kv.hgetall("live")
        rooms = [json.loads(r) for r in (await self.kv.hgetall("rooms")).values()]
        rooms = sorted((r for r in rooms if r["roomID"] in live), key=lambda r: r["created"], reverse=True)
        page = rooms[index:index + cnt]
        edges = self._edge_order() if page else []
        return {"rooms": [await self._public(r, edges) for r in page], "total": len(rooms)}

    async def get_anchor_url(self, uid: str, body: dict[str, Any]) -> dict[str, Any]:
        """The caller's OWN stream URLs: the only reply that carries a push URL."""
        accel, flv = self._play_urls(uid)
        return {"pushURL": self._push_url(uid), "accelerateURL": accel, "playURL": flv,
                "streamID": self.svc.own_room_id(uid)}

    async def create_room(self, uid: str, body: dict[str, Any]) -> dict[str, Any]:
        rid = self.svc.own_room_id(uid)
        asked = body.get("roomID")
        if asked not in (None, "", rid):
            raise ApiError(ApiCode.INVALID_PARAMETER, f"a user's room id is its stream id {rid}")
        info = _room_info(body)
        name, avatar = await self._profile(uid, body)
        async with self.locked(rid):
            raw = await self.kv.hget("rooms", rid)
            if raw is not None:
                room = json.loads(raw)
                room["roomInfo"] = info
                room["pushers"][0].update(userName=name, userAvatar=avatar)
            else:
                room = {"roomID": rid, "roomCreator": uid, "roomInfo": info, "created": time.time(),
                        "pushers": [{"userID": uid, "userName": name, "userAvatar": avatar}]}
                await self.kv.delete(f"aud:{rid}", f"custom:{rid}")
                await self.kv.hset(f"custom:{rid}", "praise", "0")
            await self._save(room)
            await self.kv.hset(f"hb:{rid}", uid, str(time.time()))
        return {"roomID": rid}

    async def destroy_room(self, uid: str, body: dict[str, Any]) -> dict[str, Any]:
        room = await self._room(body)
        if room["roomCreator"] != uid:
            raise ApiError(ApiCode.ROOM_NO_PERMISSION, "only the creator may destroy the room")
        await self.svc.remove_room(room["roomID"])
        return {}

    async def add_anchor(self, uid: str, body: dict[str, Any]) -> dict[str, Any]:
        room = await self._room(body)
        name, avatar = await self._profile(uid, body)  # (a DB read: outside the room's lock)
        async with self.locked(room["roomID"]):
            room = await self._room(body)  # again, now that nobody else is changing it
            if all(p["userID"] != uid for p in room["pushers"]):
                ticket = _ticket_key(room["roomID"], uid)
                if await self.kv.get(ticket) is None:
                    raise ApiError(ApiCode.ROOM_NO_PERMISSION, "the anchor has not accepted you as a co-host")
                if len(room["pushers"]) - 1 >= self.svc.settings.max_cohosts:
                    raise ApiError(ApiCode.ROOM_FULL)
                room["pushers"].append({"userID": uid, "userName": name, "userAvatar": avatar})
                await self._save(room)
                await self.kv.delete(ticket)  # used once
            await self.kv.hset(f"hb:{room['roomID']}", uid, str(time.time()))
        await self.svc.sync_mix(room["roomID"])
        return {"pushers": (await self._public(room))["pushers"]}

    async def accept_anchor(self, uid: str, body: dict[str, Any]) -> dict[str, Any]:
        """Creator only: let ``userID`` join as co-host with one ``add_anchor`` within the ticket TTL."""
        room = await self._room(body)
        target = body.get("userID")
        if not valid_userid(target):
            raise ApiError(ApiCode.INVALID_PARAMETER, "userID is not a valid user id")
        if room["roomCreator"] != uid:
            raise ApiError(ApiCode.ROOM_NO_PERMISSION, "only the creator accepts co-hosts")
        if target == uid:
            raise ApiError(ApiCode.INVALID_PARAMETER, "the creator is already an anchor")
        ttl = max(1, self.svc.settings.cohost_ticket_ttl)
        await self.kv.setex(_ticket_key(room["roomID"], target), ttl, str(int(time.time()) + ttl))
        return {"expires": ttl}

    async def delete_anchor(self, uid: str, body: dict[str, Any]) -> dict[str, Any]:
        room = await self._room(body)
        target = body.get("userID") or uid
        if not valid_userid(target):
            raise ApiError(ApiCode.INVALID_PARAMETER, "userID is not a valid user id")
        if target == room["roomCreator"]:
            raise ApiError(ApiCode.ROOM_NO_PERMISSION, "the creator leaves with destroy_room")
        if uid not in (target, room["roomCreator"]):
            raise ApiError(ApiCode.ROOM_NO_PERMISSION, "only the creator may remove another co-host")
        await self.kv.delete(_ticket_key(room["roomID"], target))  # a kick also revokes an accept
        await self.drop_pushers(room["roomID"], [target])
        return {}

    async def get_anchors(self, uid: str, body: dict[str, Any]) -> dict[str, Any]:
        return {"pushers": (await self._public(await self._room(body)))["pushers"]}

    async def anchor_heartbeat(self, uid: str, body: dict[str, Any]) -> dict[str, Any]:
        room = await self._room(body)
        if all(p["userID"] != uid for p in room["pushers"]):
            raise ApiError(ApiCode.ROOM_NO_PERMISSION, "not an anchor of this room")
        await self.kv.hset(f"hb:{room['roomID']}", uid, str(time.time()))
        return {}

    async def add_audience(self, uid: str, body: dict[str, Any]) -> dict[str, Any]:
        room = await self._room(body)
        key = f"aud:{room['roomID']}"
        info = _str(body, "userInfo", 1024)
        await self.kv.hset(key, uid, json.dumps({"userInfo": info, "t": time.time()}, ensure_ascii=False))
        cap = self.svc.settings.audience_cap
        if await self.kv.hlen(key) > cap:
            entries = sorted((json.loads(v)["t"], k) for k, v in (await self.kv.hgetall(key)).items())
            await self.kv.hdel(key, *(k for _, k in entries[: len(entries) - cap]))
        return {}

    async def delete_audience(self, uid: str, body: dict[str, Any]) -> dict[str, Any]:
        room = await self._room(body)
        await self.kv.hdel(f"aud:{room['roomID']}", uid)
        return {}

    async def get_audiences(self, uid: str, body: dict[str, Any]) -> dict[str, Any]:
        room = await self._room(body)
        entries = [(json.loads(v), k) for k, v in (await self.kv.hgetall(f"aud:{room['roomID']}")).items()]
        entries.sort(key=lambda e: e[0]["t"], reverse=True)
        shown = entries[: self.svc.settings.audience_list]
        return {"audiences": [{"userID": k, "userInfo": d["userInfo"]} for d, k in shown],
                "total": await self._audience_count(room["roomID"])}

    async def set_custom_field(self, uid: str, body: dict[str, Any]) -> dict[str, Any]:
        room = await self._room(body)
        rid = room["roomID"]
        field = _str(body, "fieldName", 32)
        op = body.get("operation", "set")
        if not field:
            raise ApiError(ApiCode.INVALID_PARAMETER, "fieldName is required")
        if uid != room["roomCreator"]:
            self._check_praise(rid, uid, field, op, body)
        custom = await self.kv.hgetall(f"custom:{rid}")
        if field not in custom and len(custom) >= MAX_FIELDS:
            raise ApiError(ApiCode.INVALID_PARAMETER, f"at most {MAX_FIELDS} custom fields")
        if op == "set":
            if uid != room["roomCreator"]:
                raise ApiError(ApiCode.ROOM_NO_PERMISSION, "only the creator may set a field")
            value = body.get("value", "")
            value = str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value
            if not isinstance(value, str) or len(value) > MAX_FIELD_VALUE:
                raise ApiError(ApiCode.INVALID_PARAMETER, f"value must be a string of at most {MAX_FIELD_VALUE}")
            await self.kv.hset(f"custom:{rid}", field, value)
        elif op in ("inc", "dec"):
            n = _int(body, "value", 1, 1000, 1)
            if field == PRAISE and op == "inc":
                await self.svc.count_likes(rid, n)  # the one like counter (also the replay's)
                return {"custom": await self.kv.hgetall(f"custom:{rid}")}
            try:
                await self.kv.hincrby(f"custom:{rid}", field, n if op == "inc" else -n)
            except Exception:
                raise ApiError(ApiCode.INVALID_PARAMETER, f"{field} is not a number") from None
            if field == PRAISE and op == "inc" and uid != room["roomCreator"]:
                await self.svc.pk.on_praise(rid, n)  # a viewer's like counts for a running PK
        else:
            raise ApiError(ApiCode.INVALID_PARAMETER, "operation must be set, inc or dec")
        return {"custom": await self.kv.hgetall(f"custom:{rid}")}

    def _check_praise(self, rid: str, uid: str, field: str, op: object, body: dict[str, Any]) -> None:
        """A non-creator may only ``inc`` ``praise`` by 1..praise_step_max, ``praise_rate`` times a second."""
        if field != PRAISE or op != "inc":
            raise ApiError(ApiCode.ROOM_NO_PERMISSION, "only the creator may change this field")
        _int(body, "value", 1, max(1, self.svc.settings.praise_step_max), 1)
        if not self.praise_limit.allow(rid, uid):
            raise ApiError(ApiCode.TOO_MANY_REQUESTS, "praise is limited per user; slow down")

    async def get_custom_info(self, uid: str, body: dict[str, Any]) -> dict[str, Any]:
        room = await self._room(body)
        return {"custom": await self.kv.hgetall(f"custom:{room['roomID']}")}
