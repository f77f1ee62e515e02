"""A 60-second run of the soak bench (tests/bench/bench_soak.py) in the default suite.

Only clear failures are asserted (a loaded machine must not fail it): a lost or refused danmaku,
a failed heartbeat, a replay missing or not listed, a process that died. Latency, slopes and CPU
are the bench's business (its long runs print them).
"""

from __future__ import annotations

import pytest

from tests.bench import bench_soak

pytestmark = pytest.mark.timeout(300)


def test_soak_smoke() -> None:
    bench_soak.main(["--seconds", "60", "--sample", "5"])
    r = bench_soak.run_mix.result  # type: ignore[attr-defined]
    v = r["verdict"]
    assert v["no process died"]
    assert r["hb_fail"] == 0 and r["hb_ok"] >= 20, r
    assert r["sent"] >= 60 and r["received"] == r["sent"], r
    assert r["replay"] is not None and r["listed_s"] is not None, "the replay was not listed"
    assert r["replay"]["frames"] > 0 and r["replay"]["duration"] >= 30, r["replay"]
