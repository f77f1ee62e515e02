from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.capture.xvfb import start_xvfb


@pytest.fixture
def xvfb(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A private Xvfb display; DISPLAY points at it for this test only."""
    with start_xvfb() as display:
        monkeypatch.setenv("DISPLAY", display)
        yield display
