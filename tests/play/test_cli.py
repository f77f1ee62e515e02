"""``xiaozhibo play URL [--duration S] [--no-display]``: stats lines, exit codes, display fallback."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from app.play import cli

ROOT = Path(__file__).resolve().parents[2]
STATS = re.compile(r"fps=\s*[\d.]+ bitrate=\d+kb/s buffer=(\d+ms|-) latency=(\d+ms|-)")


def run(*args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app", "play", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout)


def test_cli_plays_a_replay_and_prints_stats_each_second(replay) -> None:
    srv, _ = replay
    r = run(srv.url("replay.mp4"), "--no-display", "--duration", "2.6", "--audio", "null")
    assert r.returncode == 0, r.stderr
    lines = [ln for ln in r.stdout.splitlines() if STATS.search(ln)]
    assert len(lines) == 2, r.stdout
    assert "playing" in lines[-1] and "/6.0s" in lines[-1]  # position / duration
    fps = float(re.search(r"fps=\s*([\d.]+)", lines[-1]).group(1))
    assert 20 <= fps <= 30


def test_cli_reports_end_of_replay(replay) -> None:
    srv, path = replay
    r = run(str(path), "--no-display", "--audio", "null", "--duration", "15")
    assert r.returncode == 0 and "end of replay" in r.stdout


def test_cli_errors_have_codes_and_exit_status(replay) -> None:
    srv, _ = replay
    r = run(srv.url("missing.mp4"), "--no-display")
    assert r.returncode == 1 and "3002" in r.stderr
    r = run("ftp://example.invalid/x", "--no-display")
    assert r.returncode == 2 and "unsupported URL scheme" in r.stderr


def test_cli_falls_back_to_no_display_without_a_play_window(replay, monkeypatch, capsys) -> None:
    srv, _ = replay
    monkeypatch.setitem(sys.modules, "app.ui.windows.play_window", None)  # import fails
    code = cli.main([srv.url("replay.mp4"), "--duration", "1.2", "--audio", "null"])
    out = capsys.readouterr()
    assert code == 0
    assert "no video window available" in out.err
    assert STATS.search(out.out)


def test_cli_hands_the_started_player_to_the_play_window(replay, monkeypatch) -> None:
    import types

    srv, _ = replay
    seen = {}

    def run_play_window(player, args):  # what app.ui.windows.play_window provides
        seen["state"] = player.wait(0.5) or player.state
        seen["duration"] = args.duration
        return 0

    monkeypatch.setitem(sys.modules, "app.ui.windows.play_window",
                        types.SimpleNamespace(run_play_window=run_play_window))
    assert cli.main([srv.url("replay.mp4"), "--duration", "1", "--audio", "null"]) == 0
    assert seen["duration"] == 1.0 and seen["state"].value in ("opening", "buffering", "playing")
