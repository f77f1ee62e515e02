"""UI tests run on Qt's offscreen platform (no display, no OpenGL: the QPainter view).

OpenGL is checked under Xvfb in a subprocess (``test_gl_render.py``), never in this process.
"""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before any QApplication exists
os.environ.setdefault("QT_LOGGING_RULES", "qt.qpa.*=false")
