"""The device settings (camera, microphone, speaker) resolved against what this computer has.

Each ``pick_*`` function takes the saved setting and the devices found now, and returns what to
use plus a warning text ("" when none): a device that is gone falls back to the default with a
log line, never an exception. :func:`play_settings` / :func:`make_player` are the one place the
UI builds players, so every player honours the chosen speaker.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from app.play.settings import PlaySettings
from app.ui.qt import QCoreApplication
from app.ui.settings import ClientSettings

if TYPE_CHECKING:
    from app.play.player import Player

log = logging.getLogger(__name__)

MIC_DEFAULT, MIC_NONE, MIC_TONE = "default", "none", "tone"
SPEAKER_DEFAULT = "default"


def pick_camera(setting: str, available: Sequence[str], fallback: str = "testsrc") -> tuple[str, str]:
    """The video source spec to start on, and a warning.

    ``available``: the specs offered now (``camera:N``, ``screen:N``, ``testsrc``...). ``""`` (or
    ``"camera"``) means the first camera found, else ``fallback``. Specs that name no device
    (``testsrc``, ``file:...``) are used as they are.
    """
    cameras = [s for s in available if s.startswith("camera:")]
    first = cameras[0] if cameras else fallback
    if setting in ("", "camera"):
        return first, ""
    kind = setting.partition(":")[0]
    if kind not in ("camera", "screen") or setting in available:
        return setting, ""
    log.warning("video source %s is not available any more; using %s", setting, first)
    return first, QCoreApplication.translate("Devices", "The saved video source {0} is not available; using {1} instead.").format(setting, first)


def _device_index(setting: int | str, devices: Sequence[dict[str, object]]) -> int | None:
    for d in devices:
        if setting == d.get("index") or (isinstance(setting, str) and setting == d.get("name")):
            index = d.get("index")
            return index if isinstance(index, int) else None
    return None


def _default_index(devices: Sequence[dict[str, object]], which: int) -> int | None:
    """The system default device (sounddevice ``default.device[which]``) if listed, else the first."""
    if not devices:
        return None
    try:
        import sounddevice as sd

        default = int(sd.default.device[which])
    except Exception:  # noqa: BLE001 - no PortAudio: the first device will do
        default = -1
    index = _device_index(default, devices) if default >= 0 else None
    first = devices[0].get("index")
    return index if index is not None else (first if isinstance(first, int) else None)


def pick_microphone(setting: int | str, devices: Sequence[dict[str, object]]) -> tuple[int | str, str]:
    """``"none"``, ``"tone"`` or an input device index, and a warning.

    ``"default"`` is the system's default input (``"none"`` when the computer has no microphone:
    the stream then has a silent track). A device that is gone falls back to the default.
    """
    if setting in (MIC_NONE, MIC_TONE):
        return str(setting), ""
    warning = ""
    if setting != MIC_DEFAULT:
        index = _device_index(setting, devices)
        if index is not None:
            return index, ""
        log.warning("microphone %r is not connected; using the default microphone", setting)
        warning = QCoreApplication.translate("Devices", "The saved microphone {0} is not connected; using the default microphone.").format(setting)
    index = _default_index(devices, 0)
    return (index if index is not None else MIC_NONE), warning


def pick_speaker(setting: int | str, devices: Sequence[dict[str, object]]) -> tuple[int | None, str]:
    """The output device index for players (None: the system default), and a warning."""
    if setting == SPEAKER_DEFAULT:
        return None, ""
    index = _device_index(setting, devices)
    if index is not None:
        return index, ""
    log.warning("speaker %r is not connected; playing on the default output", setting)
    return None, QCoreApplication.translate("Devices", "The saved speaker {0} is not connected; using the default output.").format(setting)


def play_settings(settings: ClientSettings | None, **changes: Any) -> PlaySettings:
    """Player settings with the chosen speaker (``changes`` override any other field).

    The output stays ``auto``: a device that fails to open falls back to the null output (the
    picture keeps playing) instead of an error.
    """
    base = PlaySettings(ca_file=settings.ca_file if settings is not None else "")
    if settings is not None and settings.speaker != SPEAKER_DEFAULT:
        from app.capture.audio import list_output_devices

        device, _warning = pick_speaker(settings.speaker, list_output_devices())
        base = replace(base, audio_output="auto", audio_device=device)
    return replace(base, **changes) if changes else base


def make_player(url: str, settings: ClientSettings | None, **changes: Any) -> Player:
    """A (not started) player for ``url`` that plays on the chosen speaker."""
    from app.play.player import Player

    return Player(url, play_settings(settings, **changes))


def close_quietly(obj: Any) -> None:
    """Close a device, source or mixer (``None`` or one without ``close`` is left); a failure is logged
    at debug level, never raised (the device may already be gone). A close can block: call it off
    the GUI thread."""
    close = getattr(obj, "close", None)
    if close is None:
        return
    try:
        close()
    except Exception as exc:  # noqa: BLE001 - device already gone
        log.debug("closing %r: %s", obj, exc)
