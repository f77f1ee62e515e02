"""The main window: tabs Live / Replays / Short videos, a toolbar, the signed-in user, shortcuts.

Owns nothing but widgets: the account (``Account``) holds the API client, each tab is a
``FeedPage`` fed by a function of ``app.ui.controllers.sources``, watching goes through ``app.ui.controllers.watch``.
"""

from __future__ import annotations

import logging

from app.api.client import ApiError, UserInfo
from app.ui.controllers import watch
from app.ui.controllers.account import Account
from app.ui.controllers.images import ImageLoader, resource
from app.ui.controllers.sources import SOURCES
from app.ui.errors import error_text
from app.ui.qt import (
    QAction,
    QIcon,
    QImage,
    QKeySequence,
    QLabel,
    QMainWindow,
    QMessageBox,
    QSize,
    QSizePolicy,
    Qt,
    QTabWidget,
    QToolBar,
    QToolButton,
    QWidget,
)
from app.ui.widgets.cards import CardData, round_pixmap
from app.ui.widgets.feed import FeedPage
from app.ui.windows.geometry import fit_to_screen
from app.ui.windows.log_view import LogViewer
from app.ui.windows.login_dialog import LoginDialog
from app.ui.windows.profile import ProfileDialog
from app.ui.windows.settings_dialog import SettingsDialog

log = logging.getLogger(__name__)

TABS = ("live", "vod", "ugc")


class MainWindow(QMainWindow):
    """The client's main window. ``start()`` restores the session or asks the user to log in."""

    def __init__(self, account: Account, loader: ImageLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.account, self.loader = account, loader
        self.settings = account.settings
        self.setObjectName("mainWindow")
        self.setWindowTitle(self.tr("Xiaozhibo"))
        self.setWindowIcon(QIcon(str(resource("app_icon.png"))))
        fit_to_screen(self, 1180, 760)
        self.login_dialog: LoginDialog | None = None
        self.log_viewer: LogViewer | None = None
        self.players: list[QWidget] = []
        self.ugc_dialog: QWidget | None = None

        empty = {"live": self.tr("Nobody is live right now."),
                 "vod": self.tr("No replays yet. Finished live shows appear here."),
                 "ugc": self.tr("No short videos yet.")}
        titles = {"live": self.tr("Live"), "vod": self.tr("Replays"), "ugc": self.tr("Short videos")}
        self.tabs = QTabWidget()
        self.tabs.setObjectName("mainTabs")
        self.tabs.setDocumentMode(True)
        self.pages: dict[str, FeedPage] = {}
        for kind in TABS:
            page = FeedPage(kind, SOURCES[kind], lambda: self.account.client, loader, empty[kind],
                            self.settings.page_size)
            page.setObjectName(f"page_{kind}")
            page.activated.connect(self.watch)
            page.failed.connect(self.account.handle_failure)
            self.pages[kind] = page
            self.tabs.addTab(page, titles[kind])
        self.tabs.currentChanged.connect(self._tab_changed)
        self.setCentralWidget(self.tabs)
        self._build_toolbar()
        self.server_label = QLabel()
        self.server_label.setObjectName("serverLabel")
        self.statusBar().addPermanentWidget(self.server_label)
        self._update_status()

        account.logged_in.connect(self._logged_in)
        account.logged_out.connect(self._logged_out)
        account.profile_changed.connect(self._profile_changed)

    # --- building ----------------------------------------------------------------------
    def _action(self, text: str, shortcut: str | QKeySequence.StandardKey | None, slot, name: str) -> QAction:  # type: ignore[no-untyped-def]
        a = QAction(text, self)
        a.setObjectName(name)
        if shortcut is not None:
            a.setShortcut(QKeySequence(shortcut))
            a.setToolTip(f"{text} ({a.shortcut().toString(QKeySequence.SequenceFormat.NativeText)})")
        a.triggered.connect(slot)
        self.addAction(a)
        return a

    def _build_toolbar(self) -> None:
        self.act_refresh = self._action(self.tr("Refresh"), QKeySequence.StandardKey.Refresh, self.refresh_current,
                                        "actRefresh")
        self.act_golive = self._action(self.tr("Go live"), "Ctrl+L", self.go_live, "actGoLive")
        self.act_stop = self._action(self.tr("Stop live"), "Ctrl+Shift+L", self.stop_live, "actStopLive")
        self.act_mute = self._action(self.tr("Mute"), "Ctrl+M", self.toggle_mute, "actMute")
        self.act_record_ugc = self._action(self.tr("Record short video"), "Ctrl+Shift+R", self.record_short_video,
                                           "actRecordUgc")
        self.act_settings = self._action(self.tr("Settings"), "Ctrl+,", self.open_settings, "actSettings")
        self.act_logs = self._action(self.tr("Log"), "Ctrl+Shift+J", self.open_logs, "actLogs")
        self.act_profile = self._action(self.tr("My profile"), "Ctrl+P", self.open_profile, "actProfile")
        self.act_logout = self._action(self.tr("Log out"), None, lambda: self.account.logout(), "actLogout")
        self.act_quit = self._action(self.tr("Quit"), QKeySequence.StandardKey.Quit, self.close, "actQuit")
        for i, kind in enumerate(TABS):
            self._action(self.tabs.tabText(i), f"Ctrl+{i + 1}", lambda _=False, i=i: self.tabs.setCurrentIndex(i),
                         f"actTab_{kind}")
        self.act_stop.setEnabled(False)
        self.act_mute.setEnabled(False)
        bar = QToolBar(self.tr("Main"))
        bar.setObjectName("mainToolbar")
        bar.setMovable(False)
        bar.setIconSize(QSize(20, 20))
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        bar.addAction(self.act_refresh)
        bar.addAction(self.act_golive)
        bar.widgetForAction(self.act_golive).setObjectName("goLiveButton")
        bar.addAction(self.act_record_ugc)
        bar.widgetForAction(self.act_record_ugc).setObjectName("recordUgcButton")
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        bar.addWidget(spacer)
        bar.addAction(self.act_logs)
        bar.addAction(self.act_settings)
        self.user_button = QToolButton()
        self.user_button.setObjectName("userButton")
        self.user_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.user_button.setIconSize(QSize(28, 28))
        self.user_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.user_button.addAction(self.act_profile)
        self.user_button.addAction(self.act_logout)
        bar.addWidget(self.user_button)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        self._set_user_icon(QImage(str(resource("default_avatar.png"))))

    # --- session -----------------------------------------------------------------------
    def start(self) -> None:
        """Show the window and restore the cached session (or ask to log in)."""
        self.show()
        for page in self.pages.values():
            page.show_message("\u231B", self.tr("Signing in\u2026"), None)
        self.account.auto_login(self._auto_login_done, self._auto_login_failed)

    def _auto_login_done(self, session: object) -> None:
        if session is None:
            self.ask_login()

    def _auto_login_failed(self, exc: BaseException) -> None:
        self.ask_login(error_text(exc), show_server=isinstance(exc, ApiError) and exc.code == ApiError.NETWORK)

    def ask_login(self, message: str = "", show_server: bool = False) -> LoginDialog:
        """Open the login dialog (window-modal); closing it without signing in quits."""
        if self.login_dialog is not None:
            self.login_dialog.show_error(message)
            self.login_dialog.raise_()
            return self.login_dialog
        for page in self.pages.values():  # not "Signing in…" behind the dialog: nothing is signing in
            page.show_message("\U0001F512", self.tr("Log in to see live rooms, replays and short videos."), None)
        dlg = LoginDialog(self.account, self, message, show_server)
        dlg.setWindowModality(Qt.WindowModality.WindowModal)
        dlg.finished.connect(self._login_finished)
        self.login_dialog = dlg
        dlg.open()
        return dlg

    def _login_finished(self, result: int) -> None:
        self.login_dialog = None
        if not self.account.is_logged_in:
            log.info("login dialog closed without signing in; quitting")
            self.close()

    def _logged_in(self, userid: str) -> None:
        if self.login_dialog is not None:  # signed in some other way (or the dialog's own call)
            self.login_dialog.accept()
        self._update_status()
        self.loader.clear_failures()
        for page in self.pages.values():
            page.refresh()

    def _logged_out(self, reason: str) -> None:
        for page in self.pages.values():
            page.clear()
        self.user_button.setText("")
        self._set_user_icon(QImage(str(resource("default_avatar.png"))))  # not the last user's face
        self._update_status()
        if self.isVisible():
            text = {"session expired": self.tr("Your session has expired. Please log in again."),
                    "kicked": self.tr("You were signed in on another device.")}.get(reason, "")
            self.ask_login(text)

    def _profile_changed(self, info: UserInfo) -> None:
        self.user_button.setText(info.nickname or self.account.userid)
        self._set_user_icon(QImage(str(resource("default_avatar.png"))))
        userid = self.account.userid

        def loaded(image: QImage) -> None:
            if self.account.userid == userid:  # a late image of a user who has logged out meanwhile
                self._set_user_icon(image)

        self.loader.load(info.avatar, self, loaded)

    def _set_user_icon(self, image: QImage) -> None:
        self.user_button.setIcon(QIcon(round_pixmap(image, 56)))

    def _update_status(self) -> None:
        user = self.account.userid
        self.server_label.setText(self.tr("{0} \u00b7 {1}").format(self.account.client.server, user)
                                  if user else self.account.client.server)

    # --- actions -----------------------------------------------------------------------
    def current_page(self) -> FeedPage:
        return self.pages[TABS[self.tabs.currentIndex()]]

    def refresh_current(self) -> None:
        if self.account.is_logged_in:
            self.loader.clear_failures()
            self.current_page().refresh()

    def _tab_changed(self, index: int) -> None:
        page = self.pages[TABS[index]]
        if self.account.is_logged_in and page.state == "idle":
            page.refresh()

    def watch(self, card: CardData) -> None:
        window = watch.open_card(self, card, self.account)
        if window is not None:
            self.players.append(window)
            # The slot must not hold ``window``: when the slot was the last holder, freeing it deleted the
            # window, whose ``destroyed`` then called the half-freed slot (segfault; gdb stack in the log).
            key = id(window)
            window.destroyed.connect(lambda *_: self._forget_player(key))

    def _forget_player(self, key: int) -> None:
        self.players[:] = [w for w in self.players if id(w) != key]

    def go_live(self) -> None:
        watch.go_live(self, self.account)

    def stop_live(self) -> None:
        watch.stop_live(self)

    def toggle_mute(self) -> None:
        watch.toggle_mute(self)

    def record_short_video(self) -> QWidget | None:
        """Open the "Record short video" window (one at a time); returns it."""
        if not self.account.is_logged_in:
            return None
        dlg = self.ugc_dialog
        if dlg is not None and dlg.isVisible():
            dlg.raise_()
            dlg.activateWindow()
            return dlg
        from app.ui.windows.ugc_dialog import UgcDialog  # lazily: the recorder pulls in the encoders

        dlg = UgcDialog(self.account, self.settings, self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.published.connect(self._ugc_published)
        dlg.destroyed.connect(lambda *_: setattr(self, "ugc_dialog", None) if self.ugc_dialog is dlg else None)
        self.ugc_dialog = dlg
        dlg.show()
        return dlg

    def _ugc_published(self, info: object) -> None:
        """A short video was published: show the Short videos tab, reloaded from the first page."""
        page = self.pages["ugc"]
        if self.account.is_logged_in:
            page.refresh()
        self.tabs.setCurrentIndex(TABS.index("ugc"))

    def open_profile(self) -> None:
        if not self.account.is_logged_in:
            return
        dlg = ProfileDialog(self.account, self.loader, self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.open()

    def open_settings(self) -> None:
        dlg = SettingsDialog(self.settings, self)
        dlg.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dlg.accepted.connect(lambda: self._settings_saved(str(dlg.values()["server"])))
        dlg.open()

    def _settings_saved(self, server: str) -> None:
        if server != self.account.client.server:
            self.account.set_server(server)
            self._update_status()
            if not self.account.is_logged_in and self.login_dialog is None:
                self.ask_login()

    def open_logs(self) -> None:
        if self.log_viewer is None:
            self.log_viewer = LogViewer(self.settings, self)
        self.log_viewer.show()
        self.log_viewer.raise_()

    def closeEvent(self, event) -> None:  # type: ignore[no-untyped-def]
        if watch.is_live(self):
            answer = QMessageBox.question(self, self.tr("Stop live?"),
                                          self.tr("You are live. Quit and end the live show?"))
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
            watch.stop_live(self)
        for w in list(self.players):
            w.close()
        if self.ugc_dialog is not None:
            self.ugc_dialog.close()
        super().closeEvent(event)
