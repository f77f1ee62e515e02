"""Embedded media server (SPEC section 6).

- ``rtmp/``: pure codecs (AMF0, handshake incl. the digest form, chunk stream, FLV) and a small
  asyncio client for tests and probes.
- ``relay``: live streams, GOP cache, bounded per-consumer sinks with the drop policy.
- ``session``: one RTMP connection (publish/play flows) on the event loop.
- ``http``: HTTP-FLV, live HLS and replay files on the shared FastAPI app.
- ``hls`` / ``record``: worker threads (PyAV remux to HLS; FLV recording -> MP4 + cover).
- ``service``: the :class:`MediaService` tying it together and emitting Tencent-form live events.
- ``nginx_adapter`` / ``nginx_conf``: nginx-rtmp as production engine (``deploy/nginx-rtmp.conf``).
"""
