"""The parallel part of scripts/test.sh (``-n 3 --dist loadscope``) hands out the longest modules
first, as LONG_MODULES in tests/conftest.py orders them: a long module started late is the tail
that decides the suite's wall time."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import LONG_MODULES, ROOT

pytest.importorskip("xdist")


def test_loadscope_runs_the_longest_module_first(tmp_path: Path) -> None:
    # A tree with the longest listed module (one test) beside an unlisted module with more tests
    # that is collected before it; the repository's conftest is loaded as a plugin.
    longest = max(LONG_MODULES, key=lambda m: LONG_MODULES[m])
    body = "import os\n\n\ndef test_{n}():\n    with open(os.environ['ORDER_LOG'], 'a') as f:\n" \
           "        f.write(__file__ + '\\n')\n"
    files = {longest: 1, "tests/aaa/test_many.py": 5}
    for rel, count in files.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n\n".join(body.format(n=i) for i in range(count)))
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    log = tmp_path / "order.log"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
               ORDER_LOG=str(log), PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")  # xdist alone: a faster start
    r = subprocess.run([sys.executable, "-m", "pytest", "-p", "xdist.plugin", "-p", "tests.conftest",
                        "-p", "no:cacheprovider", "-n", "1", "--dist", "loadscope", "-q", "tests"],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=170)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    order = [Path(line).relative_to(tmp_path).as_posix() for line in log.read_text().split()]
    assert len(order) == 6
    assert order[0] == longest, order


def test_a_serial_test_outside_the_serial_modules_is_refused(tmp_path: Path) -> None:
    """scripts/test.sh collects only the modules of SERIAL_TESTS for its serial part: a test marked
    serial elsewhere would run in neither part, so collection stops with an error instead."""
    (tmp_path / "test_stray.py").write_text("import pytest\n\n\n@pytest.mark.serial\ndef test_timed():\n    pass\n")
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    serial: timed\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
               PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    r = subprocess.run([sys.executable, "-m", "pytest", "-p", "tests.conftest", "-p", "no:cacheprovider", "-q",
                        "test_stray.py"], cwd=tmp_path, env=env, capture_output=True, text=True,
                       timeout=170)
    assert r.returncode == pytest.ExitCode.USAGE_ERROR, r.stdout[-3000:] + r.stderr[-3000:]
    assert "test_stray.py::test_timed" in r.stderr, r.stderr[-3000:]
