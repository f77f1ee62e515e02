"""The long-running services the all-in-one server composes (see server.context.Service).

Each subsystem adds its factory here; they are started in this order and stopped in reverse.
"""

from __future__ import annotations

from server.context import ServerContext, Service


def build_services(ctx: ServerContext) -> list[Service]:
    services: list[Service] = []
    if ctx.extras.get("worker_index", 0) == 0:  # media runs in one process only (server/workers.py)
        from server.media.service import MediaService; services.append(MediaService(ctx))  # noqa: E702,I001
    from server.im.service import ImService; services.append(ImService(ctx))  # noqa: E702,I001
    from server.media.edges import EdgePool; services.append(EdgePool(ctx))  # noqa: E702,I001
    from server.api.roomservice import RoomService; services.append(RoomService(ctx))  # noqa: E702,I001
    # Subsystems append themselves below, e.g.:
    #   from server.media.service import MediaService; services.append(MediaService(ctx))
    return services
