"""Danmaku overlay: draws :class:`app.danmaku.DanmakuModel` above the video view.

Each comment's text is rendered once into a pixmap (outlined so it reads on any picture, with
font fallback for CJK and emoji), cached by text and style (live rooms repeat "666" a lot), and
then only moved: a repaint is one ``drawPixmap`` per visible comment. The layer is plugged into
a :class:`~app.ui.video.video_view.VideoView` (``view.layers.append(overlay)``) so it is painted in the
same pass as the picture, GL or QPainter.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np

from app.danmaku import ClockMode, Comment, DanmakuConfig, DanmakuModel, Mode
from app.ui.qt import (
    QColor,
    QFont,
    QFontMetricsF,
    QImage,
    QPainter,
    QPen,
    QPixmap,
    QPointF,
    QRectF,
    Qt,
)

FONT_FAMILIES = [
    "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", "Source Han Sans SC",
    "Noto Color Emoji", "Apple Color Emoji", "Segoe UI Emoji", "DejaVu Sans", "sans-serif",
]
OWN_BORDER = QColor(102, 204, 255)
OUTLINE_ALPHA = 200


@dataclass(slots=True)
class OverlaySettings:
    """User toggles (the settings panel and the play window bind to these)."""

    enabled: bool = True
    opacity: float = 0.9
    font_size: int = 24
    speed: float = 1.0
    area: float = 1.0


class TextRenderer:
    """Renders a comment to a tight, outlined pixmap, cached by (text, colour, own).

    The text is drawn once with ``drawText`` (so colour emoji fonts draw their bitmaps and CJK
    falls back per glyph), then outlined by dilating its alpha channel with a disc (OpenCV) and
    putting a translucent black copy behind it: a 2 px outline that reads on any picture. No
    ``QPainterPath.addText`` is used: on an emoji font it leaves Qt's glyph cache without the
    colour bitmaps and later emoji render empty. The layer opacity is baked into the pixels, so
    a frame blends with the plain (fastest) source-over path. Transparent margins are cut off:
    :meth:`render_sprite` returns the pixmap and how far below the lane top it goes.
    """

    def __init__(self, font_size: int = 24, dpr: float = 1.0, cache_size: int = 1024,
                 opacity: float = 1.0) -> None:
        self.cache_size = cache_size
        self.renders = 0
        self.opacity = opacity
        self._cache: OrderedDict[tuple[object, ...], tuple[QPixmap, float]] = OrderedDict()
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

    def set_opacity(self, opacity: float) -> None:
        """Opacity baked into the pixmaps from now on (the cache is emptied)."""
        opacity = min(1.0, max(0.0, opacity))
        if opacity != self.opacity:
            self.opacity = opacity
            self._cache.clear()

    @property
    def line_height(self) -> float:
        """Height of one lane: the text plus its outline and a little air."""
        return float(int(self.metrics.height() + 2 * self.outline + 4))

    def render(self, text: str, color: int, own: bool) -> QPixmap:
        return self.render_sprite(text, color, own)[0]

    def render_sprite(self, text: str, color: int, own: bool) -> tuple[QPixmap, float]:
        """``(pixmap, offset_y)``: the tight image and its top relative to the lane top."""
        key = (text, color, own)
        sprite = self._cache.get(key)
        if sprite is not None:
            self._cache.move_to_end(key)
            return sprite
        sprite = self._draw(text, color, own)
        self._cache[key] = sprite
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
        return sprite

    def _draw(self, text: str, color: int, own: bool) -> tuple[QPixmap, float]:
        self.renders += 1
        m, dpr = self.metrics, self.dpr
        r = max(1, round(self.outline * dpr))  # outline radius, device px
        pad = r + 1 + (3 if own else 0)
        w = int(math.ceil(m.horizontalAdvance(text) * dpr)) + 2 * pad
        h = max(1, int(self.line_height * dpr))
        img = QImage(w, h, QImage.Format.Format_ARGB32_Premultiplied)
        img.fill(Qt.GlobalColor.transparent)
        p = QPainter(img)
        p.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        p.scale(dpr, dpr)
        p.setFont(self.font)
        p.setPen(QColor((color >> 16) & 255, (color >> 8) & 255, color & 255))
        p.drawText(QPointF(pad / dpr, (self.line_height - m.height()) / 2 + m.ascent()), text)
        p.end()
        px = np.frombuffer(img.constBits(), np.uint8).reshape(h, img.bytesPerLine() // 4, 4)[:, :w]
        out = outline_pixels(px, r, self.opacity)
        ys, xs = np.nonzero(out[:, :, 3])
        if own:
            y0, y1, x0, x1 = 0, h, 0, w
        elif len(ys):
            y0, y1, x0, x1 = int(ys.min()), int(ys.max()) + 1, int(xs.min()), int(xs.max()) + 1
        else:
            y0, y1, x0, x1 = 0, 1, 0, 1  # nothing visible (a font without the glyphs)
        tight = np.ascontiguousarray(out[y0:y1, x0:x1])
        img = QImage(tight.data, x1 - x0, y1 - y0, tight.strides[0],
                     QImage.Format.Format_ARGB32_Premultiplied).copy()
        if own:
            p = QPainter(img)
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            p.setOpacity(self.opacity)
            p.setPen(QPen(OWN_BORDER, 2 * dpr))
            p.drawRoundedRect(QRectF(dpr, dpr, img.width() - 2 * dpr, img.height() - 2 * dpr),
                              4 * dpr, 4 * dpr)
            p.end()
        pix = QPixmap.fromImage(img)
        pix.setDevicePixelRatio(dpr)
        return pix, y0 / dpr


def outline_pixels(px: np.ndarray, radius: int, opacity: float = 1.0) -> np.ndarray:
    """Premultiplied BGRA text pixels over a translucent black outline ``radius`` px wide."""
    alpha = px[:, :, 3]
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    ring = cv2.dilate(alpha, disc).astype(np.uint16) * OUTLINE_ALPHA // 255
    out = px.astype(np.uint16)
    # source-over of the text on black: colour stays, alpha = a + ring * (1 - a)
    out[:, :, 3] = alpha + ring * (255 - alpha.astype(np.uint16)) // 255
    if opacity < 1.0:
        out = out * round(opacity * 256) >> 8  # type: ignore[assignment]  # int64 now; cast to uint8 below
    return out.astype(np.uint8)


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
        self.renderer = TextRenderer(self.settings.font_size, dpr, opacity=self.settings.opacity)
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
            user: str = "", nickname: str = "", key: str = "") -> bool:
        """Show a comment (rendered now, once); False if it has to wait or overlay is off.
        ``key`` lets :meth:`remove` take it back."""
        return self.add_comment(Comment(text=text, mode=mode, color=color, own=own, user=user,
                                        nickname=nickname, key=key))

    def remove(self, key: str) -> int:
        """Take comments with ``key`` off the screen and out of the queue (a removed message)."""
        return self.model.hide(key) if key else 0

    def add_comment(self, comment: Comment) -> bool:
        if not self.settings.enabled:
            return False
        text = " ".join(comment.text.split())  # no newlines/tabs inside a lane
        if not text:
            return False
        comment.text = text
        self._render(comment)
        return self.model.submit(comment, self.now)

    def _render(self, comment: Comment) -> None:
        pix, comment.offset_y = self.renderer.render_sprite(comment.text, comment.color, comment.own)
        comment.payload = pix
        comment.width = pix.width() / pix.devicePixelRatio()

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
        """Opacity is baked into the text images: the visible ones are re-rendered (cached)."""
        self.settings.opacity = min(1.0, max(0.0, opacity))
        self.renderer.set_opacity(self.settings.opacity)
        for c in self.model.visible():
            if c.payload is not None:
                c.payload = self.renderer.render(c.text, c.color, c.own)

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
            self.model.clear(self.now)  # their images are at the old resolution

    def set_view_size(self, width: float, height: float) -> None:
        if (width, height) != self._size:
            self._size = (width, height)
            self.model.set_view(width, height, self.now)

    # -- painting --------------------------------------------------------------------------

    def _items(self) -> list[tuple[QPixmap, int, int]]:
        fr = self.model.frame(self.now)
        return [(c.payload, x, y) for c, x, y in zip(fr.items, fr.xs, fr.ys, strict=True)  # type: ignore[misc]
                if c.payload is not None]

    def paint_gl(self, view, f) -> None:  # type: ignore[no-untyped-def]
        """GL fast path (called by the GL video view): all comments in one draw call."""
        from app.ui.video.danmaku_gl import GlDanmakuBatch

        t0 = time.perf_counter()
        self.set_view_size(view.width(), view.height())
        self._gl_rest = []
        if self.settings.enabled:
            batch = view.gl_resources.get(id(self))
            if batch is None:
                batch = view.gl_resources[id(self)] = GlDanmakuBatch()
            self._gl_rest = batch.draw(f, self._items(), view.width(), view.height(),
                                       view.devicePixelRatioF(), 1.0)  # opacity is in the pixels
        self._gl_painted = True
        self.paint_ms = (time.perf_counter() - t0) * 1000

    def paint(self, painter: QPainter, view: QRectF, video: QRectF) -> None:
        """Draw the visible comments over the whole view (not only the picture).

        One ``drawPixmap(int, int, pixmap)`` per comment at positions computed for all of them
        at once by the model; opacity is already in the pixels, so the painter's is left at 1.
        """
        ox, oy = int(view.x()), int(view.y())
        draw = painter.drawPixmap
        if self._gl_painted:  # drawn by paint_gl in this frame; only what did not fit is left
            rest, self._gl_painted, self._gl_rest = self._gl_rest, False, []
            t0 = time.perf_counter() - self.paint_ms / 1000
            for pix, x, y in rest:
                draw(ox + x, oy + y, pix)  # type: ignore[call-overload]  # whole pixels by the model
        else:
            t0 = time.perf_counter()
            self.set_view_size(view.width(), view.height())
            if self.settings.enabled:
                fr = self.model.frame(self.now)
                for c, x, y in zip(fr.items, fr.xs, fr.ys, strict=True):
                    pix = c.payload  # type: ignore[assignment]  # the overlay's payloads are QPixmaps
                    if pix is not None:
                        draw(ox + x, oy + y, pix)  # type: ignore[call-overload]
        self.paint_ms = (time.perf_counter() - t0) * 1000
