"""Start a private Xvfb display for screen-capture tests (skips when Xvfb is missing).

The display number is picked by Xvfb itself (``-displayfd``, :func:`tests.ui.xvfb.xvfb`): scanning
``/tmp/.X11-unix`` for a free number raced when tests run in parallel (pytest-xdist), and two
workers could end up capturing the same display."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator

import pytest

from tests.ui.xvfb import xvfb


@contextlib.contextmanager
def start_xvfb(size: str = "1280x720x24") -> Iterator[str]:
    """Yields ``":N"`` of a fresh Xvfb; skips the test if Xvfb is missing or does not start."""
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed")
    stack = contextlib.ExitStack()
    try:
        display = stack.enter_context(xvfb(size))
    except RuntimeError as e:
        pytest.skip(f"Xvfb did not start: {e}")
    with stack:
        yield display
