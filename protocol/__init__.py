"""Wire definitions shared by the desktop client and the server.

Pure Python, no Qt and no server dependencies: error tables, URL and request signing,
UserSig verification, message codecs, and the media files both sides write (``media_files``:
faststart MP4 and JPEG covers, PyAV only). Both sides import from here; nothing is written twice.
"""
