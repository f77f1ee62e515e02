"""``xiaozhibo`` / ``xiaozhibo gui``: the desktop client's entry point.

``main(["--server", URL])`` is also what ``xiaozhibo up`` calls once its server is ready. The
server address given here is used for this run and remembered; without it the saved one (or
http://127.0.0.1:8080) is used.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from app.ui.settings import DEFAULT_CLIENT_DIR, ClientSettings, setup_logging, validate

log = logging.getLogger(__name__)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="xiaozhibo", description="Xiaozhibo desktop client")
    p.add_argument("--server", help="business server address (default: the saved one, or http://127.0.0.1:8080)")
    p.add_argument("--client-dir", default=str(DEFAULT_CLIENT_DIR),
                   help="where settings, the cached session, the image cache and logs live")
    p.add_argument("--language", choices=("auto", "en", "zh_CN"), help="UI language for this run")
    p.add_argument("--debug", action="store_true", help="log at DEBUG level")
    return p.parse_args(argv)


def build(settings: ClientSettings):  # type: ignore[no-untyped-def]
    """Create the application objects for ``settings``: (QApplication, Account, ImageLoader, MainWindow).

    Separate from :func:`main` so tests and screenshot scripts get the same wiring.
    """
    from app.ui.controllers.account import Account
    from app.ui.controllers.images import ImageLoader, resource
    from app.ui.i18n import install_translations
    from app.ui.qt import QApplication, QIcon, QThreadPool
    from app.ui.style import style_sheet
    from app.ui.windows.main_window import MainWindow

    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "xiaozhibo"])
    app.setApplicationName("Xiaozhibo")
    app.setOrganizationName("Xiaozhibo")
    app.setWindowIcon(QIcon(str(resource("app_icon.png"))))
    app._xzb_translators = install_translations(app, settings.language)  # type: ignore[attr-defined]
    app.setStyleSheet(style_sheet())
    # API calls wait on the network, not the CPU: allow more of them than there are cores.
    QThreadPool.globalInstance().setMaxThreadCount(max(8, QThreadPool.globalInstance().maxThreadCount()))
    loader = ImageLoader(settings.cache_dir if settings.image_cache_mb > 0 else None)
    ImageLoader.set_shared(loader)
    account = Account(settings)
    window = MainWindow(account, loader)
    return app, account, loader, window


def main(argv: list[str] | None = None) -> int:
    """Open the GUI; returns the exit code when the main window closes."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    settings = ClientSettings.load(Path(args.client_dir))
    if args.server:
        server = args.server.strip().rstrip("/")
        if not validate("server", server):
            print(f"xiaozhibo: --server must be an http:// or https:// address, not {args.server!r}", file=sys.stderr)
            return 2
        settings.server = server
    if args.language:
        settings.language = args.language
    handler = setup_logging(settings, logging.DEBUG if args.debug else logging.INFO)
    log.info("client starting; server %s; settings in %s", settings.server, settings.client_dir)
    try:
        settings.save()
        app, _account, loader, window = build(settings)
    except Exception:
        log.exception("the client could not start")
        raise
    loader.prune_disk_cache(settings.image_cache_mb * 1024 * 1024)
    window.start()
    code = int(app.exec())
    log.info("client exiting (%d)", code)
    logging.getLogger().removeHandler(handler)
    handler.close()
    return code


if __name__ == "__main__":
    sys.exit(main())
