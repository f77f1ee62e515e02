"""Ending a child process this program started: terminate, then kill if it stays."""

from __future__ import annotations

import subprocess


def end_process(proc: subprocess.Popen, grace: float = 10.0, reap: float | None = 5.0) -> None:
    """Terminate ``proc`` if it still runs; kill it if it has not left after ``grace`` seconds,
    then wait for it up to ``reap`` seconds (``None``: as long as it takes)."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(reap)
