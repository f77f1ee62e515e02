"""Log in / register dialog.

Checks the user ID and password locally first (the server's rules, SPEC section 2), then calls
:class:`Account` in the background; the server's answer is shown in the dialog in plain words
(``app.ui.errors``). The server address can be changed here too, since "cannot reach the
server" is the first thing a new user meets.
"""

from __future__ import annotations

import re

from app.ui.controllers.account import Account
from app.ui.controllers.images import resource
from app.ui.errors import error_text
from app.ui.ops import Op
from app.ui.qt import (
    QCheckBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPixmap,
    QPushButton,
    Qt,
    QTabBar,
    QVBoxLayout,
    QWidget,
)

USERID_RE = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]{3,23}$")
MIN_PASSWORD, MAX_PASSWORD = 6, 64


class LoginDialog(QDialog):
    """Accepted once the account is signed in; rejected when the user closes it."""

    LOGIN, REGISTER = 0, 1

    def __init__(self, account: Account, parent: QWidget | None = None, message: str = "",
                 show_server: bool = False) -> None:
        super().__init__(parent)
        self.account = account
        self.setObjectName("loginDialog")
        self.setWindowTitle(self.tr("Xiaozhibo \u2014 Log in"))
        self.setMinimumWidth(380)
        self._op: Op | None = None

        logo = QLabel()
        logo.setPixmap(QPixmap(str(resource("app_icon.png"))).scaled(
            56, 56, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation))
        logo.setAlignment(Qt.AlignmentFlag.AlignCenter)
        heading = QLabel(self.tr("Xiaozhibo"))
        heading.setObjectName("loginHeading")
        heading.setAlignment(Qt.AlignmentFlag.AlignCenter)

        self.tabs = QTabBar()
        self.tabs.setObjectName("loginTabs")
        self.tabs.addTab(self.tr("Log in"))
        self.tabs.addTab(self.tr("Register"))
        self.tabs.setExpanding(True)
        self.tabs.currentChanged.connect(self._mode_changed)

        self.userid = QLineEdit(account.settings.last_user)
        self.userid.setObjectName("userid")
        self.userid.setPlaceholderText(self.tr("4-24 letters, digits or _"))
        self.userid.setMaxLength(24)
        self.password = QLineEdit()
        self.password.setObjectName("password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setMaxLength(MAX_PASSWORD)
        self.confirm = QLineEdit()
        self.confirm.setObjectName("confirm")
        self.confirm.setEchoMode(QLineEdit.EchoMode.Password)
        self.confirm.setMaxLength(MAX_PASSWORD)
        self.server = QLineEdit(account.client.server)
        self.server.setObjectName("server")
        self.show_server = QCheckBox(self.tr("Server settings"))
        self.show_server.toggled.connect(self._server_toggled)

        self.form = QFormLayout()
        self.form.addRow(self.tr("User ID"), self.userid)
        self.form.addRow(self.tr("Password"), self.password)
        self.form.addRow(self.tr("Confirm"), self.confirm)
        self.form.addRow(self.tr("Server"), self.server)

        self.error = QLabel(message)
        self.error.setObjectName("loginError")
        self.error.setWordWrap(True)
        self.error.setVisible(bool(message))
        self.submit = QPushButton(self.tr("Log in"))
        self.submit.setObjectName("submit")
        self.submit.setDefault(True)
        self.submit.clicked.connect(self._submit)

        v = QVBoxLayout(self)
        v.addWidget(logo)
        v.addWidget(heading)
        v.addWidget(self.tabs)
        v.addLayout(self.form)
        v.addWidget(self.error)
        row = QHBoxLayout()
        row.addWidget(self.show_server)
        row.addStretch()
        row.addWidget(self.submit)
        v.addLayout(row)
        self._mode_changed(self.LOGIN)
        self.show_error(message)
        self._server_toggled(show_server)
        self.show_server.setChecked(show_server)
        (self.password if self.userid.text() else self.userid).setFocus()

    # --- state -------------------------------------------------------------------------
    @property
    def mode(self) -> int:
        return self.tabs.currentIndex()

    def set_mode(self, mode: int) -> None:
        self.tabs.setCurrentIndex(mode)

    def _mode_changed(self, mode: int) -> None:
        reg = mode == self.REGISTER
        self.form.setRowVisible(self.confirm, reg)
        self.submit.setText(self.tr("Register and log in") if reg else self.tr("Log in"))
        self.setWindowTitle(self.tr("Xiaozhibo \u2014 Register") if reg else self.tr("Xiaozhibo \u2014 Log in"))
        self.show_error("")

    def _server_toggled(self, on: bool) -> None:
        self.form.setRowVisible(self.server, on)
        self.adjustSize()

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def _busy(self, busy: bool) -> None:
        for w in (self.userid, self.password, self.confirm, self.server, self.tabs, self.submit):
            w.setEnabled(not busy)
        if busy:
            self.submit.setText(self.tr("Please wait\u2026"))
        else:
            self._mode_changed_keep_error()

    def _mode_changed_keep_error(self) -> None:
        reg = self.mode == self.REGISTER
        self.submit.setText(self.tr("Register and log in") if reg else self.tr("Log in"))

    # --- actions -----------------------------------------------------------------------
    def validate(self) -> str:
        """Local checks; returns the problem or "" when the form can be sent."""
        userid, password = self.userid.text().strip(), self.password.text()
        if not USERID_RE.match(userid):
            return self.tr("User ID must be 4-24 letters, digits or _ and start with a letter.")
        if not password:
            return self.tr("Enter your password.")
        if self.mode == self.REGISTER:
            if len(password) < MIN_PASSWORD:
                return self.tr("Password must be at least {0} characters.").format(MIN_PASSWORD)
            if password != self.confirm.text():
                return self.tr("The two passwords differ.")
        server = self.server.text().strip()
        if not server.startswith(("http://", "https://")):
            return self.tr("Server address must start with http:// or https://.")
        return ""

    def _submit(self) -> None:
        problem = self.validate()
        if problem:
            self.show_error(problem)
            return
        self.show_error("")
        self.account.set_server(self.server.text())
        self._busy(True)
        self._op = self.account.login(self.userid.text().strip(), self.password.text(), self._done, self._failed,
                                      register=self.mode == self.REGISTER)

    def _done(self, _session: object) -> None:
        self._busy(False)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        self._busy(False)
        self.show_error(error_text(exc))
        self.password.selectAll()
        self.password.setFocus()
