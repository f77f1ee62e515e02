"""Danmaku overlay: draws :class:`app.danmaku.DanmakuModel` above the video view.

Each comment's text is rendered once into a pixmap (outlined so it reads on any picture, with
font fallback for CJK and emoji), cached by text and style (live rooms repeat "666" a lot), and
then only moved: a repaint is one ``drawPixmap`` per visible comment. The layer is plugged into
a :class:`~app.ui.video_view.VideoView` (``view.layers.append(overlay)``) so it is painted in the
same pass as the picture, GL or QPainter.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from app.danmaku import ClockMode, Comment, DanmakuConfig, DanmakuModel, Mode
from app.ui.qt import (
    QColor,
    QFont,
    QFontMetricsF,
    QPainter,
    QPainterPath,
    QPen,
    QPixmap,
    QPoint,
    QPointF,
    QRectF,
    Qt,
)

FONT_FAMILIES = [
    "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "Source Han Sans SC",
    "Noto Color Emoji", "Apple Color Emoji", "Segoe UI Emoji", "DejaVu Sans", "sans-serif",
]
OWN_BORDER = QColor(102, 204, 255)


@dataclass(slots=True)
class OverlaySettings:
    """User toggles (the settings panel and the play window bind to these)."""

    enabled: bool = True
    opacity: float = 0.9
    font_size: int = 24
    speed: float = 1.0
    area: float = 1.0


class TextRenderer:
    """Renders a comment to an outlined pixmap, caching by (text, colour, own, size, dpr)."""

    def __init__(self, font_size: int = 24, dpr: float = 1.0, cache_size: int = 1024) -> None:
        self.cache_size = cache_size
        self.renders = 0
        self._cache: OrderedDict[tuple[object, ...], QPixmap] = OrderedDict()
        self.set_font_size(font_size, dpr)

    def set_font_size(self, size: int, dpr: float = 1.0) -> None:
        font = QFont()
        font.setFamilies(FONT_FAMILIES)
        font.setPixelSize(max(8, int(size)))
        font.setWeight(QFont.Weight.Bold)
        font.setHintingPreference(QFont.HintingPreference.PreferNoHinting)
        self.font = font
        self.metrics = QFontMetricsF(font)
        self.dpr = dpr
        self.outline = max(1.5, size / 12)
        self._cache.clear()

    @property
    def line_height(self) -> float:
        """Height of one lane: the text plus its outline and a little air."""
        return float(int(self.metrics.height() + 2 * self.outline + 4))

    def render(self, text: str, color: int, own: bool) -> QPixmap:
        key = (text, color, own)
        pix = self._cache.get(key)
        if pix is not None:
            self._cache.move_to_end(key)
            return pix
        pix = self._draw(text, color, own)
        self._cache[key] = pix
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return pix

    def _draw(self, text: str, color: int, own: bool) -> QPixmap:
        self.renders += 1
        m, o = self.metrics, self.outline
        pad = o + (3 if own else 1)
        w = m.horizontalAdvance(text) + 2 * pad
        h = self.line_height
        pix = QPixmap(max(1, int(w * self.dpr + 0.999)), max(1, int(h * self.dpr)))
        pix.setDevicePixelRatio(self.dpr)
        pix.fill(Qt.GlobalColor.transparent)
        p = QPainter(pix)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        base = QPointF(pad, (h - m.height()) / 2 + m.ascent())
        # Fill first with drawText (not fillPath) so colour emoji fonts draw their bitmaps, then
        # put the outline *behind* it. (Also, QPainterPath.addText on an emoji font before any
        # drawText leaves Qt's glyph cache without the colour bitmaps: the emoji vanish.)
        p.setFont(self.font)
        p.setPen(QColor((color >> 16) & 255, (color >> 8) & 255, color & 255))
        p.drawText(base, text)
        path = QPainterPath()
        path.addText(base, self.font, text)
        p.setCompositionMode(QPainter.CompositionMode.CompositionMode_DestinationOver)
        p.strokePath(path, QPen(QColor(0, 0, 0, 200), 2 * o, Qt.PenStyle.SolidLine,
                                Qt.PenCapStyle.RoundCap, Qt.PenJoinStyle.RoundJoin))
        p.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceOver)
        if own:
            p.setPen(QPen(OWN_BORDER, 2))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRoundedRect(QRectF(1, 1, w - 2, h - 2), 4, 4)
        p.end()
        return pix


class DanmakuOverlay:
    """The overlay layer: owns the model, the renderer, the clock and the toggles.

    ``clock`` returns model time: ``time.monotonic`` in live mode, media time in replay mode.
    Call :meth:`tick` once per display frame before the repaint.
    """

    def __init__(self, settings: OverlaySettings | None = None, mode: ClockMode = ClockMode.LIVE,
                 clock: Callable[[], float] | None = None, config: DanmakuConfig | None = None,
                 dpr: float = 1.0) -> None:
        self.settings = settings or OverlaySettings()
        self.clock = clock or time.monotonic
        self.renderer = TextRenderer(self.settings.font_size, dpr)
        cfg = config or DanmakuConfig()
        cfg.lane_height = self.renderer.line_height
        cfg.speed = self.settings.speed
        cfg.area = self.settings.area
        self.model = DanmakuModel(cfg, mode)
        self.now = self.clock()
        self.paint_ms = 0.0
        self._size = (0.0, 0.0)
        self._gl_painted = False
        self._gl_rest: list[tuple[QPixmap, float, float]] = []

    # -- feeding ---------------------------------------------------------------------------

    def add(self, text: str, mode: Mode = Mode.SCROLL, color: int = 0xFFFFFF, own: bool = False,
            user: str = "", nickname: str = "") -> bool:
        """Show a comment (rendered now, once); False if it has to wait or overlay is off."""
        return self.add_comment(Comment(text=text, mode=mode, color=color, own=own, user=user,
                                        nickname=nickname))

    def add_comment(self, comment: Comment) -> bool:
        if not self.settings.enabled:
            return False
        text = " ".join(comment.text.split())  # no newlines/tabs inside a lane
        if not text:
            return False
        comment.text = text
        pix = self.renderer.render(text, comment.color, comment.own)
        comment.payload = pix
        comment.width = pix.width() / pix.devicePixelRatio()
        return self.model.submit(comment, self.now)

    def tick(self) -> float:
        """Advance to the clock's current time; returns it."""
        self.now = self.clock()
        self.model.advance(self.now)
        return self.now

    # -- toggles ---------------------------------------------------------------------------

    def set_enabled(self, on: bool) -> None:
        self.settings.enabled = on
        if not on:
            self.model.seek(self.now)  # drop what is shown and waiting

    def set_opacity(self, opacity: float) -> None:
        self.settings.opacity = min(1.0, max(0.0, opacity))

    def set_font_size(self, size: int) -> None:
        self.settings.font_size = size
        self.renderer.set_font_size(size, self.renderer.dpr)
        self.model.set_lane_height(self.renderer.line_height, self.now)

    def set_speed(self, factor: float) -> None:
        self.settings.speed = factor
        self.model.set_speed(factor)

    def set_area(self, fraction: float) -> None:
        self.settings.area = fraction
        self.model.set_area(fraction, self.now)

    def set_device_pixel_ratio(self, dpr: float) -> None:
        if dpr != self.renderer.dpr:
            self.renderer.set_font_size(self.settings.font_size, dpr)

    def set_view_size(self, width: float, height: float) -> None:
        if (width, height) != self._size:
            self._size = (width, height)
            self.model.set_view(width, height, self.now)

    # -- painting --------------------------------------------------------------------------

    def _items(self) -> list[tuple[QPixmap, float, float]]:
        model, now = self.model, self.now
        pos = model.position
        return [(c.payload, *pos(c, now)) for c in model.visible() if c.payload is not None]

    def paint_gl(self, view, f) -> None:  # type: ignore[no-untyped-def]
        """GL fast path (called by the GL video view): all comments in one draw call."""
        from app.ui.danmaku_gl import GlDanmakuBatch

        t0 = time.perf_counter()
        self.set_view_size(view.width(), view.height())
        self._gl_rest = []
        if self.settings.enabled:
            batch = view.gl_resources.get(id(self))
            if batch is None:
                batch = view.gl_resources[id(self)] = GlDanmakuBatch()
            self._gl_rest = batch.draw(f, self._items(), view.width(), view.height(),
                                       view.devicePixelRatioF(), self.settings.opacity)
        self._gl_painted = True
        self.paint_ms = (time.perf_counter() - t0) * 1000

    def paint(self, painter: QPainter, view: QRectF, video: QRectF) -> None:
        """Draw the visible comments over the whole view (not only the picture)."""
        if self._gl_painted:  # drawn by paint_gl in this frame; only what did not fit is left
            items, self._gl_painted, self._gl_rest = self._gl_rest, False, []
            t0 = time.perf_counter() - self.paint_ms / 1000
        else:
            t0 = time.perf_counter()
            self.set_view_size(view.width(), view.height())
            items = self._items() if self.settings.enabled else []
        if items:
            painter.setOpacity(self.settings.opacity)
            ox, oy = view.x(), view.y()
            draw = painter.drawPixmap
            for pix, x, y in items:
                draw(QPoint(int(ox + x), int(oy + y)), pix)
        self.paint_ms = (time.perf_counter() - t0) * 1000
