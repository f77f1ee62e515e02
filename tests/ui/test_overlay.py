"""Danmaku overlay and hearts on the offscreen platform."""

from __future__ import annotations

from app.danmaku import ClockMode, Mode
from app.ui.qt import QFontDatabase, QImage, QPainter, QRectF, Qt
from app.ui.video.danmaku_overlay import DanmakuOverlay, TextRenderer
from app.ui.widgets.hearts import HeartField, HeartsLayer


class Clock:
    def __init__(self, t: float = 100.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def paint(layer, w=640, h=360) -> QImage:
    img = QImage(w, h, QImage.Format.Format_ARGB32_Premultiplied)
    img.fill(Qt.GlobalColor.black)
    p = QPainter(img)
    layer.paint(p, QRectF(0, 0, w, h), QRectF(0, 0, w, h))
    p.end()
    return img


def lit(img: QImage, x0: int, y0: int, x1: int, y1: int) -> int:
    """Pixels brighter than the background inside a box."""
    n = 0
    for y in range(max(0, y0), min(img.height(), y1), 2):
        for x in range(max(0, x0), min(img.width(), x1), 2):
            if img.pixelColor(x, y).lightness() > 60:
                n += 1
    return n


def overlay(clock=None, mode=ClockMode.LIVE) -> DanmakuOverlay:
    o = DanmakuOverlay(clock=clock or Clock(), mode=mode)
    o.set_view_size(640, 360)
    return o


def test_text_is_rendered_once_then_moved(qapp):
    clock = Clock()
    o = overlay(clock)
    assert o.add("666")
    assert o.add("666")  # same text and style: cached
    assert o.add("主播好")
    assert o.renderer.renders == 2
    c = o.model.visible()[0]
    assert c.width == o.renderer.render("666", 0xFFFFFF, False).width()
    assert lit(paint(o), 0, 0, 640, 360) == 0  # starts just off the right edge
    clock.t += 0.3
    o.tick()
    assert lit(paint(o), 600, 0, 640, 40) > 0  # entering
    clock.t += 2.0
    o.tick()
    img1 = paint(o)
    x = o.model.position(c, clock.t)[0]
    assert 0 < x < 600
    assert lit(img1, int(x), 0, int(x + c.width), 40) > 0
    assert lit(img1, 600, 0, 640, 40) == 0


def test_outline_makes_white_text_readable_on_white(qapp):
    pix = TextRenderer(24).render("弹幕 test", 0xFFFFFF, False).toImage()
    dark = sum(1 for y in range(pix.height()) for x in range(pix.width())
               if pix.pixelColor(x, y).alpha() > 128 and pix.pixelColor(x, y).lightness() < 60)
    assert dark > 50


def test_cjk_text_has_glyphs_not_boxes(qapp):
    r = TextRenderer(24)
    a = r.render("弹幕", 0xFFFFFF, False).toImage()
    b = r.render("测试", 0xFFFFFF, False).toImage()
    assert a.width() > 40
    assert a != b  # a missing-glyph box would draw the same for both


def test_emoji_renders_in_colour_when_an_emoji_font_is_installed(qapp):
    if "Noto Color Emoji" not in QFontDatabase.families():
        return  # deployment without an emoji font: text still renders (see README note)
    img = TextRenderer(32).render("🎉", 0xFFFFFF, False).toImage()
    coloured = sum(1 for y in range(img.height()) for x in range(img.width())
                   if img.pixelColor(x, y).alpha() > 200 and img.pixelColor(x, y).saturation() > 120)
    assert coloured > 20


def test_own_comment_is_highlighted_and_first(qapp):
    o = overlay()
    plain = o.renderer.render("same text", 0xFFFFFF, False)
    mine = o.renderer.render("same text", 0xFFFFFF, True)
    assert mine.width() > plain.width()
    img = mine.toImage()
    border = img.pixelColor(1, img.height() // 2)
    assert border.blue() > 200 and border.red() < 150


def test_toggles(qapp):
    clock = Clock()
    o = overlay(clock)
    for i in range(5):
        o.add(f"comment {i}")
    clock.t += 1
    o.tick()
    assert o.model.on_screen() == 5
    o.set_opacity(0.3)
    img = paint(o)
    c = o.model.visible()[0]
    x, y = o.model.position(c, clock.t)
    brightest = max(img.pixelColor(xx, yy).lightness()
                    for xx in range(int(x), int(x + c.width)) for yy in range(int(y), int(y + 30)))
    assert brightest < 120  # white text at 30 % opacity over black
    lane_h = o.model.config.lane_height
    o.set_font_size(40)
    assert o.model.config.lane_height > lane_h and o.model.on_screen() == 0
    o.set_speed(2.0)
    o.add("fast")
    assert o.model.visible()[0].duration == o.model.lifetime()
    o.set_enabled(False)
    assert o.model.on_screen() == 0 and not o.add("ignored")
    assert lit(paint(o), 0, 0, 640, 360) == 0
    o.set_enabled(True)
    assert o.add("back")


def test_replay_mode_follows_media_time(qapp):
    media = Clock(10.0)
    o = overlay(media, ClockMode.REPLAY)
    o.tick()
    o.add("replay comment")
    media.t = 11.0
    o.tick()
    c = o.model.visible()[0]
    x = o.model.position(c, o.now)[0]
    for _ in range(3):  # paused
        o.tick()
    assert o.model.position(c, o.now)[0] == x
    media.t = 2.0  # seek back
    o.tick()
    assert o.model.on_screen() == 0


def test_multiline_and_blank_comments(qapp):
    o = overlay()
    assert not o.add("   \n\t ")
    assert o.add("line one\nline two")
    assert o.model.visible()[0].text == "line one line two"
    assert o.add("top", mode=Mode.TOP)


def test_hearts_capped_and_fading(qapp):
    clock = Clock(0.0)
    layer = HeartsLayer(max_alive=10, clock=clock)
    assert layer.like(4) == 4
    assert layer.like(20) == 6
    assert layer.field.dropped == 14 and layer.alive() == 10
    clock.t = 0.5
    layer.tick()
    img = paint(layer)
    assert lit(img, 540, 0, 640, 360) > 0  # bottom-right corner area
    clock.t = 10.0
    layer.tick()
    assert layer.alive() == 0
    assert lit(paint(layer), 0, 0, 640, 360) == 0


def test_heart_motion_rises_and_fades():
    field = HeartField(5, seed=1)
    field.spawn(0.0)
    h = field.hearts[0]
    early, late = h.state(h.born + 0.1 * h.life), h.state(h.born + 0.9 * h.life)
    assert early is not None and late is not None
    assert late[1] < early[1] < 0  # moving up
    assert late[3] < early[3] == 1.0  # fading out
    assert h.state(h.born + h.life) is None


def coloured_pixels(img: QImage) -> int:
    return sum(1 for y in range(img.height()) for x in range(img.width())
               if img.pixelColor(x, y).alpha() > 200 and img.pixelColor(x, y).saturation() > 120)


def test_emoji_still_render_after_cjk_and_mixed_text(qapp):
    """Regression: outlining via QPainterPath.addText made later emoji render empty."""
    if "Noto Color Emoji" not in QFontDatabase.families():
        return
    r = TextRenderer(24)
    for text in ("哈哈哈哈", "打卡 🎉", "这画质可以啊 1080p?", "❤️ 爱了爱了"):
        r.render(text, 0xFFFFFF, False)
    thumbs = r.render("👍👍👍", 0xFFFFFF, False)
    assert thumbs.width() >= 3 * 20 and coloured_pixels(thumbs.toImage()) > 100
    assert coloured_pixels(r.render("打卡 🎉", 0xFFFFFF, False).toImage()) > 20


def test_pixmaps_are_trimmed_to_the_text_and_placed_on_its_lane(qapp):
    clock = Clock()
    o = overlay(clock)
    lane_h = o.model.config.lane_height
    pix, dy = o.renderer.render_sprite("主播好", 0xFFFFFF, False)
    assert pix.height() < lane_h - 8 and 0 < dy and dy + pix.height() <= lane_h
    img = pix.toImage()
    alpha_rows = [max(img.pixelColor(x, y).alpha() for x in range(img.width())) for y in (0, img.height() - 1)]
    alpha_cols = [max(img.pixelColor(x, y).alpha() for y in range(img.height())) for x in (0, img.width() - 1)]
    assert min(alpha_rows + alpha_cols) > 0  # no transparent margin left
    o.add("主播好", mode=Mode.TOP)
    c = o.model.visible()[0]
    assert c.offset_y == dy
    shot = paint(o)
    x, y = o.model.position(c, clock.t)
    assert lit(shot, int(x), int(y + dy), int(x + c.width), int(y + dy + pix.height())) > 20
    assert lit(shot, 0, int(y + dy + pix.height()) + 2, 640, 360) == 0


def test_opacity_is_baked_into_the_images_not_set_per_frame(qapp):
    o = overlay()
    o.add("opaque", mode=Mode.TOP)
    c = o.model.visible()[0]
    full = c.payload.toImage()
    o.set_opacity(0.5)
    half = c.payload.toImage()
    assert c.payload is o.renderer.render("opaque", 0xFFFFFF, False)  # re-rendered, cached
    pick = max(((x, y) for y in range(full.height()) for x in range(full.width())),
               key=lambda p: full.pixelColor(*p).alpha())
    assert abs(half.pixelColor(*pick).alpha() - full.pixelColor(*pick).alpha() * 0.5 / 0.9) <= 3


def test_fixed_comments_do_not_cover_scrolling_ones_on_screen(qapp):
    clock = Clock()
    o = overlay(clock)
    for i in range(4):
        o.add(f"scrolling comment {i}")
    clock.t += 2.5
    o.tick()
    # rows 0-3 have a comment crossing the middle now: the top comments go below them
    assert all(o.add(f"top {i}", mode=Mode.TOP) for i in range(3))
    assert sorted(c.lane for c in o.model.visible() if c.mode is Mode.TOP) == [4, 5, 6]
    lh = o.model.config.lane_height
    rows = {}
    for c in o.model.visible():
        rows.setdefault(o.model.position(c, clock.t)[1] // lh, []).append(c)
    for cs in rows.values():
        spans = sorted((o.model.position(c, clock.t)[0], c.width) for c in cs)
        for (x1, w1), (x2, _) in zip(spans, spans[1:], strict=False):
            assert x1 + w1 <= x2
