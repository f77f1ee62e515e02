"""Profile dialog: avatar, nickname, sex and cover, saved on the server.

Picking an image uploads it at once (shrunk to a sensible size and re-encoded as JPEG in the
background, then ``ApiClient.upload_file`` with a progress bar); "Save" sends all four fields
with ``upload_user_info`` and reads them back, so what the dialog shows is what the server has.
"""

from __future__ import annotations

import logging
import secrets
import tempfile
from pathlib import Path

from app.api.client import ApiClient, UserInfo
from app.ui.controllers.account import Account
from app.ui.controllers.images import ImageLoader, resource
from app.ui.errors import error_text
from app.ui.ops import run_op
from app.ui.qt import (
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QImage,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    Qt,
    QVBoxLayout,
    QWidget,
)
from app.ui.widgets.cards import cover_pixmap, round_pixmap

log = logging.getLogger(__name__)

MAX_SIDE = {"avatar": 512, "cover": 1280}
AVATAR_PX = 96
COVER_W, COVER_H = 320, 180


def prepare_image(path: Path, kind: str) -> Path:
    """A JPEG copy of ``path`` no larger than the kind's size (worker thread; QImage is thread-safe)."""
    image = QImage(str(path))
    if image.isNull():
        raise ValueError(f"not an image file: {path.name}")
    side = MAX_SIDE[kind]
    if max(image.width(), image.height()) > side:
        image = image.scaled(side, side, Qt.AspectRatioMode.KeepAspectRatio,
                             Qt.TransformationMode.SmoothTransformation)
    out = Path(tempfile.mkstemp(prefix=f"xzb-{kind}-", suffix=".jpg")[1])
    saved = image.convertToFormat(QImage.Format.Format_RGB32).save(str(out), "JPG", 90)  # type: ignore[call-overload]
    if not saved:
        out.unlink(missing_ok=True)
        raise OSError(f"could not encode {path.name} as JPEG")
    return out


def upload_image(client: ApiClient, path: Path, kind: str, report) -> str:  # type: ignore[no-untyped-def]
    """Prepare and upload one image; returns its public URL."""
    jpeg = prepare_image(path, kind)
    try:
        # stored under the user's own prefix (users/{userid}/), which the signature is scoped to
        return client.upload_file(f"{kind}/{secrets.token_hex(8)}.jpg", jpeg, report)
    finally:
        jpeg.unlink(missing_ok=True)


class ProfileDialog(QDialog):
    """Edit the signed-in user's profile. Accepted after a successful save."""

    def __init__(self, account: Account, loader: ImageLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.account, self.loader = account, loader
        self.setObjectName("profileDialog")
        self.setWindowTitle(self.tr("My profile"))
        self.info = UserInfo(**vars(account.profile))
        self._uploads = 0

        self.cover = QLabel()
        self.cover.setObjectName("profileCover")
        self.cover.setFixedSize(COVER_W, COVER_H)
        self.avatar = QLabel()
        self.avatar.setObjectName("profileAvatar")
        self.avatar.setFixedSize(AVATAR_PX, AVATAR_PX)
        self.userid = QLabel(account.userid)
        self.userid.setObjectName("profileUserid")
        self.nickname = QLineEdit(self.info.nickname)
        self.nickname.setObjectName("nickname")
        self.nickname.setMaxLength(64)
        self.sex = QComboBox()
        self.sex.setObjectName("sex")
        for value, text in ((-1, self.tr("Not set")), (0, self.tr("Male")), (1, self.tr("Female"))):
            self.sex.addItem(text, value)
        self.sex.setCurrentIndex(max(0, self.sex.findData(self.info.sex)))
        self.change_avatar = QPushButton(self.tr("Change avatar\u2026"))
        self.change_avatar.setObjectName("changeAvatar")
        self.change_avatar.clicked.connect(lambda: self.pick_image("avatar"))
        self.change_cover = QPushButton(self.tr("Change cover\u2026"))
        self.change_cover.setObjectName("changeCover")
        self.change_cover.clicked.connect(lambda: self.pick_image("cover"))
        self.progress = QProgressBar()
        self.progress.setObjectName("uploadProgress")
        self.progress.setVisible(False)
        self.status = QLabel()
        self.status.setObjectName("profileStatus")
        self.status.setWordWrap(True)
        self.save = QPushButton(self.tr("Save"))
        self.save.setObjectName("save")
        self.save.setDefault(True)
        self.save.clicked.connect(self.save_profile)
        cancel = QPushButton(self.tr("Cancel"))
        cancel.clicked.connect(self.reject)
        self._layout(cancel)
        self._show_images()

    def _layout(self, cancel: QPushButton) -> None:
        top = QHBoxLayout()
        top.addWidget(self.avatar)
        side = QVBoxLayout()
        side.addWidget(self.userid)
        side.addWidget(self.change_avatar)
        side.addStretch()
        top.addLayout(side)
        top.addStretch()
        form = QFormLayout()
        form.addRow(self.tr("Nickname"), self.nickname)
        form.addRow(self.tr("Sex"), self.sex)
        form.addRow(self.tr("Cover"), self.cover)
        form.addRow("", self.change_cover)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(cancel)
        buttons.addWidget(self.save)
        v = QVBoxLayout(self)
        v.addLayout(top)
        v.addLayout(form)
        v.addWidget(self.progress)
        v.addLayout(buttons)

    def _show_images(self) -> None:
        self._set_avatar(QImage(str(resource("default_avatar.png"))))
        self._set_cover(QImage(str(resource("default_cover.png"))))
        self.loader.load(self.info.avatar, self, self._set_avatar)
        self.loader.load(self.info.frontcover, self, self._set_cover)

    def _set_avatar(self, image: QImage) -> None:
        self.avatar.setPixmap(round_pixmap(image, AVATAR_PX))

    def _set_cover(self, image: QImage) -> None:
        self.cover.setPixmap(cover_pixmap(image, COVER_W, COVER_H, 6))

    # --- uploads -----------------------------------------------------------------------
    def pick_image(self, kind: str) -> None:
        title = self.tr("Choose an avatar") if kind == "avatar" else self.tr("Choose a cover")
        path, _ = QFileDialog.getOpenFileName(self, title, str(Path.home()), self.tr("Images (*.png *.jpg *.jpeg *.webp *.bmp)"))
        if path:
            self.upload(kind, Path(path))

    def upload(self, kind: str, path: Path) -> None:
        """Upload ``path`` as the avatar or cover (shown once the server has it)."""
        client = self.account.client
        self._uploads += 1
        self._sync_buttons()
        self.progress.setRange(0, 100)
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self.status.setText(self.tr("Uploading {0}\u2026").format(path.name))
        run_op(self, lambda report: upload_image(client, path, kind, report),
               lambda url: self._uploaded(kind, path, url), self._upload_failed, progress=self._progressed,
               name=f"upload {kind}")

    def _progressed(self, done: int, total: int) -> None:
        if total > 0:
            self.progress.setValue(int(done * 100 / total))

    def _uploaded(self, kind: str, path: Path, url: str) -> None:
        self._uploads -= 1
        self._sync_buttons()
        self.progress.setValue(100)
        self.progress.setVisible(self._uploads > 0)
        if kind == "avatar":
            self.info.avatar = url
        else:
            self.info.frontcover = url
        image = QImage(str(path))
        if not image.isNull():
            (self._set_avatar if kind == "avatar" else self._set_cover)(image)
        self.status.setText(self.tr("Uploaded. Press Save to keep it."))
        log.info("uploaded %s %s", kind, url)

    def _upload_failed(self, exc: BaseException) -> None:
        self._uploads -= 1
        self._sync_buttons()
        self.progress.setVisible(self._uploads > 0)
        self.status.setText(self.tr("Upload failed: {0}").format(error_text(exc)))

    def _sync_buttons(self) -> None:
        self.save.setEnabled(self._uploads == 0)

    # --- save --------------------------------------------------------------------------
    def save_profile(self) -> None:
        nickname = self.nickname.text().strip()
        if not nickname:
            self.status.setText(self.tr("Nickname cannot be empty."))
            return
        self.info.nickname = nickname
        self.info.sex = int(self.sex.currentData())
        self.save.setEnabled(False)
        self.status.setText(self.tr("Saving\u2026"))
        self.account.save_profile(self.info, self._saved, self._save_failed)

    def _saved(self, info: UserInfo) -> None:
        self.info = info
        self.status.setText(self.tr("Saved."))
        self.accept()

    def _save_failed(self, exc: BaseException) -> None:
        self.save.setEnabled(True)
        self.status.setText(self.tr("Not saved: {0}").format(error_text(exc)))
        self.account.handle_failure(exc)
