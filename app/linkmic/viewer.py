"""The viewer's side of co-hosting: ask the anchor, become a co-host, heartbeat, leave.

Feed every :class:`~app.im.messages.ImMessage` of the viewer's IM client to :meth:`handle_message`
(it only decodes and queues; safe on the IM reader thread). Only ``accept``, ``reject``, ``kick``
and ``end`` sent C2C by the room's anchor count; everything else is ignored.

On ``accept`` the worker calls RoomService ``get_anchor_url`` + ``add_anchor``, starts the
heartbeat, sends the group ``pushers`` notice, calls ``on_linked(push_url, anchor_accelerate_url)``
and sets LINKED. The app then publishes to ``push_url`` and plays the anchor's URL with low latency,
and stops both when the state becomes ENDED.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from app.api.client import ApiError
from app.api.roomservice import RoomServiceClient
from app.im.client import ImClient
from app.im.messages import ImMessage
from app.linkmic.base import Engine, log
from app.linkmic.types import LinkMicError, LinkState
from app.linkmic.worker import TimerHandle, guarded
from protocol.errors import ApiCode
from protocol.linkmic import REJECTED, TIMEOUT, LinkMicMsg, LinkMicType

_FROM_ANCHOR = frozenset({LinkMicType.ACCEPT, LinkMicType.REJECT, LinkMicType.KICK, LinkMicType.END})


class ViewerLinkMic(Engine):
    TIMEOUT_GRACE = 1.0  # the anchor's own "timeout" reject normally arrives before ours fires

    def __init__(self, im: ImClient, rooms: RoomServiceClient, room_id: str, anchor_id: str, *,
                 answer_timeout: float = 10.0, heartbeat_interval: float = 5.0) -> None:
        super().__init__(im, rooms, room_id, "viewer")
        if not anchor_id or anchor_id == self.me:
            raise LinkMicError(0, "the anchor cannot co-host in its own room")
        self.anchor_id = anchor_id
        self.answer_timeout, self.heartbeat_interval = float(answer_timeout), float(heartbeat_interval)
        self.state = LinkState.IDLE
        self.on_state: Callable[[LinkState, str], None] | None = None
        self.on_linked: Callable[[str, str], None] | None = None
        self.push_url = self.anchor_url = ""  # while LINKED
        self._attempt = 0
        self._timer: TimerHandle | None = None
        self._beat: TimerHandle | None = None

    # --- public API -------------------------------------------------------------------------

    def handle_message(self, msg: ImMessage) -> bool:
        """Take any IM message; True when it was a linkmic message (handled or ignored)."""
        m = self._signal(msg)
        if m is False:
            return False
        if isinstance(m, LinkMicMsg) and msg.sender == self.anchor_id and m.type in _FROM_ANCHOR:
            self._worker.post(self._on_signal, m)
        return True

    def request(self) -> None:
        """IDLE/ENDED -> REQUESTING (ignored while a request is in flight or linked). Returns at once."""
        self._worker.post(self._request)

    def cancel(self) -> None:
        """Give up a request in flight: C2C cancel, ENDED("cancelled")."""
        self._worker.post(self._cancel)

    def end(self) -> None:
        """Stop co-hosting: delete_anchor, C2C end, group pushers notice, ENDED("ended")."""
        self._worker.post(self._end)

    def close(self) -> None:
        """End or cancel whatever is going on and stop the worker (waits a few seconds at most)."""
        self._worker.stop(last=self._end)

    # --- worker -----------------------------------------------------------------------------

    def _set(self, state: LinkState, detail: str = "") -> None:
        self.state = state
        if state is not LinkState.LINKED:
            self.push_url = self.anchor_url = ""
        guarded("on_state", self.on_state, state, detail)

    def _stop_timers(self) -> None:
        for t in (self._timer, self._beat):
            if t is not None:
                t.cancel()
        self._timer = self._beat = None

    def _request(self) -> None:
        if self.state in (LinkState.REQUESTING, LinkState.LINKED):
            log.info("linkmic: %s already %s", self.me, self.state.value)
            return
        self._attempt += 1
        self._set(LinkState.REQUESTING)
        self._timer = self._worker.call_at(time.monotonic() + self.answer_timeout + self.TIMEOUT_GRACE,
                                           self._expire, self._attempt)
        if not self._send(self.anchor_id, LinkMicType.REQUEST):
            self._stop_timers()
            self._set(LinkState.ENDED, "cannot reach the anchor")

    def _expire(self, attempt: int) -> None:
        if self.state is LinkState.REQUESTING and attempt == self._attempt:
            self._timer = None
            self._send(self.anchor_id, LinkMicType.CANCEL)  # so a late accept finds nothing
            self._set(LinkState.ENDED, TIMEOUT)

    def _cancel(self) -> None:
        if self.state is LinkState.REQUESTING:
            self._stop_timers()
            self._send(self.anchor_id, LinkMicType.CANCEL)
            self._set(LinkState.ENDED, "cancelled")

    def _end(self) -> None:
        if self.state is LinkState.REQUESTING:
            self._cancel()
        elif self.state is LinkState.LINKED:
            self._stop_timers()
            self._quietly("delete_anchor", self.rooms.delete_anchor, self.room_id)
            self._send(self.anchor_id, LinkMicType.END)
            self._notify_pushers()
            self._set(LinkState.ENDED, "ended")

    def _on_signal(self, m: LinkMicMsg) -> None:
        state = self.state
        if m.type is LinkMicType.ACCEPT:
            if state is LinkState.REQUESTING:
                self._link()
            elif state is not LinkState.LINKED:  # a late accept: free the place the anchor keeps
                self._send(self.anchor_id, LinkMicType.END)
        elif m.type is LinkMicType.REJECT:
            if state is LinkState.REQUESTING:
                self._stop_timers()
                self._set(LinkState.ENDED, m.reason or REJECTED)
        elif state in (LinkState.REQUESTING, LinkState.LINKED):  # kick or end
            self._stop_timers()
            if m.type is LinkMicType.END and state is LinkState.LINKED:
                self._quietly("delete_anchor", self.rooms.delete_anchor, self.room_id)
            self._set(LinkState.ENDED, "kicked" if m.type is LinkMicType.KICK else "ended")

    def _link(self) -> None:
        self._stop_timers()
        try:
            urls = self.rooms.get_anchor_url()
            pushers = self.rooms.add_anchor(self.room_id)
            anchor_url = next((p.accelerateURL for p in pushers if p.userID == self.anchor_id), "")
            if not anchor_url:
                anchor_url = next((p.accelerateURL for p in self.rooms.get_anchors(self.room_id)
                                   if p.userID == self.anchor_id), "")
        except ApiError as e:
            log.warning("linkmic: %s cannot join %s as a co-host: %s", self.me, self.room_id, e)
            self._send(self.anchor_id, LinkMicType.END)
            self._set(LinkState.ENDED, str(e))
            return
        self._beat = self._worker.call_at(time.monotonic() + self.heartbeat_interval, self._heartbeat)
        self._notify_pushers()
        self.push_url, self.anchor_url = urls.pushURL, anchor_url
        guarded("on_linked", self.on_linked, urls.pushURL, anchor_url)
        self.state = LinkState.LINKED
        guarded("on_state", self.on_state, LinkState.LINKED, "")

    def _heartbeat(self) -> None:
        if self.state is not LinkState.LINKED:
            return
        try:
            self.rooms.anchor_heartbeat(self.room_id)
        except ApiError as e:
            if e.code in (ApiCode.ROOM_NOT_FOUND, ApiCode.ROOM_NO_PERMISSION):  # room gone / removed
                self._stop_timers()
                self._set(LinkState.ENDED, "ended" if e.code == ApiCode.ROOM_NOT_FOUND else "kicked")
                return
            log.warning("linkmic: anchor_heartbeat failed: %s", e)
        self._beat = self._worker.call_at(time.monotonic() + self.heartbeat_interval, self._heartbeat)
