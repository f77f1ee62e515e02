"""A seek bar whose click jumps to the clicked position (and keeps dragging from there).

A plain :class:`QSlider` pages by ``pageStep`` when the groove is clicked; for a media seek bar
users expect the click to land where they clicked. The press moves the handle under the mouse
first, so the normal press/drag/release signals follow (``sliderReleased`` then seeks).
"""

from __future__ import annotations

from app.ui.qt import QSlider, QStyle, QStyleOptionSlider, Qt, QWidget


class SeekSlider(QSlider):
    """Horizontal slider: a left click on the groove moves the handle to the click."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)

    def value_at(self, x: float) -> int:
        """The slider value under the widget x coordinate ``x``."""
        opt = QStyleOptionSlider()
        self.initStyleOption(opt)
        style = self.style()
        groove = style.subControlRect(QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderGroove, self)
        handle = style.subControlRect(QStyle.ComplexControl.CC_Slider, opt, QStyle.SubControl.SC_SliderHandle, self)
        span = max(1, groove.width() - handle.width())
        pos = int(round(x - groove.x() - handle.width() / 2))
        return QStyle.sliderValueFromPosition(self.minimum(), self.maximum(), max(0, min(pos, span)), span,
                                              opt.upsideDown)

    def mousePressEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        if event.button() == Qt.MouseButton.LeftButton and self.maximum() > self.minimum():
            self.setSliderPosition(self.value_at(event.position().x()))  # the handle is now under the mouse
        super().mousePressEvent(event)
