"""The anchor-side publisher: capture -> compose -> encode (PyAV) -> RTMP/FLV, no Qt.

Entry points: :class:`app.push.publisher.Publisher` (driven by the GUI) and
:func:`app.push.cli.main` (``xiaozhibo push``).
"""
