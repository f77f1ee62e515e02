"""Push stop reasons, states and the package's exception root.

Codes follow the original SDK's push events where one exists (-1301 camera, -1302 microphone,
-1307 network disconnected after retries); the others are ours. The lead may move them into
``protocol/errors.py``; until then this is their one definition.
"""

from __future__ import annotations

from enum import Enum, IntEnum

from protocol.signing import redact_url


class StopReason(IntEnum):
    """Why a publish ended. ``ok`` tells callers (the CLI's exit code) whether it is an error."""

    USER = 0  # stop() called (or --duration reached)
    SOURCE_ENDED = 1  # a non-looping file source reached its end
    CAMERA_FAILED = -1301
    MIC_FAILED = -1302
    NETWORK_LOST = -1307  # was live, connection lost, reconnect attempts exhausted
    REFUSED = -1313  # the server accepted TCP but refused the publish (bad push key, name in use)
    UNREACHABLE = -1314  # no TCP connection after all attempts
    ENCODER_FAILED = -1315

    @property
    def ok(self) -> bool:
        return self >= 0

    @property
    def message(self) -> str:
        return STOP_MESSAGES[self]


STOP_MESSAGES: dict[StopReason, str] = {
    StopReason.USER: "stopped",
    StopReason.SOURCE_ENDED: "the source has ended",
    StopReason.CAMERA_FAILED: "the video source failed",
    StopReason.MIC_FAILED: "the microphone failed",
    StopReason.NETWORK_LOST: "network lost: reconnecting failed",
    StopReason.REFUSED: "server refused the stream: check the push key",
    StopReason.UNREACHABLE: "cannot reach the streaming server",
    StopReason.ENCODER_FAILED: "the encoder failed",
}


class PushState(Enum):
    IDLE = "idle"
    CONNECTING = "connecting"
    LIVE = "live"
    RECONNECTING = "reconnecting"
    STOPPED = "stopped"


class PushError(Exception):
    """Root of push errors; ``reason`` is the :class:`StopReason` it leads to.

    ``definite``: for ``REFUSED``, the refusal is an answer, not an inference: the server sent an
    RTMP error status for the publish (or the local setup is wrong). A ``REFUSED`` without it only
    means the server hung up early while still accepting TCP, which a server that is restarting
    does too (see :meth:`app.push.destination.Destination._retry`).

    ``in_use``: a definite refusal saying the stream name already has a publisher (nginx-rtmp's
    "Already publishing"): after a silent network cut, the anchor's own stale connection.
    """

    def __init__(self, reason: StopReason, detail: str = "", definite: bool = False,
                 in_use: bool = False) -> None:
        detail = redact_url(detail)  # an FFmpeg error may quote the push URL with its txSecret
        super().__init__(f"{reason.message}" + (f" ({detail})" if detail else ""))
        self.reason = reason
        self.detail = detail
        self.definite = definite
        self.in_use = in_use
