"""Screenshots of the stream-health panel and the region picker (issue 14). Not a test.

Run under Xvfb::

    Xvfb :59 -screen 0 1280x800x24 & DISPLAY=:59 QT_QPA_PLATFORM=xcb \
        python -m tests.ui_golive.make_health_screens /tmp/screens-health

Writes golive_health_live.png (a real push from the test pattern, panel open),
health_congested.png (the panel fed a synthetic congestion), region_picker.png and
golive_region.png (the picker over the frozen screen, then the region opened as the source).
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import replace
from pathlib import Path

from app.ui.qt import QApplication, QRect
from app.ui.settings import ClientSettings
from tests.conftest import start_server
from tests.ui_golive.make_screens import save, spin
from tests.ui_golive.test_health_panel import BASE, congested


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else "/work/wt/notes/screens-studio-ui")
    out.mkdir(parents=True, exist_ok=True)
    app = QApplication.instance() or QApplication(["studio"])
    tmp = Path(tempfile.mkdtemp())
    sp = start_server(tmp / "server")
    try:
        from app.ui.controllers.account import Account
        from app.ui.widgets.health_graph import HealthPanel
        from app.ui.windows.golive import GoLiveWindow

        panel = HealthPanel()
        panel.resize(760, 200)
        panel.reset(25)
        for i in range(60):
            panel.add(replace(BASE, rtt_ms=20.0 + (i % 7)))
        for i in range(1, 25):
            panel.add(congested(i))
        panel.show()
        spin(app, 0.5)
        save(panel, out, "health_congested.png")
        panel.close()

        settings = ClientSettings(client_dir=tmp / "client", server=sp.http_base, resolution="540p", fps=25,
                                  microphone="tone")
        account = Account(settings)
        account.client.register("anchor_lin", "secret1")
        account.client.login("anchor_lin", "secret1")
        account.profile = account.client.get_user_info()
        w = GoLiveWindow(account, settings)
        w.show()
        spin(app, 2.0)
        w.health_button.click()
        w.go_live()
        spin(app, 20, lambda: w.phase == "live")
        spin(app, 25)
        save(w, out, "golive_health_live.png")
        w.stop()
        spin(app, 20, lambda: w.phase == "setup")
        if w.summary_dialog is not None:
            w.summary_dialog.close()

        w.setup.source.setCurrentIndex(w.setup.source.findData("region"))
        w.setup.region_button.click()
        picker = w.setup.picker
        spin(app, 1.0)
        picker.rect_w = QRect(picker.width() // 5, picker.height() // 4, picker.width() // 2, picker.height() // 2)
        picker.update()
        spin(app, 0.5)
        save(picker, out, "region_picker.png")
        picker.confirm()
        spin(app, 3.0)
        save(w, out, "golive_region.png")
        print("region source:", w.setup.source_spec(), settings.screen_regions)
        w.close()
        spin(app, 1.0)
    finally:
        sp.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
