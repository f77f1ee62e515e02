"""IM moderation ops (wire in :mod:`protocol.im`): mute, ban, admins, message removal, slow mode,
word lists and reports. The group's owner and the admins it appoints are "staff".

State lives in a :class:`~server.im.modstate.ModState` (in-process or Redis, shared by all nodes);
the hub calls :meth:`Moderation.screen` on every group send and :meth:`Moderation.on_bus_event`
for a ban issued on another node.
"""

from __future__ import annotations

import json
import logging
import time
from typing import TYPE_CHECKING, Any

from protocol import im
from protocol.errors import ImCode, im_message
from server.im.conn import Conn
from server.im.modstate import SendCheck, mod_state_for
from server.im.state import GroupInfo, frame_seq
from server.im.wordfilter import compile_words, mask_elems

if TYPE_CHECKING:
    from server.im.hub import Handler, Hub, Reply

log = logging.getLogger(__name__)

OWNER, ADMIN, MEMBER = "owner", "admin", "member"


def _err(code: ImCode, message: str = "", **result: Any) -> "Reply":
    return code, message or im_message(code), result


def _ok(**result: Any) -> "Reply":
    return ImCode.OK, "", result


class Moderation:
    def __init__(self, hub: "Hub") -> None:
        self.hub = hub
        self.store = mod_state_for(hub.state, hub.settings.moderation_ttl)
        self.deploy_words = tuple(hub.settings.banned_words)
        self._reported: dict[str, float] = {}  # reporter -> last report (monotonic), per node

    def ops(self) -> dict[str, "Handler"]:
        return {"mute_member": self._mute, "ban_member": self._ban, "unban_member": self._unban,
                "set_admin": self._set_admin, "remove_group_msg": self._remove_msg,
                "set_room_config": self._set_config, "get_room_config": self._get_config,
                "report_msg": self._report, "get_reports": self._get_reports}

    # --- the send path ----------------------------------------------------------------------

    async def screen(self, uid: str, gid: str, elems: list[dict[str, Any]], meaning: im.AppMessage
                     ) -> tuple["Reply | None", list[dict[str, Any]], im.AppMessage]:
        """Refuse a send (banned 10050, muted 10017, slow mode 10051) or mask listed words."""
        chk = await self.store.check_send(gid, uid)
        if chk.verdict != "ok":
            return self._refusal(chk), elems, meaning
        rx = compile_words(self.deploy_words + (tuple(json.loads(chk.words)) if chk.words else ()))
        elems, meaning = mask_elems(elems, meaning, rx)
        return None, elems, meaning

    @staticmethod
    def _refusal(chk: SendCheck) -> "Reply":
        if chk.verdict == "banned":
            return _err(ImCode.BANNED)
        if chk.verdict == "muted":
            left = max(1, chk.wait - int(time.time()))
            return _err(ImCode.MUTED, f"you are muted in this room for {left} more seconds", until=chk.wait)
        secs = max(1, (chk.wait + 999) // 1000)
        return _err(ImCode.SLOW_MODE, f"slow mode: wait {secs} seconds before sending again", wait_ms=chk.wait)

    # --- roles ------------------------------------------------------------------------------

    async def _role(self, gid: str, uid: str) -> tuple[GroupInfo | None, str]:
        info = await self.hub.state.get_group(gid)
        if info is None:
            return None, MEMBER
        if info.owner == uid:
            return info, OWNER
        return info, ADMIN if await self.store.is_admin(gid, uid) else MEMBER

    async def _staff(self, conn: Conn, gid: str, owner_only: bool = False) -> tuple["Reply | None", str]:
        info, role = await self._role(gid, conn.identifier)
        if info is None:
            return _err(ImCode.GROUP_NOT_FOUND), role
        if role == MEMBER or (owner_only and role != OWNER):
            return _err(ImCode.NO_PERMISSION, "only the room's owner" + ("" if owner_only else " or admins")
                        + " may do this"), role
        return None, role

    async def _target(self, conn: Conn, gid: str, target: str, owner_only: bool = False) -> "Reply | None":
        """Refusal unless the caller is staff and may act on ``target``."""
        err, role = await self._staff(conn, gid, owner_only)
        if err is not None:
            return err
        _, trole = await self._role(gid, target)
        if target == conn.identifier or trole == OWNER or (trole == ADMIN and role != OWNER):
            return _err(ImCode.NO_PERMISSION, "you may not moderate this member")
        return None

    async def _announce(self, gid: str, event: str, uid: str = "", until: int = 0, by: str = "") -> None:
        await self.hub.fan_out(gid, im.group_mod_frame(gid, event, uid, until, by))

    # --- ops --------------------------------------------------------------------------------

    async def _mute(self, conn: Conn, a: dict[str, Any]) -> "Reply":
        gid, target, secs = a["group_id"], a["identifier"], a["seconds"]
        if (err := await self._target(conn, gid, target)) is not None:
            return err
        until = int(time.time()) + secs if secs else 0
        await self.store.mute(gid, target, until)
        await self._announce(gid, "mute", target, until, conn.identifier)
        log.info("%s muted %s in %s for %d s", conn.identifier, target, gid, secs)
        return _ok(until=until)

    async def _ban(self, conn: Conn, a: dict[str, Any]) -> "Reply":
        gid, target = a["group_id"], a["identifier"]
        if (err := await self._target(conn, gid, target)) is not None:
            return err
        await self.store.ban(gid, target, True)
        await self._announce(gid, "ban", target, 0, conn.identifier)
        await self.evict(gid, target)
        await self.hub.state.publish({"t": "mod_evict", "gid": gid, "uid": target})
        log.info("%s banned %s from %s", conn.identifier, target, gid)
        return _ok()

    async def evict(self, gid: str, uid: str) -> None:
        """Remove a banned member's connection on this node from the group."""
        c = self.hub.local.get(gid, {}).get(uid)
        if c is not None:
            await self.hub._leave(c, gid)

    async def on_bus_event(self, ev: dict[str, Any]) -> None:
        if ev.get("t") == "mod_evict":
            await self.evict(str(ev["gid"]), str(ev["uid"]))

    async def _unban(self, conn: Conn, a: dict[str, Any]) -> "Reply":
        gid, target = a["group_id"], a["identifier"]
        if (err := await self._target(conn, gid, target)) is not None:
            return err
        await self.store.ban(gid, target, False)
        await self._announce(gid, "unban", target, 0, conn.identifier)
        return _ok()

    async def _set_admin(self, conn: Conn, a: dict[str, Any]) -> "Reply":
        gid, target = a["group_id"], a["identifier"]
        if (err := await self._target(conn, gid, target, owner_only=True)) is not None:
            return err
        await self.store.set_admin(gid, target, a["admin"])
        await self._announce(gid, "admin" if a["admin"] else "unadmin", target, 0, conn.identifier)
        return _ok()

    async def _remove_msg(self, conn: Conn, a: dict[str, Any]) -> "Reply":
        gid, seq = a["group_id"], a["seq"]
        err, _ = await self._staff(conn, gid)
        if err is not None:
            return err
        frame = await self.hub.state.remove_message(gid, seq)
        if frame is None:
            return _err(ImCode.MESSAGE_NOT_FOUND)
        await self.hub.fan_out(gid, im.group_msg_removed_frame(gid, seq))
        if self.hub.observer is not None:
            self.hub.observer.message_removed(gid, json.loads(frame))
        log.info("%s removed message %d in %s", conn.identifier, seq, gid)
        return _ok()

    async def _set_config(self, conn: Conn, a: dict[str, Any]) -> "Reply":
        gid = a["group_id"]
        err, _ = await self._staff(conn, gid)
        if err is not None:
            return err
        cfg = await self.store.set_config(gid, a.get("slow_mode"), a.get("words"))
        await self._announce(gid, "config", "", 0, conn.identifier)
        return _ok(slow_mode=cfg.slow_mode, words=list(cfg.words))

    async def _get_config(self, conn: Conn, a: dict[str, Any]) -> "Reply":
        gid = a["group_id"]
        info, role = await self._role(gid, conn.identifier)
        if info is None:
            return _err(ImCode.GROUP_NOT_FOUND)
        cfg = await self.store.config(gid)
        out: dict[str, Any] = {"role": role, "slow_mode": cfg.slow_mode}
        if role != MEMBER:
            out.update(words=list(cfg.words), **await self.store.lists(gid))
        return _ok(**out)

    async def _report(self, conn: Conn, a: dict[str, Any]) -> "Reply":
        gid, seq, me = a["group_id"], a["seq"], conn.identifier
        if (err := await self.hub._member_or_error(conn, gid)) is not None:
            return err
        now = time.monotonic()
        if now - self._reported.get(me, -1e9) < self.hub.settings.report_interval:
            return _err(ImCode.RATE_LIMITED, "one report every few seconds")
        if len(self._reported) > 100_000:
            self._reported.clear()
        self._reported[me] = now
        frames = await self.hub.state.history(gid, self.hub.settings.history_size)
        doc = next((json.loads(f) for f in frames if frame_seq(f) == seq), None)
        if doc is None:
            return _err(ImCode.MESSAGE_NOT_FOUND)
        text = im.classify_elems(doc.get("elems")).text
        report = {"reporter": me, "seq": seq, "from": doc.get("from", ""), "text": text, "reason": a["reason"],
                  "time": int(time.time())}
        await self.store.add_report(gid, report)
        log.warning("report in %s by %s: message %d from %s %r, reason %r", gid, me, seq, report["from"],
                    text[:80], a["reason"])
        return _ok()

    async def _get_reports(self, conn: Conn, a: dict[str, Any]) -> "Reply":
        err, _ = await self._staff(conn, a["group_id"])
        if err is not None:
            return err
        return _ok(reports=await self.store.reports(a["group_id"]))
