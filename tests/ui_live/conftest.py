"""Live room and replay window tests: offscreen Qt against a real ``xiaozhibo server``.

The platform is chosen before any QApplication exists (pytest-qt creates it lazily).
"""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ.setdefault("QT_LOGGING_RULES", "qt.qpa.*=false")
