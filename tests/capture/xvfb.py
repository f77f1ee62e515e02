"""Start a private Xvfb display for screen-capture tests (skips when Xvfb is missing)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest


@contextlib.contextmanager
def start_xvfb(size: str = "1280x720x24") -> Iterator[str]:
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed")
    n = next((n for n in range(140, 240) if not os.path.exists(f"/tmp/.X11-unix/X{n}")
              and not os.path.exists(f"/tmp/.X{n}-lock")), None)
    if n is None:
        pytest.skip("no free X display number")
    display = f":{n}"
    proc = subprocess.Popen(["Xvfb", display, "-screen", "0", size, "-nolisten", "tcp", "-noreset"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not os.path.exists(f"/tmp/.X11-unix/X{n}"):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.skip("Xvfb did not start")
            time.sleep(0.05)
        yield display
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
