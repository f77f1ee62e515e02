"""Short video (UGC, SPEC section 8): record a clip to MP4, upload it with the VOD sign, publish.

No Qt: :class:`ClipRecorder` runs its own named worker threads and reports through callbacks;
:func:`publish_clip` is a blocking call the GUI runs off its thread.
"""

from app.ugc.errors import UgcError, UgcErrorCode
from app.ugc.publish import publish_clip
from app.ugc.recorder import ClipInfo, ClipRecorder

__all__ = ["ClipInfo", "ClipRecorder", "UgcError", "UgcErrorCode", "publish_clip"]
