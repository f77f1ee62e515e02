"""HLS latency is held near its start (issue 18: our HLS player's latency rose from 2.5 s to
4.1 s in 200 s and never came back; the latency control did nothing for HLS).

A simulated live HLS feed: 2 s segments reach the player at the live edge; now and then one is
late, the player stalls and the stall's length is added to its latency. The control must bring
the latency back within one target duration (2 s) of where it started, by rate, and never speed
up a player that has not drifted.
"""

from __future__ import annotations

from app.play.latency import HlsDrift

SEG = 2.0
TICK = 0.05


def simulate(control: bool, seconds: float = 240.0, late: tuple[float, ...] = (30.0, 50.0, 70.0, 95.0),
             delay: float = 2.2) -> list[tuple[float, float]]:
    """(t, latency) of a player on a live feed whose segments at ``late`` come ``delay`` s late."""
    drift = HlsDrift()
    drift.reset(0.0)
    speed, t = 1.0, 0.0
    pos = -0.5  # media time played; segment k covers [(k-1)*SEG, k*SEG] and is due at k*SEG: 2.5 s behind
    arrivals = []  # (arrival time, media end) of each segment
    for k in range(1, int(seconds / SEG) + 5):
        extra = next((delay for x in late if abs(k * SEG - x) < SEG / 2), 0.0)
        arrivals.append((k * SEG + extra, k * SEG))
    out = []
    while t < seconds:
        latest = max((e for a, e in arrivals if a <= t), default=0.0)
        if pos + speed * TICK <= latest:
            pos += speed * TICK  # playing; else stalled, waiting for the next segment
        t += TICK
        if control:
            speed = drift.update(t, latest - pos, speed, 1.06)
        out.append((t, t - pos))
    return out


def test_hls_latency_comes_back_after_stalls() -> None:
    base = simulate(control=False)
    start = sum(x for t, x in base if 10 < t < 25) / len([1 for t, _ in base if 10 < t < 25])
    assert base[-1][1] - start > 1.5, "the feed's late segments add their stalls to the latency"
    held = simulate(control=True)
    start = sum(x for t, x in held if 10 < t < 25) / len([1 for t, _ in held if 10 < t < 25])
    end = [x for t, x in held if t > 200]
    assert max(end) - start < SEG, f"latency {max(end):.2f} s vs {start:.2f} s at the start"
    assert max(end) - start < 1.0


def test_hls_control_leaves_a_steady_feed_alone() -> None:
    drift = HlsDrift()
    drift.reset(0.0)
    t, speeds = 0.0, set()
    while t < 120:
        buf = 0.5 + (t % SEG)  # the sawtooth of a steady feed
        speeds.add(drift.update(t, buf, 1.0, 1.06))
        t += TICK
    assert speeds == {1.0}
