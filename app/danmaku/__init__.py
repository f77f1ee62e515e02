"""Danmaku (bullet comments), Qt-free: lane allocation, motion, load shedding, replay feed.

The Qt overlay in ``app/ui/video/danmaku_overlay.py`` renders this model; engines and tests use it
without Qt.
"""

from app.danmaku.lanes import Comment, Mode, scroll_fits
from app.danmaku.model import ClockMode, DanmakuConfig, DanmakuModel, DanmakuStats
from app.danmaku.replay import ReplayEntry, ReplayFeed
from app.danmaku.synthetic import SyntheticDanmaku

__all__ = [
    "ClockMode",
    "Comment",
    "DanmakuConfig",
    "DanmakuModel",
    "DanmakuStats",
    "Mode",
    "ReplayEntry",
    "ReplayFeed",
    "SyntheticDanmaku",
    "scroll_fits",
]
