"""Audio sources and the mixer: tone, music file transport, volumes, mute, missing microphone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.capture import CaptureError
from app.capture.audio import (
    SAMPLE_RATE,
    AudioMixer,
    LevelMeter,
    MicSource,
    MusicSource,
    SilenceSource,
    ToneSource,
    list_input_devices,
    open_microphone,
)
from tests.capture.media import make_video


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x))))


def test_tone_is_continuous_and_metered() -> None:
    tone = ToneSource(freq=1000, amplitude=0.5)
    a, b = tone.read(480), tone.read(480)
    joined = np.concatenate([a, b])[:, 0]
    assert np.abs(np.diff(joined)).max() < 0.5 * 2 * np.pi * 1000 / SAMPLE_RATE * 1.01  # no phase jump
    meter = LevelMeter()
    meter.update(joined)
    assert -6.5 < meter.peak_db < -5.5 and 0.85 < meter.level < 0.95


def test_music_transport_play_pause_stop(tmp_path: Path) -> None:
    path = make_video(tmp_path / "m.mp4", seconds=1.0, audio=True)
    music = MusicSource(str(path))
    assert rms(music.read(1024)) == 0.0, "silent until play"
    music.play()
    block = music.read(4800)
    assert 0.15 < rms(block) < 0.3  # the 0.3-amplitude sine
    music.pause()
    assert rms(music.read(1024)) == 0.0 and music.state == "paused"
    pos = music.position
    music.play()
    music.read(1024)
    assert music.position > pos
    music.stop()
    assert music.position == 0.0 and music.state == "stopped"
    music.play()
    total = 0
    while music.state == "playing" and total < SAMPLE_RATE * 3:
        music.read(4800)
        total += 4800
    assert music.state == "stopped" and 0.9 * SAMPLE_RATE < total < 1.3 * SAMPLE_RATE, "ends after 1 s"
    music.close()


def test_music_without_audio_track_is_a_clear_error(tmp_path: Path) -> None:
    path = make_video(tmp_path / "v.mp4", seconds=0.3, audio=False)
    with pytest.raises(CaptureError, match="no audio track"):
        MusicSource(str(path))


def test_mixer_volumes_and_mute() -> None:
    mixer = AudioMixer(ToneSource(amplitude=0.2), ToneSource(freq=300, amplitude=0.2))
    both = rms(mixer.read(4800))
    mixer.music_volume = 0.0
    mic_only = rms(mixer.read(4800))
    assert abs(mic_only - 0.2 / np.sqrt(2)) < 0.01 and both > mic_only
    mixer.muted = True
    assert rms(mixer.read(4800)) == 0.0
    assert mixer.mic_meter.peak_db > -20, "the mic meter still moves while muted (like the original)"
    mixer.muted, mixer.mic_volume = False, 10.0
    assert np.abs(mixer.read(4800)).max() <= 1.0, "clipped, not wrapped"


def test_no_microphone_falls_back_to_silence_with_warning() -> None:
    if list_input_devices():
        pytest.skip("this machine has a microphone")
    with pytest.raises(CaptureError, match="no microphone"):
        MicSource()
    source, warning = open_microphone()
    assert isinstance(source, SilenceSource)
    assert warning and "silent audio track" in warning
    assert rms(source.read(1024)) == 0.0


def test_meter_holds_the_peak_between_reads_of_a_beeping_source() -> None:
    """The push stats read the meter once a second. A beeping test source (on 1/4 of each second)
    read -100 dB for minutes when the tick kept landing in the silent 3/4: the meter held only the
    last 21 ms block. A held peak must show the beep at every phase, and silence must still fall to
    -100 dB within a few seconds."""
    mixer = AudioMixer(ToneSource(beep_period=1.0))
    chunk = 1024
    readings = []
    produced = 0
    for second in range(1, 21):  # a stats tick every second, at a phase drifting through the beep
        while produced < (second + second * 0.047) * SAMPLE_RATE:
            mixer.read(chunk)
            produced += chunk
        readings.append(mixer.meter.peak_db)
    assert min(readings) > -60, f"the meter lost a beeping source: {[round(r) for r in readings]}"
    assert max(readings) < -11
    mixer.muted = True
    for _ in range(int(2.5 * SAMPLE_RATE / chunk)):
        mixer.read(chunk)
    assert mixer.meter.peak_db == -100.0, "silence reads -100 dB after 2.5 s"
