"""``xiaozhibo`` / ``xiaozhibo gui``: the desktop client's entry point.

``main(["--server", URL])`` is also what ``xiaozhibo up`` calls once its server is ready. The
server address given here is used for this run and remembered; without it the saved one (or
http://127.0.0.1:8080) is used.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path
from typing import Any, cast

from app.ui.settings import DEFAULT_CLIENT_DIR, ClientSettings, setup_logging, validate

log = logging.getLogger(__name__)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="xiaozhibo", description="Xiaozhibo desktop client")
    p.add_argument("--server", help="business server address (default: the saved one, or http://127.0.0.1:8080)")
    p.add_argument("--client-dir", default=str(DEFAULT_CLIENT_DIR),
                   help="where settings, the cached session, the image cache and logs live")
    p.add_argument("--language", choices=("auto", "en", "zh_CN"), help="UI language for this run")
    p.add_argument("--debug", action="store_true", help="log at DEBUG level")
    p.add_argument("--temporary-server", action="store_true",
                   help="use --server for this run only; the saved address is kept (xiaozhibo up)")
    return p.parse_args(argv)


# Qt platforms that need no display server.
_HEADLESS_PLATFORMS = ("offscreen", "minimal", "vnc", "eglfs", "linuxfb", "vkkhrdisplay")


def display_problem() -> str | None:
    """Why no window can open here ("no display ..."), or None. Linux/BSD only: other desktops always have one."""
    if sys.platform in ("win32", "darwin"):
        return None
    if os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"):
        return None
    if os.environ.get("QT_QPA_PLATFORM", "").split(":")[0] in _HEADLESS_PLATFORMS:
        return None
    return "no display: neither DISPLAY (X11) nor WAYLAND_DISPLAY is set"


def load_settings(args: argparse.Namespace) -> ClientSettings | None:
    """The settings for this run with ``--server``/``--language`` applied; None when ``--server`` is bad."""
    settings = ClientSettings.load(Path(args.client_dir))
    if args.server:
        server = args.server.strip().rstrip("/")
        if not validate("server", server):
            print(f"xiaozhibo: --server must be an http:// or https:// address, not {args.server!r}", file=sys.stderr)
            return None
        if args.temporary_server:
            settings.saved_server = settings.server
        settings.server = server
    if args.language:
        settings.language = args.language
    return settings


def build(settings: ClientSettings):  # type: ignore[no-untyped-def]
    """Create the application objects for ``settings``: (QApplication, Account, ImageLoader, MainWindow).

    Separate from :func:`main` so tests and screenshot scripts get the same wiring.
    """
    from app.ui import gc_guard
    from app.ui.controllers.account import Account
    from app.ui.controllers.images import ImageLoader, resource
    from app.ui.i18n import install_translations
    from app.ui.qt import QApplication, QIcon, QThreadPool
    from app.ui.style import style_sheet
    from app.ui.windows.main_window import MainWindow

    app = cast(QApplication, QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "xiaozhibo"]))
    gc_guard.install()  # cycles of Qt objects must never be collected on a worker thread
    app.setApplicationName("Xiaozhibo")
    app.setOrganizationName("Xiaozhibo")
    app.setWindowIcon(QIcon(str(resource("app_icon.png"))))
    app._xzb_translators = install_translations(app, settings.language)  # type: ignore[attr-defined]
    app.setStyleSheet(style_sheet())
    # API calls wait on the network, not the CPU: allow more of them than there are cores.
    QThreadPool.globalInstance().setMaxThreadCount(max(8, QThreadPool.globalInstance().maxThreadCount()))
    loader = ImageLoader(settings.cache_dir if settings.image_cache_mb > 0 else None,
                         ca_file=lambda: settings.ca_file)  # read per download: Settings may change it
    ImageLoader.set_shared(loader)
    account = Account(settings)
    window = MainWindow(account, loader)
    return app, account, loader, window


def main(argv: list[str] | None = None, managed: Any = None) -> int:
    """Open the GUI; returns the exit code when the main window closes.

    ``managed`` is the server ``xiaozhibo up`` runs (``app.up.ManagedServer``): watched, and
    restarted on request if it dies."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if problem := display_problem():
        print(f"xiaozhibo: {problem}", file=sys.stderr)
        return 2
    settings = load_settings(args)
    if settings is None:
        return 2
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
    if managed is not None:
        from app.ui.server_watch import ServerWatch

        window._xzb_server_watch = ServerWatch(window, managed)  # type: ignore[attr-defined]
    code = int(app.exec())
    log.info("client exiting (%d)", code)
    logging.getLogger().removeHandler(handler)
    handler.close()
    return code


if __name__ == "__main__":
    sys.exit(main())
