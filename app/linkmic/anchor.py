"""The anchor's side of co-hosting: incoming requests, answers, the co-host list.

Feed every :class:`~app.im.messages.ImMessage` of the anchor's IM client to :meth:`handle_message`
(it only decodes and queues; safe on the IM reader thread). Requests are answered with
:meth:`accept` (RoomService ``accept_anchor`` first: the server-side ticket the viewer's
``add_anchor`` needs) / :meth:`reject`, or rejected with "timeout" after ``answer_timeout``. At most
``max_cohosts`` viewers are accepted or linked at once; one more accept sends reject "full".
Co-hosts are refreshed from RoomService ``get_anchors`` when a co-host's group ``pushers`` notice
or ``end`` arrives, after a kick, and every :attr:`REFRESH_INTERVAL` seconds while there are
co-hosts (RoomService drops a co-host that stops its heartbeat).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from app.api.client import ApiError
from app.api.roomservice import Pusher, RoomServiceClient
from app.im.client import ImClient
from app.im.messages import ImMessage
from app.linkmic.base import Engine, log
from app.linkmic.types import LinkMicError, LinkRequest
from app.linkmic.worker import TimerHandle, guarded
from protocol.linkmic import BUSY, FULL, REASONS, REJECTED, TIMEOUT, LinkMicMsg, LinkMicType


class AnchorLinkMic(Engine):
    REFRESH_INTERVAL = 10.0  # get_anchors while there are co-hosts
    ACCEPT_GRACE = 15.0  # an accepted viewer not listed by get_anchors after this long is dropped
    MAX_PENDING = 20  # more waiting requests than this are rejected "busy"

    def __init__(self, im: ImClient, rooms: RoomServiceClient, room_id: str, *,
                 max_cohosts: int = 3, answer_timeout: float = 10.0) -> None:
        super().__init__(im, rooms, room_id, "anchor")
        self.max_cohosts, self.answer_timeout = int(max_cohosts), float(answer_timeout)
        self.on_request: Callable[[LinkRequest], None] | None = None
        self.on_request_gone: Callable[[str, str], None] | None = None
        self.on_cohosts: Callable[[list[Pusher]], None] | None = None
        self._lock = threading.Lock()
        self._refreshing = threading.RLock()
        self._pending: dict[str, LinkRequest] = {}
        self._timers: dict[str, TimerHandle] = {}
        self._accepted: dict[str, float] = {}  # user -> monotonic time of the accept, not listed yet
        self._linked: set[str] = set()  # co-hosts get_anchors listed last time
        self._tick: TimerHandle | None = None

    # --- public API -------------------------------------------------------------------------

    def handle_message(self, msg: ImMessage) -> bool:
        """Take any IM message; True when it was a linkmic message (handled or ignored)."""
        m = self._signal(msg)
        if m is False:
            return False
        if isinstance(m, LinkMicMsg):
            self._worker.post(self._on_signal, msg.sender, msg.nickname, m)
        return True

    def pending(self) -> list[LinkRequest]:
        """Requests waiting for an answer, oldest first."""
        with self._lock:
            return list(self._pending.values())

    def cohost_ids(self) -> list[str]:
        """Users accepted or linked now (what counts against ``max_cohosts``)."""
        with self._lock:
            return sorted(self._linked | set(self._accepted))

    def accept(self, user_id: str) -> None:
        """Accept a pending request (reject "full" when ``max_cohosts`` are already in). Returns at once."""
        self._worker.post(self._accept, user_id)

    def reject(self, user_id: str, reason: str = REJECTED) -> None:
        self._worker.post(self._reject, user_id, reason if reason in REASONS else REJECTED)

    def kick(self, user_id: str) -> None:
        """Remove a co-host: RoomService delete_anchor, C2C kick, group pushers notice. Returns at once."""
        self._worker.post(self._kick, user_id)

    def refresh(self) -> list[Pusher]:
        """The co-hosts (anchor excluded) from RoomService; also given to ``on_cohosts``. Blocking;
        raises :class:`LinkMicError`."""
        return self._refresh(always=True)

    def close(self) -> None:
        """C2C ``end`` to every co-host, reject the pending requests, stop the worker (waits for these
        last messages, a few seconds at most)."""
        self._worker.stop(last=self._goodbye)

    # --- worker -----------------------------------------------------------------------------

    def _count(self) -> int:
        return len(self._linked | set(self._accepted))

    def _known(self, uid: str) -> bool:
        return uid in self._linked or uid in self._accepted

    def _on_signal(self, uid: str, nickname: str, m: LinkMicMsg) -> None:
        if m.type is LinkMicType.REQUEST:
            self._on_request(uid, m.user_name or nickname or uid, m.user_avatar)
        elif m.type is LinkMicType.CANCEL:
            with self._lock:
                req = self._drop_pending(uid)
                known = self._known(uid)
            if req is not None:
                guarded("on_request_gone", self.on_request_gone, uid, "cancelled")
            elif known:  # cancelled while our accept was on its way
                self._on_end(uid)
        elif m.type is LinkMicType.END:
            with self._lock:
                known = self._known(uid)
            if known:
                self._on_end(uid)
        elif m.type is LinkMicType.PUSHERS:
            with self._lock:
                known = self._known(uid)
            if known:
                self._refresh_quietly(always=True)
        else:
            log.debug("linkmic: anchor ignores %s from %s", m.type.value, uid)

    def _on_request(self, uid: str, name: str, avatar: str) -> None:
        deadline = time.monotonic() + self.answer_timeout
        req = LinkRequest(uid, name, avatar, deadline)
        with self._lock:
            if self._known(uid):  # already in: the viewer lost our accept; say it again
                answer: tuple[LinkMicType, str] | None = (LinkMicType.ACCEPT, "")
            elif uid not in self._pending and len(self._pending) >= self.MAX_PENDING:
                answer = (LinkMicType.REJECT, BUSY)
            else:
                answer = None
                fresh = self._drop_pending(uid) is None  # a repeated request only moves the deadline
                self._pending[uid] = req
                self._timers[uid] = self._worker.call_at(deadline, self._expire, uid, deadline)
        if answer is not None:
            if answer[0] is LinkMicType.ACCEPT:  # a fresh ticket: the first may be used or expired
                self._quietly("accept_anchor", self.rooms.accept_anchor, self.room_id, uid)
            self._send(uid, *answer)
        elif fresh:
            guarded("on_request", self.on_request, req)

    def _drop_pending(self, uid: str) -> LinkRequest | None:
        """(lock held) Forget a pending request and its timer."""
        timer = self._timers.pop(uid, None)
        if timer is not None:
            timer.cancel()
        return self._pending.pop(uid, None)

    def _expire(self, uid: str, deadline: float) -> None:
        with self._lock:
            req = self._pending.get(uid)
            if req is None or req.deadline != deadline:
                return
            self._drop_pending(uid)
        self._send(uid, LinkMicType.REJECT, TIMEOUT)
        guarded("on_request_gone", self.on_request_gone, uid, "timeout")

    def _accept(self, uid: str) -> None:
        with self._lock:
            req = self._drop_pending(uid)
            if req is None:
                log.info("linkmic: no pending request from %s to accept", uid)
                return
            full = self._count() >= self.max_cohosts
            if not full:
                self._accepted[uid] = time.monotonic()
        if full:
            self._send(uid, LinkMicType.REJECT, FULL)
            guarded("on_request_gone", self.on_request_gone, uid, FULL)
            return
        # the server-side ticket first: RoomService lets the viewer add_anchor only after this
        if not self._quietly("accept_anchor", self.rooms.accept_anchor, self.room_id, uid):
            with self._lock:
                self._accepted.pop(uid, None)
            self._send(uid, LinkMicType.REJECT, REJECTED)
            guarded("on_request_gone", self.on_request_gone, uid, "accept failed (RoomService)")
            return
        if not self._send(uid, LinkMicType.ACCEPT):
            with self._lock:
                self._accepted.pop(uid, None)
            return
        self._ensure_tick()

    def _reject(self, uid: str, reason: str) -> None:
        with self._lock:
            req = self._drop_pending(uid)
        if req is not None:
            self._send(uid, LinkMicType.REJECT, reason)

    def _kick(self, uid: str) -> None:
        if uid == self.me:
            return
        self._quietly("delete_anchor", self.rooms.delete_anchor, self.room_id, uid)
        with self._lock:
            self._accepted.pop(uid, None)
            self._linked.discard(uid)
        self._send(uid, LinkMicType.KICK)
        self._notify_pushers()
        self._refresh_quietly(always=True)

    def _on_end(self, uid: str) -> None:
        with self._lock:
            self._accepted.pop(uid, None)
            self._linked.discard(uid)
        self._refresh_quietly(always=True)

    def _refresh(self, always: bool) -> list[Pusher]:
        # one refresh at a time (the worker's and the app's): an older list never overwrites a newer one
        with self._refreshing:
            try:
                pushers = self.rooms.get_anchors(self.room_id)
            except ApiError as e:
                raise LinkMicError(e.code, e.message) from e
            cohosts = [p for p in pushers if p.userID != self.me]
            ids = {p.userID for p in cohosts}
            now = time.monotonic()
            with self._lock:
                before = self._linked | set(self._accepted)
                self._linked = ids
                self._accepted = {u: t for u, t in self._accepted.items()
                                  if u not in ids and now - t < self.ACCEPT_GRACE}
                changed = before != (self._linked | set(self._accepted))
            if always or changed:
                guarded("on_cohosts", self.on_cohosts, cohosts)
            return cohosts

    def _refresh_quietly(self, always: bool) -> None:
        try:
            self._refresh(always)
        except LinkMicError as e:
            log.warning("linkmic: get_anchors failed: %s", e)

    def _ensure_tick(self) -> None:
        if self._tick is None or self._tick.cancelled:
            self._tick = self._worker.call_at(time.monotonic() + self.REFRESH_INTERVAL, self._on_tick)

    def _on_tick(self) -> None:
        self._tick = None
        with self._lock:
            before = self._linked | set(self._accepted)
        self._refresh_quietly(always=False)
        with self._lock:
            after = self._linked | set(self._accepted)
        if before - after:  # RoomService dropped someone (missed heartbeats): tell the audience
            self._notify_pushers()
        if after:
            self._ensure_tick()

    def _goodbye(self) -> None:
        with self._lock:
            pending = list(self._pending)
            cohosts = sorted(self._linked | set(self._accepted))
            for uid in pending:
                self._drop_pending(uid)
            self._linked, self._accepted = set(), {}
        for uid in pending:
            self._send(uid, LinkMicType.REJECT, REJECTED)
        for uid in cohosts:
            self._send(uid, LinkMicType.END)
            self._quietly("delete_anchor", self.rooms.delete_anchor, self.room_id, uid)
        if cohosts:  # viewers drop the co-host windows now, not only when the room ends
            self._notify_pushers()
