"""Play engine (no Qt): live RTMP / HTTP-FLV / HLS and replays, A/V sync, latency control.

Entry points: :class:`Player`, :class:`PlaySettings`, :class:`YuvFrame`, :class:`PlayError`.
"""

from app.play.errors import EndReason, PlayCode, PlayError, PlayState
from app.play.frame import YuvFrame
from app.play.settings import Catchup, PlaySettings, SourceKind

__all__ = ["Catchup", "EndReason", "PlayCode", "PlayError", "PlaySettings", "PlayState", "Player",
           "PlayStats", "SourceKind", "YuvFrame"]


def __getattr__(name: str) -> object:  # Player pulls in PyAV: import it on first use
    if name == "Player":
        from app.play.player import Player

        return Player
    if name == "PlayStats":
        from app.play.stats import PlayStats

        return PlayStats
    raise AttributeError(name)
