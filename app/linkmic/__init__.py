"""Co-hosting (连麦) engines, Qt-free (SPEC section 4; wire in :mod:`protocol.linkmic`).

:class:`AnchorLinkMic` answers viewers' requests and tracks the co-hosts; :class:`ViewerLinkMic`
asks the anchor and, once accepted, joins the room as a co-host. Both run their network calls,
timers and callbacks on one worker thread of their own; the GUI re-posts the callbacks to the Qt
thread. ``close()`` ends that thread.
"""

from app.linkmic.anchor import AnchorLinkMic
from app.linkmic.types import LinkMicError, LinkRequest, LinkState
from app.linkmic.viewer import ViewerLinkMic

__all__ = ["AnchorLinkMic", "LinkMicError", "LinkRequest", "LinkState", "ViewerLinkMic"]
