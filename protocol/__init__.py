"""Wire definitions shared by the desktop client and the server.

Pure Python, no Qt and no server dependencies: error tables, URL and request signing,
UserSig verification, message codecs. Both sides import from here; nothing is written twice.
"""
