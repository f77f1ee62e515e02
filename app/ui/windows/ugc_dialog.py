"""The "Record short video" (录制短视频) window: record a clip, review it, publish it (SPEC section 8).

Phases (``phase``): ``setup`` (live preview of the chosen source), ``recording`` (elapsed time
against the 60 s limit), ``stopping`` (the file is being finalised), ``review`` (the clip plays
from its local file with a :class:`~app.play.player.Player`; title, location, Publish, Record
again) and ``publishing`` (upload progress). The :class:`RecordController` owns source, audio
and recorder; :func:`app.ugc.publish_clip` runs off the UI thread through :mod:`app.ui.ops` with
its progress re-posted here. On success ``published(UgcInfo)`` is emitted (the main window
refreshes its Short videos tab) and the window goes back to the preview.

Closing stops the preview, the recorder (a clip being recorded is discarded) and the player
without blocking; a publish already under way finishes first (the window hides and deletes
itself when the upload has answered).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from app.api.client import UgcInfo
from app.capture.audio import ToneSource, list_input_devices, open_microphone
from app.play.errors import PlayCode
from app.ugc import ClipInfo, publish_clip
from app.ui.controllers.account import Account
from app.ui.controllers.devices import make_player, pick_camera, pick_microphone
from app.ui.controllers.ugc_recorder import MAX_SECONDS, RecordController, remove_clip
from app.ui.errors import error_text, mic_warning_text, play_error_text
from app.ui.ops import Op, run_op
from app.ui.qt import (
    QCoreApplication,
    QKeySequence,
    QShortcut,
    QSizePolicy,
    QStyle,
    Qt,
    QVBoxLayout,
    QWidget,
    Signal,
)
from app.ui.settings import ClientSettings
from app.ui.video.video_view import VideoView, display_timer
from app.ui.widgets.golive_setup import source_choices
from app.ui.widgets.golive_text import named
from app.ui.widgets.ugc_panels import PublishPanel, RecordBar, ReviewBar, SourceBar
from app.ui.windows.geometry import fit_to_screen
from app.ui.windows.play_window import PlayerController
from app.ui.windows.replay_window import clock_text

log = logging.getLogger(__name__)

MIC_NONE, MIC_TONE = "none", "tone"
SOURCE_KINDS = ("testsrc", "camera", "screen")  # sources that need no extra argument


def recording_sources() -> list[tuple[str, str]]:
    """(translated label, spec) of the camera / screen / test pattern sources go-live offers."""
    out = []
    for label, spec in source_choices():
        if spec.partition(":")[0] in SOURCE_KINDS:
            out.append((QCoreApplication.translate("SetupPanel", label), spec))
    return out


class UgcDialog(QWidget):
    """See the module docstring. ``published(UgcInfo)`` after a successful publish."""

    published = Signal(object)

    def __init__(self, account: Account, settings: ClientSettings, parent: QWidget | None = None,
                 backend: str = "auto", max_seconds: float = MAX_SECONDS) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.account, self.client_settings = account, settings
        self.setObjectName("ugcDialog")
        self.setWindowTitle(self.tr("Record short video"))
        self.phase = "setup"
        self.clip: ClipInfo | None = None
        self.player: Any = None
        self.player_ctl: PlayerController | None = None
        self.played_frames = 0
        self.last_published: UgcInfo | None = None
        self.threads: list[threading.Thread] = []  # cleanup threads (tests join them)
        self._op: Op | None = None
        self._closing = False
        self._last_frame: object = None
        self.device_warning = ""  # a saved camera/microphone that is gone
        self.rec = RecordController(settings.client_dir / "ugc", settings.resolution, settings.fps,
                                    settings.bitrate_kbps, max_seconds, self)
        self._build(backend)
        self._wire()
        self.timer = display_timer(self, self.on_tick, 33)
        self._show_phase()
        fit_to_screen(self, 860, 760)
        self._choose_defaults()

    # --- layout -------------------------------------------------------------------------------
    def _build(self, backend: str) -> None:
        self.sources = SourceBar(recording_sources(), self._microphones())
        self.view = named(VideoView(self, backend=backend), "ugcView")
        self.view.setMinimumSize(480, 270)
        self.view.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.record_bar = RecordBar(self.rec.max_seconds)
        self.review_bar = ReviewBar()
        self.publish_panel = PublishPanel()
        lay = QVBoxLayout(self)
        lay.addWidget(self.sources)
        lay.addWidget(self.view, 1)
        lay.addWidget(self.record_bar)
        lay.addWidget(self.review_bar)
        lay.addWidget(self.publish_panel)
        self.record_button, self.stop_button = self.record_bar.record, self.record_bar.stop
        self.play_button, self.again_button = self.review_bar.play, self.review_bar.again
        self.title, self.location = self.publish_panel.title, self.publish_panel.location
        self.publish_button, self.progress = self.publish_panel.publish, self.publish_panel.progress
        self.status = self.publish_panel.status

    def _microphones(self) -> list[tuple[str, object]]:
        mics: list[tuple[str, object]] = [(self.tr("No microphone (silent track)"), MIC_NONE)]
        for d in list_input_devices():
            mics.append((str(d.get("name", self.tr("microphone"))), d.get("index")))
        mics.append((self.tr("Test tone"), MIC_TONE))
        return mics

    def _wire(self) -> None:
        s = self.sources
        s.source.currentIndexChanged.connect(self._source_changed)
        s.mic.currentIndexChanged.connect(self._mic_changed)
        self.record_button.clicked.connect(self.start_recording)
        self.stop_button.clicked.connect(self.stop_recording)
        self.play_button.clicked.connect(self.toggle_pause)
        self.again_button.clicked.connect(self.record_again)
        self.publish_button.clicked.connect(self.publish)
        self.title.textChanged.connect(lambda _t: self._update_publish())
        self.rec.source_error.connect(lambda text: self.show_status(text, error=True))
        self.rec.source_opened.connect(self._source_opened)
        self.rec.progress.connect(self._recorded)
        self.rec.finished.connect(self._recording_finished)
        for key, slot in (("Ctrl+R", self.toggle_recording), ("Ctrl+Return", self.publish),
                          ("Ctrl+W", self.close)):
            QShortcut(QKeySequence(key), self).activated.connect(slot)

    def _choose_defaults(self) -> None:
        """Start on the camera and microphone chosen in the settings (gone: the defaults, with a note)."""
        combo, mics = self.sources.source, self.sources.mic
        specs = [str(combo.itemData(i)) for i in range(combo.count())]
        spec, cam_warning = pick_camera(self.client_settings.camera, specs, fallback=specs[0] if specs else "")
        devices = [{"index": mics.itemData(i), "name": mics.itemText(i)} for i in range(mics.count())
                   if isinstance(mics.itemData(i), int)]
        mic, mic_warning = pick_microphone(self.client_settings.microphone, devices)
        if mics.findData(mic) >= 0:
            mics.setCurrentIndex(mics.findData(mic))
        if combo.findData(spec) >= 0:
            combo.setCurrentIndex(combo.findData(spec))  # opens it (signal)
        self.device_warning = " ".join(w for w in (cam_warning, mic_warning) if w)
        self._source_changed()
        if self.device_warning:
            self.show_status(self.device_warning, error=True)

    def _source_opened(self, _spec: str) -> None:
        self.show_status(self.device_warning, error=bool(self.device_warning))  # shown until the next status
        self.device_warning = ""

    # --- source -------------------------------------------------------------------------------
    def select_source(self, spec: str) -> None:
        """Choose a source by spec (``testsrc``, ``camera:0``...) and open it."""
        i = self.sources.source.findData(spec)
        if i >= 0 and i != self.sources.source.currentIndex():
            self.sources.source.setCurrentIndex(i)

    def _source_changed(self, *_: Any) -> None:
        spec = str(self.sources.source.currentData() or "")
        if not spec or self.phase != "setup":
            return
        if (spec == "testsrc" and self.sources.mic.currentData() == MIC_NONE
                and self.client_settings.microphone != MIC_NONE):  # a chosen "none" stays
            self.sources.mic.setCurrentIndex(self.sources.mic.findData(MIC_TONE))
        self.show_status(self.tr("Opening the source…"))
        self.rec.open_source(spec)

    def _mic_changed(self, *_: Any) -> None:
        data = self.sources.mic.currentData()
        self._mic_ticket = ticket = getattr(self, "_mic_ticket", 0) + 1  # a slower open must not win
        if data == MIC_NONE:
            self.rec.set_microphone(None)
        elif data == MIC_TONE:
            self.rec.set_microphone(ToneSource(freq=660.0, amplitude=0.2, beep_period=1.0))
        else:
            def opened(result: tuple[object, str | None]) -> None:
                mic, warning = result
                if ticket != self._mic_ticket:  # another choice was made meanwhile
                    run_op(None, lambda: _close_source(mic), name="close_mic")
                    return
                self.rec.set_microphone(mic)
                if warning:
                    log.info("microphone %s: %s", data, warning)
                    self.show_status(mic_warning_text(), error=True)

            run_op(self, lambda: open_microphone(data), opened, name="open_mic")  # a device open can block

    # --- recording ----------------------------------------------------------------------------
    def toggle_recording(self) -> None:
        if self.phase == "setup":
            self.start_recording()
        elif self.phase == "recording":
            self.stop_recording()

    def start_recording(self) -> None:
        if self.phase != "setup":
            return
        try:
            self.rec.start_recording()
        except Exception as exc:  # noqa: BLE001 - UgcError (encoder), no source...
            log.warning("cannot start recording: %s", exc)
            self.show_status(self.tr("Cannot record: {0}").format(error_text(exc)), error=True)
            return
        self.show_status("")
        self.record_bar.set_elapsed(0.0)
        self._set_phase("recording")

    def stop_recording(self) -> None:
        if self.phase == "recording":
            self._set_phase("stopping")
            self.rec.stop_recording()

    def _recorded(self, seconds: float) -> None:
        self.record_bar.set_elapsed(seconds)

    def _recording_finished(self, clip: ClipInfo | None, error: str) -> None:
        if self._closing:
            return
        if clip is None:
            self.show_status(self.tr("Recording failed: {0}").format(error or self.tr("nothing was recorded")),
                             error=True)
            self._set_phase("setup")
            self.rec.start_preview()
            return
        self.clip = clip
        limit = clip.duration >= self.rec.max_seconds - 0.5
        self.show_status(self.tr("Recorded {0} (the {1} s limit).").format(clock_text(clip.duration),
                                                                            int(self.rec.max_seconds))
                         if limit else self.tr("Recorded {0}. Add a title and publish it.").format(
                             clock_text(clip.duration)))
        self.publish_panel.set_cover(str(clip.cover))
        self._start_player(clip)
        self._set_phase("review")
        self.title.setFocus()

    # --- review ---------------------------------------------------------------------------------
    def _start_player(self, clip: ClipInfo) -> None:
        self._stop_player()
        self.played_frames = 0
        self._last_frame = None
        try:
            player = make_player(str(clip.path), self.client_settings)
            player.start()
        except Exception as exc:  # noqa: BLE001 - PlayError: the file cannot be opened
            log.warning("cannot play the clip %s: %s", clip.path, exc)
            self.show_status(error_text(exc), error=True)
            return
        self.player = player
        self.player_ctl = PlayerController(player, self)
        self.player_ctl.error.connect(self._player_error)

    def _player_error(self, code: int, text: str) -> None:
        if code != PlayCode.AUDIO_DEVICE:  # playback goes on without sound
            self.show_status(play_error_text(code), error=True)

    def _stop_player(self, then_remove: ClipInfo | None = None) -> None:
        """Stop the player (and delete ``then_remove``'s files afterwards) off the UI thread."""
        player, self.player = self.player, None
        if self.player_ctl is not None:
            self.player_ctl.detach()
            self.player_ctl.deleteLater()
            self.player_ctl = None
        if player is None and then_remove is None:
            return

        def stop() -> None:
            if player is not None:
                try:
                    player.stop()
                except Exception:  # noqa: BLE001
                    log.exception("player.stop() failed")
            if then_remove is not None:
                remove_clip(then_remove)

        t = threading.Thread(target=stop, name="ugc-player-stop", daemon=True)
        self.threads.append(t)
        t.start()

    def toggle_pause(self) -> None:
        p = self.player
        if p is None:
            if self.clip is not None and self.phase in ("review", "publishing"):
                self._start_player(self.clip)
            return
        if getattr(p.end_reason, "value", None) == "eof":
            p.seek(0.0)
            p.resume()
        elif p.state.value == "paused":
            p.resume()
        else:
            p.pause()

    def record_again(self) -> None:
        """Discard the recorded clip and go back to the preview."""
        if self.phase != "review":
            return
        clip, self.clip = self.clip, None
        self._stop_player(then_remove=clip)
        self.title.clear()
        self.show_status("")
        self._set_phase("setup")
        self.rec.start_preview()

    # --- publishing -----------------------------------------------------------------------------
    def _update_publish(self) -> None:
        self.publish_button.setEnabled(self.phase == "review" and bool(self.title.text().strip()))

    def publish(self) -> None:
        clip, title = self.clip, self.title.text().strip()
        if self.phase != "review" or clip is None or not title:
            return
        if not self.account.is_logged_in:
            self.show_status(self.tr("Log in first to publish."), error=True)
            return
        client, location = self.account.client, self.location.text().strip()
        self._set_phase("publishing")
        self.progress.setRange(0, 0)  # busy until the first byte counts arrive
        self.show_status(self.tr("Publishing…"))
        self._op = run_op(self, lambda report: publish_clip(client, clip, title, location, progress=report),
                          self._published, self._publish_failed, progress=self._upload_progress,
                          name="publish_clip")

    def _upload_progress(self, sent: int, total: int) -> None:
        if total > 0:
            self.progress.setRange(0, 1000)
            self.progress.setValue(int(1000 * min(sent, total) / total))
            self.show_status(self.tr("Uploading… {0} %").format(int(100 * min(sent, total) / total)))

    def _published(self, info: UgcInfo) -> None:
        self._op = None
        self.last_published = info
        clip, self.clip = self.clip, None
        self._stop_player(then_remove=clip)
        log.info("short video published: %s (%s)", info.file_id, info.title)
        self.published.emit(info)
        if self._closing:
            self.deleteLater()
            return
        self.title.clear()
        self.location.clear()
        self._set_phase("setup")
        self.show_status(self.tr("Published “{0}”. It is now in Short videos.").format(info.title), ok=True)
        self.rec.start_preview()

    def _publish_failed(self, exc: BaseException) -> None:
        self._op = None
        if self._closing:
            self.deleteLater()
            return
        self.account.handle_failure(exc)
        self._set_phase("review")
        self.show_status(self.tr("Publishing failed: {0}").format(error_text(exc)), error=True)

    # --- display --------------------------------------------------------------------------------
    def show_status(self, text: str, error: bool = False, ok: bool = False) -> None:
        self.publish_panel.show_status(text, error, ok)

    def _set_phase(self, phase: str) -> None:
        self.phase = phase
        self._show_phase()

    def _show_phase(self) -> None:
        p = self.phase
        self.sources.setEnabled(p == "setup")
        self.record_bar.setVisible(p in ("setup", "recording", "stopping"))
        self.record_bar.set_phase(p)
        self.review_bar.setVisible(p in ("review", "publishing"))
        self.again_button.setEnabled(p == "review")
        self.publish_panel.set_phase(p)
        self._update_publish()

    def on_tick(self) -> None:
        """Display refresh: the player's frame in review, else the preview/recorder picture."""
        if self.phase in ("review", "publishing"):
            p = self.player
            frame = p.latest_frame() if p is not None else None
            if frame is not None and frame is not self._last_frame:
                self._last_frame = frame
                self.played_frames += 1
                self.view.set_frame(frame)
            self._show_position()
        else:
            frame = self.rec.latest_frame()
            if frame is not None and frame is not self._last_frame:
                self._last_frame = frame
                self.view.set_frame(frame)
        self.view.refresh()

    def _show_position(self) -> None:
        p = self.player
        duration = self.clip.duration if self.clip is not None else None
        pos = getattr(p, "position", None) if p is not None else None
        ended = p is None or getattr(p.end_reason, "value", None) == "eof"
        self.review_bar.time.setText(f"{clock_text(duration if ended and duration else pos)} / "
                                     f"{clock_text(duration)}")
        playing = p is not None and not ended and p.state.value != "paused"
        self.review_bar.set_playing(playing, self.style().standardIcon(
            QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay))

    # --- closing --------------------------------------------------------------------------------
    def closeEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        if not self._closing:
            self._closing = True
            self.timer.stop()
            self.view.release()
            self.threads.append(self.rec.close())
            if self._op is not None:  # the upload cannot be interrupted: finish it, then go
                self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
                self._stop_player()
            else:
                clip, self.clip = self.clip, None
                self._stop_player(then_remove=clip)
        super().closeEvent(event)


def _close_source(source: object) -> None:
    try:
        source.close()  # type: ignore[attr-defined]
    except Exception as exc:  # noqa: BLE001 - closing must never raise into the UI
        log.debug("closing %s: %s", type(source).__name__, exc)
