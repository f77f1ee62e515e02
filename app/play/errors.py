"""Play engine errors and stop reasons (one exception root with a code, typed end reasons)."""

from __future__ import annotations

from enum import Enum, IntEnum

from protocol.signing import redact_url


class PlayCode(IntEnum):
    """Player error codes (client-side; reported through ``on_error(code, text)``)."""

    OPEN_FAILED = 3001  # could not connect or open the URL
    NOT_FOUND = 3002  # server answered but has no such stream/file (404, stream not found)
    NO_MEDIA = 3003  # opened, but no playable audio or video stream
    READ_FAILED = 3004  # read error or timeout while playing
    DECODE_FAILED = 3005  # a decoder failed in a way skipping one packet could not fix
    SEEK_FAILED = 3006  # seek on a live stream or a source that cannot seek
    AUDIO_DEVICE = 3007  # audio device failed; playback goes on with the null output
    BAD_ARGUMENT = 3008  # invalid URL or settings


PLAY_MESSAGES: dict[int, str] = {
    PlayCode.OPEN_FAILED: "could not open the stream",
    PlayCode.NOT_FOUND: "stream or file not found",
    PlayCode.NO_MEDIA: "no playable audio or video in the stream",
    PlayCode.READ_FAILED: "reading the stream failed",
    PlayCode.DECODE_FAILED: "decoding failed",
    PlayCode.SEEK_FAILED: "cannot seek this stream",
    PlayCode.AUDIO_DEVICE: "audio output failed; playing without sound",
    PlayCode.BAD_ARGUMENT: "invalid play URL or settings",
}


class PlayError(Exception):
    """Root of play engine errors; ``code`` is a :class:`PlayCode`."""

    def __init__(self, code: PlayCode, text: str = "") -> None:
        self.code = PlayCode(code)
        self.text = redact_url(text) if text else PLAY_MESSAGES.get(self.code, "play error")
        super().__init__(f"[{int(self.code)}] {self.text}")


class EndReason(Enum):
    """Why playback ended (``on_end(reason)``)."""

    EOF = "eof"  # a replay reached its end
    STREAM_ENDED = "stream_ended"  # the anchor stopped: the live stream did not come back
    STOPPED = "stopped"  # stop() was called
    ERROR = "error"  # a fatal error, reported through on_error first


class PlayState(Enum):
    """Player states reported through ``on_state``."""

    IDLE = "idle"
    OPENING = "opening"
    BUFFERING = "buffering"  # opened, waiting for the first frame after open/seek/reconnect
    PLAYING = "playing"
    PAUSED = "paused"
    RECONNECTING = "reconnecting"  # live source stalled or ended; trying to reopen
    ENDED = "ended"  # see EndReason (a replay can still seek back from here)
    STOPPED = "stopped"
