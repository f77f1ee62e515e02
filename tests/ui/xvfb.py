"""Start and stop an Xvfb server on a free display number (picked by Xvfb via -displayfd)."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

from app.procs import end_process


@contextmanager
def xvfb(size: str = "1280x720x24") -> Iterator[str]:
    """Yields ``":N"``; the server is killed on exit. Raises RuntimeError if it cannot start."""
    exe = shutil.which("Xvfb")
    if exe is None:
        raise RuntimeError("Xvfb is not installed (Debian package xvfb)")
    r, w = os.pipe()
    proc = subprocess.Popen([exe, "-displayfd", str(w), "-screen", "0", size, "-nolisten", "tcp", "-noreset"],
                            pass_fds=(w,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(w)
    try:
        deadline = time.monotonic() + 10
        data = b""
        with os.fdopen(r, "rb") as f:
            while not data.endswith(b"\n") and time.monotonic() < deadline:
                chunk = f.read(1)
                if not chunk:
                    break
                data += chunk
        if not data.strip():
            raise RuntimeError("Xvfb did not report a display number")
        yield f":{int(data.strip())}"
    finally:
        end_process(proc, 5, None)
