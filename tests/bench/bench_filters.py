"""Per-frame cost of each picture filter at 720p (and the compose stage's other steps).

Run: ``python tests/bench/bench_filters.py [--frames N] [--threads N]``. Prints one line per
operation: wall mean and p95 milliseconds and process CPU milliseconds (all OpenCV threads) per
1280x720 BGR frame, then the total of all filters together against the 33 ms frame budget of 30 fps.
Wall times grow with the machine's load; the CPU column is steadier.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import cv2
import numpy as np

from app.capture.filters import FilterChain, SkinSmoother, mirror, pause_image, whiten
from app.capture.overlays import Overlay, OverlayStack, prepare
from app.capture.video import TestSource, fit


def _frame() -> np.ndarray:
    img = TestSource(1280, 720).read()
    assert img is not None
    rng = np.random.default_rng(0)
    face = np.empty((400, 300, 3), np.uint8)
    face[:] = (120, 150, 200)  # skin-coloured area so the beauty filter has work to do
    img[160:560, 490:790] = cv2.add(face, rng.integers(0, 30, face.shape, dtype=np.uint8))
    return img


BUDGET_MS = 1000 / 30
ALL = "all filters (beauty 5 + whitening 5 + mirror)"
ALL_SKIN = "all filters, whole picture skin-coloured (worst)"


def measure(fn: Callable[[], object], frames: int) -> tuple[float, float, float]:
    """Wall mean and p95, and mean process CPU, in ms per call."""
    fn()
    times = []
    c0 = time.process_time()
    for _ in range(frames):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    cpu = (time.process_time() - c0) * 1000 / frames
    return float(np.mean(times)), float(np.percentile(times, 95)), cpu


def run(frames: int = 60) -> list[tuple[str, float, float, float]]:
    img = _frame()
    skin = np.empty_like(img)
    skin[:] = (120, 150, 200)
    skin = cv2.add(skin, np.random.default_rng(1).integers(0, 30, skin.shape, dtype=np.uint8))
    big = cv2.resize(img, (1920, 1080))
    smoother = SkinSmoother()
    chain = FilterChain(beauty=5, whiteness=5, mirror=True)
    logo = np.zeros((128, 256, 4), np.uint8)
    logo[:, :, 2] = logo[:, :, 3] = 255
    overlays = OverlayStack()
    overlays.set([Overlay("image", position="top-right", scale=0.2, opacity=0.8, pixels=logo),
                  Overlay("text", text="xiaozhibo studio", position="bottom-left", scale=0.06)])
    work = img.copy()
    cases: list[tuple[str, Callable[[], object]]] = [
        ("beauty (skin smoothing) level 1", lambda: smoother.apply(img, 1)),
        ("beauty (skin smoothing) level 5", lambda: smoother.apply(img, 5)),
        ("beauty (skin smoothing) level 9", lambda: smoother.apply(img, 9)),
        ("whitening level 5", lambda: whiten(img, 5)),
        ("mirror", lambda: mirror(img)),
        ("pause image (drawn; the publisher draws it once)", lambda: pause_image(1280, 720)),
        (ALL, lambda: chain.apply(img)),
        (ALL_SKIN, lambda: chain.apply(skin)),
        ("fit 1080p -> 720p (screen capture scaling)", lambda: fit(big, 1280, 720)),
        ("BGR -> I420 (compose stage, always)", lambda: cv2.cvtColor(img, cv2.COLOR_BGR2YUV_I420)),
        ("overlays: logo 256x128 + text line (per frame)", lambda: overlays.apply(work)),
        ("overlays: prepare once per change (scale, premultiply)",
         lambda: prepare(overlays.overlays, 1280, 720)),
    ]
    return [(name, *measure(fn, frames)) for name, fn in cases]


def print_table(rows: list[tuple[str, float, float, float]]) -> None:
    print(f"{'filter cost per 1280x720 frame':<48} {'mean ms':>8} {'p95 ms':>8} {'cpu ms':>8}")
    for name, mean, p95, cpu in rows:
        print(f"{name:<48} {mean:8.2f} {p95:8.2f} {cpu:8.2f}")
    by_name = {r[0]: r for r in rows}
    for label in (ALL, ALL_SKIN):
        _, mean, p95, cpu = by_name[label]
        print(f"TOTAL {label}: {mean:.2f} ms mean, {p95:.2f} ms p95, {cpu:.2f} ms CPU = "
              f"{mean / BUDGET_MS:.2f} of the {BUDGET_MS:.1f} ms frame budget (target <= 6 ms)")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--frames", type=int, default=60)
    ap.add_argument("--threads", type=int, default=None, help="cv2.setNumThreads (default: OpenCV's)")
    args = ap.parse_args(argv)
    if args.threads is not None:
        cv2.setNumThreads(args.threads)
    load0 = os.getloadavg()
    print(f"OpenCV threads: {cv2.getNumThreads()}")
    print_table(run(args.frames))
    load1 = os.getloadavg()[0]
    print(f"{os.cpu_count()} cores, load avg before/after {load0[0]:.2f}/{load1:.2f} (wall ms grow with the "
          f"load, the CPU ms column is the filters' own cost)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
