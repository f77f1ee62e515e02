"""The long-running services the all-in-one server composes (see server.context.Service).

Each subsystem adds its factory here; they are started in this order and stopped in reverse.
"""

from __future__ import annotations

from server.context import ServerContext, Service


def build_services(ctx: ServerContext) -> list[Service]:
    """Make the services, set their typed attributes on ``ctx`` and return them in start order.

    Media runs in one process only: worker 0 (server/workers.py); elsewhere ``ctx.media`` is None.
    """
    from server.api.roomservice import RoomService
    from server.im.service import ImService
    from server.media.edges import EdgePool

    services: list[Service] = []
    if ctx.worker_index == 0:
        from server.media.service import MediaService

        ctx.media = MediaService(ctx)
        services.append(ctx.media)
    ctx.im = ImService(ctx)
    ctx.edges = EdgePool(ctx)
    ctx.rooms = RoomService(ctx)  # after IM: it listens to IM likes
    # A new subsystem: a typed attribute on ServerContext, made here, listed below.
    return [*services, ctx.im, ctx.edges, ctx.rooms]
