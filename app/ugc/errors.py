"""The short-video package's exception root."""

from __future__ import annotations

from enum import IntEnum


class UgcErrorCode(IntEnum):
    """What went wrong, for callers that branch on it (the text is what to show)."""

    NOTHING_RECORDED = 1  # stop() before any picture was written
    RECORDING_FAILED = 2  # encoder, disk or finalising failure
    INVALID = 3  # bad input to publish (empty title, missing file)
    BUSY = 4  # start() on a recorder that already ran


class UgcError(Exception):
    """A clip could not be recorded or published; ``str(e)`` is the text to show."""

    def __init__(self, message: str, code: UgcErrorCode = UgcErrorCode.RECORDING_FAILED) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
