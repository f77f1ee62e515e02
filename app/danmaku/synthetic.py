"""Synthetic danmaku for demos and benchmarks (``--danmaku-rate N``), no Qt.

A mix of short and long comments in Chinese, English and emoji, some top/bottom and coloured,
arriving as a steady stream of ``rate`` per second (deterministic for a seed).
"""

from __future__ import annotations

import random

from app.danmaku.lanes import Comment, Mode

SAMPLES = (
    "666", "哈哈哈哈", "主播好厉害！", "前方高能", "来了来了", "hello from Berlin",
    "这画质可以啊 1080p?", "awsl", "打卡 🎉", "弹幕护体", "gg", "求BGM", "👍👍👍",
    "这是一条比较长的弹幕，用来测试车道分配会不会重叠", "first time here, love it",
    "晚上好", "❤️ 爱了爱了", "23333", "LOL", "上车上车", "名场面",
)
COLORS = (0xFFFFFF,) * 8 + (0xFE0302, 0xFFFF00, 0x00CD00, 0x4266BE, 0xCC0273, 0x89D5FF)


class SyntheticDanmaku:
    """Produces ``rate`` comments per second of model time."""

    def __init__(self, rate: float, seed: int = 1) -> None:
        self.rate = max(0.0, float(rate))
        self._rng = random.Random(seed)
        self._next: float | None = None
        self.count = 0

    def make(self) -> Comment:
        rng = self._rng
        r = rng.random()
        mode = Mode.TOP if r < 0.02 else Mode.BOTTOM if r < 0.04 else Mode.SCROLL
        self.count += 1
        return Comment(text=rng.choice(SAMPLES), mode=mode, color=rng.choice(COLORS),
                       user=f"viewer{rng.randrange(1000):03d}")

    def due(self, now: float) -> list[Comment]:
        """Comments due by ``now`` (at most one second's worth after a stall)."""
        if self.rate <= 0:
            return []
        step = 1.0 / self.rate
        if self._next is None or now - self._next > 1.0:
            self._next = now
        out = []
        while self._next <= now:
            out.append(self.make())
            self._next += step
        return out
