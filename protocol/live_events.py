"""Live events (Tencent LVB callback JSON, SPEC section 3): their types and one typed record.

The media server (embedded, nginx-rtmp through its adapter, or Tencent LVB over HTTP) reports a
stream's life as events: 1 begin, 0 end, 100 recording done, 200 screenshot. The numbers are the
wire's and are defined only here. In-process the embedded media server hands a :class:`LiveEvent`
to the business handler directly; over HTTP the same event arrives as signed JSON
(:meth:`LiveEvent.to_json` plus ``t``/``sign``) and is parsed with :meth:`LiveEvent.from_json`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from protocol.signing import callback_sign, userid_from_stream_id


class LiveEventType(IntEnum):
    """``event_type`` of a live callback."""

    STREAM_END = 0
    STREAM_BEGIN = 1
    RECORD_DONE = 100
    SCREENSHOT = 200


class UnknownEventType(ValueError):
    """An ``event_type`` this server does not handle (acknowledged and ignored)."""


def _int(v: Any, default: int = 0) -> int:
    try:
        return int(v)
    except (TypeError, ValueError):
        return default


def _str(v: Any, limit: int = 512) -> str:
    return v[:limit] if isinstance(v, str) else ""


@dataclass(frozen=True)
class LiveEvent:
    """One live event. ``event_time`` is unix seconds; recording fields only for RECORD_DONE,
    ``pic_url`` for SCREENSHOT (and optionally RECORD_DONE: the recording's own cover)."""

    type: LiveEventType
    stream_id: str
    event_time: int = field(default_factory=lambda: int(time.time()))
    pic_url: str = ""
    file_id: str = ""
    video_url: str = ""
    hls_play_url: str = ""
    start_time: int = 0
    end_time: int = 0
    duration: int = 0
    file_size: int = 0

    @property
    def userid(self) -> str:
        """The anchor's user id (``{bizid}_{userid}``); ValueError for a malformed stream id."""
        uid = userid_from_stream_id(self.stream_id)
        if uid is None:
            raise ValueError(f"stream id {self.stream_id!r} is not {{bizid}}_{{userid}}")
        return uid

    @classmethod
    def from_json(cls, ev: Mapping[str, Any], now: int | None = None) -> LiveEvent:
        """Parse a callback body (sign already checked). Raises :class:`UnknownEventType` for an
        unhandled ``event_type`` and ValueError for a malformed stream id or recording."""
        now = int(time.time()) if now is None else now
        raw_type = _int(ev.get("event_type"), -1)
        try:
            etype = LiveEventType(raw_type)
        except ValueError:
            raise UnknownEventType(f"event_type {ev.get('event_type')!r} is not handled") from None
        start, end = _int(ev.get("start_time")), _int(ev.get("end_time"))
        out = cls(type=etype, stream_id=_str(ev.get("stream_id") or ev.get("channel_id"), 64),
                  event_time=_int(ev.get("event_time"), now), pic_url=_str(ev.get("pic_url")),
                  file_id=_str(ev.get("file_id") or ev.get("video_id"), 128), video_url=_str(ev.get("video_url")),
                  hls_play_url=_str(ev.get("hls_url") or ev.get("hls_play_url")), start_time=start, end_time=end,
                  duration=_int(ev.get("duration"), max(0, end - start)), file_size=_int(ev.get("file_size")))
        out.userid  # noqa: B018 - validates the stream id
        if etype is LiveEventType.RECORD_DONE and (not out.file_id or not out.video_url):
            raise ValueError("recording event without file_id or video_url")
        return out

    def to_json(self) -> dict[str, Any]:
        """The unsigned Tencent JSON body (what an HTTP callback carries besides ``t``/``sign``)."""
        body: dict[str, Any] = {"event_type": int(self.type), "stream_id": self.stream_id,
                                "channel_id": self.stream_id, "app": "live", "event_time": self.event_time}
        if self.pic_url:
            body.update(pic_url=self.pic_url, pic_full_url=self.pic_url)
        if self.type is LiveEventType.RECORD_DONE:
            body.update(video_url=self.video_url, file_id=self.file_id, video_id=self.file_id, file_format="mp4",
                        start_time=self.start_time, end_time=self.end_time, duration=self.duration,
                        file_size=self.file_size)
            if self.hls_play_url:
                body["hls_play_url"] = self.hls_play_url
        return body

    def signed_json(self, api_key: str, ttl: int = 60) -> dict[str, Any]:
        """:meth:`to_json` with ``t`` (expiry) and ``sign = md5(api_key + t)`` for an HTTP callback."""
        t = int(time.time()) + ttl
        return {"t": t, "sign": callback_sign(api_key, t), **self.to_json()}
