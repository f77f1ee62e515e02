"""OpenGL video view: YUV planes uploaded as single-channel textures, converted in a shader.

No per-frame RGB conversion on the CPU (STYLE habit 9): each plane becomes a texture (``GL_R8``
on GL 3+/GLES 3, ``GL_LUMINANCE`` on GLES 2; NV12's chroma is ``GL_RG8``/``GL_LUMINANCE_ALPHA``)
and a fragment shader applies the BT.601/BT.709 x limited/full matrix from
:mod:`app.ui.video.video_math`. Row padding (stride > width) is uploaded as is and cut off with a
texture-coordinate scale, which works on every GL version. The picture is letterboxed with the
viewport, in device pixels (HiDPI). Overlay layers (danmaku, hearts) are painted afterwards with
QPainter on the same surface.
"""

from __future__ import annotations

import logging
import time

import numpy as np

from app.play.frame import PixelFormat, YuvFrame
from app.ui.qt import (
    QCoreApplication,
    QOpenGLBuffer,
    QOpenGLContext,
    QOpenGLShader,
    QOpenGLShaderProgram,
    QOpenGLTexture,
    QOpenGLWidget,
    QPainter,
    QRectF,
    Signal,
)
from app.ui.video.video_math import letterbox, yuv_to_rgb_matrix
from app.ui.video.video_view_base import FrameSlot, ViewStats, paint_layers

log = logging.getLogger(__name__)

GL_TEXTURE_2D = 0x0DE1
GL_TEXTURE0 = 0x84C0
GL_TEXTURE_MIN_FILTER = 0x2801
GL_TEXTURE_MAG_FILTER = 0x2800
GL_TEXTURE_WRAP_S = 0x2802
GL_TEXTURE_WRAP_T = 0x2803
GL_LINEAR = 0x2601
GL_CLAMP_TO_EDGE = 0x812F
GL_UNPACK_ALIGNMENT = 0x0CF5
GL_UNSIGNED_BYTE = 0x1401
GL_FLOAT = 0x1406
GL_TRIANGLE_STRIP = 0x0005
GL_COLOR_BUFFER_BIT = 0x4000
GL_BLEND = 0x0BE2
GL_DEPTH_TEST = 0x0B71
GL_SCISSOR_TEST = 0x0C11
GL_RED, GL_R8 = 0x1903, 0x8229
GL_RG, GL_RG8 = 0x8227, 0x822B
GL_LUMINANCE, GL_LUMINANCE_ALPHA = 0x1909, 0x190A
GL_RENDERER, GL_VERSION = 0x1F01, 0x1F02

VERTEX_SHADER = """
attribute vec2 a_pos;
attribute vec2 a_tex;
varying vec2 v_tex;
void main() {
    gl_Position = vec4(a_pos, 0.0, 1.0);
    v_tex = a_tex;
}
"""

FRAGMENT_SHADER = """
#ifdef GL_ES
precision mediump float;
#endif
varying vec2 v_tex;
uniform sampler2D t_y;
uniform sampler2D t_u;
uniform sampler2D t_v;
uniform vec2 u_scale_y;   // visible / padded width, and the last texel centre to clamp to
uniform vec2 u_scale_c;
uniform float u_nv12;
uniform vec3 u_r;
uniform vec3 u_g;
uniform vec3 u_b;
uniform vec3 u_off;
void main() {
    vec2 ty = vec2(min(v_tex.x * u_scale_y.x, u_scale_y.y), v_tex.y);
    vec2 tc = vec2(min(v_tex.x * u_scale_c.x, u_scale_c.y), v_tex.y);
    float y = texture2D(t_y, ty).r;
    vec4 c = texture2D(t_u, tc);
    vec2 uv = u_nv12 > 0.5 ? vec2(c.r, c.UV_SECOND) : vec2(c.r, texture2D(t_v, tc).r);
    vec3 yuv = vec3(y, uv);
    vec3 rgb = vec3(dot(u_r, yuv), dot(u_g, yuv), dot(u_b, yuv)) + u_off;
    gl_FragColor = vec4(clamp(rgb, 0.0, 1.0), 1.0);
}
"""

# x, y (NDC), s, t: the first row of the frame at the top of the viewport
QUAD = np.array([-1, -1, 0, 1, 1, -1, 1, 1, -1, 1, 0, 0, 1, 1, 1, 0], dtype=np.float32)


class _Plane:
    """One texture and the size it was last allocated with."""

    def __init__(self) -> None:
        self.tex = QOpenGLTexture(QOpenGLTexture.Target.Target2D)
        self.tex.create()
        self.size = (0, 0)


class GlVideoView(QOpenGLWidget, FrameSlot):
    """Shows the latest :class:`YuvFrame` given to :meth:`set_frame`, letterboxed.

    Emits ``gl_failed(reason)`` if the GL context or shaders cannot be set up; the
    :class:`~app.ui.video.video_view.VideoView` container then swaps in the QPainter view.
    """

    gl_failed = Signal(str)
    backend = "gl"

    def __init__(self, parent=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__(parent)
        self.layers: list[object] = []
        self.stats = ViewStats()
        self.gl_info = ""
        self._frame: YuvFrame | None = None
        self._shown: YuvFrame | None = None
        self._program: QOpenGLShaderProgram | None = None
        self._vbo: QOpenGLBuffer | None = None
        self._planes: list[_Plane] = []
        self._failed = False
        self.gl_resources: dict[int, object] = {}  # per-layer GL objects (see _paint_gl_layers)
        self._single = (GL_R8, GL_RED)
        self._double = (GL_RG8, GL_RG)

    # -- API -------------------------------------------------------------------------------

    # -- GL --------------------------------------------------------------------------------

    def initializeGL(self) -> None:
        ctx = QOpenGLContext.currentContext()
        if ctx is None or not ctx.isValid():
            self._fail("no valid OpenGL context")
            return
        f = ctx.functions()
        fmt = ctx.format()
        self.gl_info = f"{f.glGetString(GL_RENDERER)} / {f.glGetString(GL_VERSION)}"
        if ctx.isOpenGLES() and fmt.majorVersion() < 3:
            self._single = (GL_LUMINANCE, GL_LUMINANCE)
            self._double = (GL_LUMINANCE_ALPHA, GL_LUMINANCE_ALPHA)
        second = "a" if self._double[1] == GL_LUMINANCE_ALPHA else "g"
        prog = QOpenGLShaderProgram(self)
        ok = prog.addShaderFromSourceCode(QOpenGLShader.ShaderTypeBit.Vertex, VERTEX_SHADER)
        ok = ok and prog.addShaderFromSourceCode(QOpenGLShader.ShaderTypeBit.Fragment,
                                                 FRAGMENT_SHADER.replace("UV_SECOND", second))
        prog.bindAttributeLocation("a_pos", 0)
        prog.bindAttributeLocation("a_tex", 1)
        if not ok or not prog.link():
            self._fail(f"shader setup failed: {prog.log()}")
            return
        self._program = prog
        vbo = QOpenGLBuffer(QOpenGLBuffer.Type.VertexBuffer)
        vbo.create()
        vbo.bind()
        vbo.allocate(QUAD.tobytes(), QUAD.nbytes)
        vbo.release()
        self._vbo = vbo
        self._planes = []
        self._shown = None
        ctx.aboutToBeDestroyed.connect(self.release_gl)
        app = QCoreApplication.instance()
        if app is not None:  # textures must go while the context still exists
            app.aboutToQuit.connect(self.release_gl)
        log.info("GL video view on %s", self.gl_info)

    def _fail(self, reason: str) -> None:
        log.warning("OpenGL video view unavailable: %s", reason)
        self._failed = True
        self.gl_failed.emit(reason)

    def release_gl(self) -> None:
        """Free GL objects (textures are re-created on demand if painting continues).

        Everything is deleted while this view's context is current and no Python reference
        outlives ``doneCurrent`` (a wrapper collected later would have Qt delete its GL object in
        whatever context is current then; see ``GlDanmakuBatch.destroy``)."""
        if not self._planes and not self.gl_resources:
            return
        self.makeCurrent()
        planes, self._planes = self._planes, []
        resources = list(self.gl_resources.values())
        self.gl_resources.clear()
        while planes:
            planes.pop().tex.destroy()
        while resources:
            resources.pop().destroy()  # type: ignore[attr-defined]
        self._shown = None
        self.doneCurrent()

    def paintGL(self) -> None:
        t0 = time.perf_counter()
        painter = QPainter(self)
        painter.beginNativePainting()
        try:
            f = QOpenGLContext.currentContext().functions()
            f.glClearColor(0.0, 0.0, 0.0, 1.0)
            f.glClear(GL_COLOR_BUFFER_BIT)
            frame = self._frame
            if frame is not None and self._program is not None and not self._failed:
                if frame is not self._shown:
                    self._upload(f, frame)
                self._draw(f, frame)
            t1 = time.perf_counter()
            self._paint_gl_layers(f)
        finally:
            painter.endNativePainting()
        paint_layers(self.layers, painter, QRectF(self.rect()), self.video_rect())
        painter.end()
        self.stats.overlay_ms = (time.perf_counter() - t1) * 1000
        self.stats.paint_ms = (time.perf_counter() - t0) * 1000
        self.stats.paints += 1

    def _paint_gl_layers(self, f) -> None:  # type: ignore[no-untyped-def]
        """Layers with a ``paint_gl(view, functions)`` hook draw with raw GL first (batched)."""
        if self._failed:
            return
        dpr = self.devicePixelRatioF()
        f.glViewport(0, 0, round(self.width() * dpr), round(self.height() * dpr))
        for layer in self.layers:
            hook = getattr(layer, "paint_gl", None)
            if hook is None:
                continue
            try:
                hook(self, f)
            except Exception:  # noqa: BLE001 - the layer falls back to its QPainter paint
                log.exception("GL overlay layer %r failed", layer)

    def _upload(self, f, frame: YuvFrame) -> None:  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        if not self._planes:
            self._planes = [_Plane() for _ in range(3)]
        f.glPixelStorei(GL_UNPACK_ALIGNMENT, 1)
        nv12 = frame.pixel_format is PixelFormat.NV12
        fmts = [self._single, self._double] if nv12 else [self._single] * 3
        for i, (plane, (internal, fmt)) in enumerate(zip(frame.planes, fmts)):
            arr = plane if plane.flags.c_contiguous else np.ascontiguousarray(plane)
            ch = 2 if (nv12 and i == 1) else 1
            w, h = arr.shape[1] // ch, arr.shape[0]
            p = self._planes[i]
            f.glActiveTexture(GL_TEXTURE0 + i)
            f.glBindTexture(GL_TEXTURE_2D, p.tex.textureId())
            if p.size != (w, h):
                for pname, val in ((GL_TEXTURE_MIN_FILTER, GL_LINEAR), (GL_TEXTURE_MAG_FILTER, GL_LINEAR),
                                   (GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE),
                                   (GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE)):
                    f.glTexParameteri(GL_TEXTURE_2D, pname, val)
                f.glTexImage2D(GL_TEXTURE_2D, 0, internal, w, h, 0, fmt, GL_UNSIGNED_BYTE, arr)
                p.size = (w, h)
            else:
                f.glTexSubImage2D(GL_TEXTURE_2D, 0, 0, 0, w, h, fmt, GL_UNSIGNED_BYTE, arr)
        f.glActiveTexture(GL_TEXTURE0)
        self._shown = frame
        self.stats.uploads += 1
        self.stats.upload_ms = (time.perf_counter() - t0) * 1000

    def _draw(self, f, frame: YuvFrame) -> None:  # type: ignore[no-untyped-def]
        prog, vbo = self._program, self._vbo
        assert prog is not None and vbo is not None
        dpr = self.devicePixelRatioF()
        x, y, w, h = letterbox(self.width(), self.height(), frame.display_aspect)
        fb_h = round(self.height() * dpr)
        # GL's viewport origin is bottom-left
        vx, vw, vh = round(x * dpr), round(w * dpr), round(h * dpr)
        vy = fb_h - round(y * dpr) - vh
        f.glViewport(vx, vy, max(1, vw), max(1, vh))
        f.glDisable(GL_BLEND)
        f.glDisable(GL_DEPTH_TEST)
        f.glDisable(GL_SCISSOR_TEST)
        prog.bind()
        nv12 = frame.pixel_format is PixelFormat.NV12
        tw_y = self._planes[0].size[0]
        tw_c = self._planes[1].size[0]
        cw = (frame.width + 1) // 2
        prog.setUniformValue("u_scale_y", frame.width / tw_y, (frame.width - 0.5) / tw_y)  # type: ignore[call-overload]  # PySide6 takes str names; its stubs say bytes
        prog.setUniformValue("u_scale_c", cw / tw_c, (cw - 0.5) / tw_c)  # type: ignore[call-overload]
        prog.setUniformValue1f("u_nv12", 1.0 if nv12 else 0.0)  # type: ignore[call-overload]
        m, off = yuv_to_rgb_matrix(frame.color_space, frame.color_range)
        for name, row in (("u_r", m[0]), ("u_g", m[1]), ("u_b", m[2]), ("u_off", off)):
            prog.setUniformValue(name, float(row[0]), float(row[1]), float(row[2]))  # type: ignore[call-overload]
        for i, name in enumerate(("t_y", "t_u", "t_v")):
            prog.setUniformValue1i(name, i)  # type: ignore[call-overload]
            f.glActiveTexture(GL_TEXTURE0 + i)
            f.glBindTexture(GL_TEXTURE_2D, self._planes[i].tex.textureId())
        vbo.bind()
        prog.enableAttributeArray(0)
        prog.enableAttributeArray(1)
        prog.setAttributeBuffer(0, GL_FLOAT, 0, 2, 16)
        prog.setAttributeBuffer(1, GL_FLOAT, 8, 2, 16)
        f.glDrawArrays(GL_TRIANGLE_STRIP, 0, 4)
        prog.disableAttributeArray(0)
        prog.disableAttributeArray(1)
        vbo.release()
        for i in (2, 1, 0):
            f.glActiveTexture(GL_TEXTURE0 + i)
            f.glBindTexture(GL_TEXTURE_2D, 0)
        prog.release()
        if frame is not self.stats.last_shown:
            self.stats.frames_shown += 1
            self.stats.last_shown = frame
