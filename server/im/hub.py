"""The IM hub: local connections, AVChatRoom group semantics, limits and fan-out.

Shared facts (groups, members, sequence numbers, history, presence) live in a
:class:`~server.im.state.SharedState`; this node keeps only its own connections and, per group,
which of them are members, so a message is encoded once and queued to each local member.
Other nodes get the same frame through :meth:`SharedState.publish`.

C2C messages are never dropped silently: one for a registered user who is not connected to this
node with an open connection is stored in the user's offline inbox first and then the node the
user is logged in on (if any) is told to deliver the inbox (a ``{"t": "in"}`` event). Redis
pub/sub is at-most-once, so that notice can be lost (a subscriber reconnecting, a sender dying
after the store): the inbox stays, and the user's node drains it at its next heartbeat (within
``node_heartbeat`` seconds; :mod:`server.im.redis_nodes`) or at the user's next login. A frame a
closing connection did not write goes back to the inbox the same way. Group messages, tips and
notices stay best effort (history covers group messages: ``get_history``).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from contextvars import ContextVar
from typing import Any, Protocol

from protocol import im
from protocol.errors import ImCode
from protocol.signing import userid_from_stream_id
from server.im.conn import CLOSE_KICKED, Conn, node_of
from server.im.delivery import DeliveryStats
from server.im.limits import LimitTable
from server.im.moderation import Moderation
from server.im.settings import ImSettings
from server.im.state import JoinResult, Profile, SharedState
from server.im.tips import TipCoalescer, TipEvent

log = logging.getLogger(__name__)


class HubObserver(Protocol):
    def message_sent(self, gid: str, sender: Profile, meaning: im.AppMessage, t_ms: int) -> None: ...
    def member_joined(self, gid: str, uid: str, first_time: bool, owner: str) -> None: ...
    def message_removed(self, gid: str, frame: dict[str, Any]) -> None: ...


_MAX_HOPS = 2  # a "u" event is re-routed at most once when its user moved to another node meanwhile
_OWN_LIMITS = frozenset({"ping", "send_group_msg", "send_c2c_msg"})  # not counted as other ops
Reply = tuple[int, str, dict[str, Any]]
KnownUser = Callable[[str], Awaitable[bool]]
Handler = Callable[[Conn, dict[str, Any]], Awaitable[Reply]]
# when the request being handled was received (wall clock; set per request in the reader's task)
_RECEIVED: ContextVar[float | None] = ContextVar("im_received", default=None)


def _ok(**result: Any) -> Reply:
    return ImCode.OK, "", result


def _err(code: ImCode, message: str = "") -> Reply:
    return code, message, {}


class Hub:
    def __init__(self, state: SharedState, settings: ImSettings, observer: HubObserver | None = None,
                 known: KnownUser | None = None, live_bizid: str | None = None) -> None:
        """``known`` says whether an identifier is a registered user (may get an offline inbox);
        ``live_bizid``: the server's bizid; group ids ``{live_bizid}_{userid}`` (live rooms) can then
        be created only by that userid."""
        self.state = state
        self.live_bizid = live_bizid
        self._squat_logged = 0.0
        self.settings = settings
        self.observer = observer
        self.known = known  # is this identifier a registered user (may get an offline inbox)?
        self.conns: dict[str, Conn] = {}
        self.stats: DeliveryStats | None = None  # server-side delivery figures, when configured
        self.local: dict[str, dict[str, Conn]] = {}  # group id -> local members
        self.limits = LimitTable(settings)  # per identity: a reconnect does not refill the buckets
        self.tips = TipCoalescer(self._send_tips, settings.tips_interval, settings.tips_batch_max,
                                 settings.tips_burst)
        self._tasks: set[asyncio.Task[None]] = set()
        self._ops: dict[str, Handler] = {
            "create_group": self._create_group, "join_group": self._join_group,
            "quit_group": self._quit_group, "dismiss_group": self._dismiss_group,
            "send_group_msg": self._send_group_msg, "send_c2c_msg": self._send_c2c_msg,
            "get_group_members": self._get_members, "get_history": self._get_history,
            "ping": self._ping,
        }
        self.moderation = Moderation(self)
        self._ops.update(self.moderation.ops())

    # --- connection lifecycle ---------------------------------------------------------------

    async def attach(self, conn: Conn) -> None:
        """Register a logged-in connection; a previous login of the same user is kicked."""
        uid = conn.identifier
        old = self.conns.get(uid)
        if old is not None:
            await self.kick(old, "login elsewhere")
        self.conns[uid] = conn
        conn.stats = self.stats
        conn.on_overflow = lambda c: self._spawn(self.detach(c))
        conn.on_unsent = lambda c, frames: self._spawn(self._keep(c.identifier, frames))
        prev = await self.state.set_online(uid, conn.key)
        if prev and prev != conn.key and (old is None or prev != old.key):
            await self.state.publish({"t": "kick", "uid": uid, "conn": prev})
        # after set_online: a message stored before this drains here, one stored after finds the
        # presence and notifies this node (to_user), so none waits for the next login
        await self.drain_inbox(conn)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain_inbox(self, conn: Conn) -> None:
        """Send the user's waiting C2C messages on ``conn``; those it cannot take go back."""
        frames = await self.state.inbox_take(conn.identifier)
        for i, frame in enumerate(frames):
            if not conn.send(frame, keep=True):
                await self._keep(conn.identifier, frames[i:])
                return

    async def _keep(self, uid: str, frames: list[str]) -> None:
        """C2C frames that were not delivered: back into the inbox, then have them delivered."""
        try:
            if self.known is not None and not await self.known(uid):
                log.warning("IM: %d messages for %s lost with its connection (not a registered user)",
                            len(frames), uid)
                return
            for frame in frames:
                await self.state.inbox_push(uid, frame)
            await self._notify(uid)
        except Exception:
            log.exception("IM: could not keep %d undelivered messages for %s", len(frames), uid)

    async def _notify(self, uid: str) -> None:
        """Messages wait in ``uid``'s inbox: the node the user is logged in on delivers them now
        (nobody: at the next login). A lost notice is caught up by that node's heartbeat."""
        c = self.conns.get(uid)
        if c is not None and c.accepting:
            await self.drain_inbox(c)
            return
        try:
            key = await self.state.presence(uid)
            if key is not None and node_of(key) != self.state.node_id:
                await self.state.publish({"t": "in", "uid": uid, "conn": key})
        except Exception as e:  # the message is stored: delivered at the next beat or login
            log.warning("IM: could not notify the node of %s about waiting messages: %s", uid, e)

    async def detach(self, conn: Conn) -> None:
        """Forget a connection that closed: leave its groups (quit tips), clear presence."""
        uid = conn.identifier
        if self.conns.get(uid) is conn:
            del self.conns[uid]
            await self.state.clear_online(uid, conn.key)
        for gid in list(conn.groups):
            await self._leave(conn, gid)

    async def kick(self, conn: Conn, reason: str) -> None:
        conn.send(im.kicked_frame(reason))
        conn.close(CLOSE_KICKED, reason)
        if self.conns.get(conn.identifier) is conn:
            del self.conns[conn.identifier]
        for gid in list(conn.groups):
            await self._leave(conn, gid)

    # --- delivery ---------------------------------------------------------------------------

    def deliver_local(self, gid: str, frame: str, exclude: str | None = None, received: float | None = None) -> int:
        """``received``: when the origin node received the message (wall clock), for :attr:`stats`."""
        n = 0
        for uid, c in list(self.local.get(gid, {}).items()):
            if uid != exclude and c.send(frame, received):
                n += 1
        if received is not None and self.stats is not None:
            self.stats.fanouts += 1
        return n

    async def fan_out(self, gid: str, frame: str, exclude: str | None = None, received: float | None = None) -> None:
        self.deliver_local(gid, frame, exclude, received)
        await self.state.publish({"t": "g", "gid": gid, "frame": frame, "exclude": exclude, "rx": received})

    async def on_bus_event(self, ev: dict[str, Any]) -> None:
        """An event published by another node, or (``lost``) a member of a dead node swept away."""
        t = ev.get("t")
        if t == "g":
            rx = ev.get("rx")
            self.deliver_local(ev["gid"], ev["frame"], ev.get("exclude"), rx if isinstance(rx, float) else None)
        elif t == "u":
            key = ev.get("conn")
            if key is None:  # from a node that does not address connections: best effort
                c = self.conns.get(ev["uid"])
                if c is not None:
                    c.send(ev["frame"])
            elif node_of(key) == self.state.node_id:
                await self.to_user(ev["uid"], ev["frame"], bool(ev.get("inbox")), int(ev.get("hops", _MAX_HOPS)))
        elif t == "in":  # messages wait in the inbox of a user logged in here (or a heartbeat found them)
            key = ev.get("conn")
            c = self.conns.get(ev["uid"])
            if isinstance(key, str) and node_of(key) == self.state.node_id and c is not None and c.accepting:
                await self.drain_inbox(c)
        elif t == "dismiss":
            self.tips.forget(ev["gid"])
            self._drop_local_group(ev["gid"], ev["frame"], ev.get("exclude"))
        elif t == "kick":
            c = self.conns.get(ev["uid"])
            if c is not None and c.key == ev.get("conn"):
                await self.kick(c, "login elsewhere")
        elif t == "mod_evict":
            await self.moderation.on_bus_event(ev)
        elif t == "lost":
            await self.tips.add(ev["gid"], TipEvent("quit", ev["uid"], ev["nickname"], ev["avatar"]), int(ev["count"]))

    async def to_user(self, uid: str, frame: str, inbox: bool, hops: int = 0) -> bool:
        """Send a frame to a user wherever they are logged in. With ``inbox`` (C2C messages) to a
        registered user it is written to an open connection of this node or stored in the user's
        inbox and then delivered by the user's node (see the module doc), so it is never lost
        silently. A user who is not registered gets it only while logged in (False when not:
        nothing is kept); other frames (tips) are best effort."""
        c = self.conns.get(uid)
        if c is not None and c.send(frame, keep=inbox):
            return True
        if inbox and (self.known is None or await self.known(uid)):
            await self.state.inbox_push(uid, frame)
            await self._notify(uid)
            return True
        key = await self.state.presence(uid)
        if key is not None and node_of(key) != self.state.node_id and hops < _MAX_HOPS:
            await self.state.publish({"t": "u", "uid": uid, "conn": key, "frame": frame, "inbox": False,
                                      "hops": hops + 1})
            return True
        return not inbox

    def _drop_local_group(self, gid: str, frame: str, exclude: str | None) -> None:
        members = self.local.pop(gid, {})
        for uid, c in members.items():
            c.groups.discard(gid)
            if uid != exclude:
                c.send(frame)

    def _add_local(self, gid: str, conn: Conn) -> None:
        self.local.setdefault(gid, {})[conn.identifier] = conn
        conn.groups.add(gid)

    def _remove_local(self, gid: str, conn: Conn) -> None:
        members = self.local.get(gid)
        if members is not None and members.get(conn.identifier) is conn:
            del members[conn.identifier]
            if not members:
                del self.local[gid]
        conn.groups.discard(gid)

    # --- requests ---------------------------------------------------------------------------

    async def handle(self, conn: Conn, req: im.Request, received: float | None = None) -> str:
        """Answer one request; ``received``: when its frame was read (wall clock)."""
        _RECEIVED.set(received)
        if req.op not in _OWN_LIMITS and not self.limits.get(conn.identifier).op.take():
            return im.reply_frame(req.id, ImCode.RATE_LIMITED, "too many requests")
        code, message, result = await self._ops[req.op](conn, req.args)
        return im.reply_frame(req.id, code, message, **result)

    async def _ping(self, conn: Conn, a: dict[str, Any]) -> Reply:
        return _ok(time=int(time.time()))

    async def _join(self, conn: Conn, gid: str, owner: str) -> tuple[str, int]:
        result, count, first = await self.state.add_member(gid, conn.profile, conn.key)
        self._add_local(gid, conn)
        if result == JoinResult.ADDED:
            p = conn.profile
            await self.tips.add(gid, TipEvent("join", p.identifier, p.nickname, p.avatar), count)
        if self.observer is not None:
            self.observer.member_joined(gid, conn.identifier, first, owner)
        return result, count

    async def _leave(self, conn: Conn, gid: str) -> None:
        self._remove_local(gid, conn)
        removed, count = await self.state.remove_member(gid, conn.identifier, conn.key)
        if removed:
            p = conn.profile
            await self.tips.add(gid, TipEvent("quit", p.identifier, p.nickname, p.avatar), count)

    async def _send_tips(self, gid: str, events: list[TipEvent], more: int, count: int | None) -> None:
        """Send join/quit tips (one event: the classic frame, else a batch; coalesced by
        :class:`TipCoalescer`). They go to every member while the group is small; in a big room only
        the owner gets them (N joins would otherwise cost N^2 frames), viewers poll
        get_group_members."""
        if count is None:
            count = await self.state.member_count(gid)
        subject: str | None = None
        if len(events) == 1 and not more:
            e = events[0]
            subject = e.identifier
            frame = im.group_tips_frame(gid, e.event, e.identifier, e.nickname, e.avatar, count)
        else:
            frame = im.group_tips_batch_frame(gid, [e.as_dict() for e in events], more, count)
        info = await self.state.get_group(gid) if count > self.settings.tips_all_max else None
        if info is None:
            await self.fan_out(gid, frame, exclude=subject)
        elif info.owner != subject:
            await self.to_user(info.owner, frame, inbox=False)

    def live_room_owner(self, gid: str) -> str | None:
        """The userid a live-room group id ``{bizid}_{userid}`` of this server belongs to, else None."""
        uid = userid_from_stream_id(gid)
        if uid is None or self.live_bizid is None or gid != f"{self.live_bizid}_{uid}":
            return None
        return uid

    async def _create_group(self, conn: Conn, a: dict[str, Any]) -> Reply:
        gid, me = a["group_id"], conn.identifier
        rightful = self.live_room_owner(gid)
        if rightful is not None and rightful != me:
            now = time.monotonic()
            if now - self._squat_logged > 10.0:  # one line per 10 s at most: a refusal loop cannot flood
                self._squat_logged = now
                log.warning("%s may not create %s: a live room's group belongs to its anchor", me, gid)
            return _err(ImCode.NO_PERMISSION, "a live room's group can be created only by its anchor")
        owner = await self.state.create_group(gid, me, a["name"])
        if owner is not None and owner != me:
            return _err(ImCode.GROUP_ID_TAKEN)
        _, count = await self._join(conn, gid, me)
        if owner == me:
            return ImCode.GROUP_ID_ALREADY_YOURS, "", {"group_id": gid, "member_count": count}
        log.info("group %s created by %s", gid, me)
        return _ok(group_id=gid, member_count=count)

    async def _join_group(self, conn: Conn, a: dict[str, Any]) -> Reply:
        gid = a["group_id"]
        info = await self.state.get_group(gid)
        if info is None:
            return _err(ImCode.GROUP_NOT_FOUND)
        if await self.moderation.store.is_banned(gid, conn.identifier):
            return _err(ImCode.BANNED)
        result, count = await self._join(conn, gid, info.owner)
        if result == JoinResult.ALREADY:
            return ImCode.ALREADY_MEMBER, "", {"member_count": count}
        return _ok(member_count=count, owner=info.owner, name=info.name)

    async def _quit_group(self, conn: Conn, a: dict[str, Any]) -> Reply:
        gid = a["group_id"]
        info = await self.state.get_group(gid)
        if info is None:
            return _err(ImCode.GROUP_NOT_FOUND)
        if gid not in conn.groups:
            return _err(ImCode.NO_PERMISSION, "not a member")
        if info.owner == conn.identifier:
            return _err(ImCode.NO_PERMISSION, "the owner cannot quit; dismiss the group instead")
        await self._leave(conn, gid)
        return _ok()

    async def dismiss(self, gid: str, by: str | None = None) -> bool:
        """Dismiss a group: every member but ``by`` gets ``group_dismissed``. False if unknown."""
        if not await self.state.delete_group(gid):
            return False
        self.tips.forget(gid)
        frame = im.group_dismissed_frame(gid)
        self._drop_local_group(gid, frame, by)
        await self.state.publish({"t": "dismiss", "gid": gid, "frame": frame, "exclude": by})
        log.info("group %s dismissed by %s", gid, by or "the system")
        return True

    async def _dismiss_group(self, conn: Conn, a: dict[str, Any]) -> Reply:
        gid = a["group_id"]
        info = await self.state.get_group(gid)
        if info is None:
            return _err(ImCode.GROUP_NOT_FOUND)
        if info.owner != conn.identifier:
            return _err(ImCode.NO_PERMISSION, "only the owner may dismiss the group")
        await self.dismiss(gid, conn.identifier)
        return _ok()

    async def _member_or_error(self, conn: Conn, gid: str) -> Reply | None:
        if gid in conn.groups:
            return None
        if await self.state.get_group(gid) is None:
            return _err(ImCode.GROUP_NOT_FOUND)
        return _err(ImCode.NO_PERMISSION, "not a member")

    def _limited(self, conn: Conn, meaning: im.AppMessage) -> bool:
        limits = self.limits.get(conn.identifier)
        bucket = limits.like if meaning.kind is im.MsgKind.LIKE else limits.msg
        return not bucket.take()

    async def _send_group_msg(self, conn: Conn, a: dict[str, Any]) -> Reply:
        gid, meaning = a["group_id"], a["meaning"]
        if (err := await self._member_or_error(conn, gid)) is not None:
            return err
        if self._limited(conn, meaning):
            return _err(ImCode.RATE_LIMITED, "likes are limited to 2/s" if meaning.kind is im.MsgKind.LIKE
                        else "sending too fast")
        refused, elems, meaning = await self.moderation.screen(conn.identifier, gid, a["elems"], meaning)
        if refused is not None:
            return refused
        now_ms = int(time.time() * 1000)
        p = conn.profile
        seq, frame = await self.state.append_message(
            gid, lambda s: im.group_msg_frame(gid, p.identifier, p.nickname, p.avatar, s, now_ms // 1000,
                                              elems))
        await self.fan_out(gid, frame, exclude=p.identifier, received=_RECEIVED.get())
        if self.observer is not None:
            self.observer.message_sent(gid, p, meaning, now_ms)
        if elems is not a["elems"]:  # words were masked: the sender shows what everyone got
            return _ok(seq=seq, time=now_ms // 1000, elems=elems)
        return _ok(seq=seq, time=now_ms // 1000)

    async def _send_c2c_msg(self, conn: Conn, a: dict[str, Any]) -> Reply:
        if self._limited(conn, im.AppMessage(im.MsgKind.CUSTOM)):
            return _err(ImCode.RATE_LIMITED, "sending too fast")
        to, p, now = a["to"], conn.profile, int(time.time())
        frame = im.c2c_msg_frame(p.identifier, p.nickname, p.avatar, now, a["elems"])
        if not await self.to_user(to, frame, inbox=True):
            return _err(ImCode.RECIPIENT_UNKNOWN)
        return _ok(time=now)

    async def _get_members(self, conn: Conn, a: dict[str, Any]) -> Reply:
        if (err := await self._member_or_error(conn, a["group_id"])) is not None:
            return err
        members, total = await self.state.members(a["group_id"], a["offset"], a["count"])
        return _ok(members=members, total=total)

    async def _get_history(self, conn: Conn, a: dict[str, Any]) -> Reply:
        if (err := await self._member_or_error(conn, a["group_id"])) is not None:
            return err
        frames = await self.state.history(a["group_id"], a["count"])
        return _ok(messages=[json.loads(f) for f in frames])
