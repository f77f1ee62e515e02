"""The long-running services the all-in-one server composes (see server.context.Service).

Each subsystem adds its factory here; they are started in this order and stopped in reverse.
"""

from __future__ import annotations

from server.context import ServerContext, Service


def build_services(ctx: ServerContext) -> list[Service]:
    """Make the services, set their typed attributes on ``ctx`` and return them in start order."""
    from server.api.roomservice import RoomService
    from server.im.service import ImService
    from server.media.edges import EdgePool
    from server.media.service import MediaService

    ctx.media = MediaService(ctx)
    ctx.im = ImService(ctx)
    ctx.edges = EdgePool(ctx)
    ctx.rooms = RoomService(ctx)  # after IM: it listens to IM likes
    # A new subsystem: a typed attribute on ServerContext, made here, listed below.
    return [ctx.media, ctx.im, ctx.edges, ctx.rooms]
