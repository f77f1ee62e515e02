"""Our RTMP implementation: pure wire codecs (AMF0, handshake, chunk stream, messages, FLV).

Everything in this package is a pure function or a pure state machine over bytes; the asyncio
sessions live in :mod:`server.media.session`.
"""


class RtmpError(Exception):
    """A protocol violation by the peer; the connection is dropped, the server carries on."""

    code = "rtmp_protocol"
