"""Go-live studio sections: video encoder, overlays (logo image / text) and multistream destinations.

Everything is kept in the anchor's :class:`ClientSettings` (saved at each change) and handed to
the :class:`PushController` through its setters: overlays show in the preview at once and in the
stream; the encoder and the extra destinations apply at the next "Go live". Text overlays are
rendered here with Qt's fonts (any script) and passed to the engine as BGRA pixels.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import numpy as np

from app.capture.overlays import POSITIONS, Overlay
from app.push.codecs import encoder_choices
from app.ui.controllers.push_controller import PushController
from app.ui.ops import run_op
from app.ui.qt import (
    QCheckBox,
    QColor,
    QComboBox,
    QFileDialog,
    QFont,
    QFontMetrics,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QImage,
    QLabel,
    QLineEdit,
    QListWidget,
    QPainter,
    QPushButton,
    QSlider,
    Qt,
    QVBoxLayout,
    QWidget,
)
from app.ui.settings import ClientSettings
from app.ui.widgets.golive_text import named

log = logging.getLogger(__name__)
MAX_ITEMS = 8


def render_text(text: str, px: int = 64) -> np.ndarray:
    """``text`` as white BGRA pixels with a dark outline (Qt fonts: CJK works)."""
    font = QFont()
    font.setPixelSize(px)
    font.setBold(True)
    m = QFontMetrics(font)
    w, h = max(1, m.horizontalAdvance(text) + 8), m.height() + 8
    img = QImage(w, h, QImage.Format.Format_ARGB32)
    img.fill(0)
    p = QPainter(img)
    p.setFont(font)
    p.setRenderHint(QPainter.RenderHint.TextAntialiasing)
    p.setPen(QColor(0, 0, 0, 200))
    for dx, dy in ((-2, 0), (2, 0), (0, -2), (0, 2)):
        p.drawText(4 + dx, 4 + m.ascent() + dy, text)
    p.setPen(QColor(255, 255, 255))
    p.drawText(4, 4 + m.ascent(), text)
    p.end()
    ptr = img.constBits()
    arr = np.frombuffer(ptr, np.uint8, count=img.sizeInBytes()).reshape(h, img.bytesPerLine() // 4, 4)
    return arr[:, :w].copy()  # Format_ARGB32 is B, G, R, A in memory on little-endian machines


def engine_overlays(saved: list[dict[str, Any]]) -> list[Overlay]:
    """The saved overlays as engine overlays (text pre-rendered); malformed entries are skipped."""
    out = []
    for d in saved:
        ov = Overlay.from_dict(d)
        if ov is not None:
            out.append(replace(ov, pixels=render_text(ov.text)) if ov.kind == "text" and ov.text else ov)
    return out


class StudioSection(QWidget):
    """See the module docstring."""

    def __init__(self, push: PushController, settings: ClientSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.push, self.settings = push, settings
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self._encoder_box())
        lay.addWidget(self._overlay_box())
        lay.addWidget(self._destination_box())
        self._apply_overlays()
        self._apply_destinations()

    # --- encoder ------------------------------------------------------------------------------
    def _encoder_box(self) -> QWidget:
        box = QGroupBox(self.tr("Encoder"))
        form = QFormLayout(box)
        self.encoder = named(QComboBox(), "encoderCombo")
        labels = {"auto": self.tr("Auto (hardware if available, else x264)"), "x264": self.tr("x264 (software)"),
                  "hevc": self.tr("HEVC (enhanced RTMP; hardware if available)")}
        for key in ("auto", "x264", "hevc"):
            self.encoder.addItem(labels[key], key)
        self._select_encoder()
        self.encoder.currentIndexChanged.connect(self._encoder_changed)
        form.addRow(self.tr("Video encoder"), self.encoder)
        run_op(self, encoder_choices, self._add_hardware, name="probe_encoders")  # probes: off the GUI thread
        return box

    def _add_hardware(self, choices: list[str]) -> None:
        for name in choices[3:]:
            if self.encoder.findData(name) < 0:
                self.encoder.addItem(self.tr("{0} (hardware)").format(name), name)
        self._select_encoder()

    def _select_encoder(self) -> None:
        i = self.encoder.findData(self.settings.encoder)
        if i >= 0:
            self.encoder.blockSignals(True)
            self.encoder.setCurrentIndex(i)
            self.encoder.blockSignals(False)

    def _encoder_changed(self, *_: Any) -> None:
        self.settings.encoder = str(self.encoder.currentData())
        self._save()

    def encoder_choice(self) -> str:
        return str(self.encoder.currentData() or "auto")

    # --- overlays -----------------------------------------------------------------------------
    def _overlay_box(self) -> QWidget:
        box = QGroupBox(self.tr("Overlays"))
        v = QVBoxLayout(box)
        self.overlay_list = named(QListWidget(), "overlayList")
        self.overlay_list.setMaximumHeight(70)
        self.overlay_list.currentRowChanged.connect(self._overlay_selected)
        v.addWidget(self.overlay_list)
        self.add_image = named(QPushButton(self.tr("Add image…")), "addImageOverlay")
        self.add_image.clicked.connect(self._browse_image)
        self.text_edit = named(QLineEdit(), "overlayText")
        self.text_edit.setPlaceholderText(self.tr("Text"))
        self.text_edit.setMaxLength(64)
        self.add_text = named(QPushButton(self.tr("Add text")), "addTextOverlay")
        self.add_text.clicked.connect(lambda: self.add_overlay(Overlay("text", text=self.text_edit.text().strip(),
                                                                           position="bottom-left", scale=0.06)))
        self.remove_overlay = QPushButton(self.tr("Remove"))
        self.remove_overlay.clicked.connect(self._remove_overlay)
        v.addWidget(_hrow(self.add_image, self.text_edit, self.add_text, self.remove_overlay))
        self.position = named(QComboBox(), "overlayPosition")
        names = {"top-left": self.tr("top left"), "top-right": self.tr("top right"),
                 "bottom-left": self.tr("bottom left"), "bottom-right": self.tr("bottom right"),
                 "center": self.tr("center")}
        for pos in POSITIONS:
            self.position.addItem(names[pos], pos)
        self.scale = named(_slider(1, 100, 15), "overlayScale")
        self.opacity = named(_slider(0, 100, 80), "overlayOpacity")
        for w in (self.position,):
            w.currentIndexChanged.connect(self._edit_overlay)
        for s in (self.scale, self.opacity):
            s.valueChanged.connect(self._edit_overlay)
        v.addWidget(_hrow(QLabel(self.tr("Position")), self.position, QLabel(self.tr("Scale")), self.scale,
                          QLabel(self.tr("Opacity")), self.opacity))
        self._refresh_overlays()
        return box

    def _browse_image(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Overlay image"), "",
                                              self.tr("Images (*.png *.jpg *.jpeg *.bmp *.webp)"))
        if path:
            self.add_overlay(Overlay("image", path=path))

    def add_overlay(self, ov: Overlay) -> None:
        """Add an overlay (shown in the preview at once, saved in the settings)."""
        if ov.kind == "text" and not ov.text or len(self.settings.overlays) >= MAX_ITEMS:
            return
        self.settings.overlays.append(ov.to_dict())
        self._refresh_overlays(select=len(self.settings.overlays) - 1)
        self._apply_overlays()

    def _remove_overlay(self) -> None:
        row = self.overlay_list.currentRow()
        if 0 <= row < len(self.settings.overlays):
            del self.settings.overlays[row]
            self._refresh_overlays()
            self._apply_overlays()

    def _overlay_selected(self, row: int) -> None:
        if not 0 <= row < len(self.settings.overlays):
            return
        ov = Overlay.from_dict(self.settings.overlays[row]) or Overlay()
        for w, value in ((self.scale, round(ov.scale * 100)), (self.opacity, round(ov.opacity * 100))):
            w.blockSignals(True)
            w.setValue(value)
            w.blockSignals(False)
        self.position.blockSignals(True)
        self.position.setCurrentIndex(max(0, self.position.findData(ov.position)))
        self.position.blockSignals(False)

    def _edit_overlay(self, *_: Any) -> None:
        row = self.overlay_list.currentRow()
        if not 0 <= row < len(self.settings.overlays):
            return
        d = self.settings.overlays[row]
        d.update(position=self.position.currentData(), scale=self.scale.value() / 100,
                 opacity=self.opacity.value() / 100)
        self._apply_overlays()

    def _refresh_overlays(self, select: int = 0) -> None:
        self.overlay_list.clear()
        for d in self.settings.overlays:
            label = d.get("text") if d.get("kind") == "text" else str(d.get("path", "")).rsplit("/", 1)[-1]
            self.overlay_list.addItem(f"{d.get('kind')}: {label}")
        if self.settings.overlays:
            self.overlay_list.setCurrentRow(min(select, len(self.settings.overlays) - 1))

    def _apply_overlays(self) -> None:
        self.push.set_overlays(engine_overlays(self.settings.overlays))
        self._save()

    # --- destinations -------------------------------------------------------------------------
    def _destination_box(self) -> QWidget:
        box = QGroupBox(self.tr("Also stream to"))
        v = QVBoxLayout(box)
        self.dest_rows = QVBoxLayout()
        v.addLayout(self.dest_rows)
        self.dest_url = named(QLineEdit(), "destUrl")
        self.dest_url.setPlaceholderText("rtmp://live.example.com/app")
        self.dest_key = named(QLineEdit(), "destKey")
        self.dest_key.setPlaceholderText(self.tr("stream key"))
        self.dest_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.dest_add = named(QPushButton(self.tr("Add")), "destAdd")
        self.dest_add.clicked.connect(lambda: self.add_destination(self.dest_url.text().strip(),
                                                                   self.dest_key.text().strip()))
        v.addWidget(_hrow(self.dest_url, self.dest_key, self.dest_add))
        self._rebuild_destinations()
        return box

    def add_destination(self, url: str, key: str, name: str = "") -> bool:
        """Add an enabled destination (rtmp:// or rtmps:// URL + stream key); False if not valid."""
        if not url.startswith(("rtmp://", "rtmps://")) or len(self.settings.destinations) >= MAX_ITEMS:
            return False
        host = url.split("/")[2] if url.count("/") >= 2 else url
        self.settings.destinations.append({"name": name or host[:40], "url": url, "key": key, "enabled": True})
        self.dest_url.clear()
        self.dest_key.clear()
        self._rebuild_destinations()
        self._apply_destinations()
        return True

    def _rebuild_destinations(self) -> None:
        while self.dest_rows.count():
            item = self.dest_rows.takeAt(0)
            w = item.widget() if item is not None else None
            if w is not None:
                w.deleteLater()
        for i, d in enumerate(self.settings.destinations):
            on = QCheckBox(f"{d.get('name')}  {d.get('url')}")
            on.setChecked(bool(d.get("enabled", True)))
            on.toggled.connect(lambda checked, i=i: self._toggle_destination(i, checked))
            rm = QPushButton(self.tr("Remove"))
            rm.clicked.connect(lambda _=False, i=i: self._remove_destination(i))
            self.dest_rows.addWidget(_hrow(on, rm, stretch_first=True))

    def _toggle_destination(self, i: int, on: bool) -> None:
        if 0 <= i < len(self.settings.destinations):
            self.settings.destinations[i]["enabled"] = on
            self._apply_destinations()

    def _remove_destination(self, i: int) -> None:
        if 0 <= i < len(self.settings.destinations):
            del self.settings.destinations[i]
            self._rebuild_destinations()
            self._apply_destinations()

    def _apply_destinations(self) -> None:
        if not self.push.publishing:
            self.push.extra_destinations = destination_urls(self.settings.destinations)
        self._save()

    def set_locked(self, locked: bool) -> None:
        for w in (self.encoder, self.dest_url, self.dest_key, self.dest_add):
            w.setEnabled(not locked)

    def _save(self) -> None:
        try:
            self.settings.save()
        except OSError as exc:
            log.warning("cannot save the settings: %s", exc)


def destination_urls(saved: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(name, publish URL) of the enabled destinations: the key is appended as the last path part."""
    out = []
    for d in saved:
        if d.get("enabled", True):
            url, key = str(d["url"]).rstrip("/"), str(d.get("key", "")).strip("/")
            out.append((str(d.get("name") or "dest"), f"{url}/{key}" if key else url))
    return out


def _slider(lo: int, hi: int, value: int) -> QSlider:
    s = QSlider(Qt.Orientation.Horizontal)
    s.setRange(lo, hi)
    s.setValue(value)
    return s


def _hrow(*widgets: QWidget, stretch_first: bool = False) -> QWidget:
    w = QWidget()
    lay = QHBoxLayout(w)
    lay.setContentsMargins(0, 0, 0, 0)
    for i, x in enumerate(widgets):
        lay.addWidget(x, 1 if stretch_first and i == 0 else 0)
    return w
