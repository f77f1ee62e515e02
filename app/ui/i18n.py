"""UI language: loads ``resources/i18n/xiaozhibo_{lang}.qm`` and Qt's own translations.

``language`` is a setting ("auto" follows the system locale, "en", "zh_CN"). English is the
source language, so it needs no file.
"""

from __future__ import annotations

import logging

from app.ui.controllers.images import resource
from app.ui.qt import QApplication, QLibraryInfo, QLocale, QTranslator

log = logging.getLogger(__name__)


def pick_language(setting: str, system: str | None = None) -> str:
    """The language to load for a setting: "auto" maps any Chinese locale to zh_CN, else en."""
    if setting != "auto":
        return setting
    name = system if system is not None else QLocale.system().name()
    return "zh_CN" if name.lower().startswith("zh") else "en"


def install_translations(app: QApplication, setting: str) -> list[QTranslator]:
    """Install the translators for ``setting``; returns them (they must stay referenced)."""
    lang = pick_language(setting)
    if lang == "en":
        return []
    installed = []
    ours = QTranslator(app)
    qm = resource(f"i18n/xiaozhibo_{lang}.qm")
    if ours.load(str(qm)):
        app.installTranslator(ours)
        installed.append(ours)
    else:
        log.warning("no translation file %s; the UI stays in English", qm)
    qt_own = QTranslator(app)
    if qt_own.load(QLocale(lang), "qtbase", "_", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        app.installTranslator(qt_own)  # standard buttons (OK, Cancel, Yes...) in the same language
        installed.append(qt_own)
    log.info("UI language %s (%d translators)", lang, len(installed))
    return installed
