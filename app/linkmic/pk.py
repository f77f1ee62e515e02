"""PK between two live anchors (主播 PK), the anchor's side; Qt-free.

Wire: the ``pk_*`` types of :mod:`protocol.linkmic`; server record: :mod:`server.api.room_pk`.
Feed every :class:`~app.im.messages.ImMessage` of the anchor's IM client to :meth:`handle_message`
(it only decodes and queues; safe on the IM reader thread). A C2C ``pk_*`` signal counts only
when its sender is the creator of the room it names (a room id is ``{bizid}_{userid}``).

Inviting: :meth:`invite` calls RoomService ``request_pk`` (the ticket), sends ``pk_request`` and
waits ``answer_timeout`` (+1 s) for ``pk_accept`` / ``pk_reject``; on time out it sends ``pk_end``.
Invited: ``on_invite`` gets a :class:`PkInvite`; answer with :meth:`accept` (RoomService
``accept_pk`` starts the PK, then ``pk_accept``) or :meth:`reject`; unanswered after
``answer_timeout`` it is rejected "timeout". While inviting or in a PK, invitations are rejected
"busy". Running: both anchors send ``pk_update`` to their own group, poll ``get_pk`` every
``poll_interval`` s and at the PK's end, and report each record through ``on_pk``; the PK is over
when the server says so (time up, the other side's ``end_pk``, a room gone or a stream dropped).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from app.api.client import ApiError
from app.api.pk import PkInfo
from app.api.roomservice import RoomServiceClient
from app.im.client import ImClient
from app.im.messages import ImError, ImMessage
from app.linkmic.base import Engine, log
from app.linkmic.worker import TimerHandle, guarded
from protocol.linkmic import BUSY, PK_TYPES, REASONS, REJECTED, TIMEOUT, LinkMicMsg, LinkMicType, decode, encode
from protocol.signing import userid_from_stream_id


class PkState(Enum):
    IDLE = "idle"
    INVITING = "inviting"
    RUNNING = "running"
    ENDED = "ended"


@dataclass(frozen=True)
class PkInvite:
    """An incoming PK invitation."""

    room_id: str  # the inviter's room
    user_id: str
    user_name: str
    user_avatar: str
    deadline: float  # time.monotonic() when it is rejected "timeout"


class AnchorPK(Engine):
    TIMEOUT_GRACE = 1.0
    END_GRACE = 0.3  # poll this long after the PK's local end time

    def __init__(self, im: ImClient, rooms: RoomServiceClient, room_id: str, *, duration: int = 180,
                 answer_timeout: float = 10.0, poll_interval: float = 3.0) -> None:
        super().__init__(im, rooms, room_id, "pk")
        self.duration, self.answer_timeout = int(duration), float(answer_timeout)
        self.poll_interval = float(poll_interval)
        self.state = PkState.IDLE
        self.peer_room = self.peer_user = ""  # while INVITING / RUNNING
        self.info: PkInfo | None = None  # the last record seen
        self.on_state: Callable[[PkState, str], None] | None = None
        self.on_invite: Callable[[PkInvite], None] | None = None
        self.on_invite_gone: Callable[[str, str], None] | None = None  # (room id, why)
        self.on_pk: Callable[[PkInfo], None] | None = None
        self._lock = threading.Lock()
        self._invite: PkInvite | None = None  # the one pending incoming invitation
        self._invite_timer: TimerHandle | None = None
        self._timer: TimerHandle | None = None  # our invitation's time out, or the next poll
        self._end_timer: TimerHandle | None = None
        self._attempt = 0

    # --- public API -------------------------------------------------------------------------

    def handle_message(self, msg: ImMessage) -> bool:
        """Take any IM message; True when it was a PK signal (handled or ignored)."""
        m = decode(msg.elems)
        if m is None or m.type not in PK_TYPES:
            return False
        if (msg.c2c and not msg.self_sent and msg.sender != self.me and not self.closed
                and m.type is not LinkMicType.PK_UPDATE and userid_from_stream_id(m.room_id) == msg.sender):
            self._worker.post(self._on_signal, msg.sender, msg.nickname, m)
        return True

    def pending(self) -> PkInvite | None:
        with self._lock:
            return self._invite

    def invite(self, room_id: str, user_id: str) -> None:
        """Invite ``room_id``'s creator ``user_id`` (IDLE/ENDED only). Returns at once."""
        self._worker.post(self._start_invite, room_id, user_id)

    def cancel(self) -> None:
        """Withdraw our invitation."""
        self._worker.post(self._cancel, "cancelled")

    def accept(self, room_id: str) -> None:
        self._worker.post(self._accept, room_id)

    def reject(self, room_id: str, reason: str = REJECTED) -> None:
        self._worker.post(self._reject, room_id, reason if reason in REASONS else REJECTED)

    def end(self) -> None:
        """End the running PK for both sides (RoomService ``end_pk``, C2C ``pk_end``)."""
        self._worker.post(self._end)

    def close(self) -> None:
        """End or withdraw whatever is going on, reject a pending invitation, stop the worker."""
        self._worker.stop(last=self._goodbye)

    # --- worker: inviting -------------------------------------------------------------------

    def _set(self, state: PkState, detail: str = "") -> None:
        self.state = state
        if state in (PkState.IDLE, PkState.ENDED):
            self.peer_room = self.peer_user = ""
            for t in (self._timer, self._end_timer):
                if t is not None:
                    t.cancel()
            self._timer = self._end_timer = None
        guarded("on_state", self.on_state, state, detail)

    def _start_invite(self, room_id: str, user_id: str) -> None:
        if self.state in (PkState.INVITING, PkState.RUNNING):
            log.info("pk: %s already %s", self.me, self.state.value)
            return
        if room_id == self.room_id or userid_from_stream_id(room_id) != user_id:
            self._set(PkState.ENDED, "not another anchor's room")
            return
        self._attempt += 1
        self.peer_room, self.peer_user = room_id, user_id
        self.state = PkState.INVITING
        try:
            self.rooms.request_pk(room_id, self.duration)
        except ApiError as e:
            self._set(PkState.ENDED, str(e))
            return
        if not self._send(user_id, LinkMicType.PK_REQUEST):
            self._set(PkState.ENDED, "cannot reach the anchor")
            return
        self._timer = self._worker.call_at(time.monotonic() + self.answer_timeout + self.TIMEOUT_GRACE,
                                           self._expire, self._attempt)
        self._set_keep(PkState.INVITING)

    def _set_keep(self, state: PkState, detail: str = "") -> None:
        """Report ``state`` without clearing the peer."""
        self.state = state
        guarded("on_state", self.on_state, state, detail)

    def _expire(self, attempt: int) -> None:
        if self.state is PkState.INVITING and attempt == self._attempt:
            self._cancel(TIMEOUT)

    def _cancel(self, why: str) -> None:
        if self.state is PkState.INVITING:
            self._send(self.peer_user, LinkMicType.PK_END)
            self._set(PkState.ENDED, why)

    # --- worker: invited --------------------------------------------------------------------

    def _on_signal(self, uid: str, nickname: str, m: LinkMicMsg) -> None:
        if m.type is LinkMicType.PK_REQUEST:
            self._on_request(uid, m.user_name or nickname or uid, m.user_avatar, m.room_id)
        elif m.type is LinkMicType.PK_ACCEPT:
            self._on_accept(m.room_id)
        elif m.type is LinkMicType.PK_REJECT:
            if self.state is PkState.INVITING and m.room_id == self.peer_room:
                self._set(PkState.ENDED, m.reason or REJECTED)
        elif m.type is LinkMicType.PK_END:
            self._on_end(m.room_id)

    def _on_request(self, uid: str, name: str, avatar: str, room_id: str) -> None:
        with self._lock:
            busy = self.state in (PkState.INVITING, PkState.RUNNING) or (
                self._invite is not None and self._invite.room_id != room_id)
            if not busy:
                fresh = self._invite is None
                if self._invite_timer is not None:
                    self._invite_timer.cancel()
                self._invite = PkInvite(room_id, uid, name, avatar, time.monotonic() + self.answer_timeout)
                self._invite_timer = self._worker.call_at(self._invite.deadline, self._invite_expired,
                                                          self._invite)
                invite = self._invite
        if busy:
            self._send(uid, LinkMicType.PK_REJECT, BUSY)
        elif fresh:
            guarded("on_invite", self.on_invite, invite)

    def _take_invite(self, room_id: str) -> PkInvite | None:
        with self._lock:
            inv = self._invite
            if inv is None or inv.room_id != room_id:
                return None
            if self._invite_timer is not None:
                self._invite_timer.cancel()
            self._invite, self._invite_timer = None, None
            return inv

    def _invite_expired(self, inv: PkInvite) -> None:
        with self._lock:
            if self._invite is not inv:
                return
        self._reject(inv.room_id, TIMEOUT)
        guarded("on_invite_gone", self.on_invite_gone, inv.room_id, TIMEOUT)

    def _reject(self, room_id: str, reason: str) -> None:
        inv = self._take_invite(room_id)
        if inv is not None:
            self._send(inv.user_id, LinkMicType.PK_REJECT, reason)

    def _accept(self, room_id: str) -> None:
        inv = self._take_invite(room_id)
        if inv is None:
            log.info("pk: no invitation from %s to accept", room_id)
            return
        try:
            info = self.rooms.accept_pk(room_id)
        except ApiError as e:
            log.warning("pk: accept_pk(%s) failed: %s", room_id, e)
            self._send(inv.user_id, LinkMicType.PK_REJECT, BUSY)
            guarded("on_invite_gone", self.on_invite_gone, room_id, str(e))
            return
        self.peer_room, self.peer_user = room_id, inv.user_id
        self._send(inv.user_id, LinkMicType.PK_ACCEPT)
        self._started(info)

    # --- worker: running --------------------------------------------------------------------

    def _on_accept(self, room_id: str) -> None:
        if self.state is PkState.INVITING and room_id == self.peer_room:
            self._poll(starting=True)
            return
        # a late accept (we gave up): end what the server started, if it is ours
        info = self._get()
        if info is not None and info.running and info.side(room_id) is not None and self.state is not PkState.RUNNING:
            self._quietly("end_pk", self.rooms.end_pk, self.room_id)
            self._send(userid_from_stream_id(room_id) or "", LinkMicType.PK_END)

    def _on_end(self, room_id: str) -> None:
        with self._lock:
            pending = self._invite is not None and self._invite.room_id == room_id
        if pending:
            self._take_invite(room_id)
            guarded("on_invite_gone", self.on_invite_gone, room_id, "cancelled")
        elif room_id == self.peer_room and self.state is PkState.RUNNING:
            self._poll()

    def _get(self) -> PkInfo | None:
        try:
            return self.rooms.get_pk(self.room_id)
        except ApiError as e:
            log.warning("pk: get_pk failed: %s", e)
            return None

    def _started(self, info: PkInfo | None) -> None:
        if info is None or not info.running or info.side(self.peer_room) is None:
            self._set(PkState.ENDED, "the PK did not start")
            return
        self.info = info
        self._set_keep(PkState.RUNNING)
        self._notify_update()
        guarded("on_pk", self.on_pk, info)
        self._schedule(info)

    def _schedule(self, info: PkInfo) -> None:
        if self._timer is not None:
            self._timer.cancel()
        now = time.monotonic()
        self._timer = self._worker.call_at(now + self.poll_interval, self._poll)
        if self._end_timer is None:
            self._end_timer = self._worker.call_at(now + info.left(now) + self.END_GRACE, self._poll)

    def _poll(self, starting: bool = False) -> None:
        if self.state not in (PkState.RUNNING, PkState.INVITING) or (self.state is PkState.INVITING) != starting:
            return
        info = self._get()
        if starting:
            self._started(info)
            return
        if info is not None and self.info is not None and info.pkID == self.info.pkID and info.running:
            self.info = info
            guarded("on_pk", self.on_pk, info)
            self._schedule(info)
        elif info is None and self.info is not None and self.info.left() > 0 and not self._gone():
            self._schedule(self.info)  # a failed poll: try again later
        else:
            self._finish(info)

    def _gone(self) -> bool:
        """True when RoomService answers get_pk with no PK (the record is gone, not unreachable)."""
        try:
            return self.rooms.get_pk(self.room_id) is None
        except ApiError:
            return False

    def _finish(self, info: PkInfo | None) -> None:
        if info is not None and self.info is not None and info.pkID == self.info.pkID:
            self.info = info
            guarded("on_pk", self.on_pk, info)
        self._notify_update()
        self._set(PkState.ENDED, info.reason if info is not None and info.pkID == getattr(self.info, "pkID", "")
                  else "ended")

    def _end(self) -> None:
        if self.state is PkState.INVITING:
            self._cancel("cancelled")
        elif self.state is PkState.RUNNING:
            peer = self.peer_user
            try:
                info = self.rooms.end_pk(self.room_id)
            except ApiError as e:
                log.warning("pk: end_pk failed: %s", e)
                info = None
            self._send(peer, LinkMicType.PK_END)
            self._finish(info)

    def _goodbye(self) -> None:
        inv = self.pending()
        if inv is not None:
            self._reject(inv.room_id, REJECTED)
        self._end()

    def _notify_update(self) -> None:
        """Tell our room's group that its PK changed."""
        try:
            self.im.send_custom(self.room_id, encode(self._msg(LinkMicType.PK_UPDATE)))
        except ImError as e:
            log.warning("pk: cannot send the pk_update notice to %s: %s", self.room_id, e)
