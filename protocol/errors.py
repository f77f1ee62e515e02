"""The one table of error codes (SPEC sections 3 and 5).

Add new codes only here, with their message; clients map codes to human text through
:func:`api_message` / :func:`im_message`.
"""

from __future__ import annotations

from enum import IntEnum


class ApiCode(IntEnum):
    """Business API codes (JSON ``code`` field; 200 is success)."""

    OK = 200
    UNKNOWN_PATH = 400
    BAD_SIGNATURE = 498  # bad/expired token, signature, timestamp or replay
    DATABASE_ERROR = 500
    UPDATE_FAILED = 601
    INVALID_PARAMETER = 602
    USERID_FORMAT = 610
    PASSWORD_FORMAT = 611
    USER_EXISTS = 612
    USER_NOT_FOUND = 620
    WRONG_PASSWORD = 621
    TOO_MANY_REQUESTS = 630  # ours: register/login rate limit
    PAYLOAD_TOO_LARGE = 613  # ours: request body or upload over the size limit
    UNSUPPORTED_MEDIA = 614  # ours: upload content is not an accepted type
    NOT_YOUR_OBJECT = 615  # ours: /upload_ugc names a clip or cover this user did not upload
    ROOM_NOT_FOUND = 640  # ours, RoomService: no such room
    ROOM_NO_PERMISSION = 641  # ours, RoomService: only the room creator (or that co-host) may do this
    ROOM_FULL = 642  # ours, RoomService: the room already has the most co-hosts it allows
    PK_BUSY = 643  # ours, RoomService: that room (or the caller's) is already in a running PK


API_MESSAGES: dict[int, str] = {
    ApiCode.OK: "ok",
    ApiCode.UNKNOWN_PATH: "unknown path",
    ApiCode.BAD_SIGNATURE: "invalid or expired token or signature",
    ApiCode.DATABASE_ERROR: "database error",
    ApiCode.UPDATE_FAILED: "update failed",
    ApiCode.INVALID_PARAMETER: "invalid parameter",
    ApiCode.USERID_FORMAT: "userid must be 4-24 letters, digits or _ and start with a letter",
    ApiCode.PASSWORD_FORMAT: "password must be the 32-character md5 hex digest",
    ApiCode.USER_EXISTS: "user already exists",
    ApiCode.USER_NOT_FOUND: "user not found",
    ApiCode.WRONG_PASSWORD: "wrong password",
    ApiCode.TOO_MANY_REQUESTS: "too many requests, try again later",
    ApiCode.PAYLOAD_TOO_LARGE: "request or upload too large",
    ApiCode.UNSUPPORTED_MEDIA: "unsupported content type",
    ApiCode.NOT_YOUR_OBJECT: "that file was not uploaded by you",
    ApiCode.ROOM_NOT_FOUND: "room not found",
    ApiCode.ROOM_NO_PERMISSION: "not allowed in this room",
    ApiCode.ROOM_FULL: "the room has no free co-host place",
    ApiCode.PK_BUSY: "that anchor is already in a PK",
}


class ImCode(IntEnum):
    """IM service codes (reply ``code`` field; 0 is success)."""

    OK = 0
    TIMEOUT = 6012  # client side: no reply in time
    NOT_CONNECTED = 6014  # client side: not logged in to the IM service right now
    INTERNAL_ERROR = 10002  # ours: the server failed while handling the request (logged)
    INVALID_PARAMETER = 10004
    NO_PERMISSION = 10007
    GROUP_NOT_FOUND = 10010
    ALREADY_MEMBER = 10013
    GROUP_ID_TAKEN = 10021
    GROUP_ID_ALREADY_YOURS = 10025
    MUTED = 10017  # moderation: the sender is muted (禁言) in this group until a time
    RATE_LIMITED = 10030  # per identity: logging in again does not refill the buckets
    BANNED = 10050  # ours, moderation: banned from this group (cannot join or send)
    SLOW_MODE = 10051  # ours, moderation: the group's slow mode: wait before sending again
    MESSAGE_NOT_FOUND = 10052  # ours, moderation: no such message among the group's recent history
    RECIPIENT_UNKNOWN = 20003  # C2C to an identifier that is neither online nor a registered user
    USERSIG_EXPIRED = 70001
    USERSIG_INVALID = 70003
    MESSAGE_TOO_LONG = 80002


IM_MESSAGES: dict[int, str] = {
    ImCode.OK: "ok",
    ImCode.TIMEOUT: "IM request timed out",
    ImCode.NOT_CONNECTED: "not connected to the IM service",
    ImCode.INTERNAL_ERROR: "internal server error",
    ImCode.INVALID_PARAMETER: "invalid parameter",
    ImCode.NO_PERMISSION: "no permission",
    ImCode.GROUP_NOT_FOUND: "group not found",
    ImCode.ALREADY_MEMBER: "already a member",
    ImCode.GROUP_ID_TAKEN: "group id used by another user",
    ImCode.GROUP_ID_ALREADY_YOURS: "group id already yours",
    ImCode.MUTED: "you are muted in this room",
    ImCode.RATE_LIMITED: "rate limited",
    ImCode.BANNED: "you are banned from this room",
    ImCode.SLOW_MODE: "slow mode: wait before sending again",
    ImCode.MESSAGE_NOT_FOUND: "message not found (too old or removed)",
    ImCode.RECIPIENT_UNKNOWN: "recipient is not a registered user",
    ImCode.USERSIG_EXPIRED: "UserSig expired",
    ImCode.USERSIG_INVALID: "UserSig invalid",
    ImCode.MESSAGE_TOO_LONG: "message too long",
}


def api_message(code: int) -> str:
    return API_MESSAGES.get(code, f"error {code}")


def im_message(code: int) -> str:
    return IM_MESSAGES.get(code, f"error {code}")
