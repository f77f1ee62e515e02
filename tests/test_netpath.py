"""The test proxy (tests/netpath.py) never outlives the process that started it: a killed or
interrupted pytest left every proxy running (and a congestion test that failed before its
``close()`` left its proxy running too: the tests now close it in a ``with``)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        try:  # a child of ours: reap it once it exits
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return True
        except ChildProcessError:
            pass
        time.sleep(0.02)
    return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_the_proxy_ends_with_the_process_that_started_it(tmp_path: Path) -> None:
    code = ("import sys; from tests.netpath import NetPath; from pathlib import Path; "
            f"t = NetPath(9, Path({str(tmp_path / 't')!r}), rate=1000); print(t.proc.pid, flush=True)")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    out = tmp_path / "pid"
    with out.open("w") as f:  # a file, not a pipe: the proxy inherits it and would hold a pipe open
        subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, stdout=f, stderr=subprocess.DEVNULL,
                       timeout=60, check=True)  # exits without closing it
    pid = int(out.read_text().split()[0])
    try:
        assert gone(pid, 5), "the proxy outlived the process that started it"
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
