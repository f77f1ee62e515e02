"""Batched GL drawing of danmaku: every comment's pixmap in one texture atlas, one draw call.

QPainter's GL engine issues one draw per ``drawPixmap`` (and PySide6 cannot pass an array to
``drawPixmapFragments``), which costs ~0.1 ms per comment on software GL. Here the pre-rendered
comment images are copied once into an atlas texture (shelf packing: all comments share the
lane height) and each frame uploads one vertex array (two triangles per comment, built with
numpy) and draws it with premultiplied-alpha blending. When the atlas is full it is rebuilt from
the comments on screen; anything that still does not fit is left to the QPainter pass.
"""

from __future__ import annotations

import logging

import numpy as np

from app.ui.qt import (
    QImage,
    QOpenGLBuffer,
    QOpenGLShader,
    QOpenGLShaderProgram,
    QOpenGLTexture,
    QPainter,
    QPixmap,
    QPoint,
    Qt,
    delete_now,
)

log = logging.getLogger(__name__)

GL_TEXTURE_2D, GL_TEXTURE0 = 0x0DE1, 0x84C0
GL_RGBA, GL_UNSIGNED_BYTE, GL_FLOAT = 0x1908, 0x1401, 0x1406
GL_TEXTURE_MIN_FILTER, GL_TEXTURE_MAG_FILTER, GL_NEAREST = 0x2801, 0x2800, 0x2600
GL_TEXTURE_WRAP_S, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE = 0x2802, 0x2803, 0x812F
GL_UNPACK_ALIGNMENT, GL_BLEND, GL_ONE, GL_ONE_MINUS_SRC_ALPHA = 0x0CF5, 0x0BE2, 1, 0x0303
GL_TRIANGLES = 0x0004

VERTEX = """
attribute vec2 a_pos;
attribute vec2 a_tex;
uniform vec2 u_view;
varying vec2 v_tex;
void main() {
    vec2 p = a_pos / u_view * 2.0 - 1.0;
    gl_Position = vec4(p.x, -p.y, 0.0, 1.0);
    v_tex = a_tex;
}
"""
FRAGMENT = """
#ifdef GL_ES
precision mediump float;
#endif
varying vec2 v_tex;
uniform sampler2D t_atlas;
uniform float u_opacity;
void main() {
    gl_FragColor = texture2D(t_atlas, v_tex) * u_opacity;
}
"""


class Atlas:
    """Shelf-packed RGBA image of comment pixmaps, keyed by ``QPixmap.cacheKey()``."""

    def __init__(self, width: int = 4096, height: int = 2048) -> None:
        self.width, self.height = width, height
        self.image = QImage(width, height, QImage.Format.Format_RGBA8888_Premultiplied)
        self.entries: dict[int, tuple[int, int, int, int]] = {}
        self.shelves: list[list[int]] = []  # [y, height, next_x]
        self.dirty: tuple[int, int] | None = (0, height)
        self.image.fill(Qt.GlobalColor.transparent)

    def clear(self) -> None:
        self.entries.clear()
        self.shelves.clear()
        self.image.fill(Qt.GlobalColor.transparent)
        self.dirty = (0, self.height)

    def place(self, pix: QPixmap) -> tuple[int, int, int, int] | None:
        key = pix.cacheKey()
        rect = self.entries.get(key)
        if rect is not None:
            return rect
        w, h = pix.width(), pix.height()
        if w > self.width:
            return None
        shelf = next((s for s in self.shelves if h <= s[1] <= h * 1.25 and s[2] + w <= self.width), None)
        if shelf is None:
            y = self.shelves[-1][0] + self.shelves[-1][1] if self.shelves else 0
            if y + h > self.height:
                return None
            shelf = [y, h, 0]
            self.shelves.append(shelf)
        rect = (shelf[2], shelf[0], w, h)
        shelf[2] += w + 1
        p = QPainter(self.image)
        p.setCompositionMode(QPainter.CompositionMode.CompositionMode_Source)
        p.drawPixmap(QPoint(rect[0], rect[1]), pix)
        p.end()
        self.entries[key] = rect
        y0, y1 = rect[1], rect[1] + h
        self.dirty = (y0, y1) if self.dirty is None else (min(self.dirty[0], y0), max(self.dirty[1], y1))
        return rect


class GlDanmakuBatch:
    """GL resources of one context for drawing (pixmap, x, y) lists in one call."""

    def __init__(self) -> None:
        self.atlas = Atlas()
        self.program = QOpenGLShaderProgram()
        ok = self.program.addShaderFromSourceCode(QOpenGLShader.ShaderTypeBit.Vertex, VERTEX)
        ok = ok and self.program.addShaderFromSourceCode(QOpenGLShader.ShaderTypeBit.Fragment, FRAGMENT)
        self.program.bindAttributeLocation("a_pos", 0)
        self.program.bindAttributeLocation("a_tex", 1)
        if not ok or not self.program.link():
            raise RuntimeError(f"danmaku shader: {self.program.log()}")
        self.texture = QOpenGLTexture(QOpenGLTexture.Target.Target2D)
        self.texture.create()
        self.allocated = False
        self.vbo = QOpenGLBuffer(QOpenGLBuffer.Type.VertexBuffer)
        self.vbo.create()
        self.vbo.setUsagePattern(QOpenGLBuffer.UsagePattern.StreamDraw)

    def destroy(self) -> None:
        """Free every GL object now; the caller has this batch's context current.

        The program too: left to the garbage collector it outlived the context's ``doneCurrent``,
        Qt deferred its deletion to whichever context of the share group was made current next
        (the window's compositor when a popup opened), and the video view's next ``glDrawArrays``
        crashed (SIGSEGV under Mesa llvmpipe)."""
        self.texture.destroy()
        self.vbo.destroy()
        self.program.removeAllShaders()
        delete_now(self.program)

    def _upload(self, f) -> None:  # type: ignore[no-untyped-def]
        a = self.atlas
        f.glBindTexture(GL_TEXTURE_2D, self.texture.textureId())
        f.glPixelStorei(GL_UNPACK_ALIGNMENT, 4)
        bits = a.image.constBits()
        if not self.allocated:
            # positions are snapped to device pixels: nearest sampling is exact and cheaper
            for pname, val in ((GL_TEXTURE_MIN_FILTER, GL_NEAREST), (GL_TEXTURE_MAG_FILTER, GL_NEAREST),
                               (GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE), (GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE)):
                f.glTexParameteri(GL_TEXTURE_2D, pname, val)
            f.glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA, a.width, a.height, 0, GL_RGBA, GL_UNSIGNED_BYTE, bits)
            self.allocated = True
        elif a.dirty is not None:
            y0, y1 = a.dirty
            rows = memoryview(bits)[y0 * a.width * 4:y1 * a.width * 4]
            f.glTexSubImage2D(GL_TEXTURE_2D, 0, 0, y0, a.width, y1 - y0, GL_RGBA, GL_UNSIGNED_BYTE, rows)
        a.dirty = None

    def draw(self, f, items: list[tuple[QPixmap, float, float]],  # type: ignore[no-untyped-def]
             view_w: float, view_h: float, dpr: float, opacity: float) -> list[tuple[QPixmap, float, float]]:
        """Draw ``(pixmap, x, y)`` items (logical px); returns those that did not fit the atlas."""
        rects: list[tuple[int, int, int, int] | None] = []
        for pix, _, _ in items:
            r = self.atlas.place(pix)
            if r is None:
                # full: rebuild from what is on screen now
                self.atlas.clear()
                rects = [self.atlas.place(p) for p, _, _ in items[:len(rects)]]
                r = self.atlas.place(pix)
            rects.append(r)
        ok = [i for i, r in enumerate(rects) if r is not None]
        rest = [items[i] for i, r in enumerate(rects) if r is None]
        if not ok:
            return rest
        a = self.atlas
        rr = np.array([rects[i] for i in ok], dtype=np.float32)  # atlas x, y, w, h (device px)
        xy = np.array([(items[i][1], items[i][2]) for i in ok], dtype=np.float32)
        x0 = np.round(xy[:, 0] * dpr) / dpr
        y0 = np.round(xy[:, 1] * dpr) / dpr
        x1, y1 = x0 + rr[:, 2] / dpr, y0 + rr[:, 3] / dpr
        s0, t0 = rr[:, 0] / a.width, rr[:, 1] / a.height
        s1, t1 = (rr[:, 0] + rr[:, 2]) / a.width, (rr[:, 1] + rr[:, 3]) / a.height
        corners = [(x0, y0, s0, t0), (x1, y0, s1, t0), (x0, y1, s0, t1),
                   (x0, y1, s0, t1), (x1, y0, s1, t0), (x1, y1, s1, t1)]
        verts = np.stack([np.stack(c, axis=1) for c in corners], axis=1).astype(np.float32)
        data = verts.tobytes()
        prog = self.program
        prog.bind()
        f.glActiveTexture(GL_TEXTURE0)
        self._upload(f)
        prog.setUniformValue1i("t_atlas", 0)  # type: ignore[call-overload]  # PySide6 takes str names; its stubs say bytes
        prog.setUniformValue1f("u_opacity", float(opacity))  # type: ignore[call-overload]
        prog.setUniformValue("u_view", float(view_w), float(view_h))  # type: ignore[call-overload]
        f.glEnable(GL_BLEND)
        f.glBlendFunc(GL_ONE, GL_ONE_MINUS_SRC_ALPHA)
        self.vbo.bind()
        self.vbo.allocate(data, len(data))
        prog.enableAttributeArray(0)
        prog.enableAttributeArray(1)
        prog.setAttributeBuffer(0, GL_FLOAT, 0, 2, 16)
        prog.setAttributeBuffer(1, GL_FLOAT, 8, 2, 16)
        f.glDrawArrays(GL_TRIANGLES, 0, len(ok) * 6)
        prog.disableAttributeArray(0)
        prog.disableAttributeArray(1)
        self.vbo.release()
        f.glBindTexture(GL_TEXTURE_2D, 0)
        f.glDisable(GL_BLEND)
        prog.release()
        return rest
