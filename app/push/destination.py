"""One RTMP destination of a publish: its own send queue, send thread, reconnects, drop policy and
stats. A publish tees one encode to several of these (multistream); one failing or congested
destination never blocks or drops anything of another.

The send thread (``push-send`` for the first destination, ``push-send-N`` for the others)
reconnects every ``reconnect_interval_s``, at most ``reconnect_tries`` times in a row, restarting
the stream on a forced keyframe; the queue applies the packet drop policy of
:mod:`app.push.packets` (non-key video is dropped under congestion, never audio or keyframes).

"Stalled" has one owner, ``stall_timeout_s``: a send to the server that makes no progress that
long (a dead link without a reset) fails in the connection's socket (Python sockets wait without
the GIL, bounded by that timeout) and this destination reconnects, the error's detail saying "no
progress sending for N s". A slower send that keeps making progress (a slow uplink draining a
keyframe) is not a stall; ``connect_timeout_s`` bounds only the opening of a connection.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from app.push.errors import PushError, PushState, StopReason
from app.push.output import RtmpOutput
from app.push.packets import END, EncodedPacket, SendQueue
from app.push.settings import PushSettings
from protocol.signing import redact_url

log = logging.getLogger(__name__)
_FLUSH_S = 3.0


@dataclass(frozen=True)
class DestinationStats:
    """One destination's sample: rates over the last interval, drop counters are totals."""

    name: str
    state: PushState
    bitrate_kbps: float
    sent_fps: float
    dropped_congestion: int
    dropped_offline: int
    reconnects: int
    rtt_ms: float | None
    queue_delay_ms: float = 0.0

    def line(self) -> str:
        return (f"{self.name}: {self.state.value} {self.bitrate_kbps:.0f}kb/s fps={self.sent_fps:.1f} "
                f"dropped={self.dropped_congestion + self.dropped_offline} reconnects={self.reconnects}")


class Destination:
    """Sends the packets given to :meth:`put` to ``url`` (see the module docstring).

    ``templates()`` returns the encoders' (video, audio) stream templates; ``keyframe()`` asks the
    video encoder for a keyframe; ``on_state(dest, PushState)`` and ``on_end(dest)`` run on the
    send thread. ``blocking``: a full queue of audio/keyframes makes :meth:`put` wait (backs the
    encoder up, the single-destination behaviour); otherwise such packets are counted as dropped
    so one stuck destination cannot stall the encode the others share.
    """

    def __init__(self, name: str, url: str, settings: PushSettings, templates: Callable[[], tuple],
                 keyframe: Callable[[], None], clock: Callable[[], float], blocking: bool = True) -> None:
        self.name, self.url, self.settings = name, url, settings
        self._templates, self._keyframe, self.clock = templates, keyframe, clock
        self.blocking = blocking
        self.queue = SendQueue(settings.congestion_ms / 1000, settings.send_queue_packets)
        self.state = PushState.IDLE
        self.reason: StopReason | None = None
        self.detail = ""
        self.last_error: PushError | None = None
        self.reconnects = 0
        self.ever_live = False
        self.sent_bytes_total = 0
        self.overflow = 0  # audio/keyframes dropped because this destination's queue stayed full
        self.output: RtmpOutput | None = None
        self.on_state: Callable[[Destination, PushState], None] | None = None
        self.on_end: Callable[[Destination], None] | None = None
        self._stop = threading.Event()
        self._no_wait = threading.Event()
        self._lock = threading.Lock()
        self._sent_bytes = self._sent_video = self._delay_n = 0
        self._delay_s = 0.0
        self._thread: threading.Thread | None = None
        self._cut_at: float | None = None  # when join() cuts a send still blocked (stopping)

    # -- control ---------------------------------------------------------------------------
    def start(self, thread_name: str) -> None:
        self._thread = threading.Thread(target=self._run, name=thread_name, daemon=True)
        self._thread.start()

    @property
    def ended(self) -> bool:
        return self.reason is not None

    def put(self, pkt: EncodedPacket) -> None:
        """Queue one packet under this destination's drop policy (never blocks when not ``blocking``)."""
        if self.ended:
            return
        if self.blocking:
            while not self.queue.put(pkt) and not self.queue.closed:
                if pkt.droppable or self._stop.is_set() or self._no_wait.is_set():
                    return
        elif not self.queue.put(pkt, timeout=0) and not pkt.droppable and not self.queue.closed:
            self.overflow += 1

    def stop_waiting(self) -> None:
        """The publish is ending: :meth:`put` no longer waits for room (one try, then gives up)."""
        self._no_wait.set()

    def finish(self) -> None:
        """No more packets: send what is queued (for up to 3 s) and end."""
        self._cut_at = time.monotonic() + _FLUSH_S + 0.5
        self._stop.set()
        self.queue.put(END)

    def abort(self) -> None:
        """End now without flushing."""
        self._cut_at = time.monotonic()
        self._stop.set()
        self.queue.close()

    def join(self, timeout: float) -> None:
        """Wait for the send thread. Once :meth:`finish`'s flush time is over (at once after
        :meth:`abort`), a send still blocked (a link that stopped carrying data as the publish
        ended) has its connection cut, so the stop does not wait up to ``stall_timeout_s`` for it."""
        thread = self._thread
        if thread is None or thread is threading.current_thread():
            return
        end = time.monotonic() + timeout
        if self._cut_at is not None:
            thread.join(max(0.0, min(end, self._cut_at) - time.monotonic()))
            out = self.output
            if thread.is_alive() and out is not None and out.abort():
                log.warning("%s: the link stopped carrying data while stopping: connection cut", self.name)
        thread.join(max(0.0, end - time.monotonic()))

    # -- stats -----------------------------------------------------------------------------
    def sample(self, dt: float) -> DestinationStats:
        with self._lock:
            sent_bytes, sent_video = self._sent_bytes, self._sent_video
            delay = 1000 * self._delay_s / max(1, self._delay_n)
            self._sent_bytes = self._sent_video = self._delay_n = 0
            self._delay_s = 0.0
        out = self.output
        rtt = out.rtt() if out is not None else None
        return DestinationStats(self.name, self.state, sent_bytes * 8 / dt / 1000, sent_video / dt,
                                self.queue.dropped_video, self.queue.discarded + self.overflow,
                                self.reconnects, None if rtt is None else rtt * 1000, delay)

    # -- the send thread -------------------------------------------------------------------
    def _set_state(self, state: PushState) -> None:
        if state != self.state:
            self.state = state
            log.info("%s: %s", self.name, state.value)
            if self.on_state:
                self.on_state(self, state)

    def _end(self, reason: StopReason, detail: str = "") -> None:
        if self.reason is None:
            self.reason, self.detail = reason, detail
            if not reason.ok:
                log.error("%s stopped: %s%s", self.name, reason.message,
                          f" ({redact_url(detail)})" if detail else "")

    def _connect(self, was_live: bool, tries: int) -> RtmpOutput:
        s = self.settings
        self.queue.offline = True
        self._set_state(PushState.RECONNECTING if was_live else PushState.CONNECTING)
        video, audio = self._templates()
        out = RtmpOutput(self.url, video, audio, s.connect_timeout_s, s.established_s, ca_file=s.ca_file,
                         stall_timeout=s.stall_timeout_s)
        if was_live or tries:
            # a reconnect or a retry: what is queued is stale, start the new stream on a keyframe
            self.queue.discard_all()
            self._keyframe()
        elif self.queue.waiting_for_key:  # a slow first connection shed video
            self._keyframe()
        # else the first attempt: the queue holds the stream's first packets (audio, the opening
        # IDR) from the few ms the connection took: send them
        return out

    def _run(self) -> None:
        out: RtmpOutput | None = None
        tries, was_live = 0, False
        flush_deadline: float | None = None
        try:
            while True:
                if self._stop.is_set():
                    if out is None:
                        break  # stopping while offline: nothing to flush to
                    flush_deadline = flush_deadline or time.monotonic() + _FLUSH_S
                    if time.monotonic() > flush_deadline:
                        break
                if out is None:
                    try:
                        out = self.output = self._connect(was_live, tries)
                    except PushError as exc:
                        if not self._retry(exc, tries := tries + 1, was_live):
                            break
                        continue
                pkt = self.queue.get(timeout=0.2)
                if pkt is None:
                    if self.queue.closed:
                        break
                    continue
                if pkt is END:
                    break
                try:
                    sent = out.write(pkt)
                except PushError as exc:
                    out.close()
                    out = self.output = None
                    if self._stop.is_set():
                        break
                    if was_live:
                        self.reconnects += 1
                    if not self._retry(exc, tries := tries + 1, was_live):
                        break
                    continue
                if not sent:  # before the connection's opening keyframe
                    continue
                if self.state != PushState.LIVE:
                    was_live = self.ever_live = True
                    self.queue.offline = False
                    self._set_state(PushState.LIVE)
                if out.established:
                    tries = 0
                with self._lock:
                    self._sent_bytes += len(pkt.data)
                    self._sent_video += int(pkt.kind == "video")
                    self._delay_s += self.clock() - pkt.t_capture
                    self._delay_n += 1
                self.sent_bytes_total += len(pkt.data)
        except Exception as exc:  # a bug here must end this destination only, cleanly
            log.exception("%s: send thread failed", self.name)
            self._end(StopReason.NETWORK_LOST, str(exc))
        finally:
            self.output = None
            if out is not None:
                out.close()
            self.queue.close()
            self._end(StopReason.USER)
            self._set_state(PushState.STOPPED)
            if self.on_end:
                self.on_end(self)

    def _retry(self, exc: PushError, tries: int, was_live: bool) -> bool:
        """After a failed attempt: wait and return True to try again, or end this destination.

        A refusal ends at once when it is definite (an RTMP error status) or when this destination
        was never live (a wrong push key must be a fast, clear error). Once it has been live, the
        same URL was accepted, so a server that hangs up right after the publish (or right after
        going live) while accepting TCP is most likely going away or restarting: its listening
        socket takes connections before it serves them. That is retried like a lost connection,
        within the same budget (``reconnect_tries`` attempts in a row), so a server that keeps
        refusing still ends the publish (as ``REFUSED``) instead of looping.

        A definite refusal saying the stream is already being published (``in_use``, nginx-rtmp's
        "Already publishing") is retried the same way once this destination has been live: after a
        network cut the server never saw, the publisher it still holds is our own dead connection,
        which it drops after ``drop_idle_publisher`` (``[live] publisher_takeover_idle``). At the
        first publish it is someone else's stream (or a wrong stream name): final at once.
        """
        s = self.settings
        self.last_error = exc
        log.warning("%s connection: %s (attempt %d/%d)", self.name, exc, tries, s.reconnect_tries)
        final = exc.reason == StopReason.REFUSED and (not was_live or (exc.definite and not exc.in_use))
        if exc.reason == StopReason.REFUSED and not final and tries < s.reconnect_tries:
            if exc.in_use:
                log.warning("%s: the server still has a publisher for this stream; it was ours before the "
                            "connection was lost, and the server drops it once it has been silent long "
                            "enough: retrying in %.1f s", self.name, s.reconnect_interval_s)
            else:
                log.warning("%s: the server hung up right after the publish without an error status; it was "
                            "live before, so the server may be restarting: retrying in %.1f s", self.name,
                            s.reconnect_interval_s)
        if final or tries >= s.reconnect_tries:
            reason = exc.reason
            if reason != StopReason.REFUSED:
                reason = StopReason.NETWORK_LOST if was_live else StopReason.UNREACHABLE
            self._end(reason, exc.detail)
            return False
        self._set_state(PushState.RECONNECTING if was_live else PushState.CONNECTING)
        deadline = time.monotonic() + s.reconnect_interval_s
        while time.monotonic() < deadline:  # keep the encoders flowing while offline
            self.queue.discard_all()
            if self._stop.wait(0.1):
                return False
        return True
